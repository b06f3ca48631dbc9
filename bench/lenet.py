"""One LeNet-5 training step in minigrad and in PyTorch, with identical weights and data.

LeNet-5 as in the tutorials: 28x28 input, conv 6@5x5, relu, maxpool 2, conv 16@5x5, relu,
maxpool 2, flatten, linear 256-120-84-10, cross-entropy, plain SGD. A step is zero_grad, forward,
loss, backward and the optimizer update, on a batch of 64.

The same step with batch norm after each convolution (``BatchNorm2d`` in training mode, its
running statistics updated every step) is a second row.

Also here: the cost of drawing that step's graph (``mg.graph.draw`` and its DOT ``.source``),
reported next to the step's own time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

import minigrad as mg

if TYPE_CHECKING:
    from .worker import Runner

BATCH = 64
LR = 0.01
# Ratio targets by (dtype, threads).
LENET_TARGETS = {("float32", 1): 0.9, ("float32", 2): 1.2, ("float64", 1): 0.7, ("float64", 2): 1.0}


def lenet_flop(batch: int = BATCH) -> float:
    """Floating-point operations of one training step: convolutions and linear layers only.

    Forward, input gradient and weight gradient are one matrix product each (the first
    convolution's input gradient is not computed).

    >>> round(lenet_flop(1) / 1e6, 2)
    1.52
    """
    conv1 = 2 * 6 * 1 * 25 * 24 * 24
    conv2 = 2 * 16 * 6 * 25 * 8 * 8
    linear = 2 * (256 * 120 + 120 * 84 + 84 * 10)
    return float(batch * (2 * conv1 + 3 * conv2 + 3 * linear))


def minigrad_model(dtype: str, batch_norm: bool = False) -> mg.nn.Sequential:
    """LeNet-5 built from ``mg.nn`` layers, seeded, in ``dtype`` (with ``BatchNorm2d`` after
    each convolution when ``batch_norm``)."""
    nn = mg.nn
    mg.manual_seed(0)
    norm = (lambda c: [nn.BatchNorm2d(c)]) if batch_norm else (lambda c: [])
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5),
        *norm(6),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        *norm(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )
    return model.to(np.dtype(dtype))


def torch_model(torch: Any, weights: dict[str, np.ndarray], batch_norm: bool = False) -> Any:
    """The same network in ``torch.nn``, loaded with ``weights`` (a minigrad state dict)."""
    tn = torch.nn
    norm = (lambda c: [tn.BatchNorm2d(c)]) if batch_norm else (lambda c: [])
    model = tn.Sequential(
        tn.Conv2d(1, 6, 5),
        *norm(6),
        tn.ReLU(),
        tn.MaxPool2d(2),
        tn.Conv2d(6, 16, 5),
        *norm(16),
        tn.ReLU(),
        tn.MaxPool2d(2),
        tn.Flatten(),
        tn.Linear(256, 120),
        tn.ReLU(),
        tn.Linear(120, 84),
        tn.ReLU(),
        tn.Linear(84, 10),
    )
    dtype = next(iter(weights.values())).dtype
    model.to(getattr(torch, dtype.name))
    model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    return model


def batch(dtype: str, size: int = BATCH) -> tuple[np.ndarray, np.ndarray]:
    """A fixed batch of random images (size, 1, 28, 28) and class labels (size,)."""
    rng = np.random.default_rng(0)
    return rng.standard_normal((size, 1, 28, 28)).astype(dtype), rng.integers(0, 10, size)


def minigrad_step(
    dtype: str, batch_norm: bool = False
) -> tuple[Callable[[], Any], mg.nn.Sequential]:
    """A training-step function for minigrad (it returns the loss) and its model."""
    model = minigrad_model(dtype, batch_norm)
    opt = mg.optim.SGD(model.parameters(), lr=LR)
    loss_fn = mg.nn.CrossEntropyLoss()
    images, labels = batch(dtype)
    x, y = mg.tensor(images), mg.tensor(labels)

    def step() -> Any:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step, model


def torch_step(
    torch: Any, model_weights: dict[str, np.ndarray], dtype: str, batch_norm: bool = False
) -> Callable[[], Any]:
    """A training-step function for PyTorch on the same weights and batch."""
    model = torch_model(torch, model_weights, batch_norm)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    images, labels = batch(dtype)
    x, y = torch.tensor(images), torch.tensor(labels)

    def step() -> Any:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def step_cases(
    runner: Runner, dtype: str, batch_norm: bool = False
) -> dict[str, Callable[[], Any]]:
    step, model = minigrad_step(dtype, batch_norm)
    cases = {"minigrad": step}
    if runner.torch is not None:
        weights = dict(model.state_dict())  # buffers included: the same running statistics
        cases["torch"] = torch_step(runner.torch, weights, dtype, batch_norm)
    return cases


def run_lenet(runner: Runner) -> None:
    """One training step, every dtype, without and with batch norm; targets (for the plain
    network) in ``LENET_TARGETS``."""
    for dtype in runner.dtypes:
        target = LENET_TARGETS.get((dtype, runner.threads))
        runner.time(
            "lenet",
            "LeNet-5 training step (batch 64)",
            dtype,
            lambda dtype=dtype: step_cases(runner, dtype),
            flop=lenet_flop(),
            target=target,
        )
        runner.time(
            "lenet",
            "LeNet-5 + batch norm training step (batch 64)",
            dtype,
            lambda dtype=dtype: step_cases(runner, dtype, batch_norm=True),
            flop=lenet_flop(),
        )


def run_graph(runner: Runner) -> None:
    """Drawing a LeNet step's graph (forward and backward views) next to the step's time."""
    dtype = runner.dtypes[0]
    step, model = minigrad_step(dtype)
    images, labels = batch(dtype)
    x, y = mg.tensor(images), mg.tensor(labels)
    loss_fn = mg.nn.CrossEntropyLoss()

    def graph() -> Any:
        # A step's graph, before backward(), as a user would draw it.
        return loss_fn(model(x), y)

    loss = graph()

    def draw_forward() -> str:
        return mg.graph.draw(loss).source

    def draw_backward() -> str:
        return mg.graph.draw(loss, backward=True).source

    cases = {
        "step": step,
        "draw": draw_forward,
        "draw backward": draw_backward,
    }
    runner.time_relative(
        "graph",
        dtype,
        cases,
        reference="step",
        labels={
            "step": "LeNet-5 training step (reference)",
            "draw": "mg.graph.draw(loss).source, LeNet step",
            "draw backward": "mg.graph.draw(loss, backward=True).source",
        },
        targets={"draw": 1.0},
    )
