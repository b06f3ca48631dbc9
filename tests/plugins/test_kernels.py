"""Tests for the numpy kernels behind the CNN plugin ops (layers_plugins._kernels).

Small examples a person can check by hand, dtypes, error messages, chunking and scratch memory;
the generated sweeps (adjointness, PyTorch) are in tests/test_op_kernels_generated.py.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from layers_plugins import _kernels as K
from layers_plugins._kernels import columns as columns_module

SWEEP = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

IMAGE = np.array(
    [
        [1, 1, 1, 0, 0],
        [0, 1, 1, 1, 0],
        [0, 0, 1, 1, 1],
        [0, 0, 1, 1, 0],
        [0, 1, 1, 0, 0],
    ],
    dtype=np.float32,
)
KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=np.float32)


def rng_from(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------------------------
# Hand-checkable examples
# ---------------------------------------------------------------------------------------------


def test_conv2d_hand_example():
    # x: (1, 1, 5, 5), w: (1, 1, 3, 3) -> (1, 1, 3, 3)
    y = K.conv2d(IMAGE[None, None], KERNEL[None, None])
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y[0, 0], [[4, 3, 4], [2, 4, 3], [2, 3, 4]])


def test_conv2d_hand_example_with_bias_and_padding():
    y = K.conv2d(IMAGE[None, None], KERNEL[None, None], np.array([10.0], np.float32), padding=1)
    assert y.shape == (1, 1, 5, 5)
    # The centre keeps the unpadded answer; the top-left corner sees x[1,1] + x[0,0].
    np.testing.assert_array_equal(
        y[0, 0, 1:4, 1:4], np.array([[4, 3, 4], [2, 4, 3], [2, 3, 4]]) + 10
    )
    assert y[0, 0, 0, 0] == IMAGE[1, 1] + IMAGE[0, 0] + 10


def test_conv2d_stride_two_picks_every_other_window():
    y = K.conv2d(IMAGE[None, None], KERNEL[None, None], stride=2)
    np.testing.assert_array_equal(y[0, 0], [[4, 4], [2, 4]])


def test_max_pool_3x3_map_floor_and_ceil():
    x = np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)
    out, offsets = K.max_pool2d(x, 2)
    assert out.shape == (1, 1, 1, 1) and out[0, 0, 0, 0] == 4
    out, offsets = K.max_pool2d(x, 2, ceil_mode=True)
    assert out.shape == (1, 1, 2, 2)
    np.testing.assert_array_equal(out[0, 0], [[4, 5], [7, 8]])
    # Winners: bottom-right of the full window, then the only cell of each partial window.
    np.testing.assert_array_equal(offsets[0, 0], [[3, 2], [1, 0]])


def test_max_pool_7x7_ceil_gives_4x4():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 7)).astype(np.float32)
    out, offsets = K.max_pool2d(x, 2, 2, ceil_mode=True)
    assert out.shape == (2, 3, 4, 4) and out.dtype == np.float32
    assert offsets.shape == out.shape and offsets.dtype == np.uint8
    # The last row/column of windows holds a single input row/column.
    np.testing.assert_array_equal(out[:, :, 3, 3], x[:, :, 6, 6])
    assert K.max_pool2d(x, 2, 2)[0].shape == (2, 3, 3, 3)


def test_max_pool_ties_go_to_first_maximum():
    x = np.array([[5.0, 5.0], [5.0, 5.0]], dtype=np.float32)[None, None]
    out, offsets = K.max_pool2d(x, 2)
    assert out[0, 0, 0, 0] == 5 and offsets[0, 0, 0, 0] == 0
    grad = K.max_pool2d_backward(np.ones((1, 1, 1, 1), np.float32), offsets, (2, 2), 2)
    np.testing.assert_array_equal(grad[0, 0], [[1, 0], [0, 0]])

    x = np.array([[0.0, 3.0, 3.0], [1.0, 3.0, 2.0], [3.0, 0.0, 0.0]])[None, None]
    out, offsets = K.max_pool2d(x, 3)
    assert offsets[0, 0, 0, 0] == 1  # row-major: (0, 1) comes before (0, 2), (1, 1), (2, 0)


def test_max_pool_nan_and_minus_inf_windows():
    nan, inf = np.nan, np.inf
    x = np.array([[1.0, nan, 3.0, nan]])[None, None]  # (1, 1, 1, 4)
    out, offsets = K.max_pool2d(x, (1, 4))
    assert np.isnan(out[0, 0, 0, 0]) and offsets[0, 0, 0, 0] == 3  # the last NaN
    # A window of -inf in the padding corner picks its first cell inside the input.
    x = np.full((1, 1, 3, 3), -inf)
    out, offsets = K.max_pool2d(x, 2, 2, padding=1)
    np.testing.assert_array_equal(offsets[0, 0], [[3, 2], [1, 0]])
    grad = K.max_pool2d_backward(np.ones((1, 1, 2, 2)), offsets, (3, 3), 2, 2, 1)
    assert grad.sum() == 4


def test_max_pool_backward_is_exact_with_non_finite_gradients():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]
    _, offsets = K.max_pool2d(x, 2)
    grad = K.max_pool2d_backward(np.full((1, 1, 1, 1), np.inf), offsets, (2, 2), 2)
    np.testing.assert_array_equal(grad[0, 0], [[0, 0], [0, np.inf]])


def test_avg_pool_divisor_rules():
    # 6 rows, 3-row windows, stride 2, padding 1, ceil_mode: windows start at rows -1, 1, 3, 5;
    # the last covers row 5, a padded row 6 and row 7, which exists only because of ceil_mode.
    rows_incl = np.array([3, 3, 3, 2])  # padded rows count, row 7 does not
    rows_excl = np.array([2, 3, 3, 1])  # only input rows count
    div = K.avg_pool2d_divisor((6, 6), 3, 2, 1, ceil_mode=True, count_include_pad=True)
    np.testing.assert_array_equal(div, np.outer(rows_incl, rows_incl))
    div = K.avg_pool2d_divisor((6, 6), 3, 2, 1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_array_equal(div, np.outer(rows_excl, rows_excl))
    out = K.avg_pool2d(np.ones((1, 1, 6, 6)), 3, 2, 1, ceil_mode=True)
    np.testing.assert_allclose(out[0, 0], np.outer(rows_excl / rows_incl, rows_excl / rows_incl))
    out = K.avg_pool2d(np.ones((1, 1, 6, 6)), 3, 2, 1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_allclose(out[0, 0], np.ones((4, 4)))


def test_sum_pool_counts_padding_as_zero():
    out = K.sum_pool2d(np.ones((1, 1, 4, 4), np.float32), 3, 1, 1)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(
        out[0, 0], [[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]]
    )


# ---------------------------------------------------------------------------------------------
# Argument helpers
# ---------------------------------------------------------------------------------------------


def test_pair():
    assert K.pair(3, "kernel_size") == (3, 3)
    assert K.pair((1, 2), "stride") == (1, 2)
    assert K.pair(np.int64(2), "stride") == (2, 2)
    with pytest.raises(
        TypeError, match=r"stride must be an int or a pair of ints, got \(1, 2, 3\)"
    ):
        K.pair((1, 2, 3), "stride")
    with pytest.raises(TypeError, match="kernel_size"):
        K.pair(2.5, "kernel_size")
    with pytest.raises(TypeError):
        K.pair(True, "stride")


def test_pool_output_length_ceil_rule():
    assert K.pool_output_length(3, 2, 2, 0, False) == 1
    assert K.pool_output_length(3, 2, 2, 0, True) == 2
    assert K.pool_output_length(7, 2, 2, 0, True) == 4
    # ceil_mode would add a window starting in the right padding: PyTorch drops it.
    assert K.pool_output_length(5, 2, 2, 1, False) == 3
    assert K.pool_output_length(5, 2, 2, 1, True) == 3
    assert K.pool_output_length(2, 3, 2, 0, True) == 1


def test_conv_padding_modes():
    assert K.conv2d_padding(1, (3, 3)) == (1, 1, 1, 1)
    assert K.conv2d_padding((1, 2), (3, 3)) == (1, 1, 2, 2)
    assert K.conv2d_padding("valid", (3, 3)) == (0, 0, 0, 0)
    assert K.conv2d_padding("same", (3, 3)) == (1, 1, 1, 1)
    # Even kernels: the extra row/column goes to the bottom/right.
    assert K.conv2d_padding("same", (4, 2)) == (1, 2, 0, 1)
    assert K.conv2d_padding("same", (3, 4), dilation=(2, 1)) == (2, 2, 1, 2)
    with pytest.raises(ValueError, match=r"padding='same' requires stride 1, got stride \(2, 2\)"):
        K.conv2d_padding("same", (3, 3), (2, 2))
    with pytest.raises(ValueError, match="padding must be an int, a pair, 'valid' or 'same'"):
        K.conv2d_padding("full", (3, 3))


@pytest.mark.parametrize("kh,kw", [(1, 1), (2, 2), (3, 4), (4, 3)])
def test_same_padding_keeps_size(kh, kw):
    x = np.random.default_rng(1).standard_normal((1, 2, 6, 7))
    w = np.random.default_rng(2).standard_normal((3, 2, kh, kw))
    assert K.conv2d(x, w, padding="same").shape == (1, 3, 6, 7)
    assert K.conv2d(x, w, padding="same", dilation=2).shape == (1, 3, 6, 7)


# ---------------------------------------------------------------------------------------------
# Error messages
# ---------------------------------------------------------------------------------------------


def raises(message: str):
    return pytest.raises(ValueError, match=re.escape(message))


def test_conv2d_errors():
    x = np.zeros((1, 3, 5, 5))
    with raises(
        "conv2d: input has 3 channels (shape (1, 3, 5, 5)) but weight expects 2 "
        "(shape (4, 2, 3, 3))"
    ):
        K.conv2d(x, np.zeros((4, 2, 3, 3)))
    with raises("conv2d: expected a 4-D input (N, C, H, W), got shape (3, 5, 5)"):
        K.conv2d(np.zeros((3, 5, 5)), np.zeros((4, 3, 3, 3)))
    with raises("conv2d: expected a 4-D weight (out_channels, in_channels, kh, kw), got shape"):
        K.conv2d(x, np.zeros((3, 3, 3)))
    with raises("conv2d: kernel (7, 7) with dilation (1, 1) spans (7, 7), larger than the padded"):
        K.conv2d(x, np.zeros((4, 3, 7, 7)))
    with raises("padded input (7, 7)"):
        K.conv2d(x, np.zeros((4, 3, 3, 3)), dilation=4, padding=1)
    with raises("conv2d: stride must be >= 1, got (0, 1)"):
        K.conv2d(x, np.zeros((4, 3, 3, 3)), stride=(0, 1))
    with raises("conv2d: dilation must be >= 1, got (0, 0)"):
        K.conv2d(x, np.zeros((4, 3, 3, 3)), dilation=0)
    with raises("conv2d: padding must be >= 0"):
        K.conv2d(x, np.zeros((4, 3, 3, 3)), padding=-1)
    with raises("conv2d: bias has shape (3,) but weight (shape (4, 3, 3, 3)) has 4 output"):
        K.conv2d(x, np.zeros((4, 3, 3, 3)), np.zeros(3))


def test_conv_gradient_kernel_errors():
    w = np.zeros((4, 3, 3, 3))
    with raises("conv_transpose2d: grad has shape (1, 4, 2, 2) but conv2d of an input of shape"):
        K.conv_transpose2d(np.zeros((1, 4, 2, 2)), w, (5, 5))
    with raises("conv2d_weight: grad has shape (1, 4, 4, 4)"):
        K.conv2d_weight(np.zeros((1, 3, 5, 5)), np.zeros((1, 4, 4, 4)), w.shape)


def test_pool_errors():
    with raises("max_pool2d: expected a 4-D input (N, C, H, W), got shape (3, 5, 5)"):
        K.max_pool2d(np.zeros((3, 5, 5)), 2)
    with raises("max_pool2d: padding (2, 2) must be at most half of kernel_size (3, 3)"):
        K.max_pool2d(np.zeros((1, 1, 5, 5)), 3, padding=2)
    with raises("avg_pool2d: kernel_size must be >= 1, got (0, 2)"):
        K.avg_pool2d(np.zeros((1, 1, 5, 5)), (0, 2))
    with raises("sum_pool2d: stride must be >= 1, got (0, 0)"):
        K.sum_pool2d(np.zeros((1, 1, 5, 5)), 2, stride=0)
    with raises(
        "max_pool2d: kernel_size (3, 3) is larger than the padded input (2, 2) "
        "(input shape (1, 1, 2, 2)"
    ):
        K.max_pool2d(np.zeros((1, 1, 2, 2)), 3)
    with raises("max_pool2d_backward: grad has shape (1, 1, 3, 3) but pooling an input"):
        K.max_pool2d_backward(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 3, 3), np.uint8), (4, 4), 2)
    with raises("max_pool2d_backward: offsets has shape (1, 1, 3, 3), expected the output shape"):
        K.max_pool2d_backward(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3), np.uint8), (4, 4), 2)


def test_conv_transpose_untouched_rows_get_zero():
    # (6 + 0 - 3) is not divisible by stride 2: the last input row/column is never read.
    x = np.ones((1, 1, 6, 6))
    w = np.ones((1, 1, 3, 3))
    y = K.conv2d(x, w, stride=2)
    assert y.shape == (1, 1, 2, 2)
    dx = K.conv_transpose2d(np.ones_like(y), w, (6, 6), stride=2)
    assert np.all(dx[0, 0, 5, :] == 0) and np.all(dx[0, 0, :, 5] == 0)
    np.testing.assert_array_equal(
        dx[0, 0, :5, :5], [[1, 1, 2, 1, 1]] * 2 + [[2, 2, 4, 2, 2]] + [[1, 1, 2, 1, 1]] * 2
    )


def test_conv_chunking_does_not_change_results(monkeypatch):
    rng = rng_from(3)
    x = rng.standard_normal((7, 3, 9, 8)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 2)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    for padding in [(1, 0), "same"]:
        y = K.conv2d(x, w, b, 1, padding)
        g = rng.standard_normal(y.shape).astype(np.float32)
        dx = K.conv_transpose2d(g, w, x.shape[2:], 1, padding)
        dw = K.conv2d_weight(x, g, w.shape, 1, padding)
        monkeypatch.setattr(columns_module, "CHUNK_BYTES", 1)  # one sample per chunk
        np.testing.assert_allclose(K.conv2d(x, w, b, 1, padding), y, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(K.conv_transpose2d(g, w, x.shape[2:], 1, padding), dx, atol=1e-5)
        np.testing.assert_allclose(K.conv2d_weight(x, g, w.shape, 1, padding), dw, atol=1e-4)
        monkeypatch.undo()


def test_results_do_not_share_scratch_memory():
    rng = rng_from(4)
    x1, x2 = rng.standard_normal((2, 2, 3, 6, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    y1 = K.conv2d(x1, w, padding=1)
    saved = y1.copy()
    K.conv2d(x2, w, padding=1)
    K.conv_transpose2d(y1, w, (6, 6), padding=1)
    p1, o1 = K.max_pool2d(x1, 3, 2, 1)
    p_saved = p1.copy()
    K.max_pool2d(x2, 3, 2, 1)
    K.max_pool2d_backward(p1, o1, (6, 6), 3, 2, 1)
    np.testing.assert_array_equal(y1, saved)
    np.testing.assert_array_equal(p1, p_saved)


def test_float32_stays_float32():
    rng = rng_from(5)
    x = rng.standard_normal((2, 3, 7, 7)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    y = K.conv2d(x, w, b, 2, 1)
    assert y.dtype == np.float32
    assert K.conv_transpose2d(y, w, (7, 7), 2, 1).dtype == np.float32
    assert K.conv2d_weight(x, y, w.shape, 2, 1).dtype == np.float32
    assert K.conv2d_bias_grad(y).dtype == np.float32
    assert K.im2col(x, 3, 2, 1).dtype == np.float32
    for kernel, stride, padding, ceil in [(2, 2, 0, False), (3, 2, 1, True)]:
        out, offsets = K.max_pool2d(x, kernel, stride, padding, ceil)
        assert out.dtype == np.float32
        args = (kernel, stride, padding, ceil)
        assert K.max_pool2d_backward(out, offsets, (7, 7), *args).dtype == np.float32
        assert K.max_pool2d_gather(x, offsets, *args).dtype == np.float32
        assert K.avg_pool2d(x, *args).dtype == np.float32
        assert K.avg_pool2d_backward(out, (7, 7), *args).dtype == np.float32
        assert K.sum_pool2d(x, *args).dtype == np.float32
        assert K.sum_pool2d_backward(out, (7, 7), *args).dtype == np.float32
