"""The one dtype rule of the CNN ops: real floating point in, the same dtype out.

Every data input of a layers_plugins op (images, weights, biases, activations, scores,
probabilities and the gradients the companion ops take) must be ``float16``, ``float32`` or
``float64``. Integer, bool and complex arrays are rejected with a ``TypeError`` that names the
op, the argument and its dtype: a relu of an integer image or an average of complex numbers
would otherwise be silently cast (and the imaginary part silently dropped). The output keeps the
input's dtype; two float inputs of different widths follow numpy's promotion (a float32 image
with float64 weights gives float64).

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

__all__ = ["FLOAT_DTYPES", "check_float"]

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
