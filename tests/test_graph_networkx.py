"""mg.graph.to_networkx: the forward graph as data (nodes, one edge per argument, facts)."""

from __future__ import annotations

import re
import sys

import helpers
import networkx as nx
import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import call_op, name_scope


def by_kind(G, kind):
    return [n for n, d in G.nodes(data=True) if d["kind"] == kind]


def named(G, name):
    (node,) = [n for n, d in G.nodes(data=True) if d["name"] == name]
    return node


class Scale(mg.Op):
    """A custom op with attributes, called through call_op (no registry needed)."""

    name = "scale"
    plugin = "scale-dist"

    @staticmethod
    def forward(ctx, x, *, factor=2.0, axes=(0, 1), dtype=np.float32, tag="s"):
        return x * factor

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.attrs["factor"]


def test_mul_then_sum_nodes_edges_and_roles():
    # x -mul(c)-> y -sum-> z
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True, name="x")
    c = mg.tensor([4.0, 5.0, 6.0], name="c")
    z = (x * c).sum()
    G = mg.graph.to_networkx(z)
    assert isinstance(G, nx.MultiDiGraph)
    assert G.number_of_nodes() == 6  # x, c, mul, y, sum, z
    assert G.number_of_edges() == 5  # x->mul, c->mul, mul->y, y->sum, sum->z
    assert len(by_kind(G, "op")) == 2 and len(by_kind(G, "tensor")) == 4
    assert G.nodes[named(G, "x")]["role"] == "parameter"
    assert G.nodes[named(G, "c")]["role"] == "input"
    tensor_roles = sorted(d["role"] for _, d in G.nodes(data=True) if d["kind"] == "tensor")
    assert tensor_roles == ["input", "intermediate", "output", "parameter"]
    ops = [G.nodes[n]["op"] for n in nx.topological_sort(G) if G.nodes[n]["kind"] == "op"]
    assert ops == ["mul", "sum"]
    mul = next(n for n in by_kind(G, "op") if G.nodes[n]["op"] == "mul")
    assert {(u, d["arg"]) for u, _, d in G.in_edges(mul, data=True)} == {
        (named(G, "x"), 0),
        (named(G, "c"), 1),
    }
    out = next(n for n, d in G.nodes(data=True) if d["role"] == "output")
    assert G.nodes[out]["shape"] == () and G.nodes[out]["op"] == "sum"
    assert G.nodes[out]["value"] == pytest.approx(32.0)  # 4 + 10 + 18
    assert G.out_degree(out) == 0


def test_x_times_x_has_two_parallel_edges():
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    G = mg.graph.to_networkx(x * x)
    (xn,) = [n for n, d in G.nodes(data=True) if d["name"] == "x"]
    (mul,) = by_kind(G, "op")
    assert G.number_of_edges(xn, mul) == 2
    assert sorted(d["arg"] for _, _, d in G.in_edges(mul, data=True)) == [0, 1]
    assert sorted(d["input"] for _, _, d in G.in_edges(mul, data=True)) == ["a", "b"]


def test_python_number_is_a_constant_node():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    G = mg.graph.to_networkx(x * 2)
    (const,) = [n for n, d in G.nodes(data=True) if d["role"] == "constant"]
    assert G.nodes[const]["shape"] == () and G.nodes[const]["value"] == 2.0
    assert G.nodes[const]["grad_shape"] is None  # no gradient flows into a constant


def test_tensor_used_by_several_ops_appears_once():
    x = mg.tensor([0.5, 1.5], requires_grad=True, name="x")
    y = x * 3.0
    y.name = "y"
    z = (y + y.exp() + y * y).sum()
    G = mg.graph.to_networkx(z)
    assert [d["name"] for _, d in G.nodes(data=True)].count("y") == 1
    assert G.out_degree(named(G, "y")) == 4  # add, exp, and mul twice


