"""The numpy side of Tensor data: which dtypes a tensor holds, Python-number defaults, and
the zero-byte placeholder that replaces values freed by ``backward()``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .op import Context

__all__ = [
    "FREED_BUFFER",
    "KINDS",
    "NUMBER_DTYPE",
    "checked_array",
    "default_array",
    "freed_placeholder",
    "release_values",
    "scalar_array",
]

# the buffer behind every freed value: read-only zero bytes, wide enough for any dtype
FREED_BUFFER = bytes(32)


_PLACEHOLDERS: dict[tuple, np.ndarray] = {}


def freed_placeholder(arr: np.ndarray) -> np.ndarray:
    """A zero-byte stand-in for a freed array: same shape and dtype, all zeros, read-only.

    Placeholders are shared (they cannot be written), one per shape and dtype.
    """
    key = (arr.shape, arr.dtype)
    held = _PLACEHOLDERS.get(key)
    if held is None:
        held = np.ndarray(arr.shape, arr.dtype, buffer=FREED_BUFFER, strides=(0,) * arr.ndim)
        if len(_PLACEHOLDERS) >= 4096:
            _PLACEHOLDERS.clear()
        _PLACEHOLDERS[key] = held
    return held


#: the dtype a Python number gets when nothing else decides it
NUMBER_DTYPE = {float: np.dtype(np.float32), int: np.dtype(np.int64), bool: np.dtype(np.bool_)}
KINDS = "tensors hold bool, integer, floating or complex numbers"
_SCALARS: dict[tuple, np.ndarray] = {}


def scalar_array(x: float, dtype: np.dtype) -> np.ndarray:
    """A read-only 0-d array of ``x``, shared between calls (``x * 2.0`` makes no new array).

    Zero is not cached: -0.0 == 0.0 as dict keys, but their signs differ.
    """
    key = (type(x), x, dtype)
    arr = _SCALARS.get(key) if x else None
    if arr is None:
        arr = np.array(x, dtype=dtype)
        arr.flags.writeable = False
        if x:
            if len(_SCALARS) >= 4096:
                _SCALARS.clear()
            _SCALARS[key] = arr
    return arr


def checked_array(data: Any, dtype: Any) -> np.ndarray:
    """``np.array(data, dtype)``, refusing non-numeric dtypes and ragged nesting clearly."""
    try:
        arr = np.array(data, dtype=dtype)
    except ValueError as e:
        if "inhomogeneous" in str(e) or "sequence" in str(e):
            raise ValueError(
                f"tensor: nested sequences of different lengths cannot make a tensor "
                f"(every row must have the same length): {data!r:.80}"
            ) from None
        raise
    except TypeError as e:
        raise TypeError(f"tensor: cannot make a tensor from {data!r:.80}: {e}") from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(
            f"tensor: cannot make a tensor of dtype {arr.dtype} (from {type(data).__name__} "
            f"{data!r:.60}); {KINDS}"
        )
    return arr


def default_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Apply minigrad's dtype rules: arrays keep theirs, Python floats -> float32, ints -> int64."""
    if dtype is not None or isinstance(data, (np.ndarray, np.generic)):
        return checked_array(data, dtype)
    arr = checked_array(data, None)
    if arr.dtype == np.float64:
        return arr.astype(np.float32)
    if arr.dtype.kind == "i":
        return arr.astype(np.int64, copy=False)
    return arr


def _extra_refs(counts: dict) -> dict:
    """Per tensor in ``counts``: its references beyond its counted input slots and the dict."""
    getrefcount = sys.getrefcount
    return {t: getrefcount(t) - n for t, n in counts.items()}


# calibration: what _extra_refs reports for an object only the graph would hold
_NOBODY_ELSE = next(iter(_extra_refs({object(): 0}).values()))


def release_values(nodes: list[Context]) -> None:
    """Free intermediate arrays the graph alone holds, after a backward without retain_graph.

    A non-leaf input of a node that ran is kept alive by its consumers' ``inputs`` tuples. If
    nothing else refers to it (the user kept no variable for it), its array is replaced by a
    zero-byte placeholder with the same shape and dtype (``Tensor.values_freed`` is then
    True), so the graph still shows structure, names, shapes, dtypes and gradients. The count
    is CPython's reference count; a tensor referred to from anywhere else keeps its data.
    """
    counts: dict = {}  # Tensor -> input slots holding it (Tensors hash by identity)
    get = counts.get
    for node in nodes:
        for t in node.inputs:
            if t is not None and t._node is not None:
                counts[t] = get(t, 0) + 1
    for t, extra in _extra_refs(counts).items():
        if extra == _NOBODY_ELSE:
            t.data = freed_placeholder(t.data)
