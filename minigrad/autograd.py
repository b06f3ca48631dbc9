"""The reverse-mode engine: recording op calls, grad modes, and ``backward``.

Every op call goes through :func:`apply`. When grad mode is on and an input requires a
gradient, the call's :class:`~minigrad.op.Context` becomes a node of the graph: it keeps its
inputs (a tuple, so ``x * x`` has two edges), a weak reference to its output (so the graph
is freed when the user drops the result) and a *generation* one more than its deepest input.
:func:`run_backward` pops nodes from a heap, newest generation first, so each node runs once,
after every consumer of its output has contributed its gradient. Nothing here recurses.
"""

from __future__ import annotations

import functools
import heapq
import inspect
import itertools
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import numpy as np

from .op import Context, Op, op_spec

__all__ = [
    "apply",
    "call_op",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "is_grad_enabled",
    "name_scope",
    "no_grad",
    "run_backward",
]

_grad_enabled: ContextVar[bool] = ContextVar("minigrad_grad_enabled", default=True)
_anomaly: ContextVar[bool] = ContextVar("minigrad_detect_anomaly", default=False)
_scope: ContextVar[str | None] = ContextVar("minigrad_scope", default=None)
_backward_of: ContextVar[Context | None] = ContextVar("minigrad_backward_of", default=None)
_seq = itertools.count(1)

F = TypeVar("F", bound=Callable[..., Any])


def is_grad_enabled() -> bool:
    """True when op calls are being recorded for backward (the default)."""
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
    """Record op calls again inside a ``no_grad`` block (context manager or decorator)."""

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
    """Tag every op recorded inside with a scope such as ``"features/conv1"`` (graph clusters)."""
    outer = _scope.get()
    token = _scope.set(name if outer is None else f"{outer}/{name}")
    try:
        yield
    finally:
        _scope.reset(token)


def _where(ctx: Context) -> str:
    plugin = ctx.op.plugin
    return f"op '{ctx.name}'" + (f" (from plugin {plugin})" if plugin else "")


def _check_finite(ctx: Context, arr: np.ndarray, what: str) -> None:
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        outer = _backward_of.get()
        inside = f" while computing the backward of {_where(outer)}" if outer else ""
        raise FloatingPointError(f"{_where(ctx)} produced NaN/Inf in its {what}{inside}")


# --------------------------------------------------------------------------- recording


def apply(op: type[Op], inputs: tuple[Tensor | None, ...], attrs: dict[str, Any]) -> Tensor:
    """Run ``op.forward`` on the inputs' arrays and record the call when a gradient may flow.

    ``inputs`` are Tensors (or None for an absent optional input) and ``attrs`` holds every
    attribute, defaults included. Users call ops through Tensor operators or ``mg.ops``.
    """
    # this is the hot path of every op call: plain loops, no generator expressions
    record = False
    generation = 0
    arrays = []
    needs = []
    for t in inputs:
        if t is None:
            arrays.append(None)
            needs.append(False)
            continue
        arrays.append(t.data)
        needs.append(t._requires_grad)
        if t._requires_grad:
            record = True
            node = t._node
            if node is not None and node.generation > generation:
                generation = node.generation
    record = record and _grad_enabled.get()
    ctx = Context.__new__(Context)
    ctx.op = op
    ctx.attrs = attrs
    ctx._saved = ()
    ctx.needs_input_grad = tuple(needs) if record else (False,) * len(inputs)
    out = op.forward(ctx, *arrays, **attrs)
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    if _anomaly.get():
        _check_finite(ctx, out, "forward output")
    if not record or out.dtype.kind not in "fc":
        return Tensor._make_const(out)
    ctx.inputs = inputs
    ctx.generation = generation + 1
    ctx.seq = next(_seq)
    ctx.scope = _scope.get()
    ctx.hooks = None
    ctx.freed = False
    result = Tensor._from_node(out, ctx)
    ctx._out = weakref.ref(result)
    return result


