"""The engine, top to bottom: grad modes, recording op calls, the one backward loop, grad().

**Grad modes** (context variables, so each thread and asyncio task has its own): ``no_grad``,
``enable_grad``, ``detect_anomaly``, ``name_scope``.

**Recording.** Every op call goes through :func:`apply`. It runs the op's ``forward`` on the
inputs' arrays; when grad mode is on and an input requires a gradient, the call's
:class:`~minigrad.op.Context` becomes a node of the graph: it keeps its inputs (a tuple, so
``x * x`` has two edges), a weak reference to its output (so the graph is freed when the user
drops the result) and a *generation* one more than its deepest input.

**The backward loop.** :func:`traverse` pops nodes from a heap, newest generation first, so
each node runs once, after every consumer of its output has sent its gradient; nothing here
recurses. Each gradient an op's backward returns is checked and fitted to its input by the
rules of :mod:`minigrad.gradients`. ``Tensor.backward``, :func:`grad` and every inspector
(``mg.graph``) are built on it; an inspector passes a :class:`BackwardObserver` and sees each
step of the engine's own pass. Without ``retain_graph`` each node's saved values are freed
once it ran, and so are intermediate arrays that only the graph holds.

**The array fast path.** In a first-order pass (no ``create_graph``, no anomaly mode, no
observer) nothing is differentiated again, so gradients travel between nodes as bare numpy
arrays and the few core ops with an ``_array_backward`` (the arithmetic of every training
step) compute theirs on arrays, without recording op calls. Every other backward, and every
gradient handed to user code (hooks, ``.grad``, :func:`grad`), sees Tensors.

>>> import minigrad as mg
>>> x = mg.tensor(3.0, requires_grad=True)
>>> (dx,) = mg.grad(x ** 3, [x], create_graph=True)   # 3 x^2 = 27
>>> (ddx,) = mg.grad(dx, [x])                          # 6 x = 18
>>> float(dx.data), float(ddx.data)
(27.0, 18.0)
"""

from __future__ import annotations

import functools
import heapq
import itertools
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal, TypeVar, overload

import numpy as np

from .gradients import (
    PlainArrayGrad,
    as_grad_array,
    check_finite,
    fit_grad,
    freeze_for_backward,
    grad_outputs_list,
    note,
    run_hooks,
    save_checks,
    seed_grad,
    thaw,
    verify_saved,
    where,
)
from .op import Context, Op, op_spec
from .tensor import Tensor, freed_placeholder, new_tensor

__all__ = [
    "BackwardObserver",
    "apply",
    "call_op",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "is_grad_enabled",
    "name_scope",
    "no_grad",
    "traverse",
]


# --------------------------------------------------------------------------- grad modes

_grad_enabled: ContextVar[bool] = ContextVar("minigrad_grad_enabled", default=True)
_anomaly: ContextVar[bool] = ContextVar("minigrad_detect_anomaly", default=False)
_scope: ContextVar[str | None] = ContextVar("minigrad_scope", default=None)
# the node whose backward is running (anomaly mode names it in its errors)
_backward_of: ContextVar[Context | None] = ContextVar("minigrad_backward_of", default=None)

F = TypeVar("F", bound=Callable[..., Any])


def is_grad_enabled() -> bool:
    """True when op calls are being recorded for backward (the default).

    >>> import minigrad as mg
    >>> with mg.no_grad():
    ...     mg.is_grad_enabled()
    False
    """
    return _grad_enabled.get()


