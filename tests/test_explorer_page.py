"""The explorer page in a real headless Chromium: offline, the engine's numbers, every view.

Screenshots go to out/test-artifacts/explorer-*.png.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from browser import open_page, screenshot
from test_explain import seed_example

import minigrad as mg
from minigrad.autograd import BackwardObserver, traverse


@pytest.fixture(autouse=True)
def no_dot(monkeypatch, tmp_path_factory):
    """Every page here is built with an empty PATH: no Graphviz program can be found."""
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty-path")))
    assert shutil.which("dot") is None


def payload(html: str) -> dict:
    text = html.split('id="mg-payload">', 1)[1].split("</script>", 1)[0]
    return json.loads(text)["graph"]


def small_cnn(batch: int = 2) -> mg.Tensor:
    mg.manual_seed(0)
    x = mg.randn(batch, 1, 6, 6, name="x")
    w = mg.randn(2, 1, 3, 3, requires_grad=True, name="w")
    b = mg.zeros(2, requires_grad=True, name="b")
    with mg.name_scope("conv1"):
        y = mg.ops.relu(mg.ops.conv2d(x, w, b, padding=1))
    p = mg.ops.max_pool2d(y, 2)
    return (p * p).sum() + (w * w).sum()  # w is used twice: its gradient is a sum


class _Order(BackwardObserver):
    def __init__(self) -> None:
        self.seqs: list[int] = []

    def step(self, index, node, grad, input_grads):
        self.seqs.append(node.seq)


def engine_order(loss: mg.Tensor) -> list[int]:
    """The engine's backward order, each node given by its rank in recording order."""
    obs = _Order()
    traverse([loss], [None], retain_graph=True, accumulate=False, hooks=False, observer=obs)
    rank = {s: i for i, s in enumerate(sorted(obs.seqs))}
    return [rank[s] for s in obs.seqs]


def node_id(page, view: str, label: str) -> str:
    return page.evaluate(
        "([v, l]) => Object.keys(MG.payload.graph.views[v].nodes)"
        ".filter(k => MG.payload.graph.views[v].nodes[k].label === l)[0]",
        [view, label],
    )


def click_node(page, selector: str) -> None:
    """Click a graph node as a user does: open its view's tab (the page opens on the network
    view), bring the node into view (Tab focus does), then click."""
    view = page.evaluate(
        "s => { const v = document.querySelector(s)?.closest('.mg-view'); "
        "return v && v.classList.contains('mg-hidden') ? v.id.slice(8) : null; }",
        selector,
    )
    if view is None and page.evaluate("MG.state.view") == "network":
        view = "forward"  # a graph view that was never opened has no nodes yet
    if view:
        page.click(f"#mg-tab-{view}")
    page.focus(selector)
    page.click(selector)


def test_page_is_offline_and_error_free(tmp_path):
    loss = small_cnn()
    path = mg.graph.explore(loss).save(tmp_path / "page.html")
    with open_page(path) as (page, errors, requests):
        for tab in ("forward", "backward", "both"):
            page.click(f"#mg-tab-{tab}")
            screenshot(page, f"explorer-view-{tab}")
        page.keyboard.press("1")
        click_node(page, f'g.node[data-id="{node_id(page, "forward", "conv2d")}"]')
        page.keyboard.press("/")
        page.keyboard.type("relu")
        assert page.locator("#mg-view-forward g.node.mg-match").count() == 1  # the relu op
    assert errors == []
    assert requests == []


