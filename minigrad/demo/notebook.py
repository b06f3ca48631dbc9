"""What the tutorials share: where pictures go, fast mode, showing figures and drawings inline.

Each tutorial starts with::

    from minigrad.demo.notebook import FAST, out_dir, plt, save, show, show_matrix

so it runs the same from any working directory, as a script (pictures go to files only) or as
a notebook (pictures go to files *and* show inline under the cell).

``out_dir(stem)`` is ``$MINIGRAD_TUTORIAL_OUT`` when set, else ``out/tutorials/<stem>``;
``FAST`` is True when ``MINIGRAD_FAST=1`` (fewer epochs, for the test suite). ``plt`` is
``matplotlib.pyplot`` (the optional extra ``demo``), imported when first asked for.

>>> fmt_number(-7.5e-09), fmt_number(0.5556), fmt_number(3.0)
('0', '0.56', '3')
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "FAST",
    "fmt_number",
    "in_notebook",
    "out_dir",
    "save",
    "show",
    "show_matrix",
    "tutorials_dir",
]

FAST: bool = os.environ.get("MINIGRAD_FAST") == "1"


def __getattr__(name: str) -> Any:
    # pyplot on first use: importing this module needs no matplotlib, and pyplot picks its
    # backend itself (inline in Jupyter, a file-only one when there is no display)
    if name == "plt":
        import matplotlib.pyplot

        return matplotlib.pyplot
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where figures and drawings can show inline)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def show(obj: Any) -> None:
    """Show a figure or a drawing under the current notebook cell; nothing in a script."""
    if in_notebook():
        from IPython.display import display

        display(obj)


def out_dir(stem: str) -> Path:
    """The folder a tutorial writes its pictures to (created if needed).

    >>> out_dir("01_filters_by_hand")        # doctest: +SKIP
    PosixPath('out/tutorials/01_filters_by_hand')
    """
    path = Path(os.environ.get("MINIGRAD_TUTORIAL_OUT") or Path("out") / "tutorials" / stem)
    path.mkdir(parents=True, exist_ok=True)
    return path


def tutorials_dir() -> Path:
    """The ``tutorials/`` folder of the minigrad checkout, wherever the tutorial runs from.

    Looks next to the running script, then in the working directory and its ``tutorials/``,
    then next to the ``minigrad`` package (an editable install or a source checkout).
    """
    import minigrad

    main = getattr(sys.modules.get("__main__"), "__file__", None)
    candidates = [Path(main).resolve().parent] if main else []
    cwd = Path.cwd()
    checkout = Path(minigrad.__file__).resolve().parents[1]
    candidates += [cwd, cwd / "tutorials", checkout / "tutorials"]
    for folder in candidates:
        if (folder / "swish_plugin" / "pyproject.toml").is_file():
            return folder
    raise FileNotFoundError(
        "cannot find minigrad's tutorials/ folder (with swish_plugin/ in it); looked in "
        + ", ".join(str(c) for c in candidates)
        + ". Run the tutorial from a clone of the minigrad repository."
    )


def save(fig: Any, folder: Path, name: str) -> None:
    """Write ``fig`` to ``folder/name.png``, show it in a notebook, close it, say where it went.

    Returns nothing, so a ``save(...)`` at the end of a cell adds no output of its own.

    >>> save(fig, OUT, "maps")                # doctest: +SKIP
    wrote out/tutorials/02_matching_features/maps.png
    """
    path = Path(folder) / f"{name}.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    show(fig)
    import matplotlib.pyplot as plt

    plt.close(fig)  # shown once: the notebook's automatic display skips closed figures
    print("wrote", path)


def fmt_number(v: float, digits: int = 2) -> str:
    """A number as the tutorials print it: ``digits`` decimals, trailing zeros dropped, and
    anything that rounds to zero shown as ``0`` (float noise such as -7.5e-09 included).

    >>> fmt_number(0.78), fmt_number(-0.004), fmt_number(12.0), fmt_number(1 / 3, 3)
    ('0.78', '0', '12', '0.333')
    """
    text = f"{round(float(v), digits):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def show_matrix(
    ax: Any,
    a: Any,
    title: str = "",
    cmap: str = "gray",
    vmin: float | None = None,
    vmax: float | None = None,
    numbers: bool | None = None,
    fmt: str | None = None,
) -> None:
    """Draw a small 2-D array on ``ax`` as pixels, with its numbers written in when small.

    Numbers are written as :func:`fmt_number` writes them (as ``np.round(a, 2)`` prints
    them), unless ``fmt`` (a ``str.format`` pattern) is given.

    >>> show_matrix(ax, [[1, 0], [0, 1]], "identity")   # doctest: +SKIP
    """
    a = np.asarray(getattr(a, "data", a), dtype=np.float64)
    image = ax.imshow(a, cmap=cmap, vmin=vmin, vmax=vmax)
    if numbers is None:
        numbers = a.size <= 81
    if numbers:
        lo, hi = image.get_clim()
        middle = (lo + hi) / 2
        dark = cmap in ("gray", "Greys_r", "magma", "viridis")
        for (i, j), v in np.ndenumerate(a):
            light_cell = (v > middle) if dark else (abs(v - middle) < (hi - lo) / 4)
            color = "black" if light_cell else "white"
            text = fmt_number(v) if fmt is None else fmt.format(v)
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color=color)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
