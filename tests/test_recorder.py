"""The training recorder: frames, updates that add up, memory knobs, explanations, health."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def xo_model():
    """The X-vs-O demo network (from the demo when it is importable, else the same layers)."""
    try:
        from minigrad.demo import build_xo_model

        return build_xo_model()
    except (ImportError, AttributeError):
        return nn.Sequential(
            OrderedDict(
                [
                    ("conv1", nn.Conv2d(1, 4, 3, padding=1)),
                    ("relu1", nn.ReLU()),
                    ("pool1", nn.MaxPool2d(2)),
                    ("flatten", nn.Flatten()),
                    ("fc", nn.Linear(64, 2)),
                ]
            )
        )


def xo_data(n_per_class=150):
    x, y = mg.data.xo_images(n_per_class=n_per_class, seed=0)
    xt, yt = mg.data.xo_images(n_per_class=20, seed=10_000)
    probes = np.concatenate([xt[yt == 0][:4], xt[yt == 1][:4]])
    return x, y, probes


def train(model, opt, x, y, epochs, rec=None, dtype=None, schedule=None):
    """The demo's loop: shuffled batches of 16, cross-entropy, rec.step after opt.step."""
    loss_fn = nn.CrossEntropyLoss()
    loader = mg.data.DataLoader(x, y, batch_size=16, shuffle=True, seed=0)
    losses = []
    for epoch in range(epochs):
        if schedule is not None:
            opt.lr = schedule(epoch)
        for xb, yb in loader:
            xb = xb if dtype is None else xb.astype(dtype)
            loss = loss_fn(model(mg.tensor(xb)), mg.tensor(yb))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if rec is not None:
                rec.step(loss)
    return losses


def small_run(make_opt, epochs=1, n=24, **rec_kwargs):
    mg.manual_seed(3)
    model = xo_model().to(np.float64)
    x, y, probes = xo_data(n)
    opt = make_opt(model.parameters())
    rec = mg.graph.Recorder(model, probes=probes.astype(np.float64), optimizer=opt, **rec_kwargs)
    train(model, opt, x, y, epochs, rec, dtype=np.float64)
    return model, opt, rec


# --------------------------------------------------------------------------- frames


def test_frame0_is_the_seeded_initial_weights_and_the_last_frame_the_final_ones():
    mg.manual_seed(0)
    fresh = xo_model().state_dict()
    mg.manual_seed(0)
    model = xo_model()
    x, y, probes = xo_data(40)
    opt = mg.optim.Adam(model.parameters(), lr=0.02)
    rec = mg.graph.Recorder(model, probes=probes)
    train(model, opt, x, y, 2, rec)
    first, last = rec.frames[0], rec.frames[-1]
    assert first.step == 0 and first.loss is None and first.grads == {} and first.updates == {}
    assert (
        list(first.params) == list(fresh) == ["conv1.weight", "conv1.bias", "fc.weight", "fc.bias"]
    )
    for name, value in fresh.items():
        np.testing.assert_array_equal(first.params[name], value)
        np.testing.assert_array_equal(last.params[name], model.state_dict()[name])
    assert last.step == rec.steps == len(rec.frames) - 1 == 10
    assert [f.step for f in rec.frames] == list(range(11))
    assert last.loss == rec.losses[-1]
    # frames hold copies: training on does not change them
    before = last.params["fc.weight"].copy()
    train(model, opt, x, y, 1)
    np.testing.assert_array_equal(last.params["fc.weight"], before)


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda p: mg.optim.SGD(p, lr=0.1),
        lambda p: mg.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01),
        lambda p: mg.optim.Adam(p, lr=0.01),
    ],
    ids=["sgd", "sgd-momentum", "adam"],
)
def test_previous_weights_plus_update_are_the_weights_float64(make_opt):
    _, opt, rec = small_run(make_opt, epochs=2)
    plain_sgd = isinstance(opt, mg.optim.SGD) and opt.momentum == 0 and opt.weight_decay == 0
    assert len(rec.frames) == 7
    for prev, frame in zip(rec.frames, rec.frames[1:]):
        assert set(frame.updates) == set(frame.params) == set(frame.grads)
        for name, w in frame.params.items():
            assert w.dtype == np.float64
            np.testing.assert_allclose(
                prev.params[name] + frame.updates[name], w, rtol=0, atol=1e-12
            )
            if plain_sgd:
                np.testing.assert_allclose(
                    frame.updates[name], -0.1 * frame.grads[name], rtol=0, atol=1e-12
                )


def test_recording_does_not_change_training_bit_for_bit():
    x, y, probes = xo_data(40)
    runs = []
    for record in (False, True):
        mg.manual_seed(5)
        model = xo_model()
        opt = mg.optim.Adam(model.parameters(), lr=0.02)
        rec = mg.graph.Recorder(model, probes=probes, optimizer=opt) if record else None
        losses = train(model, opt, x, y, 3, rec)
        runs.append((losses, model.state_dict(), [s.get("step") for s in opt.state]))
    (l0, w0, s0), (l1, w1, s1) = runs
    assert l0 == l1 and s0 == s1
    for name in w0:
        np.testing.assert_array_equal(w0[name], w1[name])


