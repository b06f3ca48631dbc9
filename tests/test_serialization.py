"""mg.save / mg.load: .npz round trips that never unpickle, and clear errors for bad files."""

from __future__ import annotations

import io
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def make_model():
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, 2, 3)),
                ("flatten", nn.Flatten()),
                ("fc", nn.Linear(2 * 4 * 4, 3)),
                ("out", nn.Linear(3, 2, dtype=np.float64)),
            ]
        )
    )


def test_module_round_trip_through_a_file(tmp_path):
    mg.manual_seed(0)
    model = make_model()
    path = tmp_path / "model.npz"
    mg.save(model, path)
    state = mg.load(path)
    assert isinstance(state, OrderedDict)
    assert list(state) == [n for n, _ in model.named_parameters()]
    for name, p in model.named_parameters():
        assert state[name].dtype == p.dtype and state[name].shape == p.shape
        np.testing.assert_array_equal(state[name], p.data)

    mg.manual_seed(1)
    other = make_model()
    assert not np.array_equal(other.fc.weight.data, model.fc.weight.data)
    other.load_state_dict(mg.load(str(path)))
    x = mg.randn(2, 4 * 4 * 2)
    np.testing.assert_array_equal(other[2:](x).data, model[2:](x).data)


def test_state_dict_round_trip_keeps_given_order_and_values(tmp_path):
    state = OrderedDict(
        [
            ("z.last", np.arange(3, dtype=np.int64)),
            ("a.first", np.ones((2, 2), np.float32)),
            ("m/odd name", np.array(2.5)),
            ("t", mg.tensor([1.0, 2.0])),
        ]
    )
    path = tmp_path / "state.npz"
    mg.save(state, path)
    loaded = mg.load(path)
    assert list(loaded) == list(state)
    np.testing.assert_array_equal(loaded["z.last"], [0, 1, 2])
    assert loaded["m/odd name"].shape == () and loaded["t"].dtype == np.float32


def test_path_is_used_as_given_and_plain_numpy_can_read_it(tmp_path):
    path = tmp_path / "weights.bin"
    mg.save(nn.Linear(2, 2), path)
    assert path.exists() and not (tmp_path / "weights.bin.npz").exists()
    with np.load(path, allow_pickle=False) as npz:
        assert npz["weight"].shape == (2, 2)


def test_file_objects_work():
    buf = io.BytesIO()
    mg.save({"w": np.eye(2, dtype=np.float32)}, buf)
    buf.seek(0)
    np.testing.assert_array_equal(mg.load(buf)["w"], np.eye(2))


def test_plain_numpy_npz_loads_in_file_order(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, b=np.zeros(1), a=np.ones(2))
    assert list(mg.load(path)) == ["b", "a"]


def test_empty_state_round_trip(tmp_path):
    mg.save(nn.ReLU(), tmp_path / "empty.npz")
    assert mg.load(tmp_path / "empty.npz") == OrderedDict()


def test_save_refuses_objects_and_bad_keys(tmp_path):
    objects = np.array([{"code": 1}, None], dtype=object)
    with pytest.raises(ValueError, match="entry 'bad' holds Python objects"):
        mg.save({"bad": objects}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys must be non-empty strings"):
        mg.save({1: np.zeros(1)}, tmp_path / "x.npz")
    with pytest.raises(ValueError, match="is reserved"):
        mg.save({"__minigrad__": np.zeros(1)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="entry 'w' is a str"):
        mg.save({"w": "hello"}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="expected a Module or a mapping"):
        mg.save([np.zeros(1)], tmp_path / "x.npz")


def test_load_rejects_object_arrays_without_unpickling(tmp_path, monkeypatch):
    path = tmp_path / "evil.npz"
    np.savez(path, weight=np.zeros(2), payload=np.array([{"a": 1}, None], dtype=object))
    import pickle

    def no_unpickling(*args, **kwargs):
        raise AssertionError("load must never unpickle")

    monkeypatch.setattr(pickle, "load", no_unpickling)
    monkeypatch.setattr(pickle, "loads", no_unpickling)
    with pytest.raises(ValueError, match=r"entry 'payload' in '.*evil.npz' holds Python objects"):
        mg.load(path)


def test_load_rejects_a_pickle_file(tmp_path):
    import pickle

    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"weight": np.zeros(2)}))
    with pytest.raises(
        ValueError, match=r"'.*model.pkl' holds pickled Python data, which minigrad never loads"
    ):
        mg.load(path)


