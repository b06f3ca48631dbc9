"""Grouped and depthwise convolution: conv2d, conv_transpose2d and conv2d_weight with ``groups``
against PyTorch (values, gradients, second derivatives) on generated shapes with stride, padding
and dilation; finite differences; errors; nn.Conv2d(groups=)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import compare_with_torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from layers_plugins._kernels import conv2d_geometry
from layers_plugins.conv_groups import input_channels_of
from minigrad.testing import gradcheck, gradgradcheck

SWEEP = settings(max_examples=30, deadline=None)
TOL = {"float32": 2e-4, "float64": 1e-9}


@st.composite
def grouped_cases(draw, max_side: int = 4):
    groups = draw(st.integers(1, 3))
    depthwise = draw(st.booleans())
    cg = 1 if depthwise else draw(st.integers(1, 2))
    og = draw(st.integers(1, 2))
    n = draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    span_h, span_w = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    h = draw(st.integers(max(1, span_h - 2 * padding[0]), span_h + max_side))
    w = draw(st.integers(max(1, span_w - 2 * padding[1]), span_w + max_side))
    return {
        "x": (n, cg * groups, h, w),
        "w": (og * groups, cg, kh, kw),
        "bias": draw(st.booleans()),
        "attrs": {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups},
        "seed": draw(st.integers(0, 2**16)),
    }


def _geometry(case):
    attrs = {k: v for k, v in case["attrs"].items() if k != "groups"}
    c = case["x"][1]
    w_block = (case["w"][0], c, *case["w"][2:])  # the ungrouped weight with the same output
    return conv2d_geometry(case["x"], w_block, **attrs)


@SWEEP
@given(case=grouped_cases(), dtype=st.sampled_from(["float32", "float64"]))
def test_grouped_conv2d_matches_torch_to_second_order(case, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(case["seed"])
    arrays = [rng.standard_normal(case["x"]), rng.standard_normal(case["w"])]
    if case["bias"]:
        arrays.append(rng.standard_normal(case["w"][0]))
    attrs = case["attrs"]
    compare_with_torch(
        lambda x, w, b=None: mg.ops.conv2d(x, w, b, **attrs),
        lambda x, w, b=None: torch.nn.functional.conv2d(x, w, b, **attrs),
        *arrays,
        dtypes=(dtype,),
        atol=TOL,
        rtol=TOL,
    )


@SWEEP
@given(case=grouped_cases(), dtype=st.sampled_from(["float32", "float64"]))
def test_grouped_conv_transpose2d_matches_torch_to_second_order(case, dtype):
    torch = pytest.importorskip("torch")
    g = _geometry(case)
    attrs = case["attrs"]
    rng = np.random.default_rng(case["seed"])
    arrays = [rng.standard_normal(g.out_shape), rng.standard_normal(case["w"])]
    s, d, p = attrs["stride"], attrs["dilation"], attrs["padding"]
    kh, kw = case["w"][2:]
    smallest = [(g.out_shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * ((kh, kw)[i] - 1) + 1
                for i in range(2)]  # fmt: skip
    extra = (g.h - smallest[0], g.w - smallest[1])
    compare_with_torch(
        lambda u, w: mg.ops.conv_transpose2d(u, w, x_hw=(g.h, g.w), **attrs),
        # the same (O, C/groups, kh, kw) array: torch reads it as (in, out/groups)
        lambda u, w: torch.nn.functional.conv_transpose2d(
            u, w, stride=s, padding=p, output_padding=extra, dilation=d, groups=attrs["groups"]
        ),
        *arrays,
        dtypes=(dtype,),
        atol=TOL,
        rtol=TOL,
    )


@SWEEP
@given(case=grouped_cases(), dtype=st.sampled_from(["float32", "float64"]))
def test_grouped_conv2d_weight_matches_torch_to_second_order(case, dtype):
    torch = pytest.importorskip("torch")
    g = _geometry(case)
    attrs = case["attrs"]
    rng = np.random.default_rng(case["seed"])
    arrays = [rng.standard_normal(case["x"]), rng.standard_normal(g.out_shape)]

    def theirs(x, u):
        w = torch.zeros(case["w"], dtype=x.dtype, requires_grad=True)
        y = torch.nn.functional.conv2d(x, w, **attrs)
        return torch.autograd.grad((y * u).sum(), w, create_graph=True)[0]

    compare_with_torch(
        lambda x, u: mg.ops.conv2d_weight(x, u, w_shape=case["w"], **attrs),
        theirs,
        *arrays,
        dtypes=(dtype,),
        atol=TOL,
        rtol=TOL,
    )


@settings(max_examples=15, deadline=None)
@given(case=grouped_cases(max_side=2))
def test_grouped_gradcheck_and_gradgradcheck(case):
    rng = np.random.default_rng(case["seed"])
    x = mg.tensor(rng.standard_normal(case["x"]), requires_grad=True)
    w = mg.tensor(rng.standard_normal(case["w"]), requires_grad=True)
    b = mg.tensor(rng.standard_normal(case["w"][0]), requires_grad=True)

    def f(x, w, b):
        return mg.ops.conv2d(x, w, b, **case["attrs"])

    assert gradcheck(f, x, w, b)
    assert gradgradcheck(f, x, w, b)


def test_depthwise_by_hand():
    x = mg.tensor(np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))])[None])  # (1, 2, 3, 3)
    w = mg.tensor(np.stack([np.ones((1, 2, 2)), -np.ones((1, 2, 2))]))  # (2, 1, 2, 2)
    y = mg.ops.conv2d(x, w, groups=2)
    np.testing.assert_array_equal(y.data[0, 0], np.full((2, 2), 4.0))
    np.testing.assert_array_equal(y.data[0, 1], np.full((2, 2), -8.0))
    assert list(input_channels_of(1, 2, 2, 2)) == [1]
    assert list(input_channels_of(3, 6, 4, 2)) == [3, 4, 5]


def test_group_errors_name_the_op_and_shapes():
    x = mg.zeros(1, 4, 5, 5)
    with pytest.raises(ValueError, match="conv2d: in_channels=4 is not divisible by groups=3"):
        mg.ops.conv2d(x, mg.zeros(3, 1, 3, 3), groups=3)
    with pytest.raises(ValueError, match="conv2d: out_channels=3 is not divisible by groups=2"):
        mg.ops.conv2d(x, mg.zeros(3, 2, 3, 3), groups=2)
    with pytest.raises(
        ValueError,
        match=r"conv2d: the input has 4 channels and groups=2, so the weight must be "
        r"\(out_channels, 2, kh, kw\) .* got weight of shape \(4, 4, 3, 3\)",
    ):
        mg.ops.conv2d(x, mg.zeros(4, 4, 3, 3), groups=2)
    with pytest.raises(ValueError, match="conv2d: groups must be >= 1, got 0"):
        mg.ops.conv2d(x, mg.zeros(4, 4, 3, 3), groups=0)
    with pytest.raises(TypeError, match="conv2d: groups must be a positive int"):
        mg.ops.conv2d(x, mg.zeros(4, 4, 3, 3), groups=2.0)
    with pytest.raises(ValueError, match=r"conv2d: bias has shape \(3,\)"):
        mg.ops.conv2d(x, mg.zeros(4, 2, 3, 3), mg.zeros(3), groups=2)
    with pytest.raises(ValueError, match="Conv2d: in_channels=4 is not divisible by groups=3"):
        mg.nn.Conv2d(4, 6, 3, groups=3)


def test_nn_conv2d_groups():
    mg.manual_seed(0)
    conv = mg.nn.Conv2d(4, 8, 3, padding=1, groups=4)
    assert conv.weight.shape == (8, 1, 3, 3)
    assert repr(conv) == "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), groups=4)"
    bound = 1 / np.sqrt(1 * 3 * 3)  # fan_in of one group, as PyTorch
    assert np.abs(conv.weight.data).max() <= bound
    x = mg.randn(2, 4, 5, 5)
    y = conv(x)
    ref = mg.ops.conv2d(x, conv.weight, conv.bias, padding=1, groups=4)
    np.testing.assert_array_equal(y.data, ref.data)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 4, H, W\)"):
        conv(mg.randn(1, 8, 5, 5))