def test_clicking_a_tensor_shows_the_engines_values(tmp_path):
    loss = small_cnn()
    w = loss._node.inputs[1]._node.inputs[0]._node.inputs[0]  # w in (w * w).sum()
    assert w.name == "w"
    path = mg.graph.explore(loss).save(tmp_path / "page.html")
    with open_page(path) as (page, errors, _):
        click_node(page, f'g.node[data-id="{node_id(page, "forward", "w")}"]')
        text = page.inner_text("#mg-panel")
        a = w.data.astype(np.float64)  # statistics are taken in float64
        for v in (a.min(), a.max(), a.mean(), a.std()):
            assert page.evaluate("v => MG.fmt(v)", float(v)) in text
        # the gradient shown is the engine's: 2 w from the penalty plus the conv's share
        g = mg.grad(loss, [w], retain_graph=True)[0].data
        assert page.evaluate("v => MG.fmt(v)", float(g.max())) in text
        assert page.locator("#mg-panel canvas.mg-heat").count() >= 2  # value and gradient
        screenshot(page, "explorer-details-tensor")
    assert errors == []


def test_seed_example_window_explainer_shows_3_3(tmp_path):
    _, _, y = seed_example()
    loss = (y * y).sum()
    path = mg.graph.explore(loss).save(tmp_path / "seed.html")
    with open_page(path) as (page, errors, requests):
        click_node(page, f'g.node[data-id="{node_id(page, "forward", "conv2d")}"]')
        out = page.locator("#mg-panel .mg-tensor").first.locator("canvas.mg-heat").first
        out.click(position={"x": 2, "y": 2})  # output cell (0, 0)
        arith = page.inner_text("#mg-explain .mg-arith")
        assert arith.startswith("0.8*1 + 0.5*0 + 0.1*(-1)")
        assert arith.endswith("= 3.3")
        assert "3.3" in page.inner_text("#mg-explain .mg-engine")
        assert page.locator("#mg-explain td.mg-c0").count() == 9
        screenshot(page, "explorer-window-explainer")
    assert errors == [] and requests == []


def test_stepping_visits_every_backward_node_once_in_engine_order(tmp_path):
    loss = small_cnn()
    expected = engine_order(loss)
    path = mg.graph.explore(loss).save(tmp_path / "page.html")
    with open_page(path) as (page, errors, _):
        page.click("#mg-tab-backward")
        n = page.evaluate("MG.payload.graph.steps.length")
        seen = []
        for _ in range(n):
            page.keyboard.press("ArrowRight")
            cur = page.evaluate(
                "() => { var e = document.querySelector('#mg-view-backward g.node.mg-current');"
                " return e && e.getAttribute('data-id'); }"
            )
            seen.append(cur)
            if len(seen) == n // 2:
                assert page.inner_text("#mg-panel h2") == f"backward step {n // 2} of {n}"
                screenshot(page, "explorer-stepper")
        bw = page.evaluate(
            "() => { var v = MG.payload.graph.views.backward.nodes; return Object.keys(v)"
            ".filter(k => v[k].kind === 'backward').map(k => [k, MG.payload.graph.calls[v[k].call].order]); }"
        )
        seq_of = dict(bw)
        visited = [seq_of[s] for s in seen if s in seq_of]
        assert visited == expected  # the engine's order, each backward node once
        assert sorted(visited) == sorted(seq_of.values())
        assert page.locator("#mg-view-backward g.node.mg-done").count() >= len(expected) - 1
    assert errors == []


def test_nan_values_and_first_bad_op(tmp_path):
    x = mg.tensor([[-1.0, 2.0], [3.0, 0.0]], requires_grad=True, name="x")  # log: NaN, -inf
    loss = mg.log(x).sum()
    ex = mg.graph.explore(loss)
    g = payload(ex.html)
    assert g["health"]["forward_nan"]["op"] == "log"
    assert g["health"]["backward_nan"]["op"] == "log"  # dy / x with x = 0
    assert g["values"] == "computed" and g["steps"]  # NaN/Inf do not stop the replay
    path = ex.save(tmp_path / "nan.html")
    with open_page(path) as (page, errors, _):
        assert page.locator("#mg-view-forward g.node.mg-bad").count() == 1
        click_node(page, f'g.node[data-id="{node_id(page, "forward", "log")}"]')
        text = page.inner_text("#mg-panel")
        assert "1 NaN · 1 inf" in text
        page.click("#mg-tab-backward")
        page.keyboard.press("End")
        assert "NaN" in page.inner_text("#mg-view-backward .mg-health")
        screenshot(page, "explorer-nan")
    assert errors == []