def test_node_ids_follow_traversal_order():
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    z = ((x * 2.0).exp() - x).mean()
    G = mg.graph.to_networkx(z)
    ids = list(G.nodes)
    assert all(re.fullmatch(r"(t|op)\d+", i) for i in ids)
    assert [int(re.sub(r"\D", "", i)) for i in ids] == list(range(len(ids)))
    assert ids[0] == "t0" and G.nodes["t0"]["name"] == "x"  # inputs before their op
    assert list(nx.topological_sort(G))[-1] == ids[-1]  # the output comes last


def test_same_computation_gives_same_graph_data():
    def build():
        x = mg.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True, name="x")
        w = mg.tensor([[0.1], [0.2]], requires_grad=True, name="w")
        return mg.graph.to_networkx(((x @ w).exp() * x).sum())

    a, b = build(), build()
    assert list(a.nodes(data=True)) == list(b.nodes(data=True))
    assert list(a.edges(keys=True, data=True)) == list(b.edges(keys=True, data=True))


def test_op_attrs_are_plain_python_and_plugin_is_recorded():
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    y = call_op(Scale, x, factor=np.float32(3.0), axes=(np.int64(1), 0))
    z = y[:, 1:].sum(axis=1)
    G = mg.graph.to_networkx(z)
    facts = {d["op"]: d for _, d in G.nodes(data=True) if d["kind"] == "op"}
    assert facts["scale"]["attrs"] == {
        "factor": 3.0,
        "axes": (1, 0),
        "dtype": "float32",
        "tag": "s",
    }
    assert type(facts["scale"]["attrs"]["factor"]) is float
    assert facts["scale"]["plugin"] == "scale-dist"
    assert facts["getitem"]["attrs"] == {"index": (":", "1:")}
    assert facts["sum"]["attrs"] == {"axis": 1, "keepdims": False}
    assert facts["sum"]["plugin"] is None  # core op
    assert facts["scale"]["shape"] == (1, 2) and facts["scale"]["dtype"] == "float32"


def test_scope_comes_from_name_scope():
    x = mg.tensor([1.0], requires_grad=True)
    with name_scope("features"), name_scope("conv1"):
        y = x * 2.0
    with name_scope("head"):
        z = y.sum()
    G = mg.graph.to_networkx(z)
    scopes = {d["op"]: d["scope"] for _, d in G.nodes(data=True) if d["kind"] == "op"}
    assert scopes == {"mul": "features/conv1", "sum": "head"}


def test_values_small_stats_large_and_grads_after_backward():
    small = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, name="small")
    big = mg.tensor(np.arange(100.0, dtype=np.float32), requires_grad=True, name="big")
    hidden = small * 2.0
    hidden.retain_grad()
    hidden.name = "hidden"
    loss = hidden.sum() + (big * big).sum()
    loss.backward()
    G = mg.graph.to_networkx(loss)
    s, b, h = G.nodes[named(G, "small")], G.nodes[named(G, "big")], G.nodes[named(G, "hidden")]
    assert s["value"] == [[1.0, 2.0], [3.0, 4.0]]
    assert "value" not in b and (b["min"], b["mean"], b["max"]) == (0.0, 49.5, 99.0)
    assert s["grad"] == [[2.0, 2.0], [2.0, 2.0]]
    assert s["grad_norm"] == pytest.approx(4.0)
    assert b["grad_norm"] == pytest.approx(np.linalg.norm(2 * np.arange(100.0)), rel=1e-6)
    assert "grad" not in b  # 100 values: only the norm
    assert h["grad"] == [[1.0, 1.0], [1.0, 1.0]]  # retain_grad() keeps it on a non-leaf


def test_leaf_is_a_single_node():
    for t in (mg.tensor([1.0, 2.0], name="a"), mg.tensor(3.0, requires_grad=True)):
        G = mg.graph.to_networkx(t)
        assert G.number_of_nodes() == 1 and G.number_of_edges() == 0
        (d,) = [d for _, d in G.nodes(data=True)]
        assert d["kind"] == "tensor"
        assert d["role"] == ("parameter" if t.requires_grad else "input")


