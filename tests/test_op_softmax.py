"""softmax and log_softmax: hand-checked values, stability, PyTorch sweeps over axes,
gradient and double-backward checks, the op contract and the error messages."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import compare_with_torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from layers_plugins.softmax import LogSoftmax, Softmax
from minigrad.autograd import call_op
from minigrad.testing import gradcheck, gradgradcheck, opcheck

OPS = {"softmax": Softmax, "log_softmax": LogSoftmax}
SWEEP = settings(max_examples=25, deadline=None)


def f64(values, requires_grad: bool = True) -> mg.Tensor:
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


@st.composite
def array_and_axis(draw, dtype=np.float64, lo=-8.0, hi=8.0, max_side=4):
    """An array of 1 to 3 dimensions and a valid (possibly negative) axis of it."""
    width = 32 if dtype == np.float32 else 64
    x = draw(
        hnp.arrays(
            dtype,
            hnp.array_shapes(min_dims=1, max_dims=3, max_side=max_side),
            elements=st.floats(lo, hi, width=width),
        )
    )
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    return x, axis


# --------------------------------------------------------------------------- by hand


def test_softmax_by_hand():
    y = call_op(Softmax, f64([[0.0, np.log(3.0)], [5.0, 5.0]]))
    np.testing.assert_allclose(y.data, [[0.25, 0.75], [0.5, 0.5]])


def test_log_softmax_by_hand():
    y = call_op(LogSoftmax, f64([0.0, np.log(3.0)]))
    np.testing.assert_allclose(y.data, np.log([0.25, 0.75]))


def test_softmax_rows_sum_to_one():
    x = mg.randn(4, 5, dtype="float64") * 3.0
    for axis in (0, 1, -1):
        s = call_op(Softmax, x, axis=axis).data
        assert (s >= 0).all()
        np.testing.assert_allclose(s.sum(axis=axis), 1.0)
        np.testing.assert_allclose(np.exp(call_op(LogSoftmax, x, axis=axis).data).sum(axis), 1.0)


@pytest.mark.parametrize("name", list(OPS))
def test_invariant_to_adding_a_constant_along_the_axis(name):
    x = mg.randn(3, 4, dtype="float64")
    shift = np.array([[-7.0], [0.5], [30.0]])  # one constant per row
    np.testing.assert_allclose(
        call_op(OPS[name], x).data, call_op(OPS[name], x.data + shift).data, atol=1e-12
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_for_huge_and_tiny_scores(dtype):
    x = mg.tensor(np.array([[1000.0, 1000.0, -1000.0], [0.0, -1000.0, 1e4]], dtype=dtype))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = call_op(Softmax, x).data
        ls = call_op(LogSoftmax, x).data
    np.testing.assert_allclose(s, [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    assert np.isfinite(ls).all()  # log(softmax) would be -inf here
    np.testing.assert_allclose(ls[0], [-np.log(2.0), -np.log(2.0), -2000 - np.log(2.0)], rtol=1e-6)


def test_gradient_of_softmax_sum_is_zero():
    # the outputs always sum to 1, so their sum has zero gradient
    x = f64([[0.3, -1.2, 2.0]])
    call_op(Softmax, x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 0.0, atol=1e-15)


def test_log_softmax_gradient_by_hand():
    # d/dx_j log_softmax(x)_0 = [j == 0] - softmax(x)_j; with x = (0, log 3): (0.75, -0.75)
    x = f64([0.0, np.log(3.0)])
    call_op(LogSoftmax, x)[0].backward()
    np.testing.assert_allclose(x.grad.data, [0.75, -0.75])


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_dtype_is_input_dtype(name, dtype):
    x = mg.tensor(np.array([[-0.5, 1.5, 0.0]], dtype=dtype), requires_grad=True)
    y = call_op(OPS[name], x)
    assert y.dtype == dtype
    (y * y).sum().backward()
    assert x.grad.dtype == dtype


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("name", list(OPS))
def test_axis_out_of_range(name):
    with pytest.raises(ValueError, match=rf"{name}: axis 2 is out of range for a 2-D input"):
        call_op(OPS[name], mg.zeros(2, 3), axis=2)
    with pytest.raises(ValueError, match=rf"{name}: axis -3 is out of range"):
        call_op(OPS[name], mg.zeros(2, 3), axis=-3)


@pytest.mark.parametrize("name", list(OPS))
def test_axis_must_be_an_int(name):
    with pytest.raises(TypeError, match=rf"{name}: axis must be an int, got \(0, 1\)"):
        call_op(OPS[name], mg.zeros(2, 3), axis=(0, 1))


@pytest.mark.parametrize("name", list(OPS))
def test_scalar_input_is_one_entry_as_in_pytorch(name):
    # softmax of one entry is 1, log_softmax 0; the gradient is 0 (tests/test_edge_semantics.py
    # compares with PyTorch)
    x = mg.tensor(3.0, requires_grad=True)
    for axis in (0, -1):
        y = call_op(OPS[name], x, axis=axis)
        assert y.shape == () and y.item() == (1.0 if name == "softmax" else 0.0)
    y.backward()
    assert x.grad.item() == 0.0
    with pytest.raises(ValueError, match=rf"{name}: axis 1 is out of range for a 0-D input"):
        call_op(OPS[name], mg.tensor(1.0), axis=1)


@pytest.mark.parametrize("name", list(OPS))
def test_empty_axis_is_rejected(name):
    with pytest.raises(
        ValueError, match=rf"{name}: axis 1 of the input of shape \(2, 0\) is empty"
    ):
        call_op(OPS[name], mg.zeros(2, 0))


# --------------------------------------------------------------------------- gradients


@SWEEP
@given(case=array_and_axis(max_side=3), name=st.sampled_from(list(OPS)))
def test_gradcheck_and_gradgradcheck(case, name):
    x, axis = case

    def fn(t):
        return call_op(OPS[name], t, axis=axis)

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
SECOND_ORDER_TOL = {"float32": (1e-3, 1e-4), "float64": (1e-8, 1e-10)}


def _compare_with_torch(name: str, x: np.ndarray, axis: int, rtol: float, atol: float) -> None:
    """Values and gradients at (rtol, atol), second derivatives at SECOND_ORDER_TOL."""
    for order, (r, a) in ((1, (rtol, atol)), (2, SECOND_ORDER_TOL[x.dtype.name])):
        compare_with_torch(
            lambda t: getattr(mg.ops, name)(t, axis=axis),
            lambda t: getattr(pytest.importorskip("torch"), name)(t, dim=axis),
            x,
            dtypes=(x.dtype.name,),
            order=order,
            rtol=r,
            atol=a,
        )


@SWEEP
@given(case=array_and_axis(lo=-50.0, hi=50.0, max_side=5), name=st.sampled_from(list(OPS)))
def test_matches_torch_float64(case, name):
    pytest.importorskip("torch")
    _compare_with_torch(name, *case, rtol=1e-10, atol=1e-12)


@SWEEP
@given(
    case=array_and_axis(np.float32, lo=-50.0, hi=50.0, max_side=5),
    name=st.sampled_from(list(OPS)),
)
def test_matches_torch_float32(case, name):
    pytest.importorskip("torch")
    _compare_with_torch(name, *case, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- registry


def test_through_the_op_registry():
    x = mg.tensor([[0.0, np.log(3.0)]], dtype="float64", requires_grad=True)
    y = mg.ops.softmax(x, axis=1)
    assert y.op == "softmax"
    np.testing.assert_allclose(y.data, [[0.25, 0.75]])
    ly = mg.ops.log_softmax(x)
    assert ly.op == "log_softmax"
    np.testing.assert_allclose(ly.data, np.log([[0.25, 0.75]]))
