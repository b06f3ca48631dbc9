"""Arrays and numbers as JSON the page can read back exactly, NaN and infinities included.

JSON has no NaN or infinity, so a number is written as a JSON number when finite and as the
string ``"NaN"``, ``"Infinity"`` or ``"-Infinity"`` otherwise (``MG.num`` reads both). Arrays
travel as base64 of their little-endian bytes (float32 stays float32, float64 stays
float64), so the page shows the engine's numbers bit for bit and NaN/Inf need no special
case. Large arrays are cut to a few samples along the batch axis and, past a size cap,
subsampled with a stride per axis; the encoding says which indices it kept.

>>> num(float("nan")), num(1.5), num(float("-inf"))
('NaN', 1.5, '-Infinity')
>>> enc = array(np.array([[1.0, np.inf]], dtype=np.float32))
>>> enc["shape"], enc["dtype"], enc["b64"]
([1, 2], 'float32', 'AACAPwAAgH8=')
>>> array(np.float64(2.5))["shape"]
[]
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

__all__ = ["array", "histogram", "json_safe", "num", "stats", "tensor_view"]

#: at most this many elements of one array go into the page (after cutting samples)
MAX_ELEMENTS = 16384


def num(x: Any) -> float | str | None:
    """A float as JSON: a number when finite, else "NaN" / "Infinity" / "-Infinity"."""
    if x is None:
        return None
    f = float(x)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    return f


def json_safe(v: Any) -> Any:
    """Plain data with every non-finite float spelled as :func:`num` spells it.

    >>> json_safe({"min": float("-inf"), "k": (2, 2)})
    {'min': '-Infinity', 'k': [2, 2]}
    """
    if isinstance(v, float):
        return num(v)
    if isinstance(v, dict):
        return {str(k): json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    return v


def _wire_dtype(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.float64:
        return a.astype("<f8", copy=False)
    if a.dtype.kind == "f":
        return a.astype("<f4", copy=False)
    if a.dtype.kind == "b" or a.dtype == np.uint8:
        return a.astype("u1", copy=False)
    return a.astype("<i4")


_NAMES = {"f8": "float64", "f4": "float32", "u1": "uint8", "i4": "int32"}
_WIRE = {name: ("u1" if code == "u1" else "<" + code) for code, name in _NAMES.items()}


def array(a: np.ndarray, index: list[list[int]] | None = None) -> dict[str, Any]:
    """``{shape, dtype, b64}`` (plus ``index``: kept indices per axis, when subsampled)."""
    w = _wire_dtype(np.asarray(a))
    if not w.flags.c_contiguous:  # (np.ascontiguousarray would turn a 0-d array into 1-d)
        w = w.copy(order="C")
    out: dict[str, Any] = {
        "shape": list(w.shape),
        "dtype": _NAMES[w.dtype.str[1:]],
        "b64": base64.b64encode(w.tobytes()).decode("ascii"),
    }
    if index is not None:
        out["index"] = index
    return out


def raw(enc: dict[str, Any]) -> np.ndarray:
    """The flat array an :func:`array` encoding carries, in its wire dtype (read-only).

    >>> raw(array(np.array([[1.5, 2.0]], np.float64))).tolist()
    [1.5, 2.0]
    """
    return np.frombuffer(base64.b64decode(enc["b64"]), np.dtype(_WIRE[enc["dtype"]]))


def tensor_view(a: np.ndarray, samples: int, max_elements: int = MAX_ELEMENTS) -> dict[str, Any]:
    """What the page keeps of an array: the first ``samples`` along the batch axis of a 4-D
    (NCHW) array, then a stride per axis until at most ``max_elements`` remain.

    >>> v = tensor_view(np.zeros((64, 6, 24, 24), np.float32), samples=2, max_elements=10**6)
    >>> v["shape"], v["index"][0]
    ([2, 6, 24, 24], [0, 1])
    """
    a = np.asarray(a)
    orig = a.shape
    idx = [list(range(s)) for s in a.shape]
    if a.ndim == 4 and a.shape[0] > samples:
        a = a[:samples]
        idx[0] = idx[0][:samples]
    steps = [1] * a.ndim
    # widen the stride of the largest axis first, keeping (C, H, W) pictures whole longest
    while a.ndim and int(np.prod([-(-s // st) for s, st in zip(a.shape, steps)])) > max_elements:
        sizes = [-(-s // st) for s, st in zip(a.shape, steps)]
        k = int(np.argmax(sizes))
        steps[k] *= 2
    if any(st > 1 for st in steps):
        a = a[tuple(slice(None, None, st) for st in steps)]
        idx = [i[::st] for i, st in zip(idx, steps)]
    full = [len(i) for i in idx] == list(orig)
    return array(a, None if full else idx)


#: arrays are summarised this many elements at a time, so the float64 temporaries of the
#: statistics stay a few MB however large the activation is (a whole-array float64 copy of
#: a 128 MB float32 batch would be 256 MB more, and std() makes two)
CHUNK = 1 << 18


def _chunks(a: np.ndarray) -> Any:
    """The flattened array in pieces of at most CHUNK elements (views where possible)."""
    flat = a.reshape(-1)
    for start in range(0, flat.size, CHUNK):
        yield flat[start : start + CHUNK]


def stats(a: np.ndarray | None) -> dict[str, Any] | None:
    """min, max, mean, std over the finite values, and the NaN / +-Inf counts.

    Large arrays are read in chunks (means and spreads merged exactly as one pass would, by
    Chan's formula), so summarising never copies the whole array."""
    if a is None:
        return None
    a = np.asarray(a)
    out: dict[str, Any] = {"size": int(a.size)}
    if a.size == 0 or a.dtype.kind not in "biuf":
        return out
    if a.size <= CHUNK:
        return _stats_small(a, out)
    count, mean, m2, sq = 0, 0.0, 0.0, 0.0
    lo, hi = math.inf, -math.inf
    nan = inf = zero = 0
    for part in _chunks(a):
        if a.dtype.kind == "f":
            finite = np.isfinite(part)
            n_finite, n_nan = int(finite.sum()), int(np.isnan(part).sum())
            nan += n_nan
            inf += part.size - n_finite - n_nan
            vals = part if n_finite == part.size else part[finite]
            zero += int((vals == 0).sum())
        else:
            vals = part
        if not vals.size:
            continue
        v64 = vals.astype(np.float64)
        k, m = v64.size, float(v64.mean())
        d = v64 - m
        m2_k = float(np.dot(d, d))
        sq += float(np.dot(v64, v64))
        lo, hi = min(lo, float(v64.min())), max(hi, float(v64.max()))
        total = count + k  # Chan et al.: merge (count, mean, M2) with (k, m, m2_k)
        delta = m - mean
        mean += delta * k / total
        m2 += m2_k + delta * delta * count * k / total
        count = total
    if a.dtype.kind == "f":
        out["nan"], out["inf"] = nan, inf
    if count:
        out.update(
            min=num(lo),
            max=num(hi),
            mean=num(mean),
            std=num(math.sqrt(m2 / count)),
            norm=num(math.sqrt(sq)),
        )
        if a.dtype.kind == "f":
            out["zero"] = zero
    return out


def _stats_small(a: np.ndarray, out: dict[str, Any]) -> dict[str, Any]:
    if a.dtype.kind == "f":
        finite = np.isfinite(a)
        out["nan"] = int(np.isnan(a).sum())
        out["inf"] = int((~finite).sum()) - out["nan"]
        vals = a[finite] if out["nan"] or out["inf"] else a
    else:
        vals = a
    if vals.size:
        v64 = vals.astype(np.float64, copy=False)
        out.update(
            min=num(v64.min()),
            max=num(v64.max()),
            mean=num(v64.mean()),
            std=num(v64.std()),
            norm=num(np.sqrt(np.vdot(v64, v64))),
        )
        if vals.dtype.kind in "f":
            out["zero"] = int((vals == 0).sum())
    return out


def histogram(a: np.ndarray | None, bins: int = 24) -> dict[str, Any] | None:
    """Counts of the finite values in ``bins`` equal bins: ``{lo, hi, counts}`` (large arrays
    are read in chunks, twice: once for the range, once for the counts)."""
    if a is None:
        return None
    a = np.asarray(a)
    if a.size == 0 or a.dtype.kind not in "biuf":
        return None

    def finite_parts() -> Any:
        for part in [a] if a.size <= CHUNK else _chunks(a):
            v = part[np.isfinite(part)] if a.dtype.kind == "f" else part
            if v.size:
                yield v

    lo, hi = math.inf, -math.inf
    for v in finite_parts():
        lo, hi = min(lo, float(v.min())), max(hi, float(v.max()))
    if lo > hi:  # no finite value
        return None
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts = np.zeros(bins, dtype=np.int64)
    for v in finite_parts():
        counts += np.histogram(v.astype(np.float64), bins=bins, range=(lo, hi))[0]
    return {"lo": num(lo), "hi": num(hi), "counts": counts.tolist()}
