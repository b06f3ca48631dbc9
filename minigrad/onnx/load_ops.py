"""ONNX ops run with minigrad ops: elementwise math, shapes, indexing and reductions.

Each handler takes ``(node, *inputs)`` and returns one value (or a tuple for several
outputs). A value is a :class:`minigrad.Tensor` (differentiable) or a plain numpy array (a
constant, such as a shape computed by ``Shape``/``Gather``/``Concat``): ops whose inputs are all
constants are computed with numpy, so shape arithmetic folds away and never enters the graph.
The layer ops (Conv, pooling, Gemm, BatchNormalization...) live in :mod:`.load_layers`.

A model that needs an ONNX op missing here can add it with :func:`register_loader`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import minigrad as F
from minigrad import Tensor

from .errors import OnnxError

__all__ = ["LOADERS", "NodeView", "register_loader"]

Value = Any  # Tensor | np.ndarray | None
Loader = Callable[..., Any]
LOADERS: dict[str, Loader] = {}


@dataclass
class NodeView:
    """What a handler may read of one ONNX node: its identity, attributes and the opset."""

    name: str
    op_type: str
    attrs: dict[str, Any] = field(default_factory=dict)
    opset: int = 17
    n_outputs: int = 1

    def where(self) -> str:
        return f"ONNX node '{self.name}' ({self.op_type})"

    def fail(self, message: str) -> OnnxError:
        return OnnxError(f"{self.where()}: {message}")


def register_loader(op_type: str, fn: Loader, override: bool = False) -> None:
    """Run ONNX nodes of ``op_type`` with ``fn(node, *inputs)`` when loading a model.

    ``node`` is a :class:`NodeView` (``attrs``, ``opset``, ``name``); inputs are Tensors or
    numpy arrays (None for an omitted optional input); return a value, or a tuple of them.

    >>> import minigrad as mg
    >>> mg.onnx.register_loader("Softsign", lambda node, x: x / (mg.abs(x) + 1.0), override=True)
    """
    if op_type in LOADERS and not override:
        raise ValueError(f"register_loader: '{op_type}' already has a loader (pass override=True)")
    LOADERS[op_type] = fn


def loader(*names: str) -> Callable[[Loader], Loader]:
    def deco(fn: Loader) -> Loader:
        for n in names:
            LOADERS[n] = fn
        return fn

    return deco


def is_static(v: Value) -> bool:
    return isinstance(v, np.ndarray)


def as_mg(v: Value) -> Tensor:
    """A value as a Tensor (constants become constant Tensors of their own dtype)."""
    return v if isinstance(v, Tensor) else Tensor(np.asarray(v))


def static(v: Value, node: NodeView, what: str) -> np.ndarray:
    """A value needed as a constant (a shape, axes, pads...)."""
    if v is None:
        raise node.fail(f"input '{what}' is required")
    return np.asarray(v.data if isinstance(v, Tensor) else v)


def ints(v: Value, node: NodeView, what: str) -> list[int]:
    return [int(i) for i in static(v, node, what).reshape(-1)]


# --------------------------------------------------------------------------- elementwise

_BINARY: dict[str, tuple[Any, Any]] = {
    "Add": (np.add, lambda a, b: a + b),
    "Sub": (np.subtract, lambda a, b: a - b),
    "Mul": (np.multiply, lambda a, b: a * b),
    "Div": (None, lambda a, b: a / b),
    "Pow": (np.power, lambda a, b: a**b),  # run by _pow, which keeps the base type
}


def _is_int(v: Value) -> bool:
    return np.dtype(v.dtype).kind in "iub"


def _int_divide(node: NodeView, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer division truncating toward zero (C's ``/``, as ONNX Runtime computes it)."""
    if np.any(b == 0):
        raise node.fail("integer division by zero")
    with np.errstate(over="ignore"):  # INT_MIN / -1 wraps around, as in C
        q = np.floor_divide(a, b)
        # floor rounds toward -inf; move the inexact negative quotients back toward zero
        q = q + ((q * b != a) & ((a < 0) != (b < 0))).astype(q.dtype)
    return q.astype(a.dtype)


