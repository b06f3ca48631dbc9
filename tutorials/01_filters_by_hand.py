# %% [markdown]
# # 01 · Filters by hand: what a convolution computes
#
# A convolutional layer slides a small grid of weights, the **filter** (or kernel), over an
# image. At every position it multiplies the pixels under the filter by the filter's weights
# and adds the products up: one **weighted sum** per position. This tutorial works through
# the worked examples of the CNN explainers with `mg.ops.conv2d`, and checks every number:
#
# 1. one weighted sum, by hand (3.3);
# 2. a 5x5 image and a 3x3 filter, giving a 3x3 feature map;
# 3. padding ("valid" vs zero/"same") and stride, and the output-size formula;
# 4. several input channels: one kernel slice per channel, summed, plus a bias;
# 5. classic filters (blur, edges) on a real photo.
#
# Run it as a script (`python tutorials/01_filters_by_hand.py`) or cell by cell in
# Jupyter/VS Code. Pictures go to `$MINIGRAD_TUTORIAL_OUT`
# (default `out/tutorials/01_filters_by_hand`).

# %%
from decimal import Decimal

import numpy as np

import minigrad as mg
from minigrad.demo.notebook import FAST, out_dir, plt, save, show_matrix

OUT = out_dir("01_filters_by_hand")

# %% [markdown]
# ## 1. One weighted sum
#
# Take a 3x3 patch of a grey image (0 = black, 1 = white) and a 3x3 filter. The filter
# below weighs the left column positively and the right column negatively (twice as much in
# the middle row): it answers "is it brighter on the left than on the right?", a vertical
# edge detector. Multiply elementwise, then add the nine products.

# %%
patch = np.array([[0.8, 0.5, 0.1], [0.9, 0.4, 0.0], [0.9, 0.3, 0.1]])
filt = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])

terms = [
    f"{p:g}·{w:g}" if w >= 0 else f"{p:g}·({w:g})" for p, w in zip(patch.ravel(), filt.ravel())
]
products = patch * filt
total = float(products.sum())
print(" + ".join(terms))
print("products:\n", products)
print(f"sum = {total:.1f}")

# the same sum in exact decimal arithmetic: no rounding at all
exact = sum(Decimal(str(p)) * Decimal(str(w)) for p, w in zip(patch.ravel(), filt.ravel()))
print("exact:", exact)
assert exact == Decimal("3.3")
assert abs(total - 3.3) < 1e-12

# %% [markdown]
# `mg.ops.conv2d` does exactly this at every position. Its inputs are 4-D, in the NCHW layout
# every framework uses: images `(N, C, H, W)` (batch, channels, height, width) and weights
# `(out_channels, in_channels, kh, kw)`. A 3x3 image with a 3x3 filter has one position only:

# %%
x = mg.tensor(patch[None, None])  # (1, 1, 3, 3): float64 arrays stay float64
w = mg.tensor(filt[None, None])  # (1, 1, 3, 3)
y = mg.ops.conv2d(x, w)
print("conv2d output shape", y.shape, "value", y.item())
assert y.shape == (1, 1, 1, 1) and abs(y.item() - 3.3) < 1e-12

# %% [markdown]
# ## 2. Sliding the filter over an image
#
# The classic example: a 5x5 binary image and a 3x3 filter shaped like an X. The filter fits
# in 3 x 3 = 9 positions, so the output, the **feature map**, is 3x3. Each entry counts how
# many of the filter's five 1s land on a 1 of the image.

# %%
image = np.array(
    [
        [1, 1, 1, 0, 0],
        [0, 1, 1, 1, 0],
        [0, 0, 1, 1, 1],
        [0, 0, 1, 1, 0],
        [0, 1, 1, 0, 0],
    ],
    dtype=np.float32,
)
kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=np.float32)


