"""conv2d, conv_transpose2d and conv2d_weight against PyTorch on generated shapes and attributes:
values, gradients and second derivatives (``tests.helpers.compare_with_torch``), and the
adjointness of the three products."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import compare_with_torch
from hypothesis import given, settings
from hypothesis import strategies as st
from test_op_conv import conv_cases, transposed_case

import minigrad as mg

SWEEP = settings(max_examples=25, deadline=None)
TOL = {"float32": 2e-4, "float64": 1e-9}


def t(a) -> mg.Tensor:
    return mg.tensor(np.asarray(a))


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def torch_conv2d(torch, x, w, b, stride, padding, dilation):
    F = torch.nn.functional
    if isinstance(padding, tuple) and len(padding) == 4:
        top, bottom, left, right = padding
        x = F.pad(x, (left, right, top, bottom))
        padding = 0
    with warnings.catch_warnings():  # torch notes that "same" with an even kernel copies
        warnings.simplefilter("ignore", UserWarning)
        return F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)


@SWEEP
@given(case=conv_cases(), dtype=st.sampled_from([np.float32, np.float64]))
def test_conv2d_matches_torch_to_second_order(torch, case, dtype):
    rng = np.random.default_rng(case["seed"])
    arrays = [rng.standard_normal(case["x"]), rng.standard_normal(case["w"])]
    if case["bias"]:
        arrays.append(rng.standard_normal(case["w"][0]))
    attrs = case["attrs"]

    def ours(x, w, b=None):
        return mg.ops.conv2d(x, w, b, **attrs)

    def theirs(x, w, b=None):
        return torch_conv2d(torch, x, w, b, **attrs)

    compare_with_torch(ours, theirs, *arrays, dtypes=(np.dtype(dtype).name,), atol=TOL, rtol=TOL)


@SWEEP
@given(
    case=conv_cases(allow_same=False, allow_four=False),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_conv_transpose2d_matches_torch_to_second_order(torch, case, dtype):
    F = torch.nn.functional
    out_shape, x_hw, (top, _, left, _) = transposed_case(case)
    attrs = case["attrs"]
    stride, dilation = attrs["stride"], attrs["dilation"]
    rng = np.random.default_rng(case["seed"])
    arrays = [rng.standard_normal(out_shape), rng.standard_normal(case["w"])]
    kh, kw = case["w"][2:]
    smallest = [
        (out_shape[2] - 1) * stride[0] - 2 * top + dilation[0] * (kh - 1) + 1,
        (out_shape[3] - 1) * stride[1] - 2 * left + dilation[1] * (kw - 1) + 1,
    ]
    extra = (x_hw[0] - smallest[0], x_hw[1] - smallest[1])  # torch's output_padding

    def ours(g, w):
        return mg.ops.conv_transpose2d(g, w, x_hw=x_hw, **attrs)

    def theirs(g, w):
        # the same (O, C, kh, kw) array: torch reads it as (in, out) of the transposed op
        return F.conv_transpose2d(
            g, w, stride=stride, padding=(top, left), output_padding=extra, dilation=dilation
        )

    compare_with_torch(ours, theirs, *arrays, dtypes=(np.dtype(dtype).name,), atol=TOL, rtol=TOL)
    # and it is the input gradient of conv2d, as torch.nn.grad computes it
    g, w = (torch.tensor(a) for a in arrays)
    ref = torch.nn.grad.conv2d_input(case["x"], w, g, stride, (top, left), dilation)
    np.testing.assert_allclose(
        ours(mg.tensor(arrays[0]), mg.tensor(arrays[1])).data, ref.numpy(), rtol=1e-10, atol=1e-10
    )
    if extra == (0, 0):  # the default size is the smallest one
        np.testing.assert_array_equal(
            mg.ops.conv_transpose2d(mg.tensor(arrays[0]), mg.tensor(arrays[1]), **attrs).data,
            ours(mg.tensor(arrays[0]), mg.tensor(arrays[1])).data,
        )


@SWEEP
@given(case=conv_cases(), dtype=st.sampled_from([np.float32, np.float64]))
def test_conv2d_weight_matches_torch_to_second_order(torch, case, dtype):
    out_shape, _, _ = transposed_case(case)
    attrs = case["attrs"]
    rng = np.random.default_rng(case["seed"])
    arrays = [rng.standard_normal(case["x"]), rng.standard_normal(out_shape)]

    def ours(x, g):
        return mg.ops.conv2d_weight(x, g, w_shape=case["w"], **attrs)

    def theirs(x, g):
        # the weight gradient of conv2d, kept differentiable in x and g
        w = torch.zeros(case["w"], dtype=x.dtype, requires_grad=True)
        y = torch_conv2d(torch, x, w, None, **attrs)
        return torch.autograd.grad((y * g).sum(), w, create_graph=True)[0]

    compare_with_torch(ours, theirs, *arrays, dtypes=(np.dtype(dtype).name,), atol=TOL, rtol=TOL)
    if not isinstance(attrs["padding"], str) and len(np.atleast_1d(attrs["padding"])) <= 2:
        x, g = (torch.tensor(a) for a in arrays)
        ref = torch.nn.grad.conv2d_weight(x, case["w"], g, **attrs)
        np.testing.assert_allclose(
            ours(mg.tensor(arrays[0]), mg.tensor(arrays[1])).data,
            ref.numpy(),
            rtol=1e-10,
            atol=1e-10,
        )


@SWEEP
@given(case=conv_cases())
def test_the_three_products_are_adjoint(case):
    """<conv2d(x, w), g> = <x, conv_transpose2d(g, w)> = <w, conv2d_weight(x, g)>."""
    out_shape, x_hw, _ = transposed_case(case)
    attrs = case["attrs"]
    rng = np.random.default_rng(case["seed"])
    x, w, g = (rng.standard_normal(s) for s in (case["x"], case["w"], out_shape))
    y = mg.ops.conv2d(t(x), t(w), **attrs).data
    dx = mg.ops.conv_transpose2d(t(g), t(w), x_hw=x_hw, **attrs).data
    dw = mg.ops.conv2d_weight(t(x), t(g), w_shape=case["w"], **attrs).data
    ref = np.vdot(y, g)
    assert np.vdot(x, dx) == pytest.approx(ref, rel=1e-10, abs=1e-10)
    assert np.vdot(w, dw) == pytest.approx(ref, rel=1e-10, abs=1e-10)
