"""relu, sigmoid and tanh: hand-checked values, PyTorch sweeps, gradient and double-backward
checks, and the op contract on their sample inputs."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pytest
from helpers import compare_with_torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from layers_plugins.activations import ReLU, Sigmoid, Tanh
from minigrad.autograd import call_op
from minigrad.testing import gradcheck, gradgradcheck, opcheck

OPS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}
SWEEP = settings(max_examples=25, deadline=None)


def f64(values, requires_grad: bool = True) -> mg.Tensor:
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def away_from_zero(x: np.ndarray, margin: float = 0.05) -> np.ndarray:
    """Push values at least ``margin`` away from relu's kink at 0."""
    return np.where(x >= 0, x + margin, x - margin).astype(x.dtype)


def float_arrays(dtype: type, lo: float = -6.0, hi: float = 6.0, max_side: int = 4):
    width = 32 if dtype == np.float32 else 64
    return hnp.arrays(
        dtype,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=max_side),
        elements=st.floats(lo, hi, width=width),
    )


# --------------------------------------------------------------------------- by hand


def test_relu_by_hand_and_gradient_zero_at_zero():
    x = mg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    y = call_op(ReLU, x)
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 2.0])
    y.sum().backward()
    # relu'(0) = 0 by convention
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 1.0])


def test_sigmoid_at_zero_is_one_half():
    assert call_op(Sigmoid, mg.tensor([0.0])).item() == 0.5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_saturates_exactly_without_warnings(dtype):
    x = mg.tensor(np.array([-1000.0, -100.0, 100.0, 1000.0], dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            y = call_op(Sigmoid, x)
            y.sum().backward()
    assert not np.isnan(y.data).any() and not np.isnan(x.grad.data).any()
    assert y.data[0] == 0.0 and y.data[-1] == 1.0
    np.testing.assert_array_equal(x.grad.data[[0, -1]], [0.0, 0.0])


def test_sigmoid_derivative_by_hand():
    x = f64([0.0, np.log(3.0)])  # sigmoid: 1/2 and 3/4
    y = call_op(Sigmoid, x)
    np.testing.assert_allclose(y.data, [0.5, 0.75])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.25, 0.75 * 0.25])


def test_tanh_by_hand():
    x = f64([0.0, np.log(2.0), 50.0])  # tanh(log 2) = 3/5
    y = call_op(Tanh, x)
    np.testing.assert_allclose(y.data, [0.0, 0.6, 1.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0, 1 - 0.36, 0.0], atol=1e-15)


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_dtype_is_input_dtype(name, dtype):
    x = mg.tensor(np.array([[-0.5, 1.5]], dtype=dtype), requires_grad=True)
    y = call_op(OPS[name], x)
    assert y.dtype == dtype and y.shape == (1, 2)
    y.sum().backward()
    assert x.grad.dtype == dtype


def test_works_on_nchw_shapes():
    x = mg.randn(2, 3, 4, 5, dtype="float64")
    np.testing.assert_array_equal(call_op(ReLU, x).data, np.maximum(x.data, 0))
    np.testing.assert_allclose(call_op(Tanh, x).data, np.tanh(x.data))
    np.testing.assert_allclose(call_op(Sigmoid, x).data, 1 / (1 + np.exp(-x.data)))


def test_relu_double_backward_by_hand():
    # the backward is v * mask: differentiable in the cotangent v, constant in x
    x = f64([-1.0, 0.5, 2.0])
    v = f64([10.0, 20.0, 30.0])
    (g,) = mg.grad([call_op(ReLU, x)], [x], [v], create_graph=True)
    np.testing.assert_array_equal(g.data, [0.0, 20.0, 30.0])
    gx, gv = mg.grad((g * g).sum(), [x, v], allow_unused=True)
    np.testing.assert_array_equal(gv.data, [0.0, 40.0, 60.0])
    assert gx is None or not gx.data.any()


def test_sigmoid_second_derivative_by_hand():
    # sigmoid'' = s (1 - s) (1 - 2 s); at s = 3/4: 3/16 * (-1/2)
    x = f64([np.log(3.0)])
    (g,) = mg.grad(call_op(Sigmoid, x).sum(), [x], create_graph=True)
    (gg,) = mg.grad(g.sum(), [x])
    np.testing.assert_allclose(gg.data, [-3.0 / 32.0])


# --------------------------------------------------------------------------- gradients


@SWEEP
@given(x=float_arrays(np.float64, -4.0, 4.0, max_side=3), name=st.sampled_from(list(OPS)))
def test_gradcheck_and_gradgradcheck(x, name):
    if name == "relu":
        x = away_from_zero(x)  # finite differences across the kink would be meaningless

    def fn(t):
        return call_op(OPS[name], t)

    assert gradcheck(fn, f64(x))
    assert gradgradcheck(fn, f64(x))


@pytest.mark.parametrize("name", list(OPS))
def test_opcheck_on_sample_inputs(name):
    cls = OPS[name]
    for args, attrs in cls.sample_inputs():
        assert all(a.dtype == np.float64 for a in args)
        assert opcheck(cls, *args, **attrs)


# --------------------------------------------------------------------------- vs PyTorch


# (rtol, atol) of second derivatives against PyTorch, by dtype
SECOND_ORDER_TOL = {"float32": (1e-3, 1e-5), "float64": (1e-8, 1e-10)}


def _compare_with_torch(cls: type, torch_fn: Callable, x: np.ndarray, rtol: float, atol: float):
    """Values and gradients at (rtol, atol), second derivatives at SECOND_ORDER_TOL."""
    for order, (r, a) in ((1, (rtol, atol)), (2, SECOND_ORDER_TOL[x.dtype.name])):
        compare_with_torch(
            getattr(mg.ops, cls.name),
            torch_fn,
            x,
            dtypes=(x.dtype.name,),
            order=order,
            rtol=r,
            atol=a,
        )


TORCH_FNS = {
    "relu": lambda t: t.relu(),
    "sigmoid": lambda t: t.sigmoid(),
    "tanh": lambda t: t.tanh(),
}


@SWEEP
@given(x=float_arrays(np.float64, -30.0, 30.0), name=st.sampled_from(list(OPS)))
def test_matches_torch_float64(x, name):
    pytest.importorskip("torch")
    if name == "relu":
        x = away_from_zero(x)
    _compare_with_torch(OPS[name], TORCH_FNS[name], x, rtol=1e-12, atol=1e-15)


@SWEEP
@given(x=float_arrays(np.float32, -30.0, 30.0), name=st.sampled_from(list(OPS)))
def test_matches_torch_float32(x, name):
    pytest.importorskip("torch")
    _compare_with_torch(OPS[name], TORCH_FNS[name], x, rtol=1e-5, atol=1e-6)


def test_relu_at_zero_matches_torch():
    pytest.importorskip("torch")
    _compare_with_torch(ReLU, TORCH_FNS["relu"], np.zeros(3), rtol=0, atol=0)


# --------------------------------------------------------------------------- registry


def test_through_the_op_registry():
    x = mg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    y = mg.ops.relu(x)
    assert y.op == "relu"
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 2.0])
    np.testing.assert_allclose(mg.ops.sigmoid(x).data, call_op(Sigmoid, x).data)
    np.testing.assert_allclose(mg.ops.tanh(x).data, np.tanh(x.data))
