"""Max pooling on plain numpy arrays (NCHW): forward, backward and the backward's adjoint.

Max pooling records, for each output cell, the offset ``i * kw + j`` of the winning element in its
window (``offsets``, a small unsigned integer array). Ties go to the first maximum in row-major
window order, NaN wins over numbers (the last NaN of a window), and a window whose values are all
``-inf`` picks its first cell inside the input: the same choices as PyTorch. The backward pass
scatters the gradient to the winners; ``max_pool2d_gather`` is its adjoint (it reads an
input-shaped array at the winners), which is what differentiating the backward pass needs.

When the windows tile the input exactly (stride == kernel, no padding, sizes divisible) the
forward pass reads one rearranged copy of the input and the backward pass writes each input cell
exactly once, without a zero fill or a padded buffer. Every kernel splits the batch over the
thread pool (``in_parts``); each sample is computed the same way whatever the split.
"""

from __future__ import annotations

import numpy as np

from .geometry import IntOrPair, PoolGeometry
from .pool_windows import (
    _MASK,
    _PICK,
    _TMP,
    _as_uint,
    _backward_geometry,
    _bit_masks,
    _check_offsets,
    _crop,
    _geometry,
    _needs_pad,
    _offset_dtype,
    _overlapping,
    _padded,
    _slices,
    _tile_slices,
    _zeros_padded,
    in_parts,
)
from .scratch import scratch

__all__ = ["max_pool2d", "max_pool2d_backward", "max_pool2d_gather"]


def _check_dtype(op: str, a: np.ndarray) -> None:
    if a.dtype.kind == "c" or a.dtype.itemsize not in (1, 2, 4, 8):
        raise TypeError(f"{op}: unsupported dtype {a.dtype}")


