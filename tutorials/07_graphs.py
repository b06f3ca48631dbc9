# %% [markdown]
# # 07 · See the computation: forward graphs, backward graphs, gradients of gradients
#
# Every op minigrad runs while a gradient may flow is recorded as a node of a graph. This
# tutorial draws those graphs for the small "X or not X" network of the earlier tutorials:
#
# 1. a three-line warm-up, to learn how to read a drawing;
# 2. the forward graph of the network (conv 3x3 + bias, relu, 2x2 max pool, flatten, dense 3
#    + relu, dense 1 + sigmoid, log loss), whole, ops only, and one node per layer;
# 3. the backward graph: one node per backward step, the gradient flowing along every edge,
#    "+" nodes where contributions are summed, and each parameter's `.grad`;
# 4. the same facts as a `networkx` graph, to analyse with code;
# 5. a second-order graph: with `create_graph=True` a gradient is an ordinary tensor whose
#    graph *is* the backward computation, so it can be drawn and differentiated again.
#
# Run it as a script (`python tutorials/07_graphs.py`) or cell by cell in Jupyter/VS Code
# (there, a drawing shows inline when it is the last expression of a cell). Pictures go to
# `$MINIGRAD_TUTORIAL_OUT` (default `out/tutorials/07_graphs`). Turning drawings into SVG
# needs the Graphviz program (`apt-get install graphviz`, `brew install graphviz` or
# `conda install graphviz`); without it the `.dot` files are still written.

# %%
import networkx as nx
import numpy as np

import minigrad as mg
from minigrad.data import canonical_x5, x_or_not_x
from minigrad.demo.notebook import FAST, out_dir, show

OUT = out_dir("07_graphs")
mg.manual_seed(0)


def save(drawing, name):
    """Write ``name.svg`` (and ``name.dot``) to OUT and show the drawing in a notebook; keep
    going if Graphviz is missing."""
    try:
        path = mg.graph.render(drawing, OUT / f"{name}.svg")
    except mg.graph.GraphvizNotFoundError as e:
        print(e)
        return
    show(drawing)
    print("wrote", path)


# %% [markdown]
# ## 1. Reading a drawing
#
# `mg.graph.draw(t)` walks back from `t` over the recorded ops and returns a
# `graphviz.Digraph`. Boxes are tensors, ellipses are ops:
#
# - **orange** boxes are *parameters* (leaves with `requires_grad=True`),
# - **blue** boxes are *inputs* (leaves without), small grey boxes are *constants* such as the
#   `2` in `a * 2`,
# - the **green double box** is the output, plain boxes are intermediate values.
#
# A tensor box shows its name (or role), shape, dtype and its values when it has at most 16
# elements (else min/mean/max). Op nodes show the op and any attribute that differs from its
# default. When an op takes several inputs, each edge is labelled with the argument it fills:
# `a * a` has **two** edges from `a`, one for each argument.

# %%
a = mg.tensor([1.0, -2.0, 3.0], requires_grad=True, name="a")
b = mg.tensor([0.5, 0.5, 0.5], name="b")
e = (a * a + b * 2).sum()
e.name = "e"
save(mg.graph.draw(e, rankdir="LR", title="e = sum(a*a + 2b)"), "warmup_forward")

# %% [markdown]
# ## 2. The X-or-not-X network, forward
#
# The parameters are plain tensors with `requires_grad=True` and a name, so the drawing can
# label them. The two convolution filters are the diagonal detectors of tutorial 01 ("\\" and
# "/"); the dense layers start random. `mg.name_scope` tags the ops of each layer; the
# drawing groups them in labelled clusters (this is what `mg.nn` modules do for you).

# %%
diag = np.eye(3, dtype=np.float32)
conv_w = mg.tensor(np.stack([diag, diag[::-1]])[:, None], requires_grad=True, name="conv_w")
conv_b = mg.tensor([-1.0, -1.0], requires_grad=True, name="conv_b")
fc1_w = mg.tensor(0.5 * mg.randn(8, 3).data, requires_grad=True, name="fc1_w")
fc1_b = mg.zeros(3, requires_grad=True, name="fc1_b")
fc2_w = mg.tensor(0.5 * mg.randn(3, 1).data, requires_grad=True, name="fc2_w")
fc2_b = mg.zeros(1, requires_grad=True, name="fc2_b")
params = [conv_w, conv_b, fc1_w, fc1_b, fc2_w, fc2_b]


