"""minigrad: a small, inspectable reverse-mode autodiff framework on numpy.

>>> import minigrad as mg
>>> x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True, name="x")
>>> (x * x).sum().backward()
>>> x.grad.data
array([2., 4., 6.], dtype=float32)
"""

# No `from __future__ import annotations` and typing under a private name, so no typing-only
# name (annotations, TYPE_CHECKING) is an attribute of minigrad; __dir__ below lists the API.
import typing as _typing

from . import functional as _functional
from .autograd import detect_anomaly, enable_grad, grad, is_grad_enabled, name_scope, no_grad
from .creation import (
    arange,
    full,
    manual_seed,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from .functional import (
    abs,
    astype,
    clip,
    concatenate,
    exp,
    expand,
    flatten,
    log,
    matmul,
    maximum,
    mean,
    minimum,
    pad,
    reshape,
    sqrt,
    stack,
    sum,
    sum_to,
    transpose,
    where,
)
from .op import Context, Op
from .tensor import Tensor, as_tensor

if _typing.TYPE_CHECKING:  # what the lazy names below are, for type checkers
    from . import data, graph, nn, onnx, optim, plugins, serialization, testing  # noqa: F401
    from .plugins import OpsNamespace, register_op
    from .serialization import load, save
    from .threads import get_num_threads, set_num_threads

    ops: OpsNamespace

max = _functional.max
min = _functional.min

# Submodules and names loaded on first use, so `import minigrad` stays light and imports no
# plugin: mg.ops, mg.register_op, mg.plugins, mg.graph, mg.nn, mg.optim, mg.data, mg.save ...
_LAZY = {
    "ops": ("minigrad.plugins", "ops"),
    "register_op": ("minigrad.plugins", "register_op"),
    "save": ("minigrad.serialization", "save"),
    "load": ("minigrad.serialization", "load"),
    "set_num_threads": ("minigrad.threads", "set_num_threads"),
    "get_num_threads": ("minigrad.threads", "get_num_threads"),
}
_SUBMODULES = {"plugins", "graph", "nn", "optim", "data", "testing", "serialization", "onnx"}


def __getattr__(name: str) -> object:
    import importlib

    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"minigrad.{name}")
    else:
        raise AttributeError(f"module 'minigrad' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # the public names, the lazy ones included, without importing them (tab completion)
    return sorted({*__all__, "__version__"})


__version__ = "0.1.0"

__all__ = [
    "Context",
    "Op",
    "Tensor",
    "abs",
    "arange",
    "as_tensor",
    "astype",
    "clip",
    "concatenate",
    "data",
    "detect_anomaly",
    "enable_grad",
    "exp",
    "expand",
    "flatten",
    "full",
    "get_num_threads",
    "grad",
    "graph",
    "is_grad_enabled",
    "load",
    "log",
    "manual_seed",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "name_scope",
    "no_grad",
    "nn",
    "onnx",
    "ones",
    "ones_like",
    "ops",
    "optim",
    "pad",
    "plugins",
    "rand",
    "randn",
    "register_op",
    "reshape",
    "save",
    "set_num_threads",
    "sqrt",
    "stack",
    "sum",
    "sum_to",
    "tensor",
    "testing",
    "transpose",
    "where",
    "zeros",
    "zeros_like",
]
