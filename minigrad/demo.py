"""The demo behind ``python -m minigrad demo``: train a small CNN, then show what it learned.

Two tasks:

``xo``
    An X-vs-O classifier on the 9x9 images of :func:`minigrad.data.xo_images` (strokes +1 on a
    -1 background, randomly shifted, scaled, thickened and turned). The network is
    ``conv1 = Conv2d(1, 4, 3, padding=1) -> ReLU -> MaxPool2d(2) -> Flatten -> Linear(64, 2)``,
    trained with :class:`minigrad.nn.CrossEntropyLoss` (softmax + cross-entropy on two raw
    scores) and Adam. It trains in a few seconds on one core and is evaluated on a separately
    generated test set.
``digits``
    A LeNet-style network on scikit-learn's 8x8 handwritten digits
    (:func:`minigrad.data.load_digits`): two ``conv 3x3 (padding 1) -> ReLU -> max pool 2``
    stages (16 and 32 channels), then ``Linear(128, 128) -> ReLU -> Linear(128, 10)``,
    softmax + cross-entropy, Adam with a cosine learning-rate decay.

Both write pictures to an output folder: the forward and backward graphs of one training step
(SVG through :mod:`minigrad.graph`, plus the DOT text), the learned first-layer filters, the
loss curve, and the feature maps of one X and one O (``xo``) or the confusion matrix
(``digits``). The functions return a :class:`DemoResult`, so scripts and tests can check the
accuracy and the files.

matplotlib and tqdm are the optional extra ``demo`` (``pip install "minigrad-cnn[demo]"``),
scikit-learn the extra ``digits``; a missing one raises :class:`MissingExtraError`, whose
message names what to install.

>>> from minigrad import demo
>>> result = demo.run_xo(out_dir="out/demo", quick=True)        # doctest: +SKIP
>>> result.test_accuracy > 0.9, sorted(result.files)           # doctest: +SKIP
(True, ['backward_graph', 'feature_maps', 'filters', 'forward_graph', 'loss_curve', ...])
"""

from __future__ import annotations

import importlib
import math
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from . import data
from .autograd import no_grad
from .creation import manual_seed
from .tensor import Tensor

__all__ = [
    "DEFAULT_OUT",
    "GRAPHVIZ_HINT",
    "TASKS",
    "DemoResult",
    "EpochStats",
    "MissingExtraError",
    "build_lenet",
    "build_xo_model",
    "check_extras",
    "confusion_matrix",
    "evaluate",
    "fit",
    "plot_confusion_matrix",
    "plot_feature_maps",
    "plot_filters",
    "plot_loss_curve",
    "predict",
    "require",
    "run",
    "run_digits",
    "run_xo",
    "write_step_graphs",
]

TASKS: tuple[str, ...] = ("xo", "digits")
"""The demo's tasks, the first being the default."""

DEFAULT_OUT = Path("out") / "demo"
"""Where the pictures go unless another folder is given."""

GRAPHVIZ_HINT = (
    "install the Graphviz 'dot' program to turn them into SVG: "
    "'sudo apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS), "
    "'conda install graphviz', or see https://graphviz.org/download/; "
    "then run 'dot -Tsvg FILE.dot -o FILE.svg'"
)
"""How to get the Graphviz binary, printed when rendering SVG is not possible."""

_EXTRAS: dict[str, tuple[str, str]] = {
    # module -> (extra, what the demo uses it for)
    "matplotlib": ("demo", "the pictures"),
    "tqdm": ("demo", "the progress bar"),
    "sklearn": ("digits", "the handwritten digits data set"),
}
_DISTRIBUTIONS = {"sklearn": "scikit-learn"}


