"""conv2d and its gradient companions on plain numpy arrays (NCHW, cross-correlation).

The three kernels below are the three matrix products of a convolution layer. With
``cols = im2col(x)`` of shape ``(N, C*kh*kw, OH*OW)`` and ``w2d = w.reshape(O, C*kh*kw)``:

* ``conv2d``            y  = w2d @ cols                     (N, O, OH*OW), already NCHW
* ``conv_transpose2d``  dx = col2im(w2d.T @ dy)             (N, C, H, W)
* ``conv2d_weight``     dw = sum_n dy[n] @ cols[n].T        (O, C*kh*kw)

Each is linear in each argument and the gradients of each are the other kernels, which is what
lets the autograd ops built on them be differentiated again. With ``u`` the upstream gradient:

* ``y = conv2d(x, w)``:                 dx = conv_transpose2d(u, w, x_hw),
                                        dw = conv2d_weight(x, u, w.shape)
* ``dx = conv_transpose2d(gy, w, ...)``: d gy = conv2d(u, w),  dw = conv2d_weight(u, gy, w.shape)
* ``dw = conv2d_weight(x, gy, ...)``:    dx = conv_transpose2d(gy, u, x_hw),  d gy = conv2d(x, u)

(all with the same stride, padding and dilation).

The batch is split over ``mg.get_num_threads()`` threads (``threads.py``): each part
runs the same per-sample products, so outputs and input gradients do not depend on the thread
count; the weight gradient adds one partial sum per part, in part order. In the wide layout
(stride 1, narrower output) the forward and the weight gradient are one matrix product per
chunk of samples instead of one per sample; the chunks depend on the geometry alone and parts
are made of whole chunks, so these results (weight gradient included) do not depend on the
thread count either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from .columns import (
    SLOT_COLS,
    SLOT_PART,
    SLOT_WIDE,
    chunk_size,
    col2im_into,
    col_length,
    column_layout,
    im2col_into,
    wide_chunk,
    wide_columns,
    wide_cut,
    wide_dims,
    wide_grad,
    wide_transpose,
)
from .geometry import ConvGeometry, ConvPadding, IntOrPair, check_4d, conv2d_geometry, pair
from .scratch import scratch
from .threads import parallel_for

__all__ = ["conv2d", "conv2d_bias_grad", "conv2d_weight", "conv_transpose2d"]

T = TypeVar("T")

# A part of a split batch is worth a second thread from about this many multiply-adds on.
# Measured on two cores: LeNet's layers (up to 10M multiply-adds a call) ran 10-25% slower
# split in two (the parts' numpy passes share the memory bus and the interpreter lock), a
# 600M one 1.3x faster.
MIN_PART_MACS = 1 << 23


def _result_dtype(*arrays: np.ndarray) -> np.dtype:
    dtype = np.result_type(*arrays)
    if dtype.kind not in "fc":
        dtype = np.result_type(dtype, np.float32)
    return dtype


def _min_per_part(g: ConvGeometry) -> int:
    """Samples per part so that each part has at least ``MIN_PART_MACS`` multiply-adds."""
    per_sample = max(1, g.o * g.ck * g.ohw)
    return max(1, -(-MIN_PART_MACS // per_sample))


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    bias: np.ndarray | None = None,
    stride: IntOrPair = 1,
    padding: ConvPadding = 0,
    dilation: IntOrPair = 1,
) -> np.ndarray:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d`` (groups=1).

    Parameters
    ----------
    x : (N, C, H, W) array
    w : (O, C, kh, kw) array
    bias : (O,) array or None
    stride, dilation : int or (h, w)
    padding : int, (ph, pw), (top, bottom, left, right), "valid" or "same"

    Returns
    -------
    y : (N, O, OH, OW) array, dtype ``np.result_type(x, w)`` (float32 stays float32)

    Example: the 5x5 image ``[[1,1,1,0,0],[0,1,1,1,0],[0,0,1,1,1],[0,0,1,1,0],[0,1,1,0,0]]``
    with kernel ``[[1,0,1],[0,1,0],[1,0,1]]`` gives ``[[4,3,4],[2,4,3],[2,3,4]]``.
    """
    x, w = np.asarray(x), np.asarray(w)
    g = conv2d_geometry(x.shape, w.shape, stride, padding, dilation, op="conv2d")
    arrays = (x, w) if bias is None else (x, w, np.asarray(bias))
    dtype = _result_dtype(*arrays)
    if bias is not None:
        bias = np.asarray(bias)
        if bias.shape != (g.o,):
            raise ValueError(
                f"conv2d: bias has shape {bias.shape} but weight (shape {g.w_shape}) has "
                f"{g.o} output channels; expected shape ({g.o},)"
            )
        bias = bias.astype(dtype, copy=False).reshape(g.o, 1, 1)
    x = np.ascontiguousarray(x, dtype=dtype)
    w2d = np.ascontiguousarray(w, dtype=dtype).reshape(g.o, g.ck)  # (O, C*kh*kw)
    y = np.empty(g.out_shape, dtype=dtype)  # (N, O, OH, OW)

    if column_layout(g) == "wide":
        _in_wide_chunks(g, x.dtype.itemsize, lambda s: _conv2d_wide(x[s], w2d, bias, y[s], g))
        return y

    def part(start: int, stop: int) -> None:
        _conv2d_part(x[start:stop], w2d, bias, y[start:stop], g)

    parallel_for(part, g.n, min_per_part=_min_per_part(g))
    return y


