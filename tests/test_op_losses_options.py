"""cross_entropy's weight / ignore_index / label_smoothing, nll_loss and
binary_cross_entropy_with_logits: by hand, PyTorch sweeps (values, gradients, second
derivatives), finite-difference checks in float64 (the class weight and pos_weight included,
which PyTorch does not differentiate), the op contract, errors and the loss modules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import compare_with_torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from layers_plugins.losses_classes import CrossEntropy, NLLLoss
from layers_plugins.losses_logits import BCEWithLogits
from minigrad.testing import gradcheck, gradgradcheck, opcheck

SWEEP = settings(max_examples=30, deadline=None)
REDUCTIONS = ["mean", "sum", "none"]
TOL = {"float32": 1e-4, "float64": 1e-9}
SECOND = {"float32": 2e-3, "float64": 1e-7}


def f64(values, requires_grad: bool = True) -> mg.Tensor:
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def F():
    return pytest.importorskip("torch").nn.functional


# --------------------------------------------------------------------------- by hand


def test_weighted_mean_divides_by_the_picked_weights():
    logits = f64([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])  # every loss is log 2
    target = mg.tensor([0, 1, 1])
    w = f64([1.0, 3.0], requires_grad=False)
    loss = mg.ops.cross_entropy(logits, target, w)
    # (1 + 3 + 3) log2 / (1 + 3 + 3)
    np.testing.assert_allclose(loss.item(), math.log(2))
    each = mg.ops.cross_entropy(logits, target, w, reduction="none")
    np.testing.assert_allclose(each.data, [math.log(2), 3 * math.log(2), 3 * math.log(2)])


def test_ignore_index_drops_positions_from_sum_and_count():
    logits = f64([[0.0, math.log(3.0)], [5.0, -5.0]])
    loss = mg.ops.cross_entropy(logits, mg.tensor([1, -100]))
    np.testing.assert_allclose(loss.item(), -math.log(0.75))
    loss.backward()
    np.testing.assert_allclose(logits.grad.data, [[0.25, -0.25], [0.0, 0.0]])
    each = mg.ops.nll_loss(
        f64([[-1.0, -2.0], [-3.0, -4.0]]), mg.tensor([3, 0]), ignore_index=3, reduction="none"
    )
    np.testing.assert_array_equal(each.data, [0.0, 3.0])


def test_all_ignored_mean_is_nan_as_in_pytorch():
    loss = mg.ops.cross_entropy(mg.zeros(2, 3), mg.tensor([-100, -100]))
    assert math.isnan(loss.item())
    assert (
        mg.ops.cross_entropy(mg.zeros(2, 3), mg.tensor([-100, -100]), reduction="sum").item() == 0
    )


def test_label_smoothing_by_hand():
    # C = 2, eps = 0.2: target (0.9, 0.1) on class 0
    logits = f64([[0.0, math.log(3.0)]])  # p = (1/4, 3/4)
    loss = mg.ops.cross_entropy(logits, mg.tensor([0]), label_smoothing=0.2)
    np.testing.assert_allclose(loss.item(), -(0.9 * math.log(0.25) + 0.1 * math.log(0.75)))
    loss.backward()
    np.testing.assert_allclose(logits.grad.data, [[0.25 - 0.9, 0.75 - 0.1]])


def test_nll_loss_of_log_softmax_is_cross_entropy():
    rng = np.random.default_rng(0)
    x = f64(rng.standard_normal((5, 4)))
    t = mg.tensor(rng.integers(0, 4, 5))
    w = f64(rng.uniform(0.5, 2, 4), requires_grad=False)
    a = mg.ops.nll_loss(mg.ops.log_softmax(x, axis=1), t, w)
    b = mg.ops.cross_entropy(x, t, w)
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)


def test_bce_with_logits_by_hand_and_stable():
    x = f64([0.0, 1000.0, -1000.0, 2.0])
    y = f64([1.0, 0.0, 0.0, 1.0], requires_grad=False)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        each = mg.ops.binary_cross_entropy_with_logits(x, y, reduction="none")
        each.sum().backward()
    np.testing.assert_allclose(each.data, [math.log(2), 1000.0, 0.0, math.log1p(math.exp(-2))])
    np.testing.assert_allclose(x.grad.data, [-0.5, 1.0, 0.0, 1 / (1 + math.exp(2)) * -1])
    pw = f64([3.0], requires_grad=False)
    loss = mg.ops.binary_cross_entropy_with_logits(f64([0.0]), f64([1.0]), pw)
    np.testing.assert_allclose(loss.item(), 3 * math.log(2))


# --------------------------------------------------------------------------- PyTorch sweeps


@st.composite
def class_cases(draw, dtype=np.float64):
    n = draw(st.integers(1, 4))
    c = draw(st.integers(1, 5))
    extra = (draw(st.integers(1, 3)),) if draw(st.booleans()) else ()
    width = 32 if dtype == np.float32 else 64
    logits = draw(hnp.arrays(dtype, (n, c, *extra), elements=st.floats(-8, 8, width=width)))
    target = draw(hnp.arrays(np.int64, (n, *extra), elements=st.integers(0, c - 1)))
    ignore = draw(st.sampled_from([-100, 0, c - 1]))
    # keep at least one position (an all-ignored mean is NaN in both)
    if (target == ignore).all():
        ignore = -100
    weight = None
    if draw(st.booleans()):
        weight = draw(hnp.arrays(dtype, (c,), elements=st.floats(0.25, 3.0, width=width)))
    return logits, target, weight, ignore


def _torch_loss(name, weight_given):
    def fn(x, t, *w, **kw):
        return getattr(F(), name)(x, t, weight=w[0] if weight_given else None, **kw)

    return fn


@SWEEP
@given(
    case=class_cases(),
    dtype=st.sampled_from(["float32", "float64"]),
    smoothing=st.sampled_from([0.0, 0.1, 0.6]),
    reduction=st.sampled_from(REDUCTIONS),
)
def test_cross_entropy_options_match_torch(case, dtype, smoothing, reduction):
    logits, target, weight, ignore = case
    arrays = [logits, target] + ([] if weight is None else [weight])
    kw = {"ignore_index": ignore, "label_smoothing": smoothing, "reduction": reduction}
    torch_fn = _torch_loss("cross_entropy", weight is not None)
    for order, tol in ((1, TOL), (2, SECOND)):
        compare_with_torch(
            lambda x, t, *w: mg.ops.cross_entropy(x, t, *w, **kw),
            lambda x, t, *w: torch_fn(x, t, *w, **kw),
            *arrays,
            dtypes=(dtype,),
            order=order,
            rtol=tol,
            atol=tol,
            constants=(2,),
        )


@SWEEP
@given(
    case=class_cases(),
    dtype=st.sampled_from(["float32", "float64"]),
    reduction=st.sampled_from(REDUCTIONS),
)
def test_nll_loss_matches_torch(case, dtype, reduction):
    logits, target, weight, ignore = case
    arrays = [logits, target] + ([] if weight is None else [weight])
    kw = {"ignore_index": ignore, "reduction": reduction}
    torch_fn = _torch_loss("nll_loss", weight is not None)
    compare_with_torch(
        lambda x, t, *w: mg.ops.nll_loss(x, t, *w, **kw),
        lambda x, t, *w: torch_fn(x, t, *w, **kw),
        *arrays,
        dtypes=(dtype,),
        rtol=TOL,
        atol=TOL,
        constants=(2,),
    )


@st.composite
def bce_cases(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-60, 60)))
    y = draw(hnp.arrays(np.float64, shape, elements=st.floats(0, 1)))
    pw = None
    if shape and draw(st.booleans()):
        pw = draw(hnp.arrays(np.float64, (shape[-1],), elements=st.floats(0.1, 4)))
    return x, y, pw


@SWEEP
@given(
    case=bce_cases(),
    dtype=st.sampled_from(["float32", "float64"]),
    reduction=st.sampled_from(REDUCTIONS),
)
def test_bce_with_logits_matches_torch(case, dtype, reduction):
    x, y, pw = case
    arrays = [x, y] + ([] if pw is None else [pw])

    def theirs(a, b, *p):
        return F().binary_cross_entropy_with_logits(
            a, b, pos_weight=p[0] if p else None, reduction=reduction
        )

    for order, tol in ((1, TOL), (2, SECOND)):
        compare_with_torch(
            lambda a, b, *p: mg.ops.binary_cross_entropy_with_logits(a, b, *p, reduction=reduction),
            theirs,
            *arrays,
            dtypes=(dtype,),
            order=order,
            rtol=tol,
            atol=tol,
            constants=(2,),
        )


# --------------------------------------------------------------------------- finite differences


@SWEEP
@given(
    case=class_cases(),
    smoothing=st.sampled_from([0.0, 0.3]),
    reduction=st.sampled_from(REDUCTIONS),
    which=st.sampled_from(["cross_entropy", "nll_loss"]),
)
def test_gradcheck_including_the_class_weight(case, smoothing, reduction, which):
    logits, target, weight, ignore = case
    kw = {"ignore_index": ignore, "reduction": reduction}
    if which == "cross_entropy":
        kw["label_smoothing"] = smoothing
    op = getattr(mg.ops, which)
    t = mg.tensor(target)
    if weight is None:
        fn = lambda x: op(x, t, **kw)  # noqa: E731
        args = (f64(logits),)
    else:
        fn = lambda x, w: op(x, t, w, **kw)  # noqa: E731
        args = (f64(logits), f64(weight))
    assert gradcheck(fn, *args)
    assert gradgradcheck(fn, *args)


@SWEEP
@given(case=bce_cases(), reduction=st.sampled_from(REDUCTIONS))
def test_bce_gradcheck_all_inputs(case, reduction):
    x, y, pw = case
    x = np.clip(x, -8, 8)  # finite differences need curvature they can resolve
    y = np.clip(y, 0.05, 0.95)
    args = (f64(x), f64(y)) + (() if pw is None else (f64(pw),))

    def fn(*a):
        return mg.ops.binary_cross_entropy_with_logits(*a, reduction=reduction)

    assert gradcheck(fn, *args)
    assert gradgradcheck(fn, *args)


@pytest.mark.parametrize("cls", [CrossEntropy, NLLLoss, BCEWithLogits])
def test_opcheck_on_sample_inputs(cls):
    for args, attrs in cls.sample_inputs():
        assert opcheck(cls, *args, **attrs)


def test_opcheck_with_probability_targets():
    logits = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])
    target = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
    assert opcheck(CrossEntropy, logits, target, np.array([1.0, 2.0, 0.5]), label_smoothing=0.2)


# --------------------------------------------------------------------------- errors


def test_errors_name_the_op():
    x = mg.zeros(2, 3)
    with pytest.raises(
        ValueError, match=r"cross_entropy: weight has shape \(2,\) .* expected shape \(3,\)"
    ):
        mg.ops.cross_entropy(x, mg.tensor([0, 1]), mg.ones(2))
    with pytest.raises(
        TypeError, match="cross_entropy: weight has dtype float64 but logits have dtype float32"
    ):
        mg.ops.cross_entropy(x, mg.tensor([0, 1]), mg.tensor(np.ones(3)))
    with pytest.raises(
        ValueError, match=r"cross_entropy: label_smoothing must be in \[0, 1\], got 1.5"
    ):
        mg.ops.cross_entropy(x, mg.tensor([0, 1]), label_smoothing=1.5)
    with pytest.raises(TypeError, match="nll_loss: ignore_index must be an int"):
        mg.ops.nll_loss(x, mg.tensor([0, 1]), ignore_index=0.5)
    with pytest.raises(
        ValueError, match=r"nll_loss: target holds class index 5 .* not ignore_index=4"
    ):
        mg.ops.nll_loss(x, mg.tensor([0, 5]), ignore_index=4)
    with pytest.raises(ValueError, match=r"nll_loss: log_probs must have shape \(N, C\)"):
        mg.ops.nll_loss(mg.zeros(3), mg.tensor(0))
    bce = mg.ops.binary_cross_entropy_with_logits
    with pytest.raises(
        ValueError,
        match=r"binary_cross_entropy_with_logits: target has shape \(2,\) but logits have shape \(2, 3\)",
    ):
        bce(x, mg.zeros(2))
    with pytest.raises(TypeError, match="binary_cross_entropy_with_logits: target has dtype int64"):
        bce(x, mg.tensor(np.zeros((2, 3), dtype=np.int64)))
    with pytest.raises(
        ValueError,
        match=r"binary_cross_entropy_with_logits: pos_weight of shape \(2,\) does not broadcast",
    ):
        bce(x, mg.zeros(2, 3), mg.ones(2))


# --------------------------------------------------------------------------- modules


def test_loss_modules():
    rng = np.random.default_rng(1)
    x = mg.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    t = mg.tensor([0, 2, 1, 2])
    w = mg.tensor([1.0, 2.0, 0.5])
    m = mg.nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.1)
    assert (
        repr(m)
        == "CrossEntropyLoss(weight=(3,), ignore_index=1, label_smoothing=0.1, reduction='mean')"
    )
    assert list(m.state_dict()) == ["weight"]  # a buffer, as in PyTorch
    assert list(mg.nn.CrossEntropyLoss().state_dict()) == []
    expected = mg.ops.cross_entropy(x, t, w, ignore_index=1, label_smoothing=0.1)
    assert m(x, t).item() == expected.item()
    assert (
        mg.nn.NLLLoss(reduction="sum")(x, t).item() == mg.ops.nll_loss(x, t, reduction="sum").item()
    )
    y = mg.tensor(rng.uniform(size=(4, 3)).astype(np.float32))
    bce = mg.nn.BCEWithLogitsLoss(pos_weight=mg.tensor([1.0, 2.0, 3.0]))
    assert (
        bce(x, y).item()
        == mg.ops.binary_cross_entropy_with_logits(x, y, mg.tensor([1.0, 2.0, 3.0])).item()
    )
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: label_smoothing must be in \[0, 1\]"):
        mg.nn.CrossEntropyLoss(label_smoothing=-0.1)


# --------------------------------------------------------------------------- probability targets


def test_probability_targets_by_hand():
    logits = f64([[0.0, math.log(3.0)]])  # p = (1/4, 3/4)
    t = f64([[0.5, 0.5]])
    loss = mg.ops.cross_entropy(logits, t)
    np.testing.assert_allclose(loss.item(), -(0.5 * math.log(0.25) + 0.5 * math.log(0.75)))
    gz, gt = mg.grad(loss, [logits, t])
    np.testing.assert_allclose(gz.data, [[0.25 - 0.5, 0.75 - 0.5]])
    np.testing.assert_allclose(gt.data, [[-math.log(0.25), -math.log(0.75)]])
    with pytest.raises(
        ValueError, match="cross_entropy: ignore_index=0 applies to class indices only"
    ):
        mg.ops.cross_entropy(logits, t, ignore_index=0)
    with pytest.raises(
        TypeError,
        match=r"got float64 of shape \(2,\) \(or class probabilities of the logits' shape \(1, 2\)\)",
    ):
        mg.ops.cross_entropy(logits, f64([0.5, 0.5]))


@st.composite
def probability_cases(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    extra = (draw(st.integers(1, 3)),) if draw(st.booleans()) else ()
    logits = draw(hnp.arrays(np.float64, (n, c, *extra), elements=st.floats(-8, 8)))
    raw = draw(hnp.arrays(np.float64, (n, c, *extra), elements=st.floats(0.01, 1)))
    target = raw / raw.sum(axis=1, keepdims=True)
    weight = (
        draw(hnp.arrays(np.float64, (c,), elements=st.floats(0.25, 3)))
        if draw(st.booleans())
        else None
    )
    return logits, target, weight


@SWEEP
@given(
    case=probability_cases(),
    dtype=st.sampled_from(["float32", "float64"]),
    smoothing=st.sampled_from([0.0, 0.2]),
    reduction=st.sampled_from(REDUCTIONS),
)
def test_probability_targets_match_torch(case, dtype, smoothing, reduction):
    logits, target, weight = case
    arrays = [logits, target] + ([] if weight is None else [weight])
    kw = {"label_smoothing": smoothing, "reduction": reduction}
    torch_fn = _torch_loss("cross_entropy", weight is not None)
    for order, tol in ((1, TOL), (2, SECOND)):
        compare_with_torch(
            lambda x, t, *w: mg.ops.cross_entropy(x, t, *w, **kw),
            lambda x, t, *w: torch_fn(x, t, *w, **kw),
            *arrays, dtypes=(dtype,), order=order, rtol=tol, atol=tol, constants=(2,),
        )  # fmt: skip


@settings(max_examples=20, deadline=None)
@given(case=probability_cases(), reduction=st.sampled_from(REDUCTIONS))
def test_probability_targets_gradcheck_all_inputs(case, reduction):
    logits, target, weight = case
    args = (f64(logits), f64(target)) + (() if weight is None else (f64(weight),))

    def fn(*a):
        return mg.ops.cross_entropy(*a, label_smoothing=0.1, reduction=reduction)

    assert gradcheck(fn, *args)
    assert gradgradcheck(fn, *args)
