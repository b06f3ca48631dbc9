"""Folding runs of the same op, so a very long computation still gives a readable drawing.

A chain of 3,000 ``mul`` ops becomes one node "mul × 3000": each op of a run feeds only the
next one (through a tensor used nowhere else, or straight, in the backward and ops-only
views). Constants consumed only inside a run fold with it; everything else that enters or
leaves a run keeps its edge, drawn once. :func:`shrink` applies folding, then collapsing
modules, then hiding tensors, until a drawing fits ``max_nodes``, and says what it did.

>>> import minigrad as mg
>>> from minigrad.graph.build import build
>>> y = mg.tensor([1.0], requires_grad=True)
>>> for _ in range(50):
...     y = y * 1.5
>>> data, notes = shrink(build(y), max_nodes=20)
>>> [n.name for n in data.nodes if n.kind == "fold"], len(data.nodes)
(['mul × 50'], 3)
"""

from __future__ import annotations

from typing import Any

from .data import Edge, GraphData, Node
from .views import collapse, hide_tensors

__all__ = ["fold_runs", "shrink"]

_OPLIKE = ("op", "backward", "module")


def _key(n: Node) -> tuple[Any, ...] | None:
    if n.kind == "module":
        return ("module", n.name, n.scope)
    if n.kind in ("op", "backward") and n.ctx is not None:
        return (n.kind, n.ctx.name, n.scope)
    return None


class _Links:
    """Each op's successor in a run of the same op (at most one each way)."""

    def __init__(self, data: GraphData, strict: bool) -> None:
        self.outs: dict[Node, list[Edge]] = {}
        self.ins: dict[Node, list[Edge]] = {}
        for e in data.edges:
            if e.reverse:  # gradients drawn against forward edges add no structure
                continue
            self.outs.setdefault(e.src, []).append(e)
            self.ins.setdefault(e.dst, []).append(e)
        self.next: dict[Node, Node] = {}
        self.prev: dict[Node, Node] = {}
        self.hidden: dict[Node, Node] = {}  # tensor inside a run -> the op that consumes it
        for a in data.nodes:
            if _key(a) is not None:
                self._link_from(a, strict)

    def _link_from(self, a: Node, strict: bool) -> None:
        outs = self.outs.get(a, [])
        if len(outs) == 1 and outs[0].dst.kind == "tensor":  # op -> its output -> next op
            t = outs[0].dst
            t_outs = self.outs.get(t, [])
            if t.role == "output" or len(t_outs) != 1 or len(self.ins.get(t, [])) != 1:
                return
            if self._add(a, t_outs[0].dst):
                self.hidden[t] = t_outs[0].dst
            return
        for e in outs:  # op -> op: the edge must be the only way between the two
            b = e.dst
            one_way = len(outs) == 1 and len(self.ins.get(b, [])) == 1
            loose = len(outs) == 1 or len(self.ins.get(b, [])) == 1
            if (one_way if strict else loose) and self._add(a, b):
                return

    def _add(self, a: Node, b: Node) -> bool:
        if _key(b) != _key(a) or a in self.next or b in self.prev:
            return False
        self.next[a], self.prev[b] = b, a
        return True


def _runs(data: GraphData, links: _Links, min_run: int) -> dict[Node, int]:
    """Node -> run number, for runs of at least ``min_run`` ops (and their hidden tensors)."""
    group: dict[Node, int] = {}
    count = 0
    for n in data.nodes:
        if n in links.prev or n not in links.next:
            continue
        chain = [n]
        while chain[-1] in links.next:
            chain.append(links.next[chain[-1]])
        if len(chain) < min_run:
            continue
        for m in chain:
            group[m] = count
        count += 1
    for t, consumer in links.hidden.items():
        if consumer in group and links.prev.get(consumer) in group:
            group[t] = group[consumer]
    return group


def _absorb_constants(data: GraphData, links: _Links, group: dict[Node, int]) -> None:
    """Constants (``2`` in ``y * 2``) used only inside one run fold with it."""
    for n in data.nodes:
        if n.kind != "tensor" or n.role != "constant" or n in links.ins:
            continue
        gs = {group.get(e.dst) for e in links.outs.get(n, [])}
        if len(gs) == 1 and None not in gs:
            group[n] = gs.pop()  # type: ignore[assignment]


