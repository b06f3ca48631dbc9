"""The demo behind ``python -m minigrad demo``: train a small CNN, then show what it learned.

Two tasks, run by one function, :func:`run`:

``xo``
    An X-vs-O classifier on the 9x9 images of :func:`minigrad.data.xo_images` (strokes +1 on a
    -1 background, randomly shifted, scaled, thickened and turned). The network is
    ``conv1 = Conv2d(1, 4, 3, padding=1) -> ReLU -> MaxPool2d(2) -> Flatten -> Linear(64, 2)``,
    trained with :class:`minigrad.nn.CrossEntropyLoss` (softmax + cross-entropy on two raw
    scores) and Adam, and evaluated on a separately generated test set.
``digits``
    A LeNet-style network on scikit-learn's 8x8 handwritten digits
    (:func:`minigrad.data.load_digits`): two ``conv 3x3 (padding 1) -> ReLU -> max pool 2``
    stages (16 and 32 channels), then ``Linear(128, 128) -> ReLU -> Linear(128, 10)``,
    softmax + cross-entropy, Adam with a cosine learning-rate decay.

Both write to an output folder the forward and backward graphs of one training step (SVG
through :mod:`minigrad.graph`, plus the DOT text), the trained weights, and, with matplotlib,
the learned first-layer filters, the loss curve, and the feature maps of one X and one O
(``xo``) or the confusion matrix (``digits``). :func:`run` returns a :class:`DemoResult`.

matplotlib and tqdm are the optional extra ``demo`` (``pip install "minigrad-cnn[demo]"``):
without them the demo trains and writes its graphs, skipping the pictures and the progress
bar. scikit-learn is the extra ``digits``, which that task cannot do without: it raises
:class:`MissingExtraError`, whose message lists everything missing and one pip command.

Files by job: ``extras`` (optional dependencies), ``models``, ``training`` (loop,
evaluation), ``graphs`` (drawings of one step), ``pictures`` (matplotlib), ``run``.

>>> from minigrad import demo
>>> result = demo.run("xo", out_dir="out/demo", quick=True)     # doctest: +SKIP
>>> result.test_accuracy > 0.9, sorted(result.files)           # doctest: +SKIP
(True, ['backward_graph', 'backward_graph_dot', 'feature_maps', 'filters', ...])
"""

from __future__ import annotations

from .extras import (
    TASKS,
    Extra,
    MissingExtraError,
    check_extras,
    install_hint,
    missing_extras,
    require,
)
from .graphs import GRAPHVIZ_HINT, write_step_graphs
from .models import build_lenet, build_xo_model
from .pictures import plot_confusion_matrix, plot_feature_maps, plot_filters, plot_loss_curve
from .run import DEFAULT_OUT, DemoResult, run, run_digits, run_xo
from .training import EpochStats, confusion_matrix, evaluate, fit, predict, show_progress

__all__ = [
    "DEFAULT_OUT",
    "GRAPHVIZ_HINT",
    "TASKS",
    "DemoResult",
    "EpochStats",
    "Extra",
    "MissingExtraError",
    "build_lenet",
    "build_xo_model",
    "check_extras",
    "confusion_matrix",
    "evaluate",
    "fit",
    "install_hint",
    "missing_extras",
    "plot_confusion_matrix",
    "plot_feature_maps",
    "plot_filters",
    "plot_loss_curve",
    "predict",
    "require",
    "run",
    "run_digits",
    "run_xo",
    "show_progress",
    "write_step_graphs",
]
