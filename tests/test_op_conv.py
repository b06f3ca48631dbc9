"""conv2d, conv_transpose2d and conv2d_weight: hand-checked values, finite-difference checks,
the op contract, input errors (the PyTorch sweeps are in test_op_conv_torch.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from layers_plugins.conv import Conv2d, Conv2dWeight, ConvTranspose2d
from minigrad.testing import gradcheck, gradgradcheck, opcheck

SWEEP = settings(max_examples=25, deadline=None)
FEW = settings(max_examples=8, deadline=None)

IMAGE = [
    [1, 1, 1, 0, 0],
    [0, 1, 1, 1, 0],
    [0, 0, 1, 1, 1],
    [0, 0, 1, 1, 0],
    [0, 1, 1, 0, 0],
]
KERNEL = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
VALID = [[4, 3, 4], [2, 4, 3], [2, 3, 4]]  # IMAGE * KERNEL, worked out by hand


def nchw(rows, dtype=np.float32) -> np.ndarray:
    """A single-channel 2-D list as a (1, 1, H, W) array."""
    a = np.asarray(rows, dtype=dtype)
    return a.reshape(1, 1, *a.shape)


def t(a, requires_grad: bool = False, dtype=None) -> mg.Tensor:
    return mg.tensor(np.asarray(a) if dtype is None else np.asarray(a, dtype=dtype), requires_grad)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# --------------------------------------------------------------------------- by hand


def test_conv2d_of_the_worked_example():
    y = mg.ops.conv2d(t(nchw(IMAGE)), t(nchw(KERNEL)))
    assert y.shape == (1, 1, 3, 3) and y.dtype == np.float32
    np.testing.assert_array_equal(y.data[0, 0], VALID)


def test_same_padding_keeps_the_size_and_reads_zeros_outside():
    y = mg.ops.conv2d(t(nchw(IMAGE)), t(nchw(KERNEL)), padding="same").data[0, 0]
    assert y.shape == (5, 5)
    np.testing.assert_array_equal(y[1:4, 1:4], VALID)
    # top-left: only the kernel's bottom-right 2x2 [[1, 0], [0, 1]] sees the image [[1, 1], [0, 1]]
    assert y[0, 0] == 1 + 1
    # padding=1 is the same thing for a 3x3 kernel
    np.testing.assert_array_equal(
        mg.ops.conv2d(t(nchw(IMAGE)), t(nchw(KERNEL)), padding=1).data[0, 0], y
    )


def test_stride_two_keeps_every_other_window():
    y = mg.ops.conv2d(t(nchw(IMAGE)), t(nchw(KERNEL)), stride=2).data[0, 0]
    np.testing.assert_array_equal(y, [[4, 4], [2, 4]])


def test_channels_are_summed_and_the_bias_added():
    x = np.stack([np.asarray(IMAGE, np.float32), np.ones((5, 5), np.float32)])[None]  # (1,2,5,5)
    k = np.asarray(KERNEL, np.float32)
    w = np.stack(
        [
            np.stack([k, np.ones((3, 3), np.float32)]),  # output 0: IMAGE*KERNEL + 9 per window
            np.stack([np.zeros((3, 3), np.float32), k]),  # output 1: KERNEL's sum (5) per window
        ]
    )  # (O=2, C=2, 3, 3)
    y = mg.ops.conv2d(t(x), t(w), t([10.0, -1.0])).data[0]
    np.testing.assert_array_equal(y[0], np.asarray(VALID) + 9 + 10)
    np.testing.assert_array_equal(y[1], np.full((3, 3), 5 - 1))


def test_dilation_spreads_the_kernel_taps():
    # a 2x2 kernel of ones with dilation 2 adds the four corners of each 3x3 window
    x = np.arange(25, dtype=np.float64).reshape(1, 1, 5, 5)
    y = mg.ops.conv2d(t(x), t(np.ones((1, 1, 2, 2))), dilation=2).data[0, 0]
    a = x[0, 0]
    np.testing.assert_array_equal(y, a[:3, :3] + a[:3, 2:] + a[2:, :3] + a[2:, 2:])


def test_gradients_of_the_worked_example_by_hand():
    x = t(nchw(IMAGE), requires_grad=True)
    w = t(nchw(KERNEL), requires_grad=True)
    b = t([0.0], requires_grad=True)
    mg.ops.conv2d(x, w, b).sum().backward()
    # d/dw: each tap sums the 3x3 block of the image it slides over
    img = np.asarray(IMAGE, np.float32)
    expected_w = [[img[i : i + 3, j : j + 3].sum() for j in range(3)] for i in range(3)]
    np.testing.assert_array_equal(w.grad.data[0, 0], expected_w)
    # d/dx: how many windows put a 1 of the kernel on each pixel
    k = np.asarray(KERNEL, np.float32)
    expected_x = np.zeros((5, 5), np.float32)
    for i in range(3):
        for j in range(3):
            expected_x[i : i + 3, j : j + 3] += k
    np.testing.assert_array_equal(x.grad.data[0, 0], expected_x)
    assert b.grad.data.tolist() == [9.0]


def test_conv_transpose2d_upsamples_and_fills_unread_rows_with_zeros():
    g = t(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    ones = t(np.ones((1, 1, 2, 2)))
    y = mg.ops.conv_transpose2d(g, ones, stride=2)  # default size: the smallest, 4x4
    np.testing.assert_array_equal(y.data[0, 0], np.kron([[1, 2], [3, 4]], np.ones((2, 2))))
    # a 5x5 input also gives 2x2 windows with stride 2; its last row and column are never read
    y5 = mg.ops.conv_transpose2d(g, ones, x_hw=(5, 5), stride=2).data[0, 0]
    np.testing.assert_array_equal(y5[:4, :4], y.data[0, 0])
    assert not y5[4].any() and not y5[:, 4].any()


def test_conv2d_weight_counts_windows_by_hand():
    dw = mg.ops.conv2d_weight(
        t(np.ones((1, 1, 3, 3))), t(np.ones((1, 2, 2, 2))), w_shape=(2, 1, 2, 2)
    )
    np.testing.assert_array_equal(dw.data, np.full((2, 1, 2, 2), 4.0))


# --------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_through_forward_and_backward(dtype):
    rng = np.random.default_rng(0)
    x = t(rng.standard_normal((2, 3, 6, 6)), True, dtype)
    w = t(rng.standard_normal((4, 3, 3, 3)), True, dtype)
    b = t(rng.standard_normal(4), True, dtype)
    y = mg.ops.conv2d(x, w, b, stride=2, padding=1)
    assert y.dtype == dtype
    y.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == dtype


def test_mixed_float_dtypes_promote_and_gradients_keep_each_inputs_dtype():
    x = t(np.ones((1, 1, 3, 3)), True, np.float32)
    w = t(np.ones((1, 1, 2, 2)), True, np.float64)
    y = mg.ops.conv2d(x, w)
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64


# --------------------------------------------------------------------------- only what is needed


@pytest.fixture
def spy(monkeypatch):
    """Count calls of mg.ops functions (the companions conv2d's backward calls)."""
    calls: list[str] = []

    def watch(name: str) -> None:
        real = getattr(mg.ops, name)  # loads and caches the op function

        def wrapper(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)

        monkeypatch.setitem(mg.ops.__dict__, name, wrapper)

    for name in ("conv2d", "conv_transpose2d", "conv2d_weight"):
        watch(name)
    return calls


def test_input_that_needs_no_gradient_skips_the_transposed_convolution(spy):
    x = mg.randn(2, 1, 5, 5)  # the image of a first layer: no gradient wanted
    w = mg.randn(3, 1, 3, 3, requires_grad=True)
    b = mg.zeros(3, requires_grad=True)
    mg.ops.conv2d(x, w, b, padding=1).sum().backward()
    assert spy == ["conv2d", "conv2d_weight"]
    assert x.grad is None and w.grad is not None and b.grad is not None


def test_frozen_weight_skips_the_weight_gradient(spy):
    x = mg.randn(2, 1, 5, 5, requires_grad=True)
    w = mg.randn(3, 1, 3, 3)
    mg.ops.conv2d(x, w).sum().backward()
    assert spy == ["conv2d", "conv_transpose2d"]


def test_recorded_backward_graph_has_no_transposed_convolution_for_a_constant_input():
    x = mg.randn(1, 1, 5, 5)
    w = mg.randn(2, 1, 3, 3, requires_grad=True)
    (gw,) = mg.grad((mg.ops.conv2d(x, w) ** 2).sum(), [w], create_graph=True)
    ops = {d["op"] for _, d in mg.graph.to_networkx(gw).nodes(data=True) if d["kind"] == "op"}
    assert "conv2d_weight" in ops and "conv_transpose2d" not in ops


def test_companion_ops_in_graphs_carry_plain_attributes():
    x = mg.randn(1, 2, 6, 6, requires_grad=True)
    w = mg.randn(3, 2, 3, 3, requires_grad=True)
    y = mg.ops.conv2d(x, w, stride=(2, 2), padding=[1, 1])
    gx, gw = mg.grad((y * y).sum(), [x, w], create_graph=True)
    nodes = [d for _, d in mg.graph.to_networkx(gx).nodes(data=True) if d["kind"] == "op"]
    (ct,) = [d for d in nodes if d["op"] == "conv_transpose2d"]
    assert ct["attrs"] == {"x_hw": (6, 6), "stride": 2, "padding": 1, "dilation": 1, "groups": 1}
    json.dumps(ct["attrs"])  # plain values, as exported graphs need
    dot = mg.graph.draw(gw).source
    line = next(v for v in dot.splitlines() if "<b>conv2d_weight</b>" in v)
    line = line.split("tooltip=")[0]  # the visible label (the tooltip lists every attribute)
    assert "stride=2" in line and "padding=1" in line and "dilation" not in line


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "attrs", "pattern"),
    [
        ((1, 5, 5), (1, 1, 3, 3), {}, r"conv2d: expected a 4-D input .*\(1, 5, 5\).*reshape"),
        ((1, 3, 5, 5), (2, 1, 3, 3), {}, r"conv2d: input has 3 channels .* weight expects 1"),
        ((1, 1, 5, 5), (1, 3, 3), {}, r"conv2d: expected a 4-D weight"),
        ((1, 1, 2, 2), (1, 1, 3, 3), {}, r"conv2d: kernel \(3, 3\).*larger than the padded input"),
        ((1, 1, 5, 5), (1, 1, 3, 3), {"dilation": 3}, r"conv2d: kernel .* dilation \(3, 3\)"),
        ((1, 1, 5, 5), (1, 1, 3, 3), {"stride": 0}, r"conv2d: stride must be >= 1, got \(0, 0\)"),
        ((1, 1, 5, 5), (1, 1, 3, 3), {"dilation": (1, 0)}, r"conv2d: dilation must be >= 1"),
        ((1, 1, 5, 5), (1, 1, 3, 3), {"padding": -1}, r"conv2d: padding must be >= 0"),
        ((1, 1, 5, 5), (1, 1, 3, 3), {"padding": "full"}, r"conv2d: padding must be .*'same'"),
        (
            (1, 1, 5, 5),
            (1, 1, 3, 3),
            {"padding": "same", "stride": 2},
            r"conv2d: padding='same' requires stride 1",
        ),
    ],
)
def test_conv2d_input_errors_name_the_op_and_the_shapes(x_shape, w_shape, attrs, pattern):
    with pytest.raises(ValueError, match=pattern):
        mg.ops.conv2d(mg.zeros(*x_shape), mg.zeros(*w_shape), **attrs)


