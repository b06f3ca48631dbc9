# %% [markdown]
# # 08 · Write your own layer as a plugin
#
# Every CNN layer in minigrad (conv2d, max_pool2d, relu, softmax...) is a *plugin op*: a small
# class that minigrad finds through Python packaging metadata, not through an import inside
# minigrad. Your own layers use the very same door. In this tutorial we write the **Swish**
# activation, `swish(x) = x * sigmoid(beta * x)`, and
#
# 1. learn the Op contract (a `forward` on numpy arrays, a `backward` on Tensors);
# 2. register it in a notebook with `mg.register_op` (no packaging);
# 3. check it with `opcheck`, `gradcheck` and `gradgradcheck`;
# 4. package it (`tutorials/swish_plugin/`) so that `pip install` makes `mg.ops.swish` appear
#    in every session, and see what the registry does with it;
# 5. list and check plugins with `python -m minigrad plugins list|check`, and switch them
#    off with environment variables.
#
# Run it as a script (`python tutorials/08_write_a_layer_plugin.py`) or cell by cell in
# Jupyter/VS Code. Pictures go to `$MINIGRAD_TUTORIAL_OUT`
# (default `out/tutorials/08_write_a_layer_plugin`).

# %%
import sys
from importlib.metadata import EntryPoint

import numpy as np

import minigrad as mg
from minigrad.cli.plugins import format_table, run_check
from minigrad.demo.notebook import FAST, out_dir, plt, save, tutorials_dir
from minigrad.plugins import PluginDisabledError, Registry
from minigrad.testing import GradcheckError, gradcheck, gradgradcheck, opcheck

OUT = out_dir("08_write_a_layer_plugin")
PACKAGE = tutorials_dir() / "swish_plugin"  # found from any working directory
mg.manual_seed(0)

# %% [markdown]
# ## 1. The Op contract
#
# An op is a subclass of `mg.Op` with two static methods:
#
# - `forward(ctx, *arrays, **attrs)` gets **numpy arrays** and returns one numpy array.
#   Positional parameters are tensor inputs; **keyword-only** parameters (after `*`) are
#   attributes such as `beta`, and `ctx.attrs` holds them all, defaults included.
#   `ctx.save_for_backward(...)` keeps what the backward pass needs.
# - `backward(ctx, grad)` gets the gradient of the output as a **Tensor** and returns one
#   gradient per input (or `None` where `ctx.needs_input_grad[i]` is False).
# - `formula`, a class attribute, is the op's derivative card: one line saying what
#   `backward` computes, in terms of the incoming gradient `dy`. It becomes
#   `mg.ops.swish.formula`, the last line of `help(mg.ops.swish)`, and what the graph
#   explorer shows for the op's nodes; `python -m minigrad plugins check` warns about an op
#   without one.
#
# Writing `backward` with minigrad operations on Tensors (rather than numpy) makes the
# backward pass itself a graph: it can be drawn, and differentiated again.
#
# For Swish, with `s = sigmoid(beta * x)`:
#
# `swish'(x) = s + beta * x * s * (1 - s)`

# %%
LIMIT = 60.0  # sigmoid is 0 or 1 to float64 precision beyond |z| = 60; avoids exp overflow


def sigmoid(z):
    """sigmoid written with minigrad ops, so its result stays differentiable."""
    return 1.0 / (1.0 + mg.exp(-mg.clip(z, -LIMIT, LIMIT)))


class Swish(mg.Op):
    """Swish activation, ``x * sigmoid(beta * x)``, elementwise."""

    name = "swish"
    formula = "dx = dy * (s + beta * x * s * (1 - s)), s = sigmoid(beta * x)"

    @staticmethod
    def forward(ctx, x, *, beta=1.0):
        s = 1.0 / (1.0 + np.exp(-np.clip(beta * x, -LIMIT, LIMIT)))
        ctx.save_for_backward(x)  # the input comes back as the input Tensor in backward
        return x * s

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        beta = ctx.attrs["beta"]
        s = sigmoid(beta * x)  # recomputed with minigrad ops: differentiable again
        return grad * (s + beta * x * s * (1.0 - s))

    @staticmethod
    def sample_inputs():
        """(args, attrs) pairs that `python -m minigrad plugins check` feeds to opcheck."""
        x = np.array([[-2.5, -0.5, 0.0, 0.7], [1.3, 3.0, -1.1, 0.2]])
        return [((x,), {}), ((x,), {"beta": 2.0})]


# %% [markdown]
# ## 2. The notebook route: `mg.register_op`
#
# `mg.register_op(name, OpClass)` checks the class against the contract and makes it
# callable as `mg.ops.<name>`: tensors positionally, attributes by keyword. (If you have
# already installed the packaged version from section 4, the name `swish` exists;
# `override=True` replaces it for this session instead of raising an error.)

