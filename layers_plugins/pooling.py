"""Pooling: max, average and sum pooling over NCHW windows, global pooling, and their companions.

Windows follow PyTorch: ``stride`` defaults to ``kernel_size``, ``padding`` (at most half the
kernel) adds cells that never win a max and count as zeros in a sum, and ``ceil_mode`` keeps a
last partial window that starts inside the input or its left padding.

Every backward pass is written with ``mg.ops`` calls, so it can be drawn and differentiated
again (``create_graph=True``). With ``u`` the incoming gradient and the same window attributes:

=================================================  =============================================
op                                                 gradient
=================================================  =============================================
``y = max_pool2d(x)`` (saves ``offsets``)          x: ``max_unpool2d(u, offsets, x_hw)``
``dx = max_unpool2d(g, offsets, x_hw)``            g: ``max_pool2d_gather(u, offsets)``
``y = max_pool2d_gather(x, offsets)``              x: ``max_unpool2d(u, offsets, x_hw)``
``y = avg_pool2d(x)``                              x: ``avg_unpool2d(u, x_hw)``
``dx = avg_unpool2d(g, x_hw)``                     g: ``avg_pool2d(u)``
``y = sum_pool2d(x)``                              x: ``sum_unpool2d(u, x_hw)``
``dx = sum_unpool2d(g, x_hw)``                     g: ``sum_pool2d(u)``
``global_max_pool2d(x)``, ``global_avg_pool2d(x)``  core ops (``where``, ``reshape``, ``expand``)
=================================================  =============================================

``offsets`` is a small unsigned integer array, one entry per output cell: the position
``i * kw + j`` of the window's winner. It enters ``max_unpool2d`` and ``max_pool2d_gather`` as
a tensor input (it gets no gradient), so graphs show where the winners come from.

Dtypes: the pooled values and gradients are float16, float32 or float64 and keep their dtype;
integer, bool and complex ones raise ``TypeError`` naming the op (see
``layers_plugins._dtypes``). Only ``offsets`` is an integer input.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

import minigrad as mg
from minigrad import Context, Op, Tensor

from ._dtypes import check_float
from ._kernels import avg_pool2d as _avg_pool2d
from ._kernels import avg_pool2d_backward as _avg_pool2d_backward
from ._kernels import max_pool2d as _max_pool2d
from ._kernels import max_pool2d_backward as _max_pool2d_backward
from ._kernels import max_pool2d_gather as _max_pool2d_gather
from ._kernels import sum_pool2d as _sum_pool2d
from ._kernels import sum_pool2d_backward as _sum_pool2d_backward
from ._kernels.geometry import PoolGeometry, check_4d, pair, pool2d_geometry

__all__ = [
    "AvgPool2d",
    "AvgUnpool2d",
    "GlobalAvgPool2d",
    "GlobalMaxPool2d",
    "MaxPool2d",
    "MaxPool2dGather",
    "MaxUnpool2d",
    "SumPool2d",
    "SumUnpool2d",
]

Samples = list[tuple[tuple[Any, ...], dict[str, Any]]]
Size = int | tuple[int, int]


# --------------------------------------------------------------------------- helpers


def _plain(value: Any) -> Any:
    """A size attribute as graphs show it best: an int when both entries agree, else a tuple.

    >>> _plain((2, 2)), _plain([1, 2]), _plain(None), _plain(np.int64(3))
    (2, (1, 2), None, 3)
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = tuple(int(v) for v in value)
        return items[0] if len(items) == 2 and items[0] == items[1] else items
    return value


def _window_attrs(ctx: Context) -> dict[str, Any]:
    """The window attributes of a call, for the companion ops of its backward pass."""
    attrs = {k: _plain(ctx.attrs[k]) for k in ("kernel_size", "stride", "padding")}
    attrs["ceil_mode"] = bool(ctx.attrs["ceil_mode"])
    if "count_include_pad" in ctx.attrs:
        attrs["count_include_pad"] = bool(ctx.attrs["count_include_pad"])
    return attrs


def _check_input(op: str, shape: tuple[int, ...], what: str = "input") -> None:
    """A 4-D (N, C, H, W) array, with a hint for the common mistake of a single (C, H, W) image."""
    if len(shape) == 3:
        raise ValueError(
            f"{op}: expected a 4-D {what} (N, C, H, W), got the 3-D shape {shape}; for a single "
            f"image add a batch axis: x.reshape((1, {', '.join(map(str, shape))}))"
        )
    check_4d(shape, op, what)