def test_probe_activations_are_every_module_output_and_leave_the_model_as_it_was():
    mg.manual_seed(1)
    model = xo_model()
    x, y, probes = xo_data(24)
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    rec = mg.graph.Recorder(model, probes=mg.tensor(probes))
    train(model, opt, x, y, 1, rec)
    acts = rec.frames[-1].activations
    assert list(acts) == ["conv1", "relu1", "pool1", "flatten", "fc"]
    assert acts["conv1"].shape == (8, 4, 9, 9) and acts["fc"].shape == (8, 2)
    assert all(m.training for m in model.modules())
    with mg.no_grad():
        expected = model(mg.tensor(probes)).data
    np.testing.assert_array_equal(acts["fc"], expected)
    np.testing.assert_array_equal(acts["relu1"], np.maximum(acts["conv1"], 0))
    assert all(p.grad is not None for p in model.parameters())  # the user's grads untouched


def test_every_records_every_kth_step_and_max_frames_thins_evenly():
    _, _, rec = small_run(lambda p: mg.optim.SGD(p, lr=0.05), epochs=4, every=3)
    assert rec.steps == 12 and [f.step for f in rec.frames] == [0, 3, 6, 9, 12]
    assert len(rec.losses) == 12
    _, _, rec = small_run(lambda p: mg.optim.SGD(p, lr=0.05), epochs=7, max_frames=6)
    steps = [f.step for f in rec.frames]
    assert rec.steps == 21 and len(steps) <= 6
    assert steps[0] == 0 and steps[-1] == 21  # frame 0 and the latest are always kept
    assert steps[1:-1] == list(range(rec.stride, steps[-2] + 1, rec.stride))  # evenly spaced
    # an update is the step's own, even when the frame before it was thinned away
    for f in rec.frames[1:]:
        for name, w in f.params.items():
            np.testing.assert_allclose(f.before[name]["weight"] + f.updates[name], w, atol=1e-12)
            np.testing.assert_allclose(f.updates[name], -0.05 * f.grads[name], atol=1e-12)


def test_finish_records_the_last_step_that_every_skipped():
    model, _, rec = small_run(lambda p: mg.optim.Adam(p, lr=0.01), epochs=3, every=4)
    assert rec.steps == 9 and [f.step for f in rec.frames] == [0, 4, 8]
    last = rec.finish()
    assert last is rec.frames[-1] and last.step == 9 and rec.finish() is None
    assert last.loss == rec.losses[-1]
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(last.params[name], p.data)
        np.testing.assert_array_equal(last.grads[name], p.grad.data)
        np.testing.assert_allclose(
            last.before[name]["weight"] + last.updates[name], p.data, atol=1e-12
        )
    assert set(last.activations) == {"conv1", "relu1", "pool1", "flatten", "fc"}
    e = rec.explain("fc.weight", (1, 3))
    assert e["values"]["new_weight"] == model.fc.weight.data[1, 3]
    # explore() finishes the run itself; weights changed since the step: no activations
    _, _, rec2 = small_run(lambda p: mg.optim.SGD(p, lr=0.05), epochs=1, every=5)
    rec2.model.fc.bias.data[...] += 1.0
    rec2.explore()
    assert rec2.frames[-1].step == 3 and rec2.frames[-1].activations == {}


def test_memory_stays_bounded_with_max_frames():
    mg.manual_seed(0)
    model = xo_model()
    x, y, probes = xo_data(24)
    opt = mg.optim.Adam(model.parameters(), lr=0.01)
    rec = mg.graph.Recorder(model, probes=probes, optimizer=opt, max_frames=4)
    sizes = []
    for _ in range(6):
        train(model, opt, x, y, 1, rec)
        sizes.append(rec.nbytes)
    assert len(rec.frames) == 4 and max(sizes) == sizes[-1] == sizes[1]
    frame_bytes = rec.frames[-1].nbytes
    params = sum(p.data.nbytes for p in model.parameters())
    acts = sum(a.nbytes for a in rec.frames[-1].activations.values())
    assert frame_bytes == 6 * params + acts  # weights, grads, updates, before, m and v
    assert "frames" in repr(rec) and f"{rec.nbytes:,} bytes" in repr(rec)


# --------------------------------------------------------------------------- explanations