class MissingExtraError(ImportError):
    """An optional dependency of the demo is not installed; the message says what to install.

    >>> err = MissingExtraError("tqdm", "demo", "the progress bar")
    >>> err.hint
    'pip install "minigrad-cnn[demo]"'
    """

    def __init__(self, module: str, extra: str, purpose: str) -> None:
        self.module = module
        self.extra = extra
        self.hint = f'pip install "minigrad-cnn[{extra}]"'
        dist = _DISTRIBUTIONS.get(module, module)
        super().__init__(
            f"the demo needs {dist} for {purpose}, but it is not installed; it comes with "
            f"minigrad's optional extra '{extra}': {self.hint}",
            name=module,
        )


def require(module: str) -> ModuleType:
    """Import an optional dependency of the demo, or raise :class:`MissingExtraError`.

    >>> require("numpy").__name__
    'numpy'
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        extra, purpose = _EXTRAS.get(module, ("demo", "the demo"))
        raise MissingExtraError(module, extra, purpose) from err


def check_extras(task: str = "xo") -> None:
    """Raise :class:`MissingExtraError` now if ``task`` would need a missing extra later.

    >>> check_extras("xo")   # matplotlib and tqdm are installed here  # doctest: +SKIP
    """
    _check_task(task)
    needed = ["matplotlib", "tqdm"] + (["sklearn"] if task == "digits" else [])
    for module in needed:
        require(module)


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"demo: unknown task {task!r}; expected one of {', '.join(TASKS)}")


# ---------------------------------------------------------------------------------------------
# Models


def build_xo_model(channels: int = 4) -> Any:
    """The X-vs-O network: conv 3x3 -> ReLU -> max pool 2 -> flatten -> 2 scores.

    Input (N, 1, 9, 9), output (N, 2) raw scores (logits) for the classes
    :data:`minigrad.data.XO_CLASSES` ("O", "X").

    >>> import minigrad as mg
    >>> model = build_xo_model()                      # doctest: +SKIP
    >>> model(mg.zeros(5, 1, 9, 9)).shape             # doctest: +SKIP
    (5, 2)
    """
    from . import nn

    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, channels, 3, padding=1)),  # (N,1,9,9) -> (N,C,9,9)
                ("relu1", nn.ReLU()),
                ("pool1", nn.MaxPool2d(2)),  # (N,C,9,9) -> (N,C,4,4)
                ("flatten", nn.Flatten()),  # -> (N, C*16)
                ("fc", nn.Linear(channels * 16, len(data.XO_CLASSES))),
            ]
        )
    )


def build_lenet(channels: tuple[int, int] = (16, 32), hidden: int = 128) -> Any:
    """A LeNet-style network for 8x8 digits: two conv/ReLU/pool stages, then two dense layers.

    Input (N, 1, 8, 8), output (N, 10) raw scores; softmax turns them into probabilities.

    >>> import minigrad as mg
    >>> build_lenet()(mg.zeros(2, 1, 8, 8)).shape     # doctest: +SKIP
    (2, 10)
    """
    from . import nn

    c1, c2 = channels
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, c1, 3, padding=1)),  # (N,1,8,8) -> (N,c1,8,8)
                ("relu1", nn.ReLU()),
                ("pool1", nn.MaxPool2d(2)),  # -> (N,c1,4,4)
                ("conv2", nn.Conv2d(c1, c2, 3, padding=1)),  # -> (N,c2,4,4)
                ("relu2", nn.ReLU()),
                ("pool2", nn.MaxPool2d(2)),  # -> (N,c2,2,2)
                ("flatten", nn.Flatten()),  # -> (N, c2*4)
                ("fc1", nn.Linear(c2 * 4, hidden)),
                ("relu3", nn.ReLU()),
                ("fc2", nn.Linear(hidden, 10)),
            ]
        )
    )


# ---------------------------------------------------------------------------------------------
# Training and evaluation


@dataclass
class EpochStats:
    """What one epoch of :func:`fit` measured: mean training loss and accuracy, wall time."""

    epoch: int
    loss: float
    accuracy: float
    seconds: float


@dataclass
class DemoResult:
    """The outcome of :func:`run_xo` / :func:`run_digits`.

    ``files`` maps a picture's role ("loss_curve", "filters", "forward_graph"...) to its path;
    ``graphviz_missing`` is True when only the DOT text of the graphs could be written.
    """

    task: str
    model: Any
    history: list[EpochStats]
    test_accuracy: float
    seconds: float
    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    graphviz_missing: bool = False
    confusion: np.ndarray | None = None

    @property
    def losses(self) -> list[float]:
        """Mean training loss of every epoch."""
        return [h.loss for h in self.history]

    @property
    def train_accuracy(self) -> float:
        """Training accuracy of the last epoch (measured while training)."""
        return self.history[-1].accuracy if self.history else float("nan")


def predict(model: Any, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """The model's raw outputs for ``x``, in evaluation mode and without recording a graph.

    >>> import numpy as np, minigrad as mg
    >>> predict(mg.nn.Linear(3, 2), np.zeros((4, 3), np.float32)).shape
    (4, 2)
    """
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    outputs = []
    try:
        with no_grad():
            for start in range(0, len(x), batch_size):
                outputs.append(model(Tensor(x[start : start + batch_size])).data)
    finally:
        if was_training:
            model.train()
    return np.concatenate(outputs, axis=0)


def evaluate(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the class with the highest score (one output per class) against ``y``.

    >>> import numpy as np, minigrad as mg
    >>> fc = mg.nn.Linear(1, 2, bias=False)
    >>> fc.weight.data[:] = [[-1.0], [1.0]]           # class 1 when x > 0
    >>> evaluate(fc, np.array([[1.0], [-1.0]], np.float32), np.array([1, 0]))
    1.0
    """
    scores = predict(model, x)
    return float((scores.argmax(axis=1) == np.asarray(y)).mean())


