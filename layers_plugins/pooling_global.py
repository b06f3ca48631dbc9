"""Global pooling: the largest value or the mean of each feature map, (N, C, H, W) -> (N, C).

Both backward passes are made of core ops (``where``, ``reshape``, ``expand``), so they are
differentiable again.

Dtypes: values and gradients are float16, float32 or float64 and keep their dtype; integer,
bool and complex ones raise ``TypeError`` naming the op (see ``layers_plugins._dtypes``).
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad import Context, Op, Tensor

from ._args import Samples, check_input
from ._dtypes import check_float

__all__ = ["GlobalAvgPool2d", "GlobalMaxPool2d"]


def _check_global(op: str, x: np.ndarray) -> None:
    check_float(op, "x", x)
    check_input(op, x.shape)
    if x.shape[2] * x.shape[3] == 0:
        raise ValueError(f"{op}: the input's feature maps are empty (shape {x.shape})")


def _input_shape(ctx: Context) -> tuple[int, ...]:
    """The shape of the call's input ``x`` (a required input: never None)."""
    x = ctx.inputs[0]
    assert x is not None
    return x.shape


class GlobalMaxPool2d(Op):
    """The largest value of each feature map: (N, C, H, W) -> (N, C).

    Equals ``max_pool2d`` with ``kernel_size=(H, W)``, flattened, as PyTorch's
    ``adaptive_max_pool2d(x, 1)``.

    Parameters
    ----------
    x : Tensor
        (N, C, H, W), float16, float32 or float64.

    Returns
    -------
    Tensor
        (N, C) in ``x``'s dtype.

    Notes
    -----
    Subgradients: the gradient of ``out[n, c]`` goes to the **first maximum in row-major
    order** of map ``x[n, c]`` (as for max_pool2d). The backward pass is
    ``mg.where(winners, grad.reshape((N, C, 1, 1)), 0)`` with a constant boolean ``winners``
    mask, so it is differentiable again.

    Examples
    --------
    >>> import minigrad as mg
    >>> x = mg.tensor([[[[1.0, 3.0], [3.0, 2.0]]]], requires_grad=True)   # (1, 1, 2, 2)
    >>> y = mg.ops.global_max_pool2d(x); y.data
    array([[3.]], dtype=float32)
    >>> y.sum().backward(); x.grad.data[0, 0]                            # first 3 wins
    array([[0., 1.],
           [0., 0.]], dtype=float32)
    """

    name = "global_max_pool2d"
    formula = "dx[n, c, winner] = dy[n, c] (first maximum in row-major order), 0 elsewhere"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        _check_global("global_max_pool2d", x)
        n, c, h, w = x.shape
        flat = x.reshape(n, c, h * w)  # (N, C, H*W)
        winner = flat.argmax(axis=2)  # (N, C): the first maximum (or the first NaN)
        ctx.save_for_backward(winner)
        return np.take_along_axis(flat, winner[:, :, None], axis=2)[:, :, 0]

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (winner,) = ctx.saved_arrays
        n, c, h, w = _input_shape(ctx)
        mask = np.arange(h * w) == winner[:, :, None]  # (N, C, H*W) one-hot
        winners = mg.as_tensor(mask.reshape(n, c, h, w))
        winners.name = "winners"
        # (N, C) -> (N, C, 1, 1) -> (N, C, H, W), zero away from the winners
        return mg.where(winners, grad.reshape((n, c, 1, 1)), 0.0)

    @staticmethod
    def sample_inputs() -> Samples:
        """Float64 maps with distinct, well separated values (no ties)."""
        x = np.random.default_rng(10).permutation(2 * 3 * 3 * 4).reshape(2, 3, 3, 4) / 4.0
        return [((x,), {})]


class GlobalAvgPool2d(Op):
    """The mean of each feature map: (N, C, H, W) -> (N, C).

    As PyTorch's ``adaptive_avg_pool2d(x, 1)``, flattened.

    Parameters
    ----------
    x : Tensor
        (N, C, H, W); float16, float32 or float64 (kept in the output).

    Returns
    -------
    Tensor
        (N, C).

    Notes
    -----
    The backward pass, ``(grad / (H*W)).reshape((N, C, 1, 1)).expand((N, C, H, W))``, is made
    of core ops, so it is differentiable again.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.ops.global_avg_pool2d(mg.arange(8.0).reshape((1, 2, 2, 2))).data
    array([[1.5, 5.5]], dtype=float32)
    """

    name = "global_avg_pool2d"
    formula = "dx[n, c, :, :] = dy[n, c] / (H * W)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        _check_global("global_avg_pool2d", x)
        return x.mean(axis=(2, 3), dtype=x.dtype)  # (N, C, H, W) -> (N, C)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        n, c, h, w = _input_shape(ctx)
        # (N, C) -> (N, C, 1, 1) -> (N, C, H, W)
        return (grad / float(h * w)).reshape((n, c, 1, 1)).expand((n, c, h, w))

    @staticmethod
    def sample_inputs() -> Samples:
        """A small float64 input."""
        return [((np.random.default_rng(11).standard_normal((2, 3, 3, 4)),), {})]
