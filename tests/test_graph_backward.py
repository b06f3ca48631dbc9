"""The backward view: one node per backward step, gradients on edges, "+" nodes, .grad ends."""

from __future__ import annotations

import re

import helpers
import networkx as nx
import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import call_op, name_scope


def kinds(G):
    return [d["kind"] for _, d in G.nodes(data=True)]


def of_kind(G, kind):
    return [n for n, d in G.nodes(data=True) if d["kind"] == kind]


def grad_node(G, name):
    (n,) = [n for n, d in G.nodes(data=True) if d["kind"] == "grad" and d["name"] == name]
    return n


def square_sum():
    # x -mul(x, x)-> y -sum-> loss
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    loss = (x * x).sum()
    loss.name = "loss"
    return x, loss


def test_square_sum_steps_accumulate_and_grad_end():
    _, loss = square_sum()
    G = mg.graph.to_networkx(loss, backward=True)
    # seed -> sum backward -> mul backward =(a, b)=> + -> x.grad
    assert kinds(G) == ["seed", "backward", "backward", "accumulate", "grad"]
    assert [d["op"] for _, d in G.nodes(data=True) if d["kind"] == "backward"] == ["sum", "mul"]
    (mul,) = [n for n, d in G.nodes(data=True) if d["op"] == "mul"]
    (acc,) = of_kind(G, "accumulate")
    contributions = sorted(G.get_edge_data(mul, acc).values(), key=lambda d: d["arg"])
    assert [d["arg"] for d in contributions] == [0, 1]
    # d(a*b)/da = b = x and d(a*b)/db = a = x: each contribution is x, their sum 2x
    assert [d["grad"] for d in contributions] == [[1.0, 2.0], [1.0, 2.0]]
    xg = grad_node(G, "x.grad")
    ((_, _, total),) = G.in_edges(xg, data=True)
    assert total["grad"] == [2.0, 4.0] and G.nodes[xg]["grad"] == [2.0, 4.0]
    assert G.nodes[acc]["grad"] == [2.0, 4.0]
    assert G.graph["values"] == "computed"


def test_edges_run_from_the_loss_to_the_leaves():
    _, loss = square_sum()
    G = mg.graph.to_networkx(loss, backward=True)
    order = list(nx.topological_sort(G))
    assert G.nodes[order[0]]["kind"] == "seed"
    assert G.nodes[order[-1]]["kind"] == "grad"
    assert all(d["kind"] == "gradient" for _, _, d in G.edges(data=True))
    assert {d["grad_shape"] for _, _, d in G.edges(data=True)} == {(), (2,)}


def mlp(seed=0):
    mg.manual_seed(seed)
    x = mg.randn(3, 4, name="x")
    w1 = mg.randn(4, 5, requires_grad=True, name="w1")
    b1 = mg.randn(5, requires_grad=True, name="b1")
    w2 = mg.randn(5, 2, requires_grad=True, name="w2")
    h = mg.maximum(x @ w1 + b1, 0.0)
    h.name = "h"
    out = h @ w2
    loss = (out * out).mean() + (w1 * w1).sum() * 0.01
    loss.name = "loss"
    return [w1, b1, w2], h, loss


def test_values_drawn_before_backward_match_the_engine():
    params, h, loss = mlp()
    G = mg.graph.to_networkx(loss, backward=True)
    (dh,) = mg.grad(loss, [h], retain_graph=True)
    loss.backward()
    for p in params:
        d = G.nodes[grad_node(G, f"{p.name}.grad")]
        if "grad" in d:
            np.testing.assert_allclose(d["grad"], p.grad.data, rtol=1e-5, atol=1e-7)
        assert d["grad_norm"] == pytest.approx(np.linalg.norm(p.grad.data), rel=1e-5)
    # w1 is used three times (x @ w1, w1 * w1): its "+" sums three contributions
    (acc,) = [
        n for n, d in G.nodes(data=True) if d["kind"] == "accumulate" and d["shape"] == (4, 5)
    ]
    assert G.in_degree(acc) == 3
    contrib = sum(d["grad_norm"] for _, _, d in G.in_edges(acc, data=True))
    assert contrib >= G.nodes[acc]["grad_norm"] - 1e-6  # triangle inequality: a sum, visibly
    # the gradient reaching "maximum backward" is dL/dh
    (mx,) = [n for n, d in G.nodes(data=True) if d["op"] == "maximum"]
    ((_, _, into),) = G.in_edges(mx, data=True)
    assert into["grad_norm"] == pytest.approx(np.linalg.norm(dh.data), rel=1e-5)


def test_drawing_leaves_the_graph_untouched_and_calls_no_hook():
    params, h, loss = mlp()
    calls = []
    h.register_hook(lambda g: calls.append(1))
    mg.graph.draw(loss, backward=True)
    mg.graph.draw(loss, both=True)
    assert calls == [] and all(p.grad is None for p in params)
    loss.backward()  # the saved state was not freed by drawing
    assert calls == [1] and all(p.grad is not None for p in params)