def _in_wide_chunks(g: ConvGeometry, itemsize: int, fn: Callable[[slice], T]) -> list[T]:
    """Call ``fn(samples)`` for every chunk of the wide layout, parts of whole chunks in
    parallel; returns the results in order. Chunks start at multiples of ``wide_chunk``
    whatever the thread count, so each one is computed the same way."""
    step = wide_chunk(g, itemsize)

    def part(first: int, stop: int) -> list[T]:
        return [fn(slice(c * step, min((c + 1) * step, g.n))) for c in range(first, stop)]

    chunks = -(-g.n // step)
    min_chunks = -(-_min_per_part(g) // step)
    return [r for rs in parallel_for(part, chunks, min_per_part=min_chunks) for r in rs]


def _conv2d_wide(
    x: np.ndarray, w2d: np.ndarray, bias: np.ndarray | None, y: np.ndarray, g: ConvGeometry
) -> None:
    """conv2d of one chunk ``x`` (m, C, H, W) into ``y`` (m, O, OH, OW), wide layout.

    One product (O, CK) @ (CK, m*Lw) gives wide rows for the whole chunk; the bias is added to
    them (contiguous) and the kept positions are copied out in NCHW order.
    """
    cols = wide_columns(x, g)  # (CK, m*Lw)
    rows = scratch((g.o, x.shape[0], cols.shape[1] // x.shape[0]), x.dtype, SLOT_WIDE)
    np.matmul(w2d, cols, out=rows.reshape(g.o, cols.shape[1]))
    if bias is not None:
        rows += bias.reshape(g.o, 1, 1)
    np.copyto(y, wide_cut(rows, g).transpose(1, 0, 2, 3))


def _conv2d_part(
    x: np.ndarray, w2d: np.ndarray, bias: np.ndarray | None, y: np.ndarray, g: ConvGeometry
) -> None:
    """conv2d of the samples ``x`` (n, C, H, W) into ``y`` (n, O, OH, OW), chunk by chunk."""
    mode = column_layout(g)
    length = col_length(g, mode)
    n, dtype = x.shape[0], x.dtype
    step = chunk_size(g, length, dtype.itemsize, n)
    cols = scratch((step, g.c, g.kh, g.kw, length), dtype, SLOT_COLS)
    for n0 in range(0, n, step):
        m = min(step, n - n0)
        c = cols[:m]
        xc, out = x[n0 : n0 + m], y[n0 : n0 + m]
        im2col_into(xc, c.reshape(m, g.c, g.kh, g.kw, g.oh, g.ow), g)
        # (O, CK) @ (m, CK, L) -> (m, O, L)
        out3 = out.reshape(m, g.o, g.ohw)
        np.matmul(w2d, c.reshape(m, g.ck, g.ohw), out=out3)
        if bias is not None:
            out += bias


def conv_transpose2d(
    grad: np.ndarray,
    w: np.ndarray,
    x_hw: IntOrPair,
    stride: IntOrPair = 1,
    padding: ConvPadding = 0,
    dilation: IntOrPair = 1,
) -> np.ndarray:
    """Gradient of ``conv2d`` with respect to its input (a transposed convolution).

    Parameters
    ----------
    grad : (N, O, OH, OW) array, the gradient of the conv2d output
    w : (O, C, kh, kw) array
    x_hw : (H, W) of the conv2d input; it fixes the output size, which the stride alone does not
    stride, padding, dilation : as given to ``conv2d``

    Returns
    -------
    dx : (N, C, H, W) array, dtype ``np.result_type(grad, w)``. Input rows/columns that no
        window reads (when the stride does not divide the padded size) get zero.

    Example: ``conv_transpose2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), (3, 3))[0, 0]``
    is ``[[1, 2, 1], [2, 4, 2], [1, 2, 1]]``, the number of windows over each cell.
    """
    grad, w = np.asarray(grad), np.asarray(w)
    op = "conv_transpose2d"
    check_4d(grad.shape, op, "grad", "(N, O, OH, OW)")
    check_4d(w.shape, op, "weight", "(out_channels, in_channels, kh, kw)")
    h, wd = pair(x_hw, "x_hw", op=op)
    x_shape = (grad.shape[0], w.shape[1], h, wd)
    g = conv2d_geometry(x_shape, w.shape, stride, padding, dilation, op=op)
    if grad.shape != g.out_shape:
        raise ValueError(
            f"{op}: grad has shape {grad.shape} but conv2d of an input of shape {x_shape} with "
            f"weight {g.w_shape} (stride {g.stride}, padding {g.padding}, dilation {g.dilation}) "
            f"gives shape {g.out_shape}"
        )
    dtype = _result_dtype(grad, w)
    grad = np.ascontiguousarray(grad, dtype=dtype)
    w = np.ascontiguousarray(w, dtype=dtype)
    mode = column_layout(g)
    if mode == "wide" and not np.isfinite(w).all():
        # The wide layout multiplies zero gradients by the weight: NaN for an infinite one.
        mode = "exact"
    if mode == "wide":
        # (O, C, kh, kw) -> (kh, kw, C, O) -> (kh*kw*C, O): rows by kernel offset, then channel
        wm = np.ascontiguousarray(w.transpose(2, 3, 1, 0)).reshape(g.ck, g.o)
    else:
        wm = w.reshape(g.o, g.ck).T  # (CK, O)
    dx = np.empty(g.x_shape, dtype=dtype)

    def part(start: int, stop: int) -> None:
        _transpose_part(grad[start:stop], wm, dx[start:stop], g, mode)

    parallel_for(part, g.n, min_per_part=_min_per_part(g))
    return dx


def _transpose_part(
    grad: np.ndarray, wm: np.ndarray, dx: np.ndarray, g: ConvGeometry, mode: str
) -> None:
    """conv_transpose2d of ``grad`` (n, O, OH, OW) into ``dx`` (n, C, H, W), chunk by chunk.

    ``wm`` is the weight as (kh*kw*C, O) in the wide layout, as (C*kh*kw, O) otherwise.
    """
    n, dtype = grad.shape[0], grad.dtype
    if mode == "wide":
        hp, wp, _ = wide_dims(g)
        step = chunk_size(g, hp * wp, dtype.itemsize, n)
        for n0 in range(0, n, step):
            sl = slice(n0, n0 + step)
            wide_transpose(grad[sl], wm, dx[sl], g)
        return
    step = chunk_size(g, g.ohw, dtype.itemsize, n)
    cols = scratch((step, g.ck, g.ohw), dtype, SLOT_COLS)
    for n0 in range(0, n, step):
        m = min(step, n - n0)
        c = cols[:m]
        # (CK, O) @ (m, O, L) -> (m, CK, L)
        np.matmul(wm, grad[n0 : n0 + m].reshape(m, g.o, g.ohw), out=c)
        col2im_into(c.reshape(m, g.c, g.kh, g.kw, g.oh, g.ow), dx[n0 : n0 + m], g)


def conv2d_weight(
    x: np.ndarray,
    grad: np.ndarray,
    w_shape: Sequence[int],
    stride: IntOrPair = 1,
    padding: ConvPadding = 0,
    dilation: IntOrPair = 1,
    *,
    cols: np.ndarray | None = None,
) -> np.ndarray:
    """Gradient of ``conv2d`` with respect to its weight.

    Parameters
    ----------
    x : (N, C, H, W) array, the conv2d input
    grad : (N, O, OH, OW) array, the gradient of the conv2d output
    w_shape : (O, C, kh, kw)
    stride, padding, dilation : as given to ``conv2d``
    cols : optional ``im2col(x, ...)`` of shape (N, C*kh*kw, OH*OW), to skip unfolding ``x``

    Returns
    -------
    dw : (O, C, kh, kw) array, dtype ``np.result_type(x, grad)``

    Example: ``conv2d_weight(np.ones((1, 1, 3, 3)), np.ones((1, 2, 2, 2)), (2, 1, 2, 2))`` is
    4 everywhere: each kernel tap sees four windows.
    """
    x, grad = np.asarray(x), np.asarray(grad)
    op = "conv2d_weight"
    check_4d(w_shape, op, "w_shape", "(out_channels, in_channels, kh, kw)")
    g = conv2d_geometry(x.shape, w_shape, stride, padding, dilation, op=op)
    if grad.shape != g.out_shape:
        raise ValueError(
            f"{op}: grad has shape {grad.shape} but conv2d of input {g.x_shape} with weight "
            f"{g.w_shape} (stride {g.stride}, padding {g.padding}, dilation {g.dilation}) "
            f"gives shape {g.out_shape}"
        )
    dtype = _result_dtype(x, grad)
    grad = np.ascontiguousarray(grad, dtype=dtype)
    if cols is not None:
        cols = np.asarray(cols)
        if cols.shape != (g.n, g.ck, g.ohw):
            raise ValueError(f"{op}: cols has shape {cols.shape}, expected {(g.n, g.ck, g.ohw)}")
        dw_t = np.zeros((g.ck, g.o), dtype=dtype)  # (CK, O)
        _accumulate(dw_t, cols.astype(dtype, copy=False), grad.reshape(g.n, g.o, g.ohw))
        return np.ascontiguousarray(dw_t.T).reshape(g.w_shape)
    x = np.ascontiguousarray(x, dtype=dtype)
    mode = column_layout(g)
    if mode == "wide":
        # The dropped wide columns multiply input values by zero: an infinite input makes
        # 0 * inf = NaN there (quietly), and then the exact layout redoes the work.
        with np.errstate(invalid="ignore"):
            dw_t = _weight_grad_t(x, grad, g, mode)
        if not np.isfinite(dw_t).all():
            dw_t = _weight_grad_t(x, grad, g, "exact")
    else:
        dw_t = _weight_grad_t(x, grad, g, mode)
    # (CK, O) -> (O, C, kh, kw)
    return np.ascontiguousarray(dw_t.T).reshape(g.w_shape)


def _accumulate(dw_t: np.ndarray, cols: np.ndarray, grad: np.ndarray) -> None:
    """``dw_t += sum_n cols[n] @ grad[n].T``: (m, CK, L), (m, O, L) -> (CK, O).

    One batched product (CK, L) @ (L, O) per sample, then a sum over the samples: BLAS runs
    this orientation a little faster than (O, L) @ (L, CK), and one batched call avoids a
    Python loop over small products.
    """
    m = cols.shape[0]
    part = scratch((m, *dw_t.shape), dw_t.dtype, SLOT_PART)
    np.matmul(cols, grad.transpose(0, 2, 1), out=part)
    dw_t += part.sum(axis=0)


def _weight_grad_t(x: np.ndarray, grad: np.ndarray, g: ConvGeometry, mode: str) -> np.ndarray:
    """The weight gradient transposed, (CK, O): one partial sum per part (per chunk in the
    wide layout), added in order."""
    if mode == "wide":
        size = x.dtype.itemsize
        partials = _in_wide_chunks(g, size, lambda s: _weight_grad_wide(x[s], grad[s], g))
    else:

        def part(start: int, stop: int) -> np.ndarray:
            return _weight_grad_part(x[start:stop], grad[start:stop], g, mode)

        partials = parallel_for(part, g.n, min_per_part=_min_per_part(g))
    if not partials:  # an empty batch
        return np.zeros((g.ck, g.o), dtype=x.dtype)
    dw_t = partials[0]
    for p in partials[1:]:
        dw_t += p
    return dw_t


def _weight_grad_part(x: np.ndarray, grad: np.ndarray, g: ConvGeometry, mode: str) -> np.ndarray:
    """``sum_n cols(x[n]) @ grad[n].T`` over the samples of one part, chunk by chunk."""
    n, dtype = x.shape[0], x.dtype
    length = col_length(g, mode)
    dw_t = np.zeros((g.ck, g.o), dtype=dtype)  # (CK, O)
    step = chunk_size(g, length, dtype.itemsize, n)
    buf = scratch((step, g.c, g.kh, g.kw, length), dtype, SLOT_COLS)
    for n0 in range(0, n, step):
        m = min(step, n - n0)
        c = buf[:m]
        xc, gc = x[n0 : n0 + m], grad[n0 : n0 + m]
        im2col_into(xc, c.reshape(m, g.c, g.kh, g.kw, g.oh, g.ow), g)
        _accumulate(dw_t, c.reshape(m, g.ck, g.ohw), gc.reshape(m, g.o, g.ohw))
    return dw_t


def _weight_grad_wide(x: np.ndarray, grad: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """``cols @ grad.T`` of one chunk in the wide layout: (CK, m*Lw) @ (m*Lw, O) -> (CK, O)."""
    cols = wide_columns(x, g)
    rows = wide_grad(grad, g)  # (O, m, Lw)
    return np.matmul(cols, rows.reshape(g.o, cols.shape[1]).T)


def conv2d_bias_grad(grad: np.ndarray) -> np.ndarray:
    """Gradient of ``conv2d`` with respect to its bias: ``(N, O, OH, OW) -> (O,)``.

    Example: ``conv2d_bias_grad(np.ones((2, 3, 4, 4)))`` is ``[32, 32, 32]``.
    """
    grad = np.asarray(grad)
    check_4d(grad.shape, "conv2d_bias_grad", "grad", "(N, O, OH, OW)")
    return grad.sum(axis=(0, 2, 3))
