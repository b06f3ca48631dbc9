# %% [markdown]
# # 02 · Matching features: how a CNN sees an X
#
# The classic explainer asks: is this picture an X or an O? Comparing whole pictures pixel by
# pixel fails as soon as the X is shifted, thicker or turned. A CNN compares **small pieces**
# instead, the **features**, and asks at every position "how well does this piece match?".
#
# 1. images with pixels +1 (stroke) and -1 (background);
# 2. the three 3x3 features of an X: two diagonals and a small cross;
# 3. filtering as "multiply, add, divide by the number of pixels": a perfect match scores
#    1.00, a 7-of-9 match 0.55;
# 4. the map of where each feature occurs: a convolution, divided by 9;
# 5. the same features on an O.
#
# Run it as a script (`python tutorials/02_matching_features.py`) or cell by cell. Pictures
# go to `$MINIGRAD_TUTORIAL_OUT` (default `out/tutorials/02_matching_features`).

# %%
import numpy as np

import minigrad as mg
from minigrad.data import canonical_o, canonical_x, match_map, match_score, xo_features
from minigrad.demo.notebook import out_dir, plt, save, show_matrix

OUT = out_dir("02_matching_features")

# %% [markdown]
# ## 1. Pictures made of +1 and -1
#
# The 9x9 X has two diagonals of +1 on a background of -1 (and a one-pixel border). With
# +1/-1 pixels, multiplying two pixels gives +1 when they agree and -1 when they differ:
# that is what makes the matching below so simple.

# %%
X, O = canonical_x(), canonical_o()
print("the X (# = +1, . = -1):")
print("\n".join("".join("#" if v > 0 else "." for v in row) for row in X))
assert X.shape == (9, 9) and set(np.unique(X)) == {-1.0, 1.0}

# %% [markdown]
# ## 2. Three features
#
# Pieces of the X: the falling diagonal `\`, the rising diagonal `/`, and the small cross
# `x` where the strokes meet.

# %%
features = xo_features()
for name, f in features.items():
    print(f"feature {name}:\n{f.astype(int)}")

fig, axes = plt.subplots(1, 5, figsize=(12, 2.8))
show_matrix(axes[0], X, "X (9x9)", vmin=-1, vmax=1, numbers=False)
show_matrix(axes[1], O, "O (9x9)", vmin=-1, vmax=1, numbers=False)
for ax, (name, f) in zip(axes[2:], features.items()):
    show_matrix(ax, f, f"feature {name}", vmin=-1, vmax=1, fmt="{:.0f}")
save(fig, OUT, "images_and_features")

# %% [markdown]
# ## 3. Filtering: multiply, add, divide
#
# Put a feature on a 3x3 patch of the image. Multiply each pixel of the patch by the pixel
# of the feature under it, add the nine products, and divide by 9. Agreeing pixels add +1,
# differing ones -1, so the score is 1 for a perfect match, -1 for a perfect mismatch.
#
# At row 1, column 1 the falling diagonal of the X matches the feature `\` perfectly:

# %%
diag = features["\\"]
perfect_patch = X[1:4, 1:4]
products = perfect_patch * diag
score = match_score(perfect_patch, diag)
print("patch:\n", perfect_patch.astype(int), "\nproducts:\n", products.astype(int))
print(f"sum {products.sum():.0f} / 9 = {score:.2f}")
assert score == 1.0

# %% [markdown]
# At the centre of the X (rows 3-5, columns 3-5) the two strokes cross, so the same feature
# agrees at 7 pixels and differs at 2: (7 − 2) / 9 = 5/9 = 0.5555…, which we round to
# **0.56** (some explainers cut it to .55). Every number in this tutorial, printed or in a
# figure, is rounded the same way: to two decimals.

# %%
centre_patch = X[3:6, 3:6]
centre_products = centre_patch * diag
centre = match_score(centre_patch, diag)
agree = int((centre_products > 0).sum())
print("patch:\n", centre_patch.astype(int), "\nproducts:\n", centre_products.astype(int))
print(f"{agree} of 9 agree: ({agree} - {9 - agree}) / 9 = {centre:.4f}, rounded {centre:.2f}")
assert agree == 7 and abs(centre - 5 / 9) < 1e-6
assert f"{centre:.2f}" == "0.56"

fig, axes = plt.subplots(2, 3, figsize=(8, 5.5))
for row, (patch, prods, s, where) in enumerate(
    [
        (perfect_patch, products, score, "rows 1-3, cols 1-3"),
        (centre_patch, centre_products, centre, "rows 3-5, cols 3-5"),
    ]
):
    show_matrix(axes[row, 0], patch, f"patch ({where})", vmin=-1, vmax=1, fmt="{:.0f}")
    show_matrix(axes[row, 1], diag, "feature \\", vmin=-1, vmax=1, fmt="{:.0f}")
    show_matrix(
        axes[row, 2],
        prods,
        f"products: sum/9 = {s:.2f}",
        cmap="RdBu_r",
        vmin=-1,
        vmax=1,
        fmt="{:.0f}",
    )
save(fig, OUT, "multiply_add_divide")

# %% [markdown]
# ## 4. Where does each feature occur? A convolution
#
# Doing this at every position gives a 7x7 **map** per feature: high where the feature is
# present. Moving a filter over an image and taking weighted sums is exactly `conv2d`; we
# stack the three features as three filters (weight shape `(3, 1, 3, 3)`) and divide the
# result by 9.

# %%
weights = mg.tensor(np.stack(list(features.values()))[:, None] / 9)  # (3, 1, 3, 3)
image = mg.tensor(X[None, None])  # (1, 1, 9, 9)
maps = mg.ops.conv2d(image, weights)  # (1, 3, 7, 7)
print("maps:", maps.shape)
for k, (name, f) in enumerate(features.items()):
    print(f"map of {name}:\n{np.round(maps.data[0, k], 2) + 0.0}")  # + 0.0: no -0.
    assert np.allclose(maps.data[0, k], match_map(X, f), atol=1e-6)

falling = maps.data[0, 0]
# along the falling stroke: 1.00 everywhere but at the corners (7/9) and the crossing (5/9)
print("diagonal of the \\ map:", np.round(np.diag(falling), 2))
assert np.allclose(np.diag(falling), [7 / 9, 1, 1, 5 / 9, 1, 1, 7 / 9], atol=1e-6)
assert np.isclose(maps.data[0, 2, 3, 3], 1.0)  # the cross sits at the centre

# %% [markdown]
# The diagonal maps light up along the strokes, the cross map at the centre. These maps are
# what the first layer of a CNN produces; the next tutorials shrink them (pooling), clean them
# (ReLU) and learn the features instead of drawing them by hand.

# %%
o_maps = mg.ops.conv2d(mg.tensor(O[None, None]), weights).data[0]
print(
    f"best match of the cross x: on the X {maps.data[0, 2].max():.2f}, on the O {o_maps[2].max():.2f}"
)
assert np.isclose(maps.data[0, 2].max(), 1.0) and o_maps[2].max() < 0.6

fig, axes = plt.subplots(2, 4, figsize=(12, 6))
for row, (title, img, m) in enumerate([("X", X, maps.data[0]), ("O", O, o_maps)]):
    show_matrix(axes[row, 0], img, title, vmin=-1, vmax=1, numbers=False)
    for k, name in enumerate(features):
        show_matrix(
            axes[row, k + 1],
            m[k],
            f"{title}: map of {name}",
            cmap="RdBu_r",
            vmin=-1,
            vmax=1,
        )
save(fig, OUT, "feature_maps")
