"""Smooth activations: gelu (exact and tanh), silu and softplus (PyTorch's definitions).

Each works on any shape; float16, float32 or float64 in, the same dtype out (integer, bool and
complex inputs raise ``TypeError`` naming the op, see ``layers_plugins._dtypes``). Every
backward is written with minigrad operations (``mg.ops.sigmoid``, ``mg.ops.tanh``, core ops,
and for the exact gelu the normal CDF below), so it can be differentiated again.

numpy has no ``erf``: the exact gelu evaluates ``math.erf`` elementwise (correctly rounded in
float64, about 50 ns an element), which is the price of matching PyTorch to the last digits.
"""

from __future__ import annotations

import math

import numpy as np

import minigrad as mg
from minigrad import Context, Op, Tensor, as_tensor, exp, where

from ._args import Samples
from ._dtypes import check_float
from .activations_piecewise import real_attr

__all__ = ["GELU", "NormalCDF", "SiLU", "Softplus"]

_erf = np.frompyfunc(math.erf, 1, 1)
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_K = math.sqrt(2.0 / math.pi)
_TANH_C = 0.044715
_APPROXIMATIONS = ("none", "tanh")


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    """Phi(x) = (1 + erf(x / sqrt(2))) / 2 in x's dtype (computed in float64)."""
    e = np.asarray(_erf(np.asarray(x, dtype=np.float64) * _SQRT_HALF), dtype=np.float64)
    return np.asarray(0.5 * (1.0 + e), dtype=x.dtype)


def _normal_pdf(x: Tensor) -> Tensor:
    return exp(x * x * -0.5) * _INV_SQRT_2PI


def _above(z: np.ndarray, threshold: float) -> np.ndarray:
    """``z > threshold`` without casting a threshold beyond z's float range (no overflow)."""
    if threshold >= float(np.finfo(z.dtype).max):
        return np.zeros(z.shape, dtype=bool)
    return np.asarray(z > threshold)


