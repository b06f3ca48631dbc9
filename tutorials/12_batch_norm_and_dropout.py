# %% [markdown]
# # 12 · Batch norm and dropout
#
# Two layers changed how CNNs are trained. **Batch normalisation** rescales every channel of
# a layer's output to mean 0 and variance 1 over the batch, then lets the network pick its
# own scale and shift: the next layer always sees numbers of the same size, so training can
# take bigger steps. **Dropout** zeroes a random part of a layer's output at every step, so
# no unit can rely on one particular other unit: a cheap way to fight overfitting.
#
# Both behave differently while training and afterwards, which is what `model.train()` and
# `model.eval()` switch. Here we look at each one by hand, then train the digits CNN of
# tutorial 06 twice, plain and with batch norm and dropout, and compare the two runs with
# `mg.graph.Recorder`.
#
# Run it as a script (`python tutorials/12_batch_norm_and_dropout.py`) or cell by cell.
# Pictures and pages go to `$MINIGRAD_TUTORIAL_OUT` (default
# `out/tutorials/12_batch_norm_and_dropout`). `MINIGRAD_FAST=1` trains for fewer epochs.

# %%
import os
import tempfile
import time
from collections import OrderedDict

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.data import DataLoader, load_digits
from minigrad.demo.notebook import FAST, out_dir, plt, save

OUT = out_dir("12_batch_norm_and_dropout")

# %% [markdown]
# ## 1. Batch norm by hand
#
# Take a batch of 2 images with 1 channel of 2x2 pixels: 8 numbers for the channel. In
# training, batch norm computes their mean and (biased) variance, normalises, then scales by
# `weight` and shifts by `bias` (1 and 0 at the start):
#
# `y = (x - mean) / sqrt(var + eps) * weight + bias`

# %%
x = mg.tensor(np.array([1, 2, 3, 4, 5, 6, 7, 8], dtype=np.float32).reshape(2, 1, 2, 2))
bn = nn.BatchNorm2d(1)
y = bn(x)
mean, var = x.data.mean(), x.data.var()
print(f"mean {mean}, variance {var}")
print("normalised:", np.round(y.data.ravel(), 4))
assert np.allclose(y.data.ravel(), (x.data.ravel() - 4.5) / np.sqrt(5.25 + 1e-5), atol=1e-6)

# %% [markdown]
# The layer also keeps **running statistics**, buffers that move a tenth of the way
# (`momentum=0.1`) towards each batch's mean and variance. The running variance uses the
# unbiased estimate (divide by 8 - 1 = 7 instead of 8), as PyTorch does. They are not
# parameters (the optimizer never sees them) but they are part of the model's state.

# %%
print("running_mean", bn.running_mean.data, " = 0.9 * 0 + 0.1 *", mean)
print("running_var ", bn.running_var.data, " = 0.9 * 1 + 0.1 *", x.data.var(ddof=1))
print("num_batches_tracked", bn.num_batches_tracked.item())
print("parameters:", [n for n, _ in bn.named_parameters()])
print("state_dict:", list(bn.state_dict()))
assert np.allclose(bn.running_mean.data, [0.45]) and np.allclose(bn.running_var.data, [1.5])

# %% [markdown]
# After `eval()` the running statistics replace the batch's, and nothing is updated any more:
# one image at a time gives the same answer as in a batch. (In training, a batch of one image
# of 1x1 pixels has a single value per channel and no variance: PyTorch refuses it, and so
# does minigrad.)

# %%
bn.eval()
one = bn(x[:1]).data
print("eval, first image:", np.round(one.ravel(), 4))
assert np.allclose(one, (x.data[:1] - 0.45) / np.sqrt(1.5 + 1e-5), atol=1e-6)
bn.train()
try:
    bn(mg.ones(1, 1, 1, 1))
except ValueError as err:
    print("ValueError:", str(err).split(";")[0])

# %% [markdown]
# ## 2. Dropout by hand
#
# With `p = 0.5` each value is zeroed with probability 1/2 and the others are doubled, so the
# expected output is the input. The mask comes from the generator `mg.manual_seed` seeds, and
# the backward pass multiplies the gradient by the same mask. After `eval()`, dropout does
# nothing.

# %%
mg.manual_seed(0)
drop = nn.Dropout(0.5)
h = mg.ones(1, 12, requires_grad=True)
out = drop(h)
out.sum().backward()
print("train:", out.data[0])
print("grad: ", h.grad.data[0])
assert np.array_equal(out.data, h.grad.data)
print("eval: ", drop.eval()(h).data[0])

# %% [markdown]
# ## 3. The digits CNN, plain and with batch norm and dropout
#
# The plain network is tutorial 06's. The second one puts a `BatchNorm2d` after each
# convolution (its bias becomes redundant: batch norm subtracts the mean anyway, so the
# convolutions have `bias=False`) and a `Dropout(0.3)` before the last layer.


# %%
def plain_cnn():
    return nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(1, 16, 3, padding=1), relu1=nn.ReLU(), pool1=nn.MaxPool2d(2),
            conv2=nn.Conv2d(16, 32, 3, padding=1), relu2=nn.ReLU(), pool2=nn.MaxPool2d(2),
            flatten=nn.Flatten(), fc1=nn.Linear(128, 128), relu3=nn.ReLU(),
            fc2=nn.Linear(128, 10),
        )
    )  # fmt: skip


