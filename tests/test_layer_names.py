"""One name per layer: summary(), drawings, the explorer, the Recorder, its health flags, the
timeline page and rec.explain all say conv1, relu1, pool1, fc1 and conv1.weight; the
state_dict keys ("0.weight") stay PyTorch's and still find the same arrays."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from browser import open_page, screenshot
from test_timeline_page import unpack

import minigrad as mg

LAYERS = ["conv1", "relu1", "pool1", "flatten1", "fc1"]
PARAMS = ["conv1.weight", "conv1.bias", "fc1.weight", "fc1.bias"]
KEYS = ["0.weight", "0.bias", "4.weight", "4.bias"]


def cnn() -> mg.nn.Sequential:
    return mg.nn.Sequential(
        mg.nn.Conv2d(1, 2, 3),
        mg.nn.ReLU(),
        mg.nn.MaxPool2d(2),
        mg.nn.Flatten(),
        mg.nn.Linear(18, 2),
    )


@pytest.fixture(scope="module")
def run():
    mg.manual_seed(0)
    model = cnn()
    model[0].bias.data[...] = -50.0  # every conv output is negative: relu1 is dead, a flag
    x = mg.tensor(np.random.default_rng(0).random((4, 1, 8, 8)).astype(np.float32))
    y = mg.tensor(np.array([0, 1, 0, 1]))
    opt = mg.optim.Adam(model.parameters(), lr=0.01)
    rec = mg.graph.Recorder(model, probes=x, optimizer=opt)
    for _ in range(2):
        loss = mg.ops.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.step(loss)
    return model, mg.ops.cross_entropy(model(x), y), rec


def test_summary_drawing_networkx_and_explorer_use_the_display_names(run):
    model, loss, _ = run
    assert [r.label for r in model.summary((1, 1, 8, 8)).rows] == LAYERS
    assert [p.name for p in model.parameters()] == PARAMS
    assert list(model.state_dict()) == KEYS  # the saved-file format is PyTorch's

    dot = mg.graph.draw(loss).source
    clusters = re.findall(r'subgraph "?cluster_(\w+)"? \{', dot)
    assert {"conv1", "relu1", "pool1", "fc1"} <= set(clusters)
    for name in PARAMS:
        assert f"<b>{name}</b>" in dot  # the weights inside the conv1 cluster are conv1.*
    assert not any(key in dot for key in KEYS)

    G = mg.graph.to_networkx(loss)
    params = {d["name"]: d["scope"] for _, d in G.nodes(data=True) if d["role"] == "parameter"}
    assert params == {"conv1.weight": "conv1", "conv1.bias": "conv1", "fc1.weight": "fc1",
                      "fc1.bias": "fc1"}  # fmt: skip

    html = mg.graph.explore(loss).html
    graph = json.loads(html.split('id="mg-payload">', 1)[1].split("</script>", 1)[0])["graph"]
    named = {t["name"] for t in graph["tensors"].values() if t["role"] == "parameter"}
    assert named == set(PARAMS)
    layers = [layer["name"] for layer in graph["network"]["layers"]]
    assert [n for n in layers if n in LAYERS] == [n for n in LAYERS if n in layers]
    assert {"conv1", "relu1", "pool1", "fc1"} <= set(layers)


def test_recorder_frames_flags_timeline_and_explain_use_the_display_names(run):
    model, _, rec = run
    last = rec.frames[-1]
    for part in (last.params, last.grads, last.updates, last.before):
        assert list(part) == PARAMS
    assert list(last.activations) == LAYERS
    assert set(last.stats) == set(LAYERS)
    assert rec.layers == dict(zip(PARAMS, ["conv1", "conv1", "fc1", "fc1"]))

    dead = [f for f in rec.health() if f.kind == "dead_relu"]
    assert [f.layer for f in dead] == ["relu1"]
    assert dead[0].message.startswith("relu1 (after conv1): 100% of ReLU units output 0")
    for f in rec.health():  # no layer is called by its key ("1", "8 (after 7)") anywhere
        if f.layer != "loss":
            where = f.message.split(": ", 1)[0]
            assert re.fullmatch(r"[a-z]+\d+( \(after [a-z]+\d+\))?", where), f.message

    t = unpack(mg.graph.recorder_page.timeline_payload(rec))  # frames are packed
    assert [p["name"] for p in t["params"]] == PARAMS
    assert [p["layer"] for p in t["params"]] == ["conv1", "conv1", "fc1", "fc1"]
    assert [a["name"] for a in t["activations"]] == ["conv1", "relu1", "pool1", "fc1"]
    assert set(t["health"]["layers"]) == {"conv1", "relu1", "fc1"}  # the layers with numbers
    assert [f["layer"] for f in t["health"]["flags"]] == [f.layer for f in rec.health()]
    frame = t["frames"][-1]
    assert list(frame["params"]) == PARAMS and list(frame["acts"]) == ["conv1", "relu1", "pool1",
                                                                        "fc1"]  # fmt: skip
    assert set(frame["explain"]) == set(PARAMS)

    e = rec.explain("conv1.weight", (1, 0, 2, 2))
    assert e["parameter"] == "conv1.weight" and e["text"].startswith("conv1.weight[1, 0, 2, 2]: ")
    assert e["values"]["new_weight"] == model[0].weight.data[1, 0, 2, 2]


def test_lookups_take_the_state_dict_key_or_module_path_too(run):
    model, _, rec = run
    last = rec.frames[-1]
    for key, name in zip(KEYS, PARAMS):
        assert key in last.params and last.params[key] is last.params[name]
        assert last.grads.get(key) is last.grads[name] and last.updates[key] is last.updates[name]
        assert last.before[key] is last.before[name]
        assert rec.display_name(key) == name
    np.testing.assert_array_equal(last.params["0.weight"], model[0].weight.data)
    for path, name in zip("01234", LAYERS):
        assert last.activations[path] is last.activations[name] and last.stats[path] is not None
    layers = rec.series()["layers"]
    assert layers["1"] is layers["relu1"] and layers["0"] is layers["conv1"]
    by_key, by_name = rec.explain("4.weight", (1, 3)), rec.explain("fc1.weight", (1, 3))
    assert by_key["values"] == by_name["values"] and by_key["lines"] == by_name["lines"]
    assert last.grads.get("9.weight") is None and "9.weight" not in last.grads
    with pytest.raises(KeyError, match="9.weight"):
        last.params["9.weight"]
    with pytest.raises(KeyError, match="no parameter 'conv9.weight'"):
        rec.explain("conv9.weight", 0)
    # a model loads what the recorded one saved: state_dict keys did not change
    fresh = cnn()
    fresh.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(fresh[4].bias.data, model[4].bias.data)


def test_timeline_page_labels_maps_by_display_name(run, tmp_path):
    _, _, rec = run
    path = rec.explore().save(tmp_path / "names.html")
    for width, height in ((1400, 900), (390, 844)):
        with open_page(path, width=width, height=height) as (page, errors, requests):
            page.wait_for_selector("body[data-ready='1']")
            caps = page.eval_on_selector_all(
                ".mg-tl-act .mg-cap", "els => els.map(e => e.textContent)"
            )
            assert caps[0] == "probe 0" and caps[1:] == [
                "conv1 (Conv2d)",
                "relu1 (ReLU)",
                "pool1 (MaxPool2d)",
                "fc1 (Linear)",
            ]
            flags = page.inner_text("body")
            assert "relu1 (after conv1): 100% of ReLU units output 0" in flags
            page.locator(".mg-tl-act").first.scroll_into_view_if_needed()
            screenshot(page, f"layer-names-timeline-{width}")
        assert errors == [] and requests == []


def test_nested_shared_and_standalone_layers():
    class Net(mg.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = mg.nn.Sequential(mg.nn.Conv2d(1, 2, 3), mg.nn.ReLU())
            self.head = mg.nn.Linear(2 * 6 * 6, 2)

        def forward(self, x):
            return self.head(self.features(x).flatten(1))

    net = Net()
    assert net.features[0].weight.name == "features.conv1.weight"
    assert "features.0.weight" in net.state_dict()
    rec = mg.graph.Recorder(net, probes=np.zeros((1, 1, 8, 8), np.float32))
    acts = rec.frames[0].activations
    assert list(acts) == ["features", "features.conv1", "features.relu1", "head"]
    assert acts["features.1"] is acts["features.relu1"]
    assert rec.frames[0].params["features.0.bias"] is rec.frames[0].params["features.conv1.bias"]

    # a layer used on its own keeps the name it has in its model
    conv = net.features[0]
    dot = mg.graph.draw(conv(mg.zeros(1, 1, 8, 8)).sum()).source
    assert "<b>features.conv1.weight</b>" in dot and "0.weight" not in dot

    # a parameter registered in two places takes the latest name; one you chose is kept
    w = mg.nn.Parameter(mg.zeros(2))
    a, b = mg.nn.Module(), mg.nn.Module()
    a.scale = w
    b.gain = w
    assert w.name == "gain"
    mine = mg.nn.Parameter(mg.zeros(1), name="my_scale")
    net.extra = mine
    assert mine.name == "my_scale"
