"""Window views and argument checks shared by the pooling kernels, and their batch split.

Every kernel works on the ``kh * kw`` strided slices of the (padded) input, one per offset in the
window: slice ``(i, j)`` is ``x[:, :, i::sh, j::sw]`` cut to the output size, so a pass over the
slices visits every window at once with long vectorised loops. Temporaries live in per-thread
scratch memory, so the parts of a batch split (``in_parts``) never share one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from .geometry import IntOrPair, PoolGeometry, check_4d, pair, pool2d_geometry
from .scratch import scratch
from .threads import parallel_for

# Scratch slots (see scratch.py): a padded copy of the input, output-sized temporaries, and
# the window offsets of a tiled input laid out one after the other.
_PAD, _TMP, _MASK, _PICK, _TILES = 10, 11, 12, 13, 14

# A part of a split batch is worth a second thread from about this many input cells on
# (measured on two cores: 2 x 110K cells ran 25-30% slower than one part, 2 x 295K 1.2x faster).
MIN_PART_CELLS = 1 << 18


def in_parts(g: PoolGeometry, fn: Callable[[slice, PoolGeometry], None]) -> None:
    """Call ``fn(samples, part_geometry)`` for contiguous parts of the batch, in parallel.

    ``part_geometry`` is ``g`` with the part's batch size; ``fn`` writes only its samples.
    """
    per_sample = max(1, g.c * g.h * g.w)

    def part(start: int, stop: int) -> None:
        fn(slice(start, stop), dataclasses.replace(g, n=stop - start))

    parallel_for(part, g.n, min_per_part=max(1, -(-MIN_PART_CELLS // per_sample)))


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
    """The input-sized part of a padded buffer, as a view."""
    ph, pw = g.padding
    return buf[:, :, ph : ph + g.h, pw : pw + g.w]


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


def _bit_masks(offsets: np.ndarray, window: int, itemsize: int) -> Iterator:
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