def _int_power(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """An integer base to any exponent: computed in float64, truncated to the base's type."""
    with np.errstate(all="ignore"):
        return np.trunc(np.power(a.astype(np.float64), b.astype(np.float64))).astype(a.dtype)


@loader(*_BINARY)
def _binary(node: NodeView, a: Value, b: Value) -> Value:
    np_fn, mg_fn = _BINARY[node.op_type]
    if node.op_type == "Div" and _is_int(a) and _is_int(b):
        # integers carry no gradient: a constant, as ONNX Runtime computes it
        return _int_divide(node, static(a, node, "A"), static(b, node, "B"))
    if node.op_type == "Pow":
        return _pow(node, a, b)
    if is_static(a) and is_static(b):
        return (np_fn or np.divide)(a, b).astype(a.dtype)
    return mg_fn(as_mg(a), as_mg(b))


def _pow(node: NodeView, a: Value, b: Value) -> Value:
    """ONNX Pow(T, T1) -> T: the result always has the base's type."""
    if _is_int(a):
        return _int_power(static(a, node, "X"), static(b, node, "Y"))
    if is_static(a) and is_static(b):
        return np.power(a, b.astype(a.dtype))
    if is_static(b) and b.size == 1:
        out = as_mg(a) ** float(b.reshape(()))
    else:
        exponent = b if is_static(b) or b.dtype == a.dtype else b.astype(a.dtype)
        if is_static(exponent):
            exponent = Tensor(np.asarray(exponent, dtype=a.dtype))
        out = as_mg(a) ** exponent
    return out if out.dtype == a.dtype else out.astype(a.dtype)


_UNARY_NP = {
    "Neg": np.negative,
    "Exp": np.exp,
    "Log": np.log,
    "Sqrt": np.sqrt,
    "Abs": np.abs,
    "Reciprocal": np.reciprocal,
}
_UNARY_MG = {
    "Neg": lambda x: -x,
    "Exp": F.exp,
    "Log": F.log,
    "Sqrt": F.sqrt,
    "Abs": F.abs,
    "Reciprocal": lambda x: 1.0 / x,
}


@loader(*_UNARY_NP)
def _unary(node: NodeView, x: Value) -> Value:
    if is_static(x):
        return _UNARY_NP[node.op_type](x)
    return _UNARY_MG[node.op_type](x)


@loader("Identity", "Dropout")
def _identity(node: NodeView, x: Value, ratio: Value = None, training: Value = None) -> Value:
    if node.op_type == "Dropout":
        _check_dropout_inference(node, ratio, training)
        if node.n_outputs > 1:  # the mask: everything kept
            return x, np.ones(x.shape, dtype=bool)
    return x


def _check_dropout_inference(node: NodeView, ratio: Value, training: Value) -> None:
    """Dropout runs as identity only in inference mode (or with ratio 0, where ONNX Runtime
    keeps everything too); training mode is refused, as for BatchNormalization."""
    if training is None or not bool(static(training, node, "training_mode").reshape(())):
        return
    p = 0.5 if ratio is None else float(static(ratio, node, "ratio").reshape(()))
    if p != 0.0:
        raise node.fail(
            f"training_mode=True with ratio={p:g} is not supported (inference only: random "
            "masks are not run from ONNX files); export the model in eval mode"
        )


@loader("Clip")
def _clip(node: NodeView, x: Value, lo: Value = None, hi: Value = None) -> Value:
    if node.opset < 11:  # bounds were attributes
        lo, hi = node.attrs.get("min"), node.attrs.get("max")
    dtype = np.dtype(x.dtype)
    lo = None if lo is None else static(lo, node, "min").reshape(()).astype(dtype).item()
    hi = None if hi is None else static(hi, node, "max").reshape(()).astype(dtype).item()
    if lo is None and hi is None:  # no bounds: ONNX Runtime returns the input
        return x
    if lo is not None and hi is not None and lo > hi:
        lo = hi  # min(max(x, lo), hi) is hi everywhere, as ONNX Runtime computes it
    if is_static(x):
        return np.clip(x, lo, hi)
    return F.clip(x, lo, hi)


@loader("Max", "Min")
def _extremum(node: NodeView, *xs: Value) -> Value:
    if all(is_static(x) for x in xs):
        fn = np.maximum if node.op_type == "Max" else np.minimum
        out = xs[0]
        for x in xs[1:]:
            out = fn(out, x)
        return out
    mg_fn = F.maximum if node.op_type == "Max" else F.minimum
    out = as_mg(xs[0])
    for x in xs[1:]:
        out = mg_fn(out, as_mg(x))
    return out


@loader("Where")
def _where(node: NodeView, cond: Value, a: Value, b: Value) -> Value:
    c = static(cond, node, "condition").astype(bool)
    if is_static(a) and is_static(b):
        return np.where(c, a, b)
    return F.where(Tensor(c), as_mg(a), as_mg(b))


_COMPARE = {
    "Equal": np.equal,
    "Less": np.less,
    "LessOrEqual": np.less_equal,
    "Greater": np.greater,
    "GreaterOrEqual": np.greater_equal,
    "And": np.logical_and,
    "Or": np.logical_or,
}


@loader(*_COMPARE)
def _compare(node: NodeView, a: Value, b: Value) -> np.ndarray:
    # comparisons carry no gradient: their results are constants
    return _COMPARE[node.op_type](static(a, node, "A"), static(b, node, "B"))


@loader("Not")
def _not(node: NodeView, x: Value) -> np.ndarray:
    return np.logical_not(static(x, node, "X"))


# --------------------------------------------------------------------------- constants, casts

_ONNX_TO_NP: dict[int, Any] = {}


def np_dtype(elem_type: int) -> np.dtype:
    if not _ONNX_TO_NP:
        from onnx import helper

        for t in range(1, 17):
            with contextlib.suppress(KeyError, ValueError, TypeError):
                _ONNX_TO_NP[t] = helper.tensor_dtype_to_np_dtype(t)
    if elem_type not in _ONNX_TO_NP:
        raise OnnxError(f"ONNX element type {elem_type} has no numpy equivalent here")
    return np.dtype(_ONNX_TO_NP[elem_type])


@loader("Constant")
def _constant(node: NodeView) -> np.ndarray:
    a = node.attrs
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32)):
        if key in a:
            return np.asarray(a[key], dtype=dtype)
    for key in ("value_int", "value_ints"):
        if key in a:
            return np.asarray(a[key], dtype=np.int64)
    if "value" in a:
        return np.asarray(a["value"])
    raise node.fail(
        f"needs a 'value' attribute (sparse and string constants are not supported); "
        f"got {sorted(a)}"
    )


