"""The gradient rules: what the engine checks and fits around every backward step.

:mod:`minigrad.autograd` runs the backward pass; this module says what a gradient must be
and how errors read, in the order a step meets them:

- :func:`seed_grad`: the starting gradient of a root (ones for a one-element output);
- :func:`save_checks` / :func:`verify_saved`: a saved input changed in place since the
  forward pass is an error before the backward that reads it runs;
- :func:`fit_grad`: each gradient an op's backward returns is checked and fitted to its input:
  broadcast gradients are summed back to the input's shape, a float64 gradient for a
  float32 input is cast, and anything that would lose information
  (complex to real, integer or bool gradients: :func:`check_grad_dtype`) is an error;
- :func:`run_hooks`: user hooks may replace a gradient with a Tensor of the same shape;
- :func:`where` and :func:`note`: errors name the op and, for a plugin op, its
  distribution, version and entry point (PEP 678 notes on errors raised inside an op).

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

from .op import Context, Op, op_spec
from .tensor import Tensor, as_tensor, new_tensor

__all__ = [
    "PlainArrayGrad",
    "as_grad_array",
    "check_finite",
    "check_grad_dtype",
    "fit_grad",
    "freeze_for_backward",
    "grad_outputs_list",
    "note",
    "run_hooks",
    "save_checks",
    "seed_grad",
    "thaw",
    "verify_saved",
    "where",
]


def where(ctx_or_op: Context | type[Op]) -> str:
    """``op 'name'``, plus the plugin's distribution, version and entry point when it has one.

    >>> from minigrad.functional import Mul
    >>> where(Mul)
    "op 'mul'"
    """
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
    notes = getattr(exc, "__notes__", None)
    if notes is None:  # what BaseException.add_note (Python 3.11+) does, on 3.10 as well
        exc.__notes__ = [text]
    elif text not in notes:
        notes.append(text)


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


def check_grad_dtype(
    op: type[Op] | Context | str, index: int, grad_dtype: Any, input_dtype: Any
) -> None:
    """Raise TypeError when a gradient's dtype cannot be fitted to its input's without loss.

    Allowed: floating gradients for floating inputs (any precision: the engine casts), and
    floating or complex gradients for complex inputs. Refused: integer or bool gradients, and
    complex gradients for real inputs (the imaginary part would be dropped). ``opcheck`` and
    ``python -m minigrad plugins check`` apply the same rule.

    >>> import numpy as np
    >>> from minigrad.gradients import check_grad_dtype
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


def save_checks(ctx: Context) -> list | None:
    """Fingerprints of the saved arrays that are a leaf input's data (None if there are none)."""
    checks = None
    saved = ctx._saved or ()
    for t in ctx._inputs:  # hot path (every recorded op that saves arrays): plain loops
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


def check_finite(ctx: Context, arr: np.ndarray, what: str, inside: Context | None) -> None:
    """Anomaly mode: raise FloatingPointError if ``arr`` holds NaN or Inf, naming the op
    (and ``inside``, the node whose backward was running, if any)."""
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        during = f" while computing the backward of {where(inside)}" if inside else ""
        raise FloatingPointError(f"{where(ctx)} produced NaN/Inf in its {what}{during}")


def run_hooks(hooks: list, g: Tensor, who: str) -> Tensor:
    """Call each hook on the gradient; a returned Tensor (same shape) replaces it.

    >>> import minigrad as mg
    >>> run_hooks([lambda g: None, lambda g: g * 2], mg.tensor([1.0]), "x").data
    array([2.], dtype=float32)
    """
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


class PlainArrayGrad(Op):
    """Stands, with ``create_graph=True``, for a gradient an op's backward returned as a plain
    numpy array: the value flows on, and differentiating it again raises naming the op."""

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


def as_grad_array(ctx: Context, i: int, g: Any) -> np.ndarray:
    """A gradient that is not a Tensor, as a numeric array (else a TypeError naming the op).

    >>> import minigrad as mg
    >>> as_grad_array((mg.tensor([1.0], requires_grad=True) * 2)._node, 0, [1.0, 2.0])
    array([1., 2.])
    """
    try:
        arr = np.asarray(g)
    except Exception:
        arr = None
    if arr is None or arr.dtype.kind not in "biufc":
        raise TypeError(
            f"{where(ctx)}: backward returned {type(g).__name__} for input {i}; "
            "expected a Tensor, a numpy array or None"
        )
    return arr


def fit_grad(ctx: Context, i: int, t: Tensor, g: Tensor) -> Tensor:
    """Check gradient ``g`` that ``ctx.op.backward`` returned for input ``i`` (``t``) and fit
    it to ``t``: sum a broadcast gradient back to ``t.shape``, cast it to ``t.dtype``.

    >>> import numpy as np, minigrad as mg
    >>> b = mg.tensor([1.0, 2.0], requires_grad=True)
    >>> node = (mg.ones(3, 2) + b)._node
    >>> fit_grad(node, 1, b, mg.ones(3, 2, dtype=np.float64)).data   # summed, cast
    array([3., 3.], dtype=float32)
    """
    arr = g.data
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
    return g


def seed_grad(root: Tensor, g: Any) -> Tensor:
    """The starting gradient of one root: ones for a scalar, else the given one, checked.

    >>> import minigrad as mg
    >>> seed_grad(mg.tensor([[2.0]], requires_grad=True), None).data
    array([[1.]], dtype=float32)
    """
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
        return new_tensor(one if root.ndim == 0 else one.reshape((1,) * root.ndim))
    g = as_tensor(g, like=root)
    if g.shape != root.shape:
        raise ValueError(
            f"backward: grad has shape {g.shape} but the output has shape {root.shape}"
        )
    return g


def grad_outputs_list(grad_outputs: Any, n: int) -> list[Any]:
    """One starting gradient per output; a single array or Tensor serves a single output.

    >>> grad_outputs_list(None, 2), len(grad_outputs_list(np.ones(3), 1))
    ([None, None], 1)
    """
    if grad_outputs is None:
        return [None] * n
    if isinstance(grad_outputs, (Tensor, np.ndarray)):
        return [grad_outputs]
    return list(grad_outputs)
