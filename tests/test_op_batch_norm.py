"""batch_norm and nn.BatchNorm2d: by hand, PyTorch sweeps in training and evaluation (values,
gradients, second derivatives, running statistics updated in place), finite differences, batch
size 1, buffers in state_dict / mg.save / mg.load / summary, train() and eval()."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import compare_with_torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from layers_plugins.normalization import BatchNorm
from minigrad.testing import gradcheck, gradgradcheck, opcheck

SWEEP = settings(max_examples=30, deadline=None)
TOL = {"float32": 2e-4, "float64": 1e-9}
SECOND = {"float32": 5e-3, "float64": 1e-7}


def f64(a, requires_grad=True):
    return mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# --------------------------------------------------------------------------- by hand


def test_training_by_hand_updates_the_buffers_in_place():
    x = f64([[1.0, 10.0], [3.0, 10.0], [5.0, 16.0]])  # (N=3, C=2)
    rm, rv = f64([0.0, 0.0], False), f64([1.0, 1.0], False)
    arrays = rm.data, rv.data
    y = mg.ops.batch_norm(x, rm, rv, f64([2.0, 1.0]), f64([0.5, 0.0]), training=True, eps=0.0)
    # channel 0: mean 3, biased var 8/3 -> (x - 3) / sqrt(8/3) * 2 + 0.5
    np.testing.assert_allclose(y.data[:, 0], (np.array([1, 3, 5]) - 3) / np.sqrt(8 / 3) * 2 + 0.5)
    assert rm.data is arrays[0] and rv.data is arrays[1]  # the same arrays, updated
    np.testing.assert_allclose(rm.data, [0.1 * 3, 0.1 * 12])
    # unbiased variance: 8/2 = 4 and 24/2 = 12
    np.testing.assert_allclose(rv.data, [0.9 + 0.1 * 4, 0.9 + 0.1 * 12])


def test_evaluation_uses_the_running_statistics_and_changes_nothing():
    x = f64([[1.0], [3.0]])
    rm, rv = f64([2.0], False), f64([4.0], False)
    y = mg.ops.batch_norm(x, rm, rv, eps=0.0)
    np.testing.assert_allclose(y.data, [[-0.5], [0.5]])
    np.testing.assert_array_equal(rm.data, [2.0])
    np.testing.assert_array_equal(rv.data, [4.0])


def test_batch_of_one_value_per_channel_in_training_is_pytorchs_error():
    x = mg.randn(1, 3, 1, 1)
    with pytest.raises(
        ValueError,
        match=r"batch_norm: expected more than 1 value per channel when training, got input of shape \(1, 3, 1, 1\)",
    ):
        mg.ops.batch_norm(x, mg.zeros(3), mg.ones(3), training=True)
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        torch.nn.functional.batch_norm(
            torch.zeros(1, 3, 1, 1), torch.zeros(3), torch.ones(3), training=True
        )
    # evaluation and a larger spatial size are fine
    assert mg.ops.batch_norm(x, mg.zeros(3), mg.ones(3)).shape == (1, 3, 1, 1)
    assert mg.ops.batch_norm(mg.randn(1, 3, 2, 1), None, None, training=True).shape == (1, 3, 2, 1)


def test_errors_name_the_op():
    x = mg.randn(2, 3, 4, 4)
    with pytest.raises(
        ValueError,
        match=r"batch_norm: weight has shape \(2,\) but the input of shape \(2, 3, 4, 4\) has C=3 channels",
    ):
        mg.ops.batch_norm(x, mg.zeros(3), mg.ones(3), mg.ones(2))
    with pytest.raises(
        ValueError, match="batch_norm: running_mean and running_var are needed in evaluation"
    ):
        mg.ops.batch_norm(x, None, None)
    with pytest.raises(ValueError, match=r"batch_norm: momentum must be in \[0, 1\]"):
        mg.ops.batch_norm(x, mg.zeros(3), mg.ones(3), training=True, momentum=2.0)
    with pytest.raises(ValueError, match="batch_norm: eps must be non-negative"):
        mg.ops.batch_norm(x, mg.zeros(3), mg.ones(3), eps=-1e-5)
    with pytest.raises(TypeError, match="batch_norm: x has dtype int64"):
        mg.ops.batch_norm(mg.tensor([[1, 2]]), mg.zeros(2), mg.ones(2))
    with pytest.raises(ValueError, match=r"batch_norm: expected an input of shape \(N, C\)"):
        mg.ops.batch_norm(mg.zeros(3), mg.zeros(3), mg.ones(3))


# --------------------------------------------------------------------------- against PyTorch


@st.composite
def bn_cases(draw):
    n = draw(st.integers(1, 4))
    c = draw(st.integers(1, 3))
    spatial = draw(st.sampled_from([(), (1, 1), (2, 3), (3,)]))
    if n == 1 and int(np.prod(spatial)) <= 1:
        n = 2  # training needs more than one value per channel
    return {
        "shape": (n, c, *spatial),
        "affine": draw(st.booleans()),
        "training": draw(st.booleans()),
        "momentum": draw(st.sampled_from([0.1, 0.5, 1.0, 0.0])),
        "eps": draw(st.sampled_from([1e-5, 1e-3, 0.5])),
        "seed": draw(st.integers(0, 2**16)),
    }


@SWEEP
@given(case=bn_cases(), dtype=st.sampled_from(["float32", "float64"]))
def test_matches_torch_values_grads_and_second_order(case, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(case["seed"])
    c = case["shape"][1]
    x = rng.standard_normal(case["shape"]) * 2 + 1
    rm, rv = rng.standard_normal(c), rng.uniform(0.5, 2.0, c)
    w, b = rng.uniform(0.5, 1.5, c), rng.standard_normal(c)
    kw = {"training": case["training"], "momentum": case["momentum"], "eps": case["eps"]}
    ours_stats, theirs_stats = [], []

    def ours(x, rm, rv, *wb):
        ours_stats.append((rm, rv))
        return mg.ops.batch_norm(x, rm, rv, *wb, **kw)

    def theirs(x, rm, rv, *wb):
        theirs_stats.append((rm, rv))
        return torch.nn.functional.batch_norm(x, rm, rv, *wb, **kw)

    arrays = [x, rm, rv] + ([w, b] if case["affine"] else [])
    for order, tol in ((1, TOL), (2, SECOND)):
        compare_with_torch(ours, theirs, *arrays, dtypes=(dtype,), order=order, rtol=tol,
                           atol=tol, constants=(1, 2))  # fmt: skip
    for (m, v), (tm, tv) in zip(ours_stats, theirs_stats):  # updated in place, in both
        np.testing.assert_allclose(m.data, tm.numpy(), rtol=TOL[dtype], atol=TOL[dtype])
        np.testing.assert_allclose(v.data, tv.numpy(), rtol=TOL[dtype], atol=TOL[dtype])


@settings(max_examples=20, deadline=None)
@given(case=bn_cases())
def test_gradcheck_and_gradgradcheck(case):
    rng = np.random.default_rng(case["seed"])
    c = case["shape"][1]
    x = f64(rng.standard_normal(case["shape"]))
    w, b = f64(rng.uniform(0.5, 1.5, c)), f64(rng.standard_normal(c))
    if case["training"]:

        def fn(x, w, b):
            return mg.ops.batch_norm(x, None, None, w, b, training=True, eps=case["eps"])

        args = (x, w, b)
    else:  # evaluation: the running statistics get gradients too
        rm, rv = f64(rng.standard_normal(c)), f64(rng.uniform(0.5, 2.0, c))

        def fn(x, rm, rv, w, b):
            return mg.ops.batch_norm(x, rm, rv, w, b, eps=case["eps"])

        args = (x, rm, rv, w, b)
    assert gradcheck(fn, *args)
    assert gradgradcheck(fn, *args)


def test_opcheck_on_sample_inputs():
    for args, attrs in BatchNorm.sample_inputs():
        assert opcheck(BatchNorm, *args, **attrs)


# --------------------------------------------------------------------------- nn.BatchNorm2d


def test_module_matches_torch_over_training_steps_and_eval():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for momentum in (0.1, None):
        ours = mg.nn.BatchNorm2d(3, momentum=momentum)
        theirs = torch.nn.BatchNorm2d(3, momentum=momentum)
        for _ in range(3):
            x = (rng.standard_normal((4, 3, 5, 5)) * 3 + 2).astype(np.float32)
            np.testing.assert_allclose(
                ours(mg.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), atol=1e-5
            )
        for key, value in theirs.state_dict().items():
            np.testing.assert_allclose(
                ours.state_dict()[key], value.numpy(), rtol=1e-6, err_msg=key
            )
        assert ours.num_batches_tracked.item() == 3
        ours.eval(), theirs.eval()
        x = rng.standard_normal((1, 3, 1, 1)).astype(np.float32)  # fine in evaluation
        np.testing.assert_allclose(
            ours(mg.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), atol=1e-5
        )
        assert ours.num_batches_tracked.item() == 3


def test_module_buffers_state_dict_save_load_and_summary(tmp_path):
    mg.manual_seed(0)
    model = mg.nn.Sequential(mg.nn.Conv2d(1, 2, 3), mg.nn.BatchNorm2d(2), mg.nn.ReLU())
    keys = list(model.state_dict())
    assert keys == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                    "1.running_var", "1.num_batches_tracked"]  # fmt: skip
    assert [n for n, _ in model.named_parameters()] == keys[:4]
    model(mg.randn(4, 1, 6, 6))
    path = tmp_path / "bn.npz"
    mg.save(model, path)
    fresh = mg.nn.Sequential(mg.nn.Conv2d(1, 2, 3), mg.nn.BatchNorm2d(2), mg.nn.ReLU())
    fresh.load_state_dict(mg.load(path))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key], value)
    assert (
        fresh[1].num_batches_tracked.dtype == np.int64 and fresh[1].num_batches_tracked.item() == 1
    )
    text = str(model.summary((1, 1, 6, 6)))
    assert "bn1 (BatchNorm2d)" in text
    assert (
        "Buffers (not trained): 5 values in running_mean, running_var, num_batches_tracked" in text
    )
    assert fresh[1].num_batches_tracked.item() == 1  # summary changed nothing
    bad = dict(mg.load(path))
    bad["1.running_var"] = np.ones(3, dtype=np.float32)
    with pytest.raises(
        ValueError,
        match=r"entry '1.running_var' has shape \(3,\) but the model's buffer has shape \(2,\)",
    ):
        fresh.load_state_dict(bad)
    del bad["1.running_var"]
    with pytest.raises(ValueError, match="buffer '1.running_var' .* is missing from the state"):
        fresh.load_state_dict(bad)


def test_train_and_eval_switch_batch_norm():
    bn = mg.nn.BatchNorm2d(1, momentum=1.0)
    x = mg.tensor(np.arange(8, dtype=np.float32).reshape(2, 1, 2, 2))
    y_train = bn(x)
    np.testing.assert_allclose(y_train.data.mean(), 0, atol=1e-6)
    np.testing.assert_allclose(bn.running_mean.data, [3.5])
    bn.eval()
    y_eval = bn(x)  # normalised with the (unbiased) running variance now
    np.testing.assert_allclose(
        y_eval.data, (x.data - 3.5) / np.sqrt(x.data.var(ddof=1) + 1e-5), rtol=1e-5
    )
    assert bn.num_batches_tracked.item() == 1


def test_module_options_and_errors():
    bn = mg.nn.BatchNorm2d(2, affine=False, track_running_stats=False)
    assert list(bn.parameters()) == [] and list(bn.buffers()) == [] and list(bn.state_dict()) == []
    assert (
        repr(bn)
        == "BatchNorm2d(2, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)"
    )
    bn.eval()
    assert bn(mg.randn(2, 2, 3, 3)).shape == (2, 2, 3, 3)  # batch statistics without buffers
    with pytest.raises(
        ValueError, match=r"BatchNorm2d\(3, .*\): expected input of shape \(N, 3, H, W\)"
    ):
        mg.nn.BatchNorm2d(3)(mg.randn(2, 2, 3, 3))
    with pytest.raises(ValueError, match="BatchNorm2d: num_features must be a positive int"):
        mg.nn.BatchNorm2d(0)
    m = mg.nn.Module()
    with pytest.raises(TypeError, match="buffer 'b' must not require a gradient"):
        m.register_buffer("b", mg.ones(2, requires_grad=True))
    m.register_buffer("scratch", mg.zeros(2), persistent=False)
    assert list(m.state_dict()) == [] and [n for n, _ in m.named_buffers()] == ["scratch"]
    m.scratch = np.ones(2)  # assigning replaces the buffer
    assert isinstance(m.scratch, mg.Tensor) and m.scratch.data.sum() == 2


def test_to_float64_converts_floating_buffers():
    bn = mg.nn.BatchNorm2d(2).to(np.float64)
    assert bn.running_mean.dtype == np.float64 and bn.num_batches_tracked.dtype == np.int64
    assert bn(mg.randn(2, 2, 2, 2, dtype="float64")).dtype == np.float64
