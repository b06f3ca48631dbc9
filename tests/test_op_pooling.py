"""Max, average, sum and global pooling and their companions: hand-checked windows,
finite-difference checks, the op contract, errors (the PyTorch sweeps are in
test_op_pooling_torch.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from layers_plugins.pooling import (
    AvgPool2d,
    AvgUnpool2d,
    GlobalAvgPool2d,
    GlobalMaxPool2d,
    MaxPool2d,
    MaxPool2dGather,
    MaxUnpool2d,
    SumPool2d,
    SumUnpool2d,
)
from minigrad.testing import gradcheck, gradgradcheck, opcheck

SWEEP = settings(max_examples=25, deadline=None)
FEW = settings(max_examples=8, deadline=None)
OPS = {
    "max_pool2d": MaxPool2d,
    "max_unpool2d": MaxUnpool2d,
    "max_pool2d_gather": MaxPool2dGather,
    "avg_pool2d": AvgPool2d,
    "avg_unpool2d": AvgUnpool2d,
    "sum_pool2d": SumPool2d,
    "sum_unpool2d": SumUnpool2d,
    "global_max_pool2d": GlobalMaxPool2d,
    "global_avg_pool2d": GlobalAvgPool2d,
}


def nchw(rows, dtype=np.float32) -> mg.Tensor:
    """A single-channel 2-D list as a (1, 1, H, W) tensor."""
    a = np.asarray(rows, dtype=dtype)
    return mg.tensor(a.reshape(1, 1, *a.shape))


def distinct(shape, seed: int, dtype=np.float64) -> np.ndarray:
    """Values k/4 for a random permutation of k: no ties, exact in float32, 0.25 apart."""
    size = int(np.prod(shape))
    perm = np.random.default_rng(seed).permutation(size)
    return ((perm - size / 2) / 4).reshape(shape).astype(dtype)


# --------------------------------------------------------------------------- by hand

MAP3 = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]


def test_max_pool_of_a_3x3_map_floor_and_ceil():
    x = nchw(MAP3)
    np.testing.assert_array_equal(mg.ops.max_pool2d(x, kernel_size=2).data, [[[[5]]]])
    y = mg.ops.max_pool2d(x, kernel_size=2, ceil_mode=True)
    np.testing.assert_array_equal(y.data[0, 0], [[5, 6], [8, 9]])


def test_a_7x7_map_pools_to_4x4_with_ceil_mode_and_3x3_without():
    x = mg.arange(49.0).reshape((1, 1, 7, 7))
    for op in ("max_pool2d", "avg_pool2d", "sum_pool2d"):
        assert getattr(mg.ops, op)(x, kernel_size=2).shape == (1, 1, 3, 3)
        assert getattr(mg.ops, op)(x, kernel_size=2, ceil_mode=True).shape == (1, 1, 4, 4)
    y = mg.ops.max_pool2d(x, kernel_size=2, ceil_mode=True).data[0, 0]
    assert y[3].tolist() == [43, 45, 47, 48]  # the last row of windows holds only row 6
    assert y[:, 3].tolist() == [13, 27, 41, 48]


def test_avg_pool_divides_ceil_mode_windows_by_the_cells_they_cover():
    y = mg.ops.avg_pool2d(nchw(MAP3), kernel_size=2, ceil_mode=True).data[0, 0]
    # windows [1 2 4 5], [3 6], [7 8], [9]: cells past the input never count
    np.testing.assert_array_equal(y, [[3.0, 4.5], [7.5, 9.0]])
    same = mg.ops.avg_pool2d(nchw(MAP3), kernel_size=2, ceil_mode=True, count_include_pad=False)
    np.testing.assert_array_equal(same.data[0, 0], y)


def test_avg_pool_padding_counts_or_not():
    # padding 1 around MAP3, 2x2 windows at stride 2: {1}, {2, 3}, {4, 7}, {5, 6, 8, 9}
    x = nchw(MAP3)
    with_pad = mg.ops.avg_pool2d(x, kernel_size=2, padding=1).data[0, 0]
    np.testing.assert_array_equal(with_pad, [[1 / 4, 5 / 4], [11 / 4, 28 / 4]])
    without = mg.ops.avg_pool2d(x, kernel_size=2, padding=1, count_include_pad=False).data[0, 0]
    np.testing.assert_array_equal(without, [[1, 5 / 2], [11 / 2, 28 / 4]])


def test_avg_pool_divisors_with_padding_and_ceil_mode():
    # a 4x4 map of ones, 3x3 windows, stride 2, padding 1, ceil_mode: 3 windows per axis,
    # starting at -1, 1 and 3. Input rows covered: 2, 3, 1. Rows counted with padding: 3, 3
    # and 2 (the last window's row 5 lies past the padding and never counts).
    x = mg.ones(1, 1, 4, 4)
    attrs = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}
    cells, counted = np.array([2, 3, 1]), np.array([3, 3, 2])
    y = mg.ops.avg_pool2d(x, **attrs).data[0, 0]
    np.testing.assert_allclose(y, np.outer(cells, cells) / np.outer(counted, counted), rtol=1e-6)
    y = mg.ops.avg_pool2d(x, count_include_pad=False, **attrs).data[0, 0]
    np.testing.assert_array_equal(y, np.ones((3, 3)))


def test_sum_pool_by_hand_and_its_gradient_counts_windows():
    x = nchw(MAP3, np.float64)
    x.requires_grad = True
    y = mg.ops.sum_pool2d(x, kernel_size=2, stride=1)
    np.testing.assert_array_equal(y.data[0, 0], [[12, 16], [24, 28]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_max_pool_tie_sends_the_gradient_to_the_first_maximum():
    x = nchw([[1.0, 3.0], [3.0, 3.0]])
    x.requires_grad = True
    mg.ops.max_pool2d(x, kernel_size=2).sum().backward()
    np.testing.assert_array_equal(x.grad.data[0, 0], [[0, 1], [0, 0]])


def test_a_cell_winning_overlapping_windows_gets_the_sum():
    x = nchw([[0.0, 1.0, 0.0], [2.0, 9.0, 3.0], [0.0, 4.0, 0.0]])
    x.requires_grad = True
    y = mg.ops.max_pool2d(x, kernel_size=2, stride=1)
    np.testing.assert_array_equal(y.data[0, 0], [[9, 9], [9, 9]])
    (y * mg.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])).sum().backward()
    np.testing.assert_array_equal(x.grad.data[0, 0], [[0, 0, 0], [0, 10, 0], [0, 0, 0]])


def test_padded_cells_never_win_a_max():
    x = nchw([[-5.0, -6.0], [-7.0, -8.0]])
    y = mg.ops.max_pool2d(x, kernel_size=2, stride=1, padding=1).data[0, 0]
    np.testing.assert_array_equal(y, [[-5, -5, -6], [-5, -5, -6], [-7, -7, -8]])


def test_global_pools_by_hand():
    x = mg.tensor(np.array([[[[1.0, 4.0], [4.0, 2.0]], [[-1.0, -2.0], [-3.0, -4.0]]]]))
    x.requires_grad = True
    y = mg.ops.global_max_pool2d(x)
    assert y.shape == (1, 2)
    np.testing.assert_array_equal(y.data, [[4, -1]])
    (y * mg.tensor([[10.0, 20.0]], dtype="float64")).sum().backward()
    # the first 4 in row-major order takes the gradient
    np.testing.assert_array_equal(x.grad.data[0], [[[0, 10], [0, 0]], [[20, 0], [0, 0]]])
    x.zero_grad()
    y = mg.ops.global_avg_pool2d(x)
    np.testing.assert_array_equal(y.data, [[11 / 4, -10 / 4]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((1, 2, 2, 2), 0.25))


def test_companions_by_hand():
    winner = mg.tensor(np.array([[[[3, 0]]]], dtype=np.uint8))  # bottom-right, top-left
    g = mg.tensor([[[[5.0, 7.0]]]])
    dx = mg.ops.max_unpool2d(g, winner, x_hw=(2, 4), kernel_size=2)
    np.testing.assert_array_equal(dx.data[0, 0], [[0, 0, 7, 0], [0, 5, 0, 0]])
    back = mg.ops.max_pool2d_gather(dx, winner, kernel_size=2)
    np.testing.assert_array_equal(back.data, g.data)
    spread = mg.ops.avg_unpool2d(g, x_hw=(2, 4), kernel_size=2).data[0, 0]
    np.testing.assert_array_equal(spread, [[1.25, 1.25, 1.75, 1.75]] * 2)
    copies = mg.ops.sum_unpool2d(g, x_hw=(2, 4), kernel_size=2).data[0, 0]
    np.testing.assert_array_equal(copies, [[5, 5, 7, 7]] * 2)


# --------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d", "sum_pool2d"])
def test_dtype_is_kept_through_forward_and_backward(op, dtype):
    x = mg.tensor(distinct((2, 3, 5, 5), 0, dtype), requires_grad=True)
    y = getattr(mg.ops, op)(x, kernel_size=3, stride=2, padding=1)
    assert y.dtype == dtype
    (gx,) = mg.grad((y * y).sum(), [x], create_graph=True)
    assert gx.dtype == dtype
    (hx,) = mg.grad(gx.sum(), [x])
    assert hx.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_global_pools_keep_the_dtype(dtype):
    x = mg.tensor(distinct((2, 3, 4, 4), 1, dtype), requires_grad=True)
    for op in (mg.ops.global_max_pool2d, mg.ops.global_avg_pool2d):
        y = op(x)
        assert y.dtype == dtype
        (gx,) = mg.grad(y.sum(), [x])
        assert gx.dtype == dtype


# --------------------------------------------------------------------------- graphs


def test_max_pool_backward_graph_shows_the_offsets_feeding_max_unpool2d():
    x = mg.tensor(distinct((1, 2, 4, 4), 2), requires_grad=True)
    y = mg.ops.max_pool2d(x, kernel_size=(2, 2), stride=[2, 2])
    (gx,) = mg.grad((y * y).sum(), [x], create_graph=True)
    G = mg.graph.to_networkx(gx)
    (unpool,) = [
        n for n, d in G.nodes(data=True) if d["kind"] == "op" and d["op"] == "max_unpool2d"
    ]
    attrs = G.nodes[unpool]["attrs"]
    assert attrs == {
        "x_hw": (4, 4),
        "kernel_size": 2,
        "stride": 2,
        "padding": 0,
        "ceil_mode": False,
    }
    json.dumps(attrs)
    feeds = {G.nodes[src]["name"]: G.nodes[src]["dtype"] for src, _ in G.in_edges(unpool)}
    assert feeds.get("offsets") == "uint8"
    # and it is differentiable again, through max_pool2d_gather
    (hx,) = mg.grad((gx * gx).sum(), [x], create_graph=True)
    ops = {d["op"] for _, d in mg.graph.to_networkx(hx).nodes(data=True) if d["kind"] == "op"}
    assert "max_pool2d_gather" in ops


# --------------------------------------------------------------------------- generated cases


@st.composite
def pool_cases(draw, max_side: int = 4):
    """Shapes and window attributes of one pooling (PyTorch's rules: padding <= kernel / 2)."""
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = (draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2)))
    h = draw(st.integers(max(1, kh - 2 * padding[0]), kh + max_side))
    w = draw(st.integers(max(1, kw - 2 * padding[1]), kw + max_side))
    attrs = {"kernel_size": (kh, kw), "stride": stride, "padding": padding}
    attrs["ceil_mode"] = draw(st.booleans())
    return {
        "x": (n, c, h, w),
        "attrs": attrs,
        "count_include_pad": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


def pooled_shape(case) -> tuple[int, ...]:
    return mg.ops.sum_pool2d(mg.zeros(*case["x"]), **case["attrs"]).shape


def winners(x: np.ndarray, attrs) -> tuple[np.ndarray, np.ndarray]:
    """max_pool2d's output and the winner offsets it saves for its backward pass."""
    y = mg.ops.max_pool2d(mg.tensor(x, requires_grad=True), **attrs)
    (offsets,) = y._node.saved_arrays
    return y.data, offsets


def torch_attrs(attrs):
    return {**attrs, "stride": attrs["stride"] or attrs["kernel_size"]}


@SWEEP
@given(case=pool_cases())
def test_companions_are_adjoint(case):
    """<pool(x), g> = <x, unpool(g)> for avg and sum; <gather(x), g> = <x, max_unpool(g)>."""
    attrs = case["attrs"]
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["x"])
    g = rng.standard_normal(pooled_shape(case))
    offsets = mg.tensor(rng.integers(0, np.prod(attrs["kernel_size"]), size=g.shape))
    x_hw = case["x"][2:]
    cip = {"count_include_pad": case["count_include_pad"]}
    pairs = [
        (
            mg.ops.avg_pool2d(mg.tensor(x), **attrs, **cip),
            mg.ops.avg_unpool2d(mg.tensor(g), x_hw=x_hw, **attrs, **cip),
        ),
        (
            mg.ops.sum_pool2d(mg.tensor(x), **attrs),
            mg.ops.sum_unpool2d(mg.tensor(g), x_hw=x_hw, **attrs),
        ),
        (
            mg.ops.max_pool2d_gather(mg.tensor(x), offsets, **attrs),
            mg.ops.max_unpool2d(mg.tensor(g), offsets, x_hw=x_hw, **attrs),
        ),
    ]
    for pooled, spread in pairs:
        assert np.vdot(pooled.data, g) == pytest.approx(
            np.vdot(x, spread.data), rel=1e-10, abs=1e-10
        )


