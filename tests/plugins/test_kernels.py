"""Tests for the numpy kernels behind the CNN plugin ops (layers_plugins._kernels).

First small examples a person can check by hand and properties that need no reference
(adjointness, dtype, error messages), then generated sweeps against PyTorch (skipped when torch
is not installed).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# ---------------------------------------------------------------------------------------------
# Properties without a reference implementation
# ---------------------------------------------------------------------------------------------


@st.composite
def conv_cases(draw):
    """A valid conv2d configuration: shapes and attributes, plus a seed for the values."""
    n, c, o = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    mode = draw(st.sampled_from(["int", "pair", "same", "valid"]))
    if mode == "same":
        stride, padding = (1, 1), "same"
    else:
        stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        padding = {
            "int": draw(st.integers(0, 2)),
            "pair": (draw(st.integers(0, 2)), draw(st.integers(0, 2))),
            "valid": "valid",
        }[mode]
    pads = K.conv2d_padding(padding, (kh, kw), stride, dilation)
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    h = draw(st.integers(max(1, span[0] - pads[0] - pads[1]), 11))
    w = draw(st.integers(max(1, span[1] - pads[2] - pads[3]), 11))
    return {
        "x": (n, c, h, w),
        "w": (o, c, kh, kw),
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "bias": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**31)),
    }


def conv_arrays(case, dtype=np.float64):
    rng = rng_from(case["seed"])
    x = rng.standard_normal(case["x"]).astype(dtype)
    w = rng.standard_normal(case["w"]).astype(dtype)
    b = rng.standard_normal(case["w"][0]).astype(dtype) if case["bias"] else None
    return rng, x, w, b


def attrs(case):
    return case["stride"], case["padding"], case["dilation"]


@SWEEP
@given(conv_cases())
def test_conv_kernels_are_adjoint(case):
    """<conv(x), g> == <x, conv_transpose(g)> == <w, conv_weight(x, g)> in float64."""
    rng, x, w, _ = conv_arrays(case)
    y = K.conv2d(x, w, None, *attrs(case))
    g = rng.standard_normal(y.shape)
    lhs = np.vdot(y, g)
    dx = K.conv_transpose2d(g, w, x.shape[2:], *attrs(case))
    dw = K.conv2d_weight(x, g, w.shape, *attrs(case))
    assert dx.shape == x.shape and dw.shape == w.shape
    np.testing.assert_allclose(np.vdot(x, dx), lhs, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.vdot(w, dw), lhs, rtol=1e-10, atol=1e-10)
    # The full column matrix gives the same weight gradient, and col2im is im2col's adjoint.
    cols = K.im2col(x, w.shape[2:], *attrs(case))
    np.testing.assert_allclose(K.conv2d_weight(x, g, w.shape, *attrs(case), cols=cols), dw)
    c = rng.standard_normal(cols.shape)
    back = K.col2im(c, x.shape, w.shape[2:], *attrs(case))
    np.testing.assert_allclose(np.vdot(cols, c), np.vdot(x, back), rtol=1e-10, atol=1e-10)


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


@st.composite
def pool_cases(draw):
    """A valid pooling configuration (PyTorch's rules) plus a seed."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    padding = (draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2)))
    ceil_mode = draw(st.booleans())
    h = draw(st.integers(max(1, kh - 2 * padding[0]), 11))
    w = draw(st.integers(max(1, kw - 2 * padding[1]), 11))
    return {
        "x": (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w),
        "args": ((kh, kw), stride, padding, ceil_mode),
        "count_include_pad": draw(st.booleans()),
        "ties": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**31)),
    }


def pool_input(case, dtype=np.float64):
    rng = rng_from(case["seed"])
    x = rng.standard_normal(case["x"])
    if case["ties"]:
        x = np.round(x)  # many equal values
    return rng, x.astype(dtype)


@SWEEP
@given(pool_cases())
def test_pool_kernels_are_adjoint(case):
    rng, x = pool_input(case)
    args = case["args"]
    hw = x.shape[2:]
    out, offsets = K.max_pool2d(x, *args)
    np.testing.assert_array_equal(K.max_pool2d_gather(x, offsets, *args), out)
    g = rng.standard_normal(out.shape)
    d = rng.standard_normal(x.shape)
    lhs = np.vdot(K.max_pool2d_gather(d, offsets, *args), g)
    np.testing.assert_allclose(lhs, np.vdot(d, K.max_pool2d_backward(g, offsets, hw, *args)))
    cip = case["count_include_pad"]
    np.testing.assert_allclose(
        np.vdot(K.avg_pool2d(d, *args, cip), g),
        np.vdot(d, K.avg_pool2d_backward(g, hw, *args, cip)),
    )
    np.testing.assert_allclose(
        np.vdot(K.sum_pool2d(d, *args), g), np.vdot(d, K.sum_pool2d_backward(g, hw, *args))
    )


# ---------------------------------------------------------------------------------------------
# Against PyTorch
# ---------------------------------------------------------------------------------------------


def torch_conv2d(F, x, w, b, stride, padding, dilation):
    padding = padding if isinstance(padding, str | int) else tuple(padding)
    with warnings.catch_warnings():
        # PyTorch warns that 'same' with an even kernel span pads a copy of the input.
        warnings.simplefilter("ignore", UserWarning)
        return F.conv2d(x, w, b, stride, padding, dilation)


@SWEEP
@given(conv_cases())
def test_conv2d_matches_torch(case):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng, x, w, b = conv_arrays(case)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = None if b is None else torch.tensor(b, requires_grad=True)
    stride, padding, dilation = attrs(case)
    yt = torch_conv2d(F, xt, wt, bt, stride, padding, dilation)
    g = rng.standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(g))

    y = K.conv2d(x, w, b, stride, padding, dilation)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    dx = K.conv_transpose2d(g, w, x.shape[2:], stride, padding, dilation)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    dw = K.conv2d_weight(x, g, w.shape, stride, padding, dilation)
    np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-10, atol=1e-10)
    if b is not None:
        np.testing.assert_allclose(K.conv2d_bias_grad(g), bt.grad.numpy(), rtol=1e-10)


