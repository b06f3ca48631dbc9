"""cross_entropy: hand-checked values, PyTorch sweeps for each reduction (values, gradients and
second derivatives), gradient and double-backward checks, the op contract and every error."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import compare_with_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_op_losses import REDUCTIONS, SECOND_ORDER_TOL, SWEEP, f64, re_tuple, torch_functional

import minigrad as mg
from layers_plugins.losses_classes import CrossEntropy
from minigrad.autograd import call_op
from minigrad.testing import gradcheck, gradgradcheck, opcheck


@pytest.mark.parametrize("n_classes", [1, 2, 10])
def test_cross_entropy_of_uniform_logits_is_log_c(n_classes):
    logits = mg.full((3, n_classes), 0.7)
    target = mg.tensor(np.arange(3) % n_classes)
    loss = call_op(CrossEntropy, logits, target)
    np.testing.assert_allclose(loss.item(), math.log(n_classes), atol=1e-6)
    np.testing.assert_allclose(
        call_op(CrossEntropy, logits, target, reduction="sum").item(),
        3 * math.log(n_classes),
        atol=1e-6,
    )


def test_cross_entropy_by_hand_with_gradient():
    logits = f64([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])  # softmax rows: (1/4, 3/4)
    each = call_op(CrossEntropy, logits, mg.tensor([1, 0]), reduction="none")
    np.testing.assert_allclose(each.data, [-math.log(0.75), -math.log(0.25)])
    call_op(CrossEntropy, logits, mg.tensor([1, 0])).backward()
    # (softmax - onehot) / N
    np.testing.assert_allclose(logits.grad.data, [[0.125, -0.125], [-0.375, 0.375]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_is_stable_for_huge_logits(dtype):
    logits = mg.tensor(np.array([[1000.0, -1000.0, 0.0], [5e4, 5e4, 5e4]], dtype=dtype))
    logits.requires_grad = True
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = call_op(CrossEntropy, logits, mg.tensor([0, 2]), reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(loss.data, [0.0, math.log(3)], rtol=1e-6, atol=1e-6)
    assert np.isfinite(logits.grad.data).all()
    # a confident wrong answer costs its margin
    wrong = call_op(CrossEntropy, mg.tensor(np.array([[1000.0, 0.0]], dtype=dtype)), mg.tensor([1]))
    np.testing.assert_allclose(wrong.item(), 1000.0, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_keeps_the_logits_dtype(dtype):
    logits = mg.tensor(np.zeros((2, 3), dtype=dtype), requires_grad=True)
    for target_dtype in (np.int64, np.int32, np.uint8):
        loss = call_op(CrossEntropy, logits, mg.tensor(np.array([0, 2], dtype=target_dtype)))
        assert loss.dtype == dtype
    loss.backward()
    assert logits.grad.dtype == dtype


def test_cross_entropy_per_position_logits():
    # (N, C, d) logits: one class per position, like per-pixel segmentation
    logits = mg.zeros(2, 4, 3, dtype="float64")
    target = mg.tensor([[0, 1, 3], [2, 2, 0]])
    each = call_op(CrossEntropy, logits, target, reduction="none")
    assert each.shape == (2, 3)
    np.testing.assert_allclose(each.data, math.log(4))


def test_cross_entropy_target_gets_no_gradient():
    logits = f64([[0.2, 0.1]])
    node = call_op(CrossEntropy, logits, mg.tensor([0]))._node
    assert node.needs_input_grad == (True, False, False)
    _, g_target, g_weight = CrossEntropy.backward(node, mg.tensor(1.0, dtype="float64"))
    assert g_target is None and g_weight is None


# --------------------------------------------------------------------------- errors


def test_cross_entropy_float_target():
    with pytest.raises(
        TypeError,
        match=r"cross_entropy: target must hold class indices of an integer dtype, got float32",
    ):
        call_op(CrossEntropy, mg.zeros(2, 3), mg.tensor([0.0, 1.0]))


@pytest.mark.parametrize("shape", [(4, 1), (3,), ()])
def test_cross_entropy_target_shape(shape):
    target = mg.tensor(np.zeros(shape, dtype=np.int64))
    with pytest.raises(
        ValueError,
        match=rf"cross_entropy: target has shape {re_tuple(shape)} but logits of shape \(4, 3\) "
        r"need a target of shape \(4,\)",
    ):
        call_op(CrossEntropy, mg.zeros(4, 3), target)


@pytest.mark.parametrize("bad, where", [(3, r"\(1,\)"), (-1, r"\(1,\)"), (7, r"\(1,\)")])
def test_cross_entropy_class_index_out_of_range(bad, where):
    with pytest.raises(
        ValueError,
        match=rf"cross_entropy: target holds class index {bad} at position {where}, "
        r"outside \[0, 3\) for logits with C=3 classes",
    ):
        call_op(CrossEntropy, mg.zeros(3, 3), mg.tensor([0, bad, 1]))


@pytest.mark.parametrize("shape", [(3,), ()])
def test_cross_entropy_logits_must_be_at_least_2d(shape):
    with pytest.raises(
        ValueError,
        match=rf"cross_entropy: logits must have shape \(N, C\) .*got shape {re_tuple(shape)}",
    ):
        call_op(CrossEntropy, mg.tensor(np.zeros(shape)), mg.tensor(0))


def test_cross_entropy_integer_logits():
    with pytest.raises(
        TypeError, match=r"cross_entropy: logits has dtype int64; .* floating-point"
    ):
        call_op(CrossEntropy, mg.tensor([[1, 2]]), mg.tensor([0]))


def test_cross_entropy_invalid_reduction():
    with pytest.raises(
        ValueError,
        match=r"cross_entropy: reduction must be one of 'mean', 'sum', 'none', got 'max'",
    ):
        call_op(CrossEntropy, mg.zeros(2, 3), mg.tensor([0, 1]), reduction="max")


def test_cross_entropy_mean_of_empty_batch():
    with pytest.raises(
        ValueError, match=r"cross_entropy: cannot take the mean over an empty batch"
    ):
        call_op(CrossEntropy, mg.zeros(0, 3), mg.tensor(np.zeros(0, dtype=np.int64)))


# --------------------------------------------------------------------------- gradients


@st.composite
def logits_and_target(draw, dtype=np.float64, lo=-6.0, hi=6.0, spatial=True):
    """(N, C[, d]) logits and a matching target of int64 class indices."""
    n = draw(st.integers(1, 4))
    c = draw(st.integers(1, 5))
    extra = (draw(st.integers(1, 3)),) if spatial and draw(st.booleans()) else ()
    width = 32 if dtype == np.float32 else 64
    logits = draw(hnp.arrays(dtype, (n, c, *extra), elements=st.floats(lo, hi, width=width)))
    target = draw(hnp.arrays(np.int64, (n, *extra), elements=st.integers(0, c - 1)))
    return logits, target


@SWEEP
@given(case=logits_and_target(), reduction=st.sampled_from(REDUCTIONS))
def test_cross_entropy_gradcheck_and_gradgradcheck(case, reduction):
    logits, target = case

    def fn(x):
        return call_op(CrossEntropy, x, target, reduction=reduction)

    assert gradcheck(fn, f64(logits))
    assert gradgradcheck(fn, f64(logits))


def test_cross_entropy_opcheck_on_sample_inputs():
    for args, attrs in CrossEntropy.sample_inputs():
        assert args[0].dtype == np.float64 and args[1].dtype == np.int64
        assert opcheck(CrossEntropy, *args, **attrs)


def _cross_entropy_vs_torch(logits, target, reduction: str, rtol: float, atol: float) -> None:
    """First order at (rtol, atol); second order at SECOND_ORDER_TOL (the curvature near p = 0 or 1
    is large, and so is the rounding of sums of its terms)."""
    second = SECOND_ORDER_TOL[logits.dtype.name]
    for order, (r, a) in ((1, (rtol, atol)), (2, second)):
        compare_with_torch(
            lambda x, t: mg.ops.cross_entropy(x, t, reduction=reduction),
            lambda x, t: torch_functional().cross_entropy(x, t, reduction=reduction),
            logits,
            target,
            dtypes=(logits.dtype.name,),
            order=order,
            rtol=r,
            atol=a,
        )


@SWEEP
@given(case=logits_and_target(lo=-50.0, hi=50.0), reduction=st.sampled_from(REDUCTIONS))
def test_cross_entropy_matches_torch_float64(case, reduction):
    pytest.importorskip("torch")
    _cross_entropy_vs_torch(*case, reduction, rtol=1e-10, atol=1e-12)


@SWEEP
@given(case=logits_and_target(np.float32, lo=-50.0, hi=50.0), reduction=st.sampled_from(REDUCTIONS))
def test_cross_entropy_matches_torch_float32(case, reduction):
    pytest.importorskip("torch")
    _cross_entropy_vs_torch(*case, reduction, rtol=1e-5, atol=1e-6)
