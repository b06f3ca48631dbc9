"""Piecewise activations: leaky_relu, elu, hardswish, hardsigmoid (PyTorch's definitions).

Each works on any shape; float16, float32 or float64 in, the same dtype out (integer, bool and
complex inputs raise ``TypeError`` naming the op, see ``layers_plugins._dtypes``). Every
backward is written with minigrad operations, so it can be differentiated again
(``create_graph=True``). At the kinks the derivative is PyTorch's: the left piece at 0 for
leaky_relu and elu, ``x/3 + 1/2`` on the closed interval [-3, 3] for hardswish and 0 at -3
and 3 for hardsigmoid.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from minigrad import Context, Op, Tensor, as_tensor, exp, where

from ._args import Samples
from ._dtypes import check_float

__all__ = ["ELU", "Hardsigmoid", "Hardswish", "LeakyReLU", "real_attr"]


def real_attr(op: str, name: str, value: Any) -> float:
    """A finite real attribute as a float, or a ``TypeError``/``ValueError`` naming the op.

    >>> real_attr("elu", "alpha", 2)
    2.0
    >>> real_attr("elu", "alpha", "big")
    Traceback (most recent call last):
    ...
    TypeError: elu: alpha must be a real number, got 'big'
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a real number, got {value!r}")
    if not math.isfinite(float(value)):
        raise ValueError(f"{op}: {name} must be finite, got {value!r}")
    return float(value)


def _const(mask: Any, dtype: np.dtype) -> Tensor:
    return as_tensor(np.asarray(mask, dtype=dtype))


class LeakyReLU(Op):
    """Leaky rectifier: ``x`` where ``x > 0``, else ``negative_slope * x``.

    Parameters
    ----------
    x : Tensor
        Any shape; float16, float32 or float64 (kept in the output).
    negative_slope : float, default 0.01
        The slope for ``x <= 0``.

    Notes
    -----
    The derivative is 1 for ``x > 0`` and ``negative_slope`` for ``x <= 0`` (at 0 too, as
    PyTorch); its second derivative is 0.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.ops.leaky_relu(mg.tensor([-2.0, 0.0, 3.0]), negative_slope=0.5).data
    array([-1.,  0.,  3.], dtype=float32)
    """

    name = "leaky_relu"
    formula = "dx = dy * (1 if x > 0 else negative_slope)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, negative_slope: float = 0.01) -> np.ndarray:
        check_float("leaky_relu", "x", x)
        slope = x.dtype.type(real_attr("leaky_relu", "negative_slope", negative_slope))
        ctx.save_for_backward(x)
        return np.asarray(np.where(x > 0, x, x * slope))

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_arrays
        slope = ctx.attrs["negative_slope"]
        return grad * _const(np.where(x > 0, 1.0, slope), grad.dtype)

    @staticmethod
    def sample_inputs() -> Samples:
        """Float64 inputs away from the kink; the default and a large slope."""
        x = np.array([[-1.5, -0.4, 0.3], [0.8, 2.1, -0.7]])
        return [((x,), {}), ((x,), {"negative_slope": 0.2})]


class ELU(Op):
    """Exponential linear unit: ``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Parameters
    ----------
    x : Tensor
        Any shape; float16, float32 or float64 (kept in the output).
    alpha : float, default 1.0
        The value the negative side tends to is ``-alpha``.

    Notes
    -----
    The derivative is 1 for ``x > 0`` and ``alpha * exp(x)`` for ``x <= 0`` (PyTorch's choice
    at 0). ``exp`` is only taken of the non-positive part, so large inputs never overflow.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.ops.elu(mg.tensor([-1000.0, 0.0, 2.0])).data
    array([-1.,  0.,  2.], dtype=float32)
    """

    name = "elu"
    formula = "dx = dy * (1 if x > 0 else alpha * exp(x))"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, alpha: float = 1.0) -> np.ndarray:
        check_float("elu", "x", x)
        a = x.dtype.type(real_attr("elu", "alpha", alpha))
        ctx.save_for_backward(x)
        with np.errstate(under="ignore"):
            neg = a * np.expm1(np.minimum(x, x.dtype.type(0)))
        return np.asarray(np.where(x > 0, x, neg))

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        pos = x.data > 0
        # exp of the non-positive part only; where() sends no gradient to the masked entries
        e = exp(where(pos, _const(0.0, x.dtype), x))
        return grad * where(pos, _const(1.0, x.dtype), ctx.attrs["alpha"] * e)

    @staticmethod
    def sample_inputs() -> Samples:
        """Float64 inputs of both signs; the default and another alpha."""
        x = np.array([[-1.5, -0.4, 0.3], [0.8, 2.1, -3.0]])
        return [((x,), {}), ((x,), {"alpha": 0.5})]


class Hardswish(Op):
    """Hard swish (MobileNetV3): ``x * relu6(x + 3) / 6``.

    0 for ``x <= -3``, ``x`` for ``x >= 3`` and ``x * (x + 3) / 6`` in between.

    Notes
    -----
    The derivative is 0 for ``x < -3``, ``x / 3 + 1/2`` for ``-3 <= x <= 3`` and 1 above, as
    PyTorch computes it.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.ops.hardswish(mg.tensor([-4.0, 0.0, 1.0, 4.0])).data
    array([-0.       ,  0.       ,  0.6666667,  4.       ], dtype=float32)
    """

    name = "hardswish"
    formula = "dx = dy * (0 if x < -3 else x / 3 + 1/2 if x <= 3 else 1)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        check_float("hardswish", "x", x)
        ctx.save_for_backward(x)
        t = x.dtype.type
        return np.asarray(x * (np.clip(x + t(3), t(0), t(6)) / t(6)))

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        low, high = x.data < -3, x.data > 3
        inner = where(low | high, _const(0.0, x.dtype), x) / 3 + 0.5
        return grad * where(low, _const(0.0, x.dtype), where(high, _const(1.0, x.dtype), inner))

    @staticmethod
    def sample_inputs() -> Samples:
        """Float64 inputs in all three pieces, away from -3 and 3."""
        return [((np.array([[-4.5, -2.0, -0.3], [0.7, 2.5, 3.8]]),), {})]


class Hardsigmoid(Op):
    """Hard sigmoid: ``relu6(x + 3) / 6``, i.e. 0 below -3, 1 above 3, linear between.

    Notes
    -----
    The derivative is 1/6 for ``-3 < x < 3`` and 0 elsewhere (at -3 and 3 too, as PyTorch).

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.ops.hardsigmoid(mg.tensor([-4.0, 0.0, 1.5, 4.0])).data
    array([0.  , 0.5 , 0.75, 1.  ], dtype=float32)
    """

    name = "hardsigmoid"
    formula = "dx = dy / 6 * (-3 < x < 3)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        check_float("hardsigmoid", "x", x)
        ctx.save_for_backward(x)
        t = x.dtype.type
        return np.asarray(np.clip(x + t(3), t(0), t(6)) / t(6))

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_arrays
        return grad * _const(((x > -3) & (x < 3)) / 6.0, grad.dtype)

    @staticmethod
    def sample_inputs() -> Samples:
        """Float64 inputs in all three pieces, away from -3 and 3."""
        return [((np.array([[-4.5, -2.0, -0.3], [0.7, 2.5, 3.8]]),), {})]
