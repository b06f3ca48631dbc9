"""log_loss and cross_entropy: hand-checked values, PyTorch sweeps for each reduction,
gradient and double-backward checks, the op contract and every error message."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from layers_plugins.losses import CrossEntropy, LogLoss
from minigrad.autograd import call_op
from minigrad.testing import gradcheck, gradgradcheck, opcheck

REDUCTIONS = ["mean", "sum", "none"]
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


def _log_loss_vs_torch(p: np.ndarray, y: np.ndarray, reduction: str, rtol: float, atol: float):
    torch = pytest.importorskip("torch")
    pt_, yt_ = mg.tensor(p, requires_grad=True), mg.tensor(y, requires_grad=True)
    loss = call_op(LogLoss, pt_, yt_, reduction=reduction)
    cot = np.random.default_rng(0).standard_normal(loss.shape).astype(p.dtype)
    loss.backward(cot)
    pt, yt = torch.tensor(p, requires_grad=True), torch.tensor(y, requires_grad=True)
    ref = torch.nn.functional.binary_cross_entropy(pt, yt, reduction=reduction)
    ref.backward(torch.tensor(cot))
    assert loss.dtype == p.dtype and loss.shape == tuple(ref.shape)
    np.testing.assert_allclose(loss.data, ref.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(pt_.grad.data, pt.grad.numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(yt_.grad.data, yt.grad.numpy(), rtol=rtol, atol=atol)


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


# =========================================================================== cross_entropy


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
    assert node.needs_input_grad == (True, False)
    _, g_target = CrossEntropy.backward(node, mg.tensor(1.0, dtype="float64"))
    assert g_target is None


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


def _cross_entropy_vs_torch(logits, target, reduction: str, rtol: float, atol: float):
    torch = pytest.importorskip("torch")
    x = mg.tensor(logits, requires_grad=True)
    loss = call_op(CrossEntropy, x, mg.tensor(target), reduction=reduction)
    cot = np.random.default_rng(0).standard_normal(loss.shape).astype(logits.dtype)
    loss.backward(cot)
    xt = torch.tensor(logits, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(xt, torch.tensor(target), reduction=reduction)
    ref.backward(torch.tensor(cot))
    assert loss.dtype == logits.dtype and loss.shape == tuple(ref.shape)
    np.testing.assert_allclose(loss.data, ref.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=rtol, atol=atol)


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


# =========================================================================== registry


def test_through_the_op_registry():
    pytest.importorskip("minigrad.plugins", reason="the op registry minigrad.plugins is missing")
    p = mg.tensor([0.98], requires_grad=True)
    loss = mg.ops.log_loss(p, mg.tensor([1.0]))
    assert loss.op == "log_loss" and round(loss.item(), 4) == 0.0202
    logits = mg.zeros(2, 5, requires_grad=True)
    ce = mg.ops.cross_entropy(logits, mg.tensor([4, 1]), reduction="sum")
    assert ce.op == "cross_entropy"
    np.testing.assert_allclose(ce.item(), 2 * math.log(5), rtol=1e-6)