def fit(
    model: Any,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    optimizer: Any,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    batch_size: int = 32,
    seed: int = 0,
    progress: bool = True,
    log: Callable[[str], None] | None = print,
    desc: str = "train",
    lr_schedule: Callable[[int], float] | None = None,
) -> list[EpochStats]:
    """Train ``model`` on (x, y) for ``epochs`` passes over shuffled mini-batches.

    Shows a tqdm progress bar per epoch (unless ``progress=False``) and calls ``log`` with one
    line per epoch: mean loss, training accuracy and seconds. ``y`` holds class indices and
    the model gives one score per class. ``lr_schedule(epoch)`` (epochs count from 1), when
    given, sets ``optimizer.lr`` at the start of every epoch.

    >>> import numpy as np, minigrad as mg
    >>> mg.manual_seed(0)
    >>> x = np.array([[1.0], [-1.0]] * 8, np.float32); y = np.array([1, 0] * 8)
    >>> model = mg.nn.Linear(1, 2)
    >>> opt = mg.optim.SGD(model.parameters(), lr=0.5)
    >>> loss_fn = mg.nn.CrossEntropyLoss()
    >>> hist = fit(model, loss_fn, opt, x, y, epochs=20, progress=False, log=None)
    >>> hist[-1].accuracy
    1.0
    """
    tqdm = require("tqdm").tqdm
    loader = data.DataLoader(x, y, batch_size=batch_size, shuffle=True, seed=seed)
    history: list[EpochStats] = []
    model.train()
    # one bar for the whole run; the per-epoch lines are printed above it
    bar = tqdm(
        total=epochs * len(loader),
        desc=desc,
        unit="batch",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            if lr_schedule is not None:
                optimizer.lr = float(lr_schedule(epoch))
            bar.set_description(f"{desc} epoch {epoch}/{epochs}", refresh=False)
            total_loss, correct, seen = 0.0, 0, 0
            for xb, yb in loader:
                scores = model(Tensor(xb))
                loss = loss_fn(scores, Tensor(yb))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                n = len(yb)
                total_loss += float(loss.item()) * n
                correct += int((scores.data.argmax(axis=1) == yb).sum())
                seen += n
                bar.set_postfix(
                    loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.3f}", refresh=False
                )
                bar.update(1)
            seconds = time.perf_counter() - start
            stats = EpochStats(epoch, total_loss / seen, correct / seen, seconds)
            history.append(stats)
            if log is not None:
                line = (
                    f"epoch {epoch:>3}/{epochs}  loss {stats.loss:.4f}  "
                    f"train accuracy {stats.accuracy:6.1%}  ({stats.seconds:.2f} s)"
                )
                with tqdm.external_write_mode(file=sys.stdout):
                    log(line)
    finally:
        bar.close()
    return history


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> np.ndarray:
    """Counts ``m[true, predicted]``, shape (n_classes, n_classes).

    >>> confusion_matrix([0, 1, 1], [0, 1, 0], 2).tolist()
    [[1, 0], [1, 1]]
    """
    m = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return m


