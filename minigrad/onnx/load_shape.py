"""ONNX shape, indexing and reduction ops run with minigrad ops (see :mod:`.load_ops`)."""

from __future__ import annotations

from typing import Any

import numpy as np

import minigrad as F
from minigrad import Tensor

from .load_ops import NodeView, Value, as_mg, ints, is_static, loader, static

__all__: list[str] = []


def _reshape(x: Value, shape: tuple[int, ...]) -> Value:
    return x.reshape(shape) if is_static(x) else as_mg(x).reshape(shape)


@loader("Reshape")
def _reshape_op(node: NodeView, x: Value, shape: Value) -> Value:
    target = ints(shape, node, "shape")
    if not node.attrs.get("allowzero", 0):  # 0 copies the input's dimension
        target = [x.shape[i] if d == 0 else d for i, d in enumerate(target)]
    try:
        return _reshape(x, tuple(target))
    except ValueError as e:
        raise node.fail(f"cannot reshape {tuple(x.shape)} to {tuple(target)}: {e}") from None


@loader("Flatten")
def _flatten(node: NodeView, x: Value) -> Value:
    nd = len(x.shape)
    axis = int(node.attrs.get("axis", 1))
    if not -nd <= axis <= nd:
        raise node.fail(f"axis {axis} is out of range for rank {nd} (expected -{nd}..{nd})")
    axis = axis + nd if axis < 0 else axis  # axis == rank is valid: (N, 1)
    shape = (int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:])))
    return _reshape(x, shape)


def _axes(node: NodeView, given: Value, since: int) -> list[int] | None:
    """Axes from the input (opset >= ``since``) or the attribute (older opsets)."""
    if node.opset >= since:
        return None if given is None else ints(given, node, "axes")
    axes = node.attrs.get("axes")
    return None if axes is None else [int(a) for a in axes]


@loader("Squeeze")
def _squeeze(node: NodeView, x: Value, axes: Value = None) -> Value:
    ax = _axes(node, axes, 13)
    nd = len(x.shape)
    ax = [i for i, d in enumerate(x.shape) if d == 1] if ax is None else [a % nd for a in ax]
    return _reshape(x, tuple(d for i, d in enumerate(x.shape) if i not in ax))


@loader("Unsqueeze")
def _unsqueeze(node: NodeView, x: Value, axes: Value = None) -> Value:
    ax = _axes(node, axes, 13) or []
    nd = len(x.shape) + len(ax)
    shape = list(x.shape)
    for a in sorted(a % nd for a in ax):
        shape.insert(a, 1)
    return _reshape(x, tuple(shape))


@loader("Transpose")
def _transpose(node: NodeView, x: Value) -> Value:
    perm = node.attrs.get("perm")
    perm = tuple(reversed(range(len(x.shape)))) if perm is None else tuple(int(p) for p in perm)
    return np.transpose(x, perm) if is_static(x) else as_mg(x).transpose(perm)


@loader("Concat")
def _concat(node: NodeView, *xs: Value) -> Value:
    axis = int(node.attrs["axis"])
    xs = tuple(x for x in xs if x is not None)
    if all(is_static(x) for x in xs):
        return np.concatenate(xs, axis=axis)
    return F.concatenate([as_mg(x) for x in xs], axis=axis)


@loader("Expand")
def _expand(node: NodeView, x: Value, shape: Value) -> Value:
    target = np.broadcast_shapes(tuple(x.shape), tuple(ints(shape, node, "shape")))
    if is_static(x):
        return np.broadcast_to(x, target).copy()
    return F.expand(as_mg(x), target)


@loader("Pad")
def _pad(node: NodeView, x: Value, pads: Value = None, value: Value = None, axes: Value = None):
    mode = node.attrs.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode != "constant":
        raise node.fail(f"mode '{mode}' is not supported (only 'constant')")
    nd = len(x.shape)
    if node.opset < 11:
        p, fill = list(node.attrs["pads"]), float(node.attrs.get("value", 0.0))
    else:
        p = ints(pads, node, "pads")
        fill = 0.0 if value is None else float(static(value, node, "constant_value").reshape(()))
    ax = list(range(nd)) if axes is None else [a % nd for a in ints(axes, node, "axes")]
    width = [[0, 0] for _ in range(nd)]
    for i, a in enumerate(ax):
        width[a] = [p[i], p[i + len(ax)]]
    # negative pads crop: slice first, then pad what is left
    crop = tuple(slice(-min(b, 0), x.shape[i] + min(e, 0)) for i, (b, e) in enumerate(width))
    if any(b < 0 or e < 0 for b, e in width):
        x = x[crop]
    widths = tuple((max(b, 0), max(e, 0)) for b, e in width)
    if is_static(x):
        return np.pad(x, widths, constant_values=fill)
    return F.pad(as_mg(x), widths, value=fill)


