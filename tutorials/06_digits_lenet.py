# %% [markdown]
# # 06 · Handwritten digits with a LeNet-style CNN
#
# The explainers end with handwritten digits: ten classes instead of two, and shapes far more
# varied than an X. We use the 1,797 digits of 8x8 pixels that ship inside scikit-learn (no
# download) and a small network in the spirit of LeCun's LeNet: two convolution stages, then
# dense layers.
#
# ```
# image (1, 8, 8)
#  → conv 3x3, 16 filters, padding 1 → ReLU → max pool 2    (16, 4, 4)
#  → conv 3x3, 32 filters, padding 1 → ReLU → max pool 2    (32, 2, 2)
#  → flatten (128) → dense 128 → ReLU → dense 10             10 scores, one per digit
# ```
#
# **Softmax** turns the 10 scores into probabilities that sum to 1; the **cross-entropy**
# loss is −log of the probability given to the right digit. Adam trains the network, with a
# learning rate that decays along a half cosine.
#
# Run it as a script (`python tutorials/06_digits_lenet.py`) or cell by cell. Pictures go to
# `$MINIGRAD_TUTORIAL_OUT` (default `out/tutorials/06_digits_lenet`). `MINIGRAD_FAST=1` trains
# for 4 epochs only (about 90 % accuracy instead of 97 % or more).

# %%
import math
import time
from collections import OrderedDict

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.data import DataLoader, load_digits
from minigrad.demo.notebook import FAST, out_dir, plt, save, show_matrix

OUT = out_dir("06_digits_lenet")
mg.manual_seed(0)

# %% [markdown]
# ## 1. The digits
#
# `load_digits` scales the pixels to [0, 1] and splits the images, digit by digit, into 80 %
# for training and 20 % for testing.

# %%
x_train, y_train, x_test, y_test = load_digits(test_fraction=0.2, seed=0)
print(
    "train", x_train.shape, "test", x_test.shape, "digits per class in test:", np.bincount(y_test)
)
assert x_train.shape[1:] == (1, 8, 8) and set(np.unique(y_train)) == set(range(10))

fig, axes = plt.subplots(2, 10, figsize=(12, 2.8))
for ax, img, label in zip(axes.ravel(), x_train, y_train):
    show_matrix(ax, img[0], str(label), cmap="gray_r", vmin=0, vmax=1, numbers=False)
save(fig, OUT, "examples")

# %% [markdown]
# ## 2. The network

# %%
model = nn.Sequential(
    OrderedDict(
        [
            ("conv1", nn.Conv2d(1, 16, kernel_size=3, padding=1)),  # (N, 16, 8, 8)
            ("relu1", nn.ReLU()),
            ("pool1", nn.MaxPool2d(2)),  # (N, 16, 4, 4)
            ("conv2", nn.Conv2d(16, 32, kernel_size=3, padding=1)),  # (N, 32, 4, 4)
            ("relu2", nn.ReLU()),
            ("pool2", nn.MaxPool2d(2)),  # (N, 32, 2, 2)
            ("flatten", nn.Flatten()),  # (N, 128)
            ("fc1", nn.Linear(128, 128)),
            ("relu3", nn.ReLU()),
            ("fc2", nn.Linear(128, 10)),  # 10 scores
        ]
    )
)
summary = model.summary((1, 1, 8, 8))
assert summary.output_shape == (1, 10)

# %% [markdown]
# ## 3. Softmax and cross-entropy
#
# For scores s, softmax gives p_k = exp(s_k) / Σ exp(s_j). Before training the scores are
# small and the probabilities close to 1/10, so the loss is close to −log(1/10) = 2.30.

# %%
with mg.no_grad():
    scores = model(mg.tensor(x_train[:64]))
    p = mg.ops.softmax(scores, axis=-1)
    start_loss = mg.ops.cross_entropy(scores, mg.tensor(y_train[:64])).item()
