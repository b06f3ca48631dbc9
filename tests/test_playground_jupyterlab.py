"""The Playground widget in a real JupyterLab: server on 127.0.0.1 with a token, a notebook
that makes a Playground, headless Chromium through Playwright paints a pixel and presses Step,
and the page shows the engine's new loss and probabilities.

Screenshots go to out/test-artifacts/playground-jupyterlab-*.png.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from browser import chromium_path, screenshot
from test_playground_page import SCRIPT, script_session

pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (the dev extra has it)")
pytest.importorskip("anywidget", reason="the jupyter extra (anywidget) is not installed")

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _notebook(path) -> None:
    cells = [
        SCRIPT.strip(),
        "pg = mg.graph.Playground(model, x, target, classes=classes, lr=lr)\npg",
    ]
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": c,
                "outputs": [],
                "execution_count": None,
            }
            for c in cells
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb))


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on 127.0.0.1 with a token, its state kept in tmp_path."""
    port, token = _free_port(), secrets.token_urlsafe(16)
    root = tmp_path / "root"
    root.mkdir()
    _notebook(root / "play.ipynb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIGRAD_")}
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
        IPYTHONDIR=str(tmp_path / "ipython"),
    )
    log = open(tmp_path / "lab.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
            f"--port={port}", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
            "--allow-root", "--LabApp.extension_manager=readonly",
            "--LabApp.news_url=", "--LabApp.check_for_updates_class="
            "jupyterlab.NeverCheckForUpdate",
        ],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError(
                        "JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:]
                    ) from None
                time.sleep(0.5)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def _loss_is(frame, want: float) -> None:
    frame.locator(f'.mg-pg-loss[data-loss="{want!r}"]').wait_for(timeout=60_000)


def test_playground_widget_in_jupyterlab(lab):
    sync_api = pytest.importorskip("playwright.sync_api")
    base, token = lab
    expected = script_session()
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(f"{base}/lab/tree/play.ipynb?token={token}", wait_until="load")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
            page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first.wait_for(
                timeout=120_000
            )
            ran = page.locator(".jp-InputPrompt", has_text="[1]")
            for _ in range(6):  # a run pressed before the kernel is connected is dropped
                page.locator(".jp-Notebook .jp-Cell").first.click()
                page.keyboard.press("Shift+Enter")
                page.keyboard.press("Shift+Enter")
                try:
                    ran.first.wait_for(timeout=20_000)
                    break
                except sync_api.TimeoutError:
                    continue
            widget = page.locator("iframe.minigrad-playground")
            widget.wait_for(timeout=120_000)
            frame = page.frame_locator("iframe.minigrad-playground")
            frame.locator("body[data-ready]").wait_for(timeout=60_000)
            _loss_is(frame, expected.loss)
            widget.scroll_into_view_if_needed()
            # paint input cell (6, 4): the kernel recomputes, the page shows its numbers
            canvas = frame.locator(".mg-pg-canvas")
            box = canvas.bounding_box()
            cell = box["width"] / 9
            page.mouse.click(box["x"] + 4.5 * cell, box["y"] + 6.5 * cell)
            expected.set("input", [(0, 0, 6, 4)], 1.0)
            _loss_is(frame, expected.loss)
            probs = frame.locator("body").evaluate(
                "() => Array.from(MG.arr(MG.payload.playground.probabilities).data)"
            )
            assert np.array_equal(np.float32(probs), expected.probabilities.reshape(-1))
            screenshot(page, "playground-jupyterlab-painted")
            frame.locator(".mg-pg-step").click()
            expected.step()
            _loss_is(frame, expected.loss)
            probs = frame.locator("body").evaluate(
                "() => Array.from(MG.arr(MG.payload.playground.probabilities).data)"
            )
            assert np.array_equal(np.float32(probs), expected.probabilities.reshape(-1))
            shown = frame.locator(".mg-pg-loss").inner_text()
            assert "step 1" in shown
            screenshot(page, "playground-jupyterlab-stepped")
        finally:
            screenshot(page, "playground-jupyterlab-last")
            browser.close()
    assert errors == []
    assert all(r.startswith(("http://127.0.0.1", "data:", "blob:", "about:")) for r in requests), [
        r for r in requests if not r.startswith("http://127.0.0.1")
    ]
