"""The Playground widget in a real Jupyter front end, shared by the JupyterLab and the
Notebook 7 browser tests.

    from jupyter_pages import jupyter_server, run_playground_notebook

    with jupyter_server("jupyterlab", folder) as (base, token):
        ...  # open f"{base}/lab/tree/play.ipynb?token={token}" in Chromium

``jupyter_server`` starts the app on 127.0.0.1 on a free port with a random token, no
browser, its config, runtime and settings folders inside ``folder`` and a notebook
``play.ipynb`` in ``folder / "root"`` that builds the test script's Playground.
``run_playground_notebook`` runs that notebook's cells in an open page, then paints a pixel
and presses Step inside the widget, checking each time that the page shows the engine's
numbers. ``trust_notebook`` signs a notebook for the server started in ``folder``, as
``jupyter trust`` does (its data folder, and so its signatures, are in ``folder / "data"``).
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser import chromium_path, screenshot
from test_playground_page import SCRIPT, script_session

__all__ = [
    "LOCAL",
    "jupyter_server",
    "open_jupyter_page",
    "run_playground_notebook",
    "trust_notebook",
]

#: the only places a page may load from: the server on loopback and what it makes itself
LOCAL = ("http://127.0.0.1", "data:", "blob:", "about:")

#: options that keep each app off the network and out of the user's settings
_APP_ARGS = {
    "jupyterlab": [
        "--LabApp.extension_manager=readonly",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ],
    "notebook": [],
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_notebook(path: Path) -> None:
    # one cell: a run that the front end drops before the kernel is connected is simply run
    # again, never leaving a later cell to run without the names an earlier one defines
    cells = [
        SCRIPT.strip()
        + "\n\npg = mg.graph.Playground(model, x, target, classes=classes, lr=lr)\npg",
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


@contextmanager
def jupyter_server(app: str, folder: Path) -> Iterator[tuple[str, str]]:
    """Run ``python -m APP`` (``jupyterlab`` or ``notebook``); yields ``(base_url, token)``."""
    port, token = _free_port(), secrets.token_urlsafe(16)
    root = folder / "root"
    root.mkdir(parents=True)
    _write_notebook(root / "play.ipynb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIGRAD_")}
    env.update(
        JUPYTER_CONFIG_DIR=str(folder / "config"),
        JUPYTER_RUNTIME_DIR=str(folder / "runtime"),
        JUPYTER_DATA_DIR=str(folder / "data"),  # the notebook signatures (trust_notebook)
        JUPYTERLAB_SETTINGS_DIR=str(folder / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(folder / "workspaces"),
        IPYTHONDIR=str(folder / "ipython"),
    )
    log_path = folder / f"{app}.log"
    log = open(log_path, "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [
            sys.executable, "-m", app, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            "--ServerApp.port_retries=0", "--allow-root", *_APP_ARGS[app],
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
                        f"{app} did not start:\n" + log_path.read_text()[-3000:]
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


def trust_notebook(folder: Path, path: Path) -> None:
    """Sign the notebook at ``path`` for the server of ``jupyter_server(app, folder)``, as
    ``jupyter trust`` does: that server then shows its outputs with their scripts."""
    nbformat = pytest.importorskip("nbformat")
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary(data_dir=str(folder / "data"))
    notary.sign(nbformat.read(path, as_version=4))


@contextmanager
def open_jupyter_page(
    url: str, name: str, frame_errors: list[str] | None = None
) -> Iterator[tuple[Any, list[str], list[str]]]:
    """Open ``url`` in headless Chromium at 1400x1000; yields ``(page, errors, requests)``:
    the uncaught page errors and every URL requested, both filling while the block runs.
    ``frame_errors``, when given, fills with the console errors of pages shown in an
    ``<iframe srcdoc>`` (an output's own page, not the Jupyter front end's).
    ``NAME-last.png`` is the page as the block left it, passed or failed."""
    sync_api = pytest.importorskip("playwright.sync_api")
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
            if frame_errors is not None:
                page.on(
                    "console",
                    lambda m: (
                        frame_errors.append(f"console.{m.type}: {m.text}")
                        if m.type == "error" and m.location.get("url") == "about:srcdoc"
                        else None
                    ),
                )
            page.goto(url, wait_until="load")
            yield page, errors, requests
        finally:
            screenshot(page, f"{name}-last")
            browser.close()


def _loss_is(frame: Any, want: float) -> None:
    frame.locator(f'.mg-pg-loss[data-loss="{want!r}"]').wait_for(timeout=60_000)


def _shows_probabilities(frame: Any, expected: Any) -> None:
    probs = frame.locator("body").evaluate(
        "() => Array.from(MG.arr(MG.payload.playground.probabilities).data)"
    )
    assert expected.probabilities is not None
    assert np.array_equal(np.float32(probs), expected.probabilities.reshape(-1))


def run_playground_notebook(page: Any, name: str) -> None:
    """Run play.ipynb's cell in ``page`` (its notebook open and its kernel idle), then
    paint input cell (6, 4) and press Step in the widget: after each, the page shows the loss
    and probabilities a fresh computation in this process gives. Screenshots are
    ``NAME-painted.png`` and ``NAME-stepped.png``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    expected = script_session()
    ran = page.locator(".jp-InputPrompt", has_text="[1]")
    for _ in range(6):  # a run pressed before the kernel is connected is dropped
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.keyboard.press("Control+Enter")  # run the cell, staying on it
        try:
            ran.first.wait_for(timeout=20_000)
            break
        except PlaywrightTimeout:
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
    assert box is not None
    cell = box["width"] / 9
    page.mouse.click(box["x"] + 4.5 * cell, box["y"] + 6.5 * cell)
    expected.set("input", [(0, 0, 6, 4)], 1.0)
    _loss_is(frame, expected.loss)
    _shows_probabilities(frame, expected)
    screenshot(page, f"{name}-painted")
    frame.locator(".mg-pg-step").click()
    expected.step()
    _loss_is(frame, expected.loss)
    _shows_probabilities(frame, expected)
    assert "step 1" in frame.locator(".mg-pg-loss").inner_text()
    screenshot(page, f"{name}-stepped")