# %%
mg.register_op("swish", Swish, override=True)

x = mg.tensor([-2.0, -0.5, 0.0, 1.0, 3.0], requires_grad=True, name="x")
y = mg.ops.swish(x, beta=2.0)
y.sum().backward()
print("swish(x)     =", np.round(y.data, 4))
print("d swish / dx =", np.round(x.grad.data, 4))

# the same numbers straight from the formulas, in numpy
xs = x.data.astype(np.float64)
s = 1 / (1 + np.exp(-2.0 * xs))
assert np.allclose(y.data, xs * s, atol=1e-6)
assert np.allclose(x.grad.data, s + 2.0 * xs * s * (1 - s), atol=1e-6)

# %% [markdown]
# `mg.ops.swish` is an ordinary function built from the class: `help(mg.ops.swish)` shows
# forward's signature (without `ctx`), the class docstring and the derivative card, which
# is also `mg.ops.swish.formula`. A misspelt attribute is an error naming the op and its
# valid attributes.

# %%
import inspect

print("signature:", inspect.signature(mg.ops.swish))
print(mg.ops.swish.__doc__.splitlines()[0])
print("formula:  ", mg.ops.swish.formula)
assert mg.ops.swish.formula == Swish.formula
try:
    mg.ops.swish(x, betta=2.0)
except TypeError as e:
    print("TypeError:", e)

# %% [markdown]
# ## 3. Checking the op
#
# - `opcheck(OpClass, *inputs, **attrs)` checks the contract (forward returns an array, is
#   deterministic and leaves its inputs alone; backward returns one gradient per input with
#   the input's shape and dtype), then runs the two gradient checks below in float64.
# - `gradcheck(fn, *inputs)` compares the gradients with central finite differences.
# - `gradgradcheck(fn, *inputs)` does the same for second derivatives: it needs a backward
#   written with minigrad ops.

# %%
for args, attrs in Swish.sample_inputs():
    assert opcheck(Swish, *args, **attrs)

x64 = mg.randn(3, 4, dtype="float64", requires_grad=True)
assert gradcheck(lambda t: mg.ops.swish(t, beta=1.5), x64)
assert gradgradcheck(lambda t: mg.ops.swish(t, beta=1.5), x64)
print("opcheck, gradcheck and gradgradcheck pass")

# %% [markdown]
# ### A classic mistake, caught
#
# It is tempting to save `s` from the forward pass and reuse it in backward. That gives
# correct *first* derivatives, but `s` comes back from `ctx.saved_tensors` as a constant
# (it is neither an input nor the output), so the backward graph forgets that `s` depends on
# `x`, and second derivatives come out wrong. `gradgradcheck` notices.


# %%
class SwishSavedS(mg.Op):
    """Swish whose backward treats the saved sigmoid as a constant (wrong 2nd derivative)."""

    @staticmethod
    def forward(ctx, x, *, beta=1.0):
        s = 1.0 / (1.0 + np.exp(-np.clip(beta * x, -LIMIT, LIMIT)))
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors  # s is a constant Tensor here
        beta = ctx.attrs["beta"]
        return grad * (s + beta * x * s * (1.0 - s))


mg.register_op("swish_saved_s", SwishSavedS, override=True)
assert gradcheck(lambda t: mg.ops.swish_saved_s(t), x64)  # first order: fine
try:
    gradgradcheck(lambda t: mg.ops.swish_saved_s(t), x64)
    raise AssertionError("gradgradcheck should have failed")
except GradcheckError as e:
    print("gradgradcheck caught it:", str(e)[:110], "...")
mg.plugins.unregister_op("swish_saved_s")

# %% [markdown]
# ### Swish, its slope and its curvature
#
# Because the backward pass is a graph, `mg.grad(..., create_graph=True)` gives the first
# derivative as a Tensor that we can differentiate again.

# %%
grid = np.linspace(-5, 5, 101 if FAST else 401)
fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
for beta in (0.5, 1.0, 2.0, 8.0):
    t = mg.tensor(grid, requires_grad=True)
    out = mg.ops.swish(t, beta=beta)
    (d1,) = mg.grad(out.sum(), [t], create_graph=True)
    (d2,) = mg.grad(d1.sum(), [t])
    for ax, values in zip(axes, (out, d1, d2)):
        ax.plot(grid, values.data, label=f"beta={beta}")
for ax, title in zip(axes, ("swish(x)", "d swish / dx", "d² swish / dx²")):
    ax.set_title(title)
    ax.axhline(0, color="0.8", lw=0.8)
    ax.grid(alpha=0.3)
