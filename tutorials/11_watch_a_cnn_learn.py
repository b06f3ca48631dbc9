# %% [markdown]
# # 11 · Watch a CNN learn
#
# Tutorial 05 trained the X-vs-O network and looked at the result. Learning is a story over
# many steps, though: filters that start as noise and turn into stroke detectors, losses that
# fall, gradients that shrink, and, when something is wrong, layers that die. A
# **`mg.graph.Recorder`** keeps that story frame by frame, so you can stop at step 37 and ask
# why one weight moved as it did, and **`rec.health()`** reads the story for warning signs.
#
# Run it as a script (`python tutorials/11_watch_a_cnn_learn.py`) or cell by cell. The pages
# go to `$MINIGRAD_TUTORIAL_OUT` (default `out/tutorials/11_watch_a_cnn_learn`); open them in
# any browser, offline.

# %%
import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.data import DataLoader, xo_images
from minigrad.demo import build_xo_model
from minigrad.demo.notebook import FAST, out_dir, plt, save, show_matrix

OUT = out_dir("11_watch_a_cnn_learn")

# %% [markdown]
# ## 1. The demo's network, and probes to watch
#
# The network is the demo's: `conv1` (4 filters of 3x3, padding 1) -> ReLU -> 2x2 max pool ->
# a linear layer to two scores, trained with Adam at learning rate 0.02 on shuffled batches
# of 16. **Probes** are a few fixed test images the recorder runs through the network at
# every frame (under `no_grad`, outside the training graph): their feature maps show how the
# network sees the same pictures as it learns. Four X's and four O's, alternating.

# %%
x_train, y_train = xo_images(n_per_class=60 if FAST else 150, seed=0)
x_test, y_test = xo_images(n_per_class=20, seed=10_000)
x_idx, o_idx = np.flatnonzero(y_test == 1)[:4], np.flatnonzero(y_test == 0)[:4]
probes = x_test[np.ravel(np.column_stack([x_idx, o_idx]))]  # X, O, X, O, ...
EPOCHS = 3 if FAST else 8


def make(lr):
    mg.manual_seed(0)
    model = build_xo_model()
    opt = mg.optim.Adam(model.parameters(), lr=lr)
    return model, opt


def train(model, opt, rec):
    """The demo's loop; the only new line is rec.step(loss), after opt.step()."""
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(EPOCHS):
        for xb, yb in DataLoader(x_train, y_train, batch_size=16, shuffle=True, seed=0):
            loss = loss_fn(model(mg.tensor(xb)), mg.tensor(yb))
            opt.zero_grad()
            loss.backward()
            opt.step()
            rec.step(loss)


model, opt = make(lr=0.02)
initial = {name: w.copy() for name, w in model.state_dict().items()}
rec = mg.graph.Recorder(model, probes=probes, optimizer=opt)  # frame 0: the weights now
train(model, opt, rec)
print(rec)
print("frames:", len(rec.frames), "steps:", rec.steps, "loss:", f"{rec.losses[0]:.3f}",
      "->", f"{rec.losses[-1]:.4f}")  # fmt: skip

# %% [markdown]
# Each frame holds the step, the loss, and per parameter the gradient, the weights after the
# update and the update itself; plus every module's output on the probes. Frame 0 is the
# network as it was made, the last frame the network as it is now. Layers and parameters are
# named as `summary()` and the drawings name them (`conv1`, `relu1`, `conv1.weight`). In a
# `Sequential` of unnamed layers, whose `state_dict()` keys are `"0.weight"`..., those keys
# find the same arrays too, so code written with the model's own keys works either way:

# %%
first, last = rec.frames[0], rec.frames[-1]
for name in initial:
    assert np.array_equal(first.params[name], initial[name])
    assert np.array_equal(last.params[name], model.state_dict()[name])
print({name: a.shape for name, a in last.activations.items()})
# every update is exactly "new weights - previous weights"
for prev, f in zip(rec.frames, rec.frames[1:]):
    for name, w in f.params.items():
        np.testing.assert_allclose(prev.params[name] + f.updates[name], w, atol=1e-6)

# %% [markdown]
# Memory is the recorder's price: `rec.nbytes` says what it holds. Two knobs bound it:
# `every=k` records every k-th step (the loss of every step is still kept, in `rec.losses`),
# and `max_frames=n` keeps at most n frames, thinned evenly (frame 0 and the latest stay).

# %%
print(f"{rec.nbytes / 1e6:.1f} MB for {len(rec.frames)} frames")

