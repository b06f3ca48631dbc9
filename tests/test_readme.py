"""The README's Python examples run as written (with small generated data)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples() -> None:
    assert len(python_blocks()) >= 5


def test_readme_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    rng = np.random.default_rng(0)
    namespace = {
        # the training example iterates over a data set of the reader's; a small one here
        "x_train": rng.random((64, 1, 28, 28), dtype=np.float32),
        "y_train": rng.integers(0, 10, 64),
        "help": lambda *a, **k: None,
    }
    for block in python_blocks():
        exec(compile(block, str(README), "exec"), namespace)
    assert (tmp_path / "lenet.npz").exists()
    assert namespace["model"].summary((1, 1, 28, 28), print_table=False).rows
