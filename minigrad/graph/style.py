"""How graphs look: colours and shapes (overridable dicts) and the labels of nodes and edges.

Change a colour for every drawing by editing the dicts, or for one drawing with
``draw(t, styles={"parameter": {"fillcolor": "#ffe066"}})``::

    import minigrad as mg
    mg.graph.style.NODE_STYLES["op"]["fillcolor"] = "#e7f5ff"

Keys of :data:`NODE_STYLES` are tensor roles ("parameter", "input", "constant",
"intermediate", "output") and node kinds ("op", "plugin_op", "backward", "accumulate",
"grad", "seed", "module", "fold"); keys of :data:`EDGE_STYLES` are "forward", "gradient" (backward
view) and "both_gradient" (gradient edges drawn next to forward ones, ``both=True``).

Labels are Graphviz HTML-like labels: a bold first line (name or op), then smaller lines for
shape/dtype, attributes and values. Values are formatted from at most a handful of numbers
per tensor (a small tensor's elements, or one min/mean/max per large tensor).
"""

from __future__ import annotations

from .labels import (
    FREED_NOTE,
    MONO,
    edge_label,
    format_array,
    format_attrs,
    format_number,
    format_shape,
    graph_label,
    node_label,
    node_style_key,
    node_tooltip,
)

__all__ = [
    "CLUSTER_ATTRS",
    "CLUSTER_TITLE_ATTRS",
    "EDGE_ATTRS",
    "EDGE_STYLES",
    "FONT",
    "FREED_NOTE",
    "GRAPH_ATTRS",
    "MONO",
    "NODE_ATTRS",
    "NODE_STYLES",
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

FONT = "Helvetica,Arial,sans-serif"

GRAPH_ATTRS: dict[str, str] = {
    "rankdir": "TB",
    "fontname": FONT,
    "fontsize": "12",
    "nodesep": "0.3",
    "ranksep": "0.35",
    "labelloc": "t",
}
NODE_ATTRS: dict[str, str] = {"fontname": FONT, "fontsize": "11", "margin": "0.12,0.05"}
EDGE_ATTRS: dict[str, str] = {"fontname": FONT, "fontsize": "9", "arrowsize": "0.7"}
CLUSTER_ATTRS: dict[str, str] = {
    "style": "rounded,filled",
    "fillcolor": "#f8f9fa",
    "color": "#adb5bd",
    "fontcolor": "#343a40",
    "fontname": FONT,
    "fontsize": "11",
}
#: the title of a cluster, drawn as a plain node inside its box (see ``render``)
CLUSTER_TITLE_ATTRS: dict[str, str] = {
    "shape": "plain",
    "fontcolor": "#343a40",
    "fontname": FONT,
    "fontsize": "11",
}

NODE_STYLES: dict[str, dict[str, str]] = {
    # tensors: boxes; what the user feeds in and what is learned stand out
    "parameter": {
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": "#ffd8a8",
        "color": "#e8590c",
    },
    "input": {
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": "#d0ebff",
        "color": "#1971c2",
    },
    "constant": {
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": "#f1f3f5",
        "color": "#adb5bd",
        "fontsize": "9",
    },
    "intermediate": {"shape": "box", "style": "rounded", "color": "#868e96"},
    "output": {
        "shape": "box",
        "style": "rounded,filled,bold",
        "fillcolor": "#d3f9d8",
        "color": "#2b8a3e",
        "peripheries": "2",
    },
    # ops: ellipses; plugin ops in a second colour
    "op": {"shape": "ellipse", "style": "filled", "fillcolor": "#e9ecef", "color": "#495057"},
    "plugin_op": {
        "shape": "ellipse",
        "style": "filled",
        "fillcolor": "#e5dbff",
        "color": "#6741d9",
    },
    "module": {"shape": "box3d", "style": "filled", "fillcolor": "#e5dbff", "color": "#6741d9"},
    # a run of the same op drawn as one node ("mul × 2999")
    "fold": {
        "shape": "ellipse",
        "style": "filled",
        "fillcolor": "#e9ecef",
        "color": "#495057",
        "peripheries": "2",
    },
    # backward view
    "backward": {"shape": "ellipse", "style": "filled", "fillcolor": "#ffe3e3", "color": "#c92a2a"},
    "accumulate": {
        "shape": "circle",
        "style": "filled",
        "fillcolor": "#fff3bf",
        "color": "#e67700",
        "fixedsize": "true",
        "width": "0.4",
    },
    "grad": {
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": "#ffd8a8",
        "color": "#c92a2a",
        "peripheries": "2",
    },
    "seed": {"shape": "box", "style": "rounded,filled", "fillcolor": "#d3f9d8", "color": "#2b8a3e"},
}

EDGE_STYLES: dict[str, dict[str, str]] = {
    "forward": {"color": "#495057", "fontcolor": "#495057"},
    "gradient": {"color": "#c92a2a", "fontcolor": "#a61e4d"},
    "both_gradient": {
        "color": "#e03131",
        "fontcolor": "#c92a2a",
        "style": "dashed",
        "dir": "back",
    },
}
