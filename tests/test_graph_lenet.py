"""Drawings of a LeNet training step: readable clusters, labels, and no stale gradients.

Layout is checked on Graphviz's own output (``dot -Tjson``): cluster boxes, title nodes,
edge splines and edge label boxes, as a reader would see them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

import minigrad as mg

DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(DOT is None, reason="the Graphviz 'dot' program is not installed")


def lenet_step():
    """The README's layers block, batch 2: one optimizer step, then the next step's loss."""
    nn = mg.nn
    mg.manual_seed(0)
    x, y = mg.data.xo_images(n_per_class=1, seed=0)  # (2, 1, 9, 9)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 2 * 2, 32), nn.ReLU(), nn.Linear(32, 2),
    )  # fmt: skip
    opt = mg.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    loss = loss_fn(model(mg.tensor(x)), mg.tensor(y))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return model, loss_fn(model(mg.tensor(x)), mg.tensor(y))


def layout(source: str) -> dict:
    done = subprocess.run([DOT, "-Tjson"], input=source.encode(), capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def _box(obj: dict) -> tuple[float, float, float, float]:
    x, y = map(float, obj["pos"].split(","))
    w, h = float(obj["width"]) * 36, float(obj["height"]) * 36  # inches -> half points
    return x - w, y - h, x + w, y + h


def _label_box(edge: dict) -> tuple[float, float, float, float] | None:
    xs, ys = [], []
    for op in edge.get("_ldraw_", []):
        if op["op"] == "T":
            (px, py), w = op["pt"], op["width"]
            x0 = {"c": px - w / 2, "l": px, "r": px - w}[op["align"]]
            xs += [x0, x0 + w]
            ys += [py - 2, py + 8]
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def _overlap(a, b) -> bool:
    return not (a[2] <= b[0] or a[0] >= b[2] or a[3] <= b[1] or a[1] >= b[3])


def _inside(a, b) -> bool:
    return a[0] >= b[0] and a[2] <= b[2] and a[1] >= b[1] and a[3] <= b[3]


def layout_problems(source: str) -> list[str]:
    """Edge labels straddling a cluster border; edges drawn through a cluster title."""
    j = layout(source)
    objects = j.get("objects", [])
    clusters = {
        o["name"]: tuple(map(float, o["bb"].split(",")))
        for o in objects
        if o.get("name", "").startswith("cluster")
    }
    titles = [_box(o) for o in objects if o.get("name", "").startswith("title_")]
    problems = []
    for e in j.get("edges", []):
        lb = _label_box(e)
        for name, bb in clusters.items():
            if lb is not None and _overlap(lb, bb) and not _inside(lb, bb):
                problems.append(f"label {e.get('label', '')[:40]!r} crosses {name}'s border")
        points = [p for op in e.get("_draw_", []) if op["op"] == "b" for p in op["points"]]
        for tb in titles:
            shrunk = (tb[0] + 2, tb[1] + 2, tb[2] - 2, tb[3] - 2)
            if any(_inside((x, y, x, y), shrunk) for x, y in points):
                problems.append(f"an edge runs through a cluster title at {tb}")
    return problems


@pytest.fixture(scope="module")
def step():
    return lenet_step()


def test_every_cluster_has_a_title_node_and_no_cluster_label(step):
    _, loss = step
    for view in ({}, {"backward": True}, {"both": True}):
        dot = mg.graph.draw(loss, **view).source
        n_clusters = dot.count("subgraph cluster_")
        assert n_clusters == 10  # one per layer
        titles = [line for line in dot.splitlines() if line.strip().startswith("title_")]
        assert len(titles) == n_clusters and all("shape=plain" in t for t in titles)
        assert dot.count("{rank=same; title_") == n_clusters
        cluster_headers = [line for line in dot.splitlines() if "labeljust" in line]
        assert cluster_headers == []  # titles are nodes, which edges are routed around
        # an empty label of its own, or a box would repeat the drawing's title (inherited)
        boxes = re.findall(r"subgraph \"?cluster_\w+\"? \{\n\t\tgraph \[([^\]]*)\]", dot)
        assert len(boxes) == n_clusters and all('label=""' in b for b in boxes)
    layer_titles = {t.split("<b>")[1].split("</b>")[0] for t in titles}
    scopes = {d["scope"] for _, d in mg.graph.to_networkx(loss).nodes(data=True)} - {None}
    assert layer_titles == scopes


@needs_dot
@pytest.mark.parametrize(
    "view", [{}, {"backward": True}, {"both": True}, {"both": True, "collapse": True}]
)
def test_no_edge_through_a_title_and_no_label_across_a_cluster_border(step, view):
    _, loss = step
    assert layout_problems(mg.graph.draw(loss, **view).source) == []


def test_argument_names_and_gradient_values_are_separate_labels(step):
    _, loss = step
    lines = [line for line in mg.graph.draw(loss, both=True).source.splitlines() if " -> " in line]
    dashed = [line for line in lines if "style=dashed" in line and "label=" in line]
    solid = [line for line in lines if "style=dashed" not in line and "label=" in line]
    assert dashed and solid
    assert all("label=<grad " in line for line in dashed)  # values say what they are
    assert not any("grad" in line or "norm" in line for line in solid)  # names only


def test_forward_drawing_marks_the_previous_steps_grads_as_stale(step):
    model, loss = step
    params = list(model.parameters())
    assert all(p.grad is not None for p in params)  # left over from the optimizer step
    dot = mg.graph.draw(loss).source
    assert dot.count("stale grad (earlier backward)") == len(params) == 8
    G = mg.graph.to_networkx(loss)
    stale = [d["name"] for _, d in G.nodes(data=True) if d.get("grad_stale")]
    # nodes are named by the display names summary() shows ("conv1.weight", not "0.weight")
    shown = mg.nn.module.display_names(model)
    assert sorted(stale) == sorted(shown[n] for n, _ in model.named_parameters())
    assert "conv1.weight" in stale and "0.weight" not in stale


def test_grads_of_the_drawn_step_are_not_stale():
    model, loss = lenet_step()
    for p in model.parameters():
        p.grad = None
    loss.backward(retain_graph=True)
    dot = mg.graph.draw(loss).source
    assert "stale" not in dot and dot.count("grad norm") >= 4
    loss.backward(retain_graph=True)  # summed over two passes: not this graph's gradient
    assert mg.graph.draw(loss).source.count("stale grad") == 8
    model, loss = lenet_step()
    for p in model.parameters():
        p.grad = None
    loss.backward()  # frees the graph: its grads are this pass's
    assert "stale" not in mg.graph.draw(loss).source


def _drawn_texts(laid_out: dict) -> list[str]:
    """Every text Graphviz draws for the graph and its clusters (their labels)."""
    objects = [laid_out, *laid_out.get("objects", [])]
    return [op["text"] for o in objects for op in o.get("_ldraw_", []) if op["op"] == "T"]


@needs_dot
@pytest.mark.parametrize("view", [{}, {"backward": True}, {"collapse": True, "both": True}])
def test_the_title_is_drawn_once_not_in_every_cluster(step, view):
    # Graphviz gives every cluster the root graph's label unless it has its own
    _, loss = step
    nested = mg.nn.Sequential(
        mg.nn.Sequential(mg.nn.Linear(3, 2), mg.nn.ReLU()), mg.nn.Linear(2, 1)
    )
    for root in (loss, nested(mg.randn(2, 3)).sum()):
        source = mg.graph.draw(root, title="LeNet step 1", **view).source
        texts = _drawn_texts(layout(source))
        assert texts.count("LeNet step 1") == 1, texts
        # each box still shows its own name once, from its title node
        names = re.findall(r"title_\d+ \[label=<<b>([^<]*)</b>>", source)
        assert len(names) == len(re.findall(r"subgraph \"?cluster_", source))
        assert names or view.get("collapse")  # collapsed layers are nodes, not boxes
        assert all(texts.count(name) >= 1 for name in names), (names, texts)
