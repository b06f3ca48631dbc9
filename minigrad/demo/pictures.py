"""The demo's pictures, drawn with matplotlib's object API on the Agg canvas (no pyplot, no
global backend change): loss curve, learned filters, feature maps, confusion matrix.

matplotlib is the optional extra ``demo``; without it :func:`available` is False and the demo
skips these pictures (each function here raises :class:`~minigrad.demo.MissingExtraError`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import data
from ..autograd import no_grad
from ..tensor import Tensor
from .extras import installed, require
from .training import EpochStats, predict

__all__ = [
    "available",
    "plot_confusion_matrix",
    "plot_feature_maps",
    "plot_filters",
    "plot_loss_curve",
]


def available() -> bool:
    """Whether matplotlib is installed, so the pictures can be drawn."""
    return installed("matplotlib")


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
