"""Every tutorial, converted to a notebook with jupytext and executed headless with nbclient,
as a reader opening it in Jupyter would: it runs without errors from a folder that is not
tutorials/, shows its figures and graph drawings inline, and has no stray outputs."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

TUTORIALS = Path(__file__).resolve().parents[1] / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))
KERNEL = "minigrad-tests-python"
# rich outputs a cell may end with: a drawing (SVG), a figure (PNG), a page (HTML)
RICH = ("image/svg+xml", "image/png", "text/html")


def _needs(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    needs = []
    if "load_digits" in text or "sklearn" in text:
        needs.append("sklearn")
    if "onnx" in path.stem:
        needs += ["onnx"]
    return needs


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory) -> Path:
    """A kernelspec that starts this very interpreter (the .venv's), whatever else is installed."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / KERNEL
    spec.mkdir()
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "minigrad tests", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    return root


def _execute(path: Path, kernel_dir: Path, workdir: Path, out: Path):
    nb = jupytext.read(path)
    km = KernelManager(
        kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_dir)])
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIGRAD_")}
    env.update(MINIGRAD_FAST="1", MINIGRAD_TUTORIAL_OUT=str(out), PYTHONDONTWRITEBYTECODE="1")
    env.pop("MPLBACKEND", None)  # the kernel's own inline backend, as in Jupyter
    client = nbclient.NotebookClient(
        nb, km=km, timeout=600, resources={"metadata": {"path": str(workdir)}}
    )
    client.execute(env=env, cwd=str(workdir))
    return nb


def _outputs(nb, kind: str | None = None):
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if kind is None or output.output_type == kind:
                yield cell, output


def _visible_text(output) -> str:
    """The text a reader sees for an output (none for a figure or a drawing)."""
    if output.output_type == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    return "" if any(kind in data for kind in RICH) else data.get("text/plain", "")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_tutorial_runs_as_a_notebook_with_inline_figures(path, kernel_dir, tmp_path):
    for module in _needs(path):
        pytest.importorskip(module)
    workdir = tmp_path / "elsewhere"  # not tutorials/: the notebook finds what it needs itself
    workdir.mkdir()
    out = tmp_path / "pictures"
    nb = _execute(path, kernel_dir, workdir, out)

    shown = [o for _, o in _outputs(nb) if o.output_type in ("display_data", "execute_result")]
    pngs = sum("image/png" in o.get("data", {}) for o in shown)
    svgs = sum("image/svg+xml" in o.get("data", {}) for o in shown)
    written_png = sorted(p.name for p in out.rglob("*.png"))
    written_svg = sorted(p.name for p in out.rglob("*.svg"))
    # every figure written to a file was also shown inline, once
    assert pngs == len(written_png), f"{pngs} inline figures for {written_png}"
    # every graph drawing rendered to a file was also shown inline
    assert svgs >= len(written_svg), f"{svgs} inline drawings for {written_svg}"

    for cell, output in _outputs(nb, "execute_result"):
        data = output.get("data", {})
        assert any(kind in data for kind in RICH), (
            f"stray output {data.get('text/plain', '')[:80]!r} of the cell:\n{cell.source}"
        )
    text = "".join(_visible_text(o) for _, o in _outputs(nb))
    assert "PosixPath(" not in text and "<Figure size" not in text
    assert not re.search(r"'\\\\\\\\'", text), "a label printed with Python escapes"
    assert sorted(p.name for p in workdir.iterdir()) == []  # nothing lands in the working folder
