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
