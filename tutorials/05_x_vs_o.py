# %% [markdown]
# # 05 · X vs O: learned filters you can look at
#
# Tutorial 02 drew three features by hand to recognise an X. Here a CNN learns its own
# filters from examples: X's and O's of 9x9 pixels, shifted, resized, thickened and turned a
# little, so no single template fits them all. The network follows the explainer's pipeline
# and is built from `mg.nn` layers:
#
# ```
# image (1, 9, 9) → Conv2d 3 filters 3x3 (3, 7, 7) → ReLU → MaxPool2d 2, ceil (3, 4, 4)
#                 → Flatten (48) → Linear 48 → 2 scores ("O", "X")
# ```
#
# The two scores become probabilities through a softmax; `mg.nn.CrossEntropyLoss` combines
# softmax and log loss. `mg.optim.Adam` adjusts the weights.
#
# Run it as a script (`python tutorials/05_x_vs_o.py`) or cell by cell. Pictures go to
# `$MINIGRAD_TUTORIAL_OUT` (default `out/tutorials/05_x_vs_o`); `MINIGRAD_FAST=1` trains on
# less data for fewer epochs.

# %%
from collections import OrderedDict

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.data import XO_CLASSES, DataLoader, canonical_o, canonical_x, xo_features, xo_images
from minigrad.demo.notebook import FAST, out_dir, plt, save, show_matrix

OUT = out_dir("05_x_vs_o")
mg.manual_seed(0)

# %% [markdown]
# ## 1. Data: X's and O's that never look quite the same
#
# Pixels are +1 (stroke) and -1 (background), as in tutorial 02. Labels index `XO_CLASSES`:
# 0 is "O", 1 is "X". The test pictures come from a different seed: the network never sees
# them while training.

# %%
n_train, n_test = (100, 50) if FAST else (200, 100)
x_train, y_train = xo_images(n_per_class=n_train, seed=0)
x_test, y_test = xo_images(n_per_class=n_test, seed=1)
print("classes:", XO_CLASSES, " train", x_train.shape, " test", x_test.shape)

fig, axes = plt.subplots(2, 8, figsize=(12, 3.5))
for ax, img, label in zip(axes.ravel(), x_train, y_train):
    show_matrix(ax, img[0], XO_CLASSES[label], vmin=-1, vmax=1, numbers=False)
save(fig, OUT, "examples")

# %% [markdown]
# ## 2. The model
#
# `nn.Sequential` runs its layers in order; naming them (`conv1`, `pool1`...) names their
# parameters (`conv1.weight`) and the clusters of the graph drawings. `summary` runs a dummy
# batch and lists each layer's output shape and number of parameters.

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
summary = model.summary((1, 1, 9, 9))
assert summary.output_shape == (1, 2)
assert summary.total_params == 3 * 9 + 3 + 48 * 2 + 2

# %% [markdown]
# ## 3. Training
#
# The usual loop: for each mini-batch, forward, loss, `zero_grad`, `backward`, `step`.

# %%
loss_fn = nn.CrossEntropyLoss()
optimizer = mg.optim.Adam(model.parameters(), lr=0.02)
loader = DataLoader(x_train, y_train, batch_size=16, shuffle=True, seed=0)
epochs = 6 if FAST else 12
history = []
for epoch in range(1, epochs + 1):
    total, correct = 0.0, 0
    for xb, yb in loader:
        scores = model(mg.tensor(xb))
        loss = loss_fn(scores, mg.tensor(yb))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
        correct += int((scores.data.argmax(axis=1) == yb).sum())
    history.append(total / len(y_train))
    print(f"epoch {epoch:2d}: loss {history[-1]:.4f}, train accuracy {correct / len(y_train):.1%}")
assert history[-1] < history[0]

model.eval()
with mg.no_grad():
    test_scores = model(mg.tensor(x_test))
    probs = mg.ops.softmax(model(mg.tensor(np.stack([canonical_x(), canonical_o()])[:, None])))
accuracy = float((test_scores.data.argmax(axis=1) == y_test).mean())
print(f"test accuracy: {accuracy:.1%} on {len(y_test)} new pictures")
for name, p in zip(("clean X", "clean O"), probs.data):
    print(f"{name}: P(O) = {p[0]:.3f}, P(X) = {p[1]:.3f}")