axes[0].legend()
fig.tight_layout()
save(fig, OUT, "swish")

# %% [markdown]
# ## 4. The packaged route: an entry point
#
# To make the op available everywhere, put the class in a package and declare an **entry
# point** in the group `"minigrad.ops"`. The whole package is two files:
#
# ```
# tutorials/swish_plugin/
#     pyproject.toml              [project.entry-points."minigrad.ops"]
#                                 swish = "minigrad_swish:Swish"
#     minigrad_swish/__init__.py  class Swish(mg.Op): ...   (the class above, plus docs)
# ```

# %%
print((PACKAGE / "pyproject.toml").read_text())

# %% [markdown]
# Install it into the environment that runs minigrad:
#
# ```
# pip install ./tutorials/swish_plugin
# # offline, reusing the setuptools you already have:
# pip install --no-deps --no-build-isolation ./tutorials/swish_plugin
# ```
#
# After that, in any new Python session, `mg.ops.swish(x, beta=2.0)` just works and
# `python -m minigrad plugins list` shows it. Nothing in minigrad changes.
#
# What happens behind the scenes:
#
# - `import minigrad` imports **no** plugin;
# - on first use of `mg.ops`, minigrad reads the `"minigrad.ops"` entry points once, from
#   the installed packages' metadata (still importing nothing);
# - the module behind an op is imported when that op is first called.
#
# We can watch this without installing anything: a `Registry` accepts any source of entry
# points, so here we hand it the very entry point `pip install` would create, and put the
# package folder on `sys.path`.

# %%
sys.path.insert(0, str(PACKAGE))


class Dist:
    """Stands in for the installed distribution (its name and version)."""

    name, version = "minigrad-swish", "0.1.0"


entry_point = EntryPoint("swish", "minigrad_swish:Swish", "minigrad.ops")
registry = Registry(entry_points_fn=lambda: [(entry_point, Dist())])

print("minigrad_swish imported before first call?", "minigrad_swish" in sys.modules)
print(format_table(registry.available()))
packaged = registry.ops.swish(mg.tensor([-1.0, 0.0, 1.0]), beta=2.0)
print("minigrad_swish imported after first call? ", "minigrad_swish" in sys.modules)
print(format_table(registry.available()))
print("the op knows where it came from:", registry.ops.swish.op.plugin)
assert np.allclose(packaged.data, mg.ops.swish(mg.tensor([-1.0, 0.0, 1.0]), beta=2.0).data)

# %% [markdown]
# `python -m minigrad plugins check` loads ops and runs `opcheck` on the samples each class
# gives through its optional `sample_inputs()` staticmethod, printing PASS/FAIL per op (the
# exit code is non-zero if any fails):

# %%
status = run_check(["swish"], registry=registry)
assert status == 0

# %% [markdown]
# ## 5. Listing and switching plugins off
#
# The table of every op minigrad knows in this session (the CNN layers that ship as plugins,
# and the `swish` we registered by hand) is what `python -m minigrad plugins list` prints.
# Status is `available` (found, not imported yet), `loaded`, `broken` (import failed or the
# class breaks the contract; the error names the op, its distribution and version and the
# entry point), `disabled` or `conflict`.

# %%
table = format_table(mg.plugins.available())
print(table)
(OUT / "plugins_list.txt").write_text(table + "\n")
print("wrote", OUT / "plugins_list.txt")

# %% [markdown]
# Rules that keep plugins from surprising you:
#
# - **Name clashes** are never settled by install order: if two distributions register
#   `swish`, using `mg.ops.swish` raises an error listing both, and
#   `mg.ops.get("minigrad-swish::swish")` picks one.
# - **Core names** (`add`, `mul`, `matmul`, `sum`, `reshape`...) are reserved.
# - Two environment variables, read when minigrad first scans its plugins:
#   - `MINIGRAD_DISABLE_PLUGIN_AUTOLOAD=1` loads no op from entry points (but
#     `mg.register_op` still works);
#   - `MINIGRAD_DISABLE_PLUGINS=swish,other` disables the named ops (an item may also be
#     `dist-name::op` or a whole distribution name).
#
# A disabled op says which variable switched it off:

# %%
switched_off = Registry(
    entry_points_fn=lambda: [(entry_point, Dist())],
    environ={"MINIGRAD_DISABLE_PLUGINS": "swish"},
)
try:
    switched_off.ops.swish(mg.tensor([1.0]))
except PluginDisabledError as e:
    print("PluginDisabledError:", e)

# %% [markdown]
# That's the whole story: a class with `forward` and `backward`, one entry-point line, and
# the checks that tell you it is right. The CNN layers in `layers_plugins/` are built exactly
# this way; read `layers_plugins/activations.py` next.