def test_after_backward_values_are_freed_but_grads_show():
    _, loss = square_sum()
    loss.backward()
    G = mg.graph.to_networkx(loss, backward=True)
    assert G.graph["values"] == "freed"
    mul_edges = [d for _, _, d in G.edges(data=True) if d.get("arg") is not None]
    assert mul_edges and all("grad_norm" not in d for d in mul_edges)
    assert all("grad_shape" in d for _, _, d in G.edges(data=True))
    assert G.nodes[grad_node(G, "x.grad")]["grad"] == [2.0, 4.0]  # the accumulated .grad
    dot = mg.graph.draw(loss, backward=True).source
    assert "values freed" in dot and "retain_graph=True" in dot
    assert "[2, 4]" in dot


def test_retain_graph_keeps_values_drawable_after_backward():
    _, loss = square_sum()
    loss.backward(retain_graph=True)
    G = mg.graph.to_networkx(loss, backward=True)
    assert G.graph["values"] == "computed"
    assert "values freed" not in mg.graph.draw(loss, backward=True).source


def test_grads_option_and_retained_grads_fill_in_freed_values():
    x = mg.tensor([1.0, -1.0], requires_grad=True, name="x")
    y = x * 3.0
    y.name = "y"
    z = y.exp()
    z.retain_grad()
    loss = z.sum()
    seen = {}
    y.register_hook(lambda g: seen.setdefault("y", g))
    loss.backward()
    G = mg.graph.to_networkx(loss, backward=True, grads={y: seen["y"]})
    (exp,) = [n for n, d in G.nodes(data=True) if d["op"] == "exp"]
    (mul,) = [n for n, d in G.nodes(data=True) if d["op"] == "mul"]
    ((_, _, into_exp),) = G.in_edges(exp, data=True)
    assert into_exp["grad"] == [1.0, 1.0]  # from z.retain_grad()
    ((_, _, into_mul),) = G.in_edges(mul, data=True)
    np.testing.assert_allclose(into_mul["grad"], np.exp([3.0, -3.0]), rtol=1e-6)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        mg.graph.to_networkx(loss, backward=True, grads={y: np.ones(3)})


def test_broadcast_gradient_is_summed_to_the_input_shape():
    x = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True, name="x")
    b = mg.tensor([10.0], requires_grad=True, name="b")
    loss = (x + b).sum()
    G = mg.graph.to_networkx(loss, backward=True)
    ((_, _, d),) = G.in_edges(grad_node(G, "b.grad"), data=True)
    assert d["grad_shape"] == (1,) and d["grad"] == [6.0]
    dot = mg.graph.draw(loss, backward=True).source
    assert "b: (1,)" in dot and "a: (2, 3)" in dot


def test_backward_labels_in_dot():
    _, loss = square_sum()
    dot = mg.graph.draw(loss, backward=True).source
    assert "<b>sum backward</b>" in dot and "<b>mul backward</b>" in dot
    assert "<b>x.grad</b>" in dot and "<b>+</b>" in dot
    assert "<b>dloss/dloss</b>" in dot
    assert dot.count("->") == 5  # seed->sum, sum->mul, mul=>+ (twice), + -> x.grad
    assert "label=<a: (2,)<br/>[1, 2]>" in dot and "label=<b: (2,)<br/>[1, 2]>" in dot


def test_large_gradients_show_their_norm():
    x = mg.tensor(np.ones(100, dtype=np.float32), requires_grad=True, name="x")
    dot = mg.graph.draw((x * 3.0).sum(), backward=True).source
    assert "norm 30" in dot  # |3 * ones(100)| = 30


def test_non_scalar_root_starts_from_ones():
    x = mg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    dot = mg.graph.draw(x * 2.0, backward=True).source
    assert "ones (1, 3)" in dot and "[2, 2, 2]" in dot


def test_leaf_backward_view():
    G = mg.graph.to_networkx(mg.tensor([1.0]), backward=True)
    assert kinds(G) == ["tensor"]
    G = mg.graph.to_networkx(mg.tensor([1.0], requires_grad=True, name="p"), backward=True)
    assert kinds(G) == ["seed", "grad"]


class Broken(mg.Op):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("no backward here")


def test_plain_array_backward_replays():
    # NumpyGradCube's backward returns numpy arrays (allowed for first-order gradients)
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    G = mg.graph.to_networkx(call_op(helpers.NumpyGradCube, x).sum(), backward=True)
    assert G.nodes[grad_node(G, "x.grad")]["grad"] == [3.0, 12.0]


def test_backward_that_cannot_replay_still_draws_shapes():
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    loss = call_op(Broken, x).sum()
    G = mg.graph.to_networkx(loss, backward=True)
    assert G.graph["values"].startswith("unavailable: op 'broken'")
    assert "no backward here" in mg.graph.draw(loss, backward=True).source