class NormalCDF(Op):
    """The standard normal CDF ``Phi(x)``: the gate of the exact gelu, used by its backward.

    A companion op: the exact gelu's gradient ``Phi(x) + x * phi(x)`` calls it, so that the
    gradient is itself differentiable (``dPhi/dx = phi(x)``, the normal density).

    >>> import minigrad as mg
    >>> mg.ops.normal_cdf(mg.tensor([0.0])).data
    array([0.5], dtype=float32)
    """

    name = "normal_cdf"
    formula = "dx = dy * exp(-x**2 / 2) / sqrt(2 pi)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        check_float("normal_cdf", "x", x)
        ctx.save_for_backward(x)
        return _normal_cdf(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * _normal_pdf(x)

    @staticmethod
    def sample_inputs() -> Samples:
        """Float64 inputs of both signs."""
        return [((np.array([[-2.5, -0.4, 0.3], [0.8, 1.7, -1.1]]),), {})]


class GELU(Op):
    """Gaussian error linear unit: ``x * Phi(x)``, ``Phi`` the standard normal CDF.

    Parameters
    ----------
    x : Tensor
        Any shape; float16, float32 or float64 (kept in the output).
    approximate : {"none", "tanh"}, default "none"
        ``"tanh"`` uses ``0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x**3)))``.

    Notes
    -----
    Exact: ``dx = dy * (Phi(x) + x * phi(x))`` with ``phi`` the normal density. With
    ``"tanh"``: ``dx = dy * (0.5 (1 + t) + 0.5 x (1 - t**2) k (1 + 3 c x**2))``.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.ops.gelu(mg.tensor([-1.0, 0.0, 1.0])).data
    array([-0.15865526,  0.        ,  0.8413448 ], dtype=float32)
    >>> mg.ops.gelu(mg.tensor([1.0]), approximate="tanh").data
    array([0.841192], dtype=float32)
    """

    name = "gelu"
    formula = "dx = dy * (Phi(x) + x * phi(x)), Phi/phi = normal CDF/density (tanh form if asked)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, approximate: str = "none") -> np.ndarray:
        check_float("gelu", "x", x)
        if approximate not in _APPROXIMATIONS:
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        ctx.save_for_backward(x)
        if approximate == "none":
            return np.asarray(x * _normal_cdf(x))
        t = x.dtype.type
        inner = t(_TANH_K) * (x + t(_TANH_C) * x * x * x)
        return np.asarray(t(0.5) * x * (t(1) + np.tanh(inner)))

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if ctx.attrs["approximate"] == "none":
            return grad * (mg.ops.normal_cdf(x) + x * _normal_pdf(x))
        x2 = x * x
        t = mg.ops.tanh((x + x2 * x * _TANH_C) * _TANH_K)
        slope = (x2 * (3 * _TANH_C) + 1) * _TANH_K
        return grad * ((t + 1) * 0.5 + x * (1 - t * t) * slope * 0.5)

    @staticmethod
    def sample_inputs() -> Samples:
        """Float64 inputs of both signs; exact and tanh."""
        x = np.array([[-2.5, -0.4, 0.3], [0.8, 1.7, -1.1]])
        return [((x,), {}), ((x,), {"approximate": "tanh"})]


class SiLU(Op):
    """Sigmoid linear unit (swish): ``x * sigmoid(x)``.

    Notes
    -----
    ``dx = dy * s * (1 + x * (1 - s))`` with ``s = sigmoid(x)`` from ``mg.ops.sigmoid``.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.ops.silu(mg.tensor([-1000.0, 0.0, 1000.0])).data
    array([  -0.,    0., 1000.], dtype=float32)
    """

    name = "silu"
    formula = "dx = dy * s * (1 + x * (1 - s)), s = sigmoid(x)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        check_float("silu", "x", x)
        ctx.save_for_backward(x)
        one = x.dtype.type(1)
        with np.errstate(under="ignore"):
            z = np.exp(-np.abs(x))  # never overflows
            s = np.where(x >= 0, one / (one + z), z / (one + z))
        return np.asarray(x * s)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        s = mg.ops.sigmoid(x)
        return grad * s * (x * (1 - s) + 1)

    @staticmethod
    def sample_inputs() -> Samples:
        """Float64 inputs of both signs."""
        return [((np.array([[-3.0, -0.5, 0.2], [1.5, 4.0, -1.25]]),), {})]


class Softplus(Op):
    """Softplus: ``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``.

    Parameters
    ----------
    x : Tensor
        Any shape; float16, float32 or float64 (kept in the output).
    beta : float, default 1.0
        Sharpness; must be non-zero.
    threshold : float, default 20.0
        Above ``beta * x > threshold`` the op is linear (as PyTorch, for stability).

    Notes
    -----
    ``dx = dy * sigmoid(beta * x)``, and ``dy`` in the linear region.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.ops.softplus(mg.tensor([-1000.0, 0.0, 30.0])).data
    array([ 0.       ,  0.6931472, 30.       ], dtype=float32)
    """

    name = "softplus"
    formula = "dx = dy * sigmoid(beta * x) (dy where beta * x > threshold)"

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, *, beta: float = 1.0, threshold: float = 20.0
    ) -> np.ndarray:
        check_float("softplus", "x", x)
        b = real_attr("softplus", "beta", beta)
        real_attr("softplus", "threshold", threshold)
        if b == 0:
            raise ValueError("softplus: beta must be non-zero, got 0")
        ctx.save_for_backward(x)
        t = x.dtype.type
        z = x * t(b)
        with np.errstate(under="ignore"):
            # log(1 + e^z) = max(z, 0) + log1p(e^-|z|): finite for any z
            soft = (np.maximum(z, t(0)) + np.log1p(np.exp(-np.abs(z)))) / t(b)
        return np.asarray(np.where(_above(z, threshold), x, soft))

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        beta, threshold = ctx.attrs["beta"], ctx.attrs["threshold"]
        linear = _above(x.data * beta, threshold)
        s = mg.ops.sigmoid(x * beta)
        return grad * where(linear, as_tensor(np.ones((), dtype=x.dtype)), s)

    @staticmethod
    def sample_inputs() -> Samples:
        """Float64 inputs; the defaults, and a beta and threshold that make the linear part."""
        x = np.array([[-3.0, -0.5, 0.2], [1.5, 4.0, -1.25]])
        return [((x,), {}), ((x,), {"beta": 2.0, "threshold": 5.0})]