def _fold_node(index: int, members: list[Node]) -> Node:
    ops = [m for m in members if _key(m) is not None]
    first = ops[0]
    base = first.name if first.kind == "module" else first.ctx.name  # type: ignore[union-attr]
    base = (base or "").rpartition("/")[2] if first.kind == "module" else base
    suffix = " backward" if first.kind == "backward" else ""
    n = Node(f"fold{index}", "fold", first.kind, tensor=ops[-1].tensor, scope=first.scope)
    n.ctx, n.members, n.name = first.ctx, members, f"{base}{suffix} × {len(ops)}"
    return n


def _contains_cycle(nodes: list[Node], edges: list[Edge]) -> bool:
    indeg = {n: 0 for n in nodes}
    succ: dict[Node, list[Node]] = {}
    for e in edges:
        if not e.reverse:
            indeg[e.dst] += 1
            succ.setdefault(e.src, []).append(e.dst)
    ready = [n for n, d in indeg.items() if d == 0]
    seen = 0
    while ready:
        n = ready.pop()
        seen += 1
        for m in succ.get(n, ()):
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    return seen != len(nodes)


def fold_runs(data: GraphData, min_run: int = 2, strict: bool = False) -> GraphData:
    """``data`` with every run of at least ``min_run`` same ops drawn as one "fold" node."""
    links = _Links(data, strict)
    group = _runs(data, links, min_run)
    if not group:
        return data
    _absorb_constants(data, links, group)
    members: dict[int, list[Node]] = {}
    for n in data.nodes:
        if n in group:
            members.setdefault(group[n], []).append(n)
    folds = {g: _fold_node(i, ms) for i, (g, ms) in enumerate(members.items())}
    nodes = []
    for n in data.nodes:
        if n not in group:
            nodes.append(n)
        elif folds[group[n]].members[0] is n:  # type: ignore[index]
            nodes.append(folds[group[n]])
    edges: list[Edge] = []
    merged: dict[tuple[Any, ...], Edge] = {}
    for e in data.edges:
        src = folds[group[e.src]] if e.src in group else e.src
        dst = folds[group[e.dst]] if e.dst in group else e.dst
        if src is dst:
            continue
        if src is e.src and dst is e.dst:
            edges.append(e)
            continue
        key = (src.id, dst.id, e.kind, e.arg, e.reverse)
        same = merged.get(key)
        if same is None:
            merged[key] = Edge(src, dst, e.kind, e.arg, e.tensor, e.grad, e.reverse)
            edges.append(merged[key])
        elif same.grad is not None:  # a weight used by every op of a run: one edge, the
            # sum of the gradients it stands for (unknown if any one is)
            same.grad = None if e.grad is None else same.grad + e.grad
    if not strict and _contains_cycle(nodes, edges):
        return fold_runs(data, min_run, strict=True)
    out = GraphData(nodes, edges, data.root, data.view, data.values)
    out.notes = list(data.notes)
    return out


def _describe(data: GraphData) -> str | None:
    folds = [n for n in data.nodes if n.kind == "fold"]
    if not folds:
        return None
    biggest = max(folds, key=lambda n: len(n.members or ()))
    if len(folds) == 1:
        return f"folded a run of a repeated op into one node: {biggest.name}"
    return f"folded {len(folds)} runs of a repeated op into one node each (largest: {biggest.name})"


def shrink(data: GraphData, max_nodes: int) -> tuple[GraphData, list[str]]:
    """A drawing of at most ``max_nodes`` nodes where possible, and notes saying how.

    Tries, in order: folding runs; collapsing modules, then folding; also hiding tensors.
    """
    size = len(data.nodes)
    attempts = [
        ("", lambda: fold_runs(data)),
        ("modules collapsed", lambda: fold_runs(collapse(data))),
        ("modules collapsed, tensors hidden", lambda: fold_runs(collapse(hide_tensors(data)))),
    ]
    for how, attempt in attempts:  # noqa: B007 (the one that fits is reported below)
        best = attempt()
        if len(best.nodes) <= max_nodes:
            break
    notes = [f"{size} nodes, more than max_nodes={max_nodes}, so drawn smaller"]
    notes += [s for s in (how, _describe(best)) if s]
    if len(best.nodes) > max_nodes:
        notes.append(f"still {len(best.nodes)} nodes (strict=True refuses instead)")
    return best, notes
