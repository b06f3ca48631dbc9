"""dropout: the mask comes from mg.manual_seed's generator, is saved and reused by backward,
keeps the rest scaled by 1/(1 - p); p = 0, p = 1 and evaluation as in PyTorch; gradients by
finite differences with a fixed mask; nn.Dropout with train()/eval()."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from layers_plugins.dropout import Dropout
from minigrad.testing import gradcheck, gradgradcheck, opcheck


def test_same_seed_same_mask_and_scaling():
    x = mg.ones(1000)
    mg.manual_seed(3)
    a = mg.ops.dropout(x, p=0.3).data
    mg.manual_seed(3)
    b = mg.ops.dropout(x, p=0.3).data
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, np.float32(1 / 0.7)}
    assert 0.25 < (a == 0).mean() < 0.35  # 1000 draws at p = 0.3
    c = mg.ops.dropout(x, p=0.3).data  # the generator moved on
    assert not np.array_equal(a, c)


def test_backward_uses_the_forward_mask():
    mg.manual_seed(0)
    x = mg.tensor(np.arange(1.0, 13.0).reshape(3, 4), requires_grad=True)
    y = mg.ops.dropout(x, p=0.5)
    kept = y.data != 0
    (mask,) = y._node.saved_arrays  # the scaled mask, shown by the graph inspector
    np.testing.assert_array_equal(mask, kept * 2.0)
    y.backward(mg.ones(3, 4, dtype="float64"))
    np.testing.assert_array_equal(x.grad.data, kept * 2.0)


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_p_zero_and_one(p):
    x = mg.tensor([[1.0, -2.0, 3.0]], requires_grad=True)
    y = mg.ops.dropout(x, p=p)
    np.testing.assert_array_equal(y.data, x.data if p == 0 else np.zeros((1, 3)))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((1, 3), 1.0 - p))


def test_eval_is_identity_and_draws_nothing():
    mg.manual_seed(1)
    before = mg.rand(2).data
    mg.manual_seed(1)
    x = mg.tensor(np.ones((2, 3), dtype=np.float32))
    np.testing.assert_array_equal(mg.ops.dropout(x, p=0.9, training=False).data, x.data)
    np.testing.assert_array_equal(mg.rand(2).data, before)  # the generator did not move


@settings(max_examples=20, deadline=None)
@given(
    p=st.floats(0.05, 0.95),
    seed=st.integers(0, 1000),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_output_is_x_times_scaled_mask(p, seed, dtype):
    x = mg.tensor(np.random.default_rng(seed).standard_normal((4, 5)).astype(dtype))
    mg.manual_seed(seed)
    y = mg.ops.dropout(x, p=p)
    assert y.dtype == dtype
    keep = y.data != 0
    np.testing.assert_allclose(y.data[keep], x.data[keep] / dtype(1 - p), rtol=1e-6)


def test_gradcheck_and_gradgradcheck_with_a_fixed_mask():
    def fn(t):
        mg.manual_seed(7)  # the same mask on every call the finite differences make
        return mg.ops.dropout(t, p=0.4) * t

    x = mg.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(fn, x)
    assert gradgradcheck(fn, x)


def test_opcheck_on_sample_inputs():
    for args, attrs in Dropout.sample_inputs():
        assert opcheck(Dropout, *args, **attrs)


def test_errors():
    with pytest.raises(ValueError, match=r"dropout: p must be a probability in \[0, 1\], got 1.5"):
        mg.ops.dropout(mg.ones(2), p=1.5)
    with pytest.raises(TypeError, match="dropout: training must be True or False"):
        mg.ops.dropout(mg.ones(2), training="yes")
    with pytest.raises(TypeError, match="dropout: x has dtype int64"):
        mg.ops.dropout(mg.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"Dropout: p must be a probability in \[0, 1\]"):
        mg.nn.Dropout(-0.1)


def test_module_follows_train_and_eval():
    model = mg.nn.Sequential(mg.nn.Linear(4, 4), mg.nn.Dropout(0.5))
    x = mg.ones(2, 4)
    mg.manual_seed(0)
    train_out = model(x).data
    assert (train_out == 0).any()
    model.eval()
    assert not model[1].training
    np.testing.assert_array_equal(model(x).data, model[0](x).data)
    model.train()
    mg.manual_seed(0)
    np.testing.assert_array_equal(model(x).data, train_out)
    assert [m.label for m in model] == ["fc1", "dropout1"]