@loader("Cast")
def _cast(node: NodeView, x: Value) -> Value:
    dtype = np_dtype(int(node.attrs["to"]))
    if isinstance(x, Tensor) and dtype.kind == "f" and x.dtype.kind == "f":
        return x if x.dtype == dtype else x.astype(dtype)
    return static(x, node, "input").astype(dtype)


@loader("Shape")
def _shape(node: NodeView, x: Value) -> np.ndarray:
    shape = np.asarray(x.shape, dtype=np.int64)
    start, end = node.attrs.get("start", 0), node.attrs.get("end")
    return shape[start:end]


@loader("Size")
def _size(node: NodeView, x: Value) -> np.ndarray:
    return np.asarray(int(np.prod(x.shape)), dtype=np.int64)


@loader("ConstantOfShape")
def _constant_of_shape(node: NodeView, shape: Value) -> np.ndarray:
    value = np.asarray(node.attrs.get("value", np.zeros(1, np.float32))).reshape(-1)
    return np.full(ints(shape, node, "shape"), value[0], dtype=value.dtype)


@loader("Range")
def _range(node: NodeView, start: Value, limit: Value, delta: Value) -> np.ndarray:
    s = static(start, node, "start")
    # numpy scalars (not Python numbers), so that each keeps its dtype
    bounds: list[Any] = [s[()], static(limit, node, "limit")[()], static(delta, node, "delta")[()]]
    return np.arange(*bounds).astype(s.dtype)
