# %% [markdown]
# # 04 · X or not X: a whole CNN, trained
#
# Time to put the pieces together and let the network find its own filters. The task: tell
# whether a 5x5 picture (pixels 0/1) shows an X. The network is the explainer's small one:
#
# ```
# image (1, 5, 5)
#  → conv 3x3, 2 filters, with bias, zero padding 1   (2, 5, 5)
#  → ReLU
#  → max pool 2x2                                      (2, 2, 2)
#  → flatten                                           (8,)
#  → dense 8 → 3, ReLU                                 (3,)
#  → dense 3 → 1, sigmoid                              probability of "X"
# ```
#
# trained with the **log loss** and plain stochastic gradient descent (with momentum). Here
# every parameter is a tensor we create ourselves, so nothing is hidden; tutorial 05 does
# the same with `mg.nn` layers.
#
# Run it as a script (`python tutorials/04_x_or_not_x.py`) or cell by cell. Pictures go to
# `$MINIGRAD_TUTORIAL_OUT` (default `out/tutorials/04_x_or_not_x`); `MINIGRAD_FAST=1` trains
# for fewer epochs.

# %%
import math

import numpy as np

import minigrad as mg
from minigrad.data import DataLoader, canonical_x5, x_or_not_x
from minigrad.demo.notebook import FAST, out_dir, plt, save, show_matrix

OUT = out_dir("04_x_or_not_x")
mg.manual_seed(4)  # the starting weights; most seeds train as well

# %% [markdown]
# ## 1. The data
#
# `x_or_not_x` draws X's (clean, with a stray pixel, with a pixel missing, shifted, or a
# small 3x3 X) and things that are not X's (rings, lines, a single diagonal, a "+", blobs).
# Labels are 1.0 for X and 0.0 for not X.

# %%
x_train, y_train = x_or_not_x(n_per_class=200, seed=0)
x_test, y_test = x_or_not_x(n_per_class=100, seed=1)
print("train", x_train.shape, "test", x_test.shape, "share of X:", y_train.mean())

fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
for ax, img, label in zip(axes.ravel(), x_train, y_train):
    show_matrix(ax, img[0], "X" if label else "not X", vmin=0, vmax=1, numbers=False)
save(fig, OUT, "examples")

# %% [markdown]
# ## 2. The network, parameter by parameter
#
# Small random weights to start with. `requires_grad=True` asks minigrad to compute the
# gradient of the loss with respect to each of them.


# %%
def param(shape, scale, name):
    return mg.tensor(scale * mg.randn(*shape).data, requires_grad=True, name=name)


conv_w = param((2, 1, 3, 3), 0.5, "conv_w")  # 2 filters of 3x3 on 1 input channel
conv_b = mg.zeros(2, requires_grad=True, name="conv_b")
fc1_w = param((8, 3), 0.5, "fc1_w")
fc1_b = mg.zeros(3, requires_grad=True, name="fc1_b")
fc2_w = param((3, 1), 0.5, "fc2_w")
fc2_b = mg.zeros(1, requires_grad=True, name="fc2_b")
params = [conv_w, conv_b, fc1_w, fc1_b, fc2_w, fc2_b]
print("parameters:", sum(p.size for p in params))


def forward(images, verbose=False):
    """(N, 1, 5, 5) images -> (N,) probabilities that each one is an X."""
    steps = [("input", images)]
    h = mg.ops.conv2d(images, conv_w, conv_b, padding=1)
    steps.append(("conv", h))
    h = mg.ops.relu(h)
    steps.append(("relu", h))
    h = mg.ops.max_pool2d(h, kernel_size=2)
    steps.append(("max pool", h))
    h = h.flatten(1)
    steps.append(("flatten", h))
    h = mg.ops.relu(h @ fc1_w + fc1_b)
    steps.append(("dense 3 + relu", h))
    p = mg.ops.sigmoid(h @ fc2_w + fc2_b).reshape(-1)
    steps.append(("dense 1 + sigmoid", p))
    if verbose:
        for name, t in steps:
            print(f"  {name:18s} {t.shape}")
    return p


clean_x = mg.tensor(canonical_x5()[None, None])  # (1, 1, 5, 5)
p0 = forward(clean_x, verbose=True).item()
print(f"before training, P(X | clean X) = {p0:.3f}")

