"""Tutorial 11 (watch a CNN learn) runs end to end and writes working timeline pages."""

from __future__ import annotations

from browser import open_page, screenshot
from helpers import run_tutorial


def test_tutorial_11_records_explains_flags_and_writes_pages(tmp_path):
    proc, out = run_tutorial("11_watch_a_cnn_learn.py", tmp_path, env={"MPLBACKEND": "Agg"})
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
