"""Kept for compatibility: the built-in primitives now live in :mod:`minigrad.functional`.

Older code imports ``minigrad.core_ops`` (functions such as ``exp`` and the Op classes such
as ``Mul``); everything it offered is re-exported here unchanged. New code uses the public
names ``mg.exp``, ``mg.log``, ``mg.clip``, ``mg.astype`` ... or :mod:`minigrad.functional`.

>>> from minigrad.core_ops import Mul, exp
>>> Mul.name, exp.__module__
('mul', 'minigrad.functional.arithmetic')
"""

from __future__ import annotations

from .functional import *  # noqa: F403
from .functional import (  # noqa: F401
    CORE_OPS,
    Abs,
    Add,
    AsType,
    Clip,
    Concatenate,
    Div,
    Exp,
    Expand,
    GetItem,
    IndexAdd,
    Log,
    MatMul,
    Max,
    Maximum,
    Mean,
    Min,
    Minimum,
    Mul,
    Neg,
    Pad,
    Pow,
    PowScalar,
    Reshape,
    Sqrt,
    Stack,
    Sub,
    Sum,
    SumTo,
    Transpose,
    Where,
)
from .functional import __all__ as _all

__all__ = list(_all)
