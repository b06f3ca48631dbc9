"""Load an ONNX model as an ``mg.nn.Module`` that runs the graph with minigrad ops.

Float initializers become Parameters named as in the file (``conv1.weight`` lands on a
sub-module ``conv1``), so a loaded model trains, draws and explores like one built here.
Loading only parses the file (protobuf): nothing in it is executed, and ops from other domains
(custom-op libraries) are refused, never loaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad import Tensor, name_scope
from minigrad.nn import Module, Parameter
from minigrad.serialization import open_regular_file

from . import load_layers, load_modern, load_shape  # noqa: F401  (they register their ops)
from .errors import OnnxError, OnnxFormatError, UnsupportedOnnxOpError, require_onnx
from .load_ops import LOADERS, NodeView, np_dtype

__all__ = ["OnnxModule", "load", "read_model"]

_DEFAULT_DOMAINS = ("", "ai.onnx")


def read_model(source: Any) -> Any:
    """Parse ``source`` (a path, bytes or an ``onnx.ModelProto``) and check it is well formed."""
    onnx = require_onnx()
    what = "the given bytes"
    if isinstance(source, onnx.ModelProto):
        model = source
        what = "the given ModelProto"
    else:
        if isinstance(source, (bytes, bytearray)):
            data = bytes(source)
        else:
            what = os.fspath(source)
            # a FIFO or a device would block a plain open(): refused with the type named
            with open_regular_file(what, repr(what), "mg.onnx.load", "an .onnx file") as f:
                data = f.read()
        model = onnx.ModelProto()
        try:
            model.ParseFromString(data)
        except Exception as e:  # protobuf's DecodeError and friends
            raise OnnxFormatError(f"{what} is not an ONNX model: {e}") from None
    external = _external_tensors(model)
    if external and not isinstance(source, (str, os.PathLike)):
        raise OnnxFormatError(_no_external_data(what, external))
    if external:
        _load_external_data(model, external, what)
    if not model.graph.node and not model.graph.output:
        raise OnnxFormatError(f"{what} is not an ONNX model: its graph has no nodes and no outputs")
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
        raise OnnxFormatError(f"{what} is not a valid ONNX model: {first}") from None
    return model


def _external_tensors(model: Any) -> list[Any]:
    """Every TensorProto of ``model`` whose data lives in an external file: initializers,
    sparse initializers and tensor attributes, in the main graph, subgraphs and functions."""
    onnx = require_onnx()
    found: list[Any] = []
    graphs = [model.graph]
    attr_lists = [n.attribute for f in model.functions for n in f.node]

    def tensors_of_attr(a: Any) -> list[Any]:
        out = []
        if a.HasField("t"):
            out.append(a.t)
        out.extend(a.tensors)
        for sp in [a.sparse_tensor] if a.HasField("sparse_tensor") else []:
            out.extend([sp.values, sp.indices])
        for sp in a.sparse_tensors:
            out.extend([sp.values, sp.indices])
        return out

    while graphs or attr_lists:
        if graphs:
            g = graphs.pop()
            tensors = list(g.initializer)
            for sp in g.sparse_initializer:
                tensors.extend([sp.values, sp.indices])
            found.extend(t for t in tensors if t.data_location == onnx.TensorProto.EXTERNAL)
            attr_lists.extend(n.attribute for n in g.node)
            continue
        for a in attr_lists.pop():
            found.extend(
                t for t in tensors_of_attr(a) if t.data_location == onnx.TensorProto.EXTERNAL
            )
            if a.HasField("g"):
                graphs.append(a.g)
            graphs.extend(a.graphs)
    return found


def _no_external_data(what: str, external: list[Any]) -> str:
    names = ", ".join(f"'{t.name}' in {_location(t)!r}" for t in external[:3])
    return (
        f"{what}: {len(external)} tensor(s) keep their data in external files ({names}"
        f"{', ...' if len(external) > 3 else ''}); a model given as bytes or a ModelProto "
        "never reads files, as it has no folder of its own. Load it by path "
        "(mg.onnx.load('model.onnx')), so its data is read from the model's folder only"
    )


def _location(tensor: Any) -> str:
    for entry in tensor.external_data:
        if entry.key == "location":
            return str(entry.value)
    return ""


def _load_external_data(model: Any, tensors: list[Any], what: str) -> None:
    """Read external tensors of the model at path ``what``, from files inside its folder only."""
    from onnx.external_data_helper import load_external_data_for_tensor

    folder = os.path.realpath(os.path.dirname(os.path.abspath(what)))
    for t in tensors:
        location = _location(t)
        target = os.path.realpath(os.path.join(folder, location))
        inside = (
            location
            and not os.path.isabs(location)
            and os.path.commonpath([folder, target]) == folder
            and target != folder
        )
        if not inside:
            raise OnnxFormatError(
                f"{what}: tensor '{t.name}' names the external data file {location!r}, which is "
                f"not inside the model's folder {folder!r}; external data is read from the "
                "model's own folder only"
            )
        if not os.path.isfile(target):  # also refuses a FIFO or a device, which would block
            raise OnnxFormatError(
                f"{what}: tensor '{t.name}' names the external data file {location!r}, which is "
                f"not a regular file in {folder!r}"
            )
        try:
            load_external_data_for_tensor(t, folder)
        except (OSError, ValueError) as e:
            raise OnnxFormatError(
                f"{what}: cannot read the external data of tensor '{t.name}' from {location!r}: {e}"
            ) from None


def _opset(model: Any) -> int:
    for imp in model.opset_import:
        if imp.domain in _DEFAULT_DOMAINS:
            return int(imp.version)
    raise OnnxFormatError("the model imports no version of the default ONNX opset")


def _check_supported(graph: Any) -> None:
    """Raise one error naming every op the file uses that cannot run here."""
    missing: dict[str, list[str]] = {}
    for i, node in enumerate(graph.node):
        key = node.op_type if node.domain in _DEFAULT_DOMAINS else f"{node.domain}::{node.op_type}"
        if node.domain not in _DEFAULT_DOMAINS or node.op_type not in LOADERS:
            missing.setdefault(key, []).append(node.name or f"#{i}")
    if missing:
        parts = [
            f"{op} (node{'s' if len(n) > 1 else ''} {', '.join(n[:3])}"
            f"{', ...' if len(n) > 3 else ''})"
            for op, n in sorted(missing.items())
        ]
        raise UnsupportedOnnxOpError(
            f"the model uses {len(missing)} ONNX op(s) minigrad cannot run: {'; '.join(parts)}. "
            "Ops from other domains (custom-op libraries) are never loaded; a missing standard "
            "op can be added with mg.onnx.register_loader(op_type, fn).",
            sorted(missing),
        )


def _check_dataflow(graph: Any, known: set[str]) -> None:
    defined = set(known)
    for i, node in enumerate(graph.node):
        for name in node.input:
            if name and name not in defined:
                raise OnnxFormatError(
                    f"ONNX node '{node.name or f'#{i}'}' ({node.op_type}) reads '{name}', which "
                    "no input, initializer or earlier node defines (nodes must come in "
                    "topological order)"
                )
        defined.update(o for o in node.output if o)
    for out in graph.output:
        if out.name not in defined:
            raise OnnxFormatError(f"graph output '{out.name}' is never computed")


@dataclass(frozen=True)
class InputSpec:
    """A graph input: its name, shape (a str or None for a dynamic dimension; None for an
    undeclared rank) and dtype."""

    name: str
    shape: tuple[int | str | None, ...] | None
    dtype: np.dtype


def _input_spec(vi: Any) -> InputSpec:
    t = vi.type.tensor_type
    if not vi.type.HasField("tensor_type"):
        raise OnnxFormatError(f"graph input '{vi.name}' is not a tensor")
    if not t.HasField("shape"):
        return InputSpec(vi.name, None, np_dtype(t.elem_type))  # rank not declared
    dims: list[int | str | None] = []
    for d in t.shape.dim:
        if d.HasField("dim_value"):
            dims.append(int(d.dim_value))
        else:
            dims.append(d.dim_param or None)
    return InputSpec(vi.name, tuple(dims), np_dtype(t.elem_type))


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper, numpy_helper

    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if a.type == a.TENSOR:
            v = numpy_helper.to_array(v)
        out[a.name] = v
    return out


def _scope(node: Any, params: set[str]) -> str | None:
    """The layer a node belongs to: from its name (/conv1/Conv) or its first parameter."""
    parts = [p for p in node.name.split("/") if p]
    if len(parts) > 1:
        return "/".join(parts[:-1])
    for name in node.input:
        if name in params and "." in name:
            return name.rsplit(".", 1)[0].replace(".", "/")
    return None


class _Group(Module):
    """A namespace for the Parameters of one layer of a loaded model."""

    def forward(self, *args: Any) -> Any:
        raise TypeError("this module only groups the parameters of a loaded ONNX layer")

    def extra_repr(self) -> str:
        return ", ".join(f"{n}{tuple(p.shape)}" for n, p in self.named_parameters(recurse=False))


def _attach(root: Module, params: dict[str, Parameter]) -> None:
    """Register ``a.b.weight`` as Parameter ``weight`` of sub-module ``b`` of sub-module ``a``."""
    tree: dict[str, Any] = {}
    for name, p in params.items():
        parts = [part or "_" for part in name.split(".")]
        node = tree
        ok = True
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                ok = False
                break
            node = child
        if not ok or parts[-1] in node:
            node, parts = tree, [name.replace(".", "_")]
        node[parts[-1]] = p

    def build(module: Module, sub: dict[str, Any]) -> None:
        for key, value in sub.items():
            safe = key + "_" if hasattr(Module, key) else key
            if isinstance(value, dict):
                child = _Group()
                build(child, value)
                setattr(module, safe, child)
            else:
                setattr(module, safe, value)

    build(root, tree)


class OnnxModule(Module):
    """An ONNX graph run with minigrad ops; call it with one array or Tensor per graph input.

    ``inputs`` lists the graph inputs (:class:`InputSpec`), ``output_names`` the outputs and
    ``onnx_params`` maps initializer names to their Parameters.
    """

    def __init__(self, model: Any) -> None:
        super().__init__()
        from onnx import numpy_helper

        graph = model.graph
        external = _external_tensors(model)
        if external:  # read_model loads them from a path; never resolve them anywhere else
            raise OnnxFormatError(_no_external_data("the given ModelProto", external))
        self.opset = _opset(model)
        _check_supported(graph)
        consts: dict[str, np.ndarray] = {}
        params: dict[str, Parameter] = {}
        frozen = {
            n.input[i]
            for n in graph.node
            if n.op_type == "BatchNormalization"
            for i in (3, 4)
            if len(n.input) > i
        }
        for init in graph.initializer:
            arr = numpy_helper.to_array(init)
            if arr.dtype.kind == "f":
                params[init.name] = Parameter(np.array(arr))
                if init.name in frozen:  # running statistics, not trained
                    params[init.name].requires_grad = False
            else:
                consts[init.name] = np.array(arr)
        init_names = set(params) | set(consts)
        self.inputs = [_input_spec(vi) for vi in graph.input if vi.name not in init_names]
        self.output_names = [o.name for o in graph.output]
        _check_dataflow(graph, init_names | {s.name for s in self.inputs})
        self._consts = consts
        self.onnx_params = params
        self._nodes = []
        for i, node in enumerate(graph.node):
            view = NodeView(
                node.name or f"{node.op_type}_{i}",
                node.op_type,
                _attrs(node),
                self.opset,
                len(node.output),
            )
            ins = list(node.input)
            while ins and not ins[-1]:
                ins.pop()  # trailing omitted optional inputs
            self._nodes.append((view, ins, list(node.output), _scope(node, set(params))))
        _attach(self, params)

    def forward(self, *args: Any) -> Any:
        if len(args) != len(self.inputs):
            names = [s.name for s in self.inputs]
            raise TypeError(f"the ONNX model takes {len(names)} input(s) {names}, got {len(args)}")
        env: dict[str, Any] = dict(self._consts)
        env.update(self.onnx_params)
        for spec, value in zip(self.inputs, args):
            env[spec.name] = self._input(spec, value)
        for view, ins, outs, scope in self._nodes:
            values = [env[n] if n else None for n in ins]
            result = self._run(view, values, scope)
            if not isinstance(result, tuple):
                result = (result,)
            for name, value in zip(outs, result):
                if name:
                    env[name] = value
        results = tuple(
            v if isinstance(v, Tensor) else Tensor(np.asarray(v))
            for v in (env[n] for n in self.output_names)
        )
        return results[0] if len(results) == 1 else results

    @staticmethod
    def _run(view: NodeView, values: list[Any], scope: str | None) -> Any:
        try:
            if scope is None:
                return LOADERS[view.op_type](view, *values)
            with name_scope(scope):
                return LOADERS[view.op_type](view, *values)
        except OnnxError:
            raise
        except (ValueError, TypeError, IndexError, KeyError) as e:
            raise OnnxError(f"{view.where()}: {type(e).__name__}: {e}") from e

    @staticmethod
    def _input(spec: InputSpec, value: Any) -> Tensor:
        if isinstance(value, (Tensor, np.ndarray)):
            if value.dtype != spec.dtype:  # no silent casts: ONNX inputs have one dtype
                raise TypeError(
                    f"ONNX model input '{spec.name}' expects dtype {spec.dtype}, got "
                    f"{value.dtype} (convert it with .astype(np.{spec.dtype}))"
                )
            t = value if isinstance(value, Tensor) else Tensor(value)
        else:  # lists and scalars take the declared dtype
            t = Tensor(np.asarray(value, dtype=spec.dtype))
        ok = spec.shape is None or (
            len(t.shape) == len(spec.shape)
            and all(not isinstance(d, int) or d == n for d, n in zip(spec.shape, t.shape))
        )
        if not ok and spec.shape is not None:
            shown = tuple(d if isinstance(d, int) else (d or "?") for d in spec.shape)
            raise ValueError(
                f"ONNX model input '{spec.name}' expects shape {shown}, got {tuple(t.shape)}"
            )
        if t.name is None and not isinstance(value, Tensor):
            t.name = spec.name
        return t

    def extra_repr(self) -> str:
        ins = ", ".join(f"{s.name}{list(s.shape or ['...'])}" for s in self.inputs)
        return f"inputs=[{ins}], nodes={len(self._nodes)}, opset={self.opset}"


def load(path: Any) -> OnnxModule:
    """Load an ONNX model (a path, bytes or ``onnx.ModelProto``) as an ``mg.nn.Module``.

    Raises :class:`~minigrad.onnx.OnnxFormatError` for a malformed file and
    :class:`~minigrad.onnx.UnsupportedOnnxOpError` listing every op it cannot run.

    >>> import minigrad as mg
    >>> model = mg.onnx.load("model.onnx")                  # doctest: +SKIP
    >>> y = model(mg.randn(1, 1, 8, 8))                     # doctest: +SKIP
    >>> [name for name, _ in model.named_parameters()]      # doctest: +SKIP
    ['conv1.weight', 'conv1.bias', ...]
    """
    return OnnxModule(read_model(path))
