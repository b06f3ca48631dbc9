"""The training loop, evaluation and the confusion matrix used by both demo tasks.

The progress bar (tqdm, optional) is shown only when both stdout and stderr are terminals:
redirected to a file or a pipe, the output is the epoch lines alone, never mixed with a bar.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import data
from ..autograd import no_grad
from ..tensor import Tensor
from .extras import installed

__all__ = ["EpochStats", "confusion_matrix", "evaluate", "fit", "predict", "show_progress"]


@dataclass
class EpochStats:
    """What one epoch of :func:`fit` measured: mean training loss and accuracy, wall time."""

    epoch: int
    loss: float
    accuracy: float
    seconds: float

    def line(self, epochs: int) -> str:
        """The epoch's line of the demo's output.

        >>> EpochStats(1, 0.5, 0.75, 0.25).line(8)
        'epoch   1/8  loss 0.5000  train accuracy  75.0%  (0.25 s)'
        """
        return (
            f"epoch {self.epoch:>3}/{epochs}  loss {self.loss:.4f}  "
            f"train accuracy {self.accuracy:6.1%}  ({self.seconds:.2f} s)"
        )


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


def confusion_matrix(
    y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray, n_classes: int
) -> np.ndarray:
    """Counts ``m[true, predicted]``, shape (n_classes, n_classes).

    >>> confusion_matrix([0, 1, 1], [0, 1, 0], 2).tolist()
    [[1, 0], [1, 1]]
    """
    m = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return m


def show_progress(progress: bool = True) -> bool:
    """Whether :func:`fit` draws a progress bar: asked for, tqdm installed, and both stdout
    and stderr are terminals (so the bar never ends up inside redirected output)."""
    if not progress or not installed("tqdm"):
        return False
    return all(getattr(s, "isatty", lambda: False)() for s in (sys.stdout, sys.stderr))


class _NoBar:
    """Stands in for a tqdm bar when none is shown."""

    def update(self, n: int = 1) -> None: ...
    def set_description(self, text: str, refresh: bool = True) -> None: ...
    def set_postfix(self, **kwargs: Any) -> None: ...
    def close(self) -> None: ...


def _bar(total: int, desc: str, shown: bool) -> Any:
    if not shown:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="batch", file=sys.stderr, dynamic_ncols=True)


def _log_line(log: Callable[[str], None], line: str, shown: bool) -> None:
    if not shown:
        log(line)
        return
    from tqdm import tqdm

    with tqdm.external_write_mode(file=sys.stdout):  # the line goes above the bar
        log(line)


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
    on_step: Callable[[Tensor], None] | None = None,
) -> list[EpochStats]:
    """Train ``model`` on (x, y) for ``epochs`` passes over shuffled mini-batches.

    Calls ``log`` with one line per epoch (mean loss, training accuracy, seconds) and shows a
    progress bar when :func:`show_progress` allows it. ``y`` holds class indices and the model
    gives one score per class. ``lr_schedule(epoch)`` (epochs count from 1), when given, sets
    ``optimizer.lr`` at the start of every epoch; ``on_step(loss)`` runs after every
    optimizer step (e.g. a :class:`minigrad.graph.Recorder`'s ``step``).

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
    # over 60 lines only because of its docstring; the code is 36 lines
    loader = data.DataLoader(x, y, batch_size=batch_size, shuffle=True, seed=seed)
    shown = show_progress(progress)
    bar = _bar(epochs * len(loader), desc, shown)  # one bar for the whole run
    history: list[EpochStats] = []
    model.train()
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
                if on_step is not None:
                    on_step(loss)
                total_loss += float(loss.item()) * len(yb)
                correct += int((scores.data.argmax(axis=1) == yb).sum())
                seen += len(yb)
                bar.set_postfix(
                    loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.3f}", refresh=False
                )
                bar.update(1)
            stats = EpochStats(
                epoch, total_loss / seen, correct / seen, time.perf_counter() - start
            )
            history.append(stats)
            if log is not None:
                _log_line(log, stats.line(epochs), shown)
    finally:
        bar.close()
    return history
