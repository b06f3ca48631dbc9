"""The reverse-mode engine: recording op calls, and ONE traversal of the recorded graph.

Every op call goes through :func:`apply`. When grad mode is on and an input requires a
gradient, the call's :class:`~minigrad.op.Context` becomes a node of the graph: it keeps its
inputs (a tuple, so ``x * x`` has two edges), a weak reference to its output (so the graph
is freed when the user drops the result) and a *generation* one more than its deepest input.

:func:`traverse` pops nodes from a heap, newest generation first, so each node runs once,
after every consumer of its output has contributed its gradient. Nothing here recurses.
``Tensor.backward``, :func:`grad` and every inspector (``mg.graph``) are built on it; an
inspector passes a :class:`BackwardObserver` and sees each step of the engine's own pass.

Gradient policy (what the engine checks for every gradient an op's backward returns):

- shape: the input's shape, or a shape that broadcasts to it from the gradient's side (the
  engine sums it back, e.g. ``a + b`` with ``b`` of shape ``(1, 3)``); anything else is an error.
- dtype: a floating (or, for complex inputs, complex) gradient. Precision differences of the
  same kind are *fitted*: a float64 gradient for a float32 input is cast to float32, so
  mixed-precision inputs keep working. A cast that loses information is always an error:
  complex to real, or an integer/bool gradient (:func:`check_grad_dtype`).
- Errors name the op and, for plugin ops, the distribution, version and entry point.
"""

from __future__ import annotations

import heapq
import sys
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _contract as _c
from ._arrays import freed_placeholder
from ._contract import check_grad_dtype, verify_saved
from ._modes import (
    _anomaly,
    _backward_of,
    _grad_enabled,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    name_scope,
    no_grad,
)
from ._pass import _Pass, _tensor
from ._record import apply, call_op  # re-exported: the engine's API
from .op import Context, _array_formula
from .tensor import Tensor

__all__ = [
    "BackwardObserver",
    "apply",
    "call_op",
    "check_grad_dtype",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "is_grad_enabled",
    "name_scope",
    "no_grad",
    "run_backward",
    "traverse",
]


def _calibrate() -> int:
    only_here = object()
    return sys.getrefcount(only_here)


# what sys.getrefcount reports for an object only one local variable refers to
_LOCAL_ONLY = _calibrate()

# held around each read-add-write of a ``.grad``: backward() calls from several threads that
# reach one leaf (a shared weight) each add their contribution, none overwrites another's
_ACCUMULATE = threading.Lock()


# --------------------------------------------------------------------------- observers


class BackwardObserver:
    """Sees every step of one :func:`traverse`; subclasses override what they need.

    >>> import minigrad as mg
    >>> from minigrad.autograd import BackwardObserver, traverse
    >>> class Steps(BackwardObserver):
    ...     def __init__(self): self.names = []
    ...     def step(self, index, node, grad, input_grads): self.names.append(node.name)
    >>> x = mg.tensor([1.0, 2.0], requires_grad=True)
    >>> obs = Steps()
    >>> traverse([(x * x).sum()], [None], accumulate=False, hooks=False, observer=obs)
    >>> obs.names, x.grad
    (['sum', 'mul'], None)
    """

    def seed(self, root: Tensor, grad: Tensor) -> None:
        """Each root of the pass and its starting gradient."""

    def step(
        self, index: int, node: Context, grad: Tensor, input_grads: tuple[Tensor | None, ...]
    ) -> None:
        """``node``'s backward ran (step ``index``, from 0): ``grad`` is the incoming gradient
        of its output (after hooks), ``input_grads`` one fitted gradient per input (None where
        not needed)."""

    def accumulate(
        self, index: int, target: Context | Tensor, contribution: Tensor, total: Tensor
    ) -> None:
        """A gradient reached a tensor that already had one: ``target`` is the producing
        Context of a non-leaf, the Tensor of a leaf; ``total`` the running sum after adding;
        ``index`` the step that sent it (-1 for a root's seed)."""

    def leaf(self, tensor: Tensor, grad: Tensor) -> None:
        """A leaf's final summed gradient (after its hooks, before it goes to ``.grad``)."""


# --------------------------------------------------------------------------- traversal


