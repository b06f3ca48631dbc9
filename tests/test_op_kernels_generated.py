"""The numpy kernels on generated shapes and attributes: the conv and pooling kernels are adjoint
to their gradient kernels, and match PyTorch (values and gradients, float64 and float32, NaN)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layers_plugins import _kernels as K

SWEEP = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def rng_from(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


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
