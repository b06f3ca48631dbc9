# %% [markdown]
# # 10 · ONNX: from minigrad to production, and from PyTorch to minigrad
#
# minigrad is a place to learn and to look inside; models grow up elsewhere. **ONNX** is the
# common file format between frameworks and runtimes: a graph of standard ops (Conv, Relu,
# MaxPool, Gemm...) plus the weights. This tutorial crosses that border both ways:
#
# 1. train the digits LeNet here, **export** it with `mg.onnx.export`, and run the file in
#    **ONNX Runtime**, the engine many services use to serve models; the answers agree;
# 2. take a CNN written in **PyTorch**, export it with PyTorch's own exporter, **load** it here
#    with `mg.onnx.load`, and look at its backward pass, which ONNX files do not contain: here it
#    is recorded like for any minigrad model.
#
# Run it as a script (`python tutorials/10_onnx.py`) or cell by cell. It needs the `onnx`
# extra (`pip install "minigrad-cnn[onnx]"`: onnx and onnxruntime) and scikit-learn for the
# digits; part 2 uses PyTorch when it is installed. Files go to `$MINIGRAD_TUTORIAL_OUT`
# (default `out/tutorials/10_onnx`). `MINIGRAD_FAST=1` trains for 2 epochs only.

# %%
import time
import warnings
from collections import OrderedDict

import numpy as np
import onnx
import onnxruntime as ort

import minigrad as mg
from minigrad import nn
from minigrad.data import DataLoader, load_digits
from minigrad.demo.notebook import FAST, out_dir, plt, save, show

OUT = out_dir("10_onnx")
mg.manual_seed(0)

# %% [markdown]
# ## 1. Train the digits LeNet (briefly)
#
# The network of tutorial 06, trained for a few epochs: enough to be a real model.

# %%
x_train, y_train, x_test, y_test = load_digits(test_fraction=0.2, seed=0)
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
            ("fc1", nn.Linear(128, 64)),
            ("relu3", nn.ReLU()),
            ("fc2", nn.Linear(64, 10)),  # 10 scores
        ]
    )
)
epochs = 2 if FAST else 8
optimizer = mg.optim.Adam(model.parameters(), lr=0.005)
loss_fn = nn.CrossEntropyLoss()
started = time.perf_counter()
for epoch in range(1, epochs + 1):
    for xb, yb in DataLoader(x_train, y_train, batch_size=32, shuffle=True, seed=epoch):
        loss = loss_fn(model(mg.tensor(xb)), mg.tensor(yb))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
model.eval()
with mg.no_grad():
    scores_here = model(mg.tensor(x_test)).data
accuracy = float((scores_here.argmax(axis=1) == y_test).mean())
print(f"{epochs} epochs in {time.perf_counter() - started:.1f} s, test accuracy {accuracy:.1%}")
assert accuracy > 0.7

# %% [markdown]
# ## 2. Export it
#
# `mg.onnx.export(model, example_input, path)` runs the model once on the example input,
# records the forward graph, and writes every recorded op as ONNX nodes. The weights become
# *initializers* named like `model.named_parameters()`; the batch dimension stays open, so the
# file takes any number of images although the example had one. Each `Linear` layer
# (`x @ W.T + b` here) becomes one `Gemm` node, and every node is named after its layer.

# %%
path = OUT / "digits_lenet.onnx"
proto = mg.onnx.export(model, x_test[:1], path)
onnx.checker.check_model(onnx.load(path), full_check=True)  # the ONNX spec's own checker
for node in proto.graph.node:
    print(f"{node.name:14s} {node.op_type:8s} {list(node.input)}")
print("initializers:", [i.name for i in proto.graph.initializer])
print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
assert [n.op_type for n in proto.graph.node].count("Gemm") == 2

# %% [markdown]
# ## 3. Run it in ONNX Runtime
#
# ONNX Runtime knows nothing about minigrad: it reads the file and runs its own kernels. On the
# whole test set at once (a batch of 359), its scores equal minigrad's to float32 rounding, and
# the predicted digits are the same.

