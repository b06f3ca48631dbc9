"""A user's script written with the tour's API; mypy must accept it as it is."""

from __future__ import annotations

import numpy as np

import minigrad as mg

x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, name="x")
y = (x * x + 1).sum()
y.backward()
assert x.grad is not None
g: np.ndarray = x.grad.data
shape: tuple[int, ...] = x.shape
value: float = float(y.item())

w = mg.randn(2, 3, requires_grad=True)
b = mg.zeros(3, requires_grad=True)
h = x @ w + b
z = -h / 2.0 - 1.0 + 2.0 * h**2 + h**b
loss = (mg.exp(z).mean() + mg.log(mg.abs(z) + 1.0).sum() + mg.sqrt(z * z + 1.0).max()).mean()
loss = loss + z.clip(-1.0, 1.0).min() + mg.maximum(z, 0.0).sum() + mg.where(z > 0, z, 0.0).sum()
loss = loss + z.reshape(6).sum() + z.T.sum(axis=0).sum() + z.transpose(1, 0).flatten().sum()
loss = loss + z[0].sum() + z[:, 1:].mean(axis=1, keepdims=True).sum()
loss = loss + mg.concatenate([z, z], axis=0).sum() + mg.stack([z, z]).sum() + mg.pad(z, 1).sum()
loss = loss + z.astype(np.float64).sum()
loss.backward(retain_graph=True)
(dx,) = mg.grad(loss, [x], create_graph=True)
dx_dtype: np.dtype = dx.dtype  # mg.grad gives Tensors (None only with allow_unused=True)
(dx_maybe,) = mg.grad(loss, [x], allow_unused=True)
assert dx_maybe is None or dx_maybe.shape == x.shape
handle = x.register_hook(lambda grad: grad * 2)
handle.remove()
x.retain_grad()
x.zero_grad()
d = x.detach()
mask = (d >= 0).data & (d.data < 10)
frozen: bool = d.requires_grad or d.is_leaf
with mg.no_grad():
    v = x * 2

images = mg.randn(2, 1, 6, 6)
kernel = mg.randn(3, 1, 3, 3, requires_grad=True)
maps = mg.ops.max_pool2d(mg.ops.relu(mg.ops.conv2d(images, kernel, padding=1)), 2)
card: str | None = mg.ops.relu.formula
net = mg.nn.Sequential(mg.nn.Flatten(), mg.nn.Linear(27, 2))
scores = net(maps)
step_loss = mg.nn.CrossEntropyLoss()(scores, mg.tensor([0, 1]))
opt = mg.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
opt.zero_grad()
step_loss.backward()
opt.step()
drawing = mg.graph.draw(step_loss)
print(dx, mask, frozen, v, g, shape, value, card, drawing.source[:10])
