"""`python -m minigrad draw SCRIPT.py --out DIR`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

import pytest

from minigrad.cli import main

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")

VARIABLE = """
import minigrad as mg
x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
loss = (x * x).sum()
"""

FUNCTION = """
import minigrad as mg
from minigrad.autograd import name_scope

def loss():
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    with name_scope("block"):
        y = (x * 3.0).exp()
    return y.sum()

if __name__ == "__main__":
    raise SystemExit("the __main__ block must not run")
"""

MAIN = """
import minigrad as mg

def main():
    w = mg.tensor([0.5], requires_grad=True, name="w")
    return (w * w).sum()
"""


def script(tmp_path, text, name="model.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@needs_dot
def test_draws_forward_and_backward(tmp_path, capsys):
    out = tmp_path / "pics"
    assert main(["draw", str(script(tmp_path, VARIABLE)), "--out", str(out)]) == 0
    for name in ("forward.dot", "backward.dot", "forward.svg", "backward.svg"):
        assert (out / name).stat().st_size > 0
    assert "<svg" in (out / "forward.svg").read_text()
    backward = (out / "backward.dot").read_text()
    assert "mul backward" in backward and "[2, 4]" in backward  # values, not just shapes
    assert "wrote" in capsys.readouterr().out


@needs_dot
@pytest.mark.parametrize("text", [FUNCTION, MAIN])
def test_loss_or_main_function(tmp_path, text):
    out = tmp_path / "pics"
    args = ["draw", str(script(tmp_path, text)), "--out", str(out), "--format", "png"]
    assert main([*args, "--rankdir", "LR", "--collapse"]) == 0
    assert (out / "forward.png").read_bytes().startswith(b"\x89PNG")
    forward = (out / "forward.dot").read_text()
    assert "rankdir=LR" in forward
    if text is FUNCTION:
        assert "box3d" in forward and "<b>exp</b>" not in forward  # collapsed scope


def test_no_loss_is_exit_code_2(tmp_path, capsys):
    code = main(["draw", str(script(tmp_path, "a = 1\n")), "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert "defines no loss" in err and "`loss`" in err and "main()" in err


def test_missing_script_and_failing_script(tmp_path, capsys):
    assert main(["draw", str(tmp_path / "nope.py"), "--out", str(tmp_path)]) == 2
    assert "no such script" in capsys.readouterr().err
    bad = script(tmp_path, "raise ValueError('broken model')\n")
    assert main(["draw", str(bad), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "broken model" in err and "raised an error" in err


def test_missing_graphviz_is_exit_code_3_with_dot_files(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    out = tmp_path / "pics"
    assert main(["draw", str(script(tmp_path, VARIABLE)), "--out", str(out)]) == 3
    assert (out / "forward.dot").read_text().startswith("digraph")
    assert (out / "backward.dot").read_text().startswith("digraph")
    assert not (out / "forward.svg").exists()
    err = capsys.readouterr().err
    assert "apt-get install graphviz" in err and "brew install graphviz" in err


@needs_dot
def test_python_dash_m_entry_point(tmp_path):
    out = tmp_path / "pics"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "minigrad",
            "draw",
            str(script(tmp_path, VARIABLE)),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "backward.svg").exists()


@needs_dot
def test_draws_an_onnx_model(tmp_path, capsys):
    pytest.importorskip("onnx")
    import minigrad as mg

    mg.manual_seed(0)
    model = mg.nn.Sequential(mg.nn.Linear(4, 3), mg.nn.ReLU(), mg.nn.Linear(3, 2))
    path = tmp_path / "model.onnx"
    mg.onnx.export(model, mg.randn(2, 4), path)
    out = tmp_path / "pics"
    assert main(["draw", str(path), "--out", str(out)]) == 0
    forward = (out / "forward.dot").read_text()
    backward = (out / "backward.dot").read_text()
    assert forward.count("<b>matmul</b>") + forward.count("<b>linear</b>") >= 2
    assert "backward" in backward and (out / "backward.svg").stat().st_size > 0
    assert "wrote" in capsys.readouterr().out


def test_onnx_without_the_onnx_package_says_what_to_install(tmp_path, monkeypatch, capsys):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"not really onnx")
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    assert main(["draw", str(path), "--out", str(tmp_path / "o")]) == 2
    assert 'pip install "minigrad-cnn[onnx]"' in capsys.readouterr().err


def test_a_broken_onnx_file_is_exit_code_1(tmp_path, capsys):
    pytest.importorskip("onnx")
    path = tmp_path / "model.onnx"
    path.write_bytes(b"not really onnx")
    assert main(["draw", str(path), "--out", str(tmp_path / "o")]) == 1
    assert "cannot run" in capsys.readouterr().err


LONG_CHAIN = """
import minigrad as mg
x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
y = x
for _ in range(300):
    y = y * 1.001
loss = y.sum()
"""


def test_large_graphs_are_folded_unless_strict(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot: the .dot files are enough here
    path = script(tmp_path, LONG_CHAIN)
    out = tmp_path / "pics"
    assert main(["draw", str(path), "--out", str(out), "--max-nodes", "50"]) == 3
    assert "mul × 300" in (out / "forward.dot").read_text()
    assert "mul backward × 300" in (out / "backward.dot").read_text()
    capsys.readouterr()
    code = main(["draw", str(path), "--out", str(out), "--max-nodes", "50", "--strict"])
    assert code == 2 and "max_nodes=50" in capsys.readouterr().err
