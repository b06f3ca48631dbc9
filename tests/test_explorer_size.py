"""The explorer page of a LeNet-5 training step at batch 64 stays small (under 5 MB) and its
pictures keep exact values for the samples they show, so the window arithmetic works."""

from __future__ import annotations

import json
from collections import OrderedDict

import helpers
import numpy as np

import minigrad as mg
from minigrad import nn


def lenet() -> nn.Sequential:
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, 6, 5)),  # (N, 1, 28, 28) -> (N, 6, 24, 24)
                ("relu1", nn.ReLU()),
                ("pool1", nn.MaxPool2d(2)),  # -> (N, 6, 12, 12)
                ("conv2", nn.Conv2d(6, 16, 5)),  # -> (N, 16, 8, 8)
                ("relu2", nn.ReLU()),
                ("pool2", nn.MaxPool2d(2)),  # -> (N, 16, 4, 4)
                ("flatten", nn.Flatten()),
                ("fc1", nn.Linear(256, 120)),
                ("relu3", nn.ReLU()),
                ("fc2", nn.Linear(120, 84)),
                ("relu4", nn.ReLU()),
                ("fc3", nn.Linear(84, 10)),
            ]
        )
    )


def test_lenet_step_at_batch_64_is_under_5_mb_with_exact_activations():
    mg.manual_seed(0)
    model = lenet()
    x = mg.randn(64, 1, 28, 28, name="images")
    loss = nn.CrossEntropyLoss()(model(x), mg.tensor(np.arange(64) % 10))
    html = mg.graph.explore(loss).html
    assert len(html.encode("utf-8")) < 5_000_000
    g = json.loads(html.split('id="mg-payload">', 1)[1].split("</script>", 1)[0])["graph"]
    assert set(g["views"]) == {"forward", "backward", "modules"}
    assert len(g["steps"]) > 20
    for call in g["calls"].values():
        if call["window"]:  # conv and pool inputs: 2 whole samples, nothing else cut
            enc = g["tensors"][call["inputs"][0]["tensor"]]["value"]
            assert enc["index"][0] == [0, 1]
            assert [len(i) for i in enc["index"][1:]] == enc["shape"][1:]
            assert enc["shape"][1:] == g["tensors"][call["inputs"][0]["tensor"]]["shape"][1:]


def test_a_page_walks_the_graph_once_and_runs_the_backward_pass_once(monkeypatch):
    calls = helpers.count_walks_and_passes(monkeypatch)
    mg.manual_seed(0)
    model = lenet()
    x = mg.randn(2, 1, 28, 28, name="images")
    loss = nn.CrossEntropyLoss()(model(x), mg.tensor(np.arange(2)))
    model[0].weight.grad = mg.zeros(6, 1, 5, 5)  # a .grad to compare: the stale check runs
    page = mg.graph.explore(loss)
    assert "conv1" in page.html
    assert calls == {"walk": 1, "traverse": 1}