# %% [markdown]
# ## 3. The log loss
#
# For a probability p and a label y (1 for X, 0 for not X) the loss is
# `-(y log p + (1 - y) log(1 - p))`: small when p is close to y, very large when the network
# is confidently wrong. A prediction of 0.98 for an X costs -log 0.98 = 0.0202.

# %%
for p, y in [(0.98, 1.0), (0.5, 1.0), (0.02, 1.0), (0.02, 0.0)]:
    loss = mg.ops.log_loss(mg.tensor([p]), mg.tensor([y])).item()
    print(f"p = {p:4.2f}, y = {y:.0f}: loss = {loss:.4f}")
loss_098 = mg.ops.log_loss(mg.tensor([0.98]), mg.tensor([1.0])).item()
assert round(loss_098, 4) == 0.0202 and abs(loss_098 + math.log(0.98)) < 1e-6

# %% [markdown]
# ## 4. Training
#
# Each step: predict a mini-batch, compute the mean log loss, `backward()` to get every
# parameter's gradient, and let the optimizer move each parameter a little against its
# gradient (`mg.optim.SGD` with momentum 0.9, and a little weight decay that keeps the
# weights small). One **epoch** is one pass over the data.

# %%
epochs = 12 if FAST else 30
optimizer = mg.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-3)
history = []
for epoch in range(1, epochs + 1):
    total = 0.0
    for xb, yb in DataLoader(x_train, y_train, batch_size=16, seed=epoch):
        loss = mg.ops.log_loss(forward(mg.tensor(xb)), mg.tensor(yb))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
    history.append(total / len(y_train))
    if epoch == 1 or epoch % 5 == 0 or epoch == epochs:
        print(f"epoch {epoch:2d}: mean loss {history[-1]:.4f}")
assert history[-1] < history[0] / 4  # the loss went down a lot

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(range(1, epochs + 1), history, "o-")
ax.set_xlabel("epoch")
ax.set_ylabel("mean log loss")
ax.set_yscale("log")
ax.set_title("X or not X: training")
save(fig, OUT, "loss_curve")

# %% [markdown]
# ## 5. What did it learn?
#
# The trained network is confident on the clean X (the explainer reaches about 0.98) and
# says "not X" for the ring, the "+" and the lines. On pictures it never saw, it is right
# almost every time.

# %%
with mg.no_grad():
    p_x = forward(clean_x).item()
    p_test = forward(mg.tensor(x_test)).data
accuracy = float(((p_test > 0.5) == (y_test == 1)).mean())
print(f"P(X | clean X) = {p_x:.4f}")
print(f"test accuracy {accuracy:.1%} on {len(y_test)} new pictures")
assert p_x > 0.9
assert accuracy > 0.9

ring = np.array(
    [[0, 1, 1, 1, 0], [1, 0, 0, 0, 1], [1, 0, 0, 0, 1], [1, 0, 0, 0, 1], [0, 1, 1, 1, 0]]
)
plus = np.zeros((5, 5))
plus[2, :] = plus[:, 2] = 1
line = np.zeros((5, 5))
line[:, 1] = 1
others = {"ring": ring, "plus": plus, "line": line}
with mg.no_grad():
    p_others = forward(mg.tensor(np.stack(list(others.values()))[:, None].astype(np.float32))).data
for (name, _), p in zip(others.items(), p_others):
    print(f"P(X | {name}) = {p:.4f}")
assert (p_others < 0.5).all()
# on the test set, the average probability given to the non-X pictures is low
print(f"mean P(X) over the non-X test pictures: {p_test[y_test == 0].mean():.3f}")
assert p_test[y_test == 0].mean() < 0.2

fig, axes = plt.subplots(1, 6, figsize=(13, 2.6))
for k in range(2):
    show_matrix(axes[k], conv_w.data[k, 0], f"learned filter {k}\nbias {conv_b.data[k]:+.2f}", cmap="RdBu_r",
                vmin=-np.abs(conv_w.data).max(), vmax=np.abs(conv_w.data).max())  # fmt: skip
show_matrix(
    axes[2], clean_x.data[0, 0], f"clean X: P(X) = {p_x:.2f}", vmin=0, vmax=1, numbers=False
)
for ax, (name, img), p in zip(axes[3:], others.items(), p_others):
    show_matrix(ax, img, f"{name}: P(X) = {p:.2f}", vmin=0, vmax=1, numbers=False)
save(fig, OUT, "learned")
