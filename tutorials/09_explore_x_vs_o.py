# %% [markdown]
# # 09 · Exploring one training step of the X-vs-O network
#
# Tutorial 05 trained a small CNN to tell X's from O's. Here we stop in the middle of a
# training step and look inside it with the **explorer**: one offline HTML page
# (`mg.graph.explore(loss).save(...)`) that opens on the network itself as pictures (every
# feature map, the probabilities of O and X, the predicted class and the true label), slides
# the convolution's window over the input with the numbers written out, and also shows the
# forward and backward graphs, every tensor as heatmaps next to its gradient, and the
# engine's own backward pass step by step, each step as its formula with real numbers.
# Everything the page shows is also available in Python through `mg.graph.explain`, which
# this tutorial uses to check the page's numbers.
#
# Run it as a script (`python tutorials/09_explore_x_vs_o.py`) or cell by cell; the page goes
# to `$MINIGRAD_TUTORIAL_OUT` (default `out/tutorials/09_explore_x_vs_o`). Open it in any
# browser: it needs no network and no server.

# %%
from collections import OrderedDict

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.data import xo_images
from minigrad.demo.notebook import FAST, out_dir

OUT = out_dir("09_explore_x_vs_o")
mg.manual_seed(0)

# %% [markdown]
# ## 1. The network, trained a little
#
# The same pipeline as tutorial 05: a 3x3 convolution with 3 filters, ReLU, 2x2 max pooling
# (ceil mode, so the 7x7 maps give 4x4), a linear layer to two scores. A few epochs are
# enough for the filters to look like strokes.

# %%
model = nn.Sequential(
    OrderedDict(
        [
            ("conv1", nn.Conv2d(1, 3, kernel_size=3)),  # (N, 1, 9, 9) -> (N, 3, 7, 7)
            ("relu1", nn.ReLU()),
            ("pool1", nn.MaxPool2d(2, ceil_mode=True)),  # -> (N, 3, 4, 4)
            ("flatten", nn.Flatten()),  # -> (N, 48)
            ("fc", nn.Linear(48, 2)),  # -> (N, 2) scores
        ]
    )
)
x_train, y_train = xo_images(n_per_class=60 if FAST else 150, seed=0)
opt = mg.optim.Adam(model.parameters(), lr=0.01)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(3 if FAST else 8):
    order = np.random.default_rng(epoch).permutation(len(x_train))
    for start in range(0, len(order), 16):
        idx = order[start : start + 16]
        opt.zero_grad()
        loss = loss_fn(model(mg.tensor(x_train[idx])), mg.tensor(y_train[idx]))
        loss.backward()
        opt.step()
    print(f"epoch {epoch}: loss {loss.item():.3f}")

# %% [markdown]
# ## 2. One step, stopped before `backward()`
#
# Take 8 pictures, compute the loss, and build the explorer page *before* calling
# `backward()`: the page runs the engine's backward traversal itself, under an observer that
# frees nothing and writes no `.grad`, and records each step. (After a plain `backward()` the
# graph's saved values are freed: the page then says so and shows the structure only.)

# %%
xb, yb = mg.tensor(x_train[:8], name="images"), mg.tensor(y_train[:8], name="labels")
scores = model(xb)
loss = loss_fn(scores, yb)
explorer = mg.graph.explore(loss, classes=["O", "X"], title="X vs O: one training step")
path = explorer.save(OUT / "explorer.html")
print("wrote", path, f"({len(explorer.html) / 1e3:.0f} kB)")
explorer  # noqa: B018  (in Jupyter the page shows inline)

# %% [markdown]
# ## 3. What to click
#
# - **Network** tab (the page opens on it): the picture of a sample, then one column
#   per layer: `conv1`'s channels, `relu1`, `pool1`, the flattened strip, `fc`'s two units and
#   the probabilities of O and X with the prediction and the true label, all within the
#   window's width (pictures shrink to fit it). `[` and `]` change the sample.
# - Click any cell of a `conv1` map: input | kernel | products | output side by side; press
#   **play** and the window slides over the input while the output fills in, the sum written
#   out with the engine's numbers. Tick **predict first** to type your guess before each
#   cell is revealed. Below it, the backward: click a kernel cell, guess its weight gradient
#   (dy sliding over the input, its largest terms first), then that weight's value after one
#   SGD step (`w - lr*grad`, learning rate 0.1 unless you change it); on `pool1`, click an
#   input cell and guess the gradient it gets (the winner of its window takes it all). The score counts every guess of the session.
# - **Forward** tab: the graph; `conv1`, `relu1`, `pool1` and `fc` are clusters (click a
#   cluster's name to fold it). Drag to pan, wheel or `+`/`-` to zoom, `0` to fit, `/` to search.
# - Click the **conv2d** node, then any cell of its output heatmap: the 3x3 window lights up
#   on the input picture and the panel writes the weighted sum with the real numbers.
# - Click the **max_pool2d** node and a cell of its output: the window's winner is marked;
#   with ceil mode the last row and column hold partial windows (hatched cells).
# - **Backward** tab: press `→` to replay the engine's backward calls one by one; the
#   current edge is lit and the text writes the step's formula with one element's numbers
#   (with **predict first** ticked, its result stays `?` until you type a guess).
#   Click `conv2d backward`, then a cell of the weight's gradient: the products that sum to
#   it. Its derivative card says in one sentence what `conv_transpose2d` and
#   `conv2d_weight` are: convolutions again (the output gradient with the flipped kernel;
#   the output gradient sliding over the input).
# - The **health** line above the graph: the ReLU's dead fraction, NaN/Inf, gradient norms.
#
# ## 4. The same numbers from Python
#
# `mg.graph.explain(t, index)` explains one output element of a conv2d or pooling op. Find the
# tensors through the graph: the pooling output feeds `flatten`.


# %%
def producer(t, op_name):
    """Walk back from t through first inputs until the op called op_name."""
    while t._node is not None and t._node.name != op_name:
        t = next(i for i in t._node.inputs if i is not None and i._node is not None)
    return t


pooled = producer(scores, "max_pool2d")
conv = producer(scores, "conv2d")
e = mg.graph.explain(conv, (0, 0, 3, 3))
print("conv1, picture 0, filter 0, cell (3, 3):")
print(" ", e)
assert abs(e.terms.sum() + e.bias - e.value) < 1e-5
p = mg.graph.explain(pooled, (0, 0, 3, 3))  # the last, partial window of the ceil mode
print("pool1, cell (3, 3):", p, "window cells:", p.cells.tolist())
assert p.cells.tolist() == [[0, 2], [2, 2]]  # one input cell, three past the edge

# %% [markdown]
# Gradient cells work the same way: give `wrt=` the input and `grad=` the gradient of the op's
# output. The weight gradient of one filter tap sums a product for every picture and every
# position the tap visited:

# %%
conv.retain_grad()
opt.zero_grad()  # the last training step left its gradients in .grad
loss.backward()
w = conv._node.inputs[1]
g = mg.graph.explain(conv, (0, 0, 1, 1), wrt="weight")
print(f"d loss / d conv1.weight[0, 0, 1, 1] = sum of {g.terms.size} products = {g.value:.6f}")
assert abs(g.value - float(w.grad.data[0, 0, 1, 1])) < 1e-5
