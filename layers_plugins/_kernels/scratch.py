"""Reusable per-thread scratch memory for kernel temporaries.

Large fresh allocations are expensive: the C allocator hands big blocks back to the operating
system when they are freed, so every new one page-faults as it is first written. The column
chunks of a convolution have the same size call after call, so they are carved from one buffer
that is kept per thread (kernels never return scratch memory to their callers).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

# Temporaries above this size are allocated fresh instead of being kept between calls.
SCRATCH_MAX_BYTES = 32 << 20

_local = threading.local()


def scratch(shape: Sequence[int], dtype: np.dtype | type, slot: int = 0) -> np.ndarray:
    """An uninitialised C-contiguous array of ``shape`` and ``dtype`` backed by reused memory.

    ``slot`` selects one of several independent buffers, for kernels that need two temporaries
    at once. The contents stay valid until the next call with the same slot in the same thread.
    """
    dtype = np.dtype(dtype)
    count = 1
    for s in shape:
        count *= int(s)
    nbytes = count * dtype.itemsize
    if nbytes > SCRATCH_MAX_BYTES:
        return np.empty(shape, dtype=dtype)
    buffers: dict[int, np.ndarray] = getattr(_local, "buffers", None) or {}
    _local.buffers = buffers
    buf = buffers.get(slot)
    if buf is None or buf.nbytes < nbytes:
        # Aligned to 64 bytes so that every dtype view is aligned for vector loads.
        raw = np.empty(nbytes + 64, dtype=np.uint8)
        start = (-raw.ctypes.data) % 64
        buf = raw[start : start + nbytes]
        buffers[slot] = buf
    return buf[:nbytes].view(dtype).reshape(shape)


def release() -> None:
    """Drop this thread's scratch buffers."""
    _local.buffers = {}
