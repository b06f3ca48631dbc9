"""Views that fold the graph: ops only (tensors hidden), one node per module (collapse)."""

from __future__ import annotations

from .data import Edge, GraphData, Node

__all__ = ["collapse", "hide_tensors"]


_HIDDEN_WITH_TENSORS = ("tensor", "seed", "grad")


def hide_tensors(data: GraphData) -> GraphData:
    """Ops only: each op links straight to the ops that consume its output."""
    ops = [n for n in data.nodes if n.kind not in _HIDDEN_WITH_TENSORS]
    if not ops:
        return data
    producer: dict[Node, Node] = {}
    for e in data.edges:
        if e.kind == "output":
            producer[e.dst] = e.src
    edges = []
    for e in data.edges:
        if e.dst.kind in _HIDDEN_WITH_TENSORS:
            continue
        if e.src.kind in _HIDDEN_WITH_TENSORS:
            p = producer.get(e.src)
            if p is None:  # a leaf, or the backward seed
                continue
            kind = "flow" if e.kind == "input" else e.kind
            edges.append(Edge(p, e.dst, kind, e.arg, e.tensor, e.grad, e.reverse))
        else:
            edges.append(e)
    return GraphData(ops, edges, data.root, data.view, data.values)


def _scope_groups(data: GraphData) -> tuple[dict[Node, int], list[str]]:
    """Node -> call number, one per run of ops recorded in one scope, and each call's scope.

    A tensor or "+" node joins a call when all its neighbours belong to it.
    """
    group: dict[Node, int] = {}
    scope_of: list[str] = []
    ordered = sorted(
        (n for n in data.nodes if n.ctx is not None),
        key=lambda n: n.ctx.seq,  # type: ignore[union-attr]
    )
    prev: str | None = None
    for n in ordered:
        scope = n.ctx.scope  # type: ignore[union-attr]
        if scope is None:
            prev = None
            continue
        if scope != prev:
            scope_of.append(scope)
            prev = scope
        group[n] = len(scope_of) - 1
    neighbours: dict[Node, list[Node]] = {}
    for e in data.edges:
        neighbours.setdefault(e.src, []).append(e.dst)
        neighbours.setdefault(e.dst, []).append(e.src)
    for n in data.nodes:
        if n in group or n.kind in ("seed", "grad") or n.role in ("input", "output"):
            continue
        gs = {group.get(m, -1) for m in neighbours.get(n, ())}
        if len(gs) == 1 and -1 not in gs:
            group[n] = gs.pop()
    return group, scope_of


def _module_nodes(
    data: GraphData, group: dict[Node, int], scope_of: list[str]
) -> tuple[list[Node], dict[int, Node]]:
    """The nodes left after collapsing: one "module" node per call, others as they were."""
    calls: dict[str, int] = {}
    modules: dict[int, Node] = {}
    nodes: list[Node] = []
    for n in data.nodes:
        gi = group.get(n)
        if gi is None:
            nodes.append(n)
            continue
        m = modules.get(gi)
        if m is None:
            scope = scope_of[gi]
            calls[scope] = calls.get(scope, 0) + 1
            parent = scope.rpartition("/")[0] or None
            m = modules[gi] = Node(f"m{len(modules)}", "module", "module", scope=parent)
            m.name, m.members, m.calls = scope, [], (calls[scope], 0)
            nodes.append(m)
        assert m.members is not None
        m.members.append(n)
    for m in modules.values():
        m.calls = (m.calls[0], calls[m.name])  # type: ignore[index]
    # what stays outside a collapsed scope is drawn next to its node, in the parent's cluster
    for n in nodes:
        if n.kind != "module" and n.scope in calls:
            n.scope = n.scope.rpartition("/")[0] or None
    return nodes, modules


def collapse(data: GraphData) -> GraphData:
    """One node per call of a named scope (an ``mg.nn`` module), e.g. ``conv1``.

    Ops recorded inside one ``name_scope`` call, one after another, become one "module" node;
    a tensor or "+" node joins it when all its neighbours do (weights, internal values).
    Nested scopes collapse at the innermost level and keep their parents as clusters.
    """
    if not any(n.ctx is not None and n.ctx.scope is not None for n in data.nodes):
        return data
    group, scope_of = _scope_groups(data)
    nodes, modules = _module_nodes(data, group, scope_of)
    edges = []
    for e in data.edges:
        src = modules[group[e.src]] if e.src in group else e.src
        dst = modules[group[e.dst]] if e.dst in group else e.dst
        if src is dst:
            continue
        if src is e.src and dst is e.dst:
            edges.append(e)
        else:
            edges.append(Edge(src, dst, e.kind, e.arg, e.tensor, e.grad, e.reverse))
    return GraphData(nodes, edges, data.root, data.view, data.values)
