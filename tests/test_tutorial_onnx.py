"""Tutorial 10 (ONNX both ways) runs end to end and writes its files."""

from __future__ import annotations

import importlib.util

import pytest
from helpers import REPO, run_tutorial

TUTORIAL = REPO / "tutorials" / "10_onnx.py"


def skip_without_its_modules() -> None:
    for module in ("onnx", "onnxruntime", "sklearn", "matplotlib"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"tutorial 10 needs {module}")


def test_tutorial_10_runs_and_writes_its_files(tmp_path):
    skip_without_its_modules()
    proc, out = run_tutorial(TUTORIAL.name, tmp_path, timeout=600)
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
    skip_without_its_modules()
    hide_torch = (  # a finder that refuses torch, as if it were not installed
        "import sys, runpy\n"
        "class NoTorch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'torch':\n"
        "            raise ImportError('No module named torch')\n"
        "sys.meta_path.insert(0, NoTorch())\n"
        f"runpy.run_path({str(TUTORIAL)!r}, run_name='__main__')\n"
    )
    proc, out = run_tutorial(TUTORIAL.name, tmp_path, timeout=600, args=["-c", hide_torch])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "PyTorch is not installed: built the network with onnx.helper" in proc.stdout
    assert (out / "torch_cnn_tuned.onnx").stat().st_size > 1000
