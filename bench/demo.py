"""The digits demo as a workload: wall time until the demo's CNN reaches 98% test accuracy.

Trains the demo's own model (``minigrad.demo.models.build_lenet``) with the demo's training
loop (``minigrad.demo.training.fit``: Adam, mini-batches of 16) on scikit-learn's 8x8 digits
(``minigrad.data.load_digits``, the demo's split), one epoch at a time at the demo's starting
learning rate, and measures the training time (test evaluations excluded) until the test
accuracy first reaches ``GOAL``. minigrad only: there is no PyTorch twin of the demo.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import minigrad as mg

if TYPE_CHECKING:
    from .worker import Runner

GOAL = 0.98
MAX_EPOCHS = 40
LR = 0.002
BATCH = 16


def time_to_accuracy(goal: float = GOAL, max_epochs: int = MAX_EPOCHS, seed: int = 0) -> dict:
    """Train until the test accuracy reaches ``goal``; seconds, epochs and accuracy reached."""
    from minigrad.demo.models import build_lenet
    from minigrad.demo.training import evaluate, fit

    x_train, y_train, x_test, y_test = mg.data.load_digits(test_fraction=0.2, seed=seed)
    mg.manual_seed(seed)
    model = build_lenet()
    optimizer = mg.optim.Adam(model.parameters(), lr=LR)
    loss_fn = mg.nn.CrossEntropyLoss()
    seconds, accuracy = 0.0, 0.0
    for epoch in range(1, max_epochs + 1):
        start = time.perf_counter()
        fit(model, loss_fn, optimizer, x_train, y_train, 1, batch_size=BATCH, seed=seed + epoch,
            progress=False, log=None)  # fmt: skip
        seconds += time.perf_counter() - start
        accuracy = evaluate(model, x_test, y_test)
        model.train()
        if accuracy >= goal:
            break
    return {"seconds": seconds, "epochs": epoch, "accuracy": accuracy, "reached": accuracy >= goal}


def run_demo(runner: Runner) -> None:
    """One float32 row: seconds to 98% test accuracy (or to the epoch limit, marked)."""
    from .report import time_record

    try:
        import sklearn  # noqa: F401  (the digits come from scikit-learn)
    except ImportError:
        runner.add(time_record("demo", "digits demo", runner.threads, "float32", None, None,
                               error="scikit-learn is not installed"))  # fmt: skip
        return
    result = time_to_accuracy()
    reached = "" if result["reached"] else f", NOT reached ({result['accuracy']:.1%})"
    name = f"digits demo: train to {GOAL:.0%} test accuracy ({result['epochs']} epochs{reached})"
    timing = {"min_s": result["seconds"], "median_s": result["seconds"], "samples": 1, "calls": 1}
    runner.add(time_record("demo", name, runner.threads, "float32", timing, None))