def predict(images):
    """(N, 1, 5, 5) images -> (N,) probabilities of "this is an X"."""
    with mg.name_scope("conv1"):
        h = mg.ops.relu(mg.ops.conv2d(images, conv_w, conv_b, padding=1))  # (N, 2, 5, 5)
    with mg.name_scope("pool1"):
        h = mg.ops.max_pool2d(h, kernel_size=2)  # (N, 2, 2, 2)
    h = h.flatten(1)  # (N, 8)
    with mg.name_scope("fc1"):
        h = mg.ops.relu(h @ fc1_w + fc1_b)  # (N, 3)
    with mg.name_scope("fc2"):
        p = mg.ops.sigmoid(h @ fc2_w + fc2_b)  # (N, 1)
    return p.reshape(-1)


def loss_of(images, labels):
    loss = mg.ops.log_loss(predict(images), labels)
    loss.name = "loss"
    return loss


image = mg.tensor(canonical_x5()[None, None], name="image")  # (1, 1, 5, 5)
target = mg.tensor([1.0], name="target")
loss = loss_of(image, target)
print(f"loss on the clean X: {loss.item():.4f}")
save(mg.graph.draw(loss, title="X or not X: forward"), "forward")

# %% [markdown]
# The same graph two more ways: ops only (`show_tensors=False`, each edge labelled with the
# shape it carries), and one node per layer (`collapse=True`, listing the layer's ops and
# parameters). On a large network the second one keeps the picture readable.
#
# A graph with more than `max_nodes` nodes (2,000 by default) is still drawn, only smaller:
# first every run of the same op folds into one node (a loop of 3,000 multiplications
# becomes one `mul × 3000` node), then, if that is not enough, each layer collapses to one
# node, then tensors are hidden. The title says what was folded. Pass `strict=True` to get a
# `GraphTooLargeError` instead, whose message suggests `collapse=True` and
# `show_tensors=False`.

# %%
save(mg.graph.draw(loss, show_tensors=False, rankdir="LR"), "forward_ops_only")
save(mg.graph.draw(loss, collapse=True), "forward_collapsed")

# a loop of 60 multiplications, drawn with a cap of 40 nodes
h = mg.tensor([1.0, 2.0], requires_grad=True, name="h")
y = h
for _ in range(60):
    y = y * 1.01
long_chain = mg.graph.draw(y.sum(), max_nodes=40, title="60 multiplications, max_nodes=40")
assert "mul × 60" in long_chain.source and "so drawn smaller" in long_chain.source
save(long_chain, "folded_run")
try:
    mg.graph.draw(y.sum(), max_nodes=40, strict=True)
    raise AssertionError("strict=True should refuse a graph above max_nodes")
except mg.graph.GraphTooLargeError as e:
    print("strict=True:", e)

# %% [markdown]
# ## 3. The backward pass
#
# `draw(loss, backward=True)` shows what `loss.backward()` will do: it starts from
# d loss / d loss = 1 and runs one **backward step** per op, newest first. Every edge carries
# the gradient flowing along it, labelled with its shape and its values (or its norm when it
# has more than 16 elements). A tensor used by several ops receives several contributions:
# a yellow **+** node sums them. Every parameter ends in its `.grad`.
#
# The values are recomputed from what the ops saved for backward, so draw **before**
# `backward()`, which frees that state (or call `backward(retain_graph=True)`). Drawing
# changes nothing: no `.grad` is touched, no hook is called.

# %%
save(mg.graph.draw(loss, backward=True, title="X or not X: backward"), "backward")

# %% [markdown]
# Now run the real backward pass. The accumulated gradients are exactly the values the
# drawing showed on the `.grad` nodes. Drawn afterwards, the graph still has its structure
# and the `.grad` values, but the per-edge values are gone, and the drawing says so.