def call_op(op: type[Op], *args: Any, **kwargs: Any) -> Tensor:
    """Call ``op`` as users do: ``op(*tensors, *attrs, **attrs)``.

    Binds arguments against ``op.forward``'s signature: tensor inputs first, then attributes
    in their declared order (positionally or by keyword, as in PyTorch's
    ``max_pool2d(x, 2)``); fills in attribute defaults and reports misuse with the op's
    name and its valid attributes.
    """
    spec = op_spec(op)
    n_in = len(spec.inputs)
    if spec.variadic:
        tensors = [as_tensor(a) for a in args]
        if not tensors:
            raise TypeError(f"{spec.name}: expected at least one tensor input")
    else:
        if len(args) > n_in:
            extra, args = args[n_in:], args[:n_in]
            names = tuple(spec.attrs)
            if len(extra) > len(names):
                raise TypeError(
                    f"{spec.name}: takes {n_in} tensor input(s) {spec.inputs} and "
                    f"{len(names)} attribute(s) {names}, got {n_in + len(extra)} "
                    "positional arguments"
                )
            for name, value in zip(names, extra):
                if name in kwargs:
                    raise TypeError(f"{spec.name}: got multiple values for attribute '{name}'")
                kwargs[name] = value
        tensors = list(args) + [None] * (n_in - len(args))
        for i, name in enumerate(spec.inputs[len(args) :], start=len(args)):
            if name in kwargs:
                tensors[i] = kwargs.pop(name)
        ref = next((t for t in tensors if hasattr(t, "_requires_grad")), None)
        for i, (name, t) in enumerate(zip(spec.inputs, tensors, strict=True)):
            if t is None:
                if name not in spec.optional:
                    raise TypeError(f"{spec.name}: missing required tensor input '{name}'")
            else:
                tensors[i] = as_tensor(t, like=ref)
    unknown = set(kwargs) - set(spec.attrs)
    if unknown:
        raise TypeError(
            f"{spec.name}: unexpected attribute(s) {sorted(unknown)}; "
            f"valid attributes are {sorted(spec.attrs)}"
        )
    attrs = dict(spec.attrs)
    attrs.update(kwargs)
    missing = [k for k, v in attrs.items() if v is inspect.Parameter.empty]
    if missing:
        raise TypeError(f"{spec.name}: missing required attribute(s) {missing}")
    return apply(op, tuple(tensors), attrs)


# --------------------------------------------------------------------------- backward


class _NotTwiceDifferentiable(Op):
    """Stands for a gradient that an op's backward returned as a plain array."""

    name = "plain_array_grad"

    @staticmethod
    def forward(ctx: Context, *inputs: np.ndarray, value: Any = None, source: str = "") -> Any:
        return value

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Any:
        raise RuntimeError(
            f"{ctx.attrs['source']}'s backward returned a plain numpy array, so it cannot be "
            "differentiated again (create_graph=True). Write its backward with minigrad "
            "operations on Tensors (ctx.saved_tensors, grad) to support double backward."
        )


def _as_grad(ctx: Context, i: int, t: Tensor, g: Any, create_graph: bool) -> Tensor:
    """Check one gradient returned by ``ctx.op.backward`` and fit it to input ``t``."""
    if type(g) is Tensor:
        arr = g.data
        if arr.shape == t.data.shape and arr.dtype == t.data.dtype and not _anomaly.get():
            return g  # the common case: nothing to fit
    if isinstance(g, Tensor):
        arr = g.data
    else:
        try:
            arr = np.asarray(g)
        except Exception:
            arr = None
        if arr is None or arr.dtype == object:
            raise TypeError(
                f"{_where(ctx)}: backward returned {type(g).__name__} for input {i}; "
                "expected a Tensor, a numpy array or None"
            )
        if create_graph:
            g = apply(
                _NotTwiceDifferentiable,
                tuple(x for x in ctx.inputs if x is not None),
                {"value": arr, "source": _where(ctx)},
            )
        else:
            g = Tensor._make_const(arr)
    if arr.dtype.kind not in "fc":
        raise TypeError(
            f"{_where(ctx)}: backward returned a gradient of dtype {arr.dtype} for input {i} "
            f"of dtype {t.dtype}; gradients must be floating point"
        )
    if arr.shape != t.shape:
        try:
            ok = np.broadcast_shapes(arr.shape, t.shape) == arr.shape
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(
                f"{_where(ctx)}: backward returned a gradient of shape {arr.shape} for input "
                f"{i} of shape {t.shape}; expected the input's shape (or a broadcast of it)"
            )
        g = _core_ops.sum_to(g, t.shape)
    if arr.dtype != t.dtype:
        g = _core_ops.astype(g, t.dtype)
    if _anomaly.get():
        _check_finite(ctx, g.data, f"backward (gradient for input {i})")
    return g


def _run_hooks(hooks: list, g: Tensor, who: str) -> Tensor:
    for hook in hooks:
        r = hook(g)
        if r is None:
            continue
        if not isinstance(r, Tensor):
            raise TypeError(
                f"hook {hook!r} on {who} returned {type(r).__name__}; expected a Tensor or None"
            )
        if r.shape != g.shape:
            raise ValueError(
                f"hook {hook!r} on {who} returned a gradient of shape {r.shape}; expected {g.shape}"
            )
        g = r
    return g