def _call_backward(
    node: Context, g: Any, anomaly: bool, create_graph: bool, arrays: bool = False
) -> list:
    """Run one node's backward (its saved inputs checked first); one fitted gradient per input.

    ``g`` is a Tensor or, when ``arrays``, possibly a numpy array; with ``arrays`` the
    gradients of an ``_array_backward`` formula come back as numpy arrays too.
    """
    if node.freed:
        raise RuntimeError(node._freed_message())
    if node._checks is not None:
        verify_saved(node)
    outer = _backward_of.set(node) if anomaly else None
    op = node.op
    # a plugin's backward reaches the caller's arrays (saved_tensors[i].data): read-only meanwhile
    frozen = None if op._core else _c.freeze_for_backward(node, g)
    try:
        if op._array_backward and not create_graph and not anomaly:
            # the same formula on numpy arrays: nothing here is differentiated again
            _array_formula.on = True
            try:
                raw = op.backward(node, g if type(g) is np.ndarray else g.data)
            finally:
                _array_formula.on = False
        else:
            raw = op.backward(node, _tensor(g))
    except Exception as e:
        _c.note(e, node, "backward")
        raise
    finally:
        if outer is not None:
            _backward_of.reset(outer)
        if frozen:
            _c.thaw(frozen)
    inputs = node.inputs
    if type(raw) is not tuple and type(raw) is not list:
        raw = (raw,)
    if len(raw) != len(inputs):
        raise ValueError(
            f"{_c.where(node)}: backward returned {len(raw)} gradient(s) for {len(inputs)} input(s)"
        )
    grads = []
    i = 0
    for t, gi, need in zip(inputs, raw, node.needs_input_grad):
        if need and gi is not None:
            kind = type(gi)
            if kind is Tensor:
                d = gi.data
            else:  # numpy results are wrapped as they are only when not differentiated again
                d = gi if kind is np.ndarray and not create_graph else None
            if d is None or anomaly:
                gi = _c.fit_grad(node, i, t, gi, create_graph)  # other types, finite checks
            else:
                td = t.data  # dtypes are shared objects: `is` settles the common case
                if d.shape != td.shape or (d.dtype is not td.dtype and d.dtype != td.dtype):
                    gi = _c.fit_grad(node, i, t, gi, create_graph)  # sum back, cast
                elif kind is not Tensor and not arrays:  # an _array_backward formula's result
                    gi = _tensor(d)
            grads.append(gi)
        else:
            grads.append(None)
        i += 1  # noqa: SIM113 (zip of three is the hot loop; i only names errors)
    return grads


def traverse(
    roots: Sequence[Tensor],
    grad_roots: Sequence[Any],
    *,
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
    accumulate: bool = True,
    hooks: bool = True,
    observer: BackwardObserver | None = None,
) -> dict[int, Tensor] | None:
    """Propagate gradients from ``roots`` to the leaves: the one backward loop of minigrad.

    ``grad_roots`` has one starting gradient per root (None: ones, for a one-element root).
    With ``inputs`` given, their gradients are returned keyed by ``id`` (``mg.grad``).
    ``accumulate=False`` writes no ``.grad`` anywhere; ``hooks=False`` calls no user hook
    (inspectors pass both, with ``retain_graph=True``). Without ``retain_graph`` each node's
    saved state is freed once it ran, and so are intermediate values nobody else holds.
    """
    token = _grad_enabled.set(create_graph)
    try:
        state = _Pass(observer, not create_graph and not _anomaly.get())
        wanted = {t._node: t for t in inputs if t._node is not None} if inputs else {}
        captured: dict[int, Tensor] = {}
        for root, g in zip(roots, grad_roots, strict=True):
            g = _c.seed_grad(root, g)
            if observer is not None:
                observer.seed(root, g)
            state.send(root, g, -1)
        _run_nodes(state, retain_graph, create_graph, accumulate, hooks, wanted, captured)
        _finish_leaves(state, create_graph, inputs is not None, accumulate, hooks, captured)
        return captured if inputs is not None else None
    finally:
        _grad_enabled.reset(token)


