"""Tutorials 01-06 (the CNN explainers) run end to end, check their own numbers with assert,
and write their pictures. Each runs as a subprocess in fast mode, as a user would run it."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

TUTORIALS = Path(__file__).resolve().parents[1] / "tutorials"

# stem -> (pictures it must write, optional modules it needs besides matplotlib)
EXPECTED = {
    "01_filters_by_hand": (
        ["convolution_5x5", "padding_and_stride", "multichannel", "photo_filters"],
        ["sklearn"],
    ),
    "02_matching_features": (["images_and_features", "multiply_add_divide", "feature_maps"], []),
    "03_pooling_and_relu": (["pooling", "relu", "deep_stacking"], []),
    "04_x_or_not_x": (["examples", "loss_curve", "learned"], []),
    "05_x_vs_o": (["examples", "loss_curve", "learned_filters", "feature_maps"], []),
    "06_digits_lenet": (
        ["examples", "loss_curve", "confusion_matrix", "mistakes", "filters"],
        ["sklearn"],
    ),
}


def _plugin_problem():
    """Why the plugin ops and layers the tutorials use cannot run here, or None."""
    try:
        import minigrad.nn
        import minigrad.optim  # noqa: F401

        x = mg.tensor(np.ones((1, 1, 6, 6), dtype=np.float32))
        w = mg.tensor(np.ones((2, 1, 3, 3), dtype=np.float32), requires_grad=True)
        h = mg.ops.relu(mg.ops.conv2d(x, w, mg.zeros(2), padding="same"))
        for op in ("max_pool2d", "avg_pool2d", "sum_pool2d"):
            h = getattr(mg.ops, op)(h, kernel_size=2, ceil_mode=True)
        mg.ops.global_max_pool2d(h), mg.ops.global_avg_pool2d(h)
        p = mg.ops.sigmoid(h.sum().reshape(1))
        mg.ops.log_loss(p, mg.tensor([1.0])).backward()
        mg.ops.softmax(h.reshape(1, -1))
        mg.ops.cross_entropy(h.reshape(1, -1), mg.tensor([0]))
    except Exception as e:  # any failure means "not usable yet": report it as the skip reason
        return f"{type(e).__name__}: {e}"
    return None


@pytest.fixture(scope="module")
def plugins_ready():
    problem = _plugin_problem()
    if problem:
        pytest.skip(f"the tutorials need the CNN plugin ops and mg.nn/mg.optim: {problem}")


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_tutorial_runs_and_writes_its_pictures(stem, plugins_ready, tmp_path):
    pictures, needs = EXPECTED[stem]
    for module in ["matplotlib", *needs]:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{stem} needs {module}")
    out = tmp_path / "pictures"
    env = {**os.environ, "MINIGRAD_FAST": "1", "MINIGRAD_TUTORIAL_OUT": str(out)}
    proc = subprocess.run(
        [sys.executable, str(TUTORIALS / f"{stem}.py")],
        cwd=tmp_path,  # nothing may land in the working directory
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"{stem} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    for name in pictures:
        png = out / f"{name}.png"
        assert png.exists(), f"{stem} did not write {png.name}; wrote {sorted(os.listdir(out))}"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pictures"]


def test_every_tutorial_is_a_percent_notebook_with_prose():
    for stem in EXPECTED:
        text = (TUTORIALS / f"{stem}.py").read_text()
        assert text.startswith("# %% [markdown]\n# # "), stem
        assert text.count("# %% [markdown]") >= 3 and text.count("\n# %%\n") >= 3, stem
        assert "MINIGRAD_TUTORIAL_OUT" in text, stem


def test_readme_lists_every_tutorial():
    readme = (TUTORIALS / "README.md").read_text()
    for path in sorted(TUTORIALS.glob("0*.py")):
        assert path.name in readme, path.name
    for stem in EXPECTED:
        assert f"{stem}.py" in readme
