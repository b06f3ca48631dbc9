"""Max pooling and its two companions: max_unpool2d (its gradient) and max_pool2d_gather.

``max_pool2d`` saves the winner of every window as a small unsigned integer ``offsets`` array
(``i * kw + j`` inside the window; ties go to the first maximum in row-major order). Its
backward is ``max_unpool2d(u, offsets, x_hw)``, whose own backward is
``max_pool2d_gather(u, offsets)``, whose backward is ``max_unpool2d`` again: every gradient is
a graph of ops, differentiable again.

Dtypes: values and gradients are float16, float32 or float64 and keep their dtype; integer,
bool and complex ones raise ``TypeError`` naming the op (see ``layers_plugins._dtypes``). The
``offsets`` are unsigned integers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import minigrad as mg
from minigrad import Context, Op, Tensor

from ._args import Samples
from ._kernels import max_pool2d as _max_pool2d
from ._kernels import max_pool2d_backward as _max_pool2d_backward
from ._kernels import max_pool2d_gather as _max_pool2d_gather
from ._pool_args import (
    Size,
    _check_offsets,
    _offsets_tensor,
    _pooled_input,
    _unpooled_grad,
    _window_attrs,
    _x_hw,
)

__all__ = ["MaxPool2d", "MaxPool2dGather", "MaxUnpool2d"]


class MaxPool2d(Op):
    """2-D max pooling: the largest value of each window, as ``torch.nn.functional.max_pool2d``.

    Parameters
    ----------
    x : Tensor
        (N, C, H, W) input, float16, float32 or float64.
    kernel_size : int or (kh, kw)
        Window size, >= 1.
    stride : int, (sh, sw) or None, default None
        Step between windows, >= 1; None means ``kernel_size`` (windows side by side).
    padding : int or (ph, pw), default 0
        Cells added around the input that never win; at most half the kernel.
    ceil_mode : bool, default False
        Round the output size up: keep a last partial window (if it starts inside the input or
        the left padding).

    Returns
    -------
    Tensor
        (N, C, OH, OW) in ``x``'s dtype, ``OH = floor_or_ceil((H + 2*ph - kh) / sh) + 1``.

    Notes
    -----
    Subgradients: each output's gradient goes to its window's winner; when a window holds the
    maximum more than once, the **first maximum in row-major window order** wins (as in
    PyTorch), and a cell winning several overlapping windows gets the sum. The forward pass
    saves the winners as small integer ``offsets``; the backward pass is
    ``mg.ops.max_unpool2d(grad, offsets, ...)``, itself differentiable through
    ``mg.ops.max_pool2d_gather``.

    Raises ``ValueError`` naming max_pool2d for an input that is not 4-D, a kernel larger than
    the padded input, kernel_size or stride < 1 and padding above half the kernel.

    Examples
    --------
    >>> import minigrad as mg
    >>> x = mg.arange(9.0).reshape((1, 1, 3, 3))                      # (N, C, H, W)
    >>> mg.ops.max_pool2d(x, kernel_size=2).data                      # floor: (1, 1, 1, 1)
    array([[[[4.]]]], dtype=float32)
    >>> mg.ops.max_pool2d(x, kernel_size=2, ceil_mode=True).data[0, 0]   # ceil: 2x2
    array([[4., 5.],
           [7., 8.]], dtype=float32)
    """

    name = "max_pool2d"
    formula = "dx[winner] += dy (first maximum in row-major order)"

    @staticmethod
    def forward(
        ctx: Context,
        x: np.ndarray,
        *,
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        ceil_mode: bool = False,
    ) -> np.ndarray:
        _pooled_input("max_pool2d", x, kernel_size, stride, padding, ceil_mode)
        # (N, C, H, W) -> (N, C, OH, OW), offsets (N, C, OH, OW) of the winners
        out, offsets = _max_pool2d(x, kernel_size, stride, padding, ceil_mode)
        ctx.save_for_backward(offsets)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        # (N, C, OH, OW) -> (N, C, H, W)
        return mg.ops.max_unpool2d(
            grad, _offsets_tensor(ctx), x_hw=_x_hw(ctx), **_window_attrs(ctx)
        )

    @staticmethod
    def sample_inputs() -> Samples:
        """Float64 inputs with distinct, well separated values (no ties for finite differences)."""
        rng = np.random.default_rng(3)
        x = rng.permutation(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) / 4.0
        return [
            ((x,), {"kernel_size": 2}),
            ((x,), {"kernel_size": 3, "stride": 1, "padding": 1}),
            ((x,), {"kernel_size": (2, 3), "stride": (2, 1), "ceil_mode": True}),
        ]


class MaxUnpool2d(Op):
    """Scatter pooled values back to the winners of max pooling: (N, C, OH, OW) -> (N, C, H, W).

    The gradient of ``max_pool2d``: ``grad[n, c, i, j]`` lands on the cell of window (i, j) that
    ``offsets[n, c, i, j]`` names; every other cell is 0, and a cell winning several
    overlapping windows gets the sum.

    Parameters
    ----------
    grad : Tensor
        (N, C, OH, OW) values to place, e.g. the gradient of a max_pool2d output (float).
    offsets : Tensor
        (N, C, OH, OW) integers in ``[0, kh*kw)``: the winner's position ``i*kw + j`` inside
        each window (as saved by max_pool2d). Gets no gradient.
    x_hw : (H, W)
        Size of the pooled input, i.e. of this op's output.
    kernel_size, stride, padding, ceil_mode
        As given to max_pool2d.

    Returns
    -------
    Tensor
        (N, C, H, W) in ``grad``'s dtype.

    Notes
    -----
    Linear in ``grad``; its backward is ``mg.ops.max_pool2d_gather(u, offsets, ...)``.

    Examples
    --------
    >>> import numpy as np, minigrad as mg
    >>> g = mg.tensor([[[[5.0]]]])                                    # (1, 1, 1, 1)
    >>> winner = mg.tensor(np.array([[[[3]]]], dtype=np.uint8))       # bottom-right of 2x2
    >>> mg.ops.max_unpool2d(g, winner, x_hw=(2, 2), kernel_size=2).data[0, 0]
    array([[0., 0.],
           [0., 5.]], dtype=float32)
    """

    name = "max_unpool2d"
    formula = "dgrad = max_pool2d_gather(dy, offsets)"

    @staticmethod
    def forward(
        ctx: Context,
        grad: np.ndarray,
        offsets: np.ndarray,
        *,
        x_hw: tuple[int, int],
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        ceil_mode: bool = False,
    ) -> np.ndarray:
        op = "max_unpool2d"
        g = _unpooled_grad(op, grad, x_hw, kernel_size, stride, padding, ceil_mode)
        _check_offsets(op, offsets, g)
        ctx.save_for_backward(offsets)
        # (N, C, OH, OW) -> (N, C, H, W)
        return _max_pool2d_backward(grad, offsets, x_hw, kernel_size, stride, padding, ceil_mode)

    @staticmethod
    def backward(ctx: Context, u: Tensor) -> tuple[Tensor, None]:
        (offsets,) = ctx.saved_tensors  # the offsets input Tensor itself
        # (N, C, H, W) -> (N, C, OH, OW)
        return mg.ops.max_pool2d_gather(u, offsets, **_window_attrs(ctx)), None

    @staticmethod
    def sample_inputs() -> Samples:
        """Float64 values with the offsets of a real pooling; overlapping windows too."""
        rng = np.random.default_rng(4)
        x = rng.permutation(50).reshape(1, 2, 5, 5).astype(np.float64)
        samples = []
        windows: list[dict[str, Any]] = [
            {"kernel_size": 2},
            {"kernel_size": 3, "stride": 1, "padding": 1},
        ]
        for attrs in windows:
            _, offsets = _max_pool2d(x, **attrs)
            grad = rng.standard_normal(offsets.shape)
            samples.append(((grad, offsets), {"x_hw": (5, 5), **attrs}))
        return samples


class MaxPool2dGather(Op):
    """Read an input-shaped array at the winners of max pooling: (N, C, H, W) -> (N, C, OH, OW).

    ``max_pool2d_gather(x, offsets, ...)`` equals ``max_pool2d(x, ...)`` when ``offsets`` are
    that pooling's winners; with any other input it picks the same cells. It is the adjoint
    of ``max_unpool2d``, which makes it the gradient of the backward pass of max pooling.

    Parameters
    ----------
    x : Tensor
        (N, C, H, W).
    offsets : Tensor
        (N, C, OH, OW) integers in ``[0, kh*kw)``, the winner's position inside each window.
        Gets no gradient.
    kernel_size, stride, padding, ceil_mode
        As given to max_pool2d.

    Returns
    -------
    Tensor
        (N, C, OH, OW) in ``x``'s dtype.

    Notes
    -----
    Linear in ``x``; its backward is ``mg.ops.max_unpool2d(u, offsets, x_hw, ...)``.

    Examples
    --------
    >>> import numpy as np, minigrad as mg
    >>> x = mg.arange(4.0).reshape((1, 1, 2, 2))
    >>> top_right = mg.tensor(np.array([[[[1]]]], dtype=np.uint8))
    >>> mg.ops.max_pool2d_gather(x, top_right, kernel_size=2).item()
    1.0
    """

    name = "max_pool2d_gather"
    formula = "dx = max_unpool2d(dy, offsets)"

    @staticmethod
    def forward(
        ctx: Context,
        x: np.ndarray,
        offsets: np.ndarray,
        *,
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        ceil_mode: bool = False,
    ) -> np.ndarray:
        op = "max_pool2d_gather"
        g = _pooled_input(op, x, kernel_size, stride, padding, ceil_mode)
        _check_offsets(op, offsets, g)
        ctx.save_for_backward(offsets)
        # (N, C, H, W) -> (N, C, OH, OW)
        return _max_pool2d_gather(x, offsets, kernel_size, stride, padding, ceil_mode)

    @staticmethod
    def backward(ctx: Context, u: Tensor) -> tuple[Tensor, None]:
        (offsets,) = ctx.saved_tensors  # the offsets input Tensor itself
        # (N, C, OH, OW) -> (N, C, H, W)
        return mg.ops.max_unpool2d(u, offsets, x_hw=_x_hw(ctx), **_window_attrs(ctx)), None

    @staticmethod
    def sample_inputs() -> Samples:
        """Float64 inputs with arbitrary (not winning) offsets, overlapping windows too."""
        rng = np.random.default_rng(5)
        x = rng.standard_normal((2, 1, 4, 5))
        tiled = rng.integers(0, 4, size=(2, 1, 2, 2)).astype(np.uint8)
        overlapping = rng.integers(0, 9, size=(2, 1, 4, 5)).astype(np.uint8)
        return [
            ((x, tiled), {"kernel_size": 2}),
            ((x, overlapping), {"kernel_size": 3, "stride": 1, "padding": 1}),
        ]