# %% [markdown]
# ## 2. Filters that learn
#
# conv1's four filters at a few frames: noise at step 0, then strokes. Red is positive, blue
# negative, one colour scale for the whole strip.

# %%
picks = np.linspace(0, len(rec.frames) - 1, 6).round().astype(int)
lim = max(np.abs(rec.frames[k].params["conv1.weight"]).max() for k in picks)
fig, axes = plt.subplots(4, len(picks), figsize=(1.4 * len(picks), 5.6))
for col, k in enumerate(picks):
    w = rec.frames[k].params["conv1.weight"]
    for o in range(4):
        title = f"step {rec.frames[k].step}" if o == 0 else ""
        show_matrix(axes[o, col], w[o, 0], title, cmap="RdBu_r", vmin=-lim, vmax=lim, numbers=False)
save(fig, OUT, "filmstrip")

# %% [markdown]
# ## 3. Why did this weight change?
#
# Pick a frame and one weight: `rec.explain` writes out the optimizer's update for it, with
# the numbers Adam really used: the gradient, the moments `m` and `v`, the bias corrections
# of step t, eps. The explanation runs the optimizer's own arithmetic on that one element, so
# its result is the recorded weight exactly, not approximately.

# %%
k = min(37, len(rec.frames) - 1)
e = rec.explain("conv1.weight", (0, 0, 1, 1), frame=k)
print(e["text"])
assert e["values"]["new_weight"] == rec.frames[k].params["conv1.weight"][0, 0, 1, 1]
assert e["values"]["change"] == rec.frames[k].updates["conv1.weight"][0, 0, 1, 1]

# %% [markdown]
# ## 4. Health over time
#
# Per layer the recorder keeps the gradient norm, the update/weight ratio (how much a step
# moves the weights, relative to their size), the fraction of ReLU units that output 0 on
# every probe ("dead") and, for sigmoid and tanh, of saturated units. `rec.health()` reads
# these series and returns flags in plain words. This run is healthy:

# %%
s = rec.series()
print("health flags:", rec.health())
assert rec.health() == []
fig, axes = plt.subplots(1, 3, figsize=(12, 2.8))
for layer in ("conv1", "fc"):
    axes[0].semilogy(s["steps"][1:], s["layers"][layer]["grad_norm"][1:], label=layer)
    axes[1].semilogy(s["steps"][1:], s["layers"][layer]["update_ratio"][1:], label=layer)
axes[2].plot(s["steps"], s["layers"]["relu1"]["dead"], color="tab:red")
axes[2].set_ylim(0, 1)
for ax, title in zip(axes, ["gradient norm", "update / weight", "relu1: dead units"]):
    ax.set_title(title)
    ax.set_xlabel("step")
axes[0].legend()
save(fig, OUT, "health")

# %% [markdown]
# Now the same network with a learning rate 1000 times too large. The first steps throw the
# weights far away, the loss explodes, and the ReLU layer goes dark: every unit outputs 0 on
# every probe, so no gradient reaches conv1 any more. The flags say so, with the step each
# problem started:

# %%
bad_model, bad_opt = make(lr=20.0)
bad = mg.graph.Recorder(bad_model, probes=probes, optimizer=bad_opt)
train(bad_model, bad_opt, bad)
flags = bad.health()
for flag in flags:
    print(f"step {flag.step:>3}  {flag.kind:<15} {flag.message}")
assert {"large_updates", "dead_relu"} <= {f.kind for f in flags}

# %% [markdown]
# ## 5. The timeline page
#
# `rec.explore()` gives an explorer page with the whole run: the loss curve with a cursor, a
# slider (or the arrow keys) over the frames, the filters and their filmstrip, the probes'
# feature maps at the chosen frame, the health series with their flags, and, for any weight
# you click in a filter, the arithmetic of its update at that frame, as above.

# %%
page = rec.explore(title="X vs O: watch it learn")
print("wrote", page.save(OUT / "training.html"), f"({len(page.html) / 1e6:.1f} MB)")
bad_page = bad.explore(title="X vs O with a learning rate 1000x too large")
print("wrote", bad_page.save(OUT / "training_lr_x1000.html"))
page  # noqa: B018  (in Jupyter the page shows inline)

# %% [markdown]
# Things to try on the page: drag the slider from 0 to the end and watch filter 2 turn into
# a stroke detector; click one of its weights and step with `→` to see `m` and `v` settle;
# open the second page and click the red "dead ReLU" flag to jump to the step the layer died.
