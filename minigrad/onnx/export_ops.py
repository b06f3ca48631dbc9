"""How each minigrad op is written as ONNX nodes: the registry and the core ops.

An exporter is ``fn(builder, node) -> str``: it appends nodes with ``builder.add(op_type,
inputs, **attributes)`` (constants with ``builder.const(array)``) and returns the ONNX name of
the op's output. ``node`` is an :class:`~minigrad.onnx.builder.ExportNode` (input names,
shapes, dtypes, attributes, output shape).

A plugin op provides its own mapping in one of two ways:

- a ``to_onnx(builder, node)`` staticmethod (or classmethod) on its Op class, or
- ``mg.onnx.register_exporter("swish", fn)`` (which wins over ``to_onnx``).

The CNN layer ops are mapped in :mod:`.export_layers`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .builder import INT64_MAX, INT64_MIN, Builder, ExportNode
from .errors import OnnxExportError

__all__ = ["EXPORTERS", "exporter_for", "register_exporter"]

Exporter = Callable[[Builder, ExportNode], str]
EXPORTERS: dict[str, Exporter] = {}


def register_exporter(name: str, fn: Exporter, override: bool = False) -> None:
    """Export calls of the op ``name`` with ``fn(builder, node) -> output name``.

    >>> import minigrad as mg
    >>> def swish_to_onnx(b, node):                  # x * sigmoid(beta * x)
    ...     x = node.inputs[0]
    ...     beta = b.const(node.attrs["beta"], dtype=node.out_dtype)
    ...     return b.add("Mul", [x, b.add("Sigmoid", [b.add("Mul", [x, beta])])])
    >>> mg.onnx.register_exporter("swish", swish_to_onnx, override=True)
    """
    if name in EXPORTERS and not override:
        raise ValueError(
            f"register_exporter: op '{name}' already has an ONNX exporter (pass override=True)"
        )
    EXPORTERS[name] = fn


def exporter(*names: str) -> Callable[[Exporter], Exporter]:
    def deco(fn: Exporter) -> Exporter:
        for n in names:
            EXPORTERS[n] = fn
        return fn

    return deco


def exporter_for(name: str, op: type) -> Exporter:
    """The registered exporter of op ``name``, else its class's ``to_onnx``, else an error."""
    fn = EXPORTERS.get(name)
    if fn is not None:
        return fn
    hook = getattr(op, "to_onnx", None)
    if callable(hook):
        return hook
    plugin = getattr(op, "plugin", None)
    origin = f" (from plugin {plugin})" if plugin else ""
    raise OnnxExportError(
        f"op '{name}'{origin} has no ONNX mapping: give its Op class a "
        "to_onnx(builder, node) staticmethod, or call mg.onnx.register_exporter("
        f"'{name}', fn); see help(mg.onnx.export_ops)"
    )


def same_dtype(b: Builder, node: ExportNode, idx: list[int] | None = None) -> list[Any]:
    """The inputs, cast to the output's dtype where they differ (ONNX does not promote);
    None stays for an absent optional input."""
    out: list[Any] = []
    for i, (name, dt) in enumerate(zip(node.inputs, node.dtypes)):
        if name is None:
            out.append(None)
            continue
        if (idx is None or i in idx) and dt is not None and dt != node.out_dtype:
            name = b.cast(name, node.out_dtype)
        out.append(name)
    return out


_ELEMENTWISE = {
    "add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "neg": "Neg", "exp": "Exp",
    "log": "Log", "sqrt": "Sqrt", "abs": "Abs", "maximum": "Max", "minimum": "Min",
    "relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh",
}  # fmt: skip


@exporter(*_ELEMENTWISE)
def _elementwise(b: Builder, node: ExportNode) -> str:
    return b.add(_ELEMENTWISE[node.name], same_dtype(b, node))


@exporter("pow")
def _pow(b: Builder, node: ExportNode) -> str:
    if "exponent" in node.attrs:  # x ** constant
        c = b.const(node.attrs["exponent"], dtype=node.out_dtype, hint="exponent")
        return b.add("Pow", [same_dtype(b, node)[0], c])
    return b.add("Pow", same_dtype(b, node))


@exporter("clip")
def _clip(b: Builder, node: ExportNode) -> str:
    lo, hi = node.attrs.get("min"), node.attrs.get("max")
    args = [same_dtype(b, node)[0]]
    args.append(None if lo is None else b.const(lo, dtype=node.out_dtype, hint="min"))
    args.append(None if hi is None else b.const(hi, dtype=node.out_dtype, hint="max"))
    while args[-1] is None:
        args.pop()
    return b.add("Clip", args)


@exporter("where")
def _where(b: Builder, node: ExportNode) -> str:
    cond, x, y = same_dtype(b, node, [1, 2])
    if node.dtypes[0] != np.bool_:
        cond = b.cast(cond, np.bool_)
    return b.add("Where", [cond, x, y])


@exporter("matmul")
def _matmul(b: Builder, node: ExportNode) -> str:
    return b.add("MatMul", same_dtype(b, node))


_REDUCE = {"sum": "ReduceSum", "mean": "ReduceMean", "max": "ReduceMax", "min": "ReduceMin"}


@exporter(*_REDUCE)
def _reduce(b: Builder, node: ExportNode) -> str:
    axis = node.attrs.get("axis")
    if isinstance(axis, (tuple, list)) and len(axis) == 0:
        return b.add("Identity", [node.inputs[0]])
    out = b.reduce(_REDUCE[node.name], node.arg(0), axis, node.attrs.get("keepdims", False))
    return out if node.out_dtype == node.dtypes[0] else b.cast(out, node.out_dtype)


