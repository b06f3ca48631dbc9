"""Tutorial 12 (batch norm and dropout) runs end to end: the hand-checked numbers, both
trainings, the reloaded model and a working timeline page."""

from __future__ import annotations

import pytest
from browser import open_page
from helpers import run_tutorial


def test_tutorial_12_trains_both_networks_and_writes_the_timeline(tmp_path):
    pytest.importorskip("sklearn")
    proc, out = run_tutorial("12_batch_norm_and_dropout.py", tmp_path, env={"MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = proc.stdout
    assert "mean 4.5, variance 5.25" in text
    assert "running_var  [1.5]" in text
    assert "ValueError: batch_norm: expected more than 1 value per channel when training" in text
    assert (
        "Buffers (not trained): 98 values in running_mean, running_var, num_batches_tracked" in text
    )
    assert "same predictions after reloading: True" in text
    for name in ("loss_and_accuracy.png", "bn1_scales.png", "timeline.html"):
        assert (out / name).stat().st_size > 1000
    with open_page(out / "timeline.html") as (page, errors, requests):
        page.wait_for_selector("body[data-ready='1']")
    assert errors == [] and requests == []
