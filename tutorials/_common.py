"""What the explainer tutorials (01-06) share: the output folder, fast mode, small pictures.

Each tutorial starts with::

    from _common import FAST, out_dir, save, show_matrix

``out_dir(stem)`` is ``$MINIGRAD_TUTORIAL_OUT`` when set, else ``out/tutorials/<stem>``;
``FAST`` is True when ``MINIGRAD_FAST=1`` (fewer epochs, for the test suite). Figures are
drawn with matplotlib's Agg backend, so the tutorials run without a display.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: works without a display
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["FAST", "out_dir", "plt", "save", "show_matrix"]

FAST: bool = os.environ.get("MINIGRAD_FAST") == "1"


def out_dir(stem: str) -> Path:
    """The folder a tutorial writes its pictures to (created if needed).

    >>> out_dir("01_filters_by_hand")        # doctest: +SKIP
    PosixPath('out/tutorials/01_filters_by_hand')
    """
    path = Path(os.environ.get("MINIGRAD_TUTORIAL_OUT") or Path("out") / "tutorials" / stem)
    path.mkdir(parents=True, exist_ok=True)
    return path


def save(fig: Any, folder: Path, name: str) -> Path:
    """Write ``fig`` to ``folder/name.png``, close it, and say where it went.

    >>> save(fig, OUT, "maps")                # doctest: +SKIP
    wrote out/tutorials/02_matching_features/maps.png
    """
    path = Path(folder) / f"{name}.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    print("wrote", path)
    return path


def show_matrix(
    ax: Any,
    a: Any,
    title: str = "",
    cmap: str = "gray",
    vmin: float | None = None,
    vmax: float | None = None,
    numbers: bool | None = None,
    fmt: str = "{:.2g}",
) -> None:
    """Draw a small 2-D array on ``ax`` as pixels, with its numbers written in when small.

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
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=7, color=color)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
