"""Module.summary(): one row per called sub-module, with output shapes and parameter counts.

The table is returned, not printed: a :class:`ModelSummary` shows itself as the table in a
REPL or notebook (like torchinfo's result), and ``print(model.summary(...))`` prints it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor
from . import _context

__all__ = ["ModelSummary", "SummaryRow", "module_calls", "summarize"]


@dataclass(frozen=True)
class SummaryRow:
    """One called sub-module in :meth:`Module.summary`.

    ``name`` is its dotted key path (as in ``named_modules()`` and ``state_dict()``),
    ``label`` what drawings show (``conv1``), ``depth`` its nesting level.
    """

    name: str
    type: str
    output_shape: Any
    params: int
    depth: int = 0
    label: str = ""


@dataclass
class ModelSummary:
    """The result of :meth:`Module.summary`; ``str()`` and ``repr()`` give the table.

    >>> import minigrad as mg
    >>> mg.nn.Sequential(mg.nn.Linear(4, 3)).summary((2, 4))
    Sequential summary, input shape (2, 4)
    ----------------------------------
    Layer (type)  Output shape  Params
    ----------------------------------
    fc1 (Linear)  (2, 3)            15
    ----------------------------------
    Output shape: (2, 3)
    Total params: 15
    Trainable params: 15
    """

    model: str
    input_shape: tuple[int, ...]
    output_shape: Any
    rows: list[SummaryRow] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    #: values held in buffers (running statistics, counters): state, not parameters
    buffer_values: int = 0
    #: the buffers' names without their module path, in order (``running_mean``...)
    buffer_names: tuple[str, ...] = ()

    def table(self) -> str:
        """The summary as a fixed-width text table."""
        head = ("Layer (type)", "Output shape", "Params")
        body = []
        for r in self.rows:
            name = f"{'  ' * r.depth}{r.label or r.name} ({r.type})"
            body.append((name, str(r.output_shape), f"{r.params:,}"))
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(3)]
        total_width = sum(widths) + 4

        def line(row: tuple[str, str, str]) -> str:
            text = f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}"
            return text.rstrip()

        rule = "-" * total_width
        out = [f"{self.model} summary, input shape {self.input_shape}", rule, line(head), rule]
        out += [line(r) for r in body]
        out += [
            rule,
            f"Output shape: {self.output_shape}",
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
        ]
        if self.buffer_names:
            out.append(
                f"Buffers (not trained): {self.buffer_values:,} values in "
                f"{', '.join(self.buffer_names)}"
            )
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()

    __repr__ = __str__


def _shape_of(result: Any) -> Any:
    if isinstance(result, (Tensor, np.ndarray)):
        return tuple(result.shape)
    if isinstance(result, (tuple, list)):
        return tuple(_shape_of(r) for r in result)
    return None


@contextmanager
def module_calls() -> Iterator[list[tuple[str, Any, Any]]]:
    """Record the module calls made inside: a list of ``(path, module, output)`` rows in call order.

    Paths are dotted key paths (as in ``state_dict()``) below the outermost module called
    inside, whose own path is ``""``. The model is neither wrapped nor patched: each module call
    writes its row to a context variable, so threads and async tasks record separately.

    >>> import minigrad as mg
    >>> model = mg.nn.Sequential(mg.nn.Linear(3, 2), mg.nn.ReLU())
    >>> with module_calls() as rows:
    ...     _ = model(mg.ones(1, 3))
    >>> [(path, type(module).__name__) for path, module, _ in rows]
    [('', 'Sequential'), ('0', 'Linear'), ('1', 'ReLU')]
    """
    rows: list = []
    token = _context.summary_rows.set(rows)
    path_token = _context.module_path.set(None)
    try:
        yield rows
    finally:
        _context.summary_rows.reset(token)
        _context.module_path.reset(path_token)


def summarize(model: Any, input_shape: tuple[int, ...], dtype: Any = None) -> ModelSummary:
    """What :meth:`Module.summary` returns: run ``model`` on zeros and collect the calls.

    >>> import minigrad as mg
    >>> summarize(mg.nn.Linear(4, 3), (1, 4)).total_params
    15
    """
    if dtype is None:
        first = next(model.parameters(), None)
        dtype = np.float32 if first is None else first.dtype
    x = Tensor(np.zeros(tuple(int(s) for s in input_shape), dtype=dtype))
    # in evaluation mode, so the pass changes nothing (no running statistics updated, no
    # dropout masks drawn); each module's own mode is restored afterwards
    modes = (
        [(m, m.training) for m in model.modules()]
        if callable(getattr(model, "modules", None))
        else []
    )
    for m, _ in modes:
        m.__dict__["training"] = False
    try:
        with module_calls() as rows, no_grad():
            out = model.forward(x)
    finally:
        for m, mode in modes:
            m.__dict__["training"] = mode
    table = []
    for path, module, result in rows:
        n = sum(p.size for p in module.parameters())
        depth = path.count(".")
        table.append(
            SummaryRow(path, type(module).__name__, _shape_of(result), n, depth, module.label or "")
        )
    params = list(model.parameters())
    named_buffers = getattr(model, "named_buffers", None)
    buffers = list(named_buffers()) if callable(named_buffers) else []
    names = tuple(dict.fromkeys(n.rsplit(".", 1)[-1] for n, _ in buffers))
    return ModelSummary(
        model=type(model).__name__,
        input_shape=tuple(x.shape),
        output_shape=_shape_of(out),
        rows=table,
        total_params=sum(p.size for p in params),
        trainable_params=sum(p.size for p in params if p.requires_grad),
        buffer_values=sum(b.size for _, b in buffers),
        buffer_names=names,
    )