def max_pool2d(
    x: np.ndarray,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """2-D max pooling, as ``torch.nn.functional.max_pool2d``.

    Parameters
    ----------
    x : (N, C, H, W) array
    kernel_size : int or (kh, kw)
    stride : int, (sh, sw) or None (= kernel_size)
    padding : int or (ph, pw), at most half the kernel; padded cells never win
    ceil_mode : keep a last partial window (PyTorch's rule)

    Returns
    -------
    out : (N, C, OH, OW) array of ``x.dtype``
    offsets : (N, C, OH, OW) unsigned int array; the winner of window (n, c, oh, ow) is at
        offset ``(offsets // kw, offsets % kw)`` inside that window

    Example: a 2x2 max pool of a 3x3 map gives 1x1 (2x2 with ``ceil_mode=True``).
    """
    x = np.asarray(x)
    _check_dtype("max_pool2d", x)
    g = _geometry("max_pool2d", x.shape, kernel_size, stride, padding, ceil_mode)
    out = np.empty(g.out_shape, dtype=x.dtype)
    offsets = np.empty(g.out_shape, dtype=_offset_dtype(g.kernel[0] * g.kernel[1]))

    def part(s: slice, gp: PoolGeometry) -> None:
        _max_pool_part(x[s], out[s], offsets[s], gp)

    in_parts(g, part)
    return out, offsets


def _max_pool_part(x: np.ndarray, out: np.ndarray, offsets: np.ndarray, g: PoolGeometry) -> None:
    """Max pooling of the samples ``x`` into ``out`` and ``offsets`` (geometry ``g``)."""
    floating = x.dtype.kind == "f"
    padded = _needs_pad(g)
    if padded:
        low = -np.inf if floating else np.iinfo(x.dtype).min
        views = _slices(_padded(x, g, low), g)
    elif g.tiles and g.kernel != (1, 1):
        views = _tile_slices(x, g)
    else:
        views = _slices(x, g)
    offsets[...] = 0
    np.copyto(out, views[0])
    better = scratch(g.out_shape, np.bool_, _MASK)
    candidate = scratch(g.out_shape, offsets.dtype, _TMP)
    for k in range(1, len(views)):
        v = views[k]
        # Strictly greater: ties keep the earlier offset.
        np.greater(v, out, out=better)
        # Offsets only grow with k, so "k where better, else unchanged" is a maximum.
        np.multiply(better, offsets.dtype.type(k), out=candidate)
        np.maximum(offsets, candidate, out=offsets)
        np.maximum(out, v, out=out)  # propagates NaN
    if floating:
        _fix_special_windows(out, offsets, views, g, padded)


def _fix_special_windows(
    out: np.ndarray, offsets: np.ndarray, views: list[np.ndarray], g: PoolGeometry, padded: bool
) -> None:
    """Match PyTorch on windows holding NaN or only ``-inf`` (rare: checked with one reduction)."""
    lowest = out.min() if out.size else 0.0
    if not (np.isnan(lowest) or (padded and lowest == -np.inf)):
        return
    nan = np.isnan(out)
    if nan.any():
        # PyTorch keeps the last NaN of the window.
        for k, v in enumerate(views):
            np.copyto(offsets, offsets.dtype.type(k), where=nan & np.isnan(v))
    if padded:
        # The padding is -inf too: a window of -inf picks its first cell inside the input.
        empty = out == -np.inf
        if empty.any():
            kw = g.kernel[1]
            sh, sw = g.stride
            ph, pw = g.padding
            first_i = np.maximum(0, ph - np.arange(g.oh) * sh)[:, None]
            first_j = np.maximum(0, pw - np.arange(g.ow) * sw)[None, :]
            first = (first_i * kw + first_j).astype(offsets.dtype)
            np.copyto(offsets, np.broadcast_to(first, offsets.shape), where=empty)


def max_pool2d_backward(
    grad: np.ndarray,
    offsets: np.ndarray,
    x_hw: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
) -> np.ndarray:
    """Gradient of ``max_pool2d``: send each output gradient to its window's winner.

    Parameters
    ----------
    grad : (N, C, OH, OW) array
    offsets : (N, C, OH, OW) array returned by ``max_pool2d``
    x_hw : (H, W) of the pooled input
    kernel_size, stride, padding, ceil_mode : as given to ``max_pool2d``

    Returns
    -------
    dx : (N, C, H, W) array of ``grad.dtype``; cells that win no window get exactly 0, and a cell
        winning several overlapping windows gets the sum.
    """
    op = "max_pool2d_backward"
    grad, offsets = np.asarray(grad), np.asarray(offsets)
    g = _backward_geometry(op, grad, x_hw, kernel_size, stride, padding, ceil_mode)
    _check_offsets(op, offsets, g)
    _check_dtype(op, grad)
    dx = np.empty(g.x_shape, dtype=grad.dtype)

    def part(s: slice, gp: PoolGeometry) -> None:
        _unpool_part(grad[s], offsets[s], dx[s], gp)

    in_parts(g, part)
    return dx


def _unpool_part(grad: np.ndarray, offsets: np.ndarray, dx: np.ndarray, g: PoolGeometry) -> None:
    """Scatter ``grad`` to the winners named by ``offsets``, into ``dx`` (geometry ``g``)."""
    padded = _needs_pad(g)
    overlap = _overlapping(g)
    if padded:
        target = _zeros_padded(g, grad.dtype)
    else:
        target = dx
        if not g.tiles:  # some cells are in no window: they keep 0
            target.fill(0)
    views = _slices(target, g)
    gu = _as_uint(grad)
    picked = scratch(g.out_shape, grad.dtype, _PICK) if overlap else None
    for k, mask in _bit_masks(offsets, g.kernel[0] * g.kernel[1], grad.dtype.itemsize):
        if overlap:
            # Windows overlap: accumulate.
            assert picked is not None  # made above for overlapping windows
            np.bitwise_and(gu, mask, out=_as_uint(picked))
            views[k] += picked
        else:
            # Each cell is in at most one window: write the selection in place.
            np.bitwise_and(gu, mask, out=_as_uint(views[k]))
    if padded:
        np.copyto(dx, _crop(target, g))


def max_pool2d_gather(
    dx: np.ndarray,
    offsets: np.ndarray,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
) -> np.ndarray:
    """Read an input-shaped array at each window's winner: (N, C, H, W) -> (N, C, OH, OW).

    This is the adjoint of ``max_pool2d_backward`` (and so its gradient with respect to
    ``grad``); ``max_pool2d_gather(x, offsets, ...)`` equals ``max_pool2d(x, ...)[0]``.
    """
    op = "max_pool2d_gather"
    dx, offsets = np.asarray(dx), np.asarray(offsets)
    g = _geometry(op, dx.shape, kernel_size, stride, padding, ceil_mode)
    _check_offsets(op, offsets, g)
    _check_dtype(op, dx)
    out = np.empty(g.out_shape, dtype=dx.dtype)

    def part(s: slice, gp: PoolGeometry) -> None:
        _gather_part(dx[s], offsets[s], out[s], gp)

    in_parts(g, part)
    return out


def _gather_part(dx: np.ndarray, offsets: np.ndarray, out: np.ndarray, g: PoolGeometry) -> None:
    """Read ``dx`` at the winners named by ``offsets``, into ``out`` (geometry ``g``)."""
    src = _padded(dx, g, 0) if _needs_pad(g) else dx
    views = _slices(src, g)
    out.fill(0)
    ou = _as_uint(out)
    picked = scratch(g.out_shape, ou.dtype, _PICK)
    for k, mask in _bit_masks(offsets, len(views), dx.dtype.itemsize):
        # Exactly one offset matches each cell, so OR-ing the selections assembles the result.
        np.bitwise_and(_as_uint(views[k]), mask, out=picked)
        np.bitwise_or(ou, picked, out=ou)
