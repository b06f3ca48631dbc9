"""Cells of a playground edit: which cells an index names, setting them, and what moved.

A learner names cells the numpy way (one int per axis, a flat int, slices, or a list of
those); :func:`selection` turns that into a mask with a clear error for an index that does not
fit, :func:`assign` sets the cells, and :func:`moved` says which cells of an array changed
after the engine recomputed, largest changes first.

>>> import numpy as np
>>> m = selection("input", (2, 3), [(0, 1), 5])
>>> assign(np.zeros((2, 3)), m, [(0, 1), 5], 2.0, "input").tolist()
[[0.0, 2.0, 0.0], [0.0, 0.0, 2.0]]
>>> where(np.s_[0, 1:3])
'[0, 1:3]'
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["assign", "moved", "selection", "where"]

#: at most this many cells are listed per changed array (the largest moves first)
TOP_CELLS = 16


def moved(a: np.ndarray | None, b: np.ndarray | None) -> dict[str, Any] | None:
    """How ``b`` differs from ``a``: ``count`` of changed cells, ``max`` |change|, and the
    ``cells`` that moved most (``index``, ``old``, ``new``); None when nothing changed.

    >>> d = moved(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 2.0]))
    >>> d["count"], d["max"], [c["index"] for c in d["cells"]]
    (2, 1.0, [[2], [1]])
    """
    if a is None and b is None:
        return None
    if a is None or b is None or a.shape != b.shape:
        return {"count": int(0 if b is None else b.size), "max": None, "cells": [], "shape": True}
    same = (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b
    if bool(np.all(same)):
        return None
    flat = np.flatnonzero(~same)
    delta = np.abs(b.reshape(-1)[flat].astype(np.float64) - a.reshape(-1)[flat])
    order = np.argsort(-np.nan_to_num(delta, nan=np.inf), kind="stable")[:TOP_CELLS]
    cells = [
        {
            "index": [int(i) for i in np.unravel_index(int(flat[o]), b.shape)],
            "old": float(a.reshape(-1)[flat[o]]),
            "new": float(b.reshape(-1)[flat[o]]),
        }
        for o in order
    ]
    finite = delta[np.isfinite(delta)]
    biggest = float(finite.max()) if finite.size == delta.size else math.inf
    return {"count": int(flat.size), "max": biggest, "cells": cells}


def where(index: Any) -> str:
    """How an edit's index reads in the undo list: ``[0, 1:3]``, ``[5]``, ``[3 cells]``."""
    if isinstance(index, list):
        return f"[{len(index)} cells]"
    if isinstance(index, tuple):
        return "[" + ", ".join(_slice_text(k) for k in index) + "]"
    return f"[{index}]"


def _slice_text(k: Any) -> str:
    if isinstance(k, slice):
        a = "" if k.start is None else k.start
        b = "" if k.stop is None else k.stop
        return f"{a}:{b}" + ("" if k.step is None else f":{k.step}")
    return str(k)


def _is_int(k: Any) -> bool:
    return isinstance(k, (int, np.integer)) and not isinstance(k, bool)


def selection(name: str, shape: tuple[int, ...], index: Any) -> np.ndarray:
    """A bool array of ``shape`` marking the cells ``index`` names; clear errors otherwise."""
    entries = index if isinstance(index, list) else [index]
    size = math.prod(shape)
    mask = np.zeros(shape, bool)
    hint = (
        f"give one index per axis of {name}, shape {shape} (ints or slices), a flat int "
        f"below {size}, or a list of those"
    )
    if not entries:
        raise IndexError(f"Playground: an empty list of cells for {name}; {hint}")
    for e in entries:
        if isinstance(e, np.ndarray) and e.ndim == 1 and e.dtype.kind in "iu":
            e = tuple(int(v) for v in e)
        if _is_int(e):
            if not -size <= e < size:
                raise IndexError(f"Playground: index {e} is out of range for {name}; {hint}")
            mask.reshape(-1)[int(e)] = True
            continue
        if not (isinstance(e, tuple) and len(e) == len(shape)):
            raise IndexError(f"Playground: index {index!r} does not fit {name}; {hint}")
        for k, n in zip(e, shape):
            if isinstance(k, slice):
                continue
            if not _is_int(k):
                raise IndexError(f"Playground: index {index!r} does not fit {name}; {hint}")
            if not -n <= k < n:
                raise IndexError(
                    f"Playground: index {index!r} is out of range for {name}, shape {shape}"
                )
        mask[e] = True
    if not mask.any():
        raise IndexError(f"Playground: index {index!r} selects no cell of {name}, shape {shape}")
    return mask


def assign(arr: np.ndarray, mask: np.ndarray, index: Any, value: Any, name: str) -> np.ndarray:
    """A copy of ``arr`` with the cells of ``mask`` set to ``value`` (a number, or for one
    index an array of exactly the selected shape)."""
    new = arr.copy()
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"Playground: a value for {name} must be a number, got {value!r}")
    v = np.asarray(value)
    if v.dtype.kind not in "iuf":
        raise TypeError(f"Playground: a value for {name} must be a number, got {value!r}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"Playground: a value for {name} must be finite, got {value!r}")
    if v.ndim == 0:
        new[mask] = v.astype(arr.dtype) if arr.dtype.kind == "f" else v
        return new
    if isinstance(index, list) or _is_int(index):
        raise ValueError(f"Playground: set {name} from an array with one tuple index only")
    want = arr[index].shape
    if v.shape != want:
        raise ValueError(
            f"Playground: the value for {name}{where(index)} has shape {v.shape}, expected "
            f"{want} (or one number)"
        )
    new[index] = v.astype(arr.dtype)
    return new
