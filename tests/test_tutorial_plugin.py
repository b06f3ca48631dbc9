"""Tutorial 08 (write a layer plugin) runs, and its Swish package installs and registers."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TUTORIAL = REPO / "tutorials" / "08_write_a_layer_plugin.py"
PACKAGE = REPO / "tutorials" / "swish_plugin"


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without MINIGRAD_* settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIGRAD_")}
    env.update(PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg", **extra)
    return env


def test_tutorial_runs_and_writes_its_outputs(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(TUTORIAL)],
        cwd=tmp_path,
        env=clean_env(MINIGRAD_FAST="1", MINIGRAD_TUTORIAL_OUT=str(out)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / "swish.png").stat().st_size > 0
    table = (out / "plugins_list.txt").read_text()
    swish_rows = [line.split() for line in table.splitlines() if line.startswith("swish ")]
    assert swish_rows == [["swish", "loaded", "(register_op)", "-", "__main__:Swish"]]
    assert "gradgradcheck caught it" in proc.stdout
    assert "PASS        swish" in proc.stdout
    assert "MINIGRAD_DISABLE_PLUGINS" in proc.stdout
    assert not (tmp_path / "out" / "tutorials").exists()  # honours MINIGRAD_TUTORIAL_OUT


def test_swish_package_declares_its_entry_point():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    meta = tomllib.loads((PACKAGE / "pyproject.toml").read_text())
    assert meta["project"]["entry-points"]["minigrad.ops"] == {"swish": "minigrad_swish:Swish"}
    assert (PACKAGE / "minigrad_swish" / "__init__.py").is_file()


def test_swish_samples_pass_opcheck(monkeypatch):
    from minigrad.testing import opcheck

    monkeypatch.syspath_prepend(str(PACKAGE))
    monkeypatch.delitem(sys.modules, "minigrad_swish", raising=False)
    from minigrad_swish import Swish

    samples = Swish.sample_inputs()
    assert samples
    for args, attrs in samples:
        assert opcheck(Swish, *args, **attrs)


def this_interpreters_site_dirs() -> list[str]:
    """The site-packages directories of the interpreter running the tests (``.venv``'s)."""
    dirs = [
        *site.getsitepackages(),
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
    ]
    return list(dict.fromkeys(d for d in dirs if Path(d).is_dir()))


def make_venv_on_top(env_dir: Path) -> str:
    """A fresh venv whose only packages are this interpreter's (never the base Python's).

    ``system_site_packages=True`` would expose the *base* interpreter's packages (an old
    setuptools, no minigrad) instead of ``.venv``'s. So the venv is isolated, and a ``.pth``
    file adds the running interpreter's site directories with ``site.addsitedir``, which also
    runs their own ``.pth`` files (the editable minigrad install is one).
    """
    venv.EnvBuilder(system_site_packages=False, with_pip=False).create(env_dir)
    bindir = "Scripts" if os.name == "nt" else "bin"
    python = str(env_dir / bindir / ("python.exe" if os.name == "nt" else "python"))
    purelib = subprocess.run(
        [python, "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    lines = [f"import site; site.addsitedir({d!r})" for d in this_interpreters_site_dirs()]
    (Path(purelib) / "_minigrad_test_parent_env.pth").write_text("\n".join(lines) + "\n")
    return python


@pytest.mark.slow
def test_pip_installed_swish_package_registers_the_op(tmp_path):
    """A fresh venv (reusing this interpreter's packages), pip install, then use the op."""
    import setuptools

    python = make_venv_on_top(tmp_path / "venv")
    env = clean_env(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [python, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )

    # the build below uses this interpreter's setuptools, whatever the base Python has
    proc = run("-c", "import setuptools, sys; print(setuptools.__version__, sys.prefix)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == setuptools.__version__, proc.stdout

    if run("-c", "import minigrad").returncode != 0:
        # minigrad not visible from the venv: install it from this checkout
        proc = run("-m", "pip", "install", "--no-deps", "--no-build-isolation", str(REPO))
        assert proc.returncode == 0, proc.stdout + proc.stderr

    # build from a copy, so the checkout gets no build/ or egg-info files
    source = tmp_path / "swish_plugin"
    shutil.copytree(
        PACKAGE, source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info")
    )
    proc = run("-m", "pip", "install", "--no-deps", "--no-build-isolation", str(source))
    assert proc.returncode == 0, proc.stdout + proc.stderr

    proc = run(
        "-c",
        "import sys, minigrad as mg\n"
        "assert 'minigrad_swish' not in sys.modules\n"
        "y = mg.ops.swish(mg.tensor([0.0, 1.0, -1.0]), beta=1.0)\n"
        "print('values', [round(float(v), 4) for v in y.data])\n"
        "print('plugin', mg.ops.swish.op.plugin)\n",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "values [0.0, 0.7311, -0.2689]" in proc.stdout  # x * sigmoid(x)
    assert "plugin minigrad-swish 0.1.0" in proc.stdout

    proc = run("-m", "minigrad", "plugins", "list")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines() if line.startswith("swish ")]
    assert rows == [["swish", "available", "minigrad-swish", "0.1.0", "minigrad_swish:Swish"]]

    proc = run("-m", "minigrad", "plugins", "check", "swish")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("PASS")