def test_after_backward_the_page_says_values_were_freed(tmp_path):
    loss = small_cnn()
    loss.backward()
    ex = mg.graph.explore(loss)
    g = payload(ex.html)
    assert g["values"] == "freed" and g["steps"] == []
    with open_page(ex.save(tmp_path / "freed.html")) as (page, errors, _):
        page.click("#mg-tab-backward")
        assert "freed" in page.inner_text("#mg-view-backward .mg-note")
    assert errors == []


def test_same_computation_same_bytes_and_repr():
    a = mg.graph.explore(small_cnn()).html
    b = mg.graph.explore(small_cnn()).html
    assert a == b
    ex = mg.graph.explore(small_cnn())
    frame = ex._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "&lt;!DOCTYPE html&gt;" in frame
    with pytest.raises(TypeError, match="unknown option"):
        mg.graph.explore(small_cnn(), colour="red")


def test_cli_explore_writes_the_page(tmp_path):
    from minigrad.cli import main

    script = tmp_path / "step.py"
    script.write_text(
        "import minigrad as mg\n"
        "x = mg.randn(1, 1, 5, 5)\n"
        "w = mg.randn(2, 1, 3, 3, requires_grad=True, name='w')\n"
        "loss = mg.ops.max_pool2d(mg.ops.conv2d(x, w), 2).sum()\n"
    )
    out = tmp_path / "page.html"
    assert main(["explore", str(script), "--out", str(out)]) == 0
    assert "conv2d" in out.read_text() and "MG.boot" in out.read_text()
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    assert main(["explore", str(empty), "--out", str(out)]) == 2


def test_gradient_cells_show_the_terms_that_sum_to_the_engines_gradient(tmp_path):
    _, w, y = seed_example()
    pooled = mg.ops.max_pool2d(y, 2)
    loss = (pooled * pooled).sum() + (w * w).sum()
    path = mg.graph.explore(loss).save(tmp_path / "grad.html")
    gw, gy = (g.data for g in mg.grad(loss, [w, y], retain_graph=True))
    with open_page(path) as (page, errors, _):
        page.click("#mg-tab-backward")
        click_node(page, f'g.node[data-id="{node_id(page, "backward", "conv2d backward")}"]')
        weight = page.locator("#mg-panel .mg-tensor").nth(2)  # output, input, weight
        assert "filter" in weight.inner_text()
        weight.locator(".mg-col").nth(1).locator("canvas").first.click(position={"x": 3, "y": 3})
        text = page.inner_text("#mg-explain")
        # conv2d's share of w's gradient (the penalty 2w comes on top, through another edge)
        share = gw[0, 0, 0, 0] - 2 * w.data[0, 0, 0, 0]
        assert page.evaluate("v => MG.fmt(v, 6)", float(share)) in text
        screenshot(page, "explorer-gradient-cell")
        click_node(page, f'g.node[data-id="{node_id(page, "backward", "max_pool2d backward")}"]')
        grads = page.locator("#mg-panel .mg-tensor").nth(1).locator(".mg-col").nth(1)
        grads.locator("canvas").first.click(position={"x": 3, "y": 3})  # input cell (0, 0)
        text = page.inner_text("#mg-explain")
        assert y.data[0, 0, 0, 0] == y.data[0, 0, :2, :2].max()  # 3.3 wins its window
        assert "(from output [0, 0], where it won)" in text
        assert page.evaluate("v => MG.fmt(v, 6)", float(gy[0, 0, 0, 0])) in text
        # the contributions of w (used by conv2d and twice by w * w) sum to its gradient
        click_node(page, f'g.node[data-id="{node_id(page, "backward", "filter.grad")}"]')
        assert "Used 3 times" in page.inner_text("#mg-panel")
        page.locator("#mg-panel .mg-col").nth(1).locator("canvas").first.click(
            position={"x": 3, "y": 3}
        )
        text = page.inner_text("#mg-explain")
        assert (
            text.count("(") >= 3
            and page.evaluate("v => MG.fmt(v, 6)", float(gw[0, 0, 0, 0])) in text
        )
    assert errors == []


