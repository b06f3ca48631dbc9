"""Forward-only computations: what keeping a plain forward's calls for ``explain`` costs.

When no input of an op requires grad (a model whose parameters are frozen, run on an input
that does not require grad, outside ``no_grad``), the engine keeps the call on the output's
``_origin`` so that ``mg.graph.explain`` and ``mg.graph.explore`` can read it; under
``mg.no_grad()`` it keeps nothing. Rows, LeNet-5 as in ``bench/lenet.py`` (batch 64), each
against PyTorch doing the same thing in the same interleaved run:

* a plain forward, parameters not requiring grad, evaluation mode (the calls are kept);
  PyTorch's plain forward with its parameters frozen the same way;
* the same forward under ``mg.no_grad()`` / ``torch.no_grad()``;
* an ordinary training step (zero_grad, forward, loss, backward, SGD), which never takes the
  forward-only branch for its recorded ops (the run prints how many calls a step keeps: 0);

and two minigrad-only rows that time the kept calls themselves, each against the same work
under ``no_grad`` in one interleaved run, per op: the LeNet forward, and a chain of 100
tiny ops on (3, 3) tensors where the engine's own cost is all there is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

import minigrad as mg
from minigrad.graph.trace import walk

from .lenet import batch, minigrad_model, minigrad_step, step_cases, torch_model

if TYPE_CHECKING:
    from .worker import Runner

#: iterations of ``c = c * b + a`` (two ops each) in the tiny chain
TINY = 50


def forward_cases(runner: Runner, dtype: str, no_grad: bool) -> dict[str, Callable[[], Any]]:
    """A LeNet-5 forward of a batch of 64, nothing requiring grad, in evaluation mode, in
    both libraries; under ``no_grad`` or not."""
    model = minigrad_model(dtype).requires_grad_(False).eval()
    images, _ = batch(dtype)
    x = mg.tensor(images)

    def ours() -> Any:
        if no_grad:
            with mg.no_grad():
                return model(x)
        return model(x)

    cases = {"minigrad": ours}
    torch = runner.torch
    if torch is not None:
        theirs_model = torch_model(torch, dict(model.state_dict())).requires_grad_(False).eval()
        xt = torch.tensor(images)

        def theirs() -> Any:
            if no_grad:
                with torch.no_grad():
                    return theirs_model(xt)
            return theirs_model(xt)

        cases["torch"] = theirs
    return cases


def lenet_ops(dtype: str) -> int:
    """How many op calls one LeNet-5 forward makes (the calls a plain forward keeps)."""
    model = minigrad_model(dtype).requires_grad_(False).eval()
    out = model(mg.tensor(batch(dtype)[0]))
    return len(walk(out)[0])


def kept_in_training(dtype: str) -> tuple[int, int]:
    """``(kept, recorded)``: the forward-only calls a training step's forward and loss keep,
    and the calls they record for backward. Each kept or recorded call takes one number of
    the engine's creation counter; the recorded ones are the nodes behind the loss."""
    from minigrad import autograd

    step, model = minigrad_step(dtype)
    step()
    images, labels = batch(dtype)
    start = next(autograd._seq)
    loss = mg.nn.CrossEntropyLoss()(model(mg.tensor(images)), mg.tensor(labels))
    taken = next(autograd._seq) - start - 1
    recorded = len(walk(loss)[0])
    return taken - recorded, recorded


def tiny_chain(no_grad: bool) -> Callable[[], Any]:
    """``c = c * b + a`` 50 times on (3, 3) float32 tensors that do not require grad."""
    rng = np.random.default_rng(0)
    a, b = (mg.tensor(v) for v in rng.random((2, 3, 3), dtype=np.float32))

    def chain() -> Any:
        c = a
        for _ in range(TINY):
            c = c * b + a
        return c

    if not no_grad:
        return chain

    def chain_no_grad() -> Any:
        with mg.no_grad():
            return chain()

    return chain_no_grad


def run_forward(runner: Runner) -> None:
    """The rows above, every dtype for the rows against PyTorch, the first dtype for the
    minigrad-only ones."""
    for dtype in runner.dtypes:
        runner.time(
            "forward",
            "LeNet-5 forward, nothing requires grad, calls kept (batch 64)",
            dtype,
            lambda dtype=dtype: forward_cases(runner, dtype, no_grad=False),
        )
        runner.time(
            "forward",
            "LeNet-5 forward under no_grad (batch 64)",
            dtype,
            lambda dtype=dtype: forward_cases(runner, dtype, no_grad=True),
        )
        runner.time(
            "forward",
            "LeNet-5 training step (batch 64), next to the forwards",
            dtype,
            lambda dtype=dtype: step_cases(runner, dtype),
        )
        kept, recorded = kept_in_training(dtype)
        runner.records[-1]["forward-only calls kept"] = kept
        if runner.echo:
            print(f"   a training step keeps {kept} forward-only calls ({recorded} recorded)")
    dtype = runner.dtypes[0]
    ops = lenet_ops(dtype)
    lenet = forward_cases(runner, dtype, no_grad=False)["minigrad"]
    lenet_no_grad = forward_cases(runner, dtype, no_grad=True)["minigrad"]
    for cases, name, n in (
        ({"no_grad": lenet_no_grad, "kept": lenet}, f"LeNet-5 forward, {ops} ops", ops),
        (
            {"no_grad": tiny_chain(True), "kept": tiny_chain(False)},
            f"100-op chain c = c*b + a on (3, 3), {2 * TINY} ops",
            2 * TINY,
        ),
    ):
        runner.time_relative(
            "forward",
            dtype,
            cases,
            reference="no_grad",
            labels={
                "no_grad": f"{name}: under no_grad (reference)",
                "kept": f"{name}: calls kept (plain forward)",
            },
        )
        runner.records[-2]["ops"] = runner.records[-1]["ops"] = n
        runner.records[-1]["kept_cost_us_per_op"] = kept_cost(runner.records[-1], n)
        if runner.echo:
            print(f"   the kept calls cost {runner.records[-1]['kept_cost_us_per_op']} per op")


def kept_cost(rec: dict, ops: int) -> str:
    """What the kept calls add per op: (plain - no_grad) / ops, from the minimum and median
    times, in microseconds.

    >>> kept_cost({"minigrad": {"min_s": 3e-4, "median_s": 4e-4},
    ...            "reference": {"min_s": 2e-4, "median_s": 2e-4}}, 100)
    '1.00 us (median 2.00 us)'
    """
    a, b = rec.get("minigrad"), rec.get("reference")
    if not a or not b:
        return "-"
    low = (a["min_s"] - b["min_s"]) / ops * 1e6
    mid = (a["median_s"] - b["median_s"]) / ops * 1e6
    return f"{low:.2f} us (median {mid:.2f} us)"
