"""What the engine checks around every op call, and how its errors name the op.

- :func:`check_output`: a forward must return a numeric array (bool, integer, floating or
  complex). numpy scalars (what ufuncs return for 0-d inputs) become 0-d arrays, and a saved
  reference to that scalar is pointed at the same array, so ``saved_tensors`` returns the
  op's output Tensor and double backward through 0-d intermediates stays connected.
- :func:`check_grad_dtype`: the gradient dtype policy (see :mod:`minigrad.autograd`).
- :func:`fingerprint_saved` / :func:`verify_saved`: in-place changes of saved inputs.
- :func:`readonly`: plugin ops get read-only views of their inputs (except those their
  ``mutates`` names: buffers such as batch norm's running statistics); during a plugin's
  backward :func:`freeze_for_backward` makes the arrays it can reach read-only (:func:`thaw`).
- :func:`note`: an exception from an op's forward or backward keeps its type and gains a
  PEP 678 note naming the op, its plugin and the phase.

Why fingerprints (and not a version counter): users change data through numpy
(``x.data[0] = 100``, ``x.data[:] = x.data[::-1]``, ``np.random.shuffle(x.data)``), which
minigrad never sees, so there is nothing to bump; minigrad itself writes leaf data only through
numpy too (optimizer steps, ``nn.init``), so a counter would catch nothing a fingerprint
misses. Instead, when an op saves the array of a *leaf* tensor (an input or a parameter: what
user code owns and changes), the engine keeps a fingerprint of it and compares it before that
op's backward runs:

- up to 4 KiB: the bytes themselves (exact; a copy of at most 4 KiB per saved leaf);
- above: its shape and dtype, the CRC-32 of its bytes in C order (order-sensitive: any
  rearrangement, such as a reverse, a roll, a shuffle or a square transpose, changes it; a
  change of up to 32 contiguous bits always does) and the sum of its 64-bit words modulo
  2**64 (any change of a single element changes it). The CRC runs at about 5 GB/s here: 35 us
  for a (64, 1, 28, 28) float32 batch, against 3 us for the sum alone.

Intermediate tensors are not fingerprinted: hashing every activation would double the cost of
cheap ops, and user code rarely writes into them.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from ._modes import _anomaly, _backward_of
from .op import Context, Op, op_spec
from .tensor import Tensor, as_tensor

__all__ = [
    "check_grad_dtype",
    "check_output",
    "fingerprint_saved",
    "freeze_for_backward",
    "note",
    "readonly",
    "thaw",
    "verify_saved",
    "where",
]


def where(ctx_or_op: Context | type[Op]) -> str:
    """``op 'name'``, plus the plugin's distribution, version and entry point when it has one."""
    op = ctx_or_op.op if isinstance(ctx_or_op, Context) else ctx_or_op
    text = f"op '{op_spec(op).name}'"
    plugin = getattr(op, "plugin", None)
    if plugin:
        entry = getattr(op, "entry_point", None)
        text += f" (from plugin {plugin}" + (f", entry point {entry})" if entry else ")")
    return text


def note(exc: BaseException, ctx: Context, phase: str) -> None:
    """Add ``"in the <phase> of op '...' (from plugin ...)"`` to ``exc`` once (PEP 678)."""
    text = f"in the {phase} of {where(ctx)}"
    if isinstance(exc, ValueError) and "read-only" in str(exc):
        text += (
            ": an op must not write into its input or saved arrays (they are the caller's "
            "tensors); write into a copy instead (x = x.copy())"
        )
    if text not in getattr(exc, "__notes__", ()):
        exc.add_note(text)


def readonly(arrays: list, op: Any = None) -> list:
    """Read-only views of the arrays (None stays None); views are cheap, no data is copied.

    The inputs that ``op.mutates`` names are passed as they are, writable.
    """
    keep: tuple[int, ...] = ()
    if op is not None and op.mutates:
        from .op import op_spec

        names = op_spec(op).inputs
        keep = tuple(i for i, n in enumerate(names) if n in op.mutates)
    out = []
    for i, a in enumerate(arrays):
        if a is not None and i not in keep:
            a = a.view()
            a.flags.writeable = False
        out.append(a)
    return out


def freeze_for_backward(ctx: Context, grad: Any) -> list:
    """Make every array a plugin's backward can reach read-only while it runs: the saved
    arrays, the inputs' and the output's ``.data`` and the incoming gradient's. Returns the
    arrays it changed, for :func:`thaw`. ``ctx.saved_tensors`` hands back the caller's own
    input Tensors (so double backward stays connected), so without this ``x.data *= 2`` in a
    backward would change the user's ``x``.
    """
    arrays = [a for a in ctx._saved or () if type(a) is np.ndarray]
    arrays += [t.data for t in ctx.inputs if t is not None]
    out = ctx.output
    if out is not None:
        arrays.append(out.data)
    arrays.append(grad if type(grad) is np.ndarray else grad.data)
    frozen = []
    for a in arrays:
        if a.flags.writeable:
            a.flags.writeable = False
            frozen.append(a)
    return frozen


