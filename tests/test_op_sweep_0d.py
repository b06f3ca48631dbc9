"""Second derivatives of every shipped op through 0-d and size-1 intermediates, against PyTorch.

Each case feeds the op from a reduction of the input (a 0-d sum, a size-1 axis, 1x1 feature
maps, a batch of one) and compares values, gradients and Hessian-vector products with PyTorch
(``tests.helpers.compare_with_torch``). Where numpy hands back a scalar instead of a 0-d array
(a ufunc on a 0-d array), an op that saved the wrong object or left the graph would show up here
as a wrong second derivative or a gradient cut from the graph.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import compare_with_torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg

torch = pytest.importorskip("torch")
F = torch.nn.functional

SWEEP = settings(max_examples=6, deadline=None)
F64 = ("float64",)


def _route(x, route: str, lib: str):
    """The intermediate that feeds the op: 0-d, size-1 axes or a 0-d scale, from ``x``."""
    sq = x * x
    if route == "sum0d":
        return sq.sum()
    if route == "scale":
        return x * sq.sum()
    axes = (2, 3) if route == "maps1x1" else (0,)
    if lib == "mg":
        return sq.sum(axis=axes, keepdims=True)
    return sq.sum(dim=axes, keepdim=True)


ELEMENTWISE = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
@given(
    shape=st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple),
    route=st.sampled_from(["sum0d", "scale", "axis0"]),
    seed=st.integers(0, 2**16),
)
@SWEEP
def test_activations_through_0d_and_size1(name, shape, route, seed):
    x = np.random.default_rng(seed).uniform(0.3, 1.2, shape) * np.where(
        np.random.default_rng(seed + 1).random(shape) < 0.5, -1, 1
    )
    op, tfn = getattr(mg.ops, name), ELEMENTWISE[name]
    compare_with_torch(
        lambda t: op(_route(t, route, "mg")),
        lambda t: tfn(_route(t, route, "torch")),
        x,
        dtypes=F64,
    )


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(
    shape=st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple),
    route=st.sampled_from(["scale", "axis0"]),
    axis=st.integers(-1, 0),
    seed=st.integers(0, 2**16),
)
@SWEEP
def test_softmax_over_size1_axes(name, shape, route, axis, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    op, tfn = getattr(mg.ops, name), getattr(torch, name)
    compare_with_torch(
        lambda t: op(_route(t, route, "mg") * t, axis=axis),
        lambda t: tfn(_route(t, route, "torch") * t, dim=axis),
        x,
        dtypes=F64,
    )


def test_softmax_of_a_one_element_vector_made_from_a_0d_sum():
    x = np.array([0.3, -0.8, 1.1])
    for name in ("softmax", "log_softmax"):
        op, tfn = getattr(mg.ops, name), getattr(torch, name)
        compare_with_torch(
            lambda t, op=op: op((t * t).sum().reshape((1,)) * t),
            lambda t, tfn=tfn: tfn((t * t).sum().reshape((1,)) * t, dim=-1),
            x,
            dtypes=F64,
        )


@given(route=st.sampled_from(["sum0d", "scale"]), seed=st.integers(0, 2**16))
@SWEEP
def test_losses_on_0d_and_single_sample_inputs(route, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.2, 0.6, (1, 1)) * rng.choice([-1, 1])
    y = rng.uniform(0.1, 0.9, () if route == "sum0d" else (1, 1))
    compare_with_torch(
        lambda t, u: mg.ops.log_loss(mg.ops.sigmoid(_route(t, route, "mg")), u),
        lambda t, u: F.binary_cross_entropy(torch.sigmoid(_route(t, route, "torch")), u),
        x,
        y,
        dtypes=F64,
    )
    target = np.zeros(1, dtype=np.int64)
    for classes in (1, 3):
        logits = rng.standard_normal((1, classes))
        compare_with_torch(
            lambda t, c: mg.ops.cross_entropy(_route(t, "scale", "mg"), c),
            lambda t, c: F.cross_entropy(_route(t, "scale", "torch"), c),
            logits,
            target,
            dtypes=F64,
        )


def _map_shapes():
    side = st.integers(1, 2)
    return st.tuples(side, side, side, side)


@given(
    shape=_map_shapes(),
    route=st.sampled_from(["maps1x1", "axis0", "scale"]),
    k=st.sampled_from([1, 3]),
    out_ch=st.integers(1, 2),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
@SWEEP
def test_conv2d_on_1x1_maps_and_single_batches(shape, route, k, out_ch, bias, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    w = rng.standard_normal((out_ch, shape[1], k, k))
    b = rng.standard_normal(out_ch)
    pad = k // 2
    compare_with_torch(
        lambda t, v, c: mg.ops.conv2d(_route(t, route, "mg"), v, c if bias else None, padding=pad),
        lambda t, v, c: F.conv2d(_route(t, route, "torch"), v, c if bias else None, padding=pad),
        x,
        w,
        b,
        dtypes=F64,
    )


@given(shape=_map_shapes(), k=st.sampled_from([1, 3]), seed=st.integers(0, 2**16))
@SWEEP
def test_conv_companions_on_1x1_maps(shape, k, seed):
    rng = np.random.default_rng(seed)
    n, c, h, w = shape
    x = rng.standard_normal(shape)
    wt = rng.standard_normal((2, c, k, k))
    g = rng.standard_normal((n, 2, h, w))
    pad = k // 2
    compare_with_torch(
        lambda u, v: mg.ops.conv_transpose2d(_route(u, "maps1x1", "mg"), v, padding=pad),
        lambda u, v: F.conv_transpose2d(_route(u, "maps1x1", "torch"), v, padding=pad),
        g,
        wt,
        dtypes=F64,
    )
    ones = np.ones((n, 2, 1, 1))

    def torch_weight_grad(t, u):
        w0 = torch.zeros((2, c, k, k), dtype=t.dtype, requires_grad=True)
        y = F.conv2d(_route(t, "maps1x1", "torch"), w0, padding=pad)
        return torch.autograd.grad(y, w0, u, create_graph=True)[0]

    compare_with_torch(
        lambda t, u: mg.ops.conv2d_weight(
            _route(t, "maps1x1", "mg"), u, w_shape=(2, c, k, k), padding=pad
        ),
        torch_weight_grad,
        x,
        ones * rng.standard_normal((n, 2, 1, 1)),
        dtypes=F64,
    )


POOLS = ["max_pool2d", "avg_pool2d", "sum_pool2d", "global_max_pool2d", "global_avg_pool2d"]


def _torch_pool(name: str, t, k: int, pad: int):
    if name == "max_pool2d":
        return F.max_pool2d(t, k, padding=pad)
    if name == "avg_pool2d":
        return F.avg_pool2d(t, k, padding=pad)
    if name == "sum_pool2d":
        return F.avg_pool2d(t, k, padding=pad, divisor_override=1)
    if name == "global_max_pool2d":
        return F.adaptive_max_pool2d(t, 1).flatten(1)
    return t.mean(dim=(2, 3))


def _mg_pool(name: str, t, k: int, pad: int):
    if name.startswith("global"):
        return getattr(mg.ops, name)(t)
    return getattr(mg.ops, name)(t, kernel_size=k, padding=pad)


@pytest.mark.parametrize("name", POOLS)
@given(
    shape=_map_shapes(),
    route=st.sampled_from(["maps1x1", "axis0", "scale"]),
    k=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**16),
)
@SWEEP
def test_pooling_on_1x1_maps_and_single_batches(name, shape, route, k, seed):
    x = np.random.default_rng(seed).standard_normal(shape)  # distinct values: no ties
    pad = k // 2
    compare_with_torch(
        lambda t: _mg_pool(name, _route(t, route, "mg"), k, pad),
        lambda t: _torch_pool(name, _route(t, route, "torch"), k, pad),
        x,
        dtypes=F64,
    )


@given(shape=_map_shapes(), k=st.sampled_from([1, 2]), seed=st.integers(0, 2**16))
@SWEEP
def test_pooling_companions_on_1x1_maps(shape, k, seed):
    rng = np.random.default_rng(seed)
    h, w = shape[2:]
    pad = k // 2
    x0 = rng.standard_normal(shape)  # fixes the winners
    attrs = {"kernel_size": k, "padding": pad}
    _, idx = F.max_pool2d(torch.tensor(x0), k, padding=pad, return_indices=True)
    pooled = tuple(idx.shape)
    g = rng.standard_normal(pooled)

    def torch_spread(u, pool):
        x = torch.tensor(x0, requires_grad=True)
        return torch.autograd.grad(pool(x), x, _route(u, "scale", "torch"), create_graph=True)[0]

    for name, pool in (
        ("avg_unpool2d", lambda t: F.avg_pool2d(t, k, padding=pad)),
        ("sum_unpool2d", lambda t: F.avg_pool2d(t, k, padding=pad, divisor_override=1)),
        ("max_unpool2d", lambda t: F.max_pool2d(t, k, padding=pad)),
    ):
        extra = () if name != "max_unpool2d" else (_offsets(x0, attrs),)
        op = getattr(mg.ops, name)
        compare_with_torch(
            lambda u, op=op, extra=extra: op(
                _route(u, "scale", "mg"), *extra, x_hw=(h, w), **attrs
            ),
            lambda u, pool=pool: torch_spread(u, pool),
            g,
            dtypes=F64,
        )
    compare_with_torch(
        lambda t: mg.ops.max_pool2d_gather(_route(t, "scale", "mg"), _offsets(x0, attrs), **attrs),
        lambda t: _route(t, "scale", "torch").flatten(2).gather(2, idx.flatten(2)).view(pooled),
        rng.standard_normal(shape),
        dtypes=F64,
    )


def _offsets(x0: np.ndarray, attrs: dict) -> mg.Tensor:
    """The winners of max pooling ``x0``, as the companion ops take them."""
    from layers_plugins._kernels import max_pool2d

    return mg.as_tensor(max_pool2d(x0, **attrs)[1])
