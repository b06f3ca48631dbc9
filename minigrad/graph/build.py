"""``build``: the graph data of one view (forward, backward or both), optionally folded.

Every view starts from one :class:`.trace.Trace`: the caller's (so that views of one computation
share one walk and one backward pass) or, without one, a Trace recorded here (:func:`.trace.record`:
one walk, and the engine's backward pass when the view shows gradient values).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..tensor import Tensor
from .backward import add_gradients, build_backward
from .data import GraphData, gc_paused
from .forward import build_forward, mark_stale_grads
from .trace import Trace, record
from .views import collapse, hide_tensors

__all__ = ["build"]


def build(
    t: Tensor,
    backward: bool | str = False,
    *,
    values: bool = True,
    grads: Mapping[Tensor, Any] | None = None,
    collapse_scopes: bool = False,
    show_tensors: bool = True,
    trace: Trace | None = None,
) -> GraphData:
    """Graph data for ``t``: ``backward`` is False (forward), True (backward) or "both".

    ``trace``: what :func:`.trace.record` recorded from ``t``, so that views of one
    computation share one walk and one backward pass.

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    >>> [n.kind for n in build((x * x).sum()).nodes]
    ['tensor', 'op', 'tensor', 'op', 'tensor']
    """
    if not isinstance(t, Tensor):
        raise TypeError(
            f"minigrad.graph: expected a minigrad Tensor to draw, got {type(t).__name__}"
        )
    with gc_paused():
        return _build(t, backward, values, grads, collapse_scopes, show_tensors, trace)


def _build(
    t: Tensor,
    backward: bool | str,
    values: bool,
    grads: Mapping[Tensor, Any] | None,
    collapse_scopes: bool,
    show_tensors: bool,
    trace: Trace | None,
) -> GraphData:
    if trace is None:
        # the forward view's check for stale .grad runs the backward pass only if it is needed
        trace = record(t, backward=values and backward is not False)
    if backward == "both":
        data = build_forward(t, trace)
        add_gradients(data, values, grads, trace)
    elif backward is True:
        data = build_backward(t, values, grads, trace)
    elif backward is False:
        data = build_forward(t, trace)
        if values:
            mark_stale_grads(data, trace)
    else:
        raise ValueError(
            f"minigrad.graph: backward must be True, False or 'both', got {backward!r}"
        )
    if not show_tensors:
        data = hide_tensors(data)
    if collapse_scopes:
        data = collapse(data)
    return data