def test_bias_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"conv2d: bias has shape \(3,\) .* expected shape \(2,\)"):
        mg.ops.conv2d(mg.zeros(1, 1, 4, 4), mg.zeros(2, 1, 3, 3), mg.zeros(3))
    with pytest.raises(ValueError, match=r"conv2d: bias has shape \(2, 1\)"):
        mg.ops.conv2d(mg.zeros(1, 1, 4, 4), mg.zeros(2, 1, 3, 3), mg.zeros(2, 1))


def test_non_integer_sizes_are_type_errors():
    with pytest.raises(TypeError, match=r"conv2d: stride must be an int or a pair of ints"):
        mg.ops.conv2d(mg.zeros(1, 1, 4, 4), mg.zeros(1, 1, 3, 3), stride=1.5)


def test_companion_errors_name_the_companion():
    with pytest.raises(ValueError, match=r"conv_transpose2d: grad has 3 channels .* 2 output"):
        mg.ops.conv_transpose2d(mg.zeros(1, 3, 2, 2), mg.zeros(2, 1, 3, 3))
    with pytest.raises(ValueError, match=r"conv_transpose2d: expected a 4-D grad"):
        mg.ops.conv_transpose2d(mg.zeros(3, 2, 2), mg.zeros(3, 1, 3, 3))
    with pytest.raises(ValueError, match=r"conv_transpose2d: grad has shape \(1, 2, 2, 2\)"):
        mg.ops.conv_transpose2d(mg.zeros(1, 2, 2, 2), mg.zeros(2, 1, 3, 3), x_hw=(6, 6))
    with pytest.raises(ValueError, match=r"conv_transpose2d: .*empty output"):
        mg.ops.conv_transpose2d(mg.zeros(1, 2, 1, 1), mg.zeros(2, 1, 1, 1), padding=1)
    with pytest.raises(ValueError, match=r"conv2d_weight: x has batch size 2 .* grad has 1"):
        mg.ops.conv2d_weight(mg.zeros(2, 1, 4, 4), mg.zeros(1, 1, 2, 2), w_shape=(1, 1, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d_weight: grad has shape \(1, 1, 3, 3\)"):
        mg.ops.conv2d_weight(mg.zeros(1, 1, 4, 4), mg.zeros(1, 1, 3, 3), w_shape=(1, 1, 3, 3))
    with pytest.raises(TypeError, match=r"conv2d_weight: missing required attribute.*w_shape"):
        mg.ops.conv2d_weight(mg.zeros(1, 1, 4, 4), mg.zeros(1, 1, 2, 2))


# --------------------------------------------------------------------------- generated cases


@st.composite
def conv_cases(draw, max_side: int = 4, allow_same: bool = True, allow_four: bool = True):
    """Shapes and attributes of one convolution whose kernel fits the padded input."""
    n, c, o = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    if allow_same and draw(st.booleans()) and draw(st.booleans()):
        stride, padding = (1, 1), "same"
        pads = (0, 0, 0, 0)  # sizes only need the kernel to fit somewhere
    else:
        stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        kind = draw(st.sampled_from(["int", "pair", "four"] if allow_four else ["int", "pair"]))
        if kind == "int":
            p = draw(st.integers(0, 2))
            padding, pads = p, (p, p, p, p)
        elif kind == "pair":
            ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
            padding, pads = (ph, pw), (ph, ph, pw, pw)
        else:
            pads = tuple(draw(st.integers(0, 2)) for _ in range(4))
            padding = pads
    span_h, span_w = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    h = draw(st.integers(max(1, span_h - pads[0] - pads[1]), span_h + max_side))
    w = draw(st.integers(max(1, span_w - pads[2] - pads[3]), span_w + max_side))
    return {
        "x": (n, c, h, w),
        "w": (o, c, kh, kw),
        "bias": draw(st.booleans()),
        "attrs": {"stride": stride, "padding": padding, "dilation": dilation},
        "seed": draw(st.integers(0, 2**16)),
    }


def transposed_case(case):
    """conv_transpose2d's inputs for a conv2d case: grad of the output shape, and x_hw."""
    from layers_plugins._kernels import conv2d_geometry

    attrs = case["attrs"]
    g = conv2d_geometry(case["x"], case["w"], **attrs)
    return g.out_shape, (g.h, g.w), g.padding


# --------------------------------------------------------------------------- finite differences


def small_conv_cases():
    return conv_cases(max_side=2).filter(lambda c: np.prod(c["x"]) <= 48)


@FEW
@given(case=small_conv_cases())
def test_conv2d_gradcheck_and_gradgradcheck(case):
    rng = np.random.default_rng(case["seed"])
    x = mg.tensor(rng.standard_normal(case["x"]), requires_grad=True)
    w = mg.tensor(rng.standard_normal(case["w"]), requires_grad=True)
    b = mg.tensor(rng.standard_normal(case["w"][0]), requires_grad=True) if case["bias"] else None

    def f(x, w, b=None):
        return mg.ops.conv2d(x, w, b, **case["attrs"])

    inputs = (x, w) if b is None else (x, w, b)
    assert gradcheck(f, *inputs)
    assert gradgradcheck(f, *inputs)


@FEW
@given(case=small_conv_cases())
def test_companions_gradcheck_and_gradgradcheck(case):
    out_shape, x_hw, _ = transposed_case(case)
    attrs = case["attrs"]
    rng = np.random.default_rng(case["seed"])
    x, w, g = (
        mg.tensor(rng.standard_normal(s), requires_grad=True)
        for s in (case["x"], case["w"], out_shape)
    )

    def transposed(g, w):
        return mg.ops.conv_transpose2d(g, w, x_hw=x_hw, **attrs)

    def weight(x, g):
        return mg.ops.conv2d_weight(x, g, w_shape=case["w"], **attrs)

    assert gradcheck(transposed, g, w) and gradgradcheck(transposed, g, w)
    assert gradcheck(weight, x, g) and gradgradcheck(weight, x, g)


def test_third_derivative_through_the_companions():
    # d^3/dw^3 of sum(conv2d(x, w)**3) is 6 * sum over windows of x-patch products: check it
    # along a direction with finite differences of the second derivative
    rng = np.random.default_rng(3)
    x = mg.tensor(rng.standard_normal((1, 1, 4, 4)))
    w = mg.tensor(rng.standard_normal((1, 1, 2, 2)), requires_grad=True)
    v = mg.tensor(rng.standard_normal((1, 1, 2, 2)))

    def second(w):
        (gw,) = mg.grad((mg.ops.conv2d(x, w) ** 3).sum(), [w], create_graph=True)
        (hv,) = mg.grad((gw * v).sum(), [w], create_graph=True)
        return hv

    assert gradcheck(second, w)


@pytest.mark.parametrize(
    ("op", "k"),
    [
        (op, k)
        for op in (Conv2d, ConvTranspose2d, Conv2dWeight)
        for k in range(len(op.sample_inputs()))
    ],
)
def test_opcheck_on_every_sample(op, k):
    args, attrs = op.sample_inputs()[k]
    assert opcheck(op, *args, **attrs)


def test_ops_are_the_registered_entry_points():
    assert mg.ops.conv2d.op is Conv2d
    assert mg.ops.conv_transpose2d.op is ConvTranspose2d
    assert mg.ops.conv2d_weight.op is Conv2dWeight
    assert "mg.ops.conv_transpose2d" in mg.ops.conv2d.__doc__
