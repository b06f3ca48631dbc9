"""`python -m minigrad playground SCRIPT.py`: the page served on 127.0.0.1 behind a token,
stopped by Ctrl-C, and the page in a real headless Chromium with the engine's numbers.

Screenshots go to out/test-artifacts/playground-*.png.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest
from browser import chromium_path, screenshot
from test_playground_page import SCRIPT, script_session

# --- the `playground` command -------------------------------------------------------------


@pytest.fixture
def served(tmp_path):
    """`python -m minigrad playground SCRIPT.py --port 0` running; yields (url, process)."""
    script = tmp_path / "play.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIGRAD_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "minigrad", "playground", str(script), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+/\?token=[\w-]+)", line)
        assert m, (
            f"no URL printed: {line!r} {proc.stderr.read() if proc.poll() is not None else ''}"
        )
        yield m.group(1), proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


def _status(url: str, data: bytes | None = None, headers: dict | None = None) -> int:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_command_refuses_requests_without_the_token_and_stops_on_ctrl_c(served):
    url, proc = served
    base, token = url.split("/?token=")
    assert _status(url) == 200
    assert _status(base + "/") == 403
    assert _status(base + "/?token=" + "x" * len(token)) == 403
    edit = json.dumps({"op": "step"}).encode()
    assert _status(base + "/api", edit, {"Content-Type": "application/json"}) == 403
    assert _status(base + "/api", edit, {"X-Minigrad-Token": token}) == 200
    port = base.rsplit(":", 1)[1]
    assert _status(f"http://localhost:{port}/?token={token}") == 200
    assert _status(url, headers={"Host": f"evil.example:{port}"}) == 403
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    assert "stopped" in proc.stdout.read()


def test_command_bad_script(tmp_path):
    script = tmp_path / "bad.py"
    script.write_text("import minigrad as mg\nmodel = mg.nn.Linear(2, 2)\n")
    out = subprocess.run(
        [sys.executable, "-m", "minigrad", "playground", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert "defines no x, target" in out.stderr


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.scrollingElement.scrollWidth <= innerWidth")


def test_command_page_in_chromium_paints_steps_and_shows_the_engines_numbers(served):
    sync_api = pytest.importorskip("playwright.sync_api")
    url, _ = served
    expected = script_session()
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url, wait_until="load")
            page.wait_for_selector("body[data-ready]")
            loss_el = page.locator(".mg-pg-loss")

            def wait_loss(want: float) -> None:
                page.wait_for_function(
                    "want => document.querySelector('.mg-pg-loss').getAttribute('data-loss') "
                    "=== want",
                    arg=str(want),
                )

            assert float(loss_el.get_attribute("data-loss")) == expected.loss
            assert _no_sideways_scroll(page)
            # paint input cell (6, 4) with the mouse
            box = page.locator(".mg-pg-canvas").bounding_box()
            cell = box["width"] / 9
            page.mouse.click(box["x"] + 4.5 * cell, box["y"] + 6.5 * cell)
            expected.set("input", [(0, 0, 6, 4)], 1.0)
            page.wait_for_function(
                "want => document.querySelector('.mg-pg-loss').getAttribute('data-loss') === want",
                arg=str(expected.loss),
            )
            probs = page.evaluate("Array.from(MG.arr(MG.payload.playground.probabilities).data)")
            assert np.array_equal(np.float32(probs), expected.probabilities.reshape(-1))
            assert "input: 1 cell" in page.locator(".mg-pg-changes").inner_text()
            # a drag paints a stroke: one change, three cells
            page.mouse.move(box["x"] + 1.5 * cell, box["y"] + 1.5 * cell)
            page.mouse.down()
            page.mouse.move(box["x"] + 3.5 * cell, box["y"] + 1.5 * cell, steps=6)
            page.mouse.up()
            expected.set("input", [(0, 0, 1, 1), (0, 0, 1, 2), (0, 0, 1, 3)], 1.0)
            wait_loss(expected.loss)
            assert "input: 3 cells" in page.locator(".mg-pg-changes").inner_text()
            screenshot(page, "playground-painted")
            # select a weight, then press Step: the weight moves by lr * grad
            page.select_option(".mg-pg-param", "conv1.weight")
            page.locator('input[data-index="0,0,1,1"]').focus()
            predicted = page.locator(".mg-pg-element").inner_text()
            w, g = (
                expected.params["conv1.weight"][0, 0, 1, 1],
                expected.grads["conv1.weight"][0, 0, 1, 1],
            )
            new_w = np.float32(w - np.float32(np.float32(0.2) * g))
            assert (
                f"= {float(new_w):.7g}".replace("e-0", "e-") in predicted
                or str(float(new_w))[:6] in predicted
            )
            page.click(".mg-pg-step")
            expected.step()
            assert expected.params["conv1.weight"][0, 0, 1, 1] == new_w
            page.wait_for_function(
                "want => document.querySelector('.mg-pg-loss').getAttribute('data-loss') === want",
                arg=str(expected.loss),
            )
            value = page.locator('input[data-index="0,0,1,1"]').input_value()
            assert np.float32(float(value)) == new_w
            probs = page.evaluate("Array.from(MG.arr(MG.payload.playground.probabilities).data)")
            assert np.array_equal(np.float32(probs), expected.probabilities.reshape(-1))
            assert page.locator("#mg-view-forward g.node.mg-changed, .mg-pg-moved").count() > 0
            screenshot(page, "playground-stepped")
            # Undo: back to the painted state, bit for bit
            page.click(".mg-pg-undo")
            expected.undo()
            page.wait_for_function(
                "want => document.querySelector('.mg-pg-loss').getAttribute('data-loss') === want",
                arg=str(expected.loss),
            )
            # a kernel value typed into its cell
            page.fill('input[data-index="0,0,2,0"]', "0.75")
            page.press('input[data-index="0,0,2,0"]', "Enter")
            expected.set("conv1.weight", (0, 0, 2, 0), 0.75)
            wait_loss(expected.loss)
            assert page.locator(".mg-pg-changes").inner_text().count("conv1.weight: 1 cell") == 1
            # the label, a typed cell value, the learning rate: each one recomputed
            page.select_option(".mg-pg-label", "0")
            expected.set("target", 0, 0)
            wait_loss(expected.loss)
            page.select_option(".mg-pg-mode", "pick")
            page.mouse.click(box["x"] + 2.5 * cell, box["y"] + 3.5 * cell)
            page.fill(".mg-pg-cellvalue", "-0.5")
            page.press(".mg-pg-cellvalue", "Enter")
            expected.set("input", [(0, 0, 3, 2)], -0.5)
            wait_loss(expected.loss)
            page.fill(".mg-pg-lr", "0.05")
            page.press(".mg-pg-lr", "Tab")
            page.wait_for_function("() => MG.payload.playground.lr === 0.05")
            expected.lr = 0.05
            # Play runs steps until Pause; the page's count says how many the engine took
            page.click(".mg-pg-play")
            page.wait_for_function("() => MG.payload.playground.steps >= 3")
            page.click(".mg-pg-play")
            page.wait_for_function("() => !document.querySelector('.mg-pg-busy')")
            steps = page.evaluate("MG.payload.playground.steps")
            for _ in range(steps):
                expected.step()
            wait_loss(expected.loss)
            # Reset goes back to the script's state
            page.click(".mg-pg-reset")
            expected.reset()
            wait_loss(expected.loss)
            assert expected.loss == script_session().loss
            # the graph views still work and are marked where values moved
            page.click("#mg-tab-forward")
            assert page.locator("#mg-view-forward g.node.mg-changed").count() > 0
            screenshot(page, "playground-forward-marked")
            # a selected node stays selected through an edit, with the new numbers
            node = page.evaluate(
                "() => { const n = MG.payload.graph.views.forward.nodes;"
                " return Object.keys(n).filter(k => n[k].label === 'conv1.weight')[0]; }"
            )
            page.click(f'#mg-view-forward g.node[data-id="{node}"]')
            before = page.locator("#mg-panel").inner_text()
            assert before.startswith("conv1.weight")
            page.click("#mg-tab-playground")
            page.click(".mg-pg-step")
            expected.step()
            wait_loss(expected.loss)
            after = page.locator("#mg-panel").inner_text()
            assert after.startswith("conv1.weight") and after != before
            # on a phone (390x844) the page fits the width and Step is still there to press
            page.set_viewport_size({"width": 390, "height": 844})
            assert _no_sideways_scroll(page)
            page.locator(".mg-pg-step").scroll_into_view_if_needed()
            box = page.locator(".mg-pg-step").bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
            page.click(".mg-pg-step")
            expected.step()
            wait_loss(expected.loss)
            screenshot(page, "playground-phone")
        finally:
            browser.close()
    assert errors == []
    assert requests and all(r.startswith(url.split("/?")[0] + "/") for r in requests)