# ---------------------------------------------------------------------------------------------
# Graphs of one training step


def write_step_graphs(
    model: Any,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    x: np.ndarray,
    y: np.ndarray,
    out_dir: str | os.PathLike[str],
    prefix: str = "",
    title: str = "one training step",
) -> tuple[dict[str, Path], bool]:
    """Draw the forward and the backward graph of one training step on the batch (x, y).

    Runs the model and the loss, writes ``{prefix}forward_graph.dot`` and
    ``{prefix}backward_graph.dot`` (DOT text, no Graphviz binary needed) and, when the
    Graphviz ``dot`` program is installed, the matching ``.svg`` files. The backward graph
    shows the gradient values of this step (recomputed by the drawing, before any
    ``backward()``); no ``.grad`` is touched and the model is unchanged.

    Returns the written files by role ("forward_graph", "backward_graph", and
    "forward_graph_dot", "backward_graph_dot") and whether Graphviz was missing.

    >>> files, missing = write_step_graphs(model, loss_fn, x[:4], y[:4], "out")   # doctest: +SKIP
    """
    from . import graph

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    images, labels = Tensor(x), Tensor(y)
    images.name, labels.name = "images", "labels"
    loss = loss_fn(model(images), labels)
    loss.name = "loss"
    files: dict[str, Path] = {}
    missing = False
    # the backward graph is drawn before backward() runs, while the saved state is still there
    for role, backward in (("forward_graph", False), ("backward_graph", True)):
        view = "backward" if backward else "forward"
        digraph = graph.draw(loss, backward=backward, title=f"{title}: {view}")
        dot_path = out / f"{prefix}{role}.dot"
        dot_path.write_text(digraph.source, encoding="utf-8")
        files[f"{role}_dot"] = dot_path
        if missing:
            continue
        svg_path = out / f"{prefix}{role}.svg"
        try:
            graph.render(digraph, svg_path, format="svg")
        except graph.GraphvizNotFoundError:
            missing = True
            continue
        files[role] = svg_path
    return files, missing


# ---------------------------------------------------------------------------------------------
# Pictures (matplotlib's object API with the Agg canvas: no pyplot, no global backend change)


def _figure(width: float, height: float) -> Any:
    require("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def plot_loss_curve(
    history: Sequence[EpochStats], path: str | os.PathLike[str], title: str = "training"
) -> Path:
    """Save the mean training loss (and accuracy) per epoch as a PNG; returns the path.

    >>> plot_loss_curve(result.history, "out/loss.png")   # doctest: +SKIP
    """
    fig = _figure(6, 3.5)
    ax = fig.add_subplot(1, 1, 1)
    epochs = [h.epoch for h in history]
    ax.plot(epochs, [h.loss for h in history], "o-", color="tab:blue", label="loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean training loss", color="tab:blue")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    acc = ax.twinx()
    acc.plot(epochs, [h.accuracy for h in history], "s--", color="tab:orange", label="accuracy")
    acc.set_ylabel("training accuracy", color="tab:orange")
    acc.set_ylim(0, 1.02)
    return _save(fig, path)