@pytest.mark.parametrize(
    ("make_opt", "every"),
    [
        (lambda p: mg.optim.Adam(p, lr=0.01, weight_decay=0.01), 1),
        (lambda p: mg.optim.Adam(p, lr=0.02), 2),
        (lambda p: mg.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True), 2),
    ],
)
def test_explained_update_reproduces_every_recorded_update_exactly(make_opt, every):
    mg.manual_seed(2)
    model = xo_model().to(np.float64)
    x, y, probes = xo_data(24)
    opt = make_opt(model.parameters())
    rec = mg.graph.Recorder(model, probes=probes.astype(np.float64), optimizer=opt, every=every)
    lrs = [opt.lr, opt.lr * 0.5, opt.lr * 0.25]
    train(model, opt, x, y, 3, rec, dtype=np.float64, schedule=lambda e: lrs[e])
    assert len(rec.frames) >= 4
    for k in range(1, len(rec.frames)):
        f = rec.frames[k]
        for name, w in f.params.items():
            for flat in (0, w.size // 2, w.size - 1):
                idx = np.unravel_index(flat, w.shape)
                e = rec.explain(name, idx, frame=k)
                assert e["values"]["new_weight"] == w[idx]
                assert e["values"]["change"] == f.updates[name][idx]
                assert e["values"]["grad"] == f.grads[name][idx]
                assert e["hyperparameters"]["lr"] == f.hyperparameters["lr"]
    e = rec.explain("conv1.weight", (0, 0, 1, 1), frame=-1)
    assert e["text"].startswith("conv1.weight[0, 0, 1, 1]: ")


def test_explain_errors_are_clear():
    _, _, rec = small_run(lambda p: mg.optim.SGD(p, lr=0.05))
    with pytest.raises(ValueError, match="frame 0 is the start"):
        rec.explain("fc.weight", 0, frame=0)
    with pytest.raises(KeyError, match="no parameter 'fc.w'"):
        rec.explain("fc.w", 0)
    with pytest.raises(IndexError, match="does not name one element of 'fc.weight'"):
        rec.explain("fc.weight", (5, 0))
    mg.manual_seed(0)
    plain = mg.graph.Recorder(xo_model())
    with pytest.raises(ValueError, match="make the recorder with optimizer="):
        plain.explain("fc.weight", 0)


def test_bad_arguments_raise_clear_errors():
    model = xo_model()
    with pytest.raises(ValueError, match="every must be an int >= 1, got 0"):
        mg.graph.Recorder(model, every=0)
    with pytest.raises(ValueError, match="max_frames must be an int >= 2 or None, got 1"):
        mg.graph.Recorder(model, max_frames=1)
    with pytest.raises(TypeError, match="model must be an mg.nn.Module, got ndarray"):
        mg.graph.Recorder(np.zeros(3))
    with pytest.raises(ValueError, match=r"on the probes \(shape \(2, 9, 9\)\) failed"):
        mg.graph.Recorder(model, probes=np.zeros((2, 9, 9), np.float32))
    with pytest.raises(TypeError, match="optimizer must be an mg.optim optimizer"):
        mg.graph.Recorder(model, optimizer=object())
    rec = mg.graph.Recorder(model)
    with pytest.raises(
        ValueError, match=r"loss must be a single number, got a Tensor of shape \(2,\)"
    ):
        rec.step(mg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="unknown threshold"):
        rec.health(deadness=0.3)
    with pytest.raises(KeyError, match=r"no frame of step 7 is kept; kept steps: \[0\]"):
        rec.frame_at(7)


def test_probe_activations_of_a_model_with_its_own_forward():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.act = nn.Tanh()
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * 7 * 7, 2))

        def forward(self, x):
            return self.head(self.act(self.conv(x)))

    mg.manual_seed(0)
    model = Net()
    _, _, probes = xo_data(8)
    rec = mg.graph.Recorder(model, probes=probes)
    acts = rec.frames[0].activations
    # call order, by display name (the Sequential's "head.0", "head.1" shown by layer type)
    assert list(acts) == ["conv", "act", "head", "head.flatten1", "head.fc1"]
    np.testing.assert_allclose(acts["act"], np.tanh(acts["conv"]), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(acts["head"], acts["head.1"])  # the module path finds it too
    assert acts["head.1"] is acts["head.fc1"] and "head.0" in acts
    assert rec.frames[0].stats["act"]["saturated"] <= 1.0  # tanh units are watched


def test_explain_takes_the_display_name_or_the_state_dict_key():
    mg.manual_seed(0)
    model = mg.nn.Sequential(
        mg.nn.Conv2d(1, 2, 3), mg.nn.ReLU(), mg.nn.Flatten(), mg.nn.Linear(2 * 7 * 7, 2)
    )
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    rec = mg.graph.Recorder(model, optimizer=opt)
    x = mg.randn(3, 1, 9, 9)
    loss = mg.ops.cross_entropy(model(x), mg.tensor(np.array([0, 1, 0])))
    loss.backward()
    opt.step()
    rec.step(loss)
    by_label = rec.explain("conv1.weight", (1, 0, 2, 2))
    by_key = rec.explain("0.weight", (1, 0, 2, 2))
    assert by_label["values"]["new_weight"] == by_key["values"]["new_weight"]
    assert by_label["values"]["new_weight"] == model[0].weight.data[1, 0, 2, 2]
    assert rec.explain("fc1.bias", 1)["values"] == rec.explain("3.bias", 1)["values"]
    with pytest.raises(KeyError, match="no parameter 'conv9.weight'"):
        rec.explain("conv9.weight", 0)