def bn_cnn():
    return nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(1, 16, 3, padding=1, bias=False), bn1=nn.BatchNorm2d(16),
            relu1=nn.ReLU(), pool1=nn.MaxPool2d(2),
            conv2=nn.Conv2d(16, 32, 3, padding=1, bias=False), bn2=nn.BatchNorm2d(32),
            relu2=nn.ReLU(), pool2=nn.MaxPool2d(2),
            flatten=nn.Flatten(), fc1=nn.Linear(128, 128), relu3=nn.ReLU(),
            drop=nn.Dropout(0.3), fc2=nn.Linear(128, 10),
        )
    )  # fmt: skip


mg.manual_seed(0)
print(bn_cnn().summary((1, 1, 8, 8)))

# %% [markdown]
# Both are trained the same way: SGD with momentum, one learning rate for both, batches of
# 32, the same shuffling. A Recorder on each keeps the loss of every step and, once per
# epoch-sized stretch, the weights and the probes' activations. After each epoch we measure
# the test accuracy, in evaluation mode.

# %%
x_train, y_train, x_test, y_test = load_digits(test_fraction=0.2, seed=0)
EPOCHS, LR = (2, 0.05) if FAST else (12, 0.05)
probes = x_test[:8]


def accuracy(model, x, y):
    model.eval()
    with mg.no_grad():
        predicted = model(mg.tensor(x)).data.argmax(axis=1)
    model.train()
    return float((predicted == y).mean())


def run(make):
    mg.manual_seed(0)
    model = make()
    opt = mg.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    rec = mg.graph.Recorder(model, probes=probes, every=15, optimizer=opt)
    loss_fn = nn.CrossEntropyLoss()
    accuracies = []
    for _ in range(EPOCHS):
        for xb, yb in DataLoader(x_train, y_train, batch_size=32, shuffle=True, seed=0):
            loss = loss_fn(model(mg.tensor(xb)), mg.tensor(yb))
            opt.zero_grad()
            loss.backward()
            opt.step()
            rec.step(loss)
        accuracies.append(accuracy(model, x_test, y_test))
    return model, rec, accuracies


started = time.perf_counter()
plain, plain_rec, plain_acc = run(plain_cnn)
normed, normed_rec, normed_acc = run(bn_cnn)
print(f"trained both in {time.perf_counter() - started:.1f} s")
print("test accuracy per epoch, plain:          ", [f"{a:.1%}" for a in plain_acc])
print("test accuracy per epoch, batch norm+drop:", [f"{a:.1%}" for a in normed_acc])
assert normed_acc[-1] > 0.85 and plain_acc[-1] > 0.3

# %% [markdown]
# With the same learning rate, the plain network starts slowly: its loss sits near
# log(10) = 2.30 for a while before it finds its way. Batch norm keeps every layer's output
# at a workable size from the first step, so the loss falls at once. (The batch-norm
# network's training loss is measured with dropout on, which makes it noisier.)


# %%
def smooth(values, k=10):
    v = np.asarray(values, dtype=float)
    return np.convolve(v, np.ones(k) / k, mode="valid")


fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.4))
for rec, label in ((plain_rec, "plain"), (normed_rec, "batch norm + dropout")):
    ax1.plot(smooth(rec.losses), label=label)
ax1.set_xlabel("step")
ax1.set_ylabel("training loss (mean of 10 steps)")
ax1.set_yscale("log")
ax1.legend()
epochs = np.arange(1, EPOCHS + 1)
ax2.plot(epochs, plain_acc, "o-", label="plain")
ax2.plot(epochs, normed_acc, "o-", label="batch norm + dropout")
ax2.set_xlabel("epoch")
ax2.set_ylabel("test accuracy")
ax2.set_ylim(0, 1)
ax2.legend()
save(fig, OUT, "loss_and_accuracy")
early = min(30, len(plain_rec.losses))
assert np.mean(normed_rec.losses[:early]) < np.mean(plain_rec.losses[:early])

# %% [markdown]
# ## 4. What batch norm learned
#
# Each channel's `weight` (scale) and `bias` (shift) are ordinary parameters; the running
# statistics are what evaluation uses. The Recorder's frames keep the parameters (not the
# buffers) step by step, so the scales of `bn1` can be followed over training.

# %%
scales = np.array([f.params["bn1.weight"] for f in normed_rec.frames])
print("bn1 scales, first and last frame:")
print(np.round(scales[0], 2))
print(np.round(scales[-1], 2))
print("bn1 running mean:", np.round(normed.bn1.running_mean.data, 2))
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot([f.step for f in normed_rec.frames], scales)
ax.set_xlabel("step")
ax.set_ylabel("bn1.weight (one line per channel)")
save(fig, OUT, "bn1_scales")
assert not np.allclose(scales[-1], 1.0)

# %% [markdown]
# ## 5. Saving and loading keeps the running statistics
#
# The buffers are in `state_dict()`, so `mg.save` writes them and `load_state_dict` puts them
# back: the reloaded network gives the same answers in evaluation mode.

# %%
path = os.path.join(tempfile.mkdtemp(), "digits_bn.npz")
mg.save(normed, path)
state = mg.load(path)
print([k for k in state if k.startswith("bn1.")])
copy = bn_cnn()
copy.load_state_dict(state)
copy.eval()
normed.eval()
with mg.no_grad():
    same = np.array_equal(copy(mg.tensor(x_test)).data, normed(mg.tensor(x_test)).data)
print("same predictions after reloading:", same)
assert same

# %% [markdown]
# ## 6. The timeline
#
# `rec.explore()` writes the Recorder's timeline as one offline page: the loss, the filters
# as a filmstrip, the probes' feature maps frame by frame (the batch-norm layers' outputs
# among them) and the health of each layer in plain words.

# %%
normed_rec.explore(title="digits CNN with batch norm and dropout").save(OUT / "timeline.html")
print("flags:", [f.kind for f in normed_rec.health()])
print("wrote", (OUT / "timeline.html").name)
