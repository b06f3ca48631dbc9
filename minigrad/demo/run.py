"""One run function for both demo tasks: data, model, graphs of one step, training,
evaluation, pictures and the saved weights; a task only says what differs.

>>> from minigrad import demo
>>> result = demo.run("xo", out_dir="out/demo", quick=True)       # doctest: +SKIP
>>> result.test_accuracy > 0.9                                    # doctest: +SKIP
True
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import data, nn, optim, serialization
from ..creation import manual_seed
from ..graph.recorder import Recorder
from . import pictures
from .extras import Extra, check_extras, check_task, install_hint
from .graphs import graphviz_note, write_step_graphs
from .models import build_lenet, build_xo_model
from .training import EpochStats, confusion_matrix, fit, predict

__all__ = ["DEFAULT_OUT", "DemoResult", "run", "run_digits", "run_xo"]

DEFAULT_OUT = Path("out") / "demo"
"""Where the pictures go unless another folder is given."""


@dataclass
class DemoResult:
    """The outcome of :func:`run`.

    ``files`` maps a file's role ("loss_curve", "filters", "forward_graph", "model"...) to
    its path; ``graphviz_missing`` is True when only the DOT text of the graphs could be
    written; ``skipped`` lists the optional dependencies that were missing (and what the demo
    left out because of them); ``confusion`` counts ``[true, predicted]`` on the test set.
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
    skipped: list[Extra] = field(default_factory=list)

    @property
    def losses(self) -> list[float]:
        """Mean training loss of every epoch."""
        return [h.loss for h in self.history]

    @property
    def train_accuracy(self) -> float:
        """Training accuracy of the last epoch (measured while training)."""
        return self.history[-1].accuracy if self.history else float("nan")


@dataclass
class _Split:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    about: str  # the line that introduces the data


@dataclass(frozen=True)
class _Task:
    """What differs between the tasks; everything else is :func:`run`."""

    title: str
    classes: tuple[str, ...]
    epochs: tuple[int, int]  # (full, quick)
    lr: tuple[float, float]  # (full, quick)
    cosine: bool  # decay the learning rate along a half cosine
    load: Callable[[int, bool], _Split]
    build: Callable[[], Any]


def _load_xo(seed: int, quick: bool) -> _Split:
    n_train, n_test = (40, 30) if quick else (150, 100)
    x_train, y_train = data.xo_images(n_per_class=n_train, seed=seed)
    # a different seed draws different shapes: the test images are never seen in training
    x_test, y_test = data.xo_images(n_per_class=n_test, seed=seed + 10_000)
    about = (
        f"X vs O: {len(x_train)} training and {len(x_test)} test images of 9x9 pixels, "
        f"classes {data.XO_CLASSES}"
    )
    return _Split(x_train, y_train, x_test, y_test, about)


def _load_digits(seed: int, quick: bool) -> _Split:
    x_train, y_train, x_test, y_test = data.load_digits(test_fraction=0.2, seed=seed)
    if quick:
        x_train, y_train = x_train[:500], y_train[:500]
    about = f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels"
    return _Split(x_train, y_train, x_test, y_test, about)


_TASKS: dict[str, _Task] = {
    "xo": _Task("X vs O", data.XO_CLASSES, (8, 4), (0.02, 0.02), False, _load_xo, build_xo_model),
    # a short digits run needs bigger steps
    "digits": _Task(
        "digits", tuple("0123456789"), (40, 4), (0.002, 0.005), True, _load_digits, build_lenet
    ),
}


def _cosine(lr: float, epochs: int) -> Callable[[int], float]:
    """Learning rate ``lr`` at epoch 1, decaying along a half cosine towards 0 at the end."""
    return lambda epoch: lr * 0.5 * (1.0 + math.cos(math.pi * (epoch - 1) / epochs))


_BATCH = 16
_FRAMES = 50  # about this many frames of the training history, however long the run