def _check_flag(op: str, name: str, value: Any) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be True or False, got {value!r}")


def _geometry(
    op: str,
    x_shape: tuple[int, ...],
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: Any,
) -> PoolGeometry:
    """Validated window geometry of pooling an input of ``x_shape``; errors name ``op``."""
    _check_input(op, x_shape)
    _check_flag(op, "ceil_mode", ceil_mode)
    return pool2d_geometry(x_shape, kernel_size, stride, padding, ceil_mode, op=op)


def _unpool_geometry(
    op: str,
    grad: np.ndarray,
    x_hw: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: Any,
) -> PoolGeometry:
    """Geometry of the pooling whose output ``grad`` spreads back to an (H, W) = ``x_hw`` map."""
    _check_input(op, grad.shape, "grad")
    h, w = pair(x_hw, "x_hw", op=op)
    x_shape = (grad.shape[0], grad.shape[1], h, w)
    g = _geometry(op, x_shape, kernel_size, stride, padding, ceil_mode)
    if grad.shape != g.out_shape:
        raise ValueError(
            f"{op}: grad has shape {grad.shape} but pooling an input of shape {x_shape} "
            f"(kernel_size {g.kernel}, stride {g.stride}, padding {g.padding}, "
            f"ceil_mode={g.ceil_mode}) gives shape {g.out_shape}; check x_hw and the attributes"
        )
    return g


def _check_offsets(op: str, offsets: np.ndarray, g: PoolGeometry) -> None:
    if offsets.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: offsets must be integers (as saved by max_pool2d), got dtype {offsets.dtype}"
        )
    if offsets.shape != g.out_shape:
        raise ValueError(
            f"{op}: offsets has shape {offsets.shape}, expected the pooled shape {g.out_shape}"
        )
    window = g.kernel[0] * g.kernel[1]
    if offsets.size and (offsets.min() < 0 or offsets.max() >= window):
        raise ValueError(
            f"{op}: offsets must lie in [0, {window}) for kernel_size {g.kernel}, got values in "
            f"[{offsets.min()}, {offsets.max()}]"
        )


def _offsets_tensor(ctx: Context) -> Tensor:
    """The saved winner offsets as a named constant (a leaf of the backward graph)."""
    (offsets,) = ctx.saved_arrays
    t = mg.as_tensor(offsets)
    t.name = "offsets"
    return t


def _x_hw(ctx: Context) -> tuple[int, int]:
    x = ctx.inputs[0]
    return (int(x.shape[2]), int(x.shape[3]))


# --------------------------------------------------------------------------- max pooling


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
        check_float("max_pool2d", "x", x)
        _geometry("max_pool2d", x.shape, kernel_size, stride, padding, ceil_mode)
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
        check_float(op, "grad", grad)
        g = _unpool_geometry(op, grad, x_hw, kernel_size, stride, padding, ceil_mode)
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
        for attrs in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1}):
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
        check_float(op, "x", x)
        g = _geometry(op, x.shape, kernel_size, stride, padding, ceil_mode)
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


# --------------------------------------------------------------------------- average pooling


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
        check_float(op, "x", x)
        _geometry(op, x.shape, kernel_size, stride, padding, ceil_mode)
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
        check_float(op, "grad", grad)
        _unpool_geometry(op, grad, x_hw, kernel_size, stride, padding, ceil_mode)
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
        check_float("sum_pool2d", "x", x)
        _geometry("sum_pool2d", x.shape, kernel_size, stride, padding, ceil_mode)
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
        check_float("sum_unpool2d", "grad", grad)
        _unpool_geometry("sum_unpool2d", grad, x_hw, kernel_size, stride, padding, ceil_mode)
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


# --------------------------------------------------------------------------- global pooling


def _check_global(op: str, x: np.ndarray) -> None:
    check_float(op, "x", x)
    _check_input(op, x.shape)
    if x.shape[2] * x.shape[3] == 0:
        raise ValueError(f"{op}: the input's feature maps are empty (shape {x.shape})")


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
        n, c, h, w = ctx.inputs[0].shape
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
        n, c, h, w = ctx.inputs[0].shape
        # (N, C) -> (N, C, 1, 1) -> (N, C, H, W)
        return (grad / float(h * w)).reshape((n, c, 1, 1)).expand((n, c, h, w))

    @staticmethod
    def sample_inputs() -> Samples:
        """A small float64 input."""
        return [((np.random.default_rng(11).standard_normal((2, 3, 3, 4)),), {})]
