# %% [markdown]
# # 03 · Pooling and ReLU: shrinking and cleaning the maps
#
# After filtering (tutorial 02) a CNN has one map per feature, as large as the image. Two
# cheap steps follow:
#
# - **pooling** slides a window over each map and keeps one number per window: the maximum
#   (max pooling), the mean (average pooling) or the sum. The map shrinks, and a feature
#   that moves by a pixel still lands in the same window.
# - **ReLU** (rectified linear unit) replaces every negative value by 0.
#
# Stacked as conv → ReLU → pool, again and again, the maps get smaller and more abstract.
# Every number below is checked against a plain numpy computation.
#
# Run it as a script (`python tutorials/03_pooling_and_relu.py`) or cell by cell. Pictures
# go to `$MINIGRAD_TUTORIAL_OUT` (default `out/tutorials/03_pooling_and_relu`).

# %%
import math

import numpy as np

import minigrad as mg
from minigrad.data import canonical_x, xo_features, xo_images
from minigrad.demo.notebook import out_dir, plt, save, show_matrix

OUT = out_dir("03_pooling_and_relu")

features = xo_features()
weights = mg.tensor(np.stack(list(features.values()))[:, None] / 9)  # (3, 1, 3, 3)
maps = mg.ops.conv2d(mg.tensor(canonical_x()[None, None]), weights)  # (1, 3, 7, 7)
fmap = maps.data[0, 0]  # where the falling diagonal "\" occurs
print("map of \\ (7x7):\n", np.round(fmap, 2) + 0.0)  # + 0.0 prints -0. as 0.


def pool_by_hand(a, k, s, reduce, ceil_mode=False):
    """Pool a 2-D array with a k x k window and stride s; partial windows are clipped."""
    h, w = a.shape
    rounding = math.ceil if ceil_mode else math.floor
    oh, ow = rounding((h - k) / s) + 1, rounding((w - k) / s) + 1
    out = np.zeros((oh, ow), dtype=a.dtype)
    for i in range(oh):
        for j in range(ow):
            out[i, j] = reduce(a[i * s : i * s + k, j * s : j * s + k])
    return out


# %% [markdown]
# ## 1. Max pooling: window 2, stride 2
#
# A 2x2 window stepping by 2 keeps the largest value of each window. A 7x7 map does not
# tile into 2x2 windows: the last row and column are left over. With `ceil_mode=True` they
# form partial windows (the explainer's choice: 7x7 → 4x4); by default they are dropped
# (7x7 → 3x3).

# %%
pooled_ceil = mg.ops.max_pool2d(maps, kernel_size=2, stride=2, ceil_mode=True)
pooled = mg.ops.max_pool2d(maps, kernel_size=2, stride=2)
print("ceil_mode=True :", pooled_ceil.shape, "\n", np.round(pooled_ceil.data[0, 0], 2) + 0.0)
print("ceil_mode=False:", pooled.shape, "\n", np.round(pooled.data[0, 0], 2) + 0.0)
assert pooled_ceil.shape == (1, 3, 4, 4) and pooled.shape == (1, 3, 3, 3)
assert np.array_equal(pooled_ceil.data[0, 0], pool_by_hand(fmap, 2, 2, np.max, ceil_mode=True))
assert np.array_equal(pooled.data[0, 0], pooled_ceil.data[0, 0, :3, :3])  # full windows agree
# the diagonal survives pooling: every window on the stroke keeps its 1.00
assert np.allclose(np.diag(pooled_ceil.data[0, 0])[:3], 1.0)

# %% [markdown]
# ## 2. Average and sum pooling
#
# Average pooling keeps the mean of each window, sum pooling the total; for full 2x2
# windows the sum is 4 times the mean. In a partial window (`ceil_mode=True`) the average
# divides by the number of cells that exist, as in PyTorch.

# %%
avg = mg.ops.avg_pool2d(maps, kernel_size=2)
total = mg.ops.sum_pool2d(maps, kernel_size=2)
avg_ceil = mg.ops.avg_pool2d(maps, kernel_size=2, ceil_mode=True)
print(
    "average:\n", np.round(avg.data[0, 0], 2) + 0.0, "\nsum:\n", np.round(total.data[0, 0], 2) + 0.0
)
assert np.allclose(avg.data[0, 0], pool_by_hand(fmap, 2, 2, np.mean), atol=1e-6)
assert np.allclose(total.data[0, 0], pool_by_hand(fmap, 2, 2, np.sum), atol=1e-6)
assert np.allclose(total.data, 4 * avg.data, atol=1e-6)
assert np.allclose(
    avg_ceil.data[0, 0], pool_by_hand(fmap, 2, 2, np.mean, ceil_mode=True), atol=1e-6
)
print(f"bottom-right partial window (1 cell): {avg_ceil.data[0, 0, 3, 3]:.2f} = {fmap[6, 6]:.2f}")

# %% [markdown]
# ## 3. Window and stride
#
# Window and stride are independent. A 3x3 window with stride 1 overlaps its neighbours and
# shrinks the map by only 2 (output size = floor((H − K) / S) + 1, rounded up with
# `ceil_mode=True`).

# %%
for k, s in [(2, 2), (3, 1), (3, 2), (7, 1)]:
    out = mg.ops.max_pool2d(maps, kernel_size=k, stride=s)
    expected = (7 - k) // s + 1
    print(
        f"window {k}, stride {s}: 7x7 -> {out.shape[2]}x{out.shape[3]}  (formula: (7 - {k}) // {s} + 1 = {expected})"
    )
    assert out.shape[2:] == (expected, expected)
    assert np.array_equal(out.data[0, 0], pool_by_hand(fmap, k, s, np.max))

