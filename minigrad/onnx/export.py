"""Export the forward graph a model records on an example input as an ONNX file.

The model runs once on ``example_input``; every op it records becomes ONNX nodes (mappings in
:mod:`.export_ops` and :mod:`.export_layers`, or an op's own ``to_onnx``). Parameters become
initializers named as ``named_parameters()`` names them, the input's first axis is a dynamic
``batch`` dimension, and the file passes ``onnx.checker.check_model(full_check=True)``.

Only what the graph records is exported: values computed without a gradient path (for
example a mask from a comparison) are baked in as constants. Float64 models export as valid
ONNX, but ONNX Runtime's CPU kernels for Conv and pooling are float32 only.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

import minigrad as mg
from minigrad import Tensor

from . import export_layers, export_modern  # noqa: F401  (register the layer mappings)
from ._trace import Call, is_leaf, trace
from .builder import Builder, ExportNode
from .errors import OnnxExportError, require_onnx
from .export_ops import exporter_for

__all__ = ["export"]

MIN_OPSET, MAX_OPSET = 13, 21


def _as_inputs(example_input: Any, names: list[str] | None) -> list[Tensor]:
    items = list(example_input) if isinstance(example_input, (tuple, list)) else [example_input]
    if names is None:
        names = ["input"] if len(items) == 1 else [f"input_{i}" for i in range(len(items))]
    if len(names) != len(items):
        raise ValueError(f"export: {len(items)} example input(s) but {len(names)} input_names")
    _check_names(names, "input_names")
    out: list[Tensor] = []
    for item, name in zip(items, names):
        arr = np.array(item.data if isinstance(item, Tensor) else item)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"export: example input '{name}' has unsupported dtype {arr.dtype}")
        # a fresh leaf that requires a gradient, so every op reading it is recorded
        out.append(Tensor(arr, requires_grad=arr.dtype.kind == "f", name=name))
    return out


def _check_names(names: list[str], what: str) -> None:
    """ONNX names are UTF-8 strings: refuse a non-string or one holding a lone surrogate."""
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"export: {what} must be strings, got {name!r}")
        try:
            name.encode("utf-8")
        except UnicodeEncodeError as e:
            raise OnnxExportError(
                f"export: {what} entry {name!r} cannot be written: ONNX names are UTF-8 text "
                f"and it holds a lone surrogate at position {e.start}"
            ) from None


def _param_names(model: Any) -> dict[int, str]:
    """Initializer names: parameters and buffers (running statistics) by their state_dict key."""
    if isinstance(model, mg.nn.Module):
        names = {id(p): name for name, p in model.named_parameters()}
        names.update({id(t): name for name, t in model.named_buffers()})
        return names
    return {}


def _uses(calls: list[Call], outputs: list[Tensor]) -> dict[int, int]:
    uses: dict[int, int] = {}
    for c in calls:
        for t in c.inputs:
            if t is not None:
                uses[id(t)] = uses.get(id(t), 0) + 1
    for t in outputs:
        uses[id(t)] = uses.get(id(t), 0) + 1
    return uses


def _producers(calls: list[Call]) -> dict[int, Call]:
    return {id(c.output): c for c in calls}


def _linear_weight(t: Tensor, made_by: dict[int, Call], uses: dict[int, int]) -> Tensor | None:
    """The 2-D leaf ``W`` if ``t`` is ``W.T`` used only once, else None."""
    c = made_by.get(id(t))
    if c is None or c.name != "transpose" or uses.get(id(t)) != 1:
        return None
    w = c.inputs[0]
    axes = c.attrs.get("axes")
    if w is None or not is_leaf(w) or w.ndim != 2 or axes not in (None, (1, 0), [1, 0]):
        return None
    return w


def _plan_gemm(calls: list[Call], outputs: list[Tensor]) -> tuple[dict[int, tuple], set[int]]:
    """Find ``x @ W.T (+ b)`` with 2-D x (what mg.nn.Linear records) to write as one Gemm."""
    made_by, uses = _producers(calls), _uses(calls, outputs)
    fused: dict[int, tuple] = {}
    absorbed: set[int] = set()
    for c in calls:
        if c.name == "matmul":
            x, wt = c.inputs
            w = None if x is None or wt is None else _linear_weight(wt, made_by, uses)
            if x is not None and w is not None and x.ndim == 2 and x.dtype == w.dtype:
                fused[id(c)] = (x, w, None)
                absorbed.add(id(made_by[id(wt)]))
        elif c.name == "add":
            a, bias = c.inputs
            m = made_by.get(id(a))
            ok = m is not None and id(m) in fused and uses.get(id(a)) == 1
            ok = ok and bias is not None and is_leaf(bias) and bias.dtype == c.output.dtype
            if ok and bias is not None and bias.ndim == 1 and bias.shape[0] == c.output.shape[1]:
                x, w, _ = fused.pop(id(m))
                fused[id(c)] = (x, w, bias)
                absorbed.add(id(m))
    return fused, absorbed


class _Exporter:
    def __init__(self, opset: int, param_names: dict[int, str], batch: int | None) -> None:
        self.b = Builder(opset)
        self.names: dict[int, str] = {}  # id(Tensor) -> ONNX value name
        self.batched: dict[str, bool] = {}
        self.param_names = param_names
        self.batch = batch
        self.keep: list[Tensor] = []  # keeps leaves alive while their ids are keys

    def value(self, t: Tensor) -> str:
        name = self.names.get(id(t))
        if name is not None:
            return name
        if not is_leaf(t):
            raise OnnxExportError("internal: a value was used before the op that makes it")
        pname = self.param_names.get(id(t))
        hint = pname or (t.name if t.requires_grad and t.name else None)
        name = self.b.weight(hint, t.data) if hint else self.b.const(t.data, hint="const")
        self.names[id(t)] = name
        self.batched[name] = False
        self.keep.append(t)
        return name

    def emit(self, c: Call) -> None:
        ins = [None if t is None else self.value(t) for t in c.inputs]
        flags = [False if n is None else self.batched.get(n, False) for n in ins]
        out = c.output
        out_batched = bool(
            self.batch and any(flags) and out.ndim > 0 and out.shape[0] == self.batch
        )
        node = ExportNode(
            c.name, c.op, c.attrs, ins,
            [None if t is None else tuple(t.shape) for t in c.inputs],
            [None if t is None else np.dtype(t.dtype) for t in c.inputs],
            flags, tuple(out.shape), np.dtype(out.dtype), out_batched, c.scope,
        )  # fmt: skip
        self.b.scope = c.scope
        try:
            name = exporter_for(c.name, c.op)(self.b, node)
        except OnnxExportError:
            raise
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise OnnxExportError(
                f"op '{c.name}' with attributes {c.attrs} and input shapes {node.shapes} could "
                f"not be exported: {type(e).__name__}: {e}"
            ) from e
        self.names[id(out)] = name
        self.batched[name] = out_batched

    def gemm(self, c: Call, x: Tensor, w: Tensor, bias: Tensor | None) -> None:
        self.b.scope = c.scope
        ins = [self.value(x), self.value(w)] + ([] if bias is None else [self.value(bias)])
        name = self.b.add("Gemm", ins, transB=1)
        self.names[id(c.output)] = name
        self.batched[name] = self.batched.get(ins[0], False)


def _value_info(name: str, t: Tensor, batched: bool) -> Any:
    from onnx import helper

    dims: list[Any] = list(t.shape)
    if batched and dims:
        dims[0] = "batch"
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(t.dtype), dims)


def _rename(nodes: list[Any], old: str, new: str) -> None:
    for n in nodes:
        for seq in (n.input, n.output):
            for i, v in enumerate(seq):
                if v == old:
                    seq[i] = new


def _outputs(result: Any) -> list[Tensor]:
    items = list(result) if isinstance(result, (tuple, list)) else [result]
    if not items or not all(isinstance(t, Tensor) for t in items):
        raise OnnxExportError(
            "export: the model must return a Tensor or a tuple of Tensors, got "
            f"{type(result).__name__}"
        )
    return items


def _name_outputs(
    ex: _Exporter, outputs: list[Tensor], inputs: list[Tensor], names: list[str] | None
) -> list[Any]:
    """Give the graph outputs their names ("output", or output_0, output_1...)."""
    if names is None:
        names = ["output"] if len(outputs) == 1 else [f"output_{i}" for i in range(len(outputs))]
    if len(names) != len(outputs):
        raise ValueError(f"export: {len(outputs)} output(s) but {len(names)} output_names")
    _check_names(names, "output_names")
    input_ids = {id(t) for t in inputs}
    infos = []
    for t, name in zip(outputs, names):
        if id(t) not in ex.names or (is_leaf(t) and id(t) not in input_ids):
            raise OnnxExportError(
                f"export: output '{name}' does not depend on the input: only float ops that "
                "read the input are recorded (integer results such as argmax or comparisons, "
                "and values made under no_grad, are constants)"
            )
        value = ex.names[id(t)]
        if id(t) in input_ids or ex.b.is_shared_const(value):
            value = ex.b.add("Identity", [value])  # a graph output must be a node's output
        ex.b.reserve(name)
        _rename(ex.b.nodes, value, name)
        infos.append(_value_info(name, t, ex.batched.get(value, False)))
    return infos


def _model(ex: _Exporter, in_infos: list[Any], out_infos: list[Any]) -> Any:
    from onnx import helper

    graph = helper.make_graph(ex.b.nodes, "minigrad", in_infos, out_infos, ex.b.initializers)
    proto = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", ex.b.opset)], producer_name="minigrad",
        producer_version=mg.__version__,
    )  # fmt: skip
    proto.ir_version = min(proto.ir_version, 10)  # readable by ONNX Runtime releases in use
    return proto


def export(
    model: Any,
    example_input: Any,
    path: str | os.PathLike[str] | None,
    opset: int = 17,
    *,
    input_names: list[str] | None = None,
    output_names: list[str] | None = None,
    dynamic_batch: bool = True,
) -> Any:
    """Write the forward graph ``model`` records on ``example_input`` to ``path`` as ONNX.

    ``model`` is an ``mg.nn.Module`` or a function of Tensors; ``example_input`` a Tensor or
    array (or a tuple of them, one per model argument). A module is run in evaluation mode
    (its own mode is restored after), so batch norm and dropout export their inference forms.
    Returns the ``onnx.ModelProto`` (and writes nothing when ``path`` is None). Raises
    :class:`OnnxExportError` naming any op without an ONNX mapping.

    >>> import minigrad as mg
    >>> net = mg.nn.Sequential(mg.nn.Conv2d(1, 4, 3, padding=1), mg.nn.ReLU(),
    ...                        mg.nn.MaxPool2d(2), mg.nn.Flatten(), mg.nn.Linear(4 * 4 * 4, 2))
    >>> proto = mg.onnx.export(net, mg.randn(1, 1, 8, 8), None)
    >>> [n.op_type for n in proto.graph.node]
    ['Conv', 'Relu', 'MaxPool', 'Reshape', 'Gemm']
    >>> [i.name for i in proto.graph.initializer][:2]
    ['0.weight', '0.bias']
    """
    onnx = require_onnx()
    if not MIN_OPSET <= int(opset) <= MAX_OPSET:
        raise ValueError(f"export: opset {opset} is not supported (use {MIN_OPSET}..{MAX_OPSET})")
    inputs = _as_inputs(example_input, input_names)
    # a module runs in evaluation mode, as PyTorch's exporter does by default: batch norm uses
    # (and does not update) its running statistics, dropout is the identity
    modes = [(m, m.training) for m in model.modules()] if isinstance(model, mg.nn.Module) else []
    for m, _ in modes:
        m.__dict__["training"] = False
    try:
        with mg.enable_grad():
            outputs = _outputs(model(*inputs))
    finally:
        for m, mode in modes:
            m.__dict__["training"] = mode
    batch = inputs[0].shape[0] if dynamic_batch and inputs[0].ndim else None
    ex = _Exporter(int(opset), _param_names(model), batch)
    names = [t.name or "" for t in inputs]  # _as_inputs named every one
    for t, name in zip(inputs, names):
        ex.names[id(t)] = ex.b.reserve(name)
        ex.batched[name] = batch is not None
    calls = trace(outputs)
    fused, absorbed = _plan_gemm(calls, outputs)
    for c in calls:
        if id(c) in fused:
            ex.gemm(c, *fused[id(c)])
        elif id(c) not in absorbed:
            ex.emit(c)
    out_infos = _name_outputs(ex, outputs, inputs, output_names)
    infos = [_value_info(n, t, batch is not None) for n, t in zip(names, inputs)]
    proto = _model(ex, infos, out_infos)
    onnx.checker.check_model(proto, full_check=True)
    if path is not None:
        onnx.save(proto, os.fspath(path))
    return proto
