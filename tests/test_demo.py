"""The demo (``minigrad.demo`` and ``python -m minigrad demo``): it trains, it writes its
pictures, it reports accuracy, and it explains missing optional dependencies."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import require_ops

import minigrad as mg
from minigrad import demo
from minigrad.cli import main as cli_main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def cnn_stack():
    """The shipped CNN ops the demo trains with: a broken one fails the tests, never skips."""
    require_ops("conv2d", "max_pool2d", "relu", "cross_entropy")


@pytest.fixture(scope="module")
def xo_run(cnn_stack, tmp_path_factory):
    pytest.importorskip("matplotlib")
    pytest.importorskip("tqdm")
    out = tmp_path_factory.mktemp("xo")
    lines = []
    result = demo.run_xo(out_dir=out, quick=True, progress=False, log=lines.append)
    return result, lines


def _is_png(path):
    return Path(path).read_bytes()[:8] == PNG_MAGIC


# ----------------------------------------------------------------------------- X vs O


def test_xo_quick_run_learns_well_above_chance(xo_run):
    result, lines = xo_run
    assert result.task == "xo"
    # two balanced classes: chance is 50 %
    assert result.test_accuracy >= 0.85
    assert len(result.history) == 4
    assert result.history[-1].loss < result.history[0].loss
    assert any(line.startswith("epoch   1/4") and "loss" in line for line in lines)
    assert any(f"test accuracy {result.test_accuracy:.1%}" in line for line in lines)


def test_xo_quick_run_writes_every_picture(xo_run):
    result, _ = xo_run
    for role in ("loss_curve", "filters", "feature_maps"):
        assert _is_png(result.files[role]), role
    for role in ("forward_graph", "backward_graph"):
        if result.graphviz_missing:
            pytest.skip("the Graphviz 'dot' program is not installed")
        svg = result.files[role].read_text()
        assert svg.lstrip().startswith("<?xml") or "<svg" in svg[:500]
        assert result.files[f"{role}_dot"].read_text().startswith("digraph")
    # the explorer page of that step and the training history, offline HTML pages
    for role in ("explorer", "training"):
        page = result.files[role].read_text(encoding="utf-8")
        assert page.lstrip().lower().startswith("<!doctype html"), role
        assert result.files[role].name == f"{role}.html"  # the default demo's own pages
        assert result.files[role].stat().st_size <= 1_000_000, role  # a demo page: 1 MB at most
    # the backward graph shows the gradient reaching the conv weights
    assert "conv2d backward" in result.files["backward_graph_dot"].read_text()
    assert "conv1" in result.files["forward_graph_dot"].read_text()


def test_xo_saved_model_reloads_with_the_same_predictions(xo_run):
    result, _ = xo_run
    x, _ = mg.data.xo_images(n_per_class=5, seed=123)
    fresh = demo.build_xo_model()
    fresh.load_state_dict(mg.load(result.files["model"]))
    np.testing.assert_allclose(demo.predict(fresh, x), demo.predict(result.model, x))


def test_xo_same_seed_same_training(cnn_stack, tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("tqdm")
    kw = dict(quick=True, epochs=1, progress=False, log=lambda s: None)
    a = demo.run_xo(out_dir=tmp_path / "a", seed=3, **kw)
    b = demo.run_xo(out_dir=tmp_path / "b", seed=3, **kw)
    assert a.losses == b.losses
    np.testing.assert_array_equal(a.model.conv1.weight.data, b.model.conv1.weight.data)


def test_graphs_without_graphviz_write_dot_and_say_how_to_install(cnn_stack, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    pytest.importorskip("tqdm")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `dot` anywhere on PATH
    lines = []
    result = demo.run_xo(
        out_dir=tmp_path / "out", quick=True, epochs=1, progress=False, log=lines.append
    )
    assert result.graphviz_missing
    assert "forward_graph" not in result.files and "backward_graph" not in result.files
    for role in ("forward_graph_dot", "backward_graph_dot"):
        assert result.files[role].read_text().startswith("digraph")
    assert not list((tmp_path / "out").glob("*.svg"))
    assert "explorer" not in result.files and result.files["training"].exists()
    message = "\n".join(lines)
    assert "Graphviz" in message and "apt-get install graphviz" in message
    assert _is_png(result.files["loss_curve"])  # the rest of the demo still ran


# ----------------------------------------------------------------------------- digits


def test_digits_quick_run_learns_well_above_chance(cnn_stack, tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    lines = []
    result = demo.run_digits(out_dir=tmp_path, quick=True, progress=False, log=lines.append)
    # ten classes: chance is 10 %
    assert result.test_accuracy >= 0.6
    cm = result.confusion
    assert cm.shape == (10, 10) and cm.sum() == 359
    assert np.trace(cm) / cm.sum() == pytest.approx(result.test_accuracy)
    for role in ("loss_curve", "confusion_matrix", "filters"):
        assert _is_png(result.files[role]), role
    assert any(line.startswith("wall time") for line in lines)


@pytest.mark.slow
def test_digits_full_run_reaches_97_percent(cnn_stack, tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    result = demo.run_digits(out_dir=tmp_path, progress=False, log=print)
    assert result.test_accuracy >= 0.97


# ----------------------------------------------------------------------------- command line


def test_cli_demo_quick_in_a_subprocess(cnn_stack, tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("tqdm")
    out = tmp_path / "tmp"
    proc = subprocess.run(
        [sys.executable, "-m", "minigrad", "demo", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    epochs = [line for line in proc.stdout.splitlines() if line.startswith("epoch")]
    assert [line.split()[1] for line in epochs] == ["1/4", "2/4", "3/4", "4/4"]
    assert "test accuracy" in proc.stdout
    # output redirected to pipes: epoch lines only, no progress bar in either stream
    assert "\r" not in proc.stdout + proc.stderr and "batch/s" not in proc.stderr
    for name in ("xo_loss_curve.png", "xo_filters.png", "xo_feature_maps.png"):
        assert _is_png(out / name), name
    assert not demo.show_progress(True)  # pytest captures stdout here: not a terminal
    assert (out / "xo_forward_graph.dot").exists() and (out / "xo_backward_graph.dot").exists()


def test_cli_parses_task_and_options():
    import argparse

    from minigrad.cli import demo as cli_demo

    sub = argparse.ArgumentParser().add_subparsers()
    parser = cli_demo.add_parser(sub)
    args = parser.parse_args([])
    assert (args.task, args.out, args.epochs, args.seed, args.quick) == (
        "xo",
        str(Path("out") / "demo"),
        None,
        0,
        False,
    )
    args = parser.parse_args(["digits", "--epochs", "3", "--seed", "7", "--out", "d"])
    assert (args.task, args.epochs, args.seed, args.out) == ("digits", 3, 7, "d")
    with pytest.raises(SystemExit):
        parser.parse_args(["cats"])
    with pytest.raises(SystemExit):
        parser.parse_args(["--epochs", "0"])


# ----------------------------------------------------------------------------- missing extras

# Started before the demo in a child process: makes the named modules unimportable, as on an
# install without the extras.
_HIDE = """
import sys
class _Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, _Hide())
from minigrad.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _run_without(hidden, args, cwd):
    code = f"HIDDEN = {sorted(hidden)!r}\n" + _HIDE
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_cli_demo_without_extras_trains_and_writes_its_graphs(cnn_stack, tmp_path):
    out = tmp_path / "out"
    proc = _run_without(
        {"matplotlib", "tqdm", "sklearn"}, ["demo", "--quick", "--out", str(out)], tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stdout.splitlines() if line.startswith("note: not installed")]
    assert len(notes) == 1  # one message naming everything missing
    assert "matplotlib" in notes[0] and "tqdm" in notes[0]
    assert 'pip install "minigrad-cnn[demo]"' in notes[0]
    assert "epoch   4/4" in proc.stdout and "test accuracy" in proc.stdout
    assert (out / "xo_forward_graph.dot").read_text().startswith("digraph")
    assert (out / "xo_backward_graph.dot").read_text().startswith("digraph")
    assert (out / "xo_model.npz").is_file()
    assert not list(out.glob("*.png"))  # only the matplotlib pictures are skipped