def test_clusters_fold_modules_view_and_keyboard(tmp_path):
    model = mg.nn.Sequential(mg.nn.Conv2d(1, 2, 3), mg.nn.ReLU(), mg.nn.Flatten())
    loss = model(mg.randn(2, 1, 5, 5)).sum()
    path = mg.graph.explore(loss).save(tmp_path / "modules.html")
    with open_page(path) as (page, errors, _):
        names = page.evaluate("MG.viewNames")
        # the network view first; of the graphs, a small one shows the full view first
        assert names[:3] == ["network", "forward", "modules"]
        page.click("#mg-tab-forward")
        label = page.locator("#mg-view-forward text.mg-cluster-label").first
        label.click()
        assert page.locator("#mg-view-forward g.node.mg-folded").count() >= 2
        assert page.locator("#mg-view-forward g.cluster.mg-collapsed").count() == 1
        screenshot(page, "explorer-folded-cluster")
        label.click()
        assert page.locator("#mg-view-forward g.node.mg-folded").count() == 0
        page.keyboard.press("3")
        assert page.evaluate("MG.state.view") == "modules"
        page.locator("#mg-view-modules g.node").first.focus()
        page.keyboard.press("Enter")
        assert page.locator("#mg-panel h2").count() == 1
        page.keyboard.press("2")
        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.className") == "mg-search"
    assert errors == []


def test_health_flags_vanishing_gradients_and_dead_relus(tmp_path):
    x = mg.tensor(np.full((4, 3), -1.0), name="x")
    w = mg.tensor(np.eye(3) * 1e-6, requires_grad=True, name="w")
    h = mg.ops.relu(x @ w)  # every unit negative: all dead
    loss = (h.sum() + (w * 1e-9).sum()) * 1.0
    g = payload(mg.graph.explore(loss).html)
    (relu,) = g["health"]["relu"].values()
    assert relu["dead"] == 1.0
    kinds = {f["kind"] for f in g["health"]["edges"]}
    assert "vanishing" in kinds
    with open_page(mg.graph.explore(loss).save(tmp_path / "health.html")) as (page, errors, _):
        page.click("#mg-tab-forward")
        assert "100% dead" in page.inner_text("#mg-view-forward .mg-health")
        assert page.locator("#mg-view-forward text.mg-badge").count() == 1
        page.click("#mg-tab-backward")
        assert page.locator("#mg-view-backward g.edge.mg-flag").count() >= 1
        screenshot(page, "explorer-health")
    assert errors == []


def test_cli_explore_an_onnx_model(tmp_path):
    pytest.importorskip("onnx")
    from minigrad.cli import main

    model = mg.nn.Sequential(mg.nn.Conv2d(1, 2, 3), mg.nn.ReLU(), mg.nn.Flatten())
    path = tmp_path / "model.onnx"
    mg.onnx.export(model, mg.randn(1, 1, 5, 5), str(path))
    out = tmp_path / "onnx.html"
    assert main(["explore", str(path), "--out", str(out)]) == 0
    g = payload(out.read_text())
    assert {c["op"] for c in g["calls"].values()} >= {"conv2d", "relu"}
    assert g["values"] == "computed" and g["steps"]