@pytest.mark.parametrize("bad", [[1.0, 2.0], np.ones(2), 3.0, None])
def test_not_a_tensor_is_a_type_error(bad):
    with pytest.raises(TypeError, match="Tensor"):
        mg.graph.to_networkx(bad)


def test_walking_does_not_change_the_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    mg.graph.to_networkx(y)
    mg.graph.to_networkx(y, backward=True)
    assert x.grad is None and not y._node.freed
    y.backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])


def chain(n):
    x = mg.tensor([1.0], requires_grad=True, name="x")
    y = x
    for _ in range(n):
        y = y * 1.0
    return y


def test_5000_node_chain_exports():
    y = chain(2500)  # 2,500 ops + 2,500 outputs + x and the constants
    G = mg.graph.to_networkx(y)
    assert len(by_kind(G, "op")) == 2500
    assert nx.dag_longest_path_length(G) == 5000
    dot = mg.graph.draw(y, max_nodes=10_000).source
    assert dot.count("->") == G.number_of_edges()


def _depth() -> int:
    frame, n = sys._getframe(), 0
    while frame is not None:
        frame, n = frame.f_back, n + 1
    return n


def test_a_chain_far_deeper_than_the_recursion_limit_exports_and_draws():
    # no walk recurses: with the limit 150 frames above the current depth, a 3,000-op chain
    # (any recursive walk would need 3,000+ frames) still exports, draws and replays
    y = chain(3000)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(_depth() + 150)
    try:
        G = mg.graph.to_networkx(y)
        B = mg.graph.to_networkx(y, backward=True)
        dot = mg.graph.draw(y, max_nodes=10_000).source
        folded = mg.graph.draw(y, backward=True).source
    finally:
        sys.setrecursionlimit(old)
    assert len(by_kind(G, "op")) == 3000 and len(by_kind(B, "backward")) == 3000
    assert B.graph["values"] == "computed"
    assert dot.count("<b>mul</b>") == 3000 and "mul backward × 3000" in folded


@pytest.mark.parametrize("backward", [True, "both"])
def test_export_walks_the_graph_once_and_runs_the_backward_pass_once(monkeypatch, backward):
    x = mg.tensor([1.0, -2.0], requires_grad=True, name="x")
    w = mg.tensor([3.0, 4.0], requires_grad=True, name="w")
    loss = ((x * w).exp() * x).sum()
    calls = helpers.count_walks_and_passes(monkeypatch)
    G = mg.graph.to_networkx(loss, backward=backward)
    assert G.graph["values"] == "computed"
    assert calls == {"walk": 1, "traverse": 1}
    assert x.grad is None and w.grad is None  # the watched pass wrote no .grad


def test_forward_export_runs_the_backward_pass_only_to_check_a_held_grad(monkeypatch):
    x = mg.tensor([1.0, -2.0], requires_grad=True, name="x")
    loss = (x * x).sum()
    calls = helpers.count_walks_and_passes(monkeypatch)
    mg.graph.to_networkx(loss)
    assert calls == {"walk": 1, "traverse": 0}  # no .grad held: nothing to compare
    x.grad = mg.zeros(2)  # a .grad from elsewhere: the stale check needs this graph's own
    G = mg.graph.to_networkx(loss)
    assert calls == {"walk": 2, "traverse": 1}
    assert G.nodes[named(G, "x")]["grad_stale"] is True


def test_export_reuses_a_recorded_trace(monkeypatch):
    from minigrad.graph.trace import record

    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    loss = (x * x).sum()
    rec = record(loss)
    calls = helpers.count_walks_and_passes(monkeypatch)
    fwd = mg.graph.to_networkx(loss, trace=rec)
    bwd = mg.graph.to_networkx(loss, backward=True, trace=rec)
    assert calls == {"walk": 0, "traverse": 0}
    assert fwd.number_of_nodes() == 5 and bwd.graph["values"] == "computed"
