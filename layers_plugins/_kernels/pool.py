"""Max, average and sum pooling on plain numpy arrays (NCHW), forward and backward.

Every kernel works on the ``kh * kw`` strided slices of the (padded) input, one per offset in the
window: slice ``(i, j)`` is ``x[:, :, i::sh, j::sw]`` cut to the output size, so a pass over the
slices visits every window at once with long vectorised loops. When the windows tile the input
exactly (stride == kernel, no padding, sizes divisible) the slices are views of the input itself
and the backward passes write each input cell exactly once, without a zero fill or a padded
buffer.

Max pooling records, for each output cell, the offset ``i * kw + j`` of the winning element in its
window (``offsets``, a small unsigned integer array). Ties go to the first maximum in row-major
window order, NaN wins over numbers (the last NaN of a window), and a window whose values are all
``-inf`` picks its first cell inside the input: the same choices as PyTorch. The backward pass
scatters the gradient to the winners; ``max_pool2d_gather`` is its adjoint (it reads an
input-shaped array at the winners), which is what differentiating the backward pass needs.

Average and sum pooling are linear: their backward passes spread each output gradient over its
window (divided by the window's divisor for the average), and ``avg_pool2d`` /
``sum_pool2d`` are in turn the adjoints of those backward passes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .geometry import IntOrPair, PoolGeometry, check_4d, pair, pool2d_geometry
from .scratch import scratch

__all__ = [
    "avg_pool2d",
    "avg_pool2d_backward",
    "avg_pool2d_divisor",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_gather",
    "sum_pool2d",
    "sum_pool2d_backward",
]

# Scratch slots (see scratch.py): a padded copy of the input, output-sized temporaries, and
# the window offsets of a tiled input laid out one after the other.
_PAD, _TMP, _MASK, _PICK, _TILES = 10, 11, 12, 13, 14


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _offset_dtype(window: int) -> np.dtype:
    """Smallest unsigned integer type holding offsets ``0 .. window - 1``."""
    if window <= 1 << 8:
        return np.dtype(np.uint8)
    if window <= 1 << 16:
        return np.dtype(np.uint16)
    return np.dtype(np.uint32)


def _needs_pad(g: PoolGeometry) -> bool:
    """Whether some window reaches outside the input (padding or a ``ceil_mode`` window)."""
    eh, ew = g.extent
    return g.padding != (0, 0) or eh > g.h or ew > g.w


def _overlapping(g: PoolGeometry) -> bool:
    return g.stride[0] < g.kernel[0] or g.stride[1] < g.kernel[1]


def _padded(x: np.ndarray, g: PoolGeometry, fill: float) -> np.ndarray:
    """``x`` placed at ``(ph, pw)`` in a scratch buffer large enough for every window."""
    ph, pw = g.padding
    eh, ew = g.extent
    shape = (g.n, g.c, max(eh, ph + g.h), max(ew, pw + g.w))
    buf = scratch(shape, x.dtype, _PAD)
    bottom, right = ph + g.h, pw + g.w
    buf[:, :, :ph] = fill
    buf[:, :, bottom:] = fill
    buf[:, :, ph:bottom, :pw] = fill
    buf[:, :, ph:bottom, right:] = fill
    buf[:, :, ph:bottom, pw:right] = x
    return buf


def _zeros_padded(g: PoolGeometry, dtype: np.dtype) -> np.ndarray:
    ph, pw = g.padding
    eh, ew = g.extent
    buf = scratch((g.n, g.c, max(eh, ph + g.h), max(ew, pw + g.w)), dtype, _PAD)
    buf.fill(0)
    return buf


def _crop(buf: np.ndarray, g: PoolGeometry) -> np.ndarray:
    """The input-sized part of a padded buffer, as a new array."""
    ph, pw = g.padding
    return buf[:, :, ph : ph + g.h, pw : pw + g.w].copy()


def _slices(a: np.ndarray, g: PoolGeometry) -> list[np.ndarray]:
    """The ``kh * kw`` window-offset views of ``a``, each (N, C, OH, OW), in row-major order."""
    kh, kw = g.kernel
    sh, sw = g.stride
    rows, cols = sh * (g.oh - 1) + 1, sw * (g.ow - 1) + 1
    return [a[:, :, i : i + rows : sh, j : j + cols : sw] for i in range(kh) for j in range(kw)]


def _tile_slices(x: np.ndarray, g: PoolGeometry) -> list[np.ndarray]:
    """Contiguous copies of the window-offset slices of a tiled input (``g.tiles``).

    When the windows tile the input, the slices together hold each input value once: one
    copy of ``x`` rearranged as (kh, kw, N, C, OH, OW) turns every later pass over a slice into
    a pass over contiguous memory, which numpy vectorises; passes over the strided slices
    themselves are several times slower (float64 especially). Read-only use only: the copy
    lives in scratch memory.
    """
    kh, kw = g.kernel
    buf = scratch((kh, kw, g.n, g.c, g.oh, g.ow), x.dtype, _TILES)
    # (N, C, OH, kh, OW, kw) -> (kh, kw, N, C, OH, OW)
    np.copyto(buf, x.reshape(g.n, g.c, g.oh, kh, g.ow, kw).transpose(3, 5, 0, 1, 2, 4))
    return [buf[i, j] for i in range(kh) for j in range(kw)]


def _geometry(
    op: str,
    x_shape: Sequence[int],
    kernel_size: IntOrPair,
    stride: IntOrPair | None,
    padding: IntOrPair,
    ceil_mode: bool,
) -> PoolGeometry:
    return pool2d_geometry(x_shape, kernel_size, stride, padding, ceil_mode, op=op)


def _backward_geometry(
    op: str,
    grad: np.ndarray,
    x_hw: IntOrPair,
    kernel_size: IntOrPair,
    stride: IntOrPair | None,
    padding: IntOrPair,
    ceil_mode: bool,
) -> PoolGeometry:
    check_4d(grad.shape, op, "grad", "(N, C, OH, OW)")
    h, w = pair(x_hw, "x_hw", op=op)
    x_shape = (grad.shape[0], grad.shape[1], h, w)
    g = _geometry(op, x_shape, kernel_size, stride, padding, ceil_mode)
    if grad.shape != g.out_shape:
        raise ValueError(
            f"{op}: grad has shape {tuple(grad.shape)} but pooling an input of shape {x_shape} "
            f"(kernel_size {g.kernel}, stride {g.stride}, padding {g.padding}, "
            f"ceil_mode={g.ceil_mode}) gives shape {g.out_shape}"
        )
    return g


def _check_offsets(op: str, offsets: np.ndarray, g: PoolGeometry) -> None:
    if offsets.shape != g.out_shape:
        raise ValueError(
            f"{op}: offsets has shape {tuple(offsets.shape)}, expected the output shape "
            f"{g.out_shape}"
        )


def _bit_masks(offsets: np.ndarray, window: int, itemsize: int):
    """For each window offset k, an all-ones/all-zeros integer mask of ``offsets == k``.

    Selecting with a bitwise AND keeps the gradient exact (``inf * 0`` would give NaN) and is
    several times faster than a masked copy, whose unpredictable branches dominate otherwise.
    """
    udtype = np.dtype(f"u{itemsize}")
    ones = udtype.type(np.iinfo(udtype).max)
    hit = scratch(offsets.shape, np.bool_, _MASK)
    mask = scratch(offsets.shape, udtype, _TMP)
    for k in range(window):
        np.equal(offsets, k, out=hit)
        np.multiply(hit, ones, out=mask)
        yield k, mask


def _as_uint(a: np.ndarray) -> np.ndarray:
    return a.view(np.dtype(f"u{a.dtype.itemsize}"))


# ---------------------------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------------------------


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
    if x.dtype.kind == "c" or x.dtype.itemsize not in (1, 2, 4, 8):
        raise TypeError(f"max_pool2d: unsupported dtype {x.dtype}")
    g = _geometry("max_pool2d", x.shape, kernel_size, stride, padding, ceil_mode)
    floating = x.dtype.kind == "f"
    padded = _needs_pad(g)
    if padded:
        low = -np.inf if floating else np.iinfo(x.dtype).min
        views = _slices(_padded(x, g, low), g)
    elif g.tiles and g.kernel != (1, 1):
        views = _tile_slices(x, g)
    else:
        views = _slices(x, g)

    out = np.empty(g.out_shape, dtype=x.dtype)
    offsets = np.zeros(g.out_shape, dtype=_offset_dtype(len(views)))
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
    return out, offsets


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
    window = g.kernel[0] * g.kernel[1]
    if grad.dtype.itemsize not in (1, 2, 4, 8) or grad.dtype.kind == "c":
        raise TypeError(f"{op}: unsupported dtype {grad.dtype}")

    padded = _needs_pad(g)
    overlap = _overlapping(g)
    if padded:
        target = _zeros_padded(g, grad.dtype)
    elif g.tiles:
        target = np.empty(g.x_shape, dtype=grad.dtype)
    else:
        target = np.zeros(g.x_shape, dtype=grad.dtype)
    views = _slices(target, g)
    gu = _as_uint(grad)
    picked = scratch(g.out_shape, grad.dtype, _PICK) if overlap else None
    for k, mask in _bit_masks(offsets, window, grad.dtype.itemsize):
        if overlap:
            # Windows overlap: accumulate.
            np.bitwise_and(gu, mask, out=_as_uint(picked))
            views[k] += picked
        else:
            # Each cell is in at most one window: write the selection in place.
            np.bitwise_and(gu, mask, out=_as_uint(views[k]))
    return _crop(target, g) if padded else target


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
    if dx.dtype.itemsize not in (1, 2, 4, 8) or dx.dtype.kind == "c":
        raise TypeError(f"{op}: unsupported dtype {dx.dtype}")
    src = _padded(dx, g, 0) if _needs_pad(g) else dx
    views = _slices(src, g)
    out = np.zeros(g.out_shape, dtype=dx.dtype)
    ou = _as_uint(out)
    picked = scratch(g.out_shape, ou.dtype, _PICK)
    for k, mask in _bit_masks(offsets, len(views), dx.dtype.itemsize):
        # Exactly one offset matches each cell, so OR-ing the selections assembles the result.
        np.bitwise_and(_as_uint(views[k]), mask, out=picked)
        np.bitwise_or(ou, picked, out=ou)
    return out


# ---------------------------------------------------------------------------------------------
# Sum and average pooling
# ---------------------------------------------------------------------------------------------


def _window_sum(x: np.ndarray, g: PoolGeometry) -> np.ndarray:
    """Sum of every window, padded cells counting as zero: (N, C, H, W) -> (N, C, OH, OW)."""
    src = _padded(x, g, 0) if _needs_pad(g) else x
    views = _slices(src, g)
    out = np.empty(g.out_shape, dtype=x.dtype)
    if len(views) == 1:
        np.copyto(out, views[0])
        return out
    np.add(views[0], views[1], out=out)
    for v in views[2:]:
        out += v
    return out


def _spread(grad: np.ndarray, g: PoolGeometry) -> np.ndarray:
    """Adjoint of ``_window_sum``: add each output value to every cell of its window."""
    if g.tiles:
        kh, kw = g.kernel
        dx = np.empty(g.x_shape, dtype=grad.dtype)
        # (N, C, OH, kh, OW, kw) view of dx, every window filled at once.
        dx.reshape(g.n, g.c, g.oh, kh, g.ow, kw)[...] = grad[:, :, :, None, :, None]
        return dx
    padded = _needs_pad(g)
    target = _zeros_padded(g, grad.dtype) if padded else np.zeros(g.x_shape, dtype=grad.dtype)
    overlap = _overlapping(g)
    for v in _slices(target, g):
        if overlap:
            v += grad
        else:
            v[...] = grad
    return _crop(target, g) if padded else target


def _check_float(op: str, a: np.ndarray) -> None:
    if a.dtype.kind not in "fc":
        raise TypeError(f"{op}: expected a floating-point array, got dtype {a.dtype}")


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


def _uniform_divisor(g: PoolGeometry) -> bool:
    """Every window covers kh*kw input cells (no padding, no partial window)."""
    return not _needs_pad(g)


def sum_pool2d(
    x: np.ndarray,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
) -> np.ndarray:
    """Sum over each window (padded cells are zero): (N, C, H, W) -> (N, C, OH, OW)."""
    x = np.asarray(x)
    _check_float("sum_pool2d", x)
    g = _geometry("sum_pool2d", x.shape, kernel_size, stride, padding, ceil_mode)
    return _window_sum(x, g)


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
    grad = np.asarray(grad)
    _check_float("sum_pool2d_backward", grad)
    g = _backward_geometry(
        "sum_pool2d_backward", grad, x_hw, kernel_size, stride, padding, ceil_mode
    )
    return _spread(grad, g)


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
    x = np.asarray(x)
    _check_float("avg_pool2d", x)
    g = _geometry("avg_pool2d", x.shape, kernel_size, stride, padding, ceil_mode)
    out = _window_sum(x, g)
    if _uniform_divisor(g):
        out /= x.dtype.type(g.kernel[0] * g.kernel[1])
    else:
        out /= _divisor(g, count_include_pad).astype(x.dtype)
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
    grad = np.asarray(grad)
    _check_float("avg_pool2d_backward", grad)
    g = _backward_geometry(
        "avg_pool2d_backward", grad, x_hw, kernel_size, stride, padding, ceil_mode
    )
    if _uniform_divisor(g):
        scaled = grad / grad.dtype.type(g.kernel[0] * g.kernel[1])
    else:
        scaled = grad / _divisor(g, count_include_pad).astype(grad.dtype)
    return _spread(scaled, g)