def _run_nodes(
    state: _Pass,
    retain_graph: bool,
    create_graph: bool,
    accumulate: bool,
    hooks: bool,
    wanted: dict[Context, Tensor],
    captured: dict[int, Tensor],
) -> None:
    """The main loop: pop the newest node, run its backward, send gradients to its inputs.

    Without ``retain_graph`` each node's saved state is dropped once it ran, and so is its
    output's array when only the graph holds it: every consumer ran before the node and
    counted its input slots in ``_uses``, so one reference count tells (``values_freed``).
    """
    anomaly, observer, arrays = _anomaly.get(), state.observer, state.arrays
    heap, node_grads, send, pop = state.heap, state.node_grads, state.send, heapq.heappop
    leaves, ndarray = state.leaves, np.ndarray
    push, free = heapq.heappush, not retain_graph
    getrefcount, only_graph, index = sys.getrefcount, _LOCAL_ONLY, 0
    while heap:
        node = pop(heap)[2]
        g = node_grads.pop(node)
        if hooks and node.hooks:
            g = _c.run_hooks(node.hooks, _tensor(g), f"the output of {_c.where(node)}")
        ref = node._out
        out = None if ref is None else ref()
        if accumulate and out is not None and out._retains_grad:
            g = _tensor(g)
            kept = g if create_graph else g.detach()
            with _ACCUMULATE:
                out.grad = kept if out.grad is None else out.grad + kept
        if node in wanted:
            g = captured[id(wanted[node])] = _tensor(g)
        grads = _call_backward(node, g, anomaly, create_graph, arrays)
        if free:
            node._saved = None
            node._checks = None
            node.freed = True
        if observer is not None:
            observer.step(index, node, g, grads)
        if free and node._uses and out is not None and getrefcount(out) == only_graph + node._uses:
            out.data = freed_placeholder(out.data)
        out = None  # no reference left over for the next node's count
        for t, gi in zip(node.inputs, grads):
            if t is None:
                continue
            n = t._node
            if n is None:
                if gi is None:
                    continue
                prev = leaves.get(id(t)) if arrays else None
                if prev is None or type(gi) is not ndarray or type(prev[1]) is not ndarray:
                    send(t, gi, index)
                else:  # send's sum of two array gradients for a leaf, inline
                    total = prev[1] + gi
                    leaves[id(t)] = (t, total if type(total) is ndarray else np.asarray(total))
                continue
            if free:
                n._uses += 1
            if gi is not None:
                if n in node_grads:
                    send(t, gi, index)  # a second gradient for it: summed there
                else:  # send's first-gradient case, inline: once per edge of the graph
                    node_grads[n] = gi
                    push(heap, (-n.generation, -n.seq, n))
        t = None
        index += 1


def _finish_leaves(
    state: _Pass,
    create_graph: bool,
    functional: bool,
    accumulate: bool,
    hooks: bool,
    captured: dict[int, Tensor],
) -> None:
    """Run leaf hooks, report each leaf's total, and accumulate it into ``.grad``."""
    for t, g in state.leaves.values():
        g = _tensor(g)
        if hooks and t._hooks:
            g = _c.run_hooks(t._hooks, g, f"leaf tensor {t._label()}")
        if state.observer is not None:
            state.observer.leaf(t, g)
        if functional:
            captured[id(t)] = g
        elif accumulate:
            if not create_graph and g._node is not None:
                g = g.detach()
            with _ACCUMULATE:
                t.grad = g if t.grad is None else t.grad + g


# --------------------------------------------------------------------------- callers


def run_backward(
    roots: Sequence[Tensor],
    grad_roots: Sequence[Any],
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
) -> dict[int, Tensor] | None:
    """``traverse`` with the positional arguments ``Tensor.backward`` has always used."""
    return traverse(
        roots, grad_roots, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs
    )


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return d(outputs)/d(inputs) as a tuple; nothing accumulates in ``.grad``.

    >>> import minigrad as mg
    >>> x = mg.tensor(3.0, requires_grad=True)
    >>> (dx,) = mg.grad(x ** 3, [x], create_graph=True)   # 3 x^2 = 27
    >>> (ddx,) = mg.grad(dx, [x])                          # 6 x = 18
    >>> float(dx.data), float(ddx.data)
    (27.0, 18.0)
    """
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    gouts = _c.grad_outputs_list(grad_outputs, len(outs))
    for t in ins:
        if not isinstance(t, Tensor) or not t._requires_grad:
            raise ValueError(f"grad: every input must be a Tensor that requires grad, got {t!r}")
    if retain_graph is None:
        retain_graph = create_graph
    captured = traverse(
        outs, gouts, retain_graph=retain_graph, create_graph=create_graph, inputs=ins
    )
    assert captured is not None
    result = []
    for i, t in enumerate(ins):
        g = captured.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} ({t._label()}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        result.append(g)
    return tuple(result)
