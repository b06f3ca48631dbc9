"""``python -m minigrad plugins list|check``: see and test the registered plugin ops.

    python -m minigrad plugins [list]            table of ops: name, status, distribution...
    python -m minigrad plugins list --load       import every op first (shows broken ones)
    python -m minigrad plugins list --formulas   also print each op's derivative card
    python -m minigrad plugins check [NAME ...]  load each op and opcheck its sample inputs

``check`` runs :func:`minigrad.testing.opcheck` on every ``(args, attrs)`` pair returned by
the op class's optional ``sample_inputs()`` staticmethod and prints PASS/FAIL per op; the
exit code is 1 when any op fails. Ops without ``sample_inputs`` are reported as
"no samples", and ops without a ``formula`` (derivative card) get a "warning" line; neither
is a failure.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

from minigrad.plugins import PluginDisabledError, PluginError, PluginInfo, Registry

__all__ = ["add_parser", "check_op", "format_formulas", "format_table", "run_check", "run_list"]

_COLUMNS = ("NAME", "STATUS", "DISTRIBUTION", "VERSION", "ENTRY POINT")
#: what ``plugins check`` says about an op without a derivative card
NO_FORMULA = (
    'no formula: add a class attribute such as formula = "dx = dy * (x > 0)" (the '
    "derivative card that graph tooltips and the explorer show)"
)


def _registry() -> Registry:
    from minigrad import plugins

    return plugins.registry


def format_table(records: Sequence[PluginInfo]) -> str:
    """The ``plugins list`` table: aligned columns, then one line per op with an error.

    >>> from minigrad.plugins import PluginInfo
    >>> print(format_table([PluginInfo("swish", "my_layers:Swish", "my-layers", "1.0", "loaded")]))
    NAME   STATUS  DISTRIBUTION  VERSION  ENTRY POINT
    swish  loaded  my-layers     1.0      my_layers:Swish
    """
    rows = [_COLUMNS]
    for r in records:
        dist = r.distribution or ("(register_op)" if r.source == "register_op" else "-")
        rows.append((r.name, r.status, dist, r.version or "-", r.entry_point))
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS) - 1)]
    lines = [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[-1]]).rstrip()
        for row in rows
    ]
    if not records:
        lines.append("(no ops found in entry-point group 'minigrad.ops')")
    problems = [r for r in records if r.error]
    if problems:
        lines.append("")
        lines.append("Details:")
        for r in problems:
            where = f"{r.distribution}::{r.name}" if r.distribution else r.name
            lines.append(f"  {where}: {r.error}")
    return "\n".join(lines)


def format_formulas(records: Sequence[PluginInfo]) -> str:
    """The ``plugins list --formulas`` section: each op's derivative card.

    >>> from minigrad.plugins import PluginInfo
    >>> rows = [PluginInfo("relu", "m:ReLU", "d", "1", "loaded", formula="dx = dy * (x > 0)")]
    >>> print(format_formulas(rows))
    Formulas (derivative cards):
      relu  dx = dy * (x > 0)
    """
    shown = [r for r in records if r.status == "loaded"]
    width = max((len(r.name) for r in shown), default=0)
    lines = ["Formulas (derivative cards):"]
    for r in shown:
        lines.append(f"  {r.name:<{width}}  {r.formula or '(none: the op declares no formula)'}")
    return "\n".join(lines)


def run_list(
    load: bool = False,
    registry: Registry | None = None,
    out: TextIO | None = None,
    formulas: bool = False,
) -> int:
    """Print the table of ops (importing each first when ``load`` or ``formulas``); returns 0.

    With ``formulas``, a section after the table gives each loaded op's derivative card.

    >>> from minigrad.plugins import Registry
    >>> run_list(registry=Registry(entry_points_fn=lambda: []))  # doctest: +ELLIPSIS
    NAME  STATUS  DISTRIBUTION  VERSION  ENTRY POINT
    (no ops found ...)
    0
    """
    registry = registry or _registry()
    out = out or sys.stdout
    if load or formulas:
        for name in registry.names():
            with contextlib.suppress(PluginError):  # shows as broken/conflict in the table
                registry.get(name)
    records = registry.available()
    print(format_table(records), file=out)
    if formulas:
        print("", file=out)
        print(format_formulas(records), file=out)
    return 0


def check_op(fn: Any, check_double_backward: bool = True) -> tuple[str, str]:
    """Run opcheck on the sample inputs of the op behind ``fn`` (an ``mg.ops`` function).

    Returns ``(status, detail)`` with status ``"PASS"``, ``"FAIL"`` or ``"no samples"``.
    (:func:`run_check` reports ops switched off by an environment variable as "disabled".)

    >>> import minigrad as mg
    >>> class Negate(mg.Op):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         return -x
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         return -grad
    >>> reg = mg.plugins.Registry(entry_points_fn=list)
    >>> reg.register_op("negate", Negate)
    >>> check_op(reg.ops.negate)
    ('no samples', 'define a staticmethod sample_inputs() to have it checked')
    """
    from minigrad.testing import OpcheckWarning, opcheck

    cls = fn.op
    sampler = getattr(cls, "sample_inputs", None)
    if sampler is None:
        return "no samples", "define a staticmethod sample_inputs() to have it checked"
    try:
        samples = list(sampler())
    except Exception as e:
        return "FAIL", f"sample_inputs() raised {type(e).__name__}: {e}"
    if not samples:
        return "no samples", "sample_inputs() returned an empty list"
    notes: list[str] = []
    for k, sample in enumerate(samples, start=1):
        try:
            args, attrs = sample
            with warnings.catch_warnings():  # said in the detail column instead
                warnings.simplefilter("ignore", OpcheckWarning)
                result = opcheck(
                    cls, *args, check_double_backward=check_double_backward, **dict(attrs)
                )
        except Exception as e:
            return "FAIL", f"sample {k} of {len(samples)}: {type(e).__name__}: {e}"
        notes.extend(n for n in result.notes if n not in notes)
    detail = f"{len(samples)} sample(s)"
    if any(n.startswith("checked first order only") for n in notes):
        detail += (
            "; first order only: backward returns numpy arrays, so double backward was not "
            "checked (write backward with minigrad ops on ctx.saved_tensors and grad)"
        )
    return "PASS", detail


def run_check(
    names: Sequence[str] = (),
    check_double_backward: bool = True,
    registry: Registry | None = None,
    out: TextIO | None = None,
) -> int:
    """Load the named ops (default: all) and opcheck their samples; 1 if any fails.

    >>> from minigrad.plugins import Registry
    >>> run_check(registry=Registry(entry_points_fn=lambda: []))
    0 passed, 0 failed, 0 without samples
    0
    """
    registry = registry or _registry()
    out = out or sys.stdout
    if not names:
        # every name, including conflicting or broken ones: they are failures to report
        names = sorted({r.name for r in registry.available() if r.status != "disabled"})
    width = max((len(n) for n in names), default=0)
    counts = {"PASS": 0, "FAIL": 0, "no samples": 0, "disabled": 0}
    warned = 0
    for name in names:
        fn = None
        try:
            fn = registry.get(name)
        except PluginDisabledError as e:
            status, detail = "disabled", str(e)  # switched off on purpose: not a failure
        except Exception as e:
            status, detail = "FAIL", f"{type(e).__name__}: {e}"
        else:
            status, detail = check_op(fn, check_double_backward)
        counts[status] += 1
        print(f"{status:<10}  {name:<{width}}  {detail}", file=out)
        if status != "disabled" and fn is not None and not getattr(fn, "formula", None):
            # a warning, never a failure: the op works, inspectors just cannot explain it
            warned += 1
            print(f"{'warning':<10}  {name:<{width}}  {NO_FORMULA}", file=out)
    summary = f"{counts['PASS']} passed, {counts['FAIL']} failed"
    summary += f", {counts['no samples']} without samples"
    if counts["disabled"]:
        summary += f", {counts['disabled']} disabled"
    if warned:
        summary += f", {warned} without a formula (warning)"
    print(summary, file=out)
    return 1 if counts["FAIL"] else 0


def _main(args: argparse.Namespace) -> int:
    if args.action == "check":
        return run_check(args.names, check_double_backward=not args.first_order)
    return run_list(load=getattr(args, "load", False), formulas=getattr(args, "formulas", False))


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``plugins`` with its ``list`` and ``check`` actions."""
    parser = subparsers.add_parser(
        "plugins",
        help="list or check the registered plugin ops",
        description="List the ops found in the 'minigrad.ops' entry-point group, or check them.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")  # default: list
    p_list = actions.add_parser("list", help="print the table of plugin ops")
    p_list.add_argument(
        "--load", action="store_true", help="import every op first, so broken ones show up"
    )
    p_list.add_argument(
        "--formulas",
        action="store_true",
        help="also print each op's derivative card (imports every op, like --load)",
    )
    p_check = actions.add_parser(
        "check", help="load ops and run minigrad.testing.opcheck on their sample inputs"
    )
    p_check.add_argument(
        "names", nargs="*", metavar="NAME", help="ops to check (NAME or DIST::NAME); default all"
    )
    p_check.add_argument(
        "--first-order",
        action="store_true",
        help="skip the double-backward check (ops whose backward returns plain arrays)",
    )
    parser.set_defaults(func=_main)
    return parser