def thaw(frozen: list) -> None:
    """Give back what :func:`freeze_for_backward` took: the arrays are writeable again."""
    for a in frozen:
        a.flags.writeable = True


def check_output(ctx: Context, out: Any, arrays: list, views: list | None) -> np.ndarray:
    """Validate a forward's result; returns it as an ndarray (see the module docstring)."""
    arr = out
    if not isinstance(out, np.ndarray):
        if not isinstance(out, (np.generic, bool, int, float, complex)):
            raise TypeError(
                f"{where(ctx)}: forward returned {type(out).__name__}; expected a numpy array"
            )
        arr = np.asarray(out)
    if arr.dtype.kind not in "biufc":
        raise TypeError(
            f"{where(ctx)}: forward returned an array of dtype {arr.dtype}; expected a numeric "
            "array (bool, integer, floating or complex)"
        )
    saved = ctx._saved
    if saved and (arr is not out or views is not None):
        # point saved references at what the graph holds: the output array, the real inputs
        swap = {id(out): arr}
        if views is not None:
            swap.update({id(v): a for v, a in zip(views, arrays) if v is not None})
        ctx._saved = tuple(swap.get(id(s), s) for s in saved)
    return arr


def check_grad_dtype(
    op: type[Op] | Context | str, index: int, grad_dtype: Any, input_dtype: Any
) -> None:
    """Raise TypeError when a gradient's dtype cannot be fitted to its input's without loss.

    Allowed: floating gradients for floating inputs (any precision: the engine casts), and
    floating or complex gradients for complex inputs. Refused: integer or bool gradients, and
    complex gradients for real inputs (the imaginary part would be dropped). ``opcheck`` and
    ``python -m minigrad plugins check`` apply the same rule.

    >>> import numpy as np
    >>> from minigrad.autograd import check_grad_dtype
    >>> check_grad_dtype("square", 0, np.float64, np.float32)   # fitted by a cast
    >>> check_grad_dtype("square", 0, np.complex64, np.float32)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: op 'square': backward returned a gradient of dtype complex64 for input 0 ...
    """
    g, x = np.dtype(grad_dtype), np.dtype(input_dtype)
    if g.kind == "f" or (g.kind == "c" and x.kind == "c"):
        return
    who = op if isinstance(op, str) else where(op)
    who = f"op '{who}'" if isinstance(op, str) else who
    raise TypeError(
        f"{who}: backward returned a gradient of dtype {g} for input {index} of dtype {x}; "
        "casting it would lose information (complex to real, or to an integer): gradients "
        f"must be floating point{' or complex' if x.kind == 'c' else ''} for "
        f"{'complex' if x.kind == 'c' else 'real'} inputs"
    )


_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
#: arrays up to this many bytes are fingerprinted by a copy of their bytes (exact)
EXACT_BYTES = 4096


def _fingerprint(a: np.ndarray) -> Any:
    """What :func:`verify_saved` compares: equal for the same values in the same C order."""
    if a.nbytes <= EXACT_BYTES:
        return a.tobytes()  # exact: the bytes themselves, in C order whatever the layout
    c = a if a.flags.c_contiguous else np.ascontiguousarray(a)
    crc = zlib.crc32(c.data)  # where each byte sits matters: catches any rearrangement
    if c.nbytes % 8 == 0:
        # the 64-bit words summed with wrap-around: a single element lies inside one word,
        # so changing it changes the sum (no widening cast: 4x faster for float32)
        total = int(np.add.reduce(c.reshape(-1).view(np.uint64), axis=None))
    else:
        u = _UINT.get(c.dtype.itemsize)
        bits = c.view(u) if u is not None else c.view(np.uint8)
        total = int(np.add.reduce(bits, axis=None, dtype=np.uint64))
    return a.shape, a.dtype, crc, total


def fingerprint_saved(ctx: Context) -> list | None:
    """Fingerprints of the saved arrays that are a leaf input's data (None if there are none)."""
    checks = None
    saved = ctx._saved
    for t in ctx.inputs:  # hot path (every recorded op that saves arrays): plain loops
        if t is None or t._node is not None:
            continue
        a = t.data
        for s in saved:
            if s is a:
                # a read-only array that owns its data is a constant (a Python number's):
                # it cannot change. Leaves that require grad are user data: no flags to read
                if t._requires_grad or a.base is not None or a.flags.writeable:
                    fp = a.tobytes() if a.nbytes <= EXACT_BYTES else _fingerprint(a)
                    if checks is None:
                        checks = [(t, fp)]
                    else:
                        checks.append((t, fp))
                break
    return checks