def test_graph_and_timeline_share_one_page(tmp_path):
    """The page builder takes both parts: graph tabs and the training timeline together."""
    from minigrad.graph.explorer.page import render_page
    from minigrad.graph.explorer.payload import graph_payload

    recorder_page = pytest.importorskip("minigrad.graph.recorder_page")
    mg.manual_seed(0)
    model = mg.nn.Sequential(mg.nn.Conv2d(1, 2, 3), mg.nn.ReLU(), mg.nn.Flatten())
    xb = mg.randn(4, 1, 5, 5)
    rec = mg.graph.Recorder(model, probes=xb)
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        loss = (model(xb) ** 2).mean()
        loss.backward()
        opt.step()
        rec.step(loss)
    last = (model(xb) ** 2).mean()
    page_payload = {"graph": graph_payload(last), "timeline": recorder_page.timeline_payload(rec)}
    path = tmp_path / "both.html"
    path.write_text(render_page(page_payload, "graph and timeline"), encoding="utf-8")
    with open_page(path) as (page, errors, requests):
        names = page.evaluate("MG.viewNames")
        assert {"forward", "backward", "timeline"} <= set(names)
        page.click("#mg-tab-forward")
        click_node(page, f'g.node[data-id="{node_id(page, "forward", "conv2d")}"]')
        page.click("#mg-tab-timeline")
        assert page.inner_text("#mg-panel h2") == "Why did this weight change?"
        page.click("#mg-tab-forward")  # the panel follows the view: no stale timeline panel
        assert page.inner_text("#mg-panel h2") == "conv2d"
        page.click("#mg-tab-backward")
        page.keyboard.press("ArrowRight")
        screenshot(page, "explorer-with-timeline")
    assert errors == [] and requests == []


def test_graphs_are_laid_out_in_the_page_readably(tmp_path):
    """No Graphviz program (PATH is empty): the page lays the graph out itself; every node
    is a <g class="node" data-name=...>, none overlaps another, each sits in its cluster."""
    model = mg.nn.Sequential(
        mg.nn.Conv2d(1, 2, 3), mg.nn.ReLU(), mg.nn.MaxPool2d(2), mg.nn.Flatten(), mg.nn.Linear(2, 3)
    )
    loss = model(mg.randn(2, 1, 4, 4)).sum()
    ex = mg.graph.explore(loss)
    g = payload(ex.html)
    assert "<svg" not in ex.html  # no drawing made in Python
    drawn = g["views"]["forward"]["draw"]
    with open_page(ex.save(tmp_path / "layout.html")) as (page, errors, requests):
        page.click("#mg-tab-forward")
        names = page.locator("#mg-view-forward g.node").evaluate_all(
            "els => els.map(e => e.dataset.name)"
        )
        assert len(names) == len(drawn["nodes"]) == len(set(names))
        assert {"conv2d", "relu", "max_pool2d", "matmul", "output"} <= set(names)
        boxes = page.evaluate(
            "() => { var p = MG.panes.forward, out = {}; Object.keys(p.pos).forEach(k => {"
            " var b = p.pos[k]; out[k] = [b.x - b.w / 2, b.y - b.h / 2, b.x + b.w / 2, b.y + b.h / 2]; });"
            " return out; }"
        )
        nodes = [(n["id"], n["scope"]) for n in drawn["nodes"]]
        for i, (a, _) in enumerate(nodes):
            for b, _ in nodes[i + 1 :]:
                A, B = boxes[a], boxes[b]
                assert A[2] <= B[0] or B[2] <= A[0] or A[3] <= B[1] or B[3] <= A[1], (a, b)
        for n, scope in nodes:
            if scope:
                c, b = boxes["cluster:" + scope], boxes[n]
                assert c[0] <= b[0] and b[2] <= c[2] and c[1] <= b[1] and b[3] <= c[3], (n, scope)
        # text is at least 11 px on screen at the first view
        smallest = page.evaluate(
            "() => MG.panes.forward.scale() * Math.min(...Array.from("
            "document.querySelectorAll('#mg-view-forward svg text'))"
            ".map(t => parseFloat(getComputedStyle(t).fontSize)))"
        )
        assert smallest >= 11
    assert errors == [] and requests == []