# --------------------------------------------------------------------------- finite differences


def small_pool_cases():
    return pool_cases(max_side=2).filter(lambda c: np.prod(c["x"]) <= 40)


@FEW
@given(case=small_pool_cases())
def test_pools_gradcheck_and_gradgradcheck(case):
    attrs = case["attrs"]
    x = mg.tensor(distinct(case["x"], case["seed"]), requires_grad=True)
    cip = case["count_include_pad"]
    for f in (
        lambda x: mg.ops.max_pool2d(x, **attrs),
        lambda x: mg.ops.avg_pool2d(x, **attrs, count_include_pad=cip),
        lambda x: mg.ops.sum_pool2d(x, **attrs),
        mg.ops.global_max_pool2d,
        mg.ops.global_avg_pool2d,
    ):
        assert gradcheck(f, x)
        assert gradgradcheck(f, x)


@FEW
@given(case=small_pool_cases())
def test_companions_gradcheck_and_gradgradcheck(case):
    attrs = case["attrs"]
    rng = np.random.default_rng(case["seed"])
    x = mg.tensor(rng.standard_normal(case["x"]), requires_grad=True)
    g = mg.tensor(rng.standard_normal(pooled_shape(case)), requires_grad=True)
    offsets = mg.tensor(
        rng.integers(0, np.prod(attrs["kernel_size"]), size=g.shape).astype(np.uint8)
    )
    x_hw = case["x"][2:]
    cip = case["count_include_pad"]
    for f, arg in (
        (lambda g: mg.ops.max_unpool2d(g, offsets, x_hw=x_hw, **attrs), g),
        (lambda x: mg.ops.max_pool2d_gather(x, offsets, **attrs), x),
        (lambda g: mg.ops.avg_unpool2d(g, x_hw=x_hw, **attrs, count_include_pad=cip), g),
        (lambda g: mg.ops.sum_unpool2d(g, x_hw=x_hw, **attrs), g),
    ):
        assert gradcheck(f, arg)
        assert gradgradcheck(f, arg)


@pytest.mark.parametrize(
    ("name", "k"),
    [(name, k) for name, op in OPS.items() for k in range(len(op.sample_inputs()))],
)
def test_opcheck_on_every_sample(name, k):
    op = OPS[name]
    args, attrs = op.sample_inputs()[k]
    assert opcheck(op, *args, **attrs)


def test_plugins_check_passes_for_every_pooling_op():
    from minigrad.cli.plugins import check_op

    for name in OPS:
        status, detail = check_op(getattr(mg.ops, name))
        assert status == "PASS", (name, detail)


def test_ops_are_the_registered_entry_points():
    for name, cls in OPS.items():
        assert getattr(mg.ops, name).op is cls
    assert "Subgradients" in mg.ops.max_pool2d.__doc__
