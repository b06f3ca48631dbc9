"""The explorer page explains batch_norm, dropout and grouped conv2d cells with the numbers
``mg.graph.explain`` gives for the same cell, in a real headless Chromium.

Screenshots go to out/test-artifacts/explorer-cells-*.png.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from browser import click_cell, no_sideways_scroll, open_page, screenshot
from test_explorer_page import click_node, node_id

import minigrad as mg


@pytest.fixture(autouse=True)
def no_dot(monkeypatch, tmp_path_factory):
    """Pages here are built without Graphviz on PATH, as a learner's machine may be."""
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty-path")))
    assert shutil.which("dot") is None


def grouped_net(training: bool = True) -> dict[str, mg.Tensor]:
    """conv2d with groups=2 -> batch_norm -> dropout(p=0.3), 2 samples of 4 channels 5x5."""
    mg.manual_seed(3)
    x = mg.randn(2, 4, 5, 5, name="x")
    w = mg.randn(4, 2, 3, 3, requires_grad=True, name="w")
    y = mg.ops.conv2d(x, w, padding=1, groups=2)
    rm, rv = mg.randn(4) * 0.1, mg.rand(4) + 0.5
    gamma = mg.tensor(np.array([1.5, -0.5, 2.0, 0.75]), requires_grad=True, name="gamma")
    beta = mg.tensor(np.array([0.1, 0.2, -0.3, 0.4]), requires_grad=True, name="beta")
    bn = mg.ops.batch_norm(y, rm, rv, gamma, beta, training=training)
    d = mg.ops.dropout(bn, p=0.3)
    return {"conv": y, "bn": bn, "drop": d, "loss": (d * d).sum()}


def fmt(page, v: float) -> str:
    return page.evaluate("v => MG.fmt(v, 6)", float(v))


def click_output_cell(page, c: int, i: int, j: int, hw: tuple[int, int]) -> str:
    """Click cell (i, j) of channel c in the output's value picture; the explanation's text."""
    cv = page.locator("#mg-panel .mg-extra .mg-tensor").first.locator(".mg-col").first
    click_cell(cv.locator("canvas").nth(c), i, j, hw)
    return page.inner_text("#mg-explain")


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_cell_shows_the_channel_statistics_and_the_engines_numbers(tmp_path, training):
    net = grouped_net(training)
    cell = (0, 2, 1, 3)
    e = mg.graph.explain(net["bn"], cell)
    path = mg.graph.explore(net["loss"]).save(tmp_path / "bn.html")
    with open_page(path) as (page, errors, requests):
        click_node(page, f'g.node[data-id="{node_id(page, "forward", "batch_norm")}"]')
        assert page.locator("#mg-panel .mg-card .mg-formula").count() == 1
        assert "xhat" in page.inner_text("#mg-panel .mg-formula")
        text = click_output_cell(page, *cell[1:], (5, 5))
        for key in ("mean", "var", "xhat", "weight"):
            assert fmt(page, e.stats[key]) in text, (key, text)
        assert e.bias is not None and fmt(page, e.bias) in text
        assert "= " + fmt(page, e.value) + "\n" in text  # the arithmetic's result
        engine = page.evaluate("v => MG.fmt(v, 8)", float(e.value))
        assert f"engine's value: {engine}" in text
        assert ("over the batch's 50 values" if training else "running statistics") in text
        screenshot(page, f"explorer-cells-bn-{'train' if training else 'eval'}")
    assert errors == [] and requests == []


def test_dropout_node_shows_the_mask_and_kept_or_dropped_cells(tmp_path):
    net = grouped_net()
    d = net["drop"]
    y, x = d.data[0], net["bn"].data[0]
    kept = np.argwhere((y != 0) & (x != 0))[0]
    dropped = np.argwhere((y == 0) & (x != 0))[0]
    path = mg.graph.explore(net["loss"]).save(tmp_path / "drop.html")
    with open_page(path) as (page, errors, requests):
        click_node(page, f'g.node[data-id="{node_id(page, "forward", "dropout")}"]')
        panel = page.inner_text("#mg-panel")
        assert "mask" in page.inner_text("#mg-panel .mg-formula")
        assert f"{fmt(page, 1 / 0.7)} = 1/(1 - p) where kept" in panel
        assert page.locator("#mg-panel .mg-mask canvas.mg-heat").count() == 4  # one per channel
        for cell, word in ((kept, "kept"), (dropped, "dropped")):
            idx = (0, *(int(v) for v in cell))
            e = mg.graph.explain(d, idx)
            text = click_output_cell(page, idx[1], idx[2], idx[3], (5, 5))
            assert text.split("\n")[1].startswith(word), text
            assert e.text.startswith(word)
            assert fmt(page, e.stats["scale"]) in text and fmt(page, e.value) in text
        screenshot(page, "explorer-cells-dropout")
    assert errors == [] and requests == []