def by_hand(img, k, stride=1):
    """The weighted sum at every position, with two Python loops (valid padding)."""
    kh, kw = k.shape
    oh = (img.shape[0] - kh) // stride + 1
    ow = (img.shape[1] - kw) // stride + 1
    out = np.zeros((oh, ow), dtype=np.float32)
    for i in range(oh):
        for j in range(ow):
            window = img[i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[i, j] = (window * k).sum()
    return out


img_t = mg.tensor(image[None, None])  # (1, 1, 5, 5)
k_t = mg.tensor(kernel[None, None])  # (1, 1, 3, 3)
fmap = mg.ops.conv2d(img_t, k_t).data[0, 0]
print("feature map (valid):\n", fmap)
print("top-left by hand: 1·1 + 1·0 + 1·1 + 0·0 + 1·1 + 1·0 + 0·1 + 0·0 + 1·1 =", fmap[0, 0])
assert fmap.tolist() == [[4, 3, 4], [2, 4, 3], [2, 3, 4]]
assert np.array_equal(fmap, by_hand(image, kernel))

fig, axes = plt.subplots(1, 3, figsize=(8, 3))
show_matrix(axes[0], image, "image (5x5)", fmt="{:.0f}")
show_matrix(axes[1], kernel, "filter (3x3)", fmt="{:.0f}")
show_matrix(axes[2], fmap, "feature map (3x3)", cmap="magma", fmt="{:.0f}")
save(fig, OUT, "convolution_5x5")

# %% [markdown]
# ## 3. Padding and stride
#
# Without padding ("valid") the map is smaller than the image: a KxK filter loses K - 1
# rows and columns. **Zero padding** adds a border of zeros first; with a 3x3 filter one
# pixel of padding on each side keeps the size ("same" padding). The **stride** is the step
# between positions: stride 2 visits every other position. In general, for input size H,
# filter K, padding P and stride S:
#
# &nbsp;&nbsp;&nbsp;&nbsp; output size = floor((H + 2P − K) / S) + 1


# %%
def out_size(h, k, p, s):
    return (h + 2 * p - k) // s + 1


cases = {
    "valid, stride 1": dict(padding=0, stride=1),
    "same (zero padding 1), stride 1": dict(padding="same", stride=1),
    "valid, stride 2": dict(padding=0, stride=2),
    "padding 1, stride 2": dict(padding=1, stride=2),
}
maps = {}
for title, attrs in cases.items():
    m = mg.ops.conv2d(img_t, k_t, **attrs).data[0, 0]
    p = 1 if attrs["padding"] in (1, "same") else 0
    expected = out_size(5, 3, p, attrs["stride"])
    print(
        f"{title:34s} -> {m.shape}   formula: ({5} + 2·{p} − 3) // {attrs['stride']} + 1 = {expected}"
    )
    assert m.shape == (expected, expected)
    # zero padding is the same as padding the image with zeros by hand
    assert np.array_equal(m, by_hand(np.pad(image, p), kernel, attrs["stride"]))
    maps[title] = m

same = maps["same (zero padding 1), stride 1"]
print("same padding:\n", same)
assert np.array_equal(same[1:-1, 1:-1], fmap)  # the inner part is the valid map
assert np.array_equal(maps["valid, stride 2"], fmap[::2, ::2])  # stride 2 keeps every other one

fig, axes = plt.subplots(1, 4, figsize=(12, 3.2))
for ax, (title, m) in zip(axes, maps.items()):
    show_matrix(
        ax, m, f"{title}\n{m.shape[0]}x{m.shape[1]}", cmap="magma", vmin=0, vmax=5, fmt="{:.0f}"
    )
save(fig, OUT, "padding_and_stride")

# %% [markdown]
# ## 4. Several input channels, several filters, and the bias
#
# A colour image has 3 channels (red, green, blue); the feature maps of a layer become the
# channels of the next one. A filter then has **one 3x3 slice per input channel**: each slice
# is slid over its own channel, the per-channel sums are **added together**, and the filter's
# **bias** is added once. Each filter gives one output channel, so a weight of shape
# `(2, 3, 3, 3)` (2 filters, 3 input channels) turns a `(1, 3, 4, 4)` input into a
# `(1, 2, 2, 2)` output.

# %%
rng = np.random.default_rng(1)
x3 = rng.integers(0, 3, size=(1, 3, 4, 4)).astype(np.float32)  # small whole numbers
w3 = rng.integers(-1, 2, size=(2, 3, 3, 3)).astype(np.float32)
b3 = np.array([1.0, 0.0], dtype=np.float32)
y3 = mg.ops.conv2d(mg.tensor(x3), mg.tensor(w3), mg.tensor(b3)).data
print("input", x3.shape, "weight", w3.shape, "bias", b3.shape, "-> output", y3.shape)

per_channel = [float((x3[0, c, :3, :3] * w3[0, c]).sum()) for c in range(3)]
top_left = sum(per_channel) + b3[0]
print(
    "filter 0, top-left: "
    + " + ".join(f"{s:g} (channel {c})" for c, s in enumerate(per_channel))
    + f" + {b3[0]:g} (bias) = {top_left:g}"
)
assert y3[0, 0, 0, 0] == top_left
# every output: the sum over channels of single-channel convolutions, plus the bias
for o in range(2):
    manual = sum(by_hand(x3[0, c], w3[o, c]) for c in range(3)) + b3[o]
    assert np.array_equal(y3[0, o], manual)
print("output channel 0:\n", y3[0, 0], "\noutput channel 1:\n", y3[0, 1])

fig, axes = plt.subplots(2, 4, figsize=(10, 5))
for c in range(3):
    show_matrix(axes[0, c], x3[0, c], f"input channel {c}", vmin=0, vmax=2, fmt="{:.0f}")
    show_matrix(
        axes[1, c], w3[0, c], f"filter 0, slice {c}", cmap="RdBu_r", vmin=-1, vmax=1, fmt="{:.0f}"
    )
show_matrix(
    axes[0, 3], y3[0, 0], "output 0 (+ bias 1)", cmap="RdBu_r", vmin=-8, vmax=8, fmt="{:.0f}"
)
axes[1, 3].axis("off")
save(fig, OUT, "multichannel")

# %% [markdown]
# ## 5. Filters on a real photo
#
# Two classic hand-made filters:
#
# - **blur** `[[0,1,0],[1,1,1],[0,1,0]] / 5`: each pixel becomes the mean of itself and its
#   four neighbours. Its weights sum to 1, so flat regions keep their brightness.
# - **edges** `[[0,1,0],[1,-4,1],[0,1,0]]` (a Laplacian): the neighbours minus four times the
#   centre. Its weights sum to 0, so flat regions give 0 and only changes light up.
#
# The photo ships inside scikit-learn (no download). We turn it grey and make it 4 times
# smaller with an average pooling (tutorial 03 explains pooling), then filter it with "same"
# padding.

# %%
try:
    from sklearn.datasets import load_sample_image
except ImportError as err:
    raise SystemExit(
        'This part needs scikit-learn for its sample photo: pip install "minigrad-cnn[digits]"'
    ) from err

rgb = load_sample_image("china.jpg").astype(np.float32) / 255.0  # (427, 640, 3)
grey = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # (427, 640)
factor = 8 if FAST else 4
photo = mg.ops.avg_pool2d(mg.tensor(grey[None, None]), kernel_size=factor)  # (1, 1, H/f, W/f)
print("photo", rgb.shape, "-> grey", grey.shape, "-> downscaled", photo.shape)

blur = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=np.float32) / 5
edge = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float32)
blurred = photo
for _ in range(3):  # three passes: a stronger blur
    blurred = mg.ops.conv2d(blurred, mg.tensor(blur[None, None]), padding="same")
