"""After backward() without retain_graph, the graph keeps its shape but no intermediate arrays."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator

import numpy as np
import pytest

import minigrad as mg

N, D, LAYERS = 256, 512, 4  # every activation: 256 x 512 float64 = 1 MiB


@pytest.fixture
def no_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _model() -> tuple[mg.Tensor, list[mg.Tensor]]:
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((N, D)), name="x")
    ws = [mg.tensor(rng.standard_normal((D, D)) / 30, requires_grad=True) for _ in range(LAYERS)]
    return x, ws


def _forward(x: mg.Tensor, ws: list[mg.Tensor]) -> mg.Tensor:
    h = x
    for w in ws:
        h = mg.maximum(h @ w, 0.0)  # a (linear + relu) layer: two 1 MiB activations
    return (h * h).mean()


def test_backward_frees_intermediate_arrays(no_gc: None) -> None:
    x, ws = _model()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        loss = _forward(x, ws)
        after_forward = tracemalloc.get_traced_memory()[0] - base
        loss.backward()
        after_backward = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    mib = 1 << 20
    grads = LAYERS * D * D * 8  # the weights' .grad stay
    assert after_forward > 2 * LAYERS * mib  # 8 activations (+ the last h * h) held by the graph
    assert after_backward < grads + 0.5 * mib, (after_forward, after_backward)
    assert loss._node is not None and loss._node.freed  # structure is still there
    layer = loss._node.inputs[0]._node.inputs[0]
    assert layer.values_freed and layer.shape == (N, D) and layer.dtype == np.float64
    assert layer.data.nbytes == N * D * 8 and layer.data.base is not None  # zero-byte stand-in
    assert all(w.grad is not None and not w.values_freed for w in ws)


def test_user_held_intermediate_keeps_its_data(no_gc: None) -> None:
    x, ws = _model()
    h = mg.maximum(x @ ws[0], 0.0)
    h.retain_grad()
    kept = h.data.copy()
    loss = (h @ ws[1]).sum()
    loss.backward()
    assert not h.values_freed
    np.testing.assert_array_equal(h.data, kept)
    assert h.grad is not None and h.grad.shape == h.shape


def test_retained_graph_keeps_every_value(no_gc: None) -> None:
    x, ws = _model()
    loss = _forward(x, ws)
    loss.backward(retain_graph=True)
    nodes, stack = [], [loss._node]
    while stack:
        n = stack.pop()
        nodes.append(n)
        stack.extend(t._node for t in n.inputs if t is not None and t._node is not None)
    assert all(not t.values_freed for n in nodes for t in n.inputs if t is not None)
    first = [w.grad.data.copy() for w in ws]
    for w in ws:
        w.zero_grad()
    loss.backward()  # still possible: nothing was freed
    for w, g in zip(ws, first):
        np.testing.assert_allclose(w.grad.data, g)


def test_freed_values_show_in_repr_and_second_backward_says_retain_graph(no_gc: None) -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (mg.exp(x) * 2.0).sum()
    loss.backward()
    inner = loss._node.inputs[0]
    assert inner.values_freed and "freed" in repr(inner)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()
