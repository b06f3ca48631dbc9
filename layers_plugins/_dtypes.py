"""The one dtype rule of the CNN ops: real floating point in, the same dtype out.

Every data input of a layers_plugins op (images, weights, biases, activations, scores,
probabilities and the gradients the companion ops take) must be ``float16``, ``float32`` or
``float64``. Integer, bool and complex arrays are rejected with a ``TypeError`` that names the
op, the argument and its dtype: a relu of an integer image or an average of complex numbers
would otherwise be silently cast (and the imaginary part silently dropped). The output keeps the
input's dtype; two float inputs of different widths follow numpy's promotion (a float32 image
with float64 weights gives float64).

``sigmoid`` and ``tanh`` are the elementwise functions that PyTorch also offers as ``torch.sigmoid``
and ``torch.tanh``: like ``exp`` and ``log`` in minigrad's core, they take integer and bool inputs
too and give float32, the default float dtype (:func:`float_or_promoted`).

Index-like inputs are the exception, because they are not data: the class indices of
``cross_entropy`` (integers), the labels of ``log_loss`` (floats, integers or bools, cast to the
probabilities' dtype) and the winner ``offsets`` of the max-pooling companions (unsigned ints).

>>> import numpy as np
>>> check_float("relu", "x", np.zeros(2, dtype=np.float32))
>>> check_float("relu", "x", np.zeros(2, dtype=np.int64))
Traceback (most recent call last):
...
TypeError: relu: x has dtype int64; the CNN ops take real floating-point arrays (float16, \
float32 or float64): convert it first, e.g. with dtype="float32"
"""

from __future__ import annotations

import numpy as np

__all__ = ["FLOAT_DTYPES", "check_float", "float_or_promoted"]

FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def check_float(op: str, what: str, a: np.ndarray) -> None:
    """Raise ``TypeError`` unless ``a`` is float16, float32 or float64 (see the module notes)."""
    dtype = a.dtype
    if dtype in FLOAT_DTYPES:
        return
    if dtype.kind == "c":
        why = " (complex numbers are not supported)"
    elif dtype.kind == "f":
        why = " (extended precision is not supported)"
    else:
        why = ""
    raise TypeError(
        f"{op}: {what} has dtype {dtype}{why}; the CNN ops take real floating-point arrays "
        '(float16, float32 or float64): convert it first, e.g. with dtype="float32"'
    )


def float_or_promoted(op: str, what: str, a: np.ndarray) -> np.ndarray:
    """``a`` itself when it is float16/32/64; an integer or bool ``a`` as float32, as PyTorch's
    ``torch.sigmoid`` does; anything else raises as :func:`check_float`.

    >>> float_or_promoted("sigmoid", "x", np.arange(3)).dtype
    dtype('float32')
    """
    if a.dtype.kind in "iub":
        return a.astype(np.float32)
    check_float(op, what, a)
    return a
