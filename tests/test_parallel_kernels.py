"""The CNN kernels split over 1, 2 and 3 threads give the same results: bit for bit for outputs
and input gradients, within rounding for weight gradients (whose sum crosses the split); odd
batch sizes; scratch buffers never carry values from one call into the next."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import minigrad as mg
from layers_plugins import _kernels as K
from layers_plugins._kernels import columns as columns_module
from layers_plugins._kernels import conv as conv_module
from layers_plugins._kernels import pool_windows
from layers_plugins._kernels import threads as pool
from layers_plugins._kernels.geometry import conv2d_geometry

COUNTS = (1, 2, 3)
CONVS = [  # (x shape, w shape, attrs): the flat, wide and exact column layouts, dilation
    ((5, 3, 7, 7), (4, 3, 3, 3), {"padding": "same"}),
    ((7, 2, 9, 8), (3, 2, 5, 5), {}),
    ((3, 2, 9, 9), (4, 2, 3, 3), {"stride": 2, "padding": 1}),
    ((5, 3, 8, 8), (2, 3, 3, 2), {"dilation": (2, 1), "padding": (1, 0)}),
    ((1, 2, 6, 6), (3, 2, 3, 3), {"padding": 1}),
]
POOLS = [  # (x shape, attrs): tiling, overlapping, padded, ceil_mode windows
    ((5, 3, 8, 8), {"kernel_size": 2}),
    ((7, 2, 9, 9), {"kernel_size": 3, "stride": 1, "padding": 1}),
    ((3, 2, 7, 7), {"kernel_size": 2, "ceil_mode": True}),
    ((5, 1, 9, 8), {"kernel_size": (3, 2), "stride": 2, "padding": (1, 0)}),
]


@pytest.fixture
def split_everything(monkeypatch):
    """Split even tiny batches (one sample per part), count the parts, restore the thread count."""
    monkeypatch.setattr(conv_module, "MIN_PART_MACS", 1)
    monkeypatch.setattr(columns_module, "WIDE_CHUNK_BYTES", 1)  # a chunk per sample
    monkeypatch.setattr(pool_windows, "MIN_PART_CELLS", 1)
    parts = []
    real = pool.split
    monkeypatch.setattr(pool, "split", lambda n, k: parts.append(k) or real(n, k))
    before = mg.get_num_threads()
    yield parts
    mg.set_num_threads(before)


def _at_counts(fn):
    out = []
    for count in COUNTS:
        mg.set_num_threads(count)
        out.append(fn())
    return out


def _assert_same_bits(results):
    first = results[0]
    for other in results[1:]:
        for a, b in zip(first, other):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, w_shape, attrs", CONVS)
def test_conv_kernels_do_not_depend_on_the_thread_count(
    split_everything, x_shape, w_shape, attrs, dtype
):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    y0 = K.conv2d(x, w, b, **attrs)
    g = rng.standard_normal(y0.shape).astype(dtype)

    def run():
        y = K.conv2d(x, w, b, **attrs)
        dx = K.conv_transpose2d(g, w, x_shape[2:], **attrs)
        dw = K.conv2d_weight(x, g, w_shape, **attrs)
        return y, dx, dw

    results = _at_counts(run)
    assert max(split_everything, default=1) == min(3, x_shape[0])  # really split
    _assert_same_bits([r[:2] for r in results])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for _, _, dw in results[1:]:
        np.testing.assert_allclose(dw, results[0][2], rtol=tol, atol=tol)


def _wide(case) -> bool:
    x_shape, w_shape, attrs = case
    return columns_module.column_layout(conv2d_geometry(x_shape, w_shape, **attrs)) == "wide"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, w_shape, attrs", [c for c in CONVS if _wide(c)])
def test_wide_weight_gradients_are_bit_identical_across_thread_counts(
    split_everything, x_shape, w_shape, attrs, dtype
):
    # chunks of the wide layout start at the same samples whatever the split, and their
    # partial sums are added in chunk order
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    g = rng.standard_normal(K.conv2d(x, w, **attrs).shape).astype(dtype)
    results = _at_counts(lambda: (K.conv2d_weight(x, g, w_shape, **attrs),))
    assert max(split_everything) == min(3, x_shape[0])
    _assert_same_bits(results)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, attrs", POOLS)
def test_pool_kernels_do_not_depend_on_the_thread_count(split_everything, x_shape, attrs, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(x_shape).astype(dtype)
    x.reshape(-1)[::7] = x.reshape(-1)[3]  # ties
    x.reshape(-1)[5] = np.nan
    hw = x_shape[2:]

    def run():
        out, offsets = K.max_pool2d(x, **attrs)
        g = np.ones_like(out)
        return (
            out,
            offsets,
            K.max_pool2d_backward(g, offsets, hw, **attrs),
            K.max_pool2d_gather(x, offsets, **attrs),
            K.avg_pool2d(x, **attrs),
            K.avg_pool2d_backward(g, hw, **attrs, count_include_pad=False),
            K.sum_pool2d(x, **attrs),
            K.sum_pool2d_backward(g, hw, **attrs),
        )

    results = _at_counts(run)
    assert max(split_everything) == min(3, x_shape[0])
    _assert_same_bits(results)


@pytest.mark.parametrize("n", [1, 3, 5, 7])
def test_a_lenet_step_of_odd_batches_matches_across_thread_counts(split_everything, n):
    rng = np.random.default_rng(n)
    arrays = [
        rng.standard_normal((n, 1, 12, 12)),
        rng.standard_normal((4, 1, 5, 5)),
        rng.standard_normal(4),
        rng.standard_normal((3, 4, 3, 3)),
    ]

    def run():
        x, w1, b1, w2 = (mg.tensor(a, requires_grad=True) for a in arrays)
        h = mg.ops.max_pool2d(mg.ops.relu(mg.ops.conv2d(x, w1, b1)), kernel_size=2)
        y = mg.ops.avg_pool2d(mg.ops.conv2d(h, w2, padding=1), kernel_size=2, ceil_mode=True)
        grads = mg.grad((y * y).sum(), [x, w1, b1, w2])
        return (y.data, grads[0].data), tuple(g.data for g in grads[1:])

    results = _at_counts(run)
    _assert_same_bits([r[0] for r in results])
    for _, weights in results[1:]:
        for a, b in zip(weights, results[0][1]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("count", COUNTS)
def test_scratch_memory_never_leaks_into_the_next_call(split_everything, count):
    mg.set_num_threads(count)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3, 8, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    calls = [
        lambda a: K.conv2d(a, w, padding=1),
        lambda a: K.conv2d(a, w),  # the wide layout
        lambda a: K.conv2d(a, w, stride=2, padding=1),
        lambda a: K.conv_transpose2d(a[:, :1].repeat(4, 1)[:, :, :6, :6], w, (8, 8)),
        lambda a: K.conv2d_weight(a, np.ones((5, 4, 6, 6), np.float32), (4, 3, 3, 3)),
        lambda a: K.max_pool2d(a, 3, 2, 1, ceil_mode=True)[0],
        lambda a: K.avg_pool2d(a, 3, 1, 1),
        lambda a: K.sum_pool2d_backward(a[:, :, :4, :4], (8, 8), 2),
    ]
    clean = [call(x) for call in calls]
    poison = np.full((9, 3, 11, 11), np.nan, np.float32)
    with np.errstate(all="ignore"):
        for call in calls:  # fill every scratch buffer with NaN and inf (and larger shapes)
            with contextlib.suppress(ValueError):  # shapes that do not fit this call
                call(poison)
            call(np.full_like(x, np.inf))
    for call, expected in zip(calls, clean):
        np.testing.assert_array_equal(call(x), expected)
