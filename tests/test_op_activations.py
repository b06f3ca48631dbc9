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


# How far two correct evaluations can be apart. Forward: each library's tanh and sigmoid are
# within 4 ulp of the true value (libm's 1 ulp plus at most three roundings: 1 + z, the
# division, the product), so the two within 8 ulp (measured on 2.5 million points: at most 1
# ulp for tanh, 4 for sigmoid). Derivatives are computed from each library's own output y as
# phi(y) = 1 - y*y (tanh) or y * (1 - y) (sigmoid); those cancel where y is near +-1 (tanh at
# 9 in float64: 1 - y*y = 6e-8 from y = 1 - 3e-8), so a 1-ulp difference in y becomes a
# relative difference of 4e-9 in phi. The bound propagates the observed difference in y
# through phi (|phi'(y)| |dy|) and adds the rounding of phi's own arithmetic in each library
# (tanh: y*y and the subtraction, eps (y**2 + |1 - y**2|) each; sigmoid: 1 - y and the
# product, 2 eps |phi| each) and of the products with the incoming gradient.
FORWARD_ULPS = 8
PHI = {  # phi(y), phi'(y), and the rounding of each evaluation of phi at y (in units of eps)
    "relu": (lambda y: (y > 0) * 1.0, lambda y: 0 * y, lambda y: 0 * y),  # a 0/1 mask: exact
    "tanh": (lambda y: 1 - y * y, lambda y: -2 * y, lambda y: y * y + np.abs(1 - y * y)),
    "sigmoid": (lambda y: y * (1 - y), lambda y: 1 - 2 * y, lambda y: 2 * np.abs(y * (1 - y))),
}


def _assert_within(ours, theirs, bound, what: str) -> None:
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    excess = np.abs(ours - theirs) - bound
    assert (excess <= 0).all(), (
        f"{what}: {int((excess > 0).sum())} element(s) beyond the bound; worst at "
        f"{np.unravel_index(np.argmax(excess), excess.shape)}: {ours.flat[np.argmax(excess)]!r} "
        f"vs {theirs.flat[np.argmax(excess)]!r} (bound {np.asarray(bound).flat[np.argmax(excess)]:.3g})"
    )


def _compare_within_bounds(name: str, x: np.ndarray, seed: int = 0) -> None:
    """An activation against PyTorch: values, gradients and double backward, each within a
    bound derived from the formula's conditioning (see FORWARD_ULPS and PHI)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    eps = float(np.finfo(x.dtype).eps)
    g0, v0 = (rng.standard_normal(x.shape).astype(x.dtype) for _ in range(2))
    xm, gm = mg.tensor(x, requires_grad=True), mg.tensor(g0, requires_grad=True)
    xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(g0, requires_grad=True)
    ym, yt = getattr(mg.ops, name)(xm), getattr(torch, name)(xt)
    y_m, y_t = ym.data.astype(np.float64), yt.detach().numpy().astype(np.float64)
    y = np.maximum(np.abs(y_m), np.abs(y_t))
    _assert_within(y_m, y_t, FORWARD_ULPS * np.spacing(y.astype(x.dtype)), f"{name} values")
    assert ym.dtype == x.dtype

    phi, dphi, rounding = PHI[name]
    dy = np.abs(y_m - y_t)
    p, dp = np.abs(phi(y_m)), np.abs(dphi(y_m))
    g, v = np.abs(g0.astype(np.float64)), np.abs(v0.astype(np.float64))
    # |phi_ours - phi_theirs| (2x: the bound is first order in dy, and both sides round)
    dphi_err = 2 * (dp * dy + 2 * eps * rounding(y_m)) + np.finfo(x.dtype).smallest_subnormal
    # phi' = -2y or 1 - 2y: a difference of 2 |dy|, and the rounding of 1 - 2y
    ddphi_err = 2 * (2 * dy + 2 * eps * (1 + 2 * np.abs(y_m)))

    (gx_m,) = mg.grad((ym * gm).sum(), [xm], create_graph=True)
    (gx_t,) = torch.autograd.grad((yt * gt).sum(), [xt], create_graph=True)
    assert gx_m.dtype == x.dtype
    bound = g * dphi_err + 4 * eps * g * p  # + two products with g, rounded in each library
    _assert_within(gx_m.data, gx_t.detach().numpy(), bound, f"{name} gradient")

    # double backward: d/dx and d/dg of sum(v * g * phi(y)) = v g phi'(y) phi(y), v phi(y)
    hx_m, hg_m = mg.grad((gx_m * mg.tensor(v0)).sum(), [xm, gm], allow_unused=True)
    hx_t, hg_t = torch.autograd.grad(
        (gx_t * torch.tensor(v0)).sum(), [xt, gt], allow_unused=True, materialize_grads=True
    )
    hx_m = np.zeros_like(x) if hx_m is None else hx_m.data  # relu: a constant mask in x
    bound_x = v * g * (dp * dphi_err + p * ddphi_err + 8 * eps * dp * p)
    _assert_within(hx_m, hx_t.numpy(), bound_x, f"{name} second derivative (x)")
    bound_g = v * dphi_err + 4 * eps * v * p
    _assert_within(hg_m.data, hg_t.numpy(), bound_g, f"{name} second derivative (incoming grad)")


@SWEEP
@given(x=float_arrays(np.float64, -30.0, 30.0), name=st.sampled_from(list(OPS)))
def test_matches_torch_float64(x, name):
    pytest.importorskip("torch")
    _compare_within_bounds(name, away_from_zero(x) if name == "relu" else x)


@SWEEP
@given(x=float_arrays(np.float32, -30.0, 30.0), name=st.sampled_from(list(OPS)))
def test_matches_torch_float32(x, name):
    pytest.importorskip("torch")
    _compare_within_bounds(name, away_from_zero(x) if name == "relu" else x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_saturating_inputs_match_torch_within_the_conditioning_bound(name, dtype):
    # where phi(y) cancels (tanh near 9 in float64, near 4.5 in float32) and where it rounds
    # to 0: the inputs that made the fixed tolerances fail at random
    x = np.concatenate([np.linspace(-40, 40, 801), np.linspace(8.9, 9.1, 201)]).astype(dtype)
    _compare_within_bounds(name, x, seed=1)


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