def run_backward(
    roots: Sequence[Tensor],
    grad_roots: Sequence[Any],
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
) -> dict[int, Tensor] | None:
    """Propagate gradients from ``roots`` to the leaves.

    With ``inputs=None`` gradients accumulate into leaves' ``.grad`` (``Tensor.backward``);
    otherwise the gradients of ``inputs`` are returned keyed by ``id`` and nothing
    accumulates (``mg.grad``).
    """
    token = _grad_enabled.set(create_graph)
    try:
        node_grads: dict[Context, Tensor] = {}
        leaf_grads: dict[int, tuple[Tensor, Tensor]] = {}
        heap: list[tuple[int, int, Context]] = []
        wanted_nodes = {}
        if inputs is not None:
            wanted_nodes = {t._node: t for t in inputs if t._node is not None}
        captured: dict[int, Tensor] = {}

        def send(t: Tensor, g: Tensor) -> None:
            node = t._node
            if node is None:
                prev = leaf_grads.get(id(t))
                leaf_grads[id(t)] = (t, g if prev is None else prev[1] + g)
            elif node in node_grads:
                node_grads[node] = node_grads[node] + g
            else:
                node_grads[node] = g
                heapq.heappush(heap, (-node.generation, -node.seq, node))

        for root, g in zip(roots, grad_roots, strict=True):
            if not root._requires_grad:
                raise RuntimeError(
                    f"backward: tensor of shape {root.shape} does not require grad and has no "
                    "graph; create its leaves with requires_grad=True"
                )
            if g is None:
                if root.size != 1:
                    raise RuntimeError(
                        f"backward: grad can be implicitly created only for a scalar output, "
                        f"got shape {root.shape}; pass grad= with that shape (e.g. ones)"
                    )
                g = Tensor._make_const(np.ones(root.shape, dtype=root.dtype))
            else:
                g = as_tensor(g, like=root)
                if g.shape != root.shape:
                    raise ValueError(
                        f"backward: grad has shape {g.shape} but the output has shape {root.shape}"
                    )
            send(root, g)

        anomaly = _anomaly.get()
        while heap:
            node = heapq.heappop(heap)[2]
            g = node_grads.pop(node)
            if node.hooks:
                g = _run_hooks(node.hooks, g, f"the output of {_where(node)}")
            out = node.output
            if out is not None and out._retains_grad:
                out.grad = g if create_graph else g.detach()
            if node in wanted_nodes:
                captured[id(wanted_nodes[node])] = g
            if node.freed:
                raise RuntimeError(node._freed_message())
            if anomaly:
                outer = _backward_of.set(node)
                try:
                    raw = node.op.backward(node, g)
                finally:
                    _backward_of.reset(outer)
            else:
                raw = node.op.backward(node, g)
            n = len(node.inputs)
            if not isinstance(raw, (tuple, list)):
                raw = (raw,)
            if len(raw) != n:
                raise ValueError(
                    f"{_where(node)}: backward returned {len(raw)} gradient(s) for {n} input(s)"
                )
            if not retain_graph:
                node._saved = None
                node.freed = True
            for i, (t, gi, need) in enumerate(zip(node.inputs, raw, node.needs_input_grad)):
                if need and gi is not None:
                    if (
                        type(gi) is not Tensor
                        or gi.data.shape != t.data.shape
                        or gi.data.dtype != t.data.dtype
                        or anomaly
                    ):
                        gi = _as_grad(node, i, t, gi, create_graph)
                    send(t, gi)

        for t, g in leaf_grads.values():
            if t._hooks:
                g = _run_hooks(t._hooks, g, f"leaf tensor {t._label()}")
            if inputs is not None:
                captured[id(t)] = g
            else:
                if not create_graph and g._node is not None:
                    g = g.detach()
                t.grad = g if t.grad is None else t.grad + g
        return captured if inputs is not None else None
    finally:
        _grad_enabled.reset(token)


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
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        gouts = [grad_outputs] * len(outs) if grad_outputs is None else [grad_outputs]
    else:
        gouts = list(grad_outputs)
    for t in ins:
        if not isinstance(t, Tensor) or not t._requires_grad:
            raise ValueError(f"grad: every input must be a Tensor that requires grad, got {t!r}")
    if retain_graph is None:
        retain_graph = create_graph
    captured = run_backward(outs, gouts, retain_graph, create_graph, inputs=ins)
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


# imported last: tensor.py and core_ops.py import this module
from . import core_ops as _core_ops  # noqa: E402
from .tensor import Tensor, as_tensor  # noqa: E402
