"""Sum and average pooling on plain numpy arrays (NCHW), forward and backward.

Both are linear: their backward passes spread each output gradient over its window (divided by
the window's divisor for the average), and ``avg_pool2d`` / ``sum_pool2d`` are in turn the
adjoints of those backward passes. Every kernel splits the batch over the thread pool
(``in_parts``); each sample is computed the same way whatever the split.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .geometry import IntOrPair, PoolGeometry, pair
from .pool_windows import (
    _backward_geometry,
    _crop,
    _geometry,
    _needs_pad,
    _overlapping,
    _padded,
    _slices,
    _zeros_padded,
    in_parts,
)

__all__ = [
    "avg_pool2d",
    "avg_pool2d_backward",
    "avg_pool2d_divisor",
    "sum_pool2d",
    "sum_pool2d_backward",
]


def _window_sum(x: np.ndarray, out: np.ndarray, g: PoolGeometry) -> None:
    """Sum of every window into ``out``, padded cells counting as zero (geometry ``g``)."""
    src = _padded(x, g, 0) if _needs_pad(g) else x
    views = _slices(src, g)
    if len(views) == 1:
        np.copyto(out, views[0])
        return
    np.add(views[0], views[1], out=out)
    for v in views[2:]:
        out += v


def _spread(grad: np.ndarray, dx: np.ndarray, g: PoolGeometry) -> None:
    """Adjoint of ``_window_sum``: add each output value to every cell of its window, in ``dx``."""
    if g.tiles:
        kh, kw = g.kernel
        # (N, C, OH, kh, OW, kw) view of dx, every window filled at once.
        dx.reshape(g.n, g.c, g.oh, kh, g.ow, kw)[...] = grad[:, :, :, None, :, None]
        return
    padded = _needs_pad(g)
    if padded:
        target = _zeros_padded(g, grad.dtype)
    else:
        target = dx
        target.fill(0)
    overlap = _overlapping(g)
    for v in _slices(target, g):
        if overlap:
            v += grad
        else:
            v[...] = grad
    if padded:
        np.copyto(dx, _crop(target, g))


def _check_float(op: str, a: np.ndarray) -> None:
    if a.dtype.kind not in "fc":
        raise TypeError(f"{op}: expected a floating-point array, got dtype {a.dtype}")


def _checked_input(op: str, x: np.ndarray, *window: Any) -> tuple[np.ndarray, PoolGeometry]:
    """``x`` as an array, checked to be floating point, and its window geometry.

    ``window`` is ``kernel_size, stride, padding, ceil_mode``.
    """
    x = np.asarray(x)
    _check_float(op, x)
    return x, _geometry(op, x.shape, *window)


def _checked_grad(
    op: str, grad: np.ndarray, x_hw: IntOrPair, *window: Any
) -> tuple[np.ndarray, PoolGeometry]:
    """``grad`` as an array, checked to be floating point, and the geometry it came from.

    ``window`` is ``kernel_size, stride, padding, ceil_mode``.
    """
    grad = np.asarray(grad)
    _check_float(op, grad)
    return grad, _backward_geometry(op, grad, x_hw, *window)


def avg_pool2d_divisor(
    x_hw: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Number of cells each average-pooling window divides by, as an (OH, OW) float64 array.

    PyTorch's rule: with ``count_include_pad`` a window counts its padded cells but not the cells
    past the padding that exist only because of ``ceil_mode``; without it, only input cells.
    """
    h, w = pair(x_hw, "x_hw", op="avg_pool2d")
    g = _geometry("avg_pool2d", (1, 1, h, w), kernel_size, stride, padding, ceil_mode)
    return _divisor(g, count_include_pad)


def _divisor(g: PoolGeometry, count_include_pad: bool) -> np.ndarray:
    def axis(out: int, size: int, k: int, s: int, p: int) -> np.ndarray:
        start = np.arange(out) * s - p
        end = np.minimum(start + k, size + p)
        if count_include_pad:
            return end - start
        return np.minimum(end, size) - np.maximum(start, 0)

    rows = axis(g.oh, g.h, g.kernel[0], g.stride[0], g.padding[0])
    cols = axis(g.ow, g.w, g.kernel[1], g.stride[1], g.padding[1])
    return np.outer(rows, cols).astype(np.float64)


def _divisor_of(
    g: PoolGeometry, count_include_pad: bool, dtype: np.dtype
) -> np.ndarray | np.generic:
    """The (OH, OW) divisors in ``dtype``, or the scalar kh*kw when every window divides by it."""
    if not _needs_pad(g):
        return dtype.type(g.kernel[0] * g.kernel[1])
    return _divisor(g, count_include_pad).astype(dtype)


def sum_pool2d(
    x: np.ndarray,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
) -> np.ndarray:
    """Sum over each window (padded cells are zero): (N, C, H, W) -> (N, C, OH, OW)."""
    x, g = _checked_input("sum_pool2d", x, kernel_size, stride, padding, ceil_mode)
    out = np.empty(g.out_shape, dtype=x.dtype)
    in_parts(g, lambda s, gp: _window_sum(x[s], out[s], gp))
    return out


def sum_pool2d_backward(
    grad: np.ndarray,
    x_hw: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
) -> np.ndarray:
    """Gradient of ``sum_pool2d``: (N, C, OH, OW) -> (N, C, H, W), each window gets its grad.

    Linear in ``grad``; its adjoint is ``sum_pool2d`` with the same attributes.
    """
    grad, g = _checked_grad(
        "sum_pool2d_backward", grad, x_hw, kernel_size, stride, padding, ceil_mode
    )
    dx = np.empty(g.x_shape, dtype=grad.dtype)
    in_parts(g, lambda s, gp: _spread(grad[s], dx[s], gp))
    return dx


def avg_pool2d(
    x: np.ndarray,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d``: (N, C, H, W) -> (N, C, OH, OW).

    See ``avg_pool2d_divisor`` for what each window is divided by.
    """
    x, g = _checked_input("avg_pool2d", x, kernel_size, stride, padding, ceil_mode)
    divisor = _divisor_of(g, count_include_pad, x.dtype)
    out = np.empty(g.out_shape, dtype=x.dtype)

    def part(s: slice, gp: PoolGeometry) -> None:
        _window_sum(x[s], out[s], gp)
        out[s] /= divisor

    in_parts(g, part)
    return out


def avg_pool2d_backward(
    grad: np.ndarray,
    x_hw: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Gradient of ``avg_pool2d``: (N, C, OH, OW) -> (N, C, H, W).

    Linear in ``grad``; its adjoint is ``avg_pool2d`` with the same attributes.
    """
    grad, g = _checked_grad(
        "avg_pool2d_backward", grad, x_hw, kernel_size, stride, padding, ceil_mode
    )
    divisor = _divisor_of(g, count_include_pad, grad.dtype)
    dx = np.empty(g.x_shape, dtype=grad.dtype)

    def part(s: slice, gp: PoolGeometry) -> None:
        _spread(grad[s] / divisor, dx[s], gp)

    in_parts(g, part)
    return dx
