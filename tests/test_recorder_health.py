"""Health of a recorded run: the X-vs-O demo trains cleanly, and broken runs are flagged."""

from __future__ import annotations

import numpy as np
import pytest
from test_recorder import train, xo_data, xo_model

import minigrad as mg
from minigrad import nn


def demo_run(lr_factor: float):
    """The demo's X-vs-O training (150 images per class, seed 0, Adam 0.02, 8 epochs of
    batches of 16), with the learning rate multiplied by ``lr_factor``."""
    x, y, probes = xo_data(150)
    mg.manual_seed(0)
    model = xo_model()
    opt = mg.optim.Adam(model.parameters(), lr=0.02 * lr_factor)
    rec = mg.graph.Recorder(model, probes=probes, optimizer=opt)
    train(model, opt, x, y, 8, rec)
    return rec


def test_the_demo_default_settings_raise_no_flag():
    rec = demo_run(1.0)
    assert rec.steps == 152
    assert rec.health() == []
    assert rec.losses[-1] < 0.1 * rec.losses[0]  # it did learn
    # the numbers behind the silence: some healthy values, under the thresholds
    s = rec.series()
    assert max(s["layers"]["relu1"]["dead"]) < 0.5
    assert max(v for v in s["layers"]["fc"]["update_ratio"] if v is not None) < 0.5


def test_a_learning_rate_1000x_too_large_is_flagged_in_plain_words():
    flags = rec_flags = demo_run(1000.0).health()
    kinds = {f.kind for f in rec_flags}
    assert {"large_updates", "loss_diverging", "dead_relu", "vanishing"} <= kinds
    dead = next(f for f in flags if f.kind == "dead_relu")
    assert dead.layer == "relu1" and dead.step >= 1
    assert (
        str(dead)
        == f"relu1 (after conv1): 100% of ReLU units output 0 on every probe since step {dead.step}"
    )
    large = next(f for f in flags if f.kind == "large_updates")
    assert "learning rate is probably too high" in large.message and large.step == 1
    assert [f.step for f in flags] == sorted(f.step for f in flags)


def test_thresholds_can_be_tightened():
    rec = demo_run(1.0)
    flags = rec.health(dead=0.05, patience=2)
    assert [f.kind for f in flags] == ["dead_relu"]
    assert "% of ReLU units output 0 on every probe" in flags[0].message


def quadratic_run(lr, steps, init=1.0):
    """w -> w - lr * 2w on loss w^2: with lr=1.5 the weight doubles (and flips) every step."""
    model = nn.Linear(1, 1, bias=False).to(np.float64)
    model.weight.data[...] = init
    opt = mg.optim.SGD(model.parameters(), lr=lr)
    rec = mg.graph.Recorder(model, optimizer=opt)
    x = mg.tensor(np.ones((1, 1)))
    for _ in range(steps):
        loss = (model(x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.step(loss)
    return rec


def test_exploding_gradients_and_a_diverging_loss_are_flagged():
    flags = quadratic_run(1.5, 16).health()
    by_kind = {f.kind: f for f in flags}
    assert {"exploding", "large_updates", "loss_diverging"} <= set(by_kind)
    boom = by_kind["exploding"]
    assert boom.layer == "weight" and boom.step == 11  # 2^10 = 1024 > 1000 x the first norm
    assert boom.message.startswith("weight: the gradient norm grew from 2 to")
    assert quadratic_run(0.1, 16).health() == []  # a sane learning rate: silence


def test_nan_is_flagged_at_the_step_it_appears():
    flags = quadratic_run(0.1, 4, init=float("nan")).health()
    assert [(f.layer, f.step, f.kind) for f in flags] == [
        ("weight", 0, "not_finite"),
        ("loss", 1, "not_finite"),
    ]
    assert flags[0].message == "weight: weights or gradients are NaN or infinite since step 0"
    assert flags[1].message == "the loss became nan at step 1"


def test_saturated_sigmoid_units_are_flagged():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Sigmoid(), nn.Linear(8, 1))
    model[0].bias.data[...] = 30.0  # pre-activations near 30: every sigmoid outputs ~1
    probes = np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32)
    opt = mg.optim.SGD(model.parameters(), lr=0.01)
    rec = mg.graph.Recorder(model, probes=probes, optimizer=opt)
    for _ in range(4):
        loss = (model(mg.tensor(probes)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.step(loss)
    sat = [f for f in rec.health() if f.kind == "saturated"]
    # flags name layers as summary() does: the Sequential's keys "1" and "0" are shown
    # as sigmoid1 and fc1
    assert len(sat) == 1 and sat[0].layer == "sigmoid1" and sat[0].step == 0
    assert "sigmoid1 (after fc1): " in sat[0].message and "saturated" in sat[0].message
    assert sat[0].message.startswith("sigmoid1 (after fc1): 100% of units are saturated")
    assert rec.display_name("1") == "sigmoid1" and rec.display_name("2.weight") == "fc2.weight"
    assert rec.series()["layers"]["1"]["saturated"] == [1.0] * 5


def test_series_lines_up_with_frames():
    rec = quadratic_run(0.1, 5)
    s = rec.series()
    assert s["steps"] == [0, 1, 2, 3, 4, 5] and s["loss"][0] is None
    assert s["all_losses"] == rec.losses and len(s["all_losses"]) == 5
    ratio = s["layers"]["weight"]["update_ratio"]
    assert ratio[0] is None and ratio[1] == pytest.approx(0.2)  # |-0.1 * 2w| / |w|
    assert s["layers"]["weight"]["grad_norm"][1] == pytest.approx(2.0)
