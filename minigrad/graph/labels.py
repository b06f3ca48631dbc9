"""Labels of nodes and edges, tooltips and captions, as Graphviz HTML-like text.

A bold first line (name or op), then smaller lines for shape/dtype, attributes and values.
Values are formatted from at most a handful of numbers per tensor (a small tensor's
elements, or one min/mean/max per large tensor). Every user-given string goes through
:mod:`minigrad.graph.dot_text` first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..op import op_spec
from .data import MAX_VALUES, Edge, GraphData, Node, dtype_name, values_freed
from .dot_text import MAX_NAME, MAX_STRING, html_text, shorten, visible
from .node_facts import array_summary, shown_attrs, to_plain

__all__ = [
    "FREED_NOTE",
    "edge_label",
    "format_array",
    "format_attrs",
    "format_number",
    "format_shape",
    "graph_label",
    "node_label",
    "node_style_key",
    "node_tooltip",
]

#: the face of values in labels (monospaced, so columns of numbers line up)
MONO = "Courier"

#: what a tensor node says instead of values that ``backward()`` freed
FREED_NOTE = "values freed by backward()"

_DETAIL = '<font point-size="9" color="#495057">{}</font>'
_VALUE = '<font point-size="9" face="' + MONO + '">{}</font>'
_NOTE = '<font point-size="8" color="#868e96"><i>{}</i></font>'
_GRAD = '<font point-size="9" face="' + MONO + '" color="#c92a2a">{}</font>'


def _e(text: Any) -> str:
    return html_text(text)


def _name(text: str) -> str:
    """A user-given name in a label: shortened, escaped, and never an empty bold tag."""
    return html_text(text, MAX_NAME) if text else '""'


def format_number(x: Any) -> str:
    """A number in at most 4 significant digits: ``format_number(0.123456) == '0.1235'``."""
    if isinstance(x, (bool, np.bool_)):
        return "true" if x else "false"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (complex, np.complexfloating)):
        return f"{complex(x):.3g}"
    f = float(x)
    if f != f or f in (float("inf"), float("-inf")):
        return str(f)
    if f == int(f) and abs(f) < 1e6:
        return str(int(f))
    return f"{f:.4g}"


def format_shape(shape: tuple[int, ...]) -> str:
    """``(2, 3)``; ``scalar`` for a 0-d shape."""
    if not shape:
        return "scalar"
    return str(tuple(int(s) for s in shape))


def _row(values: Any) -> str:
    return "[" + ", ".join(format_number(v) for v in values) + "]"


def format_array(a: np.ndarray, max_values: int = MAX_VALUES, per_line: int = 8) -> list[str]:
    """A compact text form of an array, one string per line.

    Small arrays show their values (a matrix row per line), large ones min/mean/max.

    >>> format_array(np.array([[1.0, 2.5], [3.0, 4.0]]))
    ['[1, 2.5]', '[3, 4]']
    >>> format_array(np.arange(100.0))
    ['min 0  mean 49.5  max 99']
    """
    if a.size == 0:
        return ["(empty)"]
    s = array_summary(a, max_values)
    if "values" not in s:
        if "min" not in s:
            return [f"{dtype_name(a.dtype)} {format_shape(a.shape)}"]
        return [
            f"min {format_number(s['min'])}  mean {format_number(s['mean'])}  "
            f"max {format_number(s['max'])}"
        ]
    v = s["values"]
    if v.ndim == 0:
        return [format_number(v.item())]
    narrow = per_line < 8 and v.shape[-1] > per_line  # rows wider than the caller allows
    if v.ndim == 1 or v.shape[-1] == 1 or narrow or v.size // v.shape[-1] > 8:
        flat = v.reshape(-1).tolist()
        return [_row(flat[i : i + per_line]) for i in range(0, len(flat), per_line)]
    return [_row(r) for r in v.reshape(-1, v.shape[-1]).tolist()]


def _grad_text(g: np.ndarray, max_values: int, per_line: int = 8) -> list[str]:
    if g.size <= max_values:
        return format_array(g, max_values, per_line)
    s = array_summary(g, max_values)
    return [f"norm {format_number(s.get('norm', float('nan')))}"]


def format_attrs(attrs: dict[str, Any], width: int = 40) -> list[str]:
    """``{"stride": 2, "padding": 1}`` -> ``["stride=2 padding=1"]`` (wrapped at ``width``)."""
    parts = []
    for k, v in attrs.items():
        if k == "index":
            items = v if isinstance(v, tuple) else (v,)
            text = "[" + ", ".join(str(to_plain(i, 4)) for i in items) + "]"
        else:
            p = to_plain(v, 4)
            text = format_number(p) if isinstance(p, float) else str(p)
        parts.append(f"{k}={text}")
    lines: list[str] = []
    for p in parts:
        if lines and len(lines[-1]) + len(p) + 1 <= width:
            lines[-1] += " " + p
        else:
            lines.append(p)
    return lines


def node_style_key(n: Node) -> str:
    """Which :data:`NODE_STYLES` entry a node uses."""
    if n.kind == "tensor":
        return n.role
    if n.kind == "op" and n.ctx is not None and n.ctx.op.plugin:
        return "plugin_op"
    return n.kind


def _html(lines: list[str]) -> str:
    out = "<" + "<br/>".join(lines) + ">"
    if len(out) <= MAX_STRING:
        return out
    # a label of very many lines (a module with thousands of parameters): keep what fits
    kept, size = [], 0
    for line in lines:
        size += len(line) + 5
        if size > MAX_STRING - 200:
            break
        kept.append(line)
    kept.append(_NOTE.format(_e(f"… {len(lines) - len(kept)} more lines")))
    return "<" + "<br/>".join(kept) + ">"


def _tensor_lines(n: Node, show_values: bool, max_values: int) -> list[str]:
    t = n.tensor
    assert t is not None
    if n.role == "constant":
        return [_VALUE.format(_e(format_array(t.data, max_values)[0]))]
    title = t.name or (n.role if n.role in ("input", "parameter", "output") else "")
    lines = [f"<b>{_name(title)}</b>"] if title else []
    lines.append(_DETAIL.format(_e(f"{format_shape(t.shape)} {dtype_name(t.dtype)}")))
    if show_values:
        if values_freed(t):  # the engine kept shape and dtype only
            lines.append(_NOTE.format(_e(FREED_NOTE)))
        else:
            lines += [_VALUE.format(_e(s)) for s in format_array(t.data, max_values)]
        g = n.grad if n.grad is not None else (None if t.grad is None else t.grad.data)
        if g is not None and n.stale:  # another pass's gradient: say so, in grey
            note = f"stale grad (earlier backward) {_grad_text(g, 0)[0]}"
            lines.append(_NOTE.format(_e(note)))
        elif g is not None:
            text = _grad_text(g, max_values)
            lines.append(_GRAD.format(_e("grad " + text[0])))  # "grad [..]", "grad norm 3"
            lines += [_GRAD.format(_e(s)) for s in text[1:]]
    return lines


def _op_lines(n: Node, suffix: str = "") -> list[str]:
    ctx = n.ctx
    assert ctx is not None
    lines = [f"<b>{_e(ctx.name + suffix)}</b>"]
    lines += [_DETAIL.format(_e(s)) for s in format_attrs(shown_attrs(ctx))]
    if ctx.op.plugin:
        lines.append(_NOTE.format(_e(f"plugin {ctx.op.plugin}")))
    return lines


def _module_lines(n: Node, backward: bool) -> list[str]:
    members = n.members or []
    name = (n.name or "").rpartition("/")[2]
    lines = [f"<b>{_name(name)}{' backward' if backward else ''}</b>"]
    ops = [m.ctx.name for m in members if m.ctx is not None]
    shown = " → ".join(ops[:4]) + (f" +{len(ops) - 4}" if len(ops) > 4 else "")
    if n.calls[1] > 1:
        lines[0] = lines[0][:-4] + f" (call {n.calls[0]})</b>"
    lines.append(_DETAIL.format(_e(shown)))
    for m in members:
        if m.kind == "tensor" and m.role == "parameter" and m.tensor is not None:
            label = f"{shorten(m.tensor.name or 'param')} {format_shape(m.tensor.shape)}"
            lines.append(_DETAIL.format(_e(label)))
    return lines


def node_label(n: Node, show_values: bool = True, max_values: int = MAX_VALUES) -> str:
    """The HTML-like Graphviz label of a node."""
    t = n.tensor
    if n.kind == "tensor":
        return _html(_tensor_lines(n, show_values, max_values))
    if n.kind == "op":
        return _html(_op_lines(n))
    if n.kind == "backward":
        return _html(_op_lines(n, " backward"))
    if n.kind == "module":
        return _html(
            _module_lines(
                n, backward=n.members is not None and any(m.kind == "backward" for m in n.members)
            )
        )
    if n.kind == "accumulate":
        return "<<b>+</b>>"
    if n.kind == "fold":
        ops = sum(1 for m in n.members or () if m.kind == n.role)
        return _html([f"<b>{_e(n.name)}</b>", _NOTE.format(_e(f"{ops} in a row, folded"))])
    assert t is not None
    if n.kind == "seed":
        who = shorten(t.name or "out", MAX_NAME // 2)
        value = "1" if t.size == 1 else f"ones {format_shape(t.shape)}"
        return _html([f"<b>{_e(f'd{who}/d{who}')}</b>", _DETAIL.format(_e("= " + value))])
    # a leaf's accumulated .grad
    lines = [f"<b>{_e(shorten(t.name or n.role) + '.grad')}</b>"]
    lines.append(_DETAIL.format(_e(f"{format_shape(t.shape)} {dtype_name(t.dtype)}")))
    if show_values and n.grad is not None:
        lines += [_GRAD.format(_e(s)) for s in format_array(n.grad, max_values)]
        if n.grad.size > max_values:
            lines += [_GRAD.format(_e(s)) for s in _grad_text(n.grad, max_values)]
    return _html(lines)


def _attr_text(v: Any) -> str:
    p = to_plain(v, 8)
    return format_number(p) if isinstance(p, float) else str(p)


def node_tooltip(n: Node) -> str | None:
    """Hover text in SVG output: every attribute, what an op saved for backward, its scope.

    Lines are separated by ``\\n`` (Graphviz's line break in attribute strings).
    """
    lines: list[str] = []
    ctx = n.ctx
    if n.kind == "fold":
        lines += [str(n.name), "a run of the same op, folded to fit max_nodes"]
    elif ctx is not None:
        lines.append(ctx.name + (" backward" if n.kind == "backward" else ""))
        if ctx.attrs:
            lines.append(", ".join(f"{k}={_attr_text(v)}" for k, v in ctx.attrs.items()))
        saved = ctx.saved
        if saved is None:
            lines.append("saved for backward: freed")
        elif saved:
            shapes = [
                format_shape(a.shape) if isinstance(a, np.ndarray) else _attr_text(a) for a in saved
            ]
            lines.append("saved for backward: " + ", ".join(shapes))
        if ctx.scope:
            lines.append(f"scope: {shorten(ctx.scope, 200)}")
        if ctx.op.plugin:
            lines.append(f"plugin: {ctx.op.plugin}")
    elif n.kind == "tensor" and n.tensor is not None:
        t = n.tensor
        lines.append(
            f"{shorten(t.name or n.role, 200)}: {format_shape(t.shape)} {dtype_name(t.dtype)}"
        )
        if values_freed(t):
            lines.append(f"{FREED_NOTE} (backward(retain_graph=True) keeps them)")
        s = array_summary(t.data, 0) if t.size > 1 and not values_freed(t) else {}
        if "min" in s:
            stats = [f"{k} {format_number(s[k])}" for k in ("min", "mean", "max", "norm") if k in s]
            lines.append(", ".join(stats))
        if n.stale:
            lines.append(
                "its .grad is not this graph's gradient (left from an earlier backward(); "
                "optimizer.zero_grad() clears it)"
            )
    else:
        return None
    text = "\\n".join(
        shorten(visible(line), 1000).replace("\\", "\\\\").replace('"', "'") for line in lines
    )
    return text


def _input_name(e: Edge) -> str | None:
    """The argument's name when the op takes several inputs (``a``/``b``, ``weight``...)."""
    ctx = e.dst.ctx if e.kind in ("input", "flow") or e.reverse else e.src.ctx
    if e.arg is None or ctx is None:
        return None
    spec = op_spec(ctx.op)
    if spec.variadic:
        return str(e.arg)
    if len(spec.inputs) < 2:
        return None
    return spec.inputs[e.arg] if e.arg < len(spec.inputs) else str(e.arg)


def edge_label(e: Edge, show_values: bool = True, max_values: int = MAX_VALUES) -> str | None:
    """The HTML-like label of an edge, or None for no label."""
    name = _input_name(e)
    t = e.tensor
    lines = []
    if e.kind == "input":
        return None if name is None else _html([_e(name)])
    if e.kind == "output":
        return None
    if e.kind == "flow":
        if name:
            lines.append(_e(name))
        if t is not None:
            lines.append(_e(format_shape(t.shape)))
        return _html(lines) if lines else None
    # gradient
    if e.reverse and e.arg is None:  # into an op's output: the tensor node shows its grad
        return None
    if not e.reverse and t is not None:
        lines.append(_e((f"{name}: " if name else "") + format_shape(t.shape)))
    if show_values and e.grad is not None:
        # edge labels stay narrow: Graphviz lets a wide label overhang its cluster's border
        text = _grad_text(e.grad, max_values, per_line=4)
        if e.reverse:
            text[0] = "grad " + text[0]
        lines += [_e(s) for s in text]
    return _html(lines) if lines else None


_VALUE_NOTES = {
    "freed": (
        "gradient values freed by backward(): draw before backward(), or call "
        "backward(retain_graph=True), or pass grads=, to see them"
    ),
}


def graph_label(data: GraphData, title: str | None, show_values: bool) -> str | None:
    """The figure's caption: the title, plus a note when gradient values are not shown."""
    lines = []
    if title:
        lines.append(f'<font point-size="14"><b>{_e(title)}</b></font>')
    lines += [_NOTE.format(_e(note)) for note in data.notes]
    if show_values and data.view != "forward" and data.values != "computed":
        note = _VALUE_NOTES.get(data.values)
        if note is None and data.values.startswith("unavailable"):
            note = "gradient values " + data.values
        if note:
            lines.append(_NOTE.format(_e(note)))
    return _html(lines) if lines else None
