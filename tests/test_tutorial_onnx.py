"""Tutorial 10 (ONNX both ways) runs end to end and writes its files."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TUTORIAL = REPO / "tutorials" / "10_onnx.py"


def test_tutorial_10_runs_and_writes_its_files(tmp_path):
    for module in ("onnx", "onnxruntime", "sklearn", "matplotlib"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"tutorial 10 needs {module}")
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIGRAD_")}
    env.update(MINIGRAD_FAST="1", MINIGRAD_TUTORIAL_OUT=str(out), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(
        [sys.executable, str(TUTORIAL)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for name in ("digits_lenet.onnx", "torch_cnn.onnx", "torch_cnn_tuned.onnx"):
        assert (out / name).stat().st_size > 1000, name
    assert (out / "minigrad_vs_onnxruntime.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "torch_cnn_backward.dot").exists()
    assert "same prediction on 100%" in proc.stdout
    if importlib.util.find_spec("torch") is not None:
        assert "minigrad vs PyTorch: outputs" in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing else written


def test_tutorial_10_is_a_percent_notebook():
    text = TUTORIAL.read_text()
    assert text.startswith("# %% [markdown]\n# # 10 ")
    assert text.count("# %% [markdown]") >= 5 and text.count("\n# %%\n") >= 5
    assert "MINIGRAD_TUTORIAL_OUT" in text


def test_tutorial_10_without_pytorch_builds_the_model_with_onnx_helper(tmp_path):
    for module in ("onnx", "onnxruntime", "sklearn", "matplotlib"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"tutorial 10 needs {module}")
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIGRAD_")}
    env.update(MINIGRAD_FAST="1", MINIGRAD_TUTORIAL_OUT=str(out), PYTHONDONTWRITEBYTECODE="1")
    hide_torch = (  # a finder that refuses torch, as if it were not installed
        "import sys, runpy\n"
        "class NoTorch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'torch':\n"
        "            raise ImportError('No module named torch')\n"
        "sys.meta_path.insert(0, NoTorch())\n"
        f"runpy.run_path({str(TUTORIAL)!r}, run_name='__main__')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", hide_torch],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "PyTorch is not installed: built the network with onnx.helper" in proc.stdout
    assert (out / "torch_cnn_tuned.onnx").stat().st_size > 1000
