"""Recording op calls: :func:`apply` runs an op's forward and, when a gradient may flow,
records the call as a node of the graph; :func:`call_op` binds user arguments first.

Part of the engine (:mod:`minigrad.autograd` re-exports both); kept apart from the backward
traversal so each file has one job.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any

import numpy as np

from . import _contract as _c
from ._contract import fingerprint_saved
from ._modes import _anomaly, _grad_enabled, _scope
from .op import Context, Op, _Unrecorded, op_spec
from .tensor import Tensor, as_tensor

__all__ = ["apply", "call_op"]

_seq = itertools.count(1)
# needs_input_grad of a call that is not recorded, by number of inputs (no tuple per call)
_NO_GRAD_NEEDED = [(False,) * n for n in range(8)]


# --------------------------------------------------------------------------- recording


def apply(op: type[Op], inputs: tuple[Tensor | None, ...], attrs: dict[str, Any]) -> Tensor:
    """Run ``op.forward`` on the inputs' arrays and record the call when a gradient may flow.

    ``inputs`` are Tensors (or None for an absent optional input) and ``attrs`` holds every
    attribute, defaults included. Users call ops through Tensor operators or ``mg.ops``.
    """
    # this is the hot path of every op call, kept as one function on purpose (a helper call
    # per step costs measurably per op): plain loops, no generator expressions, and a
    # call that is not recorded (no_grad, a first-order backward) sets few Context fields
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
        r = t._requires_grad
        needs.append(r)
        if r:
            record = True
            node = t._node
            if node is not None and node.generation > generation:
                generation = node.generation
    if record and _grad_enabled.get():
        # Context.__init__'s fields, set inline: a frame per recorded call is measurable
        ctx = _new_ctx(Context)
        ctx.op = op
        ctx.attrs = attrs
        ctx.needs_input_grad = tuple(needs)
        ctx.inputs = inputs
        ctx.generation = generation + 1
        ctx.seq = next(_seq)
        ctx.scope = _scope.get()
        ctx._saved = ()
        ctx._checks = None
        ctx._out = None
        ctx.freed = False
        ctx.hooks = None
        ctx._uses = 0
    elif _grad_enabled.get():
        # no input requires grad: a forward-only call. It is kept as a plain Context on the
        # output's ``_origin`` (not ``_node``: the output stays a leaf for autograd), so that
        # explain() and explore() can read a learner's first conv written without
        # requires_grad. Training never takes this branch for its recorded ops; under no_grad
        # (and in a first-order backward) nothing is kept.
        record = False
        ctx = _new_ctx(Context)
        ctx.op = op
        ctx.attrs = attrs
        n = len(inputs)
        ctx.needs_input_grad = _NO_GRAD_NEEDED[n] if n < 8 else (False,) * n
        ctx.inputs = inputs
        ctx.generation = 0
        ctx.seq = next(_seq)
        ctx.scope = _scope.get()
        ctx._saved = ()
        ctx._checks = None
        ctx._out = None
        ctx.freed = False
        ctx.hooks = None
        ctx._uses = 0
    else:
        record = False
        n = len(inputs)
        ctx = _new_ctx(_Unrecorded)  # graph fields are class defaults: three fields to set
        ctx.op = op
        ctx.attrs = attrs
        ctx.needs_input_grad = _NO_GRAD_NEEDED[n] if n < 8 else (False,) * n
    views = None
    try:
        if op._core:
            out = op.forward(ctx, *arrays, **attrs) if attrs else op.forward(ctx, *arrays)
        else:
            # plugin ops see read-only views: an in-place write raises, x.data stays as it was
            views = _c.readonly(arrays, op)
            out = op.forward(ctx, *views, **attrs)
    except Exception as e:
        _c.note(e, ctx, "forward")
        raise
    if views is None and type(out) is np.ndarray:
        kind = out.dtype.kind
        if kind not in "fc":
            out = _c.check_output(ctx, out, arrays, views)
    else:
        out = _c.check_output(ctx, out, arrays, views)
        kind = out.dtype.kind
    if _anomaly.get():
        _c.check_finite(ctx, out, "forward output")
    if not record or kind not in "fc":
        result = _new_tensor(out, None, False)
        if not record and ctx.inputs:  # a forward-only call (see above), for inspectors
            ctx._saved = ()  # what forward saved for a backward that will never run
            ctx._out = _weakref(result)
            result._origin = ctx
        return result
    if ctx._saved:
        ctx._checks = fingerprint_saved(ctx)
    result = _new_tensor(out, ctx, True)
    ctx._out = _weakref(result)
    return result


_new_tensor = Tensor._new
_new_ctx = Context.__new__
_weakref = weakref.ref


def call_op(op: type[Op], *args: Any, **kwargs: Any) -> Tensor:
    """Call ``op`` as users do: ``op(*tensors, *attrs, **attrs)``.

    Binds arguments against ``op.forward``'s signature (see :meth:`OpSpec.bind`): tensor
    inputs first, then attributes in their declared order (positionally or by keyword, as in
    PyTorch's ``max_pool2d(x, 2)``); fills in attribute defaults and reports misuse with the
    op's name and its valid attributes.
    """
    tensors, attrs = op_spec(op).bind(args, kwargs, as_tensor)
    return apply(op, tensors, attrs)
