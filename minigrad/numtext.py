"""Numbers in written-out arithmetic, one way everywhere: ``explain()`` text, the stepper's
lines, the derivative cards and an optimizer's ``explain_update`` (the pages' JavaScript
follows the same rules in ``MG.fmt``, ``MG.term`` and ``MG.sumText`` of
minigrad/graph/explorer/static/00_core.js).

The rules:

- a number has at most ``digits`` significant digits (6 in ``explain()`` text, 4 in the
  stepper), no trailing zeros, and an ASCII minus; ``-0`` is ``0``. It is written as
  Python's ``format(x, ".6g")`` writes it: plain from 0.0001 up to ``10**digits``
  (``-0.00027165``, ``123457``), in powers of ten outside (``1e-08``, ``1.23457e+06``: a
  signed exponent of at least two digits). Rounding is of the exact value of the float,
  half away from zero, which is what the browser's ``toExponential`` does, so the page's
  ``MG.fmt`` writes the very same text;
- inside a sum or a product a negative number is in parentheses:
  ``0.4*(-1) + (-0.0623) (bias)``, never ``+ -0.0623``;
- a result that is 0 within the rounding of its terms is written ``0``: a sum whose terms
  cancel shows ``0``, not the float32 noise ``-3.7e-09`` (below one millionth of the sum of
  the terms' sizes, which is under what 6 digits of the terms can show);
- a long sum of gradient terms leads with its largest terms, then ``+ N more terms``.

>>> sum_text([term(0.4) + "*" + term(-1.0), term(0.5) + "*" + term(2.0)], 0.6, bias=-0.0623)
'0.4*(-1) + 0.5*2 + (-0.0623) (bias) = 0.6'
>>> sum_text(["0.25", "(-0.25)"], -3.7e-09, scale=0.5)
'0.25 + (-0.25) = 0'
>>> sum_text(["(-0.5)*2", "1"], 0.0, scale=2.0)
'-0.5*2 + 1 = 0'
>>> sum_text(["1", "0", "3", "0", "2"], 6.0, sizes=[1, 0, 3, 0, 2], keep=2, limit=4)
'3 + 2 + 3 more terms = 6'
>>> sum_text(["0", "5", "0", "0", "0"], 5.0, sizes=[0, 5, 0, 0, 0], keep=2, limit=4)
'5 + 4 more terms, all 0 = 5'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

import numpy as np

__all__ = ["NOISE", "lead", "num", "snap", "sum_text", "term"]

#: a result smaller than NOISE times the sum of its terms' sizes is written 0
NOISE = 1e-6


_EXACT = Context(prec=1100, rounding=ROUND_HALF_UP)  # any float's exact decimal value fits


def num(x: Any, digits: int = 6) -> str:
    """``x`` with at most ``digits`` significant digits: ``num(0.1234567) == '0.123457'``,
    ``num(-2.7165e-4) == '-0.00027165'``, ``num(1e-8) == '1e-08'``."""
    v = float(x)
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"  # also -0.0
    d = max(1, int(digits))
    exact = Decimal(v)
    e = exact.adjusted()
    q = exact.quantize(Decimal((0, (1,), e - d + 1)), context=_EXACT)
    if q.adjusted() > e:  # rounded up to the next power of ten: 9.9996 -> 10.00
        e += 1
        q = exact.quantize(Decimal((0, (1,), e - d + 1)), context=_EXACT)
    ds = "".join(map(str, q.as_tuple().digits)).ljust(d, "0")[:d]
    sign = "-" if v < 0 else ""
    if e < -4 or e >= d:
        frac = ds[1:].rstrip("0")
        return f"{sign}{ds[0]}{'.' + frac if frac else ''}e{'-' if e < 0 else '+'}{abs(e):02d}"
    whole, frac = (ds[: e + 1], ds[e + 1 :]) if e >= 0 else ("0", "0" * (-e - 1) + ds)
    frac = frac.rstrip("0")
    return f"{sign}{whole}{'.' + frac if frac else ''}"


def term(x: Any, digits: int = 6) -> str:
    """A number inside a sum or product: negatives in parentheses, ``term(-1) == '(-1)'``."""
    text = num(x, digits)
    return f"({text})" if text.startswith("-") else text


def lead(part: str) -> str:
    """The part that opens a sum: its first number without parentheses,
    ``lead('(-0.5)*2') == '-0.5*2'``."""
    return re.sub(r"^\((-[^()]*)\)", r"\1", part)


def snap(value: Any, scale: Any) -> float:
    """``value``, or 0.0 when it is within rounding noise of 0 for terms of total size
    ``scale`` (``|value| <= NOISE * scale``)."""
    v = float(value)
    s = float(scale)
    return 0.0 if v != 0 and s == s and abs(v) <= NOISE * abs(s) else v


def sum_text(
    parts: Sequence[str],
    value: Any,
    *,
    bias: Any = None,
    sizes: Sequence[float] | np.ndarray | None = None,
    scale: Any = None,
    keep: int = 6,
    limit: int = 12,
    digits: int = 6,
) -> str:
    """``parts`` joined by `` + ``, then ``= value``.

    ``sizes`` (the terms' values): a sum longer than ``limit`` leads with its ``keep``
    largest terms (zeros left out), then ``+ N more terms`` (``, all 0`` when they are);
    without them a long sum shows its first terms, ``...`` and the last one, in order.
    ``scale`` (default: the sum of ``|sizes|``) decides when ``value`` is float noise around
    0. ``bias`` is added as ``+ (bias) (bias)``.
    """
    shown = list(parts)
    if sizes is not None:
        mags = np.abs(np.asarray(sizes, dtype=np.float64)).ravel()
        if scale is None:
            scale = float(np.nansum(mags)) + (0.0 if bias is None else abs(float(bias)))
        if len(shown) > limit:
            top = np.argsort(-np.nan_to_num(mags, nan=np.inf), kind="stable")[:keep]
            order = [int(k) for k in top if mags[k] != 0] or [int(top[0])]
            rest = len(parts) - len(order)
            zero = not np.any(np.delete(mags, order))
            shown = [shown[k] for k in order] + [f"{rest} more terms" + (", all 0" if zero else "")]
    elif len(shown) > limit:
        shown = [*shown[: limit - 2], "...", shown[-1]]
    if shown:
        shown[0] = lead(shown[0])
    text = " + ".join(shown) if shown else "0"
    if bias is not None:
        text += f" + {term(bias, digits)} (bias)"
    v = snap(value, scale) if scale is not None else float(value)
    return f"{text} = {num(v, digits)}"
