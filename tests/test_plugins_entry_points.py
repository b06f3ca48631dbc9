"""End to end: throwaway distributions on a temporary path, discovered by a fresh interpreter.

Each test writes ``<name>-<version>.dist-info`` (METADATA + entry_points.txt) and the plugin
module into a temporary directory, puts it on PYTHONPATH and runs ``python -c`` (or
``python -m minigrad``), so discovery goes through the real importlib.metadata machinery.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import GOOD_SOURCE as GOOD_MODULE
from helpers import WRONG_GRAD_SOURCE


def make_dist(
    site: Path, name: str, version: str, entry_points: dict[str, str], modules: dict[str, str]
) -> None:
    """Write an installed-looking distribution: its dist-info and its modules."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = ["[minigrad.ops]", *(f"{k} = {v}" for k, v in entry_points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))


def run(site: Path, args: list[str], **env_extra: str) -> subprocess.CompletedProcess:
    """Run the interpreter with ``site`` on PYTHONPATH and no MINIGRAD_* variables set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIGRAD_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=120
    )


def run_code(site: Path, code: str, **env_extra: str) -> subprocess.CompletedProcess:
    proc = run(site, ["-c", textwrap.dedent(code)], **env_extra)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture
def site(tmp_path):
    path = tmp_path / "site"
    path.mkdir()
    return path


def test_working_plugin_is_discovered_lazily_and_works(site):
    make_dist(
        site,
        "e2e-good",
        "1.2.3",
        {"e2e_cube": "e2e_good_mod:Cube", "e2e_double": "e2e_good_mod:Double"},
        {"e2e_good_mod": GOOD_MODULE},
    )
    proc = run_code(
        site,
        """
        import sys, inspect
        import minigrad as mg
        assert "e2e_good_mod" not in sys.modules
        assert "e2e_cube" in dir(mg.ops) and "e2e_double" in dir(mg.ops)
        assert "e2e_good_mod" not in sys.modules
        x = mg.tensor([2.0, -1.0], requires_grad=True)
        y = mg.ops.e2e_cube(x)
        assert "e2e_good_mod" in sys.modules
        y.sum().backward()
        print("value", y.data.tolist())
        print("grad", x.grad.data.tolist())
        print("plugin", mg.ops.e2e_cube.op.plugin)
        print("signature", inspect.signature(mg.ops.e2e_cube))
        rows = {r.name: r for r in mg.plugins.available()}
        print("status", rows["e2e_cube"].status, rows["e2e_double"].status)
        print("dist", rows["e2e_cube"].distribution, rows["e2e_cube"].version)
        """,
    )
    out = proc.stdout.splitlines()
    assert "value [8.0, -1.0]" in out
    assert "grad [12.0, 3.0]" in out
    assert "plugin e2e-good 1.2.3" in out
    assert any(line.startswith("signature (x, power=3)") for line in out)
    assert "status loaded available" in out
    assert "dist e2e-good 1.2.3" in out


def test_plugin_whose_import_fails(site):
    make_dist(
        site,
        "e2e-shaky",
        "0.4",
        {"e2e_shaky": "e2e_shaky_mod:Shaky", "e2e_fine": "e2e_fine_mod:Double"},
        {
            "e2e_shaky_mod": "import e2e_library_that_is_not_installed\n",
            "e2e_fine_mod": GOOD_MODULE,
        },
    )
    proc = run_code(
        site,
        """
        import minigrad as mg
        try:
            mg.ops.e2e_shaky(mg.tensor([1.0]))
        except ImportError as e:
            print("type", type(e).__name__)
            print("message", e)
            print("cause", repr(e.__cause__))
        print("other op", mg.ops.e2e_fine(mg.tensor([2.0])).item())
        print("status", {r.name: r.status for r in mg.plugins.available()}["e2e_shaky"])
        """,
    )
    out = proc.stdout
    assert "type PluginLoadError" in out
    message = next(line for line in out.splitlines() if line.startswith("message"))
    for part in ("e2e_shaky", "e2e-shaky", "0.4", "e2e_shaky_mod:Shaky"):
        assert part in message
    assert "e2e_library_that_is_not_installed" in message
    assert "cause ModuleNotFoundError" in out
    assert "other op 4.0" in out
    assert "status broken" in out


def test_uncaught_load_error_shows_the_chained_cause(site):
    make_dist(
        site,
        "e2e-shaky",
        "0.4",
        {"e2e_shaky": "e2e_shaky_mod:Shaky"},
        {"e2e_shaky_mod": "raise RuntimeError('plugin exploded on import')\n"},
    )
    proc = run(site, ["-c", "import minigrad as mg; mg.ops.e2e_shaky"])
    assert proc.returncode == 1
    assert "RuntimeError: plugin exploded on import" in proc.stderr
    assert "direct cause of the following exception" in proc.stderr
    assert "minigrad.plugins.PluginLoadError" in proc.stderr


def test_plugin_that_breaks_the_contract(site):
    make_dist(
        site,
        "e2e-sloppy",
        "2.0",
        {"e2e_sloppy": "e2e_sloppy_mod:Sloppy", "e2e_fine": "e2e_sloppy_mod:Fine"},
        {
            "e2e_sloppy_mod": GOOD_MODULE.replace("class Cube", "class Fine")
            + textwrap.dedent(
                """
                class Sloppy(mg.Op):
                    def forward(ctx, x):  # forgot @staticmethod
                        return x

                    @staticmethod
                    def backward(ctx, grad):
                        return grad
                """
            )
        },
    )
    proc = run_code(
        site,
        """
        import minigrad as mg
        try:
            mg.ops.e2e_sloppy
        except TypeError as e:
            print("type", type(e).__name__)
            print("message", e)
        print("other op", mg.ops.e2e_fine(mg.tensor([2.0])).item())
        """,
    )
    message = next(line for line in proc.stdout.splitlines() if line.startswith("message"))
    assert "type PluginContractError" in proc.stdout
    for part in ("e2e_sloppy", "e2e-sloppy", "2.0", "e2e_sloppy_mod:Sloppy", "@staticmethod"):
        assert part in message
    assert "other op 8.0" in proc.stdout


def test_name_clash_between_two_distributions(site):
    make_dist(
        site, "e2e-alpha", "1.0", {"e2e_dup": "e2e_alpha_mod:Cube"}, {"e2e_alpha_mod": GOOD_MODULE}
    )
    make_dist(
        site, "e2e-beta", "3.1", {"e2e_dup": "e2e_beta_mod:Double"}, {"e2e_beta_mod": GOOD_MODULE}
    )
    proc = run_code(
        site,
        """
        import minigrad as mg
        try:
            mg.ops.e2e_dup
        except LookupError as e:
            print("type", type(e).__name__)
            print("message", e)
        print("alpha", mg.ops.get("e2e-alpha::e2e_dup")(mg.tensor([2.0])).item())
        print("beta", mg.ops.get("e2e_beta::e2e_dup")(mg.tensor([2.0])).item())
        print("status", sorted(r.status for r in mg.plugins.available() if r.name == "e2e_dup"))
        """,
    )
    message = next(line for line in proc.stdout.splitlines() if line.startswith("message"))
    assert "type PluginConflictError" in proc.stdout
    for part in ("e2e_dup", "e2e-alpha", "1.0", "e2e-beta", "3.1", "e2e-alpha::e2e_dup"):
        assert part in message
    assert "alpha 8.0" in proc.stdout and "beta 4.0" in proc.stdout
    assert "status ['conflict', 'conflict']" in proc.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MINIGRAD_DISABLE_PLUGINS", "e2e_cube"),
        ("MINIGRAD_DISABLE_PLUGINS", "e2e-good"),
        ("MINIGRAD_DISABLE_PLUGIN_AUTOLOAD", "1"),
    ],
)
def test_disabled_plugin(site, variable, value):
    make_dist(
        site, "e2e-good", "1.2.3", {"e2e_cube": "e2e_good_mod:Cube"}, {"e2e_good_mod": GOOD_MODULE}
    )
    proc = run_code(
        site,
        """
        import sys
        import minigrad as mg
        try:
            mg.ops.e2e_cube(mg.tensor([1.0]))
        except RuntimeError as e:
            print("type", type(e).__name__)
            print("message", e)
        print("imported", "e2e_good_mod" in sys.modules)
        print("status", {r.name: r.status for r in mg.plugins.available()}["e2e_cube"])
        """,
        **{variable: value},
    )
    message = next(line for line in proc.stdout.splitlines() if line.startswith("message"))
    assert "type PluginDisabledError" in proc.stdout
    assert variable in message and "e2e_cube" in message and "e2e-good" in message
    assert "imported False" in proc.stdout
    assert "status disabled" in proc.stdout


def test_cli_list_shows_the_distribution(site):
    make_dist(
        site, "e2e-good", "1.2.3", {"e2e_cube": "e2e_good_mod:Cube"}, {"e2e_good_mod": GOOD_MODULE}
    )
    make_dist(
        site,
        "e2e-shaky",
        "0.4",
        {"e2e_shaky": "e2e_shaky_mod:Shaky", "e2e_gone": "e2e_gone_mod:Gone"},
        {"e2e_shaky_mod": "raise ImportError('missing piece')\n"},  # no e2e_gone_mod at all
    )
    proc = run(site, ["-m", "minigrad", "plugins", "list"])
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line.split() for line in proc.stdout.splitlines() if line.strip()}
    assert rows["NAME"] == ["NAME", "STATUS", "DISTRIBUTION", "VERSION", "ENTRY", "POINT"]
    assert rows["e2e_cube"] == ["e2e_cube", "available", "e2e-good", "1.2.3", "e2e_good_mod:Cube"]
    assert rows["e2e_shaky"][1] == "available"  # listing imports nothing
    assert rows["e2e_gone"] == ["e2e_gone", "broken", "e2e-shaky", "0.4", "e2e_gone_mod:Gone"]
    assert "e2e-shaky::e2e_gone: module 'e2e_gone_mod' is not installed" in proc.stdout

    proc = run(site, ["-m", "minigrad", "plugins", "list", "--load"])
    assert proc.returncode == 0, proc.stderr
    assert "missing piece" in proc.stdout
    rows = {line.split()[0]: line.split() for line in proc.stdout.splitlines() if line.strip()}
    assert rows["e2e_cube"][1] == "loaded" and rows["e2e_shaky"][1] == "broken"


def test_cli_check_passes_and_fails(site):
    make_dist(
        site,
        "e2e-good",
        "1.2.3",
        {"e2e_cube": "e2e_good_mod:Cube", "e2e_double": "e2e_good_mod:Double"},
        {"e2e_good_mod": GOOD_MODULE},
    )
    make_dist(
        site,
        "e2e-wrong",
        "0.1",
        {"e2e_wrong": "e2e_wrong_mod:WrongGrad"},
        {"e2e_wrong_mod": WRONG_GRAD_SOURCE},
    )

    proc = run(site, ["-m", "minigrad", "plugins", "check", "e2e_cube", "e2e_double"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:2] == ["PASS", "e2e_cube"]
    assert lines[1].startswith("no samples") and "e2e_double" in lines[1]

    proc = run(site, ["-m", "minigrad", "plugins", "check", "e2e_cube", "e2e_wrong"])
    assert proc.returncode == 1
    fail = next(line for line in proc.stdout.splitlines() if "e2e_wrong" in line)
    assert fail.startswith("FAIL") and "finite differences" in fail
    assert proc.stdout.splitlines()[-1] == (
        "1 passed, 1 failed, 0 without samples, 1 without a formula (warning)"
    )

    # the derivative cards: shown by `plugins list --formulas`, missing ones only warned about
    proc = run(site, ["-m", "minigrad", "plugins", "list", "--formulas"])
    assert proc.returncode == 0, proc.stderr
    section = proc.stdout.split("Formulas (derivative cards):\n", 1)[1].splitlines()
    cards = {line.split()[0]: line.split(None, 1)[1] for line in section if line.strip()}
    assert cards["e2e_cube"] == "dx = dy * power * x ** (power - 1)"
    assert cards["e2e_double"] == "(none: the op declares no formula)"