@loader("Slice")
def _slice(node: NodeView, x: Value, *args: Value) -> Value:
    nd = len(x.shape)
    if node.opset < 10:
        starts, ends = node.attrs["starts"], node.attrs["ends"]
        axes, steps = node.attrs.get("axes"), None
    else:
        starts, ends = ints(args[0], node, "starts"), ints(args[1], node, "ends")
        axes = ints(args[2], node, "axes") if len(args) > 2 and args[2] is not None else None
        steps = ints(args[3], node, "steps") if len(args) > 3 and args[3] is not None else None
    axes = list(range(len(starts))) if axes is None else [a % nd for a in axes]
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * nd
    for a, s, e, st in zip(axes, starts, ends, steps):
        if st == 0:
            raise node.fail(f"step 0 on axis {a} (steps must be non-zero)")
        n = x.shape[a]
        # ONNX's rule: negative bounds count from the end, then clamp to [0, n] for a
        # positive step and to [0, n - 1] (start) / [-1, n - 1] (end) for a negative one
        s, e = s + n if s < 0 else s, e + n if e < 0 else e
        if st > 0:
            s, e = min(max(s, 0), n), min(max(e, 0), n)
        else:
            s, e = min(max(s, 0), n - 1), min(max(e, -1), n - 1)
        index[a] = slice(s, None if e < 0 else e, st)  # end -1: up to and including index 0
    return x[tuple(index)]


@loader("Gather")
def _gather(node: NodeView, x: Value, indices: Value) -> Value:
    axis = int(node.attrs.get("axis", 0)) % len(x.shape)
    idx = static(indices, node, "indices").astype(np.int64)
    index = (slice(None),) * axis + ((int(idx) if idx.ndim == 0 else idx),)
    return x[index]


def _reduce_axes(node: NodeView, x: Value, axes: Value, since: int) -> tuple[int, ...] | None:
    ax = _axes(node, axes, since)
    if not ax:
        return () if node.attrs.get("noop_with_empty_axes", 0) else None
    return tuple(a % len(x.shape) for a in ax)


_REDUCE = {
    "ReduceSum": ("sum", 13),
    "ReduceMean": ("mean", 18),
    "ReduceMax": ("max", 18),
    "ReduceMin": ("min", 18),
}


def _empty_extremum(name: str, x: Value, ax: tuple[int, ...] | None, keep: bool) -> np.ndarray:
    """max/min over an empty set: ONNX's identity element (-inf/+inf, the integer type's
    lowest/highest value, False/True), as ONNX Runtime returns it."""
    dtype = np.dtype(x.dtype)
    if dtype.kind == "f":
        fill: Any = -np.inf if name == "max" else np.inf
    elif dtype.kind == "b":
        fill = name == "min"
    else:
        info = np.iinfo(dtype)
        fill = info.min if name == "max" else info.max
    axes = range(len(x.shape)) if ax is None else ax
    shape = [1 if i in axes else d for i, d in enumerate(x.shape)]
    if not keep:
        shape = [d for i, d in enumerate(x.shape) if i not in axes]
    return np.full(shape, fill, dtype=dtype)


def _empty_mean(node: NodeView, x: Value, ax: tuple[int, ...] | None, keep: bool) -> np.ndarray:
    """The mean of an empty set: ONNX leaves it undefined; NaN, as numpy, PyTorch and ONNX's
    reference implementation give (ONNX Runtime returns 0)."""
    if np.dtype(x.dtype).kind != "f":
        raise node.fail(f"the mean of an empty set of {x.dtype} values is undefined")
    shape = _empty_extremum("max", x, ax, keep).shape
    return np.full(shape, np.nan, dtype=x.dtype)


@loader(*_REDUCE)
def _reduce(node: NodeView, x: Value, axes: Value = None) -> Value:
    name, since = _REDUCE[node.op_type]
    ax = _reduce_axes(node, x, axes, since)
    if ax == ():
        return x
    keep = bool(node.attrs.get("keepdims", 1))
    if any(x.shape[i] == 0 for i in (range(len(x.shape)) if ax is None else ax)):
        # an empty set: the input has no elements, so a constant loses no gradient
        if name in ("max", "min"):
            return _empty_extremum(name, x, ax, keep)
        if name == "mean":
            return _empty_mean(node, x, ax, keep)
    if is_static(x):
        return np.asarray(getattr(np, name)(x, axis=ax, keepdims=keep)).astype(x.dtype)
    out = getattr(as_mg(x), name)(axis=ax, keepdims=keep)
    # ONNX reductions keep the input's type (numpy sums integers as int64)
    return out if out.dtype == x.dtype else out.astype(x.dtype)


@loader("ArgMax", "ArgMin")
def _argmax(node: NodeView, x: Value) -> np.ndarray:
    fn = np.argmax if node.op_type == "ArgMax" else np.argmin
    a = static(x, node, "data")
    axis = int(node.attrs.get("axis", 0))
    keep = bool(node.attrs.get("keepdims", 1))
    if node.attrs.get("select_last_index", 0):
        # ties go to the last index: search the reversed axis, then count back from the end
        n = a.shape[axis]
        return np.asarray(n - 1 - fn(np.flip(a, axis), axis=axis, keepdims=keep), dtype=np.int64)
    return np.asarray(fn(a, axis=axis, keepdims=keep), dtype=np.int64)


@loader("Split")
def _split(node: NodeView, x: Value, split: Value = None) -> tuple[Value, ...]:
    axis = int(node.attrs.get("axis", 0)) % len(x.shape)
    n = x.shape[axis]
    if node.opset < 13:
        sizes = node.attrs.get("split")
    else:
        sizes = None if split is None else ints(split, node, "split")
    if sizes is None:
        k = node.attrs.get("num_outputs", node.n_outputs)
        step = -(-n // k)
        sizes = [min(step, n - i * step) for i in range(k)]
    out, start = [], 0
    for s in sizes:
        out.append(x[(slice(None),) * axis + (slice(start, start + s),)])
        start += s
    return tuple(out)


def _tensor_input(x: Value) -> Tensor:
    return as_mg(x)
