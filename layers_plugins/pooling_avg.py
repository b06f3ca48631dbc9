"""Average and sum pooling and their companions, avg_unpool2d and sum_unpool2d.

Both pooling ops are linear: each backward spreads the output gradient over its window (divided
by the window's divisor for the average) with the ``*_unpool2d`` companion, whose own backward
is the pooling op again.

Dtypes: values and gradients are float16, float32 or float64 and keep their dtype; integer,
bool and complex ones raise ``TypeError`` naming the op (see ``layers_plugins._dtypes``).
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad import Context, Op, Tensor

from ._args import Samples
from ._kernels import avg_pool2d as _avg_pool2d
from ._kernels import avg_pool2d_backward as _avg_pool2d_backward
from ._kernels import sum_pool2d as _sum_pool2d
from ._kernels import sum_pool2d_backward as _sum_pool2d_backward
from ._pool_args import Size, _check_flag, _pooled_input, _unpooled_grad, _window_attrs, _x_hw

__all__ = ["AvgPool2d", "AvgUnpool2d", "SumPool2d", "SumUnpool2d"]


class AvgPool2d(Op):
    """2-D average pooling: the mean of each window, as ``torch.nn.functional.avg_pool2d``.

    Parameters
    ----------
    x : Tensor
        (N, C, H, W); float16, float32 or float64 (kept in the output).
    kernel_size : int or (kh, kw)
        Window size, >= 1.
    stride : int, (sh, sw) or None, default None
        Step between windows, >= 1; None means ``kernel_size``.
    padding : int or (ph, pw), default 0
        Zeros added around the input; at most half the kernel.
    ceil_mode : bool, default False
        Keep a last partial window (see max_pool2d).
    count_include_pad : bool, default True
        Whether padded zeros count in a window's divisor. Either way a ``ceil_mode`` window's
        cells past the padding are not counted (PyTorch's rule): a 2x2 window hanging over the
        bottom-right corner of an unpadded map divides by the cells it covers.

    Returns
    -------
    Tensor
        (N, C, OH, OW), sizes as for max_pool2d.

    Notes
    -----
    Linear; its backward is ``mg.ops.avg_unpool2d(grad, x_hw, ...)``, whose own backward is
    avg_pool2d again.

    Examples
    --------
    >>> import minigrad as mg
    >>> x = mg.arange(16.0).reshape((1, 1, 4, 4))
    >>> mg.ops.avg_pool2d(x, kernel_size=2).data[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    >>> mg.ops.avg_pool2d(mg.ones(1, 1, 2, 2), kernel_size=2, padding=1).data[0, 0]   # pads count
    array([[0.25, 0.25],
           [0.25, 0.25]], dtype=float32)
    """

    name = "avg_pool2d"
    formula = "dx[window] += dy / divisor (divisor: the cells the window counts)"

    @staticmethod
    def forward(
        ctx: Context,
        x: np.ndarray,
        *,
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> np.ndarray:
        op = "avg_pool2d"
        _pooled_input(op, x, kernel_size, stride, padding, ceil_mode)
        _check_flag(op, "count_include_pad", count_include_pad)
        # (N, C, H, W) -> (N, C, OH, OW)
        return _avg_pool2d(x, kernel_size, stride, padding, ceil_mode, bool(count_include_pad))

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        # (N, C, OH, OW) -> (N, C, H, W)
        return mg.ops.avg_unpool2d(grad, x_hw=_x_hw(ctx), **_window_attrs(ctx))

    @staticmethod
    def sample_inputs() -> Samples:
        """Small float64 inputs: tiling windows, padding with and without counting it, ceil."""
        x = np.random.default_rng(6).standard_normal((2, 2, 5, 5))
        return [
            ((x,), {"kernel_size": 2}),
            ((x,), {"kernel_size": 3, "stride": 2, "padding": 1}),
            ((x,), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
            ((x,), {"kernel_size": (2, 3), "stride": 2, "ceil_mode": True}),
        ]


class AvgUnpool2d(Op):
    """Spread each pooled value evenly over its window: (N, C, OH, OW) -> (N, C, H, W).

    The gradient of ``avg_pool2d``: every cell of window (i, j) receives
    ``grad[n, c, i, j] / divisor(i, j)``, summed where windows overlap.

    Parameters
    ----------
    grad : Tensor
        (N, C, OH, OW), e.g. the gradient of an avg_pool2d output; float16, float32 or float64.
    x_hw : (H, W)
        Size of the pooled input, i.e. of this op's output.
    kernel_size, stride, padding, ceil_mode, count_include_pad
        As given to avg_pool2d.

    Returns
    -------
    Tensor
        (N, C, H, W).

    Notes
    -----
    Linear; its backward is ``mg.ops.avg_pool2d(u, ...)``.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.ops.avg_unpool2d(mg.ones(1, 1, 1, 1), x_hw=(2, 2), kernel_size=2).data[0, 0]
    array([[0.25, 0.25],
           [0.25, 0.25]], dtype=float32)
    """

    name = "avg_unpool2d"
    formula = "dgrad = avg_pool2d(dy)"

    @staticmethod
    def forward(
        ctx: Context,
        grad: np.ndarray,
        *,
        x_hw: tuple[int, int],
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> np.ndarray:
        op = "avg_unpool2d"
        _unpooled_grad(op, grad, x_hw, kernel_size, stride, padding, ceil_mode)
        _check_flag(op, "count_include_pad", count_include_pad)
        # (N, C, OH, OW) -> (N, C, H, W)
        return _avg_pool2d_backward(
            grad, x_hw, kernel_size, stride, padding, ceil_mode, bool(count_include_pad)
        )

    @staticmethod
    def backward(ctx: Context, u: Tensor) -> Tensor:
        # (N, C, H, W) -> (N, C, OH, OW)
        return mg.ops.avg_pool2d(u, **_window_attrs(ctx))

    @staticmethod
    def sample_inputs() -> Samples:
        """Small float64 inputs: tiling, then padded and ceil_mode windows."""
        rng = np.random.default_rng(7)
        return [
            ((rng.standard_normal((2, 2, 2, 2)),), {"x_hw": (4, 5), "kernel_size": 2}),
            (
                (rng.standard_normal((1, 2, 3, 3)),),
                {"x_hw": (5, 5), "kernel_size": 3, "stride": 2, "padding": 1},
            ),
            (
                (rng.standard_normal((1, 1, 3, 3)),),
                {"x_hw": (5, 5), "kernel_size": 2, "ceil_mode": True, "count_include_pad": False},
            ),
        ]


# --------------------------------------------------------------------------- sum pooling


class SumPool2d(Op):
    """2-D sum pooling: the sum of each window (padded cells count as zero).

    Parameters
    ----------
    x : Tensor
        (N, C, H, W); float16, float32 or float64 (kept in the output).
    kernel_size, stride, padding, ceil_mode
        As for max_pool2d (``stride=None`` means ``kernel_size``).

    Returns
    -------
    Tensor
        (N, C, OH, OW), sizes as for max_pool2d.

    Notes
    -----
    Linear; its backward is ``mg.ops.sum_unpool2d(grad, x_hw, ...)``, whose own backward is
    sum_pool2d again.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.ops.sum_pool2d(mg.ones(1, 1, 4, 4), kernel_size=2).data[0, 0]
    array([[4., 4.],
           [4., 4.]], dtype=float32)
    """

    name = "sum_pool2d"
    formula = "dx[window] += dy"

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
        _pooled_input("sum_pool2d", x, kernel_size, stride, padding, ceil_mode)
        # (N, C, H, W) -> (N, C, OH, OW)
        return _sum_pool2d(x, kernel_size, stride, padding, ceil_mode)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        # (N, C, OH, OW) -> (N, C, H, W)
        return mg.ops.sum_unpool2d(grad, x_hw=_x_hw(ctx), **_window_attrs(ctx))

    @staticmethod
    def sample_inputs() -> Samples:
        """Small float64 inputs: tiling, overlapping with padding, ceil_mode."""
        x = np.random.default_rng(8).standard_normal((2, 2, 5, 5))
        return [
            ((x,), {"kernel_size": 2}),
            ((x,), {"kernel_size": 3, "stride": 1, "padding": 1}),
            ((x,), {"kernel_size": 2, "ceil_mode": True}),
        ]


class SumUnpool2d(Op):
    """Copy each pooled value to every cell of its window: (N, C, OH, OW) -> (N, C, H, W).

    The gradient of ``sum_pool2d`` (overlapping windows add up).

    Parameters
    ----------
    grad : Tensor
        (N, C, OH, OW); float16, float32 or float64.
    x_hw : (H, W)
        Size of the pooled input, i.e. of this op's output.
    kernel_size, stride, padding, ceil_mode
        As given to sum_pool2d.

    Returns
    -------
    Tensor
        (N, C, H, W).

    Notes
    -----
    Linear; its backward is ``mg.ops.sum_pool2d(u, ...)``.

    Examples
    --------
    >>> import minigrad as mg
    >>> g = mg.tensor([[[[1.0, 2.0]]]])                                           # (1, 1, 1, 2)
    >>> mg.ops.sum_unpool2d(g, x_hw=(2, 3), kernel_size=2, stride=1).data[0, 0]   # overlap adds
    array([[1., 3., 2.],
           [1., 3., 2.]], dtype=float32)
    """

    name = "sum_unpool2d"
    formula = "dgrad = sum_pool2d(dy)"

    @staticmethod
    def forward(
        ctx: Context,
        grad: np.ndarray,
        *,
        x_hw: tuple[int, int],
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        ceil_mode: bool = False,
    ) -> np.ndarray:
        _unpooled_grad("sum_unpool2d", grad, x_hw, kernel_size, stride, padding, ceil_mode)
        # (N, C, OH, OW) -> (N, C, H, W)
        return _sum_pool2d_backward(grad, x_hw, kernel_size, stride, padding, ceil_mode)

    @staticmethod
    def backward(ctx: Context, u: Tensor) -> Tensor:
        # (N, C, H, W) -> (N, C, OH, OW)
        return mg.ops.sum_pool2d(u, **_window_attrs(ctx))

    @staticmethod
    def sample_inputs() -> Samples:
        """Small float64 inputs: tiling, overlapping with padding."""
        rng = np.random.default_rng(9)
        return [
            ((rng.standard_normal((2, 2, 2, 2)),), {"x_hw": (4, 4), "kernel_size": 2}),
            (
                (rng.standard_normal((1, 2, 5, 4)),),
                {"x_hw": (5, 4), "kernel_size": 3, "stride": 1, "padding": 1},
            ),
        ]
