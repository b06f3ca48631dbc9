"""The column matrix of a convolution: im2col and col2im, chunk kernels and the wide layout.

Work is done in batch chunks whose column matrix fits in cache (about ``CHUNK_BYTES``): the
columns are rebuilt chunk by chunk into one reused buffer instead of materialising all of them,
which is faster than keeping the whole column matrix around (it would not fit in cache and its
fresh pages fault in). ``im2col`` is still available for callers that want the full matrix, and
``conv2d_weight`` accepts it. The convolution's matrix products (``conv.py``) use this module's
interface: the layout and chunk size for a geometry, the chunk kernels (``im2col_into``,
``col2im_into``, the ``wide_*`` functions) and the scratch slots they fill (``SLOT_*``).

The columns are built in one of three layouts, chosen from the geometry (``column_layout``); all
give the same results:

* ``"flat"`` (stride 1 and the output as wide as the input, e.g. ``padding="same"``): every
  kernel offset is one contiguous shifted copy of whole channel planes; the few columns that
  wrap into a neighbouring row are zeroed.
* ``"wide"`` (any other stride-1 convolution, e.g. LeNet's 5x5 "valid" layers): the output rows
  are computed over the whole padded width ``Wp`` and cut to ``OW`` afterwards, so every kernel
  offset is again one contiguous run of the (padded) input and the whole column matrix is a
  single copy of a sliding-window view. The extra ``Wp - OW`` columns per row cost a little
  matrix work and save numpy's per-row overhead on small images, which dominates otherwise.
  Its rows are (channel, kernel offset) and its columns (sample, position), so a chunk of
  ``wide_chunk`` samples (about ``WIDE_CHUNK_BYTES`` of columns) is one matrix product: on
  LeNet's layers one (O, CK) @ (CK, m*Lw) product is 15-25% faster than m small ones.
* ``"exact"`` (strides above 1): for every kernel offset, copy the part of the input that the
  windows see and write zeros where they see padding. ``col2im`` likewise adds each kernel
  offset's slice of the columns into the part of the output it overlaps, so input rows and
  columns that no window touches keep a zero gradient.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from .geometry import ConvGeometry, ConvPadding, IntOrPair, check_4d, conv2d_geometry, pair
from .scratch import scratch

# Target size in bytes of one chunk of the column matrix (at least one sample is always used).
CHUNK_BYTES = 2 << 20
# The same for the wide layout's chunks, which are one matrix product each: columns that stay
# in the core's cache (measured best at 256 KiB to 1 MiB on LeNet's layers).
WIDE_CHUNK_BYTES = 512 << 10

# Scratch slots (see scratch.py): the columns, a padded input or folded gradient, wide rows of
# the output or of its gradient, and the per-sample weight-gradient product.
SLOT_COLS, SLOT_SOURCE, SLOT_WIDE, SLOT_PART = 0, 1, 2, 3

__all__ = [
    "CHUNK_BYTES",
    "SLOT_COLS",
    "SLOT_PART",
    "SLOT_SOURCE",
    "SLOT_WIDE",
    "WIDE_CHUNK_BYTES",
    "chunk_size",
    "col2im",
    "col2im_into",
    "col_length",
    "column_layout",
    "im2col",
    "im2col_into",
    "wide_chunk",
    "wide_columns",
    "wide_cut",
    "wide_dims",
    "wide_grad",
    "wide_transpose",
]

# ---------------------------------------------------------------------------------------------
# Index arithmetic
# ---------------------------------------------------------------------------------------------


def _overlap(out_len: int, in_len: int, offset: int, stride: int) -> tuple[int, int]:
    """Output range ``[lo, hi)`` whose input index ``o * stride + offset`` is inside the input."""
    lo = 0 if offset >= 0 else (-offset + stride - 1) // stride
    hi = min(out_len, (in_len - 1 - offset) // stride + 1) if in_len - 1 - offset >= 0 else 0
    return lo, max(lo, hi)


def _offsets(g: ConvGeometry) -> Iterator[tuple[int, int, int, int, int, int, int, int]]:
    """For each kernel offset (i, j): i, j, the input offsets and the valid output ranges."""
    sh, sw = g.stride
    dh, dw = g.dilation
    top, _, left, _ = g.padding
    for i in range(g.kh):
        off_r = i * dh - top
        r0, r1 = _overlap(g.oh, g.h, off_r, sh)
        for j in range(g.kw):
            off_c = j * dw - left
            c0, c1 = _overlap(g.ow, g.w, off_c, sw)
            yield i, j, off_r, off_c, r0, r1, c0, c1


def _flat_ok(g: ConvGeometry) -> bool:
    """Stride 1 and output as wide as the input: each kernel offset is a flat shift of a plane."""
    return g.stride == (1, 1) and g.ow == g.w


def column_layout(g: ConvGeometry) -> str:
    """The column layout for this geometry: "flat", "wide" or "exact" (see the module notes)."""
    if g.stride != (1, 1):
        return "exact"
    return "flat" if g.ow == g.w else "wide"


def col_length(g: ConvGeometry, mode: str) -> int:
    """Columns per row of the column matrix: ``OH*OW``, or ``Lw`` in the wide layout."""
    return wide_dims(g)[2] if mode == "wide" else g.ohw


def chunk_size(g: ConvGeometry, length: int, itemsize: int, n: int) -> int:
    """Samples per chunk of ``n`` samples, so that a chunk of columns is about ``CHUNK_BYTES``.

    The ``n`` samples are split into chunks of equal size (the last may be smaller by less than
    one sample per chunk) rather than full chunks and a small remainder.
    """
    per_sample = max(1, g.ck * length * itemsize)
    chunks = -(-n * per_sample // CHUNK_BYTES)  # ceil
    return max(1, -(-n // max(1, chunks)))


# ---------------------------------------------------------------------------------------------
# im2col / col2im on one chunk
# ---------------------------------------------------------------------------------------------


def im2col_into(x: np.ndarray, cols: np.ndarray, g: ConvGeometry) -> None:
    """Fill ``cols`` (m, C, kh, kw, OH, OW) from ``x`` (m, C, H, W) (C-contiguous)."""
    m = x.shape[0]
    sh, sw = g.stride
    if _flat_ok(g):
        hw = g.h * g.w
        xf = x.reshape(m, g.c, hw)
    for i, j, off_r, off_c, r0, r1, c0, c1 in _offsets(g):
        dst = cols[:, :, i, j]  # (m, C, OH, OW)
        if r0 >= r1 or c0 >= c1:
            dst[...] = 0
            continue
        if _flat_ok(g):
            # Output (oh, ow) reads flat input position oh*W + ow + shift.
            shift = off_r * g.w + off_c
            a, b = max(0, -shift), min(g.ohw, hw - shift)
            flat = dst.reshape(m, g.c, g.ohw)
            flat[:, :, a:b] = xf[:, :, a + shift : b + shift]
            flat[:, :, :a] = 0
            flat[:, :, b:] = 0
            # Columns whose input column falls outside [0, W) picked up a neighbouring row.
            if c0 > 0:
                dst[:, :, :, :c0] = 0
            if c1 < g.ow:
                dst[:, :, :, c1:] = 0
            continue
        ir, ic = r0 * sh + off_r, c0 * sw + off_c
        dst[:, :, r0:r1, c0:c1] = x[:, :, ir : ir + (r1 - r0 - 1) * sh + 1 : sh,
                                    ic : ic + (c1 - c0 - 1) * sw + 1 : sw]  # fmt: skip
        if r0 > 0:
            dst[:, :, :r0] = 0
        if r1 < g.oh:
            dst[:, :, r1:] = 0
        if c0 > 0:
            dst[:, :, r0:r1, :c0] = 0
        if c1 < g.ow:
            dst[:, :, r0:r1, c1:] = 0


def col2im_into(cols: np.ndarray, dx: np.ndarray, g: ConvGeometry) -> None:
    """Write into ``dx`` (m, C, H, W) the adjoint of ``im2col_into`` applied to ``cols``.

    ``cols`` (m, C, kh, kw, OH, OW) may be overwritten.
    """
    m = dx.shape[0]
    sh, sw = g.stride
    offsets = list(_offsets(g))
    # An offset whose windows cover every input cell once can be assigned instead of added,
    # which saves zero-filling dx.
    first = None
    if g.stride == (1, 1):
        for k, (_, _, off_r, off_c, r0, r1, c0, c1) in enumerate(offsets):
            if r0 + off_r == 0 and r1 - r0 == g.h and c0 + off_c == 0 and c1 - c0 == g.w:
                first = k
                break
    if first is None:
        dx[...] = 0
    else:
        i, j, off_r, off_c, r0, r1, c0, c1 = offsets.pop(first)
        dx[...] = cols[:, :, i, j, r0:r1, c0:c1]
    if _flat_ok(g):
        hw = g.h * g.w
        dxf = dx.reshape(m, g.c, hw)
    for i, j, off_r, off_c, r0, r1, c0, c1 in offsets:
        if r0 >= r1 or c0 >= c1:
            continue
        src = cols[:, :, i, j]  # (m, C, OH, OW)
        if _flat_ok(g):
            # Zero the columns that would wrap into a neighbouring row, then add the whole
            # shifted plane at once.
            if c0 > 0:
                src[:, :, :, :c0] = 0
            if c1 < g.ow:
                src[:, :, :, c1:] = 0
            shift = off_r * g.w + off_c
            a, b = max(0, -shift), min(g.ohw, hw - shift)
            flat = src.reshape(m, g.c, g.ohw)
            dxf[:, :, a + shift : b + shift] += flat[:, :, a:b]
            continue
        ir, ic = r0 * sh + off_r, c0 * sw + off_c
        dx[:, :, ir : ir + (r1 - r0 - 1) * sh + 1 : sh,
           ic : ic + (c1 - c0 - 1) * sw + 1 : sw] += src[:, :, r0:r1, c0:c1]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The wide layout (stride 1): every kernel offset is one contiguous run of the padded input
# ---------------------------------------------------------------------------------------------


def wide_dims(g: ConvGeometry) -> tuple[int, int, int]:
    """Padded height and width, and the length ``(OH - 1) * Wp + OW`` of a wide column row.

    With stride 1, output ``(oh, ow)`` under kernel offset ``(i, j)`` reads the padded input at
    flat position ``oh * Wp + ow + i * dh * Wp + j * dw``. Letting ``ow`` run over the whole
    padded width makes every offset's row of columns a contiguous run of the padded input; the
    ``Wp - OW`` extra positions per output row are computed and dropped. The last output row
    stops at ``OW``, so no run reads past its plane.
    """
    top, bottom, left, right = g.padding
    hp, wp = g.h + top + bottom, g.w + left + right
    return hp, wp, (g.oh - 1) * wp + g.ow


def _wide_source(x: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """``x`` (m, C, H, W) with its zero padding, (m, C, Hp, Wp); ``x`` itself when unpadded."""
    top, bottom, left, right = g.padding
    if not (top or bottom or left or right):
        return x
    hp, wp, _ = wide_dims(g)
    buf = scratch((x.shape[0], g.c, hp, wp), x.dtype, SLOT_SOURCE)
    rows = slice(top, top + g.h)
    buf[:, :, :top] = 0
    buf[:, :, top + g.h :] = 0
    buf[:, :, rows, :left] = 0
    buf[:, :, rows, left + g.w :] = 0
    buf[:, :, rows, left : left + g.w] = x
    return buf


def wide_chunk(g: ConvGeometry, itemsize: int) -> int:
    """Samples per chunk of the wide column matrix: about ``WIDE_CHUNK_BYTES`` of columns.

    It depends on the geometry alone, so chunks start at the same samples whatever the thread
    split (parts are made of whole chunks) and every chunk's products have the same shapes.
    """
    per_sample = max(1, g.ck * wide_dims(g)[2] * itemsize)
    return max(1, WIDE_CHUNK_BYTES // per_sample)


def _wide_unfold(src: np.ndarray, cols: np.ndarray, g: ConvGeometry) -> None:
    """Fill ``cols`` (C, kh, kw, m, Lw) from the padded ``src`` (m, C, Hp, Wp) in one copy.

    ``src`` must be C-contiguous: the copy reads it through a sliding-window view in which
    offset (i, j) of channel c starts at ``i*dh*Wp + j*dw`` of the channel's plane. Rows are
    (channel, offset) and columns (sample, wide position), so one matrix product covers the
    whole chunk: ``(O, CK) @ (CK, m*Lw)``.
    """
    _, wp, _ = wide_dims(g)
    s_n, s_c, _, item = src.strides
    strides = (s_c, g.dilation[0] * wp * item, g.dilation[1] * item, s_n, item)
    # np.ndarray over src's buffer: the same view as numpy's as_strided, at a third the cost
    view = np.ndarray(cols.shape, src.dtype, buffer=src, strides=strides)
    view.flags.writeable = False
    np.copyto(cols, view)


def wide_columns(x: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """The wide column matrix of one chunk ``x`` (m, C, H, W), as (CK, m*Lw) scratch memory."""
    m = x.shape[0]
    _, _, lw = wide_dims(g)
    cols = scratch((g.c, g.kh, g.kw, m, lw), x.dtype, SLOT_COLS)
    _wide_unfold(_wide_source(x, g), cols, g)
    return cols.reshape(g.ck, m * lw)


def wide_cut(rows: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """The (O, m, OH, OW) positions kept from wide rows ``rows`` (O, m, Lw), as a view."""
    _, wp, lw = wide_dims(g)
    o, m, item = rows.shape[0], rows.shape[1], rows.itemsize
    strides = (m * lw * item, lw * item, wp * item, item)
    return np.ndarray((o, m, g.oh, g.ow), rows.dtype, buffer=rows, strides=strides)


def wide_grad(grad: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """``grad`` (m, O, OH, OW) spread to wide rows, (O, m, Lw), zeros in the dropped columns."""
    _, _, lw = wide_dims(g)
    m = grad.shape[0]
    buf = scratch((g.o, m, lw), grad.dtype, SLOT_WIDE)
    buf.fill(0)
    np.copyto(wide_cut(buf, g), grad.transpose(1, 0, 2, 3))
    return buf


def wide_transpose(grad: np.ndarray, w_kc: np.ndarray, dx: np.ndarray, g: ConvGeometry) -> None:
    """Transposed convolution of one chunk in the wide layout, written into ``dx``.

    ``grad`` is (m, O, OH, OW), ``w_kc`` the weight as (kh*kw*C, O) with rows ordered by kernel
    offset, then channel; ``dx`` is (m, C, H, W).

    The gradient is spread over whole padded planes, (m, O, Hp*Wp), zero outside the
    (OH, OW) corner, so ``w_kc @ grad`` gives, for every kernel offset, an (m, C*Hp*Wp) block
    whose planes follow each other exactly as the planes of the padded result do. Each kernel
    offset then adds its block into the result shifted by ``i*dh*Wp + j*dw``: one long run per
    sample instead of one short run per channel and sample. What a shift pushes past the end
    of a plane comes from the zero rows and columns of the spread gradient, so it adds zeros
    to the next plane (and to a margin after the last), provided the weight is finite.
    """
    hp, wp, _ = wide_dims(g)
    top, _, left, _ = g.padding
    dh, dw = g.dilation
    m, plane = grad.shape[0], hp * wp
    spread = scratch((m, g.o, hp, wp), grad.dtype, SLOT_WIDE)
    spread[:, :, g.oh :] = 0
    spread[:, :, : g.oh, g.ow :] = 0
    spread[:, :, : g.oh, : g.ow] = grad
    # One kernel row at a time (a fifth of the memory of all offsets at once for 5x5 kernels,
    # and no slower): (kw*C, O) @ (m, O, Hp*Wp) -> (m, kw*C, Hp*Wp) = (m, kw, C*Hp*Wp)
    blocks = scratch((m, g.kw, g.c * plane), grad.dtype, SLOT_COLS)
    spread2 = spread.reshape(m, g.o, plane)
    size = m * g.c * plane
    margin = (g.kh - 1) * dh * wp + (g.kw - 1) * dw
    acc = scratch((size + margin,), grad.dtype, SLOT_SOURCE)
    acc[size:] = 0
    rows = g.kw * g.c
    for i in range(g.kh):
        np.matmul(w_kc[i * rows : (i + 1) * rows], spread2, out=blocks.reshape(m, rows, plane))
        for j in range(g.kw):
            if i == 0 and j == 0:  # no shift: assigned instead of zero-filling first
                acc[:size].reshape(m, g.c * plane)[...] = blocks[:, 0]
                continue
            shift = i * dh * wp + j * dw
            part = acc[shift : shift + size].reshape(m, g.c * plane)
            np.add(part, blocks[:, j], out=part)
    dx[...] = acc[:size].reshape(m, g.c, hp, wp)[:, :, top : top + g.h, left : left + g.w]


def im2col(
    x: np.ndarray,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: ConvPadding = 0,
    dilation: IntOrPair = 1,
) -> np.ndarray:
    """Unfold every convolution window of ``x`` into a column.

    Parameters
    ----------
    x : (N, C, H, W) array
    kernel_size, stride, dilation : int or (h, w)
    padding : int, (ph, pw), (top, bottom, left, right), "valid" or "same"

    Returns
    -------
    cols : (N, C*kh*kw, OH*OW) array of ``x.dtype``; row ``c*kh*kw + i*kw + j`` holds the input
        value under kernel offset ``(i, j)`` of channel ``c`` for every output position.

    Example: ``im2col(np.arange(9.).reshape(1, 1, 3, 3), 2)[0]`` has the four 2x2 windows as
    columns, ``[[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]``.
    """
    x = np.asarray(x)
    check_4d(x.shape, "im2col")
    kh, kw = pair(kernel_size, "kernel_size", op="im2col")
    g = conv2d_geometry(x.shape, (1, x.shape[1], kh, kw), stride, padding, dilation, op="im2col")
    x = np.ascontiguousarray(x)
    # (N, C, H, W) -> (N, C, kh, kw, OH, OW) -> (N, C*kh*kw, OH*OW)
    cols = np.empty((g.n, g.c, g.kh, g.kw, g.oh, g.ow), dtype=x.dtype)
    im2col_into(x, cols, g)
    return cols.reshape(g.n, g.ck, g.ohw)


def col2im(
    cols: np.ndarray,
    x_shape: Sequence[int],
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: ConvPadding = 0,
    dilation: IntOrPair = 1,
) -> np.ndarray:
    """Fold columns back into an image, summing overlapping windows (the adjoint of ``im2col``).

    ``cols`` is (N, C*kh*kw, OH*OW); the result has shape ``x_shape`` (N, C, H, W). Cells that
    only padding or no window covers receive nothing from the padding and stay zero.

    Example: ``col2im(np.ones((1, 4, 4)), (1, 1, 3, 3), 2)[0, 0]`` counts the windows over each
    cell, ``[[1, 2, 1], [2, 4, 2], [1, 2, 1]]``.
    """
    cols = np.asarray(cols)
    kh, kw = pair(kernel_size, "kernel_size", op="col2im")
    check_4d(x_shape, "col2im", "x_shape")
    g = conv2d_geometry(x_shape, (1, x_shape[1], kh, kw), stride, padding, dilation, op="col2im")
    if cols.shape != (g.n, g.ck, g.ohw):
        raise ValueError(
            f"col2im: cols has shape {cols.shape}, expected {(g.n, g.ck, g.ohw)} for x_shape "
            f"{tuple(x_shape)} and kernel {(kh, kw)}"
        )
    # (N, C*kh*kw, OH*OW) -> (N, C, kh, kw, OH, OW); copied because the fold may overwrite it.
    cols6 = np.array(cols, order="C").reshape(g.n, g.c, g.kh, g.kw, g.oh, g.ow)
    dx = np.empty(g.x_shape, dtype=cols.dtype)
    col2im_into(cols6, dx, g)
    return dx