def test_cli_digits_without_any_extra_lists_everything_missing_once(tmp_path):
    out = tmp_path / "out"
    proc = _run_without(
        {"matplotlib", "tqdm", "sklearn"},
        ["demo", "digits", "--quick", "--out", str(out)],
        tmp_path,
    )
    assert proc.returncode == 1
    err = proc.stderr.strip()
    assert err.startswith("minigrad demo digits: ") and len(err.splitlines()) == 1
    for name in ("scikit-learn", "matplotlib", "tqdm"):
        assert name in err
    assert 'pip install "minigrad-cnn[demo,digits]"' in err  # one command for all of it
    assert not out.exists()  # refused before doing any work


@pytest.mark.parametrize("module", ["matplotlib", "tqdm"])
def test_missing_demo_extra_is_skipped_with_a_note(module, cnn_stack, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    lines = []
    result = demo.run_xo(out_dir=tmp_path / "out", quick=True, epochs=1, log=lines.append)
    assert [e.module for e in result.skipped] == [module]
    note = [line for line in lines if line.startswith("note: not installed")]
    assert len(note) == 1 and module in note[0]
    assert 'pip install "minigrad-cnn[demo]"' in note[0]
    assert result.files["forward_graph_dot"].exists()
    assert ("loss_curve" in result.files) == (module != "matplotlib")


def test_missing_sklearn_names_the_digits_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(demo.MissingExtraError) as info:
        demo.run_digits(out_dir=tmp_path / "out", quick=True, progress=False)
    assert 'pip install "minigrad-cnn[digits]"' in str(info.value)
    assert "scikit-learn" in str(info.value)
    assert not (tmp_path / "out").exists()
    assert demo.check_extras("xo") == []  # X vs O does not need scikit-learn


@pytest.mark.parametrize("task, module, extra", [("digits", "sklearn", "digits")])
def test_cli_missing_extra_exits_nonzero_with_the_hint(
    task, module, extra, monkeypatch, tmp_path, capsys
):
    monkeypatch.setitem(sys.modules, module, None)
    code = cli_main(["demo", task, "--quick", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert f'pip install "minigrad-cnn[{extra}]"' in err
    assert err.startswith(f"minigrad demo {task}: ")
    assert not (tmp_path / "out").exists()


def test_missing_extras_lists_required_first():
    missing = demo.missing_extras("digits", available=lambda m: False)
    assert [(e.module, e.extra, e.required) for e in missing] == [
        ("sklearn", "digits", True),
        ("matplotlib", "demo", False),
        ("tqdm", "demo", False),
    ]
    assert demo.missing_extras("xo", available=lambda m: True) == []


# ----------------------------------------------------------------------------- output


def test_progress_bar_on_a_terminal_keeps_epoch_lines_whole(cnn_stack, tmp_path):
    pytest.importorskip("tqdm")
    pty = pytest.importorskip("pty")
    import os

    code = (
        "import sys\n"
        "from minigrad.cli import main\n"
        f"sys.exit(main(['demo', '--quick', '--epochs', '2', '--out', {str(tmp_path / 'o')!r}]))\n"
    )
    leader, follower = pty.openpty()
    fcntl = pytest.importorskip("fcntl")
    import struct
    import termios

    # a terminal 100 columns wide (a fresh pty has no size, and tqdm would draw nothing)
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=follower, stderr=follower, cwd=tmp_path
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.wait(timeout=300) == 0
    os.close(leader)
    text = b"".join(chunks).decode(errors="replace")
    assert "batch" in text  # the bar was drawn on the terminal
    # every epoch line is whole: the bar was cleared before it and redrawn after it
    for line in text.replace("\r", "\n").splitlines():
        if "epoch   " in line and "loss" in line:
            assert line.strip().startswith("epoch"), line


def test_unknown_task_is_refused():
    with pytest.raises(ValueError, match="unknown task 'cats'"):
        demo.run("cats")


def test_bad_epochs_are_refused(cnn_stack, tmp_path):
    with pytest.raises(ValueError, match="epochs must be at least 1, got 0"):
        demo.run_xo(out_dir=tmp_path, epochs=0, progress=False)


# ----------------------------------------------------------------------------- small helpers


def test_confusion_matrix_counts_by_hand():
    m = demo.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], 3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_evaluate_and_predict_on_a_hand_set_linear_model():
    fc = mg.nn.Linear(2, 2, bias=False)
    fc.weight.data[:] = [[1.0, 0.0], [0.0, 1.0]]  # score of class k is x[k]
    x = np.array([[2.0, 1.0], [0.0, 3.0], [5.0, 4.0]], dtype=np.float32)
    np.testing.assert_array_equal(demo.predict(fc, x, batch_size=2), x)
    assert demo.evaluate(fc, x, np.array([0, 1, 1])) == pytest.approx(2 / 3)
    assert fc.training  # predict() switched back to training mode


def test_fit_separates_two_points_and_follows_the_schedule():
    pytest.importorskip("tqdm")
    require_ops("cross_entropy")
    mg.manual_seed(0)
    x = np.array([[1.0], [-1.0]] * 8, dtype=np.float32)
    y = np.array([1, 0] * 8)
    model = mg.nn.Linear(1, 2)
    opt = mg.optim.SGD(model.parameters(), lr=0.5)
    rates = []

    def schedule(epoch):
        rates.append(epoch)
        return 0.5 / epoch

    hist = demo.fit(
        model, mg.nn.CrossEntropyLoss(), opt, x, y, epochs=5, progress=False, log=None,
        lr_schedule=schedule,
    )  # fmt: skip
    assert rates == [1, 2, 3, 4, 5] and opt.lr == pytest.approx(0.1)
    assert [h.epoch for h in hist] == [1, 2, 3, 4, 5]
    assert hist[-1].accuracy == 1.0 and hist[-1].loss < hist[0].loss


def test_plot_filters_rejects_a_non_conv_weight(tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match=r"plot_filters: expected a weight of shape"):
        demo.plot_filters(np.zeros((3, 3)), tmp_path / "f.png")


def test_missing_extra_error_is_an_import_error():
    err = demo.MissingExtraError("tqdm", "demo", "the progress bar")
    assert isinstance(err, ImportError) and err.name == "tqdm"
    assert err.hint == 'pip install "minigrad-cnn[demo]"'
