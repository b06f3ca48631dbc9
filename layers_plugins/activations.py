"""Elementwise activations: relu, sigmoid, tanh.

Each works on any shape (NCHW or not). Dtypes: float16, float32 or float64 in, the same dtype
out; integer, bool and complex inputs raise ``TypeError`` naming the op and the dtype (see
``layers_plugins._dtypes``). Every backward is written with minigrad operations, so it can be
drawn and differentiated again (``create_graph=True``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import Context, Op, Tensor, as_tensor

from ._dtypes import check_float, float_or_promoted

__all__ = ["ReLU", "Sigmoid", "Tanh"]


class ReLU(Op):
    """Rectified linear unit, ``relu(x) = max(x, 0)``, elementwise.

    Parameters
    ----------
    x : Tensor
        Any shape; float16, float32 or float64. The output has the same shape and dtype.

    Returns
    -------
    Tensor
        ``x`` where ``x > 0``, else 0.

    Notes
    -----
    The derivative is 1 where ``x > 0`` and 0 elsewhere, **including at exactly 0**
    (the subgradient PyTorch and most frameworks pick). At NaN (whose output is NaN) it is
    1, as in PyTorch: the gradient is held back only where ``x <= 0``. The backward pass
    multiplies the incoming gradient by that constant 0/1 mask, so it is itself
    differentiable (its second derivative is 0).

    Examples
    --------
    >>> import minigrad as mg
    >>> x = mg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    >>> y = mg.ops.relu(x)
    >>> y.data
    array([0., 0., 2.], dtype=float32)
    >>> y.sum().backward(); x.grad.data
    array([0., 0., 1.], dtype=float32)
    """

    name = "relu"
    formula = "dx = dy * (x > 0)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        check_float("relu", "x", x)
        ctx.save_for_backward(x)
        # asarray: a ufunc on a 0-d array returns a numpy scalar, not an array
        return np.asarray(np.maximum(x, x.dtype.type(0)))

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_arrays
        # relu'(0) = 0: the gradient stops where x <= 0, and passes elsewhere, NaN included
        # as in PyTorch (a bool mask: the product has grad's dtype, without a cast first)
        return grad * as_tensor(~(x <= 0))

    @staticmethod
    def sample_inputs() -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        """Small float64 inputs away from the kink at 0."""
        x = np.array([[-1.5, -0.4, 0.3], [0.8, 2.1, -0.7]])
        return [((x,), {}), ((np.array([0.5, -0.25]),), {})]


class Sigmoid(Op):
    """Logistic sigmoid, ``sigmoid(x) = 1 / (1 + exp(-x))``, elementwise.

    Parameters
    ----------
    x : Tensor
        Any shape; float16, float32 or float64 (kept in the output). Integer and bool inputs
        give float32, as in PyTorch.

    Returns
    -------
    Tensor
        Values in [0, 1], same shape as ``x``.

    Notes
    -----
    Computed without overflow for any ``x``: ``exp`` is only ever taken of ``-|x|``, so
    ``sigmoid(1000) == 1`` and ``sigmoid(-1000) == 0`` exactly, with no warning. The
    derivative is ``s * (1 - s)`` with ``s`` the saved output, written with minigrad ops so
    it can be differentiated again.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.ops.sigmoid(mg.tensor([-1000.0, 0.0, 1000.0])).data
    array([0. , 0.5, 1. ], dtype=float32)
    """

    name = "sigmoid"
    formula = "dx = dy * s * (1 - s), s = sigmoid(x)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        x = float_or_promoted("sigmoid", "x", x)  # an integer x gives float32, as in PyTorch
        one = x.dtype.type(1)
        with np.errstate(under="ignore"):  # exp(-1000) is simply 0
            z = np.exp(-np.abs(x))  # in (0, 1]: never overflows
            s = one / (one + z)  # sigmoid(|x|)
            # sigmoid(-|x|) = exp(-|x|) / (1 + exp(-|x|)); np.where always returns an array,
            # also for a 0-d x, so the saved output is the returned array
            out = np.where(x >= 0, s, z * s)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (s,) = ctx.saved_tensors  # the output Tensor: keeps double backward connected
        return grad * s * (1 - s)

    @staticmethod
    def sample_inputs() -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        """Small float64 inputs, both signs and a larger magnitude."""
        x = np.array([[-3.0, -0.5, 0.2], [1.5, 4.0, -1.25]])
        return [((x,), {})]


class Tanh(Op):
    """Hyperbolic tangent, elementwise.

    Parameters
    ----------
    x : Tensor
        Any shape; float16, float32 or float64 (kept in the output). Integer and bool inputs
        give float32, as in PyTorch.

    Returns
    -------
    Tensor
        Values in [-1, 1], same shape as ``x``.

    Notes
    -----
    The derivative is ``1 - t**2`` with ``t`` the saved output, written with minigrad ops so
    it can be differentiated again.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.ops.tanh(mg.tensor([0.0, 100.0])).data
    array([0., 1.], dtype=float32)
    """

    name = "tanh"
    formula = "dx = dy * (1 - t**2), t = tanh(x)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        x = float_or_promoted("tanh", "x", x)  # an integer x gives float32, as in PyTorch
        # asarray: np.tanh of a 0-d array is a numpy scalar, and the saved output must be the
        # very array the op returns (so that saved_tensors gives the output Tensor back)
        out = np.asarray(np.tanh(x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (t,) = ctx.saved_tensors  # the output Tensor
        return grad * (1 - t * t)

    @staticmethod
    def sample_inputs() -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        """Small float64 inputs of both signs."""
        x = np.array([[-2.0, -0.3, 0.1], [0.9, 1.7, -1.1]])
        return [((x,), {})]