def test_both_draws_gradients_dashed_next_to_forward_edges():
    _, loss = square_sum()
    dot = mg.graph.draw(loss, both=True).source
    lines = re.findall(r"^\s*\w+ -> \w+.*$", dot, flags=re.MULTILINE)
    dashed = [line for line in lines if "style=dashed" in line]
    solid = [line for line in lines if "style=dashed" not in line]
    # forward: x->mul twice, mul->y, y->sum, sum->loss; gradients along each of them
    assert len(solid) == 5 and len(dashed) == 5
    assert all("dir=back" in line for line in dashed)
    colour = mg.graph.style.EDGE_STYLES["both_gradient"]["color"]
    assert all(f'color="{colour}"' in line for line in dashed)
    assert not any(f'color="{colour}"' in line for line in solid)
    assert "grad [2, 4]" in dot  # x's node shows its gradient
    # each contribution along x's two edges, worded apart from the edges' argument names
    assert dot.count("label=<grad [1, 2]>") == 2


def test_backward_view_options():
    *_, loss = mlp()
    ops_only = mg.graph.to_networkx(loss, backward=True, show_tensors=False)
    assert "seed" not in kinds(ops_only) and "grad" not in kinds(ops_only)
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    w = mg.tensor([3.0, 4.0], requires_grad=True, name="w")
    with name_scope("layer"):
        y = (x * w).exp()
    dot = mg.graph.draw(y.sum(), backward=True, collapse=True).source
    assert "<b>layer backward</b>" in dot and "exp → mul" in dot
    assert "<b>w.grad</b>" in dot and "mul backward" not in dot


def test_create_graph_draws_the_backward_computation_as_ops():
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    loss = (x * x * x).sum()
    loss.backward(create_graph=True)
    assert not x.grad.is_leaf
    G = mg.graph.to_networkx(x.grad)
    ops = [d["op"] for _, d in G.nodes(data=True) if d["kind"] == "op"]
    assert ops.count("mul") >= 3 and "add" in ops  # 3x^2 built from the mul rule
    (xn,) = [n for n, d in G.nodes(data=True) if d["name"] == "x"]
    out = [n for n, d in G.nodes(data=True) if d["role"] == "output"]
    assert nx.has_path(G, xn, out[0])
    np.testing.assert_allclose(G.nodes[out[0]]["value"], [3.0, 12.0])
    dot = mg.graph.draw(x.grad, title="d loss / dx").source
    assert "<b>mul</b>" in dot and "d loss / dx" in dot
    # drawing it does not get in the way of the second derivative
    (ddx,) = mg.grad(x.grad.sum(), [x])
    np.testing.assert_allclose(ddx.data, [6.0, 12.0])


def test_both_wins_over_backward():
    _, loss = square_sum()
    assert (
        mg.graph.draw(loss, backward=True, both=True).source
        == mg.graph.draw(loss, both=True).source
    )


# --------------------------------------------------------------------------- generated sweep

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

# clip keeps repeated products and exponentials finite however the program chains them
_BINARY = [
    lambda a, b: a + b,
    lambda a, b: mg.clip(a, -2.0, 2.0) * b,
    lambda a, b: a - b,
    mg.maximum,
]
_UNARY = [
    lambda a: a * 0.5,
    lambda a: mg.clip(a, -2.0, 2.0).exp(),
    lambda a: -a,
    lambda a: a.sum(axis=0) if a.ndim else a * 2.0,
]


@hypothesis.settings(max_examples=30, deadline=None)
@hypothesis.given(
    program=st.lists(
        st.tuples(st.integers(0, 7), st.integers(0, 1000), st.integers(0, 1000)),
        min_size=1,
        max_size=12,
    ),
    seed=st.integers(0, 2**16),
)
def test_replayed_gradients_match_the_engine(program, seed):
    """Random DAGs that reuse tensors: each "+" is the sum of its contributions, and each
    .grad node holds what backward() then accumulates."""
    rng = np.random.default_rng(seed)
    p = mg.tensor(rng.normal(size=(2, 3)), requires_grad=True, name="p")
    q = mg.tensor(rng.normal(size=(3,)), requires_grad=True, name="q")
    pool = [p, q]
    for op, i, j in program:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        pool.append(_BINARY[op](a, b) if op < 4 else _UNARY[op - 4](a))
    loss = p.sum() + sum((t * t).sum() for t in pool[2:])
    G = mg.graph.to_networkx(loss, backward=True)
    assert G.graph["values"] == "computed"
    for node, d in G.nodes(data=True):
        if d["kind"] == "accumulate":
            parts = [np.asarray(e["grad"]) for _, _, e in G.in_edges(node, data=True)]
            ((_, _, out),) = G.out_edges(node, data=True)
            assert len(parts) >= 2
            np.testing.assert_allclose(sum(parts), out["grad"], rtol=1e-12, atol=1e-12)
    ends = {d["name"]: d for _, d in G.nodes(data=True) if d["kind"] == "grad"}
    loss.backward()
    for leaf in (p, q):
        d = ends.get(f"{leaf.name}.grad")
        if leaf.grad is None:
            assert d is None
            continue
        np.testing.assert_allclose(d["grad"], leaf.grad.data, rtol=1e-12, atol=1e-12)
