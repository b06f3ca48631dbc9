"""Graphs above max_nodes are drawn smaller (folded runs, collapsed modules), never refused
unless the user asks for strictness."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

import minigrad as mg
from minigrad.autograd import name_scope
from minigrad.graph import GraphTooLargeError

VIEWS = ({}, {"backward": True}, {"both": True}, {"show_tensors": False})


def chain(n, w=None):
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x
    for _ in range(n):
        y = y * (1.0001 if w is None else w)
    return y.sum()


def node_labels(dot):
    return re.findall(r"^\s*(\w+) \[label=<(.*)>", dot, flags=re.MULTILINE)


def graph_title(dot):
    return re.search(r"^\s*graph \[.*label=<(.*)> ", dot, flags=re.MULTILINE).group(1)


@pytest.mark.parametrize("view", VIEWS)
def test_a_3000_op_chain_draws_with_the_run_folded_into_one_node(view):
    loss = chain(3000)
    dot = mg.graph.draw(loss, **view).source
    folds = [label for _, label in node_labels(dot) if "×" in label]
    assert len(folds) == 1
    name = "mul backward × 3000" if view.get("backward") else "mul × 3000"
    assert f"<b>{name}</b>" in folds[0]
    assert len(node_labels(dot)) < 10  # x (and its .grad), the fold, sum, the loss
    title = graph_title(dot)
    assert "more than max_nodes=2000" in title and f"into one node: {name}" in title


def test_several_runs_fold_one_node_each_and_the_title_names_the_largest():
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x
    for _ in range(30):
        y = y * 1.0001
    y = mg.exp(y)  # a different op ends the first run
    for _ in range(50):
        y = y + 1.0
    dot = mg.graph.draw(y.sum(), max_nodes=60).source
    folds = sorted(re.findall(r"<b>(\w+ × \d+)</b>", dot))
    assert folds == ["add × 50", "mul × 30"]
    assert "folded 2 runs of a repeated op into one node each (largest: add × 50)" in dot


def test_strict_refuses_instead():
    loss = chain(3000)
    with pytest.raises(GraphTooLargeError, match="max_nodes=2000"):
        mg.graph.draw(loss, strict=True)
    with pytest.raises(TypeError, match="strict must be True or False"):
        mg.graph.draw(loss, strict="yes")


def test_small_graphs_are_not_folded():
    dot = mg.graph.draw(chain(30)).source
    assert "×" not in dot and "max_nodes" not in dot
    assert dot.count("<b>mul</b>") == 30


def test_a_weight_used_by_every_op_of_a_run_keeps_one_edge():
    w = mg.tensor([1.0, -1.0], requires_grad=True, name="w")
    dot = mg.graph.draw(chain(1500, w)).source
    (fold,) = [i for i, label in node_labels(dot) if "mul × 1500" in label]
    (wid,) = [i for i, label in node_labels(dot) if label.startswith("<b>w</b>")]
    assert len(re.findall(rf"^\s*{wid} -> {fold}\b", dot, flags=re.MULTILINE)) == 1


def test_distinct_layers_collapse_when_folding_is_not_enough():
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    w = mg.tensor([0.5, 0.5], requires_grad=True, name="w")
    y = x
    for i in range(700):  # mul, exp alternate: no run to fold; 700 distinct scopes
        with name_scope(f"layer{i}"):
            y = (y * w).exp() * 0.5
    dot = mg.graph.draw(y.sum()).source
    assert "modules collapsed" in graph_title(dot)
    assert len(node_labels(dot)) <= 2000
    assert dot.count("shape=box3d") == 700


def test_still_too_large_is_drawn_and_says_so():
    x = mg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(800):
        y = (y * 0.1).exp()  # alternating, unscoped: nothing folds or collapses
    dot = mg.graph.draw(y, max_nodes=100).source
    assert "still" in graph_title(dot) and "strict=True" in graph_title(dot)


@pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz 'dot' program is missing")
def test_folded_drawings_render():
    loss = chain(3000)
    sources = "\n".join(mg.graph.draw(loss, **view).source for view in VIEWS)
    done = subprocess.run(["dot", "-Tsvg"], input=sources.encode(), capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    assert "mul × 3000" in done.stdout.decode()


def test_a_merged_edge_carries_the_sum_of_the_gradients_it_stands_for():
    w = mg.tensor([1.0, -1.0], requires_grad=True, name="w")
    loss = chain(1500, w)
    dot = mg.graph.draw(loss, both=True).source
    (fold,) = [i for i, label in node_labels(dot) if "mul × 1500" in label]
    (wid,) = [i for i, label in node_labels(dot) if label.startswith("<b>w</b>")]
    (grad_edge,) = re.findall(rf"^\s*{wid} -> {fold} .*style=dashed.*$", dot, flags=re.MULTILINE)
    loss.backward()
    assert "grad [1500, -3000]" in grad_edge and w.grad.data.tolist() == [1500.0, -3000.0]
