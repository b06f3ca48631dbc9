# %% [markdown]
# # 13 · Playground: change something, see what follows
#
# The explorer replays one computation. The **playground** lets you change it: set input
# pixels, a label or a weight, take an optimizer step, undo, and after every change the engine
# runs the forward and the backward pass again, so every number you see is minigrad's own.
# `mg.graph.Playground` is the live page in Jupyter (a widget: paint with the mouse, press
# Step); the same object answers from Python, which is what this tutorial uses.
#
# Without Jupyter, `python -m minigrad playground SCRIPT.py` serves the same page on
# 127.0.0.1 (the script defines `model`, `x` and `target`).
#
# Run it as a script (`python tutorials/13_playground.py`) or cell by cell. Pictures go to
# `$MINIGRAD_TUTORIAL_OUT` (default `out/tutorials/13_playground`).

# %%
import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.data import XO_CLASSES, DataLoader, xo_images
from minigrad.demo import build_xo_model
from minigrad.demo.notebook import FAST, out_dir, plt, save, show, show_matrix

OUT = out_dir("13_playground")

# %% [markdown]
# ## 1. A trained network to play with
#
# The demo's X-vs-O network (`conv1`: four 3x3 filters -> ReLU -> 2x2 max pool -> two
# scores), trained for a few epochs as in tutorial 05. Then a playground on one blank 9x9
# picture whose true label is "X".

# %%
mg.manual_seed(0)
model = build_xo_model()
opt = mg.optim.Adam(model.parameters(), lr=0.02)
x_train, y_train = xo_images(n_per_class=60 if FAST else 150, seed=0)
for _ in range(2 if FAST else 5):
    for xb, yb in DataLoader(x_train, y_train, batch_size=16, shuffle=True, seed=0):
        loss = nn.CrossEntropyLoss()(model(mg.tensor(xb)), mg.tensor(yb))
        opt.zero_grad()
        loss.backward()
        opt.step()

blank = np.zeros((1, 1, 9, 9), np.float32)
pg = mg.graph.Playground(model, blank, np.array([1]), classes=XO_CLASSES, lr=0.1)


def probabilities():
    return ", ".join(f"{c} {p:.3f}" for c, p in zip(XO_CLASSES, pg.probabilities[0]))


print(f"loss {pg.loss:.4f}; probabilities: {probabilities()}")

# %% [markdown]
# In a notebook, the playground shows itself: paint on the input, watch the layers and the
# probabilities follow, press Step. (In a script this line shows nothing.)

# %%
show(pg)

# %% [markdown]
# ## 2. What does this filter respond to?
#
# Draw a stroke from Python: a diagonal from the top left to the bottom right, the first half
# of an X. `pg.set("input", index, value)` takes one cell, a list of cells, or numpy slices.
# `pg.changes` says what moved: how many cells of each layer's output, and by how much.

# %%
diagonal = [(0, 0, i, i) for i in range(1, 8)]
pg.set("input", diagonal, 1.0)
moved = pg.changes["arrays"]
for name in ("input", "conv1", "relu1", "pool1", "fc", "probabilities"):
    print(
        f"{name:>13}: {moved[name]['count']:3d} cells moved, largest change {moved[name]['max']:.3f}"
    )

# %% [markdown]
# Which of conv1's four filters answers the diagonal most strongly? Compare each channel's
# strongest response to the diagonal and to the other diagonal (undo, then draw that one).

# %%
diag_maps = pg.activations["conv1"][0].copy()
pg.undo()
pg.set("input", [(0, 0, i, 8 - i) for i in range(1, 8)], 1.0)
anti_maps = pg.activations["conv1"][0].copy()
for c in range(4):
    print(
        f"filter {c}: diagonal {diag_maps[c].max():6.2f}   other diagonal {anti_maps[c].max():6.2f}"
    )
best = int(np.argmax(diag_maps.max(axis=(1, 2)) - anti_maps.max(axis=(1, 2))))
print("the filter that prefers the first diagonal:", best)

fig, axes = plt.subplots(1, 4, figsize=(9, 2.4))
show_matrix(
    axes[0], pg.params["conv1.weight"][best, 0], f"filter {best}", cmap="RdBu_r", vmin=-1, vmax=1
)
lo, hi = (
    min(diag_maps[best].min(), anti_maps[best].min()),
    max(diag_maps[best].max(), anti_maps[best].max()),
)
show_matrix(
    axes[1], diag_maps[best], "its map: diagonal", cmap="viridis", vmin=lo, vmax=hi, numbers=False
)
show_matrix(
    axes[2],
    anti_maps[best],
    "its map: other diagonal",
    cmap="viridis",
    vmin=lo,
    vmax=hi,
    numbers=False,
)
lim = max(np.abs(diag_maps).max(), 1e-6)
show_matrix(
    axes[3],
    diag_maps[best] - anti_maps[best],
    "difference",
    cmap="RdBu_r",
    vmin=-lim,
    vmax=lim,
    numbers=False,
)
save(fig, OUT, "filter_response")

# %% [markdown]
# Now both strokes: an X. The probability of "X" should rise. `pg.changes["loss"]` holds the
# loss before and after the change.

# %%
pg.set("input", diagonal, 1.0)
print("the picture:\n", pg.x[0, 0].astype(int))
print(f"loss {pg.changes['loss']['old']:.4f} -> {pg.changes['loss']['new']:.4f};",
      f"probabilities: {probabilities()}")  # fmt: skip

# %% [markdown]
# ## 3. One step of gradient descent by hand
#
# The playground's optimizer is plain SGD with `lr = 0.1` (set `pg.lr` to change it). One
# step moves every weight by `- lr * gradient`. Predict where one weight of `fc` will go,
# press Step (`pg.step()`), and compare. In float32, as the optimizer computes it, the
# prediction is exact, not approximate.

# %%
name, index = "fc.weight", (1, 5)
w, g = pg.params[name][index], pg.grads[name][index]
predicted = w - np.float32(pg.lr) * g
print(f"{name}{list(index)} = {w:.6f}, gradient {g:.6f}")
print(f"prediction: w - lr * grad = {w:.6f} - {pg.lr} * {g:.6f} = {predicted:.6f}")
before = pg.loss
pg.step()
print(f"after Step: {pg.params[name][index]:.6f}  (equal: {pg.params[name][index] == predicted})")
assert pg.params[name][index] == predicted

# %% [markdown]
# Every weight moved against its gradient, so to first order the loss falls by
# `lr * |gradient|^2` (summed over all weights). With `lr = 0.1` that step was too long for
# the first-order picture; undo it (bit for bit), take a ten times shorter step, and the
# prediction comes close:

# %%
pg.undo()
assert pg.loss == before
squares = sum(float((g.astype(np.float64) ** 2).sum()) for g in pg.grads.values())
for lr in (0.1, 0.01):
    pg.lr = lr
    pg.step()
    print(f"lr {lr}: loss change {pg.loss - before:+.5f}, first-order prediction "
          f"{-lr * squares:+.5f}")  # fmt: skip
    pg.undo()  # the step
    pg.undo()  # the new lr

# %% [markdown]
# ## 4. Undo, reset, and the page
#
# Every change (an input edit, a label, a weight, a step, a new `lr`) can be undone, back to
# the exact state before it; `reset()` goes back to the start and can itself be undone.
# `pg.explorer` is the explorer page of the current state, to save and open offline.

# %%
print("changes to undo:", pg.session.can_undo)
pg.reset()
print(f"after reset: loss {pg.loss:.4f}, input cells set: {int(pg.x.sum())}")
page = pg.explorer.save(OUT / "playground_state.html")
print("wrote", page)
