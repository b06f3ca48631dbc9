"""Graphs of CNN plugin ops and mg.nn models: attributes, plugin names, layer clusters."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import require_ops

import minigrad as mg


def test_nn_layers_become_clusters_and_collapse_to_one_node_each():
    require_ops("relu")
    mg.manual_seed(0)
    model = mg.nn.Sequential(mg.nn.Linear(4, 3), mg.nn.ReLU(), mg.nn.Linear(3, 1))
    loss = model(mg.randn(2, 4, name="x")).sum()
    G = mg.graph.to_networkx(loss, collapse=True)
    # one module per layer, in order (the names are the layers' scopes: "0".. or "fc1"..)
    scopes = [d["scope"] for _, d in G.nodes(data=True) if d["kind"] == "module"]
    assert len(scopes) == 3 and len(set(scopes)) == 3
    dot = mg.graph.draw(loss).source
    assert re.findall(r'subgraph "?cluster_(\w+)"? \{', dot) == scopes
    assert "<b>fc1.weight</b>" in dot and "plugin minigrad-cnn" in dot  # relu is a plugin op
    collapsed = mg.graph.draw(loss, collapse=True).source
    assert "<b>relu</b>" not in collapsed and "fc1.weight (3, 4)" in collapsed


def test_conv_and_pool_nodes_show_attributes_and_plugin():
    require_ops("conv2d", "max_pool2d", "relu")
    mg.manual_seed(0)
    x = mg.randn(1, 1, 6, 6, name="image")
    w = mg.randn(2, 1, 3, 3, requires_grad=True, name="conv_w")
    b = mg.zeros(2, requires_grad=True, name="conv_b")
    h = mg.ops.max_pool2d(mg.ops.relu(mg.ops.conv2d(x, w, b, stride=2, padding=1)), kernel_size=2)
    loss = h.sum()
    G = mg.graph.to_networkx(loss)
    (conv,) = [d for _, d in G.nodes(data=True) if d["op"] == "conv2d" and d["kind"] == "op"]
    assert conv["attrs"]["stride"] in (2, (2, 2)) and conv["plugin"].startswith("minigrad-cnn")
    assert conv["shape"] == (1, 2, 3, 3)
    dot = mg.graph.draw(loss).source
    line = next(v for v in dot.splitlines() if "<b>conv2d</b>" in v).split("tooltip=")[0]
    assert re.search(r"stride=\(?2", line) and re.search(r"padding=\(?1", line)
    assert "dilation" not in line  # default
    args = {m.group(1) for m in re.finditer(r"label=<(\w+)>", dot)}
    assert {"x", "weight", "bias"} <= args
    B = mg.graph.to_networkx(loss, backward=True)
    steps = [d["op"] for _, d in B.nodes(data=True) if d["kind"] == "backward"]
    assert steps == ["sum", "max_pool2d", "relu", "conv2d"]
    loss.backward()
    (wg,) = [d for _, d in B.nodes(data=True) if d["name"] == "conv_w.grad"]
    assert wg["grad_norm"] == pytest.approx(np.linalg.norm(w.grad.data), rel=1e-5)
    assert "<b>conv2d backward</b>" in mg.graph.draw(loss, backward=True).source
