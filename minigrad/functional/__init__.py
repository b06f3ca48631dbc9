"""The built-in primitives, by family, as functions on Tensors (and the Op classes behind them).

- :mod:`.arithmetic`: add sub mul div neg pow exp log sqrt abs matmul
- :mod:`.select`: comparisons, clip, maximum, minimum, where
- :mod:`.reductions`: sum mean max min
- :mod:`.shape`: reshape transpose expand sum_to astype flatten concatenate stack pad
- :mod:`.indexing`: getitem
- :mod:`.positions`: argmax argmin (no gradient), squeeze unsqueeze (reshapes)

Imports run one way: these modules import the engine (``autograd``, ``op``, ``tensor``), never
the other way round at import time; ``Tensor``'s operators reach them through
:data:`minigrad.tensor.F` on first use.

>>> import minigrad as mg
>>> from minigrad import functional as F
>>> F.mul(mg.tensor([1.0, 2.0]), 3.0).data
array([3., 6.], dtype=float32)
"""

from __future__ import annotations

from .arithmetic import (
    Abs,
    Add,
    Div,
    Exp,
    Log,
    MatMul,
    Mul,
    Neg,
    Pow,
    PowScalar,
    Sqrt,
    Sub,
    abs,
    add,
    div,
    exp,
    log,
    matmul,
    mul,
    neg,
    pow,
    sqrt,
    sub,
)
from .indexing import GetItem, IndexAdd, getitem
from .positions import argmax, argmin, squeeze, unsqueeze
from .reductions import Max, Mean, Min, Sum, max, mean, min, sum
from .select import (
    Clip,
    Maximum,
    Minimum,
    Where,
    clip,
    eq,
    ge,
    gt,
    le,
    lt,
    maximum,
    minimum,
    ne,
    where,
)
from .shape import (
    AsType,
    Concatenate,
    Expand,
    Pad,
    Reshape,
    Stack,
    SumTo,
    Transpose,
    astype,
    concatenate,
    expand,
    flatten,
    pad,
    reshape,
    stack,
    sum_to,
    transpose,
)

#: every built-in Op class (their names are reserved: no plugin may use them)
CORE_OPS = (
    Add, Sub, Mul, Div, Neg, Pow, PowScalar, Exp, Log, Sqrt, Abs, MatMul,
    Clip, Maximum, Minimum, Where, Sum, Mean, Max, Min,
    Reshape, Transpose, Expand, SumTo, AsType, Concatenate, Stack, Pad, GetItem, IndexAdd,
)  # fmt: skip

__all__ = [
    "CORE_OPS",
    "abs", "add", "argmax", "argmin", "astype", "clip", "concatenate", "div", "eq", "exp",
    "expand", "flatten", "ge", "getitem", "gt", "le", "log", "lt", "matmul", "max", "maximum",
    "mean", "min", "minimum", "mul", "ne", "neg", "pad", "pow", "reshape", "sqrt", "squeeze",
    "stack", "sub", "sum", "sum_to", "transpose", "unsqueeze", "where",
]  # fmt: skip