print("probabilities of the first image:", np.round(p.data[0], 3))
print(f"loss before training {start_loss:.3f}  (-log(1/10) = {math.log(10):.3f})")
assert np.allclose(p.data.sum(axis=1), 1.0, atol=1e-5)
assert abs(start_loss - math.log(10)) < 0.3

# %% [markdown]
# ## 4. Training

# %%
epochs, lr = (4, 0.005) if FAST else (40, 0.002)
loss_fn = nn.CrossEntropyLoss()
optimizer = mg.optim.Adam(model.parameters(), lr=lr)
loader = DataLoader(x_train, y_train, batch_size=16, shuffle=True, seed=0)
history = []
started = time.perf_counter()
for epoch in range(1, epochs + 1):
    optimizer.lr = lr * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / epochs))  # cosine decay
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
    if epoch == 1 or epoch % 5 == 0 or epoch == epochs:
        print(
            f"epoch {epoch:2d}: loss {history[-1]:.4f}, train accuracy {correct / len(y_train):.1%}"
        )
print(f"trained in {time.perf_counter() - started:.1f} s")
assert history[-1] < history[0]

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(range(1, epochs + 1), history, "o-")
ax.set_xlabel("epoch")
ax.set_ylabel("mean cross-entropy")
ax.set_yscale("log")
ax.set_title("digits: training")
save(fig, OUT, "loss_curve")

# %% [markdown]
# ## 5. Test accuracy and the confusion matrix
#
# Row i, column j of the confusion matrix counts the test images of digit i that the network
# called j: the diagonal holds the correct answers.

# %%
model.eval()
with mg.no_grad():
    test_probs = mg.ops.softmax(model(mg.tensor(x_test)), axis=-1).data
predicted = test_probs.argmax(axis=1)
accuracy = float((predicted == y_test).mean())
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (y_test, predicted), 1)
print(
    f"test accuracy {accuracy:.2%} ({int((predicted != y_test).sum())} mistakes on {len(y_test)} images)"
)
print(confusion)
assert accuracy > 0.8 if FAST else accuracy >= 0.97
assert confusion.sum() == len(y_test) and np.trace(confusion) == int((predicted == y_test).sum())

fig, ax = plt.subplots(figsize=(5.5, 5))
ax.imshow(confusion, cmap="Blues")
for (i, j), v in np.ndenumerate(confusion):
    if v:
        ax.text(
            j,
            i,
            v,
            ha="center",
            va="center",
            fontsize=8,
            color="white" if v > confusion.max() / 2 else "black",
        )
ax.set_xticks(range(10))
ax.set_yticks(range(10))
ax.set_xlabel("predicted")
ax.set_ylabel("true")
ax.set_title(f"confusion matrix, test accuracy {accuracy:.1%}")
save(fig, OUT, "confusion_matrix")

# %% [markdown]
# The mistakes, with the probability the network gave to its (wrong) answer:

# %%
wrong = np.flatnonzero(predicted != y_test)[:10]
fig, axes = plt.subplots(
    1, max(len(wrong), 1), figsize=(1.3 * max(len(wrong), 1) + 0.5, 1.9), squeeze=False
)
for ax, i in zip(axes[0], wrong):
    show_matrix(
        ax,
        x_test[i, 0],
        f"{y_test[i]} → {predicted[i]} ({test_probs[i].max():.0%})",
        cmap="gray_r",
        numbers=False,
    )
if not len(wrong):
    axes[0, 0].axis("off")
save(fig, OUT, "mistakes")

# %% [markdown]
# ## 6. What the first layer learned
#
# The 16 filters of `conv1`: strokes and edges at different angles, learned from the data.

# %%
w = model.conv1.weight.data[:, 0]
limit = np.abs(w).max()
fig, axes = plt.subplots(2, 8, figsize=(10, 2.8))
for k, ax in enumerate(axes.ravel()):
    show_matrix(ax, w[k], f"filter {k}", cmap="RdBu_r", vmin=-limit, vmax=limit, numbers=False)
save(fig, OUT, "filters")
