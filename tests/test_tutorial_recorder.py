"""Tutorial 11 (watch a CNN learn) runs end to end and writes working timeline pages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from browser import open_page, screenshot

REPO = Path(__file__).resolve().parents[1]
TUTORIAL = REPO / "tutorials" / "11_watch_a_cnn_learn.py"


def test_tutorial_11_records_explains_flags_and_writes_pages(tmp_path):
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIGRAD_")}
    env.update(MINIGRAD_FAST="1", MINIGRAD_TUTORIAL_OUT=str(out), PYTHONDONTWRITEBYTECODE="1")
    env["MPLBACKEND"] = "Agg"
    proc = subprocess.run(
        [sys.executable, str(TUTORIAL)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = proc.stdout
    assert "frames: 25 steps: 24" in text
    assert "conv1.weight[0, 0, 1, 1]: Adam step, lr=0.02" in text and "step t = 24" in text
    assert "health flags: []" in text
    assert "dead_relu       relu1 (after conv1):" in text
    for name in ("filmstrip.png", "health.png", "training.html", "training_lr_x1000.html"):
        assert (out / name).stat().st_size > 1000
    with open_page(out / "training_lr_x1000.html") as (page, errors, requests):
        page.wait_for_selector("body[data-ready='1']")
        assert page.locator(".mg-tl-flag").count() >= 2
        page.keyboard.press("End")
        assert page.inner_text("#mg-tl-step") == "24"
        screenshot(page, "tutorial11-lr-x1000")
    assert errors == [] and requests == []