@pytest.mark.parametrize(
    "content",
    [b"", b"this is not an archive", b"PK\x03\x04 truncated zip header"],
    ids=["empty", "text", "truncated-zip"],
)
def test_load_rejects_corrupt_files_naming_the_path(tmp_path, content):
    path = tmp_path / "broken.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"load: '.*broken.npz'"):
        mg.load(path)


def test_load_rejects_a_damaged_member(tmp_path):
    path = tmp_path / "damaged.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("weight.npy", b"\x93NUMPY garbage")
    with pytest.raises(ValueError, match=r"entry 'weight' in '.*damaged.npz' is damaged"):
        mg.load(path)


def test_load_rejects_a_single_npy_array(tmp_path):
    path = tmp_path / "one.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ValueError, match="holds a single .npy array"):
        mg.load(path)


def test_load_rejects_inconsistent_metadata(tmp_path):
    path = tmp_path / "meta.npz"
    np.savez(path, __minigrad__=np.array('{"format": "minigrad-state-dict", "names": ["x"]}'))
    with pytest.raises(ValueError, match="metadata entry of '.*meta.npz' does not match"):
        mg.load(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="no such file 'nowhere/model.npz'"):
        mg.load("nowhere/model.npz")


def test_loading_a_mismatched_file_names_the_entry_and_leaves_model_unchanged(tmp_path):
    path = tmp_path / "small.npz"
    mg.save(nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)), path)
    model = nn.Sequential(nn.Linear(4, 5), nn.Linear(5, 2))
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"entry '0.weight' has shape \(3, 4\).*\(5, 4\)"):
        model.load_state_dict(mg.load(path))
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)


@pytest.mark.parametrize("error", [OSError, KeyboardInterrupt])
def test_an_interrupted_save_leaves_the_previous_file_readable(tmp_path, monkeypatch, error):
    path = tmp_path / "model.npz"
    good = {"w": np.arange(6.0).reshape(2, 3), "b": np.ones(3, dtype=np.float32)}
    mg.save(good, path)

    def failing(file, *args, **kwargs):
        # half an archive is written, then the disk fills up or the user presses Ctrl-C
        file.write(b"PK\x03\x04 half an archive")
        raise error()

    monkeypatch.setattr(np, "savez", failing)
    with pytest.raises(error):
        mg.save({"w": np.zeros((2, 3)), "b": np.zeros(3)}, path)
    monkeypatch.undo()
    state = mg.load(path)
    assert list(state) == ["w", "b"]
    np.testing.assert_array_equal(state["w"], good["w"])
    np.testing.assert_array_equal(state["b"], good["b"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]  # no temporary left behind


def test_save_replaces_the_file_whole_with_the_usual_permissions(tmp_path):
    path = tmp_path / "model.npz"
    mg.save({"w": np.zeros(100)}, path)
    mg.save({"w": np.ones(2)}, path)
    np.testing.assert_array_equal(mg.load(path)["w"], np.ones(2))
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"")  # created by open(): the mode the user's umask gives
    assert (path.stat().st_mode & 0o777) == (plain.stat().st_mode & 0o777)


def test_save_through_a_symlink_updates_its_target(tmp_path):
    target = tmp_path / "real.npz"
    mg.save({"w": np.zeros(2)}, target)
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    mg.save({"w": np.ones(2)}, link)
    assert link.is_symlink()
    np.testing.assert_array_equal(mg.load(target)["w"], np.ones(2))


def test_save_refuses_a_directory_and_a_missing_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"save: '.*' is a directory"):
        mg.save({"w": np.zeros(2)}, tmp_path)
    with pytest.raises(
        FileNotFoundError, match=r"save: the folder of '.*nowhere.*' does not exist"
    ):
        mg.save({"w": np.zeros(2)}, tmp_path / "nowhere" / "x.npz")


def test_load_refuses_a_fifo_without_opening_it(tmp_path, monkeypatch):
    import builtins
    import os

    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    real_open, real_os_open = builtins.open, os.open

    def guarded_open(file, *args, **kwargs):
        # opening a FIFO for reading blocks until a writer appears: it must never happen
        if os.fspath(file) == os.fspath(fifo):
            raise AssertionError("load opened the FIFO")
        return real_open(file, *args, **kwargs)

    def guarded_os_open(file, *args, **kwargs):
        if os.fspath(file) == os.fspath(fifo):
            raise AssertionError("load opened the FIFO")
        return real_os_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)
    with pytest.raises(ValueError, match=r"load: '.*pipe.npz' is a named pipe \(FIFO\)"):
        mg.load(fifo)


def test_load_refuses_a_directory_and_a_device(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"load: '.*' is a directory, not a file"):
        mg.load(tmp_path)
    with pytest.raises(ValueError, match=r"load: '/dev/null' is a character device"):
        mg.load("/dev/null")
