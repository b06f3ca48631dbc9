"""Tutorial 09 (exploring the X-vs-O network) runs end to end and writes a working page."""

from __future__ import annotations

import shutil

import pytest
from browser import open_page, screenshot
from helpers import run_tutorial


def test_tutorial_09_writes_an_explorer_page(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz 'dot' not installed: the explorer lays out graphs with it")
    proc, out = run_tutorial("09_explore_x_vs_o.py", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "window cells: [[0, 2], [2, 2]]" in proc.stdout
    page_path = out / "explorer.html"
    with open_page(page_path) as (page, errors, requests):
        # the page opens on the network: the input, conv1 relu1 pool1 flatten fc, the loss
        cols = page.locator(".mg-net-col .mg-net-name").all_inner_texts()
        assert cols[1:6] == ["conv1", "relu1", "pool1", "flatten", "fc"]
        screenshot(page, "tutorial09-network")
        page.click("#mg-tab-forward")
        assert page.locator("#mg-view-forward g.cluster").count() >= 4  # conv1 relu1 pool1 fc
        screenshot(page, "tutorial09-forward")
        page.click("#mg-tab-backward")
        page.keyboard.press("End")
        screenshot(page, "tutorial09-backward")
    assert errors == [] and requests == []