# %%
loss.backward()
for p in params:
    print(f"{p.name:7s} grad norm {np.linalg.norm(p.grad.data):.4f}")
save(mg.graph.draw(loss, backward=True, title="after backward()"), "backward_after")

# %% [markdown]
# Both passes in one figure (`both=True`): forward edges solid, gradients dashed red, each
# tensor box with its gradient. We rebuild the forward pass first, since its state was freed.

# %%
for p in params:
    p.zero_grad()
loss = loss_of(image, target)
save(mg.graph.draw(loss, both=True), "both")

# %% [markdown]
# ## 4. The same facts as data
#
# `mg.graph.to_networkx` returns a `networkx.MultiDiGraph` with one edge per argument. Node
# attributes: `kind` ("tensor"/"op"), `op`, `attrs`, `shape`, `dtype`, `name`, `role`,
# `scope`, `plugin`, `grad_shape`, values and gradient statistics. In the backward graph,
# edges carry `grad_shape`, `grad_norm` and small gradients' values.

# %%
G = mg.graph.to_networkx(loss)
ops = [d for _, d in G.nodes(data=True) if d["kind"] == "op"]
print("ops, in order:", [d["op"] for d in ops])
print("conv2d attributes:", next(d["attrs"] for d in ops if d["op"] == "conv2d"))
print("plugin of conv2d:", next(d["plugin"] for d in ops if d["op"] == "conv2d"))
print("longest path (edges):", nx.dag_longest_path_length(G))

B = mg.graph.to_networkx(loss, backward=True)
print("gradient norm arriving at each backward step:")
for node, d in B.nodes(data=True):
    if d["kind"] == "backward":
        (g,) = [e.get("grad_norm") for _, _, e in B.in_edges(node, data=True)]
        print(f"  {d['op'] + ' backward':24s} {d['scope'] or '':6s} {g:.4g}")

# %% [markdown]
# ## 5. Gradients of gradients
#
# With `backward(create_graph=True)` the backward pass is itself recorded: `fc2_w.grad` is
# then not a leaf but the output of ordinary ops (matmul, mul, the sigmoid's derivative...),
# and drawing it shows the backward computation as a forward graph. Differentiating it again
# gives second derivatives, e.g. how the gradient of `fc2_w` changes when `fc1_w` moves.

# %%
loss = loss_of(image, target)
loss.backward(create_graph=True)
g = fc2_w.grad
print("fc2_w.grad is a leaf?", g.is_leaf, "- made by op", g.op)
save(mg.graph.draw(g, title="d loss / d fc2_w, as a graph"), "second_order")
(d2,) = mg.grad((g * g).sum(), [fc1_w])
print("d |d loss/d fc2_w|^2 / d fc1_w has norm", f"{np.linalg.norm(d2.data):.4g}")
for p in params:
    p.zero_grad()

# %% [markdown]
# ## 6. Watch the numbers change with training
#
# A few epochs of plain SGD on generated X / not-X images, then the forward graph of the clean
# X again: the prediction (the input of `log_loss`) moves towards 1 and the loss towards 0.

# %%
images, labels = x_or_not_x(n_per_class=20 if FAST else 100, seed=0)
epochs, batch, lr = (3 if FAST else 30), 20, 0.5
for epoch in range(epochs):
    order = np.random.default_rng(epoch).permutation(len(images))
    for i in range(0, len(order), batch):
        idx = order[i : i + batch]
        step_loss = loss_of(mg.tensor(images[idx]), mg.tensor(labels[idx]))
        step_loss.backward()
        with mg.no_grad():
            for p in params:
                p.data -= lr * p.grad.data
                p.zero_grad()
    if epoch in (0, epochs - 1):
        print(f"epoch {epoch + 1}: batch loss {step_loss.item():.4f}")
loss = loss_of(image, target)
print(f"loss on the clean X after training: {loss.item():.4f}")
save(mg.graph.draw(loss, title="after training"), "forward_trained")

# %% [markdown]
# The same drawings come from the command line, for any script that leaves a tensor in a
# variable named `loss` (or defines `loss()`):
#
# ```
# python -m minigrad draw my_model.py --out pictures/ --format svg --collapse
# ```
