"""The backward view explains an input-gradient cell of batch_norm (training and eval) and of
dropout with the engine's numbers, in Chromium; the values are compared with ``mg.grad``."""

from __future__ import annotations

import shutil

import pytest
from browser import click_cell, open_page, screenshot
from test_explorer_cells import grouped_net
from test_explorer_page import click_node

import minigrad as mg


@pytest.fixture(autouse=True)
def no_dot(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty-path")))
    assert shutil.which("dot") is None


def backward_node(page, op: str) -> str:
    return page.evaluate(
        "op => { var v = MG.payload.graph.views.backward.nodes;"
        " return Object.keys(v).filter(k => v[k].call &&"
        " MG.payload.graph.calls[v[k].call].op === op)[0]; }",
        op,
    )


def click_grad_cell(page, c: int, i: int, j: int, hw: tuple[int, int]) -> str:
    """Click cell (i, j) of channel c of the input's gradient picture; the arithmetic."""
    col = page.locator("#mg-panel .mg-extra .mg-tensor").last.locator(".mg-col").nth(1)
    click_cell(col.locator("canvas").nth(c), i, j, hw)
    return page.inner_text("#mg-gradcell")


def value(page, text: str) -> float:
    """The engine's number, the last line."""
    return float(text.strip().split("\n")[-1].rsplit(": ", 1)[1])


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_and_dropout_input_gradient_cells_are_the_engines(tmp_path, training):
    net = grouped_net(training)
    dconv, dbn = mg.grad(net["loss"], [net["conv"], net["bn"]], retain_graph=True)
    path = mg.graph.explore(net["loss"]).save(tmp_path / "back.html")
    with open_page(path) as (page, errors, requests):
        page.click("#mg-tab-backward")
        click_node(page, f'g.node[data-id="{backward_node(page, "batch_norm")}"]')
        for cell in [(0, 2, 1, 3), (1, 1, 4, 0)]:
            page.select_option("#mg-panel .mg-extra .mg-tensor >> nth=-1 >> select", str(cell[0]))
            text = click_grad_cell(page, *cell[1:], (5, 5))
            assert ("mean(dy * xhat)" in text) == training
            assert f"input gradient [{', '.join(map(str, cell))}]" in text
            assert value(page, text) == pytest.approx(float(dconv.data[cell]), rel=1e-5, abs=1e-7)
            lines = [line for line in text.split("\n") if line.strip()]
            written = float(lines[-2].rsplit("= ", 1)[1])  # the formula's result
            assert written == pytest.approx(float(dconv.data[cell]), rel=1e-4, abs=1e-6)
        if training:
            screenshot(page, "explorer-backward-batch-norm-1400")
        click_node(page, f'g.node[data-id="{backward_node(page, "dropout")}"]')
        for cell in [(0, 0, 0, 0), (0, 3, 2, 2), (1, 1, 3, 4)]:
            page.select_option("#mg-panel .mg-extra .mg-tensor >> nth=-1 >> select", str(cell[0]))
            text = click_grad_cell(page, *cell[1:], (5, 5))
            assert text.startswith(f"input gradient [{', '.join(map(str, cell))}]")
            assert value(page, text) == pytest.approx(float(dbn.data[cell]), rel=1e-6, abs=1e-9)
            assert ("(dropped)" in text) == (float(dbn.data[cell]) == 0 and training)
    assert errors == [] and requests == []
