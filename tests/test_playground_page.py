"""The playground's page: its data and updates, the widget's relay, the `playground` command
served on 127.0.0.1 behind a token, and the page in a real headless Chromium.

Screenshots go to out/test-artifacts/playground-*.png.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad.demo import build_xo_model
from minigrad.graph.playground import Session
from minigrad.graph.playground_page import LivePage

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import numpy as np
import minigrad as mg
from minigrad.demo import build_xo_model

mg.manual_seed(0)
model = build_xo_model()
x = np.zeros((1, 1, 9, 9), np.float32)
x[0, 0, 2, 2:7] = 1.0          # a bar: the top of an X or an O
target = np.array([1])
classes = ["O", "X"]
lr = 0.2
"""


def script_session() -> Session:
    ns: dict = {}
    exec(SCRIPT, ns)
    return Session(ns["model"], ns["x"], ns["target"], classes=ns["classes"], lr=ns["lr"])


def page_payload(html: str) -> dict:
    text = html.split('id="mg-payload">', 1)[1].split("</script>", 1)[0]
    return json.loads(text)


def test_page_data_and_updates():
    s = script_session()
    page = LivePage(s, {"kind": "widget"})
    first = page_payload(page.html())
    pg = first["playground"]
    assert pg["classes"] == ["O", "X"] and pg["loss"] == s.loss and pg["lr"] == 0.2
    assert [p["name"] for p in pg["params"]] == [
        "conv1.weight",
        "conv1.bias",
        "fc.weight",
        "fc.bias",
    ]
    assert all(first["graph"]["views"][v]["draw"] for v in first["graph"]["views"])
    up = page.handle({"op": "set", "name": "input", "index": [[0, 0, 5, 5]], "value": 1.0})
    assert s.x[0, 0, 5, 5] == 1.0
    assert up["playground"]["loss"] == s.loss
    assert all(v["draw"] is None for v in up["graph"]["views"].values())  # drawings are kept
    # the marks: the input tensor moved by exactly 1, the weights did not
    names = {k: t["name"] for k, t in up["graph"]["tensors"].items()}
    by_name = {names[k]: m for k, m in up["marks"].items()}
    assert by_name["input"] == {"value": 1.0}
    assert set(by_name["conv1.weight"]) == {"grad"}  # its gradient moved, its value did not
    probs = np.frombuffer(
        __import__("base64").b64decode(up["playground"]["probabilities"]["b64"]), "<f4"
    )
    assert np.array_equal(probs, s.probabilities.reshape(-1))


def test_page_edits_and_their_errors():
    s = script_session()
    page = LivePage(s, {"kind": "widget"})
    page.html()
    assert page.handle({"op": "step", "steps": 2})["playground"]["steps"] == 2
    assert page.handle({"op": "lr", "value": 0.05})["playground"]["lr"] == 0.05
    assert page.handle({"op": "undo"})["playground"]["lr"] == 0.2
    assert page.handle({"op": "reset"})["playground"]["steps"] == 0
    assert page.handle({"op": "set", "name": "target", "index": 0, "value": 0})["playground"][
        "target"
    ] == [0]
    err = page.handle({"op": "set", "name": "conv7.weight", "index": [[0, 0, 0, 0]], "value": 1})
    assert "accepted names" in err["error"] and "conv1.weight" in err["error"]
    assert (
        "out of range"
        in page.handle({"op": "set", "name": "input", "index": [[0, 0, 9, 9]], "value": 1.0})[
            "error"
        ]
    )
    assert "unknown edit" in page.handle({"op": "fly"})["error"]
    assert (
        "must be a number"
        in page.handle({"op": "set", "name": "input", "index": [[0, 0, 1, 1]], "value": "x"})[
            "error"
        ]
    )
    assert "steps must be" in page.handle({"op": "step", "steps": 0})["error"]