# %%
session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
(scores_ort,) = session.run(None, {"input": x_test})
diff = float(np.abs(scores_ort - scores_here).max())
same = float((scores_ort.argmax(axis=1) == scores_here.argmax(axis=1)).mean())
print(f"ONNX Runtime vs minigrad: max |difference| {diff:.1e}, same prediction on {same:.0%}")
assert scores_ort.shape == (len(x_test), 10)
assert diff < 1e-4 and same == 1.0

fig, ax = plt.subplots(figsize=(5, 3))
ax.scatter(scores_here.ravel(), scores_ort.ravel(), s=4)
ax.set_xlabel("score in minigrad")
ax.set_ylabel("score in ONNX Runtime")
ax.set_title(f"{scores_here.size} scores, max difference {diff:.1e}")
save(fig, OUT, "minigrad_vs_onnxruntime")

# %% [markdown]
# Loading the file back gives an `mg.nn.Module` with the same parameter names and the same
# outputs: a round trip through ONNX loses nothing.

# %%
again = mg.onnx.load(path)
print(again)
assert [n for n, _ in again.named_parameters()] == [n for n, _ in model.named_parameters()]
assert np.allclose(again(x_test).data, scores_here, atol=1e-5)

# %% [markdown]
# ## 4. The other way: a PyTorch CNN
#
# A small PyTorch network with layers this project's models rarely use: batch normalisation,
# a grouped convolution, average pooling that does not count the padding, dropout. PyTorch's
# exporter writes it to ONNX. (PyTorch's newer `dynamo=True` exporter needs the `onnxscript`
# package; the classic TorchScript exporter, `dynamo=False`, works offline with PyTorch
# alone.) Without PyTorch the same network is written directly with `onnx.helper`.

# %%
torch_path = OUT / "torch_cnn.onnx"
try:
    import torch
except ImportError:
    torch = None

if torch is not None:

    class TorchCNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(1, 8, 3, padding=1)
            self.bn1 = torch.nn.BatchNorm2d(8)
            self.conv2 = torch.nn.Conv2d(8, 8, 3, padding=1, groups=2)
            self.pool = torch.nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
            self.drop = torch.nn.Dropout(0.25)
            self.fc = torch.nn.Linear(8 * 4 * 4, 10)

        def forward(self, x):
            x = torch.relu(self.bn1(self.conv1(x)))
            x = self.pool(torch.relu(self.conv2(x)))
            return self.fc(self.drop(torch.flatten(x, 1)))

    torch.manual_seed(0)
    net = TorchCNN()
    with torch.no_grad():  # as if trained: running statistics that are not the defaults
        net.bn1.running_mean.normal_(0.0, 0.1)
        net.bn1.running_var.uniform_(0.5, 1.5)
    net.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its retirement
        torch.onnx.export(
            net, (torch.zeros(1, 1, 8, 8),), str(torch_path), dynamo=False, opset_version=17,
            input_names=["image"], output_names=["scores"],
            dynamic_axes={"image": {0: "batch"}, "scores": {0: "batch"}},
            do_constant_folding=False,  # keep BatchNormalization a node of its own
        )  # fmt: skip
    print("exported with torch", torch.__version__)
else:
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = {
        "conv1.weight": rng.standard_normal((8, 1, 3, 3)) * 0.3, "conv1.bias": np.zeros(8),
        "fc.weight": rng.standard_normal((10, 8 * 4 * 4)) * 0.1, "fc.bias": np.zeros(10),
    }  # fmt: skip
    nodes = [
        helper.make_node("Conv", ["image", "conv1.weight", "conv1.bias"], ["c"], pads=[1] * 4),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node(
            "AveragePool", ["r"], ["p"], kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4
        ),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["scores"], transB=1),
    ]
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 8, 8])
    scores = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 10])
    inits = [numpy_helper.from_array(w.astype(np.float32), n) for n, w in weights.items()]
    graph = helper.make_graph(nodes, "cnn", [image], [scores], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), torch_path)
    print("PyTorch is not installed: built the network with onnx.helper instead")