class _GradMode:
    """Context manager and decorator setting grad mode for the current thread/context."""

    _enabled: bool

    def __init__(self) -> None:
        self._tokens: list = []

    def __enter__(self) -> None:
        self._tokens.append(_grad_enabled.set(self._enabled))

    def __exit__(self, *exc: object) -> None:
        _grad_enabled.reset(self._tokens.pop())

    def __call__(self, fn: F) -> F:
        mode = self._enabled

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _grad_enabled.set(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _grad_enabled.reset(token)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Do not record op calls: a context manager or a decorator, per thread.

    >>> import minigrad as mg
    >>> w = mg.tensor([1.0], requires_grad=True)
    >>> with mg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    _enabled = False


class enable_grad(_GradMode):
    """Record op calls again inside a ``no_grad`` block (context manager or decorator).

    >>> import minigrad as mg
    >>> w = mg.tensor([1.0], requires_grad=True)
    >>> with mg.no_grad(), mg.enable_grad():
    ...     (w * 2).requires_grad
    True
    """

    _enabled = True


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise ``FloatingPointError`` naming the first op whose forward or backward makes NaN/Inf.

    >>> import minigrad as mg
    >>> with mg.detect_anomaly():  # doctest: +SKIP
    ...     mg.log(mg.tensor([-1.0]))
    FloatingPointError: op 'log' produced NaN/Inf in its forward output ...
    """
    token = _anomaly.set(True)
    try:
        with np.errstate(all="ignore"):
            yield
    finally:
        _anomaly.reset(token)


@contextmanager
def name_scope(name: str) -> Iterator[None]:
    """Tag every op recorded inside with a scope such as ``"features/conv1"`` (graph clusters).

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0], requires_grad=True)
    >>> with mg.name_scope("block"):
    ...     y = x * 2
    >>> from minigrad.graph.trace import producer
    >>> producer(y).scope
    'block'
    """
    outer = _scope.get()
    token = _scope.set(name if outer is None else f"{outer}/{name}")
    try:
        yield
    finally:
        _scope.reset(token)


# --------------------------------------------------------------------------- recording

_seq = itertools.count(1)
# needs_input_grad of a call that is not recorded, by number of inputs (no tuple per call)
_NO_GRAD_NEEDED = [(False,) * n for n in range(8)]
_weakref = weakref.ref


def apply(op: type[Op], inputs: tuple[Tensor | None, ...], attrs: dict[str, Any]) -> Tensor:
    """Run ``op.forward`` on the inputs' arrays and record the call when a gradient may flow.

    ``inputs`` are Tensors (or None for an absent optional input) and ``attrs`` holds every
    attribute, defaults included. Users call ops through Tensor operators or ``mg.ops``.

    >>> import minigrad as mg
    >>> from minigrad.functional import Mul
    >>> x = mg.tensor([1.0, 2.0], requires_grad=True)
    >>> y = apply(Mul, (x, x), {})
    >>> y.data, y._node.name
    (array([1., 4.], dtype=float32), 'mul')
    """
    # the hot path of every op call, one function on purpose (a helper call per step costs
    # measurably per op): plain loops, no generator expressions
    record = False
    generation = 0
    arrays: list[np.ndarray | None] = []
    needs = []
    for t in inputs:
        if t is None:
            arrays.append(None)
            needs.append(False)
            continue
        arrays.append(t.data)
        r = t._requires_grad
        needs.append(r)
        if r:
            record = True
            node = t._node
            if node is not None and node._generation > generation:
                generation = node._generation
    forward_only = False
    if record and _grad_enabled.get():
        ctx = Context(op, attrs, inputs, tuple(needs), generation + 1, next(_seq), _scope.get())
    else:
        n = len(inputs)
        no_needs = _NO_GRAD_NEEDED[n] if n < 8 else (False,) * n
        if not record and _grad_enabled.get() and n:
            # no input requires grad: a forward-only call. It is kept as a plain Context on
            # the output's ``_origin`` (not ``_node``: the output stays a leaf for autograd),
            # so that explain() and explore() can read a learner's first conv written without
            # requires_grad. Training never takes this branch for its recorded ops; under
            # no_grad (and in a first-order backward) nothing is kept.
            forward_only = True
            ctx = Context(op, attrs, inputs, no_needs, 0, next(_seq), _scope.get())
        else:
            ctx = Context(op, attrs, (), no_needs)
        record = False
    views = None
    try:
        if op._core:
            out = op.forward(ctx, *arrays, **attrs) if attrs else op.forward(ctx, *arrays)
        else:
            # plugin ops see read-only views: an in-place write raises, x.data stays as it was
            views = _readonly_views(arrays, op)
            out = op.forward(ctx, *views, **attrs)
    except Exception as e:
        note(e, ctx, "forward")
        raise
    if views is None and type(out) is np.ndarray:
        kind = out.dtype.kind
        if kind not in "fc":
            out = _check_output(ctx, out, arrays, views)
    else:
        out = _check_output(ctx, out, arrays, views)
        kind = out.dtype.kind
    if _anomaly.get():
        check_finite(ctx, out, "forward output", _backward_of.get())
    if not record or kind not in "fc":
        result = new_tensor(out)
        if forward_only:  # for inspectors (see above)
            ctx._saved = ()  # what forward saved for a backward that will never run
            ctx._out = _weakref(result)
            result._origin = ctx
        return result
    if ctx._saved:
        ctx._checks = save_checks(ctx)
    result = new_tensor(out, ctx, True)
    ctx._out = _weakref(result)
    return result


def call_op(op: type[Op], *args: Any, **kwargs: Any) -> Tensor:
    """Call ``op`` as users do: ``op(*tensors, *attrs, **attrs)``.

    Binds arguments against ``op.forward``'s signature (see :meth:`OpSpec.bind`): tensor
    inputs first, then attributes in their declared order (positionally or by keyword, as in
    PyTorch's ``max_pool2d(x, 2)``); fills in attribute defaults and reports misuse with the
    op's name and its valid attributes.

    >>> import minigrad as mg
    >>> from minigrad.functional import Sum
    >>> call_op(Sum, mg.tensor([[1.0, 2.0]]), axis=1).data
    array([3.], dtype=float32)
    """
    tensors, attrs = op_spec(op).bind(args, kwargs)
    return apply(op, tensors, attrs)


def _readonly_views(arrays: list, op: type[Op]) -> list:
    """Read-only views of the arrays (None stays None); views are cheap, no data is copied.

    The inputs that ``op.mutates`` names (buffers such as batch norm's running statistics)
    are passed as they are, writable.
    """
    keep: tuple[int, ...] = ()
    if op.mutates:
        names = op_spec(op).inputs
        keep = tuple(i for i, n in enumerate(names) if n in op.mutates)
    out = []
    for i, a in enumerate(arrays):
        if a is not None and i not in keep:
            a = a.view()
            a.flags.writeable = False
        out.append(a)
    return out


def _check_output(ctx: Context, out: Any, arrays: list, views: list | None) -> np.ndarray:
    """A forward must return a numeric array (bool, integer, floating or complex).

    numpy scalars (what ufuncs return for 0-d inputs) become 0-d arrays, and saved references
    to that scalar or to a plugin's read-only input views are pointed at what the graph holds
    (the output array, the real inputs), so ``saved_tensors`` returns the graph's own Tensors
    and double backward through 0-d intermediates stays connected.
    """
    arr = out
    if not isinstance(out, np.ndarray):
        if not isinstance(out, (np.generic, bool, int, float, complex)):
            raise TypeError(
                f"{where(ctx)}: forward returned {type(out).__name__}; expected a numpy array"
            )
        arr = np.asarray(out)
    if arr.dtype.kind not in "biufc":
        raise TypeError(
            f"{where(ctx)}: forward returned an array of dtype {arr.dtype}; expected a numeric "
            "array (bool, integer, floating or complex)"
        )
    saved = ctx._saved
    if saved and (arr is not out or views is not None):
        swap = {id(out): arr}
        if views is not None:
            swap.update({id(v): a for v, a in zip(views, arrays) if v is not None})
        ctx._saved = tuple(swap.get(id(s), s) for s in saved)
    return arr


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
        self, index: int, node: Context, grad: Tensor, input_grads: list[Tensor | None]
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


# --------------------------------------------------------------------------- the backward loop


def _refs_of_a_local() -> int:
    only_here = object()
    return sys.getrefcount(only_here)


# what sys.getrefcount reports for an object that one local variable alone refers to
_REFS_OF_A_LOCAL = _refs_of_a_local()
_ndarray = np.ndarray
# held around each read-add-write of a ``.grad``: backward() calls from several threads that
# reach one leaf (a shared weight) each add their contribution, none overwrites another's
_ACCUMULATE = threading.Lock()


def _as_tensor(g: Any) -> Tensor:
    """A gradient travelling as a bare array (first-order pass), as the Tensor users get."""
    return new_tensor(g) if type(g) is _ndarray else g


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
    saved state is freed once it ran, and so are intermediate values nobody else holds: every
    consumer of a node's output ran before the node and counted its input slots in ``_uses``,
    so one reference count tells whether only the graph holds the output.
    """
    token = _grad_enabled.set(create_graph)
    try:
        anomaly = _anomaly.get()
        seeds = []
        for root, g in zip(roots, grad_roots, strict=True):
            g = seed_grad(root, g)
            if observer is not None:
                observer.seed(root, g)
            seeds.append(g)
        wanted = {t._node: t for t in inputs if t._node is not None} if inputs else {}
        captured: dict[int, Tensor] = {}
        # two gradients reaching one tensor are summed with numpy unless the sum must be
        # differentiated (create_graph) or checked (anomaly); unless an observer watches,
        # gradients then travel as bare arrays (wrapped where they are handed out)
        plain = not create_graph and not anomaly
        arrays = plain and observer is None
        free = not retain_graph
        # pending gradients: by node for a non-leaf, by Tensor for a leaf (what is left at
        # the end); the heap of nodes to run, newest generation first
        pending: dict[Any, Any] = {}
        heap: list[tuple[int, int, Context]] = []
        push, pop, getrefcount = heapq.heappush, heapq.heappop, sys.getrefcount
        edges: Any = zip(roots, seeds)  # the first "step" sends the seeds to the roots
        counting = False  # roots are no input slots of a consumer
        index = -1
        while True:
            # send each gradient of the last step to the tensor it is for
            for t, gi in edges:
                if t is None:
                    continue
                n = t._node
                if n is not None and counting:
                    n._uses += 1
                if gi is None:
                    continue
                key = t if n is None else n
                prev = pending.get(key)
                if prev is None:
                    pending[key] = gi
                    if n is not None:
                        push(heap, (-n._generation, -n._seq, n))
                    continue
                total: Any
                if plain:  # both fitted to the tensor's shape and dtype already
                    total = (prev if type(prev) is _ndarray else prev.data) + (
                        gi if type(gi) is _ndarray else gi.data
                    )
                    if type(total) is not _ndarray:  # 0-d + 0-d gives a numpy scalar
                        total = np.asarray(total)
                    if not arrays:
                        total = new_tensor(total)
                else:
                    total = prev + gi
                pending[key] = total
                if observer is not None:
                    observer.accumulate(index, key, gi, total)
            # no reference left over for the next node's count (zip keeps its last pair)
            edges = t = key = n = None
            if not heap:
                break
            node = pop(heap)[2]
            g = pending.pop(node)
            index += 1
            counting = free
            if hooks and node._hooks:
                g = run_hooks(node._hooks, _as_tensor(g), f"the output of {where(node)}")
            ref = node._out
            out = None if ref is None else ref()
            if accumulate and out is not None and out._retains_grad:
                g = _as_tensor(g)
                kept = g if create_graph else g.detach()
                with _ACCUMULATE:
                    out.grad = kept if out.grad is None else out.grad + kept
            if node in wanted:
                g = captured[id(wanted[node])] = _as_tensor(g)
            grads = _backward_step(node, g, anomaly, create_graph, arrays)
            if free:
                node._saved = None
                node._checks = None
            if observer is not None:
                observer.step(index, node, g, grads)
            uses = node._uses
            if free and uses and out is not None and getrefcount(out) == _REFS_OF_A_LOCAL + uses:
                out.data = freed_placeholder(out.data)  # only the graph held the output
            out = None
            edges = zip(node._inputs, grads)
        _finish_leaves(pending, observer, create_graph, inputs is not None, accumulate, hooks)
        if inputs is not None:
            captured.update((id(t), g) for t, g in pending.items())
            return captured
        return None
    finally:
        _grad_enabled.reset(token)


def _backward_step(
    node: Context, g: Any, anomaly: bool, create_graph: bool, arrays: bool
) -> list[Any]:
    """Run one node's backward (its saved inputs checked first); one fitted gradient per input.

    ``g`` is a Tensor or, in a first-order pass, possibly a numpy array. An op with an
    ``_array_backward`` computes on arrays then (nothing will differentiate it); with
    ``arrays`` the gradients may stay arrays, else they are wrapped as Tensors.
    """
    if node._saved is None:
        raise RuntimeError(node._freed_message())
    if node._checks is not None:
        verify_saved(node)
    outer = _backward_of.set(node) if anomaly else None
    op = node._op
    # a plugin's backward reaches the caller's arrays (saved_tensors[i].data): read-only meanwhile
    frozen = None if op._core else freeze_for_backward(node, g)
    try:
        fast = op._array_backward
        if fast is not None and not create_graph and not anomaly:
            raw = fast(node, g if type(g) is _ndarray else g.data)
        else:
            raw = op.backward(node, _as_tensor(g))
    except Exception as e:
        note(e, node, "backward")
        raise
    finally:
        if outer is not None:
            _backward_of.reset(outer)
        if frozen:
            thaw(frozen)
    inputs = node._inputs
    if type(raw) is not tuple and type(raw) is not list:
        raw = (raw,)
    if len(raw) != len(inputs):
        raise ValueError(
            f"{where(node)}: backward returned {len(raw)} gradient(s) for {len(inputs)} input(s)"
        )
    grads: list[Any] = []
    i = 0
    for t, gi, need in zip(inputs, raw, node._needs_input_grad):
        if need and gi is not None and t is not None:
            kind = type(gi)
            # numpy results are wrapped as they are only when not differentiated again
            plain_array = kind is _ndarray and not create_graph
            d = gi.data if kind is Tensor else gi if plain_array else None
            if d is None or anomaly:
                gi = _fit_checked(node, i, t, gi, create_graph, anomaly)
            else:
                td = t.data  # dtypes are shared objects: `is` settles the common case
                if d.shape != td.shape or (d.dtype is not td.dtype and d.dtype != td.dtype):
                    gi = fit_grad(node, i, t, gi if kind is Tensor else new_tensor(d))
                elif kind is not Tensor and not arrays:
                    gi = new_tensor(d)
            grads.append(gi)
        else:
            grads.append(None)
        i += 1  # noqa: SIM113 (zip of three is the hot loop; i only names errors)
    return grads


def _fit_checked(
    node: Context, i: int, t: Tensor, g: Any, create_graph: bool, anomaly: bool
) -> Tensor:
    """The slow path of fitting: a gradient that is no Tensor (a plain array, a number), and
    anomaly mode's check for NaN and Inf."""
    if not isinstance(g, Tensor):
        arr = as_grad_array(node, i, g)
        if create_graph:  # the value flows on; differentiating it again raises naming the op
            live = tuple(x for x in node.inputs if x is not None)
            g = apply(PlainArrayGrad, live, {"value": arr, "source": where(node)})
        else:
            g = new_tensor(arr)
    g = fit_grad(node, i, t, g)
    if anomaly:
        check_finite(node, g.data, f"backward (gradient for input {i})", _backward_of.get())
    return g


def _finish_leaves(
    leaves: dict[Any, Any],
    observer: BackwardObserver | None,
    create_graph: bool,
    functional: bool,
    accumulate: bool,
    hooks: bool,
) -> None:
    """Run leaf hooks, report each leaf's total, and accumulate it into ``.grad`` (unless
    :func:`grad` asked for it: then ``leaves`` keeps the final Tensors for it)."""
    for t, g in leaves.items():
        g = _as_tensor(g)
        if hooks and t._hooks:
            g = run_hooks(t._hooks, g, f"leaf tensor {t._label()}")
        if observer is not None:
            observer.leaf(t, g)
        if functional:
            leaves[t] = g
        elif accumulate:
            if not create_graph and g._node is not None:
                g = g.detach()
            with _ACCUMULATE:
                t.grad = g if t.grad is None else t.grad + g


# --------------------------------------------------------------------------- grad()


@overload
def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: Literal[False] = False,
) -> tuple[Tensor, ...]: ...


@overload
def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    *,
    allow_unused: bool,
) -> tuple[Tensor | None, ...]: ...


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return d(outputs)/d(inputs) as a tuple of Tensors; nothing accumulates in ``.grad``.

    As ``torch.autograd.grad``: an input the outputs do not depend on raises, unless
    ``allow_unused=True`` (its entry is then None). ``retain_graph`` defaults to
    ``create_graph``.

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0, 2.0], requires_grad=True)
    >>> (dx,) = mg.grad((x * x).sum(), [x])
    >>> dx.data
    array([2., 4.], dtype=float32)
    """
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    gouts = grad_outputs_list(grad_outputs, len(outs))
    for t in ins:
        if not isinstance(t, Tensor) or not t._requires_grad:
            raise ValueError(f"grad: every input must be a Tensor that requires grad, got {t!r}")
    if retain_graph is None:
        retain_graph = create_graph
    captured = traverse(
        outs, gouts, retain_graph=retain_graph, create_graph=create_graph, inputs=ins
    )
    assert captured is not None
    result: list[Tensor | None] = []
    for i, t in enumerate(ins):
        g = captured.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} ({t._label()}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        result.append(g)
    return tuple(result)
