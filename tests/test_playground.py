"""The playground's Python side: every edit and step is the engine's own computation, undo
puts back the exact state, bad names and indices say what is accepted."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import minigrad as mg
from minigrad.demo import build_xo_model
from minigrad.graph.playground import Session


def xo_session(n: int = 2, **kw) -> tuple[Session, mg.nn.Module]:
    mg.manual_seed(0)
    model = build_xo_model()
    rng = np.random.default_rng(0)
    x = rng.random((n, 1, 9, 9), dtype=np.float32)
    target = np.arange(n) % 2
    return Session(model, x, target, classes=["O", "X"], **kw), model


def fresh(model, x, target, loss_fn):
    """The same computation from scratch, on a deep copy of the model."""
    m = copy.deepcopy(model)
    m.zero_grad()  # the copy carries the session's .grad along
    out = m(mg.tensor(x))
    loss = loss_fn(out, mg.tensor(target))
    loss.backward()
    grads = {k: p.grad.data.copy() for k, p in m.named_parameters()}
    return loss.item(), out.data.copy(), grads, m


def assert_matches_fresh(s: Session, model, loss_fn=None) -> None:
    loss_fn = loss_fn or mg.nn.CrossEntropyLoss()
    loss, out, grads, _ = fresh(model, s.x, s.target, loss_fn)
    assert s.loss == loss
    assert np.array_equal(s.output, out)
    names = dict(zip([k for k, _ in model.named_parameters()], s.grads))
    assert set(names) == set(grads)
    for key, shown in names.items():
        assert np.array_equal(s.grads[shown], grads[key]), shown
    probs = mg.ops.softmax(mg.tensor(out), axis=-1).data
    assert np.array_equal(s.probabilities, probs)


def state_of(s: Session) -> dict:
    """Everything an undo must put back, as plain copies."""
    return {
        "x": s.x,
        "target": s.target,
        "params": s.params,
        "opt": copy.deepcopy(s.optimizer.state),
        "lr": s.lr,
        "loss": s.loss,
        "grads": s.grads,
        "output": s.output,
        "steps": s.steps,
    }


def assert_same_state(a: dict, b: dict) -> None:
    for k in ("x", "target", "output"):
        assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k
    for group in ("params", "grads"):
        assert a[group].keys() == b[group].keys()
        for name in a[group]:
            assert a[group][name].tobytes() == b[group][name].tobytes(), (group, name)
    assert a["loss"] == b["loss"] and a["lr"] == b["lr"] and a["steps"] == b["steps"]
    assert len(a["opt"]) == len(b["opt"])
    for sa, sb in zip(a["opt"], b["opt"]):
        assert sa.keys() == sb.keys()
        for k in sa:
            va, vb = sa[k], sb[k]
            assert np.array_equal(va, vb) if isinstance(va, np.ndarray) else va == vb


def test_start_is_the_engines_computation():
    s, model = xo_session()
    assert s.loss_name == "cross-entropy"
    assert s.classes == ["O", "X"]
    assert_matches_fresh(s, model)
    assert s.can_undo == 0 and s.steps == 0


def test_each_edit_equals_a_fresh_computation():
    s, model = xo_session()
    s.set("input", (0, 0, 4, 4), 1.0)
    assert s.x[0, 0, 4, 4] == 1.0
    assert_matches_fresh(s, model)
    s.set("input", [(1, 0, 2, 3), (1, 0, 3, 3)], 0.5)  # a stroke: one change
    assert s.can_undo == 2
    assert_matches_fresh(s, model)
    s.set("target", 1, 0)
    assert s.target.tolist() == [0, 0]
    assert_matches_fresh(s, model)
    s.set("conv1.weight", (2, 0, 1, 1), -0.75)  # display name
    assert model.conv1.weight.data[2, 0, 1, 1] == np.float32(-0.75)
    assert_matches_fresh(s, model)
    s.set("fc.bias", 1, 0.25)
    assert_matches_fresh(s, model)


def test_state_dict_key_and_display_name_are_the_same_parameter():
    mg.manual_seed(1)
    model = mg.nn.Sequential(
        mg.nn.Conv2d(1, 2, 3), mg.nn.ReLU(), mg.nn.Flatten(), mg.nn.Linear(2 * 4 * 4, 3)
    )
    x = np.random.default_rng(1).random((1, 1, 6, 6), dtype=np.float32)
    s = Session(model, x, np.array([2]))
    s.set("0.weight", (1, 0, 0, 2), 0.5)
    s.set("conv1.weight", (1, 0, 0, 1), 0.25)
    assert model[0].weight.data[1, 0, 0, 2] == 0.5 and model[0].weight.data[1, 0, 0, 1] == 0.25
    assert "conv1.weight" in s.params and "0.weight" not in s.params
    assert_matches_fresh(s, model)


def test_slices_and_arrays_set_a_stroke():
    s, model = xo_session(1)
    s.set("input", np.s_[0, 0, 2:7, 4], 1.0)
    assert s.x[0, 0, 2:7, 4].tolist() == [1.0] * 5
    assert s.changes["arrays"]["input"]["count"] <= 5
    s.set("input", (0, 0, slice(None), slice(None)), np.zeros((9, 9), np.float32))
    assert not s.x.any()
    assert_matches_fresh(s, model)


def test_step_is_sgd_on_the_current_gradient():
    s, model = xo_session(lr=0.25)
    w, g = s.params["conv1.weight"], s.grads["conv1.weight"]
    before = copy.deepcopy(model)
    s.step()
    assert np.array_equal(s.params["conv1.weight"], w - np.float32(0.25) * g)
    # the same step on a copy: forward, backward, SGD, forward, backward
    _, _, _, m = fresh(before, s.x, s.target, mg.nn.CrossEntropyLoss())
    mg.optim.SGD(m.parameters(), lr=0.25).step()
    for (k, p), (_, q) in zip(m.named_parameters(), model.named_parameters()):
        assert np.array_equal(p.data, q.data), k
    assert_matches_fresh(s, model)
    assert s.steps == 1


def test_step_with_adam_and_momentum_keeps_the_optimizer_state():
    mg.manual_seed(0)
    model = build_xo_model()
    opt = mg.optim.Adam(model.parameters(), lr=0.01)
    x = np.random.default_rng(2).random((2, 1, 9, 9), dtype=np.float32)
    s = Session(model, x, np.array([1, 0]), optimizer=opt)
    start = state_of(s)
    s.step()
    after_one = state_of(s)
    s.step()
    assert opt.state[0]["step"] == 2
    assert_matches_fresh(s, model)
    s.undo()
    assert_same_state(state_of(s), after_one)
    s.undo()
    assert_same_state(state_of(s), start)
    assert opt.state[0] == {}


def test_undo_restores_every_change_bit_for_bit():
    s, model = xo_session(lr=0.1)
    states = [state_of(s)]
    s.set("input", (0, 0, 1, 1), 0.9)
    states.append(state_of(s))
    s.step()
    states.append(state_of(s))
    s.set("conv1.bias", 0, 1.5)
    states.append(state_of(s))
    s.lr = 0.05
    states.append(state_of(s))
    s.step()
    states.append(state_of(s))
    s.set("target", 0, 1)
    states.append(state_of(s))
    for expected in reversed(states[:-1]):
        s.undo()
        assert_same_state(state_of(s), expected)
    assert_matches_fresh(s, model)
    with pytest.raises(ValueError, match="nothing to undo"):
        s.undo()


def test_reset_goes_back_to_the_start_and_can_be_undone():
    s, _ = xo_session()
    start = state_of(s)
    s.set("input", (0, 0, 0, 0), 2.0)
    s.step()
    s.step()
    edited = state_of(s)
    s.reset()
    assert_same_state(state_of(s), start)
    assert s.changes["what"] == "reset"
    s.undo()
    assert_same_state(state_of(s), edited)


def test_changes_name_the_cells_that_moved():
    s, _ = xo_session(1)
    old = s.loss
    s.set("input", (0, 0, 4, 4), 5.0)
    ch = s.changes
    assert ch["what"].startswith("input[0, 0, 4, 4]")
    assert ch["loss"]["old"] == old and ch["loss"]["new"] == s.loss
    assert ch["arrays"]["input"]["count"] == 1
    assert ch["arrays"]["input"]["cells"][0] == {
        "index": [0, 0, 4, 4],
        "old": ch["arrays"]["input"]["cells"][0]["old"],
        "new": 5.0,
    }
    # a 3x3 convolution with padding 1: only outputs whose window holds (4, 4) move
    conv = ch["arrays"]["conv1"]
    assert 1 <= conv["count"] <= 4 * 9
    for cell in conv["cells"]:
        _, _, i, j = cell["index"]
        assert abs(i - 4) <= 1 and abs(j - 4) <= 1
    assert "conv1.weight" not in ch["arrays"]  # an input edit moves no weight
    assert "conv1.weight.grad" in ch["arrays"]
    assert ch["arrays"]["probabilities"]["max"] > 0
    biggest = max(abs(c["new"] - c["old"]) for c in conv["cells"])
    assert conv["max"] == pytest.approx(biggest)
    # a step moves weights, not the input
    s.step()
    assert "input" not in s.changes["arrays"] and "conv1.weight" in s.changes["arrays"]


def test_lr_is_a_change_undo_takes_back():
    s, _ = xo_session()
    s.lr = 0.5
    assert s.optimizer.lr == 0.5 and s.changes["arrays"] == {}
    s.undo()
    assert s.lr == pytest.approx(0.1)
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="lr must be a finite number > 0"):
            s.lr = bad


def test_bad_names_and_indices_say_what_is_accepted():
    s, _ = xo_session()
    with pytest.raises(KeyError, match=r"accepted names: 'input', 'target', conv1\.weight"):
        s.set("conv9.weight", 0, 1.0)
    with pytest.raises(IndexError, match=r"input, shape \(2, 1, 9, 9\)"):
        s.set("input", (0, 0, 9, 0), 1.0)
    with pytest.raises(IndexError, match="one index per axis"):
        s.set("input", (0, 0, 1), 1.0)
    with pytest.raises(IndexError, match="out of range"):
        s.set("conv1.bias", 7, 1.0)
    with pytest.raises(ValueError, match=r"class index \(0 \.\. 1\)"):
        s.set("target", 0, 2)
    with pytest.raises(ValueError, match="finite"):
        s.set("input", (0, 0, 0, 0), float("nan"))
    with pytest.raises(TypeError, match="must be a number"):
        s.set("input", (0, 0, 0, 0), "1")
    with pytest.raises(ValueError, match=r"shape \(3,\), expected \(9,\)"):
        s.set("input", np.s_[0, 0, 0, :], np.ones(3))
    assert s.can_undo == 0  # nothing was recorded by the refused edits


def test_log_loss_for_a_single_sigmoid_output():
    mg.manual_seed(0)
    model = mg.nn.Sequential(mg.nn.Flatten(), mg.nn.Linear(4, 1), mg.nn.Sigmoid())
    x = np.random.default_rng(3).random((3, 1, 2, 2), dtype=np.float32)
    s = Session(model, x, np.array([0.0, 1.0, 1.0], np.float32))
    assert s.loss_name == "log loss" and s.classes == ["0", "1"]
    m = copy.deepcopy(model)
    p = m(mg.tensor(x))
    loss = mg.nn.LogLoss()(p, mg.tensor(np.array([[0.0], [1.0], [1.0]], np.float32)))
    assert s.loss == loss.item()
    assert np.array_equal(s.probabilities[:, 1], p.data[:, 0])
    assert np.array_equal(s.probabilities[:, 0], (1.0 - p).data[:, 0])
    s.set("target", 0, 1.0)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        s.set("target", 0, 3.0)


def test_no_default_loss_says_what_to_pass():
    model = mg.nn.Sequential(mg.nn.Flatten(), mg.nn.Linear(4, 1))
    with pytest.raises(ValueError, match="pass loss="):
        Session(model, np.zeros((1, 1, 2, 2), np.float32), np.array([1.0], np.float32))
    # a custom loss works
    s = Session(
        model,
        np.zeros((1, 1, 2, 2), np.float32),
        np.array([[1.0]], np.float32),
        loss=lambda out, y: ((out - y) ** 2).mean(),
    )
    assert s.loss_name == "custom" and s.probabilities is None


def test_bad_arguments():
    with pytest.raises(TypeError, match="mg.nn.Module"):
        Session(object(), np.zeros(2), np.zeros(2))
    model = build_xo_model()
    with pytest.raises(TypeError, match="floats"):
        Session(model, np.zeros((1, 1, 9, 9), np.int64), np.array([0]))
    with pytest.raises(ValueError, match="2 outputs need 2 class names"):
        Session(model, np.zeros((1, 1, 9, 9), np.float32), np.array([0]), classes=["a"])


def test_a_change_the_model_cannot_compute_leaves_the_session_as_it_was():
    class Picky(mg.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = mg.nn.Linear(2, 2)

        def forward(self, x):
            if float(x.data.sum()) > 5:
                raise ValueError("too bright")
            return self.fc(x)

    s = Session(Picky(), np.zeros((1, 2), np.float32), np.array([1]))
    start = state_of(s)
    s.set("input", (0, 0), 1.0)
    after = state_of(s)
    with pytest.raises(ValueError, match="too bright"):
        s.set("input", (0, 1), 9.0)
    assert_same_state(state_of(s), after)
    assert s.can_undo == 1
    s.undo()
    assert_same_state(state_of(s), start)
