"""The demo's optional dependencies: which are missing, and one message that says so.

matplotlib (the pictures) and tqdm (the progress bar) are the extra ``demo``; scikit-learn
(the digits data set) is the extra ``digits``. Only scikit-learn is required, and only by the
digits task: without matplotlib the demo still trains and writes its graphs, skipping the
pictures; without tqdm it trains without a progress bar.

>>> missing_extras("xo", available=lambda module: module != "tqdm")
[Extra(module='tqdm', extra='demo', purpose='the progress bar', required=False)]
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import NamedTuple

__all__ = [
    "Extra",
    "MissingExtraError",
    "TASKS",
    "check_extras",
    "check_task",
    "install_hint",
    "missing_extras",
    "require",
]

TASKS: tuple[str, ...] = ("xo", "digits")
"""The demo's tasks, the first being the default."""


class Extra(NamedTuple):
    """One optional dependency: its module, the extra that brings it, what it is for."""

    module: str
    extra: str
    purpose: str
    required: bool


# module -> (extra, what the demo uses it for)
_EXTRAS: dict[str, tuple[str, str]] = {
    "matplotlib": ("demo", "the pictures"),
    "tqdm": ("demo", "the progress bar"),
    "sklearn": ("digits", "the handwritten digits data set"),
}
_DISTRIBUTIONS = {"sklearn": "scikit-learn"}
# the modules each task uses, and which of them it cannot run without
_NEEDS: dict[str, tuple[tuple[str, bool], ...]] = {
    "xo": (("matplotlib", False), ("tqdm", False)),
    "digits": (("sklearn", True), ("matplotlib", False), ("tqdm", False)),
}


def install_hint(extras: Sequence[str]) -> str:
    """The pip command that installs the given extras of minigrad.

    >>> install_hint(["demo", "digits"])
    'pip install "minigrad-cnn[demo,digits]"'
    """
    return f'pip install "minigrad-cnn[{",".join(sorted(set(extras)))}]"'


def _describe(extras: Sequence[Extra]) -> str:
    return ", ".join(f"{_DISTRIBUTIONS.get(e.module, e.module)} ({e.purpose})" for e in extras)


class MissingExtraError(ImportError):
    """An optional dependency the demo cannot do without is missing; the message lists every
    missing one and the single pip command that installs them all.

    >>> err = MissingExtraError("sklearn", "digits", "the handwritten digits data set")
    >>> err.hint
    'pip install "minigrad-cnn[digits]"'
    """

    def __init__(
        self, module: str, extra: str, purpose: str, optional: Sequence[Extra] = ()
    ) -> None:
        self.module = module
        self.extra = extra
        self.optional = list(optional)
        self.hint = install_hint([extra, *(e.extra for e in self.optional)])
        dist = _DISTRIBUTIONS.get(module, module)
        text = (
            f"the demo needs {dist} for {purpose}, but it is not installed; it comes with "
            f"minigrad's optional extra '{extra}'"
        )
        if self.optional:
            text += f"; also missing, for the rest of the demo: {_describe(self.optional)}"
        super().__init__(f"{text}. Install everything with: {self.hint}", name=module)


def installed(module: str) -> bool:
    """Whether ``module`` can be found (False for a blocked or broken one)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module blocked in sys.modules, or a broken one
        return False


def check_task(task: str) -> None:
    """Raise ``ValueError`` naming the known tasks unless ``task`` is one of them."""
    if task not in TASKS:
        raise ValueError(f"demo: unknown task {task!r}; expected one of {', '.join(TASKS)}")


def missing_extras(task: str = "xo", available: Callable[[str], bool] = installed) -> list[Extra]:
    """Every optional dependency ``task`` would use that is not installed, required first."""
    check_task(task)
    missing = [
        Extra(module, *_EXTRAS[module], required)
        for module, required in _NEEDS[task]
        if not available(module)
    ]
    return sorted(missing, key=lambda e: not e.required)


def check_extras(task: str = "xo") -> list[Extra]:
    """Raise :class:`MissingExtraError` if ``task`` cannot run; else return the optional
    dependencies that are missing (the demo runs without them and says what it skipped).

    >>> check_extras("xo")   # matplotlib and tqdm are installed here  # doctest: +SKIP
    []
    """
    missing = missing_extras(task)
    required = [e for e in missing if e.required]
    if required:
        first = required[0]
        raise MissingExtraError(first.module, first.extra, first.purpose, missing[1:])
    return missing


def require(module: str) -> ModuleType:
    """Import an optional dependency of the demo, or raise :class:`MissingExtraError`.

    >>> require("numpy").__name__
    'numpy'
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        extra, purpose = _EXTRAS.get(module, ("demo", "the demo"))
        raise MissingExtraError(module, extra, purpose) from err
