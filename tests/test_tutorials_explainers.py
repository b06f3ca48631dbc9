"""Tutorials 01-06 (the CNN explainers) run end to end, check their own numbers with assert,
and write their pictures, whose text (titles, numbers in cells) agrees with what they print.
Each runs as a script in a subprocess in fast mode, from a folder that is not tutorials/."""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import require_ops

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


# the shipped plugin ops the tutorials use: a broken one fails the tests, never skips
TUTORIAL_OPS = (
    "conv2d", "relu", "max_pool2d", "avg_pool2d", "sum_pool2d", "global_max_pool2d",
    "global_avg_pool2d", "sigmoid", "log_loss", "softmax", "cross_entropy",
)  # fmt: skip


@pytest.fixture(scope="module")
def plugins_ready():
    require_ops(*TUTORIAL_OPS)


# Runs a tutorial as `python tutorials/<file>.py` would, and records the text of every figure
# it saves (titles, cell numbers, labels) to a JSON file, for comparison with what it prints.
_DRIVER = """
import json, runpy, sys
import matplotlib
from matplotlib.figure import Figure
from matplotlib.text import Text

texts = {}
_savefig = Figure.savefig

def savefig(self, fname, *args, **kwargs):
    found = self.findobj(lambda a: isinstance(a, Text) and a.get_visible() and a.get_text())
    texts[str(fname).rsplit("/", 1)[-1]] = [t.get_text() for t in found]
    return _savefig(self, fname, *args, **kwargs)

Figure.savefig = savefig
try:
    runpy.run_path(sys.argv[1], run_name="__main__")
finally:
    with open(sys.argv[2], "w") as f:
        json.dump(texts, f)
"""

NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
# tutorials whose figures show numbers the text also prints (the later ones show learned
# weights, which are not printed)
NUMBERS_PRINTED = ("01_filters_by_hand", "02_matching_features", "03_pooling_and_relu")


def _run_tutorial(stem, tmp_path):
    _, needs = EXPECTED[stem]
    for module in ["matplotlib", *needs]:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{stem} needs {module}")
    out = tmp_path / "pictures"
    workdir = tmp_path / "work"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIGRAD_")}
    env.update(MINIGRAD_FAST="1", MINIGRAD_TUTORIAL_OUT=str(out), MPLBACKEND="Agg")
    texts_file = tmp_path / "texts.json"
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(TUTORIALS / f"{stem}.py"), str(texts_file)],
        cwd=workdir,  # nothing may land in the working directory
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"{stem} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert list(workdir.iterdir()) == []
    return proc.stdout, json.loads(texts_file.read_text()), out


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_tutorial_runs_and_its_figures_agree_with_its_text(stem, plugins_ready, tmp_path):
    printed, figures, out = _run_tutorial(stem, tmp_path)
    pictures, _ = EXPECTED[stem]
    for name in pictures:
        png = out / f"{name}.png"
        assert png.exists(), f"{stem} did not write {png.name}; wrote {sorted(os.listdir(out))}"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(figures) == sorted(f"{name}.png" for name in pictures)
    # labels are written as a reader writes them: no Python string escapes, no repr quotes
    assert "'\\\\'" not in printed and "\\\\" not in printed
    printed_numbers = [float(n) for n in NUMBER.findall(printed)]
    for figure, texts in figures.items():
        for text in texts:
            assert "\\\\" not in text, (figure, text)
            # float noise such as -7.5e-09 is shown as 0, as the text prints it
            assert not re.search(r"\de[-+]?\d", text), (figure, text)
            assert text not in ("-0", "-0.0", "-0.00"), (figure, text)
            if stem not in NUMBERS_PRINTED:
                continue
            # a cell's number, or the result after "=" in a title, is one the text printed
            shown = [text] if NUMBER.fullmatch(text) else re.findall(r"= (-?\d+\.\d+)", text)
            for number in shown:
                assert any(abs(float(number) - p) < 1e-9 for p in printed_numbers), (
                    f"{figure} shows {number} ({text!r}), which {stem} never prints"
                )
    if stem == "02_matching_features":  # 5/9 is rounded one way, in the text and the figure
        assert "rounded 0.56" in printed and not re.search(r"\b0\.55\b", printed)
        titles = figures["multiply_add_divide.png"]
        assert "products: sum/9 = 0.56" in titles and "products: sum/9 = 1.00" in titles


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