def test_widget_relays_edits_and_pushes_python_changes(monkeypatch):
    pytest.importorskip("anywidget")
    mg.manual_seed(0)
    model = build_xo_model()
    pg = mg.graph.Playground(model, np.zeros((1, 1, 9, 9), np.float32), np.array([0]))
    assert isinstance(pg.html, str) and "MG.boot" in pg.html and pg._esm.startswith("//")
    sent: list = []
    monkeypatch.setattr(pg, "send", lambda content, buffers=None: sent.append(content))
    pg._on_message(pg, {"type": "edit", "id": 7, "edit": {"op": "step"}}, [])
    assert sent[-1]["id"] == 7 and sent[-1]["data"]["playground"]["steps"] == 1
    pg._on_message(pg, {"type": "ready"}, [])
    assert sent[-1]["id"] is None and sent[-1]["data"]["playground"]["steps"] == 1
    pg.set("conv1.weight", (0, 0, 1, 1), 2.0)  # from Python: the page follows
    assert sent[-1]["id"] is None
    assert sent[-1]["data"]["playground"]["changes"]["what"].startswith("conv1.weight[0, 0, 1, 1]")
    pg.undo()
    pg.undo()
    assert pg.session.steps == 0 and len(sent) == 5
    assert pg.explorer.html.startswith("<!DOCTYPE html>")


def test_without_anywidget_playground_says_which_extra_to_install():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["anywidget"] = None  # as if it were not installed
        import numpy as np, minigrad as mg
        try:
            mg.graph.Playground(mg.nn.Linear(2, 2), np.zeros((1, 2), np.float32), np.array([0]))
        except ImportError as e:
            print(e)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert 'pip install "minigrad-cnn[jupyter]"' in out.stdout
    assert "python -m minigrad playground" in out.stdout


@pytest.mark.parametrize("kind", ["mlp", "sigmoid", "batch"])
def test_other_models_render_without_errors(kind, tmp_path):
    """A dense network on (N, 4), a sigmoid output with log loss, a batch of 3 pictures."""
    from browser import open_page, screenshot

    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    if kind == "mlp":
        model = mg.nn.Sequential(mg.nn.Linear(4, 8), mg.nn.ReLU(), mg.nn.Linear(8, 3))
        s = Session(model, rng.random((2, 4), dtype=np.float32), np.array([0, 2]))
    elif kind == "sigmoid":
        model = mg.nn.Sequential(
            mg.nn.Conv2d(1, 2, 3),
            mg.nn.ReLU(),
            mg.nn.Flatten(),
            mg.nn.Linear(18, 1),
            mg.nn.Sigmoid(),
        )
        s = Session(model, rng.random((1, 1, 5, 5), dtype=np.float32), np.array([1.0], np.float32))
    else:
        model = build_xo_model()
        s = Session(model, rng.random((3, 1, 9, 9), dtype=np.float32), np.array([0, 1, 1]))
    path = tmp_path / "page.html"
    path.write_text(LivePage(s, {"kind": "none"}).html())
    with open_page(path) as (page, errors, requests):
        page.wait_for_selector("body[data-ready]")
        assert float(page.locator(".mg-pg-loss").get_attribute("data-loss")) == s.loss
        n = len(s.probabilities[0]) if s.probabilities is not None else 0
        assert page.locator(".mg-pg-probs tr").count() == n
        for option in page.locator(".mg-pg-param option").all():
            page.select_option(".mg-pg-param", option.get_attribute("value"))
        if kind == "batch":
            page.select_option(".mg-pg-sample", "2")
            assert "sample 2" in page.locator(".mg-pg-layers h3").inner_text()
        page.click(".mg-pg-step")  # not connected to Python: the page says so
        page.wait_for_selector(".mg-pg-status.mg-pg-bad")
        screenshot(page, f"playground-{kind}")
    assert errors == [] and requests == []


def test_only_live_pages_carry_the_playground_code():
    s = script_session()
    live = LivePage(s, {"kind": "widget"}).html()
    offline = mg.graph.explore(s.loss_tensor).html
    assert "MG.views.playground" in live and "fetch(" in live
    assert "MG.views.playground" not in offline and "fetch(" not in offline