# %% [markdown]
# ## 4. Global pooling
#
# Global pooling uses one window as large as the map: each map becomes a single number,
# `(N, C, H, W) → (N, C)`. Global max pooling answers "does the feature occur anywhere?".

# %%
gmax = mg.ops.global_max_pool2d(maps)
gavg = mg.ops.global_avg_pool2d(maps)
print("global max:", np.round(gmax.data, 2), " global average:", np.round(gavg.data, 2))
assert gmax.shape == (1, 3) and gavg.shape == (1, 3)
assert np.allclose(gmax.data[0], maps.data[0].max(axis=(1, 2)))
assert np.allclose(gavg.data[0], maps.data[0].mean(axis=(1, 2)), atol=1e-6)
assert np.allclose(gmax.data, 1.0, atol=1e-6)  # each of the three features occurs in the X

fig, axes = plt.subplots(1, 5, figsize=(15, 3.3))
show_matrix(axes[0], fmap, "map of \\ (7x7)", cmap="RdBu_r", vmin=-1, vmax=1)
show_matrix(
    axes[1], pooled_ceil.data[0, 0], "max pool 2, ceil (4x4)", cmap="RdBu_r", vmin=-1, vmax=1
)
show_matrix(axes[2], pooled.data[0, 0], "max pool 2 (3x3)", cmap="RdBu_r", vmin=-1, vmax=1)
show_matrix(axes[3], avg.data[0, 0], "average pool 2 (3x3)", cmap="RdBu_r", vmin=-1, vmax=1)
show_matrix(axes[4], total.data[0, 0], "sum pool 2 (3x3)", cmap="RdBu_r", vmin=-4, vmax=4)
save(fig, OUT, "pooling")

# %% [markdown]
# ## 5. ReLU
#
# ReLU keeps positive values and sets negative ones to 0: `relu(x) = max(x, 0)`. On a match
# map it removes "anti-matches" and keeps where the feature is (partly) present.

# %%
rectified = mg.ops.relu(maps)
negatives = int((maps.data < 0).sum())
print(f"{negatives} of {maps.size} values were negative; after ReLU:")
print(np.round(rectified.data[0, 0], 2))
assert np.array_equal(rectified.data, np.maximum(maps.data, 0))
assert (rectified.data >= 0).all() and int((rectified.data == 0).sum()) >= negatives

fig, axes = plt.subplots(1, 2, figsize=(6.5, 3.3))
show_matrix(axes[0], fmap, "before ReLU", cmap="RdBu_r", vmin=-1, vmax=1)
show_matrix(axes[1], rectified.data[0, 0], "after ReLU", cmap="RdBu_r", vmin=-1, vmax=1)
save(fig, OUT, "relu")

# %% [markdown]
# ## 6. Deep stacking: conv → ReLU → pool, repeated
#
# Each stage filters, rectifies and pools. The explainer's 9x9 X goes 9x9 → 7x7 (conv) →
# 4x4 (pool) → 2x2 (conv) → 1x1 (pool). Here the later stages use the same three features,
# each on its own channel, so the numbers stay easy to read; in a trained CNN the later
# filters combine the channels in learned ways.

# %%
per_channel = np.zeros((3, 3, 3, 3), dtype=np.float32)  # filter k looks at channel k only
for k, f in enumerate(features.values()):
    per_channel[k, k] = f / 9
layer_weights = [weights, mg.tensor(per_channel), mg.tensor(per_channel)]


def stage(x, w):
    """One conv -> ReLU -> max pool (2x2, ceil mode) stage; returns every intermediate map."""
    c = mg.ops.conv2d(x, w)
    r = mg.ops.relu(c)
    return c, r, mg.ops.max_pool2d(r, kernel_size=2, ceil_mode=True)


x = mg.tensor(canonical_x()[None, None])
shapes = [x.shape]
for w in layer_weights[:2]:
    c, r, x = stage(x, w)
    shapes += [c.shape, x.shape]
print(" -> ".join(f"{s[2]}x{s[3]}" for s in shapes), "; final values:", np.round(x.data.ravel(), 2))
assert [s[2:] for s in shapes] == [(9, 9), (7, 7), (4, 4), (2, 2), (1, 1)]

# A larger X (27x27) goes through three stages: the maps shrink 27 -> 25 -> 13 -> 11 -> 6 -> 4 -> 2.
big = xo_images(n_per_class=1, size=27, variants=False)
big_x = big[0][big[1] == 1]  # (1, 1, 27, 27)
x = mg.tensor(big_x)
stages = [("input", x.data[0, 0])]
sizes = [27]
for n, w in enumerate(layer_weights, start=1):
    c, r, x = stage(x, w)
    stages += [
        (f"conv{n}+ReLU, {r.shape[2]}x{r.shape[3]}", r.data[0, 0]),
        (f"pool{n}, {x.shape[2]}x{x.shape[3]}", x.data[0, 0]),
    ]
    sizes += [r.shape[2], x.shape[2]]
print("27x27 X, map sizes:", " -> ".join(map(str, sizes)))
for title, a in stages[-3:]:  # the small maps of the last stage, numbers as in the figure
    print(f"{title}:\n{np.round(a, 2) + 0.0}")
assert sizes == [27, 25, 13, 11, 6, 4, 2]

fig, axes = plt.subplots(1, len(stages), figsize=(2.2 * len(stages), 2.6))
for ax, (title, a) in zip(axes, stages):
    show_matrix(ax, a, title, cmap="gray" if title == "input" else "magma", numbers=a.size <= 16)
fig.suptitle("the map of the feature \\ through three conv → ReLU → pool stages")
save(fig, OUT, "deep_stacking")