@settings(max_examples=15, deadline=None)
@given(conv_cases())
def test_conv2d_float32_matches_torch(case):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng, x, w, b = conv_arrays(case, np.float32)
    stride, padding, dilation = attrs(case)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    bt = None if b is None else torch.tensor(b)
    yt = torch_conv2d(F, xt, wt, bt, stride, padding, dilation)
    g = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    yt.backward(torch.tensor(g))
    y = K.conv2d(x, w, b, stride, padding, dilation)
    dx = K.conv_transpose2d(g, w, x.shape[2:], stride, padding, dilation)
    dw = K.conv2d_weight(x, g, w.shape, stride, padding, dilation)
    assert y.dtype == dx.dtype == dw.dtype == np.float32
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_conv2d_benchmark_shapes_match_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = rng_from(6)
    x = rng.standard_normal((4, 32, 32, 32)).astype(np.float32)
    w = rng.standard_normal((64, 32, 3, 3)).astype(np.float32) * 0.05
    b = rng.standard_normal(64).astype(np.float32)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = F.conv2d(xt, wt, torch.tensor(b), padding=1)
    g = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(K.conv2d(x, w, b, padding=1), yt.detach().numpy(), atol=1e-4)
    dx = K.conv_transpose2d(g, w, (32, 32), padding=1)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-4)
    dw = K.conv2d_weight(x, g, w.shape, padding=1)
    np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-4, atol=2e-3)


@SWEEP
@given(pool_cases())
def test_max_pool2d_matches_torch(case):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng, x = pool_input(case)
    kernel, stride, padding, ceil_mode = case["args"]
    xt = torch.tensor(x, requires_grad=True)
    yt, it = F.max_pool2d(xt, kernel, stride, padding, ceil_mode=ceil_mode, return_indices=True)
    g = rng.standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(g))

    out, offsets = K.max_pool2d(x, *case["args"])
    np.testing.assert_array_equal(out, yt.detach().numpy())
    # The offsets name the same input cells as PyTorch's flat indices.
    sh, sw = stride or kernel
    oh = np.arange(out.shape[2])[:, None]
    ow = np.arange(out.shape[3])[None, :]
    row = oh * sh - padding[0] + offsets // kernel[1]
    col = ow * sw - padding[1] + offsets % kernel[1]
    np.testing.assert_array_equal(row * x.shape[3] + col, it.numpy())
    dx = K.max_pool2d_backward(g, offsets, x.shape[2:], *case["args"])
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_max_pool2d_nan_matches_torch():
    torch = pytest.importorskip("torch")
    rng = rng_from(7)
    x = rng.standard_normal((2, 2, 7, 7))
    x[rng.random(x.shape) < 0.2] = np.nan
    x[rng.random(x.shape) < 0.3] = -np.inf
    for args in [(2, 2, 0, False), (3, 2, 1, True), (3, 1, 1, False)]:
        xt = torch.tensor(x, requires_grad=True)
        yt = torch.nn.functional.max_pool2d(xt, args[0], args[1], args[2], ceil_mode=args[3])
        yt.backward(torch.ones_like(yt))
        out, offsets = K.max_pool2d(x, *args)
        np.testing.assert_array_equal(out, yt.detach().numpy())
        dx = K.max_pool2d_backward(np.ones_like(out), offsets, (7, 7), *args)
        np.testing.assert_array_equal(dx, xt.grad.numpy())


@SWEEP
@given(pool_cases())
def test_avg_and_sum_pool2d_match_torch(case):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng, x = pool_input(case)
    kernel, stride, padding, ceil_mode = case["args"]
    cip = case["count_include_pad"]
    xt = torch.tensor(x, requires_grad=True)
    yt = F.avg_pool2d(xt, kernel, stride, padding, ceil_mode, cip)
    g = rng.standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(K.avg_pool2d(x, *case["args"], cip), yt.detach().numpy())
    dx = K.avg_pool2d_backward(g, x.shape[2:], *case["args"], cip)
    np.testing.assert_allclose(dx, xt.grad.numpy())

    # A sum is an average whose divisor is overridden to 1.
    xt = torch.tensor(x, requires_grad=True)
    st_ = F.avg_pool2d(xt, kernel, stride, padding, ceil_mode, True, divisor_override=1)
    st_.backward(torch.tensor(g))
    np.testing.assert_allclose(K.sum_pool2d(x, *case["args"]), st_.detach().numpy())
    dx = K.sum_pool2d_backward(g, x.shape[2:], *case["args"])
    np.testing.assert_allclose(dx, xt.grad.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pool_fast_path_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = rng_from(8)
    x = rng.standard_normal((3, 4, 12, 8)).astype(dtype)
    g = rng.standard_normal((3, 4, 6, 4)).astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = F.max_pool2d(xt, 2)
    yt.backward(torch.tensor(g))
    out, offsets = K.max_pool2d(x, 2)
    np.testing.assert_array_equal(out, yt.detach().numpy())
    np.testing.assert_array_equal(K.max_pool2d_backward(g, offsets, (12, 8), 2), xt.grad.numpy())
    xt = torch.tensor(x, requires_grad=True)
    yt = F.avg_pool2d(xt, 2)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(K.avg_pool2d(x, 2), yt.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(K.avg_pool2d_backward(g, (12, 8), 2), xt.grad.numpy(), rtol=1e-6)
