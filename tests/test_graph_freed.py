"""Drawings made after backward() say which values it freed, instead of placeholder numbers."""

from __future__ import annotations

import re

import numpy as np

import minigrad as mg


def net():
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    kept = (x * 3.0).exp()  # the caller keeps this one
    kept.name = "kept"
    loss = (kept * x + 1.0).sum()
    loss.name = "loss"
    return x, kept, loss


def label_of(dot, bold):
    (line,) = [line for line in dot.splitlines() if f"<b>{bold}</b>" in line]
    return line


def freed_nodes(G):
    return [d for _, d in G.nodes(data=True) if d.get("values_freed")]


def test_after_backward_freed_intermediates_say_so_and_show_no_numbers():
    _x, kept, loss = net()
    loss.backward()
    G = mg.graph.to_networkx(loss)
    freed = freed_nodes(G)
    assert len(freed) == 3  # x * 3, kept * x and its + 1: only the graph held them
    assert all("value" not in d and "min" not in d for d in freed)
    dot = mg.graph.draw(loss).source
    unnamed = [line for line in dot.splitlines() if "<b>" not in line and "[label=<" in line]
    freed_labels = [line for line in unnamed if "values freed by backward()" in line]
    assert len(freed_labels) == 3
    assert not any(re.search(r"Courier\">\[", line) for line in freed_labels)  # no numbers
    # what the user holds, the leaves and the loss keep their values
    assert "[1, 2]" in label_of(dot, "x")
    assert "values freed" not in label_of(dot, "kept")
    (kept_facts,) = [d for _, d in G.nodes(data=True) if d["name"] == "kept"]
    np.testing.assert_allclose(kept_facts["value"], kept.data)
    assert "values freed" not in label_of(dot, "loss")


def test_retain_graph_keeps_every_value_drawable():
    _, _, loss = net()
    loss.backward(retain_graph=True)
    G = mg.graph.to_networkx(loss)
    assert freed_nodes(G) == []
    assert "values freed" not in mg.graph.draw(loss).source
    values = [d["value"] for _, d in G.nodes(data=True) if d["role"] == "intermediate"]
    assert len(values) == 4 and all(v is not None for v in values)


def test_every_view_of_a_freed_graph_still_draws():
    _, _, loss = net()
    loss.backward()
    for view in ({}, {"backward": True}, {"both": True}, {"collapse": True}):
        assert mg.graph.draw(loss, **view).source.startswith("digraph")
