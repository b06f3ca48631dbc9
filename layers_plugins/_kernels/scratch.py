"""Reusable per-thread scratch memory for kernel temporaries.

Large fresh allocations are expensive: the C allocator hands big blocks back to the operating
system when they are freed, so every new one page-faults as it is first written. The column
chunks of a convolution have the same size call after call, so they are carved from one buffer
that is kept per thread (kernels never return scratch memory to their callers).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

import numpy as np

# Temporaries above this size are allocated fresh instead of being kept between calls.
SCRATCH_MAX_BYTES = 32 << 20
# Arrays kept per thread for reuse (see scratch); the cache starts over beyond this.
MAX_VIEWS = 256

_local = threading.local()


def scratch(shape: Sequence[int], dtype: np.dtype | type, slot: int = 0) -> np.ndarray:
    """An uninitialised C-contiguous array of ``shape`` and ``dtype`` backed by reused memory.

    ``slot`` selects one of several independent buffers, for kernels that need two temporaries
    at once. The contents stay valid until the next call with the same slot in the same thread.
    Kernels call this dozens of times per training step with the same shapes, so the array
    made for a (slot, shape, dtype) is kept and handed out again (a cache hit costs a dict
    lookup instead of building a view).
    """
    if not isinstance(dtype, np.dtype):
        dtype = np.dtype(dtype)
    key = (slot, tuple(shape), dtype)
    try:
        views = _local.views
    except AttributeError:
        views = _local.views = {}
        _local.buffers = {}
    hit = views.get(key)
    if hit is not None:
        return hit
    nbytes = math.prod(key[1]) * dtype.itemsize
    if nbytes > SCRATCH_MAX_BYTES:
        return np.empty(shape, dtype=dtype)
    buffers = _local.buffers
    buf = buffers.get(slot)
    if buf is None or buf.nbytes < nbytes:
        # Aligned to 64 bytes so that every dtype view is aligned for vector loads.
        raw = np.empty(nbytes + 64, dtype=np.uint8)
        start = (-raw.ctypes.data) % 64
        buf = raw[start : start + nbytes]
        buffers[slot] = buf
        for k in [k for k in views if k[0] == slot]:  # views of the old buffer
            del views[k]
    if len(views) >= MAX_VIEWS:
        views.clear()
    arr = views[key] = np.ndarray(key[1], dtype, buffer=buf)
    return arr


def release() -> None:
    """Drop this thread's scratch buffers."""
    _local.buffers = {}
    _local.views = {}