def plot_filters(
    weight: np.ndarray, path: str | os.PathLike[str], title: str = "learned filters"
) -> Path:
    """Save a grid of the filters of a conv weight (out_ch, in_ch, kh, kw) as a PNG.

    Each filter (first input channel) is drawn with a red/blue colour map centred on zero,
    with its numbers written in when the filter is small.

    >>> plot_filters(model.conv1.weight.data, "out/filters.png")   # doctest: +SKIP
    """
    w = np.asarray(weight)
    if w.ndim != 4:
        raise ValueError(
            f"plot_filters: expected a weight of shape (out, in, kh, kw), got {w.shape}"
        )
    n = w.shape[0]
    cols = min(n, 8)
    rows = -(-n // cols)
    fig = _figure(1.6 * cols + 0.6, 1.7 * rows + 0.5)
    fig.suptitle(title)
    limit = float(np.abs(w).max()) or 1.0
    for k in range(n):
        ax = fig.add_subplot(rows, cols, k + 1)
        f = w[k, 0]
        ax.imshow(f, cmap="RdBu_r", vmin=-limit, vmax=limit)
        if f.size <= 25:
            for (i, j), v in np.ndenumerate(f):
                text = f"{v:.1f}"
                ax.text(
                    j, i, "0.0" if text == "-0.0" else text, ha="center", va="center", fontsize=7
                )
        ax.set_title(f"filter {k}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    return _save(fig, path)


def plot_feature_maps(
    model: Any,
    images: np.ndarray,
    names: Sequence[str],
    path: str | os.PathLike[str],
    classes: Sequence[str] | None = data.XO_CLASSES,
) -> Path:
    """Save, for each image, the input, the maps after conv1+ReLU and after pooling, as a PNG.

    ``model`` must have ``conv1``, ``relu1`` and ``pool1`` layers (as :func:`build_xo_model`);
    each input's title gives the model's prediction (a class from ``classes``) and its
    softmax probability.

    >>> plot_feature_maps(model, x[:2], ["X", "O"], "out/maps.png")   # doctest: +SKIP
    """
    with no_grad():
        t = Tensor(np.asarray(images, dtype=np.float32))
        maps = model.relu1(model.conv1(t))
        pooled = model.pool1(maps)
    maps_a, pooled_a = maps.data, pooled.data
    scores = predict(model, images)
    probs = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    n, c = maps_a.shape[:2]
    cols = 1 + 2 * c
    fig = _figure(1.3 * cols + 0.5, 1.5 * n + 0.6)
    fig.suptitle("feature maps: conv1 + ReLU, then 2x2 max pooling")
    for i in range(n):
        ax = fig.add_subplot(n, cols, i * cols + 1)
        ax.imshow(images[i, 0], cmap="gray", vmin=-1, vmax=1)
        guess = int(probs[i].argmax())
        label = classes[guess] if classes is not None else str(guess)
        ax.set_title(f"{names[i]}: model says {label} ({probs[i, guess]:.0%})", fontsize=8)
        ax.set_axis_off()
        top = float(maps_a[i].max()) or 1.0
        for k in range(c):
            ax = fig.add_subplot(n, cols, i * cols + 2 + k)
            ax.imshow(maps_a[i, k], cmap="magma", vmin=0, vmax=top)
            ax.set_title(f"map {k}", fontsize=8)
            ax.set_axis_off()
            ax = fig.add_subplot(n, cols, i * cols + 2 + c + k)
            ax.imshow(pooled_a[i, k], cmap="magma", vmin=0, vmax=top)
            ax.set_title(f"pooled {k}", fontsize=8)
            ax.set_axis_off()
    return _save(fig, path)


def plot_confusion_matrix(
    matrix: np.ndarray,
    path: str | os.PathLike[str],
    labels: Sequence[str] | None = None,
    title: str = "confusion matrix (test set)",
) -> Path:
    """Save a confusion matrix (rows: true class, columns: predicted) with its counts as a PNG.

    >>> plot_confusion_matrix(confusion_matrix(y, y_hat, 10), "out/cm.png")   # doctest: +SKIP
    """
    m = np.asarray(matrix)
    k = m.shape[0]
    labels = [str(i) for i in range(k)] if labels is None else list(labels)
    fig = _figure(0.5 * k + 2.5, 0.5 * k + 2)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(m, cmap="Blues")
    top = m.max() or 1
    for (i, j), v in np.ndenumerate(m):
        if v:
            color = "white" if v > top / 2 else "black"
            ax.text(j, i, str(v), ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks(range(k), labels)
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    return _save(fig, path)


# ---------------------------------------------------------------------------------------------
# The two demos


def _cosine(lr: float, epochs: int) -> Callable[[int], float]:
    """Learning rate ``lr`` at epoch 1, decaying along a half cosine towards 0 at the end."""
    return lambda epoch: lr * 0.5 * (1.0 + math.cos(math.pi * (epoch - 1) / epochs))


def _finish_graphs(files: dict[str, Path], missing: bool, log: Callable[[str], None]) -> None:
    if missing:
        dots = ", ".join(str(files[k]) for k in ("forward_graph_dot", "backward_graph_dot"))
        log(f"Graphviz is not installed: wrote the graphs as DOT text ({dots}); {GRAPHVIZ_HINT}")


def run_xo(
    out_dir: str | os.PathLike[str] = DEFAULT_OUT,
    epochs: int | None = None,
    seed: int = 0,
    quick: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> DemoResult:
    """Train the X-vs-O CNN, evaluate it on a held-out test set and write the pictures.

    Default: 150 training and 100 test images per class, 8 epochs (``quick``: 40 and 30, 4
    epochs). Writes ``xo_forward_graph.svg``, ``xo_backward_graph.svg`` (and their ``.dot``),
    ``xo_filters.png``, ``xo_feature_maps.png``, ``xo_loss_curve.png`` and the trained
    weights ``xo_model.npz`` (:func:`minigrad.load` reads them) to ``out_dir``.

    >>> result = run_xo(out_dir="out/demo", quick=True, progress=False)   # doctest: +SKIP
    >>> result.test_accuracy                                            # doctest: +SKIP
    1.0
    """
    from . import nn, optim, serialization

    check_extras("xo")
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_train, n_test = (40, 30) if quick else (150, 100)
    epochs = (4 if quick else 8) if epochs is None else int(epochs)
    if epochs < 1:
        raise ValueError(f"demo xo: epochs must be at least 1, got {epochs}")

    x_train, y_train = data.xo_images(n_per_class=n_train, seed=seed)
    # a different seed draws different shapes: the test images are never seen in training
    x_test, y_test = data.xo_images(n_per_class=n_test, seed=seed + 10_000)
    log(
        f"X vs O: {len(x_train)} training and {len(x_test)} test images of 9x9 pixels, "
        f"classes {data.XO_CLASSES}"
    )

    manual_seed(seed)
    model = build_xo_model()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=0.02)
    log(str(model))

    files, missing = write_step_graphs(
        model,
        loss_fn,
        x_train[:4],
        y_train[:4],
        out,
        "xo_",
        "X vs O, one training step on 4 images",
    )
    history = fit(
        model,
        loss_fn,
        optimizer,
        x_train,
        y_train,
        epochs,
        batch_size=16,
        seed=seed,
        progress=progress,
        log=log,
        desc="xo",
    )
    test_accuracy = evaluate(model, x_test, y_test)

    files["loss_curve"] = plot_loss_curve(history, out / "xo_loss_curve.png", "X vs O")
    files["filters"] = plot_filters(
        model.conv1.weight.data, out / "xo_filters.png", "X vs O: learned 3x3 filters of conv1"
    )
    first_x = int(np.flatnonzero(y_test == data.XO_CLASSES.index("X"))[0])
    first_o = int(np.flatnonzero(y_test == data.XO_CLASSES.index("O"))[0])
    files["feature_maps"] = plot_feature_maps(
        model, x_test[[first_x, first_o]], ["X", "O"], out / "xo_feature_maps.png"
    )
    files["model"] = out / "xo_model.npz"
    serialization.save(model, files["model"])

    seconds = time.perf_counter() - started
    log(f"test accuracy {test_accuracy:.1%} on {len(x_test)} held-out images ({seconds:.1f} s)")
    _finish_graphs(files, missing, log)
    log(f"pictures written to {out}")
    return DemoResult("xo", model, history, test_accuracy, seconds, out, files, missing)


def run_digits(
    out_dir: str | os.PathLike[str] = DEFAULT_OUT,
    epochs: int | None = None,
    seed: int = 0,
    quick: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> DemoResult:
    """Train the LeNet-style CNN on scikit-learn's 8x8 digits and write the pictures.

    Default: the full training split (1438 images), 40 epochs of Adam (batch 16, learning
    rate 0.002 decaying to 0 along a half cosine), evaluated on the 359 test images
    (``quick``: 500 training images, 4 epochs from learning rate 0.005). Writes
    ``digits_loss_curve.png``, ``digits_confusion_matrix.png``, ``digits_filters.png``, the
    graphs of one training step (``digits_forward_graph.svg``, ``digits_backward_graph.svg``
    and their ``.dot``) and the weights ``digits_model.npz`` to ``out_dir``.

    >>> result = run_digits(out_dir="out/demo", progress=False)   # doctest: +SKIP
    >>> result.test_accuracy >= 0.97                              # doctest: +SKIP
    True
    """
    from . import nn, optim, serialization

    check_extras("digits")
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    epochs = (4 if quick else 40) if epochs is None else int(epochs)
    if epochs < 1:
        raise ValueError(f"demo digits: epochs must be at least 1, got {epochs}")

    x_train, y_train, x_test, y_test = data.load_digits(test_fraction=0.2, seed=seed)
    if quick:
        x_train, y_train = x_train[:500], y_train[:500]
    log(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels")

    manual_seed(seed)
    model = build_lenet()
    loss_fn = nn.CrossEntropyLoss()  # softmax + cross-entropy on the 10 raw scores
    lr = 0.005 if quick else 0.002  # a short run needs bigger steps
    optimizer = optim.Adam(model.parameters(), lr=lr)
    log(str(model))

    files, missing = write_step_graphs(
        model,
        loss_fn,
        x_train[:4],
        y_train[:4],
        out,
        "digits_",
        "digits, one training step on 4 images",
    )
    history = fit(
        model,
        loss_fn,
        optimizer,
        x_train,
        y_train,
        epochs,
        batch_size=16,
        seed=seed,
        progress=progress,
        log=log,
        desc="digits",
        lr_schedule=_cosine(lr, epochs),
    )
    predicted = predict(model, x_test).argmax(axis=1)
    test_accuracy = float((predicted == y_test).mean())
    cm = confusion_matrix(y_test, predicted, 10)

    files["loss_curve"] = plot_loss_curve(history, out / "digits_loss_curve.png", "digits")
    files["confusion_matrix"] = plot_confusion_matrix(
        cm,
        out / "digits_confusion_matrix.png",
        title=f"confusion matrix, {len(y_test)} test images, accuracy {test_accuracy:.1%}",
    )
    files["filters"] = plot_filters(
        model.conv1.weight.data, out / "digits_filters.png", "digits: learned filters of conv1"
    )
    files["model"] = out / "digits_model.npz"
    serialization.save(model, files["model"])

    seconds = time.perf_counter() - started
    log(f"test accuracy {test_accuracy:.1%} on {len(x_test)} test images")
    log(f"wall time {seconds:.1f} s")
    _finish_graphs(files, missing, log)
    log(f"pictures written to {out}")
    return DemoResult("digits", model, history, test_accuracy, seconds, out, files, missing, cm)


def run(task: str = "xo", **kwargs: Any) -> DemoResult:
    """Run the demo ``task`` ("xo" or "digits") with :func:`run_xo`'s keyword arguments.

    >>> run("digits", quick=True, out_dir="out/demo")   # doctest: +SKIP
    """
    _check_task(task)
    return (run_xo if task == "xo" else run_digits)(**kwargs)