edges = mg.ops.conv2d(photo, mg.tensor(edge[None, None]), padding="same")
p, bl, ed = photo.data[0, 0], blurred.data[0, 0], edges.data[0, 0]

flat = mg.ones(1, 1, 5, 5)
print("blur of a flat image:", mg.ops.conv2d(flat, mg.tensor(blur[None, None])).data.ravel()[:3])
print("edges of a flat image:", mg.ops.conv2d(flat, mg.tensor(edge[None, None])).data.ravel()[:3])
print(f"pixel standard deviation: photo {p.std():.4f}, blurred {bl.std():.4f}")
print(f"mean |edge response|: {np.abs(ed[1:-1, 1:-1]).mean():.4f}")
assert np.allclose(mg.ops.conv2d(flat, mg.tensor(blur[None, None])).data, 1.0)
assert np.allclose(mg.ops.conv2d(flat, mg.tensor(edge[None, None])).data, 0.0)
assert bl.shape == p.shape == ed.shape  # "same" padding keeps the size
assert bl.std() < p.std()  # blurring smooths the picture
assert abs(ed[1:-1, 1:-1].mean()) < 0.01  # edges: as much + as - inside the picture

fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
axes[0].imshow(p, cmap="gray", vmin=0, vmax=1)
axes[0].set_title("grey, downscaled")
axes[1].imshow(bl, cmap="gray", vmin=0, vmax=1)
axes[1].set_title("blur [[0,1,0],[1,1,1],[0,1,0]]/5, 3 passes")
axes[2].imshow(np.abs(ed), cmap="gray_r", vmin=0, vmax=np.percentile(np.abs(ed), 99))
axes[2].set_title("|edges| [[0,1,0],[1,-4,1],[0,1,0]]")
for ax in axes:
    ax.axis("off")
save(fig, OUT, "photo_filters")

# %% [markdown]
# **What to remember.** A convolution is a weighted sum repeated at every position. The
# filter's weights decide what it looks for (an X shape, a vertical edge, smoothness); the
# padding and the stride decide the size of the map; with several input channels the
# per-channel sums are added, plus one bias per filter. In a CNN the weights are not chosen
# by hand: they are learned (tutorials 04-06).
