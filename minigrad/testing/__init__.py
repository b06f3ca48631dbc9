"""Checks for op authors: finite-difference gradient checks and the Op contract.

- :func:`gradcheck`: first derivatives against float64 central differences.
- :func:`gradgradcheck`: second derivatives (double backward) the same way. Its errors say
  "second order (double backward)" and, when the first-order gradients do not depend on an
  input in the recorded graph, that the backward left the graph, and how to fix it.
- :func:`opcheck`: the Op contract (what forward and backward return, determinism, no
  in-place writes, the engine's gradient shape and dtype rules), then both checks above. A
  backward returning plain numpy arrays is allowed for first-order use: ``opcheck`` then
  checks first order only and says why (:class:`OpcheckWarning` and ``result.notes``).

>>> import minigrad as mg
>>> from minigrad.testing import gradcheck, gradgradcheck
>>> x = mg.randn(3, dtype="float64", requires_grad=True)
>>> gradcheck(lambda t: (t * t).sum(), x)
True
>>> gradgradcheck(lambda t: (t * t * t).sum(), x)
True
"""

from __future__ import annotations

from .gradcheck import LEAVES_GRAPH_HINT, GradcheckError, gradcheck, gradgradcheck
from .opcheck import OpcheckResult, OpcheckWarning, opcheck

__all__ = [
    "LEAVES_GRAPH_HINT",
    "GradcheckError",
    "OpcheckResult",
    "OpcheckWarning",
    "gradcheck",
    "gradgradcheck",
    "opcheck",
]


def __dir__() -> list[str]:
    return sorted(__all__)  # the public names only (tab completion)
