"""log_loss: hand-checked values, PyTorch sweeps for each reduction (values, gradients and second
derivatives), gradient and double-backward checks, the op contract and every error message
(cross_entropy: test_op_losses_ce.py)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from helpers import compare_with_torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from layers_plugins.losses import LogLoss
from minigrad.autograd import call_op
from minigrad.testing import gradcheck, gradgradcheck, opcheck

REDUCTIONS = ["mean", "sum", "none"]
# (rtol, atol) of second derivatives against PyTorch, by dtype
SECOND_ORDER_TOL = {"float32": (1e-3, 1e-4), "float64": (1e-7, 1e-7)}
SWEEP = settings(max_examples=25, deadline=None)


def f64(values, requires_grad: bool = True) -> mg.Tensor:
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def re_tuple(shape: tuple) -> str:
    """A shape as it appears in an error message, escaped for ``pytest.raises(match=...)``."""
    return re.escape(str(shape))


# =========================================================================== log_loss


def test_log_loss_of_a_confident_right_answer():
    loss = call_op(LogLoss, mg.tensor([0.98]), mg.tensor([1.0]))
    assert round(loss.item(), 4) == 0.0202
    assert round(call_op(LogLoss, mg.tensor([0.02]), mg.tensor([0.0])).item(), 4) == 0.0202


def test_log_loss_mean_sum_and_none_by_hand():
    p, y = [0.9, 0.2, 0.6], [1.0, 0.0, 1.0]
    per = [-math.log(0.9), -math.log(1 - 0.2), -math.log(0.6)]
    mean = call_op(LogLoss, f64(p), f64(y, False))
    total = call_op(LogLoss, f64(p), f64(y, False), reduction="sum")
    each = call_op(LogLoss, f64(p), f64(y, False), reduction="none")
    assert mean.shape == () and total.shape == ()
    np.testing.assert_allclose(mean.item(), sum(per) / 3)
    np.testing.assert_allclose(total.item(), sum(per))
    np.testing.assert_allclose(each.data, per)


def test_log_loss_none_keeps_the_shape():
    p = mg.full((2, 3, 1), 0.5)
    loss = call_op(LogLoss, p, mg.ones(2, 3, 1), reduction="none")
    assert loss.shape == (2, 3, 1)
    np.testing.assert_allclose(loss.data, math.log(2), rtol=1e-6)


def test_log_loss_gradients_by_hand():
    # d/dp = (p - y) / (p (1 - p)) / N;  d/dy = (log(1 - p) - log(p)) / N
    p = f64([0.8, 0.25])
    y = f64([1.0, 0.5])
    call_op(LogLoss, p, y).backward()
    np.testing.assert_allclose(
        p.grad.data, [(0.8 - 1) / (0.8 * 0.2) / 2, (0.25 - 0.5) / 0.1875 / 2]
    )
    np.testing.assert_allclose(
        y.grad.data, [(math.log(0.2) - math.log(0.8)) / 2, (math.log(0.75) - math.log(0.25)) / 2]
    )


def test_log_loss_target_gets_no_gradient_unless_asked():
    p = f64([0.3, 0.6])
    y = f64([0.0, 1.0], requires_grad=False)
    call_op(LogLoss, p, y).backward()
    assert p.grad is not None and y.grad is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_loss_clips_p_and_zeroes_its_gradient_outside(dtype):
    eps = 1e-3
    p = mg.tensor(np.array([0.0, 1.0, eps, 0.5], dtype=dtype), requires_grad=True)
    y = mg.tensor(np.array([1.0, 0.0, 1.0, 1.0], dtype=dtype))
    loss = call_op(LogLoss, p, y, eps=eps, reduction="none")
    assert np.isfinite(loss.data).all()
    np.testing.assert_allclose(loss.data[:3], -math.log(eps), rtol=1e-5)
    loss.sum().backward()
    # outside [eps, 1 - eps] clipping holds p still; at the bound the gradient passes (mg.clip)
    np.testing.assert_array_equal(p.grad.data[:2], [0.0, 0.0])
    np.testing.assert_allclose(p.grad.data[2:], [-1 / eps, -2.0], rtol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_loss_default_eps_keeps_certain_mistakes_finite(dtype):
    p = mg.tensor(np.array([0.0, 1.0], dtype=dtype), requires_grad=True)
    loss = call_op(LogLoss, p, mg.tensor(np.array([1.0, 0.0], dtype=dtype)))
    assert loss.dtype == dtype and np.isfinite(loss.item())
    assert loss.item() > 10  # -log(1e-7) is about 16
    loss.backward()
    assert np.isfinite(p.grad.data).all()


def test_log_loss_accepts_integer_labels():
    p = mg.tensor([0.9, 0.2])
    a = call_op(LogLoss, p, mg.tensor([1, 0]))
    b = call_op(LogLoss, p, mg.tensor([1.0, 0.0]))
    assert a.dtype == np.float32
    np.testing.assert_allclose(a.data, b.data)


def test_log_loss_output_dtype_follows_p():
    p = mg.tensor(np.array([0.4, 0.7], dtype=np.float32), requires_grad=True)
    y = mg.tensor(np.array([0.0, 1.0], dtype=np.float64), requires_grad=True)
    loss = call_op(LogLoss, p, y)
    assert loss.dtype == np.float32
    loss.backward()
    assert p.grad.dtype == np.float32 and y.grad.dtype == np.float64


# --------------------------------------------------------------------------- errors


def test_log_loss_shape_mismatch():
    with pytest.raises(
        ValueError,
        match=r"log_loss: p has shape \(4, 1\) but target has shape \(4,\); they must match",
    ):
        call_op(LogLoss, mg.full((4, 1), 0.5), mg.ones(4))


@pytest.mark.parametrize(
    "values, shown",
    [([0.5, 1.5], r"values in \[0.5, 1.5\]"), ([-0.2, 0.5], r"values in \[-0.2, 0.5\]")],
)
def test_log_loss_p_outside_unit_interval(values, shown):
    with pytest.raises(
        ValueError, match=rf"log_loss: p must hold probabilities in \[0, 1\], got {shown}"
    ):
        call_op(LogLoss, f64(values), f64([1.0, 0.0], False))


def test_log_loss_p_with_nan():
    with pytest.raises(ValueError, match=r"log_loss: p must hold probabilities .* got NaN"):
        call_op(LogLoss, f64([np.nan, 0.5]), f64([1.0, 0.0], False))


def test_log_loss_target_outside_unit_interval():
    with pytest.raises(
        ValueError, match=r"log_loss: target must hold labels in \[0, 1\], got values in \[-1, 1\]"
    ):
        call_op(LogLoss, f64([0.3, 0.5]), f64([-1.0, 1.0], False))


def test_log_loss_invalid_reduction():
    with pytest.raises(
        ValueError, match=r"log_loss: reduction must be one of 'mean', 'sum', 'none', got 'avg'"
    ):
        call_op(LogLoss, f64([0.5]), f64([1.0], False), reduction="avg")


@pytest.mark.parametrize("eps", [0.0, -1e-3, 0.5])
def test_log_loss_invalid_eps(eps):
    with pytest.raises(ValueError, match=r"log_loss: eps must satisfy 0 < eps < 0.5"):
        call_op(LogLoss, f64([0.5]), f64([1.0], False), eps=eps)


def test_log_loss_integer_p():
    with pytest.raises(
        TypeError, match=r"log_loss: p has dtype int64; the CNN ops take real floating-point"
    ):
        call_op(LogLoss, mg.tensor([1, 0]), mg.tensor([1, 0]))


def test_log_loss_mean_of_empty_batch():
    with pytest.raises(ValueError, match=r"log_loss: cannot take the mean over an empty batch"):
        call_op(LogLoss, mg.zeros(0), mg.zeros(0))
    assert call_op(LogLoss, mg.zeros(0), mg.zeros(0), reduction="sum").item() == 0.0


# --------------------------------------------------------------------------- gradients


def _probabilities(lo: float, hi: float, dtype=np.float64):
    if dtype == np.float32:  # hypothesis wants bounds that float32 represents exactly
        return st.floats(float(np.float32(lo)), float(np.float32(hi)), width=32)
    return st.floats(lo, hi)


@st.composite
def p_and_target(draw, dtype=np.float64, p_range=(0.05, 0.95), y_range=(0.05, 0.95)):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
    p = draw(hnp.arrays(dtype, shape, elements=_probabilities(*p_range, dtype)))
    y = draw(hnp.arrays(dtype, shape, elements=_probabilities(*y_range, dtype)))
    return p, y


@SWEEP
@given(case=p_and_target(), reduction=st.sampled_from(REDUCTIONS))
def test_log_loss_gradcheck_and_gradgradcheck(case, reduction):
    p, y = case

    def fn(a, b):
        return call_op(LogLoss, a, b, reduction=reduction)

    assert gradcheck(fn, f64(p), f64(y))
    assert gradgradcheck(fn, f64(p), f64(y))


def test_log_loss_opcheck_on_sample_inputs():
    for args, attrs in LogLoss.sample_inputs():
        assert all(a.dtype == np.float64 for a in args)
        assert opcheck(LogLoss, *args, **attrs)


def _log_loss_vs_torch(
    p: np.ndarray, y: np.ndarray, reduction: str, rtol: float, atol: float
) -> None:
    """First order at (rtol, atol); second order at SECOND_ORDER_TOL (the curvature near p = 0 or 1
    is large, and so is the rounding of sums of its terms)."""
    second = SECOND_ORDER_TOL[p.dtype.name]
    for order, (r, a) in ((1, (rtol, atol)), (2, second)):
        compare_with_torch(
            lambda a, b: mg.ops.log_loss(a, b, reduction=reduction),
            lambda a, b: torch_functional().binary_cross_entropy(a, b, reduction=reduction),
            p,
            y,
            dtypes=(p.dtype.name,),
            order=order,
            rtol=r,
            atol=a,
        )


def torch_functional():
    return pytest.importorskip("torch").nn.functional


@SWEEP
@given(
    case=p_and_target(p_range=(1e-3, 1 - 1e-3), y_range=(0.0, 1.0)),
    reduction=st.sampled_from(REDUCTIONS),
)
def test_log_loss_matches_torch_float64(case, reduction):
    pytest.importorskip("torch")
    _log_loss_vs_torch(*case, reduction, rtol=1e-10, atol=1e-12)


@SWEEP
@given(
    case=p_and_target(np.float32, p_range=(1e-3, 1 - 1e-3), y_range=(0.0, 1.0)),
    reduction=st.sampled_from(REDUCTIONS),
)
def test_log_loss_matches_torch_float32(case, reduction):
    pytest.importorskip("torch")
    _log_loss_vs_torch(*case, reduction, rtol=1e-5, atol=1e-6)


# =========================================================================== registry


def test_through_the_op_registry():
    p = mg.tensor([0.98], requires_grad=True)
    loss = mg.ops.log_loss(p, mg.tensor([1.0]))
    assert loss.op == "log_loss" and round(loss.item(), 4) == 0.0202
    logits = mg.zeros(2, 5, requires_grad=True)
    ce = mg.ops.cross_entropy(logits, mg.tensor([4, 1]), reduction="sum")
    assert ce.op == "cross_entropy"
    np.testing.assert_allclose(ce.item(), 2 * math.log(5), rtol=1e-6)
