"""Max, average, sum and global pooling and their companions against PyTorch on generated
shapes and windows: values, gradients and second derivatives (``tests.helpers.compare_with_torch``).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import compare_with_torch
from hypothesis import given, settings
from hypothesis import strategies as st
from test_op_pooling import distinct, pool_cases, torch_attrs, winners

import minigrad as mg

SWEEP = settings(max_examples=25, deadline=None)
TOL = {"float32": 2e-4, "float64": 1e-9}


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


DTYPES = st.sampled_from([np.float32, np.float64])


@SWEEP
@given(case=pool_cases(), dtype=DTYPES)
def test_max_pool2d_matches_torch_to_second_order(torch, case, dtype):
    F = torch.nn.functional
    attrs = case["attrs"]
    compare_with_torch(
        lambda x: mg.ops.max_pool2d(x, **attrs),
        lambda x: F.max_pool2d(x, **torch_attrs(attrs)),
        *[distinct(case["x"], case["seed"])],
        dtypes=(np.dtype(dtype).name,),
        atol=TOL,
        rtol=TOL,
    )


@SWEEP
@given(case=pool_cases(), dtype=DTYPES)
def test_avg_pool2d_matches_torch_to_second_order(torch, case, dtype):
    F = torch.nn.functional
    attrs = {**case["attrs"], "count_include_pad": case["count_include_pad"]}
    compare_with_torch(
        lambda x: mg.ops.avg_pool2d(x, **attrs),
        lambda x: F.avg_pool2d(x, **torch_attrs(attrs)),
        *[np.random.default_rng(case["seed"]).standard_normal(case["x"])],
        dtypes=(np.dtype(dtype).name,),
        atol=TOL,
        rtol=TOL,
    )


@SWEEP
@given(case=pool_cases(), dtype=DTYPES)
def test_sum_pool2d_matches_torch_to_second_order(torch, case, dtype):
    F = torch.nn.functional
    attrs = case["attrs"]
    compare_with_torch(
        lambda x: mg.ops.sum_pool2d(x, **attrs),
        lambda x: F.avg_pool2d(x, **torch_attrs(attrs), divisor_override=1),
        *[np.random.default_rng(case["seed"]).standard_normal(case["x"])],
        dtypes=(np.dtype(dtype).name,),
        atol=TOL,
        rtol=TOL,
    )


@SWEEP
@given(case=pool_cases(), dtype=DTYPES)
def test_unpool_companions_match_torchs_pooling_gradients(torch, case, dtype):
    """max/avg/sum_unpool2d against the input gradient torch computes, as a function of grad."""
    F = torch.nn.functional
    attrs = case["attrs"]
    cip = case["count_include_pad"]
    x = distinct(case["x"], case["seed"], dtype)
    x_hw = case["x"][2:]
    _, offsets = winners(x, attrs)
    g = np.random.default_rng(case["seed"] + 1).standard_normal(offsets.shape)
    tx = torch.tensor(x, requires_grad=True)
    pools = {
        "max": (lambda: F.max_pool2d(tx, **torch_attrs(attrs)), {}),
        "avg": (
            lambda: F.avg_pool2d(tx, **torch_attrs(attrs), count_include_pad=cip),
            {"count_include_pad": cip},
        ),
        "sum": (lambda: F.avg_pool2d(tx, **torch_attrs(attrs), divisor_override=1), {}),
    }
    for kind, (pool, extra) in pools.items():

        def ours(g, kind=kind, extra=extra):
            if kind == "max":
                return mg.ops.max_unpool2d(g, mg.tensor(offsets), x_hw=x_hw, **attrs)
            return getattr(mg.ops, f"{kind}_unpool2d")(g, x_hw=x_hw, **attrs, **extra)

        def theirs(g, pool=pool):
            return torch.autograd.grad((pool() * g).sum(), tx, create_graph=True)[0]

        compare_with_torch(ours, theirs, g, dtypes=(np.dtype(dtype).name,), atol=TOL, rtol=TOL)


@SWEEP
@given(case=pool_cases(), dtype=DTYPES)
def test_max_pool2d_gather_matches_torch_gather(torch, case, dtype):
    F = torch.nn.functional
    attrs = case["attrs"]
    x = distinct(case["x"], case["seed"], dtype)
    _, idx = F.max_pool2d(torch.tensor(x), **torch_attrs(attrs), return_indices=True)
    _, offsets = winners(x, attrs)
    other = np.random.default_rng(case["seed"]).standard_normal(case["x"])

    def theirs(u):
        flat = u.flatten(2)  # (N, C, H*W), torch's indices are flat positions in the map
        return torch.gather(flat, 2, idx.flatten(2)).view(idx.shape)

    compare_with_torch(
        lambda u: mg.ops.max_pool2d_gather(u, mg.tensor(offsets), **attrs),
        theirs,
        *[other],
        dtypes=(np.dtype(dtype).name,),
        atol=TOL,
        rtol=TOL,
    )
    # gathering the pooled input at its own winners is max pooling
    np.testing.assert_array_equal(
        mg.ops.max_pool2d_gather(mg.tensor(x), mg.tensor(offsets), **attrs).data,
        mg.ops.max_pool2d(mg.tensor(x), **attrs).data,
    )


@SWEEP
@given(
    shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 5), st.integers(1, 5)),
    seed=st.integers(0, 2**16),
    dtype=DTYPES,
)
def test_global_pools_match_torch_adaptive_pools_to_second_order(torch, shape, seed, dtype):
    F = torch.nn.functional
    x = distinct(shape, seed)
    compare_with_torch(
        mg.ops.global_max_pool2d,
        lambda t: F.adaptive_max_pool2d(t, 1).flatten(1),
        *[x],
        dtypes=(np.dtype(dtype).name,),
        atol=TOL,
        rtol=TOL,
    )
    compare_with_torch(
        mg.ops.global_avg_pool2d,
        lambda t: F.adaptive_avg_pool2d(t, 1).flatten(1),
        *[x],
        dtypes=(np.dtype(dtype).name,),
        atol=TOL,
        rtol=TOL,
    )