assert accuracy >= (0.9 if FAST else 0.95)
assert probs.data[0].argmax() == XO_CLASSES.index("X") and probs.data[
    1
].argmax() == XO_CLASSES.index("O")
assert np.allclose(probs.data.sum(axis=1), 1.0, atol=1e-6)

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(range(1, epochs + 1), history, "o-")
ax.set_xlabel("epoch")
ax.set_ylabel("mean cross-entropy")
ax.set_title("X vs O: training")
save(fig, OUT, "loss_curve")

# %% [markdown]
# ## 4. The learned filters
#
# Each filter of `conv1` is a 3x3 grid of weights: red positive, blue negative. Nobody told
# the network about diagonals or crosses. We compare each filter to the hand-drawn features
# of tutorial 02 with the cosine similarity (1 = the same pattern, −1 = its negative, 0 =
# unrelated); the learned filters usually look like strokes and corners, but they need not
# match the hand-drawn ones: any filters that separate X's from O's will do.

# %%
learned = model.conv1.weight.data[:, 0]  # (3, 3, 3)
hand = xo_features()


def cosine(a, b):
    return float((a * b).sum() / (np.linalg.norm(a) * np.linalg.norm(b)))


for k, f in enumerate(learned):
    sims = {name: cosine(f, h) for name, h in hand.items()}
    best = max(sims, key=lambda n: abs(sims[n]))
    print(
        f"filter {k}: closest hand feature {best} (cosine {sims[best]:+.2f}), bias {model.conv1.bias.data[k]:+.2f}"
    )

limit = np.abs(learned).max()
fig, axes = plt.subplots(1, 6, figsize=(12, 2.4))
for k in range(3):
    show_matrix(axes[k], learned[k], f"learned filter {k}", cmap="RdBu_r", vmin=-limit, vmax=limit)
for ax, (name, h) in zip(axes[3:], hand.items()):
    show_matrix(ax, h, f"hand feature {name}", cmap="RdBu_r", vmin=-1, vmax=1, fmt="{:.0f}")
save(fig, OUT, "learned_filters")

# %% [markdown]
# ## 5. Feature maps
#
# Run a clean X and a clean O through the first layers and look at the maps: each filter
# lights up on different parts of the strokes, and pooling keeps the strongest responses.

# %%
with mg.no_grad():
    pictures = mg.tensor(np.stack([canonical_x(), canonical_o()])[:, None])
    maps = model.relu1(model.conv1(pictures))  # (2, 3, 7, 7)
    pooled = model.pool1(maps)  # (2, 3, 4, 4)
assert maps.shape == (2, 3, 7, 7) and pooled.shape == (2, 3, 4, 4)

fig, axes = plt.subplots(2, 7, figsize=(14, 4.4))
top = float(maps.data.max())
for row, name in enumerate(("X", "O")):
    show_matrix(
        axes[row, 0], pictures.data[row, 0], f"clean {name}", vmin=-1, vmax=1, numbers=False
    )
    for k in range(3):
        show_matrix(
            axes[row, 1 + k],
            maps.data[row, k],
            f"{name}: filter {k}",
            cmap="magma",
            vmin=0,
            vmax=top,
            numbers=False,
        )
        show_matrix(
            axes[row, 4 + k],
            pooled.data[row, k],
            f"{name}: pooled {k}",
            cmap="magma",
            vmin=0,
            vmax=top,
            numbers=False,
        )
save(fig, OUT, "feature_maps")

# %% [markdown]
# ## 6. Keep the trained model
#
# `mg.save` writes the parameters to a `.npz` file (plain arrays, no pickled code);
# `load_state_dict(mg.load(path))` puts them back into a model of the same shape.

# %%
path = OUT / "x_vs_o.npz"
mg.save(model, path)
copy = nn.Sequential(
    OrderedDict(
        [
            ("conv1", nn.Conv2d(1, 3, kernel_size=3)),
            ("relu1", nn.ReLU()),
            ("pool1", nn.MaxPool2d(2, ceil_mode=True)),
            ("flatten", nn.Flatten()),
            ("fc", nn.Linear(48, 2)),
        ]
    )
)
copy.load_state_dict(mg.load(path))
with mg.no_grad():
    assert np.allclose(copy(mg.tensor(x_test)).data, test_scores.data)
print("saved to", path, "and reloaded: same predictions")
