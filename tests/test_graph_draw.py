"""mg.graph.draw, forward view: DOT text, labels, styles, options, clusters, collapse."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import graphviz
import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import call_op, name_scope
from minigrad.graph import GraphTooLargeError


def node_lines(dot):
    """{node id: its DOT line} for every node statement."""
    return {
        m.group(1): m.group(0)
        for m in re.finditer(r"^\s*(\w+) \[label=.*$", dot, flags=re.MULTILINE)
    }


def edges(dot):
    return re.findall(r"^\s*(\w+) -> (\w+)(.*)$", dot, flags=re.MULTILINE)


def line_of(dot, text):
    (line,) = [v for v in node_lines(dot).values() if text in v]
    return line


class Stride(mg.Op):
    """Subsample with attributes, like a pooling op would have."""

    name = "stride_pick"
    plugin = "my-layers"

    @staticmethod
    def forward(ctx, x, *, stride=1, padding=0, mode="valid"):
        return x[::stride].copy()

    @staticmethod
    def backward(ctx, grad):
        full = np.zeros(ctx.inputs[0].shape, dtype=grad.dtype)
        full[:: ctx.attrs["stride"]] = grad.data
        return full


def small_net():
    """x, w, b -> matmul -> add -> maximum -> sum, named like a user would."""
    x = mg.tensor([[1.0, 2.0]], name="x")
    w = mg.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True, name="w")
    b = mg.tensor([0.1, 0.2], requires_grad=True, name="b")
    loss = mg.maximum(x @ w + b, 0.0).sum()
    loss.name = "loss"
    return loss


def test_draw_returns_a_digraph_with_one_edge_per_graph_edge():
    loss = small_net()
    g = mg.graph.draw(loss)
    assert isinstance(g, graphviz.Digraph)
    G = mg.graph.to_networkx(loss)
    assert set(node_lines(g.source)) == set(G.nodes)
    assert sorted((u, v) for u, v, _ in edges(g.source)) == sorted(G.edges())


def test_tensor_labels_show_name_shape_dtype_values():
    loss = small_net()
    dot = mg.graph.draw(loss).source
    w = line_of(dot, "<b>w</b>")
    assert "(2, 2) float32" in w and "[0.5, -1]" in w and "[2, 0.25]" in w
    assert "scalar float32" in line_of(dot, "<b>loss</b>")
    assert "<b>matmul</b>" in dot and "<b>maximum</b>" in dot
    # relu([1, 2] @ w + b) = relu([4.6, -0.3]), summed
    assert "4.6" in line_of(dot, "<b>loss</b>")


def test_large_tensor_shows_min_mean_max_not_values():
    x = mg.tensor(np.arange(1000, dtype=np.float32), requires_grad=True, name="big")
    dot = mg.graph.draw((x * 2.0).sum()).source
    big = line_of(dot, "<b>big</b>")
    assert "min 0  mean 499.5  max 999" in big
    assert "998" not in big  # no element dump


def test_show_values_false_hides_values():
    loss = small_net()
    dot = mg.graph.draw(loss, show_values=False).source
    w = line_of(dot, "<b>w</b>")
    assert "(2, 2) float32" in w and "0.25" not in w


def test_roles_are_styled_differently():
    loss = small_net()
    dot = mg.graph.draw(loss).source
    styles = mg.graph.style.NODE_STYLES
    assert f'fillcolor="{styles["parameter"]["fillcolor"]}"' in line_of(dot, "<b>w</b>")
    assert f'fillcolor="{styles["input"]["fillcolor"]}"' in line_of(dot, "<b>x</b>")
    assert "peripheries=2" in line_of(dot, "<b>loss</b>")
    assert "shape=ellipse" in line_of(dot, "<b>matmul</b>")
    assert "shape=box" in line_of(dot, "<b>w</b>")
    assert len({styles[r]["fillcolor"] for r in ("parameter", "input", "output", "op")}) == 4


def test_op_label_shows_non_default_attributes_and_plugin():
    x = mg.tensor(np.arange(6.0), requires_grad=True)
    y = call_op(Stride, x, stride=2, mode="same")
    dot = mg.graph.draw(y.sum()).source
    op = line_of(dot, "stride_pick").split("tooltip=")[0]  # the label, not the hover text
    assert "stride=2 mode=same" in op
    assert "padding" not in op  # default value: not repeated on every node
    assert "plugin my-layers" in op
    styles = mg.graph.style.NODE_STYLES
    assert f'fillcolor="{styles["plugin_op"]["fillcolor"]}"' in op
    assert "plugin" not in line_of(dot, "<b>sum</b>")


def test_x_times_x_draws_two_edges_labelled_by_argument():
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    dot = mg.graph.draw(x * x).source
    xs = [e for e in edges(dot) if e[0] == "t0"]
    assert len(xs) == 2 and xs[0][1] == xs[1][1]
    assert {re.search(r"label=<(\w)>", e[2]).group(1) for e in xs} == {"a", "b"}


def test_constant_from_a_python_number_is_a_small_value_node():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    dot = mg.graph.draw(x * 3.0).source
    (const,) = [v for v in node_lines(dot).values() if '"#f1f3f5"' in v]
    assert ">3</font>" in const


def test_leaf_draws_a_single_node():
    dot = mg.graph.draw(mg.tensor([1.0, 2.0], name="a")).source
    assert len(node_lines(dot)) == 1 and not edges(dot)
    assert "<b>a</b>" in dot


@pytest.mark.parametrize("bad", [[1.0], np.ones(3), "x", None])
def test_draw_rejects_non_tensors(bad):
    with pytest.raises(TypeError, match="expected a minigrad Tensor, got"):
        mg.graph.draw(bad)


def test_unknown_option_lists_the_valid_ones():
    with pytest.raises(TypeError) as e:
        mg.graph.draw(small_net(), colour="red")
    msg = str(e.value)
    assert "'colour'" in msg
    for option in ("both", "rankdir", "max_nodes", "show_tensors", "collapse", "clusters"):
        assert option in msg


@pytest.mark.parametrize(
    "options, error",
    [
        ({"rankdir": "sideways"}, ValueError),
        ({"max_nodes": -1}, ValueError),
        ({"both": "yes"}, TypeError),
        ({"styles": {"paramter": {}}}, ValueError),
    ],
)
def test_bad_option_values_are_clear_errors(options, error):
    with pytest.raises(error, match=next(iter(options)).rstrip("s")):
        mg.graph.draw(small_net(), **options)


def test_rankdir_and_title():
    dot = mg.graph.draw(small_net(), rankdir="LR", title="a tiny net").source
    assert "rankdir=LR" in dot
    assert "a tiny net" in dot


def test_styles_override_one_drawing_only():
    loss = small_net()
    dot = mg.graph.draw(loss, styles={"parameter": {"fillcolor": "gold"}}).source
    assert "fillcolor=gold" in line_of(dot, "<b>w</b>")
    assert "fillcolor=gold" not in mg.graph.draw(loss).source


def test_size_cap_raises_before_building_dot():
    x = mg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(30):
        y = y * 1.0
    with pytest.raises(GraphTooLargeError) as e:
        mg.graph.draw(y, max_nodes=20, strict=True)
    assert "collapse=True" in str(e.value) and "show_tensors=False" in str(e.value)
    with pytest.raises(GraphTooLargeError, match="91 nodes"):  # 30 ops, tensors fit no more
        mg.graph.draw(y, max_nodes=60, strict=True)
    dot = mg.graph.draw(y, max_nodes=60, show_tensors=False, strict=True).source
    assert len(node_lines(dot)) == 30


def test_show_tensors_false_draws_ops_only():
    loss = small_net()
    dot = mg.graph.draw(loss, show_tensors=False).source
    labels = [re.search(r"<b>(\w+)</b>", v).group(1) for v in node_lines(dot).values()]
    assert labels == ["matmul", "add", "maximum", "sum"]
    chain = [(u, v) for u, v, _ in edges(dot)]
    assert len(chain) == 3
    assert "(1, 2)" in edges(dot)[0][2]  # op -> op edges carry the tensor's shape


def scoped_net():
    mg.manual_seed(0)
    x = mg.randn(4, 3, name="x")
    w1 = mg.randn(3, 5, requires_grad=True, name="fc1_w")
    b1 = mg.zeros(5, requires_grad=True, name="fc1_b")
    w2 = mg.randn(5, 1, requires_grad=True, name="fc2_w")
    with name_scope("net"):
        with name_scope("fc1"):
            h = x @ w1 + b1
        with name_scope("act"):
            h = mg.maximum(h, 0.0)
        with name_scope("fc2"):
            out = h @ w2
    return (out * out).mean()


def clusters(dot):
    """{cluster name: its title} in the DOT text (the title is a plain node in the box)."""
    names = re.findall(
        r'subgraph "?(cluster_[\w/]+)"? \{\n\s*graph \[[^\]]*\]\n(?:.*\n)*?'
        r"\s*title_\d+ \[label=<<b>(\w+)</b>>",
        dot,
    )
    return dict(names)


def test_scoped_ops_are_grouped_in_nested_clusters():
    dot = mg.graph.draw(scoped_net()).source
    assert clusters(dot) == {
        "cluster_net": "net",
        "cluster_net/fc1": "fc1",
        "cluster_net/act": "act",
        "cluster_net/fc2": "fc2",
    }
    # fc1's ops and its weight sit inside cluster_net/fc1, which sits inside cluster_net
    fc1 = dot.split('subgraph "cluster_net/fc1" {')[1].split("}")[0]
    assert "<b>matmul</b>" in fc1 and "<b>add</b>" in fc1 and "<b>fc1_w</b>" in fc1
    assert dot.index("subgraph cluster_net {") < dot.index('subgraph "cluster_net/fc1"')
    outside = dot.split("subgraph cluster_net {")[0]
    assert "<b>x</b>" in outside and "<b>mean</b>" in outside


def test_clusters_false_draws_no_clusters():
    assert "subgraph" not in mg.graph.draw(scoped_net(), clusters=False).source


def test_collapse_turns_each_scope_into_one_node():
    loss = scoped_net()
    full = mg.graph.draw(loss).source
    dot = mg.graph.draw(loss, collapse=True).source
    modules = [v for v in node_lines(dot).values() if "shape=box3d" in v]
    assert [re.search(r"<b>(\w+)</b>", m).group(1) for m in modules] == ["fc1", "act", "fc2"]
    assert "matmul → add" in modules[0] and "fc1_w (3, 5)" in modules[0]
    assert "<b>matmul</b>" not in dot and "<b>fc1_w</b>" not in dot
    assert len(node_lines(dot)) < len(node_lines(full))
    assert "<b>mean</b>" in dot  # unscoped ops stay as they are
    assert clusters(dot) == {"cluster_net": "net"}  # module nodes sit in their parent scope
    G = mg.graph.to_networkx(loss, collapse=True)
    facts = [d for _, d in G.nodes(data=True) if d["kind"] == "module"]
    assert [d["scope"] for d in facts] == ["net/fc1", "net/act", "net/fc2"]
    assert facts[0]["ops"] == ["matmul", "add"]
    assert facts[0]["params"] == {"fc1_w": (3, 5), "fc1_b": (5,)}


def test_collapse_keeps_two_calls_of_one_scope_apart():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([0.5, 0.5], requires_grad=True, name="w")
    with name_scope("shared"):
        y = x * w
    y = y + 1.0
    with name_scope("shared"):
        y = y * w
    dot = mg.graph.draw(y.sum(), collapse=True).source
    assert "shared (call 1)" in dot and "shared (call 2)" in dot


DETERMINISM_SCRIPT = textwrap.dedent(
    """
    import minigrad as mg
    from minigrad.autograd import name_scope
    mg.manual_seed(3)
    x = mg.randn(2, 3, name="x")
    w = mg.randn(3, 4, requires_grad=True, name="w")
    with name_scope("layer"):
        h = (x @ w).exp()
    loss = (h * h - h).mean()
    print(mg.graph.draw(loss).source)
    print("=====")
    print(mg.graph.draw(loss, backward=True).source)
    """
)


def test_dot_text_is_identical_across_builds_and_interpreters():
    ns: dict = {}
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(DETERMINISM_SCRIPT, ns)
        exec(DETERMINISM_SCRIPT, ns)  # a second build in the same process
    here = buf.getvalue()
    first, second = here[: len(here) // 2], here[len(here) // 2 :]
    assert first == second
    runs = [
        subprocess.run(
            [sys.executable, "-c", DETERMINISM_SCRIPT],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1] == first
    assert "<b>w</b>" in first and "matmul backward" in first


def test_tooltips_show_every_attribute_and_the_saved_state():
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    loss = (x * x).sum(axis=0)
    dot = mg.graph.draw(loss).source
    assert 'tooltip="mul\\nsaved for backward: (2,), (2,)"' in line_of(dot, "<b>mul</b>")
    assert "axis=0, keepdims=False" in line_of(dot, "<b>sum</b>")  # defaults too, on hover
    assert "min 1, mean 1.5, max 2" in line_of(dot, "<b>x</b>")
    loss.backward()
    assert "saved for backward: freed" in line_of(mg.graph.draw(loss).source, "<b>mul</b>")