def test_grouped_conv_window_shows_only_its_groups_channels(tmp_path):
    net = grouped_net()
    cell = (0, 3, 2, 1)
    e = mg.graph.explain(net["conv"], cell)
    assert e.channels == (2, 3)
    path = mg.graph.explore(net["loss"]).save(tmp_path / "conv.html")
    with open_page(path) as (page, errors, requests):
        click_node(page, f'g.node[data-id="{node_id(page, "forward", "conv2d")}"]')
        text = click_output_cell(page, *cell[1:], (5, 5))
        assert "filter 3 (group 1 of 2) sees input channels 2..3" in text
        captions = page.locator("#mg-explain .mg-cap").all_inner_texts()
        assert [c for c in captions if c.startswith("input channel")] == [
            "input channel 2",
            "input channel 3",
        ]
        assert page.locator("#mg-explain td.mg-c0").count() == 2 * 9  # two channels' products
        arith = page.inner_text("#mg-explain .mg-arith")
        assert arith.startswith("filter 3 (group 1 of 2) sees input channels 2..3: ")
        assert arith.endswith("= " + fmt(page, e.value))
        engine = page.evaluate("v => MG.fmt(v, 8)", float(e.value))
        assert page.inner_text("#mg-explain .mg-engine") == f"engine's value: {engine}"
        screenshot(page, "explorer-cells-grouped-conv")
    assert errors == [] and requests == []


@pytest.mark.parametrize("width", [1400, 390])
def test_cell_explanations_fit_wide_and_narrow_windows(tmp_path, width):
    net = grouped_net()
    path = mg.graph.explore(net["loss"]).save(tmp_path / "fit.html")
    with open_page(path, width=width) as (page, errors, requests):
        click_node(page, f'g.node[data-id="{node_id(page, "forward", "batch_norm")}"]')
        click_output_cell(page, 1, 0, 0, (5, 5))
        page.locator("#mg-explain").scroll_into_view_if_needed()
        screenshot(page, f"explorer-cells-bn-{width}")
        click_node(page, f'g.node[data-id="{node_id(page, "forward", "dropout")}"]')
        click_output_cell(page, 0, 0, 0, (5, 5))
        page.locator("#mg-panel .mg-mask").scroll_into_view_if_needed()
        screenshot(page, f"explorer-cells-dropout-{width}")
        assert no_sideways_scroll(page)
    assert errors == [] and requests == []


def test_after_backward_freed_the_mask_the_page_reads_it_back_from_the_output(tmp_path):
    net = grouped_net()
    net["loss"].backward()  # frees the saved mask; x and the output are kept
    cell = (0, 1, 2, 2)
    e_bn, e_drop = mg.graph.explain(net["bn"], cell), mg.graph.explain(net["drop"], cell)
    path = mg.graph.explore(net["loss"]).save(tmp_path / "freed.html")
    with open_page(path) as (page, errors, requests):
        for label, e in (("batch_norm", e_bn), ("dropout", e_drop)):
            click_node(page, f'g.node[data-id="{node_id(page, "forward", label)}"]')
            assert page.locator("#mg-panel .mg-formula").count() == 1
            text = click_output_cell(page, *cell[1:], (5, 5))
            assert "= " + fmt(page, e.value) in text
    assert errors == [] and requests == []


def test_network_view_explains_batch_norm_and_dropout_cells(tmp_path):
    net = grouped_net()
    cell = (1, 2, 1, 3)
    path = mg.graph.explore(net["loss"]).save(tmp_path / "net.html")
    with open_page(path) as (page, errors, requests):
        assert page.evaluate("MG.state.view") == "network"
        page.select_option("#mg-net-sample", "1")
        for layer, t in (("batch_norm", net["bn"]), ("dropout", net["drop"])):
            e = mg.graph.explain(t, cell)
            cv = page.locator(f'canvas[data-layer="{layer}"][data-channel="{cell[1]}"]')
            box = cv.bounding_box()
            assert box is not None
            cv.click(position={"x": 3.5 * box["width"] / 5, "y": 1.5 * box["height"] / 5})
            text = page.inner_text("#mg-cellbox")
            assert "channel 2, cell (1, 3) · sample 1" in text
            assert "= " + fmt(page, e.value) in text
            assert f"engine's value: {page.evaluate('v => MG.fmt(v, 8)', e.value)}" in text
            assert e.text.split(":")[0].split(" ")[0] in text  # "mean", "kept" or "dropped"
        assert page.locator("#mg-cellbox .mg-mask canvas").count() == 4
        assert "cell=1,2,1,3" in page.url
        screenshot(page, "explorer-cells-network")
    assert errors == [] and requests == []