print([n.op_type for n in onnx.load(torch_path).graph.node])

# %% [markdown]
# ## 5. Load it here, and compare forward and backward with PyTorch
#
# `mg.onnx.load` turns every weight into an `mg.nn.Parameter` (BatchNorm's running statistics
# are kept out of training) and runs the nodes with minigrad's own ops, so the model records a
# graph here, and `backward()` computes gradients that ONNX never stored.

# %%
loaded = mg.onnx.load(torch_path)
print([name for name, _ in loaded.named_parameters()])
images = x_test[:16]
pick = np.random.default_rng(1).standard_normal((16, 10)).astype(np.float32)
xm = mg.tensor(images, requires_grad=True, name="image")
(loaded(xm) * mg.tensor(pick)).sum().backward()
if torch is not None:
    xt = torch.tensor(images, requires_grad=True)
    (net(xt) * torch.tensor(pick)).sum().backward()
    out_diff = float(np.abs(loaded(images).data - net(xt).detach().numpy()).max())
    params = dict(loaded.named_parameters())
    grad_diff = max(
        float(np.abs(params[n].grad.data - p.grad.numpy()).max()) for n, p in net.named_parameters()
    )
    grad_diff = max(grad_diff, float(np.abs(xm.grad.data - xt.grad.numpy()).max()))
    print(f"minigrad vs PyTorch: outputs {out_diff:.1e}, gradients {grad_diff:.1e}")
    assert out_diff < 1e-4 and grad_diff < 1e-4
(ort_scores,) = ort.InferenceSession(str(torch_path)).run(None, {"image": images})
assert np.allclose(loaded(images).data, ort_scores, atol=1e-4)

# %% [markdown]
# ## 6. Its backward pass, drawn
#
# `mg.onnx.example_loss(path)` loads a model, feeds it a seeded example input and sums its
# outputs into one number with a graph: what `python -m minigrad draw model.onnx` and
# `python -m minigrad explore model.onnx` show. The layer clusters come from the ONNX node
# names (`/conv1/Conv` lands in `conv1`). Rendering the picture needs Graphviz (`dot`);
# without it the `.dot` file is still written.

# %%
loss = mg.onnx.example_loss(torch_path, batch=1)
drawing = mg.graph.draw(loss, backward=True)
try:
    print("wrote", mg.graph.render(drawing, OUT / "torch_cnn_backward.svg"))
    show(drawing)  # in a notebook the drawing appears under the cell
except mg.graph.GraphvizNotFoundError as e:
    print(e)
assert "conv2d" in drawing.source and "backward" in drawing.source

# %% [markdown]
# ## 7. Train it here, send it back
#
# The loaded model is an ordinary minigrad model: a few Adam steps on the digits, then the
# fine-tuned model goes back to ONNX (and to ONNX Runtime) with `mg.onnx.export`.

# %%
opt = mg.optim.Adam(loaded.parameters(), lr=0.01)
losses = []
for step, (xb, yb) in enumerate(DataLoader(x_train, y_train, batch_size=64, shuffle=True, seed=0)):
    if step == (10 if FAST else 40):
        break
    loss = loss_fn(loaded(mg.tensor(xb)), mg.tensor(yb))
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f} after {len(losses)} steps")
assert np.mean(losses[-3:]) < losses[0]
tuned = OUT / "torch_cnn_tuned.onnx"
mg.onnx.export(loaded, x_test[:1], tuned)
(back,) = ort.InferenceSession(str(tuned)).run(None, {"input": x_test})
assert np.allclose(back, loaded(x_test).data, atol=1e-4)
print(f"tuned model in ONNX Runtime: test accuracy {(back.argmax(1) == y_test).mean():.1%}")
