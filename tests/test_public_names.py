"""dir() and tab completion show the public API (DESIGN's names) and nothing private."""

from __future__ import annotations

import subprocess
import sys

import pytest

import minigrad as mg

# The public names of DESIGN.md's API, written out (not parsed from the document).
TOP_LEVEL = {
    "tensor", "Tensor", "Op", "Context", "manual_seed", "grad", "no_grad", "enable_grad",
    "zeros", "ones", "randn", "arange", "concatenate", "stack", "where", "exp", "log", "maximum",
    "register_op", "plugins", "ops", "nn", "optim", "data", "onnx", "graph", "testing",
    "save", "load", "set_num_threads", "get_num_threads", "detect_anomaly",
}  # fmt: skip
GRAPH = {"to_networkx", "draw", "render", "explore", "Explorer", "explain", "Recorder"}
NN = {
    "Module", "Parameter", "Sequential", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d",
    "SumPool2d", "GlobalAvgPool2d", "GlobalMaxPool2d", "ReLU", "Sigmoid", "Tanh", "Softmax",
    "Flatten", "LogLoss", "CrossEntropyLoss",
}  # fmt: skip
TESTING = {"gradcheck", "gradgradcheck", "opcheck"}
OPTIM = {"SGD", "Adam"}
DATA = {"xo_images", "x_or_not_x", "load_digits", "read_idx", "load_mnist", "DataLoader"}
PLUGINS = {"available", "register_op", "ops"}
TYPING_ONLY = {"annotations", "TYPE_CHECKING", "Any", "Callable", "Iterable", "Mapping"}


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


@pytest.mark.parametrize(
    "module, expected",
    [
        ("minigrad", TOP_LEVEL),
        ("minigrad.graph", GRAPH),
        ("minigrad.nn", NN),
        ("minigrad.testing", TESTING),
        ("minigrad.optim", OPTIM),
        ("minigrad.data", DATA),
        ("minigrad.plugins", PLUGINS),
    ],
)
def test_dir_lists_the_public_names_and_nothing_private(module, expected):
    m = sys.modules[module] if module == "minigrad" else getattr(mg, module.split(".")[1])
    names = dir(m)
    assert expected <= set(names), sorted(expected - set(names))
    assert expected <= set(m.__all__), sorted(expected - set(m.__all__))
    shown = {n for n in names if not _dunder(n)}
    # nothing private, typing-only or internal (submodules, imported helpers) is listed
    assert shown == set(m.__all__), sorted(shown ^ set(m.__all__))
    assert not shown & TYPING_ONLY
    assert not [n for n in shown if n.startswith("_")]
    for name in names:  # every listed name exists
        assert getattr(m, name) is not None


def test_dir_shows_lazy_names_without_importing_them():
    code = (
        "import sys, minigrad as mg\n"
        "names = dir(mg)\n"
        "assert {'nn', 'graph', 'onnx', 'save'} <= set(names), names\n"
        "heavy = ['minigrad.nn', 'minigrad.graph', 'minigrad.onnx', 'minigrad.serialization',\n"
        "         'layers_plugins', 'networkx', 'graphviz']\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert out.strip() == "[]"


def test_ipython_completes_the_public_names():
    completer = pytest.importorskip("IPython.core.completer")
    c = completer.Completer(namespace={"mg": mg})
    assert "mg.graph" in c.attr_matches("mg.gr")
    assert "mg.register_op" in c.attr_matches("mg.reg")
    assert "mg.graph.Recorder" in c.attr_matches("mg.graph.Rec")
    assert c.attr_matches("mg.ann") == [] and c.attr_matches("mg.TYPE") == []
