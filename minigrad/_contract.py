"""What the engine checks around every op call, and how its errors name the op.

- :func:`check_output`: a forward must return a numeric array (bool, integer, floating or
  complex). numpy scalars (what ufuncs return for 0-d inputs) become 0-d arrays, and a saved
  reference to that scalar is pointed at the same array, so ``saved_tensors`` returns the
  op's output Tensor and double backward through 0-d intermediates stays connected.
- :func:`check_grad_dtype`: the gradient dtype policy (see :mod:`minigrad.autograd`).
- :func:`fingerprint_saved` / :func:`verify_saved`: in-place changes of saved inputs.
- :func:`readonly`: plugin ops get read-only views of their inputs.
- :func:`note`: an exception from an op's forward or backward keeps its type and gains a
  PEP 678 note naming the op, its plugin and the phase.

Why fingerprints (and not a version counter): users change data through numpy
(``x.data[0] = 100``), which minigrad never sees, so there is nothing to bump. Instead, when an
op saves the array of a *leaf* tensor (an input or a parameter: what user code owns and
changes), the engine keeps a fingerprint of it and compares it before that op's backward
runs. The fingerprint is exact for arrays of up to 64 elements (their bytes) and, above that,
the sum of the elements' bit patterns modulo 2**64 (one integer reduction, about as fast as
one elementwise op over the array; any change of a single element changes it). Intermediate
tensors are not fingerprinted: hashing every activation would double the cost of cheap ops,
and user code rarely writes into them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .op import Context, Op, op_spec

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "check_grad_dtype",
    "check_output",
    "fingerprint_saved",
    "note",
    "readonly",
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


def readonly(arrays: list) -> list:
    """Read-only views of the arrays (None stays None); views are cheap, no data is copied."""
    out = []
    for a in arrays:
        if a is not None:
            a = a.view()
            a.flags.writeable = False
        out.append(a)
    return out


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


def _fingerprint(a: np.ndarray) -> Any:
    if a.size <= 64:
        return a.shape, a.dtype, a.tobytes()
    u = _UINT.get(a.dtype.itemsize)
    bits = a.view(u) if u is not None else np.ascontiguousarray(a).view(np.uint8)
    return a.shape, a.dtype, int(np.add.reduce(bits, axis=None, dtype=np.uint64))


def fingerprint_saved(ctx: Context) -> tuple | None:
    """Fingerprints of the saved arrays that are a leaf input's data (None if there are none)."""
    checks = None
    for a in ctx._saved or ():
        if type(a) is not np.ndarray:
            continue
        for t in ctx.inputs:
            if t is not None and t.data is a and t._node is None:
                entry = (t, _fingerprint(a))
                checks = (entry,) if checks is None else (*checks, entry)
                break
    return checks


def verify_saved(ctx: Context) -> None:
    """Raise if a leaf input saved by ``ctx`` changed since the forward pass."""
    for t, fp in ctx._checks or ():
        if _fingerprint(t.data) != fp:
            raise RuntimeError(
                f"{where(ctx)}: {_label(t)}, saved for backward, was modified in place after "
                "the forward pass (its data changed before backward()), so the gradient would "
                "be wrong. Change a copy instead, or run the forward pass again after the change."
            )


def _label(t: Tensor) -> str:
    return f"tensor '{t.name}' of shape {t.shape}" if t.name else f"a tensor of shape {t.shape}"
