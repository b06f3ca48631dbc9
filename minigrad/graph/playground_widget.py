"""``mg.graph.Playground``: the explorer page, live, as a Jupyter widget (anywidget).

The widget shows the playground page (:mod:`.playground_page`) inline in JupyterLab,
Notebook 7, VS Code and Colab, in a sandboxed frame. Edits made in the page (paint input
pixels, type a cell's value, edit a kernel or weight, change the label, Step, Play, Undo,
Reset, the learning rate) travel to this Python process, the engine recomputes, and the page
swaps in the new numbers. The same edits work from Python (``pg.set``, ``pg.step()``,
``pg.undo()``...), and the page follows them.

It needs the ``jupyter`` extra (``pip install "minigrad-cnn[jupyter]"``, which brings
anywidget); without it, making a Playground says so. ``python -m minigrad playground
SCRIPT.py`` serves the same page without Jupyter.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np

from .playground import Session

__all__ = ["INSTALL_HINT", "Playground"]

INSTALL_HINT = (
    'mg.graph.Playground is a Jupyter widget and needs anywidget: pip install "minigrad-cnn'
    '[jupyter]". Without Jupyter, serve the same page with: python -m minigrad playground '
    "SCRIPT.py"
)

try:
    import anywidget as _anywidget
    import traitlets as _traitlets
except ImportError:  # the jupyter extra is not installed
    _anywidget = None  # type: ignore[assignment]


class _Live:
    """The playground's Python API; every change is pushed to the page when it is shown."""

    session: Session
    _page: Any

    def _push(self) -> None:
        raise NotImplementedError

    def set(self, name: str, index: Any, value: Any) -> None:
        """Set input cells (``"input"``), a label (``"target"``, index = sample) or
        parameter elements (display name ``"conv1.weight"`` or key ``"0.weight"``); the
        engine recomputes. See :meth:`minigrad.graph.playground.Session.set`."""
        self.session.set(name, index, value)
        self._push()

    def step(self, steps: int = 1) -> None:
        """``steps`` optimizer steps (each one a change :meth:`undo` takes back)."""
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"Playground.step: steps must be an int >= 1, got {steps!r}")
        for _ in range(steps):
            self.session.step()
        self._push()

    def undo(self) -> None:
        """Undo the last change (an edit, a step, a reset, a new lr), bit for bit."""
        self.session.undo()
        self._push()

    def reset(self) -> None:
        """Back to the starting state (a change :meth:`undo` takes back)."""
        self.session.reset()
        self._push()

    @property
    def lr(self) -> float:
        """The optimizer's learning rate (set it to change it; undo takes it back)."""
        return self.session.lr

    @lr.setter
    def lr(self, value: float) -> None:
        self.session.lr = value
        self._push()

    @property
    def loss(self) -> float:
        """The current loss, computed by the engine."""
        return self.session.loss

    @property
    def changes(self) -> dict[str, Any]:
        """What moved with the last change: ``what``, ``loss`` (old, new, delta) and
        ``arrays`` (name -> count of moved cells, max |change|, the cells that moved most)."""
        return self.session.changes

    @property
    def probabilities(self) -> np.ndarray | None:
        """``(N, classes)`` probabilities of the current state (the engine's softmax)."""
        return self.session.probabilities

    @property
    def x(self) -> np.ndarray:
        """A copy of the current input batch."""
        return self.session.x

    @property
    def target(self) -> np.ndarray:
        """A copy of the current targets."""
        return self.session.target

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Each parameter's current value (display name -> copy)."""
        return self.session.params

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Each parameter's gradient in the current state (display name -> copy)."""
        return self.session.grads

    @property
    def activations(self) -> dict[str, np.ndarray]:
        """Each layer's output in the current state (display path -> array)."""
        return self.session.activations

    @property
    def explorer(self) -> Any:
        """The explorer page (:class:`minigrad.graph.Explorer`) of the current state."""
        from .explorer import explore

        return explore(self.session.loss_tensor)

    def page(self) -> str:
        """The live page's HTML for the current state (what the widget shows)."""
        return str(self._page.html())


if _anywidget is not None:

    class Playground(_Live, _anywidget.AnyWidget):  # type: ignore[misc]
        """The explorer page, live: change a pixel, a weight or the label; see the module doc.

        ``Playground(model, x, target, loss=None, optimizer=None, classes=None, lr=0.1)``:
        ``loss`` defaults to cross-entropy for integer targets and log loss for a single
        sigmoid output; ``optimizer`` to ``SGD(model.parameters(), lr=lr)``; ``classes``
        names the outputs. Show it as a notebook cell's last value.

        >>> import numpy as np, minigrad as mg
        >>> mg.manual_seed(0)
        >>> model = mg.nn.Sequential(mg.nn.Flatten(), mg.nn.Linear(4, 2))
        >>> pg = mg.graph.Playground(model, np.zeros((1, 1, 2, 2), np.float32), np.array([1]))
        >>> start = pg.loss
        >>> pg.set("input", (0, 0, 0, 1), 1.0); pg.step(); pg.loss < start
        True
        >>> pg.undo(); pg.undo(); pg.loss == start
        True
        """

        _esm = (
            resources.files("minigrad.graph.explorer") / "static" / "playground_widget.mjs"
        ).read_text(encoding="utf-8")
        html = _traitlets.Unicode("").tag(sync=True)
        height = _traitlets.Int(760).tag(sync=True)

        def __init__(
            self,
            model: Any,
            x: Any,
            target: Any,
            loss: Any = None,
            optimizer: Any = None,
            classes: Any = None,
            *,
            lr: float = 0.1,
            height: int = 760,
            title: str | None = None,
        ) -> None:
            from .playground_page import LivePage

            session = Session(model, x, target, loss, optimizer, classes, lr=lr)
            super().__init__()
            self.session = session
            self._page = LivePage(session, {"kind": "widget"}, title)
            self.height = height
            self.html = self._page.html()
            self.on_msg(self._on_message)

        def _push(self) -> None:
            self.send({"type": "update", "id": None, "data": self._page.update()})

        def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
            if not isinstance(content, dict):
                return
            if content.get("type") == "ready":  # a page opened: give it the current state
                self.send(
                    {"type": "update", "id": None, "data": self._page.handle({"op": "state"})}
                )
            elif content.get("type") == "edit":
                data = self._page.handle(content.get("edit"))
                self.send({"type": "update", "id": content.get("id"), "data": data})

        def __repr__(self) -> str:
            s = self.session
            return (
                f"<Playground of {type(s.model).__name__}: loss {s.loss:.6g}, {s.steps} steps, "
                f"{s.can_undo} changes to undo>"
            )

else:

    class Playground(_Live):  # type: ignore[no-redef]
        """Needs the ``jupyter`` extra: ``pip install "minigrad-cnn[jupyter]"``."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise ImportError(INSTALL_HINT)