def verify_saved(ctx: Context) -> None:
    """Raise if a leaf input saved by ``ctx`` changed since the forward pass."""
    for t, fp in ctx._checks or ():
        a = t.data
        if (a.tobytes() if a.nbytes <= EXACT_BYTES else _fingerprint(a)) != fp:
            raise RuntimeError(
                f"{where(ctx)}: {_label(t)}, saved for backward, was modified in place after "
                "the forward pass (its data changed before backward()), so the gradient would "
                "be wrong. Change a copy instead, or run the forward pass again after the change."
            )


def _label(t: Tensor) -> str:
    return f"tensor '{t.name}' of shape {t.shape}" if t.name else f"a tensor of shape {t.shape}"


def check_finite(ctx: Context, arr: np.ndarray, what: str) -> None:
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        outer = _backward_of.get()
        inside = f" while computing the backward of {where(outer)}" if outer else ""
        raise FloatingPointError(f"{where(ctx)} produced NaN/Inf in its {what}{inside}")


def run_hooks(hooks: list, g: Tensor, who: str) -> Tensor:
    for hook in list(hooks):
        r = hook(g)
        if r is None:
            continue
        if not isinstance(r, Tensor):
            raise TypeError(
                f"hook {hook!r} on {who} returned {type(r).__name__}; expected a Tensor or None"
            )
        if r.shape != g.shape:
            raise ValueError(
                f"hook {hook!r} on {who} returned a gradient of shape {r.shape}; expected {g.shape}"
            )
        g = r
    return g


class _NotTwiceDifferentiable(Op):
    """Stands for a gradient that an op's backward returned as a plain array."""

    name = "plain_array_grad"
    formula = "(a plain array from another op's backward: not differentiable again)"
    _core = True

    @staticmethod
    def forward(ctx: Context, *inputs: np.ndarray, value: Any = None, source: str = "") -> Any:
        return value

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Any:
        raise RuntimeError(
            f"{ctx.attrs['source']}'s backward returned a plain numpy array, so it cannot be "
            "differentiated again (create_graph=True). Write its backward with minigrad "
            "operations on Tensors (ctx.saved_tensors, grad) to support double backward."
        )


def fit_grad(ctx: Context, i: int, t: Tensor, g: Any, create_graph: bool) -> Tensor:
    """Check one gradient returned by ``ctx.op.backward`` and fit it to input ``t``."""
    if isinstance(g, Tensor):
        arr = g.data
    else:
        try:
            arr = np.asarray(g)
        except Exception:
            arr = None
        if arr is None or arr.dtype.kind not in "biufc":
            raise TypeError(
                f"{where(ctx)}: backward returned {type(g).__name__} for input {i}; "
                "expected a Tensor, a numpy array or None"
            )
        if create_graph:
            from .autograd import apply  # the engine imports this module

            live = tuple(x for x in ctx.inputs if x is not None)
            g = apply(_NotTwiceDifferentiable, live, {"value": arr, "source": where(ctx)})
        else:
            g = Tensor._new(arr, None, False)
    check_grad_dtype(ctx.op, i, arr.dtype, t.dtype)
    if arr.shape != t.shape:
        try:
            ok = np.broadcast_shapes(arr.shape, t.shape) == arr.shape
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(
                f"{where(ctx)}: backward returned a gradient of shape {arr.shape} for input "
                f"{i} of shape {t.shape}; expected the input's shape (or a broadcast of it)"
            )
        g = g.sum_to(t.shape)
    if arr.dtype != t.dtype:
        g = g.astype(t.dtype)
    if _anomaly.get():
        check_finite(ctx, g.data, f"backward (gradient for input {i})")
    return g


def seed_grad(root: Tensor, g: Any) -> Tensor:
    """The starting gradient of one root: ones for a scalar, else the given one, checked."""
    if not root._requires_grad:
        raise RuntimeError(
            f"backward: tensor of shape {root.shape} does not require grad and has no "
            "graph; create its leaves with requires_grad=True"
        )
    if g is None:
        if root.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for a scalar output, "
                f"got shape {root.shape}; pass grad= with that shape (e.g. ones)"
            )
        one = np.array(1, dtype=root.dtype)  # np.ones is a slower Python-level function
        return Tensor._new(one if root.ndim == 0 else one.reshape((1,) * root.ndim), None, False)
    g = as_tensor(g, like=root)
    if g.shape != root.shape:
        raise ValueError(
            f"backward: grad has shape {g.shape} but the output has shape {root.shape}"
        )
    return g


def grad_outputs_list(grad_outputs: Any, n: int) -> list[Any]:
    """One starting gradient per output; a single array or Tensor serves a single output."""
    if grad_outputs is None:
        return [None] * n
    if isinstance(grad_outputs, (Tensor, np.ndarray)):
        return [grad_outputs]
    return list(grad_outputs)
