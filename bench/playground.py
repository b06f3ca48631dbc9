"""The playground's latency: from one edit to the page's new data, as the page receives it.

One call applies an edit the way the page sends it (``LivePage.handle``: the session sets an
input pixel, or takes an SGD step; the engine recomputes forward and backward; the graph data
is rebuilt without drawings, with the moved tensors marked) and encodes the update as the
JSON text that travels to the page. Two networks at batch 1: the X-vs-O demo network
(``minigrad.demo.models.build_xo_model``, 9x9 input) and the digits LeNet
(``build_lenet``, 8x8 input). The aim is under 150 ms per edit. The reference row is one
plain forward and backward pass of the same network on the same input, timed in the same
interleaved run, so the ratio says what the page data costs on top of the engine's work.
minigrad only: there is no PyTorch twin.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np

import minigrad as mg

if TYPE_CHECKING:
    from .worker import Runner

#: the latency the playground aims at, per edit (seconds)
AIM = 0.150


def cases(build: Any, shape: tuple[int, ...]) -> dict[str, Any]:
    """``{"step": forward+backward, "edit": pixel edit -> update JSON, "sgd": step -> JSON}``."""
    from minigrad.graph.explorer.page import payload_json
    from minigrad.graph.playground import Session
    from minigrad.graph.playground_page import LivePage

    mg.manual_seed(0)
    model = build()
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    target = np.array([1])
    session = Session(model, x, target)
    page = LivePage(session, {"kind": "widget"})
    page.html()  # the page is open: later data goes without drawings
    H, W = shape[2], shape[3]
    cells = itertools.cycle([(i, j, v) for v in (1.0, 0.0) for i in range(H) for j in range(W)])
    loss_fn = mg.nn.CrossEntropyLoss()
    plain = build()
    plain.load_state_dict(model.state_dict())

    def step() -> Any:
        plain.zero_grad()
        loss = loss_fn(plain(mg.tensor(x)), mg.tensor(target))
        loss.backward()
        return loss

    def edit() -> str:
        i, j, v = next(cells)
        up = page.handle({"op": "set", "name": "input", "index": [[0, 0, i, j]], "value": v})
        return payload_json(up)

    def sgd() -> str:
        return payload_json(page.handle({"op": "step", "steps": 1}))

    return {"step": step, "edit": edit, "sgd": sgd}


def run_playground(runner: Runner) -> None:
    """Rows: edit -> page data and Step -> page data, demo network and LeNet, batch 1."""
    from minigrad.demo.models import build_lenet, build_xo_model

    for label, build, shape in (
        ("X-vs-O demo network", build_xo_model, (1, 1, 9, 9)),
        ("digits LeNet", build_lenet, (1, 1, 8, 8)),
    ):
        runner.time_relative(
            "playground",
            "float32",
            cases(build, shape),
            reference="step",
            labels={
                "step": f"{label}, batch 1: forward + backward (reference)",
                "edit": f"playground: paint a pixel -> page data, {label} (aim < 150 ms)",
                "sgd": f"playground: Step -> page data, {label} (aim < 150 ms)",
            },
        )