def shape_for(node: ExportNode, shape: tuple[int, ...], batch: int | None) -> list[int]:
    """A Reshape target that keeps the batch axis dynamic: 0 copies it, -1 absorbs it."""
    target = [int(d) for d in shape]
    if node.batched[0] and batch:
        if node.out_batched and target and target[0] == batch:
            target[0] = 0  # ONNX Reshape: 0 copies the input's dimension
        elif target and target[0] % batch == 0 and -1 not in target:
            target[0] = -1  # the batch merged into the first dimension
    return target


@exporter("reshape")
def _reshape(b: Builder, node: ExportNode) -> str:
    target = shape_for(node, node.out_shape, node.shape(0)[0] if node.shape(0) else None)
    return b.add("Reshape", [node.inputs[0], b.ints(target)])


@exporter("transpose")
def _transpose(b: Builder, node: ExportNode) -> str:
    axes = node.attrs.get("axes")
    nd = len(node.shape(0))
    perm = list(reversed(range(nd))) if axes is None else [int(a) % nd for a in axes]
    return b.add("Transpose", [node.inputs[0]], perm=perm)


@exporter("expand")
def _expand(b: Builder, node: ExportNode) -> str:
    target = list(node.out_shape)
    if node.batched[0] and target and node.shape(0) and len(node.shape(0)) == len(target):
        target[0] = 1  # Expand broadcasts both ways: 1 keeps the input's batch size
    return b.add("Expand", [node.inputs[0], b.ints(target)])


@exporter("astype")
def _astype(b: Builder, node: ExportNode) -> str:
    return b.cast(node.arg(0), node.out_dtype)


@exporter("concatenate")
def _concatenate(b: Builder, node: ExportNode) -> str:
    return b.add("Concat", same_dtype(b, node), axis=int(node.attrs.get("axis", 0)))


@exporter("stack")
def _stack(b: Builder, node: ExportNode) -> str:
    axis = int(node.attrs.get("axis", 0)) % len(node.out_shape)
    parts = [b.unsqueeze(x, [axis]) for x in same_dtype(b, node)]
    return b.add("Concat", parts, axis=axis)


@exporter("pad")
def _pad(b: Builder, node: ExportNode) -> str:
    nd = len(node.shape(0))
    widths = np.broadcast_to(np.asarray(node.attrs["pad_width"], dtype=np.int64), (nd, 2))
    pads = [int(w) for w in widths[:, 0]] + [int(w) for w in widths[:, 1]]
    value = b.const(node.attrs.get("value", 0.0), dtype=node.out_dtype, hint="pad_value")
    return b.add("Pad", [node.inputs[0], b.ints(pads, "pads"), value], mode="constant")


def _expand_ellipsis(index: tuple, nd: int) -> list[Any]:
    used = sum(1 for i in index if i is not None and i is not Ellipsis)
    out: list[Any] = []
    for i in index:
        if i is Ellipsis:
            out.extend([slice(None)] * (nd - used))
        else:
            out.append(i)
    if not any(i is Ellipsis for i in index):
        out.extend([slice(None)] * (nd - used))
    return out


def _bounds(s: slice) -> tuple[int, int, int]:
    step = 1 if s.step is None else int(s.step)
    if step == 0:
        raise OnnxExportError("getitem: a slice step of 0 has no ONNX form")
    start = (0 if step > 0 else INT64_MAX) if s.start is None else int(s.start)
    stop = (INT64_MAX if step > 0 else INT64_MIN) if s.stop is None else int(s.stop)
    return start, stop, step


@exporter("getitem")
def _getitem(b: Builder, node: ExportNode) -> str:
    """Basic slicing -> Slice, one integer array -> Gather, ints and None -> a final Reshape."""
    index = node.attrs["index"]
    index = index if isinstance(index, tuple) else (index,)
    nd = len(node.shape(0))
    items = _expand_ellipsis(index, nd)
    starts, ends, axes, steps, gather = [], [], [], [], None
    axis = 0
    for it in items:
        if it is None:
            continue
        if isinstance(it, slice):
            if it != slice(None):
                s, e, st = _bounds(it)
                starts.append(s)
                ends.append(e)
                axes.append(axis)
                steps.append(st)
        elif isinstance(it, (int, np.integer)):
            i = int(it)
            starts.append(i)
            ends.append(INT64_MAX if i == -1 else i + 1)
            axes.append(axis)
            steps.append(1)
        elif isinstance(it, np.ndarray) and it.dtype.kind in "iu" and gather is None:
            gather = (axis, it.astype(np.int64))
        else:
            raise OnnxExportError(
                f"getitem: index {index!r} has no ONNX mapping here (supported: slices, ints, "
                "None, ... and at most one integer array)"
            )
        axis += 1
    if gather is not None and not all(isinstance(i, (slice, np.ndarray)) for i in items):
        raise OnnxExportError(
            f"getitem: index {index!r} mixes an integer array with ints or None (numpy moves "
            "the indexed axes then); only slices may go with an integer array here"
        )
    x = node.arg(0)
    if axes:
        x = b.add("Slice", [x, b.ints(starts, "starts"), b.ints(ends, "ends"),
                            b.ints(axes, "axes"), b.ints(steps, "steps")])  # fmt: skip
    if gather is not None:
        x = b.add("Gather", [x, b.const(gather[1], hint="indices")], axis=gather[0])
    plain = all(isinstance(i, slice) for i in items) and gather is None
    if plain:
        return x if axes else b.add("Identity", [x])
    batch = node.shape(0)[0] if node.shape(0) else None
    return b.add("Reshape", [x, b.ints(shape_for(node, node.out_shape, batch))])
