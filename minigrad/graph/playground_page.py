"""The live page of a playground: the explorer page plus a Playground view, and its updates.

:class:`LivePage` turns a :class:`~minigrad.graph.playground.Session` into the page's data:
``html()`` is the whole page once (the explorer's graph views, drawn without values so the
drawings stay true after any edit, and ``payload["playground"]``: the input, the targets,
each layer's output, the probabilities, every parameter with its gradient, the loss and
what changed). ``handle(edit)`` applies one edit the page sent (a dict, see
:meth:`LivePage.handle`) and returns the update: the new page data without drawings, plus
``marks``, the graph's tensors whose values or gradients moved and by how much.

The page talks back through a *transport*, named in the payload: ``{"kind": "http", "url",
"token"}`` (``python -m minigrad playground``) or ``{"kind": "widget"}`` (the Jupyter
widget, which relays between the page's frame and Python). The page's code is
``static/live/80_playground.js`` (only live pages carry it).

>>> import numpy as np, minigrad as mg
>>> from minigrad.graph.playground import Session
>>> s = Session(mg.nn.Sequential(mg.nn.Flatten(), mg.nn.Linear(4, 2)),
...             np.zeros((1, 1, 2, 2), np.float32), np.array([1]))
>>> page = LivePage(s, {"kind": "widget"})
>>> page.html().startswith("<!DOCTYPE html>")                    # doctest: +SKIP
True
>>> up = page.handle({"op": "set", "name": "input", "index": [[0, 0, 1, 1]], "value": 1.0})
>>> up["playground"]["changes"]["arrays"]["input"]["count"], "graph" in up
(1, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .explorer import encode
from .explorer.page import render_page
from .explorer.payload import graph_payload
from .playground import Session

__all__ = ["LivePage"]

_KEEP = ("samples", "max_elements")


class LivePage:
    """The page data of ``session`` and the updates after each edit (see the module doc)."""

    def __init__(
        self,
        session: Session,
        transport: dict[str, Any],
        title: str | None = None,
        *,
        samples: int = 4,
    ) -> None:
        self.session = session
        self.transport = dict(transport)
        self.title = title or f"minigrad playground: {type(session.model).__name__}"
        self.samples = samples
        self._last: dict[str, Any] | None = None  # the graph data the page shows now

    # --- the data -----------------------------------------------------------------------------

    def _graph(self, drawings: bool) -> dict[str, Any]:
        return graph_payload(
            self.session.loss_tensor,
            samples=self.samples,
            drawings=drawings,
            show_values=False,  # drawings without numbers stay true after every edit
        )

    def playground(self, graph: dict[str, Any] | None = None) -> dict[str, Any]:
        """``payload["playground"]``: everything the Playground view shows. A parameter whose
        whole value and gradient are in ``graph`` (the page's graph data) names that tensor
        (``"tensor": key``) instead of carrying a second copy."""
        s = self.session
        in_graph: dict[str, str] = {}
        for key, t in (graph or {}).get("tensors", {}).items():
            whole = all(not (t.get(p) or {}).get("index") for p in ("value", "grad"))
            if t.get("role") == "parameter" and t.get("name") and whole and "value" in t:
                in_graph.setdefault(t["name"], key)
        grads = s.grads
        params = []
        for (key, p), (name, value) in zip(s.model.named_parameters(), s.params.items()):
            entry: dict[str, Any] = {"name": name, "key": key, "shape": list(value.shape)}
            found = in_graph.get(p.name) if p.name else None
            if found is not None:
                entry["tensor"] = found
            else:
                g = grads.get(name)
                entry["value"] = encode.array(value)
                entry["grad"] = None if g is None else encode.array(g)
            params.append(entry)
        layers = [
            {"name": name, "shape": list(a.shape), "value": encode.tensor_view(a, self.samples)}
            for name, a in s.activations.items()
        ]
        probs = s.probabilities
        opt = s.optimizer
        hyper = opt.hyperparameters()
        plain_sgd = type(opt).__name__ == "SGD" and not any(
            hyper.get(k) for k in ("momentum", "weight_decay")
        )
        return {
            "transport": self.transport,
            "classes": s.classes,
            "loss": encode.num(s.loss),
            "loss_name": s.loss_name,
            "lr": s.lr,
            "optimizer": repr(opt),
            "plain_sgd": plain_sgd,
            "undo": s.can_undo,
            "steps": s.steps,
            "x": encode.array(s.x),
            "target": s.target.tolist(),
            "target_kind": "binary" if s.loss_name == "log loss" else "class",
            "output": encode.array(s.output),
            "probabilities": None if probs is None else encode.array(probs),
            "layers": layers,
            "params": params,
            "changes": encode.json_safe(s.changes),
        }

    def html(self) -> str:
        """The whole page for the current state (its drawings are made here, once)."""
        graph = self._graph(drawings=True)
        self._last = graph
        payload = {"graph": graph, "playground": self.playground(graph)}
        return render_page(payload, self.title, extras=("live",))

    def update(self) -> dict[str, Any]:
        """The page data of the current state, without drawings, and the ``marks``: graph
        tensors (by page key) whose value or gradient moved since the last data sent."""
        graph = self._graph(drawings=False)
        marks = _marks(self._last, graph)
        self._last = graph
        return {"graph": graph, "playground": self.playground(graph), "marks": marks}

    # --- edits from the page ------------------------------------------------------------------

    def handle(self, edit: Any) -> dict[str, Any]:
        """Apply one edit the page sent and return the update (or ``{"error": text}``).

        Edits: ``{"op": "set", "name", "index", "value"}`` (``index`` a list of cells, each
        a list of ints, or an int), ``{"op": "step", "steps": n}``, ``{"op": "undo"}``,
        ``{"op": "reset"}``, ``{"op": "lr", "value"}``, ``{"op": "state"}`` (nothing
        changes: the current data, e.g. for a page that just opened).
        """
        s = self.session
        try:
            if not isinstance(edit, dict):
                raise TypeError(f"an edit is a JSON object, got {type(edit).__name__}")
            op = edit.get("op")
            if op == "set":
                s.set(str(edit.get("name")), _index(edit.get("index")), _value(edit.get("value")))
            elif op == "step":
                n = edit.get("steps", 1)
                if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1000:
                    raise ValueError(f"steps must be an int in 1 .. 1000, got {n!r}")
                for _ in range(n):
                    s.step()
            elif op == "undo":
                s.undo()
            elif op == "reset":
                s.reset()
            elif op == "lr":
                s.lr = _value(edit.get("value"))
            elif op != "state":
                raise ValueError(
                    f"unknown edit {op!r}; edits are set, step, undo, reset, lr, state"
                )
        except (KeyError, IndexError, TypeError, ValueError) as e:
            text = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
            return {"error": str(text)}
        except Exception as e:  # the model itself raised: the page says so, the session is intact
            return {"error": f"{type(e).__name__}: {e}"}
        return self.update()


def _index(index: Any) -> Any:
    """JSON cells -> the session's index: ``[[0, 0, 1, 2], ...]`` -> a list of tuples."""
    if isinstance(index, list) and index and all(isinstance(c, list) for c in index):
        return [tuple(c) for c in index]
    if isinstance(index, list):
        return tuple(index)
    return index


def _value(v: Any) -> Any:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"a value must be a number, got {v!r}")
    return v


def _decode(enc: dict[str, Any] | None) -> np.ndarray | None:
    if not enc:
        return None
    return encode.raw(enc).reshape(enc["shape"])


def _moved(a: dict[str, Any] | None, b: dict[str, Any] | None) -> float | None:
    """max |b - a| of two encoded arrays; None when equal (or not comparable)."""
    if a is None or b is None or a.get("b64") == b.get("b64"):
        return None
    x, y = _decode(a), _decode(b)
    if x is None or y is None or x.shape != y.shape:
        return None
    with np.errstate(invalid="ignore"):
        d = np.abs(y.astype(np.float64) - x.astype(np.float64))
    d = d[np.isfinite(d)]
    return float(d.max()) if d.size else float("inf")


def _marks(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """``{tensor key: {"value": max |change|, "grad": max |change|}}`` of what moved."""
    if old is None:
        return {}
    out: dict[str, Any] = {}
    for key, t in new["tensors"].items():
        before = old["tensors"].get(key)
        if before is None or before.get("shape") != t.get("shape"):
            continue
        entry = {}
        for part in ("value", "grad"):
            m = _moved(before.get(part), t.get(part))
            if m is not None:
                entry[part] = encode.num(m)
        if entry:
            out[key] = entry
    return out