def _recorder(model: Any, optimizer: Any, split: _Split, epochs: int) -> Any:
    """A Recorder of the training run, probing a few test images of every class.

    Dead-unit and saturation flags ask whether a unit is off on *every* probe, so a handful
    of probes per class (four X's and four O's; one image per digit) makes them meaningful.
    """
    steps = epochs * -(-len(split.x_train) // _BATCH)
    return Recorder(
        model,
        probes=split.x_test[_probes(split)],
        every=max(1, steps // _FRAMES),
        optimizer=optimizer,
    )


def _probes(split: _Split) -> list[int]:
    """The probe images: the first test images of every class (four each for two classes)."""
    classes = np.unique(split.y_test)
    per_class = 4 if len(classes) <= 2 else 1
    return [int(i) for c in classes for i in np.flatnonzero(split.y_test == c)[:per_class]]


def _skip_note(skipped: list[Extra]) -> str:
    what = ", ".join(f"{e.module} ({e.purpose})" for e in skipped)
    left_out = []
    if any(e.module == "matplotlib" for e in skipped):
        left_out.append("skipping the pictures (the graphs are still written)")
    if any(e.module == "tqdm" for e in skipped):
        left_out.append("no progress bar")
    return (
        f"note: not installed: {what}; {', '.join(left_out)}. "
        f"For everything: {install_hint([e.extra for e in skipped])}"
    )


def _pictures(
    name: str, spec: _Task, model: Any, result: DemoResult, split: _Split, out: Path
) -> dict[str, Path]:
    files = {
        "loss_curve": pictures.plot_loss_curve(
            result.history, out / f"{name}_loss_curve.png", spec.title
        ),
        "filters": pictures.plot_filters(
            model.conv1.weight.data,
            out / f"{name}_filters.png",
            f"{spec.title}: learned filters of conv1",
        ),
    }
    if name == "xo":  # one X and one O of the test set, through conv1 and pool1
        first = [int(np.flatnonzero(split.y_test == data.XO_CLASSES.index(c))[0]) for c in "XO"]
        files["feature_maps"] = pictures.plot_feature_maps(
            model, split.x_test[first], ["X", "O"], out / f"{name}_feature_maps.png"
        )
    else:
        assert result.confusion is not None  # computed for every task
        files["confusion_matrix"] = pictures.plot_confusion_matrix(
            result.confusion,
            out / f"{name}_confusion_matrix.png",
            title=f"confusion matrix, {len(split.y_test)} test images, "
            f"accuracy {result.test_accuracy:.1%}",
        )
    return files


def run(
    task: str = "xo",
    out_dir: str | os.PathLike[str] = DEFAULT_OUT,
    epochs: int | None = None,
    seed: int = 0,
    quick: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> DemoResult:
    """Train the demo CNN of ``task`` ("xo" or "digits"), evaluate it, write its files.

    xo: 150 training and 100 test images per class, 8 epochs of Adam (``quick``: 40 and 30,
    4 epochs). digits: scikit-learn's 1438 training images, 40 epochs of Adam from learning
    rate 0.002 decaying along a half cosine, 359 test images (``quick``: 500 training images,
    4 epochs from 0.005). Writes, with the task's name as prefix (``xo_``, ``digits_``): the
    graphs of one training step (``forward_graph.svg``, ``backward_graph.svg`` and their
    ``.dot``), that step in the explorer page (``explorer.html``), the training history as a
    page with a timeline (``training.html``, from a :class:`minigrad.graph.Recorder`), the
    weights (``model.npz``), and, when matplotlib is installed, the pictures
    (``loss_curve.png``, ``filters.png``, and ``feature_maps.png`` or
    ``confusion_matrix.png``). A missing scikit-learn stops digits before any work with
    :class:`MissingExtraError`; missing matplotlib or tqdm only skip what needs them.
    """
    # over 60 lines only because of its docstring; the code is 51 lines
    check_task(task)
    spec = _TASKS[task]
    epochs = spec.epochs[quick] if epochs is None else int(epochs)
    if epochs < 1:
        raise ValueError(f"demo {task}: epochs must be at least 1, got {epochs}")
    skipped = check_extras(task)  # raises before any work when the task cannot run
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if skipped:
        log(_skip_note(skipped))
    split = spec.load(seed, quick)
    log(split.about)

    manual_seed(seed)
    model = spec.build()
    loss_fn = nn.CrossEntropyLoss()  # softmax + cross-entropy on the raw scores
    lr = spec.lr[quick]
    optimizer = optim.Adam(model.parameters(), lr=lr)
    log(str(model))
    title = f"{spec.title}, one training step on 4 images"
    # the default task's pages are the demo's own: explorer.html, training.html
    pages = "" if task == "xo" else f"{task}_"
    files, missing = write_step_graphs(
        model,
        loss_fn,
        split.x_train[:4],
        split.y_train[:4],
        out,
        f"{task}_",
        title,
        pages,
        classes=[str(c) for c in spec.classes],
    )
    schedule = _cosine(lr, epochs) if spec.cosine else None
    recorder = _recorder(model, optimizer, split, epochs)
    history = fit(
        model, loss_fn, optimizer, split.x_train, split.y_train, epochs, batch_size=_BATCH,
        seed=seed, progress=progress, log=log, desc=task, lr_schedule=schedule,
        on_step=recorder.step,
    )  # fmt: skip
    predicted = predict(model, split.x_test).argmax(axis=1)
    accuracy = float((predicted == split.y_test).mean())
    cm = confusion_matrix(split.y_test, predicted, len(spec.classes))
    result = DemoResult(task, model, history, accuracy, 0.0, out, files, missing, cm, skipped)
    if pictures.available():
        files.update(_pictures(task, spec, model, result, split, out))
    # the timeline page: the probes' predictions marked right or wrong, at most 1 MB
    labels = split.y_test[_probes(split)]
    timeline = recorder.explore(labels=labels, classes=list(spec.classes), max_bytes=1_000_000)
    files["training"] = Path(timeline.save(out / f"{pages}training.html"))
    files["model"] = out / f"{task}_model.npz"
    serialization.save(model, files["model"])
    result.seconds = time.perf_counter() - started
    log(f"test accuracy {accuracy:.1%} on {len(split.x_test)} held-out test images")
    log(f"wall time {result.seconds:.1f} s")
    if missing:
        log(graphviz_note(files))
    written = [str(files[k]) for k in ("explorer", "training") if k in files]
    log(f"open in a browser: {', '.join(written)}")
    log(f"files written to {out}")
    return result


def run_xo(**kwargs: Any) -> DemoResult:
    """``run("xo", ...)``: the X-vs-O CNN on 9x9 images (see :func:`run`)."""
    return run("xo", **kwargs)


def run_digits(**kwargs: Any) -> DemoResult:
    """``run("digits", ...)``: the LeNet-style CNN on the 8x8 digits (see :func:`run`)."""
    return run("digits", **kwargs)
