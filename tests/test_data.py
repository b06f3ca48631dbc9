import gzip
import struct
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import (
    XO_CLASSES,
    DataLoader,
    canonical_o,
    canonical_x,
    canonical_x5,
    load_digits,
    load_mnist,
    match_map,
    match_score,
    read_idx,
    x_or_not_x,
    xo_features,
    xo_images,
)

# ----------------------------------------------------------------------------- X / O, 9x9


def art(text, on=1.0, off=-1.0):
    return np.array([[on if c == "#" else off for c in row] for row in text.split()])


def test_canonical_x_and_o_are_the_explainer_pictures():
    x = art(
        """
        .........
        .#.....#.
        ..#...#..
        ...#.#...
        ....#....
        ...#.#...
        ..#...#..
        .#.....#.
        .........
        """
    )
    o = art(
        """
        .........
        ...###...
        ..#...#..
        .#.....#.
        .#.....#.
        .#.....#.
        ..#...#..
        ...###...
        .........
        """
    )
    assert canonical_x().dtype == np.float32 and canonical_o().dtype == np.float32
    np.testing.assert_array_equal(canonical_x(), x)
    np.testing.assert_array_equal(canonical_o(), o)


def test_canonical_arrays_are_fresh_copies():
    canonical_x()[0, 0] = 5.0
    assert canonical_x()[0, 0] == -1.0


def test_xo_images_shapes_dtypes_values_and_balance():
    images, labels = xo_images(n_per_class=50, seed=0)
    assert images.shape == (100, 1, 9, 9) and images.dtype == np.float32
    assert labels.shape == (100,) and labels.dtype == np.int64
    assert set(np.unique(images)) == {-1.0, 1.0}
    assert np.bincount(labels).tolist() == [50, 50]
    assert XO_CLASSES == ("O", "X")
    # shuffled, not all of one class first
    assert not (np.all(labels[:50] == labels[0]) and np.all(labels[50:] == labels[50]))


def test_xo_images_deterministic_for_a_seed_and_different_across_seeds():
    a = xo_images(n_per_class=20, seed=3)
    b = xo_images(n_per_class=20, seed=3)
    c = xo_images(n_per_class=20, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_xo_images_without_variants_are_the_canonical_pictures():
    images, labels = xo_images(n_per_class=3, seed=0, variants=False)
    for image, label in zip(images, labels, strict=True):
        expected = canonical_x() if XO_CLASSES[label] == "X" else canonical_o()
        np.testing.assert_array_equal(image[0], expected)


def test_xo_variants_vary_and_stay_mostly_background():
    images, labels = xo_images(n_per_class=100, seed=1)
    strokes = images > 0
    for cls in (0, 1):
        distinct = {im.tobytes() for im in strokes[labels == cls]}
        assert len(distinct) > 20
    # every image has a stroke and plenty of background
    per_image = strokes.sum(axis=(1, 2, 3))
    assert per_image.min() >= 5 and per_image.max() < 81 // 2


def test_xo_variants_include_thick_and_turned_shapes():
    images, labels = xo_images(n_per_class=100, seed=2, max_shift=0)
    xs = images[labels == 1, 0] > 0
    # a thick X has two adjacent stroke pixels in some row; a 1-pixel X never does
    thick = (xs[:, :, 1:] & xs[:, :, :-1]).any(axis=(1, 2))
    assert thick.any() and not thick.all()
    # with no shift, an X that is not turned is symmetric under a left-right flip
    symmetric = (xs == xs[:, :, ::-1]).all(axis=(1, 2))
    assert not symmetric.all()


def test_xo_images_other_size_and_errors():
    images, _ = xo_images(n_per_class=2, size=15, seed=0)
    assert images.shape == (4, 1, 15, 15)
    with pytest.raises(ValueError, match="xo_images: n_per_class"):
        xo_images(n_per_class=0)
    with pytest.raises(ValueError, match="xo_images: size must be at least 5"):
        xo_images(size=3)


# ----------------------------------------------------------------------------- matching features


def test_features_are_the_two_diagonals_and_the_small_x():
    f = xo_features()
    assert set(f) == {"\\", "/", "x"}
    np.testing.assert_array_equal(f["\\"], 2 * np.eye(3) - 1)
    np.testing.assert_array_equal(f["/"], (2 * np.eye(3) - 1)[:, ::-1])
    np.testing.assert_array_equal(f["x"], [[1, -1, 1], [-1, 1, -1], [1, -1, 1]])
    assert all(v.dtype == np.float32 and v.shape == (3, 3) for v in f.values())


def test_match_score_perfect_and_seven_of_nine():
    f = xo_features()["\\"]
    assert match_score(f, f) == 1.0
    assert match_score(-f, f) == -1.0
    patch = f.copy()
    patch[0, 2] = 1.0  # two pixels now disagree, seven agree
    patch[2, 0] = 1.0
    assert match_score(patch, f) == pytest.approx((7 - 2) / 9)
    assert round(match_score(patch, f), 4) == 0.5556


def test_match_map_on_the_canonical_x():
    m = match_map(canonical_x(), xo_features()["\\"])
    assert m.shape == (7, 7) and m.dtype == np.float32
    # the patch at (1, 1) is exactly the falling diagonal; the corner patch misses one pixel
    assert m[1, 1] == pytest.approx(1.0)
    assert m[0, 0] == pytest.approx(7 / 9)
    # the centre patch is the small x: it agrees with the diagonal on 7 of 9 pixels
    assert m[3, 3] == pytest.approx((7 - 2) / 9)
    m_x = match_map(canonical_x(), xo_features()["x"])
    assert m_x[3, 3] == pytest.approx(1.0)


def test_match_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"match_score: patch shape \(2, 2\).*\(3, 3\)"):
        match_score(np.ones((2, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="match_map: feature shape"):
        match_map(np.ones((2, 2)), np.ones((3, 3)))


# ----------------------------------------------------------------------------- X or not X, 5x5


def test_canonical_x5():
    expected = [
        [1, 0, 0, 0, 1],
        [0, 1, 0, 1, 0],
        [0, 0, 1, 0, 0],
        [0, 1, 0, 1, 0],
        [1, 0, 0, 0, 1],
    ]
    x = canonical_x5()
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, expected)


def test_x_or_not_x_shapes_values_and_balance():
    images, labels = x_or_not_x(n_per_class=200, seed=0)
    assert images.shape == (400, 1, 5, 5) and images.dtype == np.float32
    assert labels.shape == (400,) and labels.dtype == np.float32
    assert set(np.unique(images)) == {0.0, 1.0}
    assert set(np.unique(labels)) == {0.0, 1.0}
    assert labels.sum() == 200
    assert images.sum(axis=(1, 2, 3)).min() >= 3  # no blank images
    assert any(np.array_equal(im[0], canonical_x5()) for im in images[labels == 1])


def test_x_or_not_x_never_gives_one_picture_both_labels():
    images, labels = x_or_not_x(n_per_class=1000, seed=5)
    pos = {im.tobytes() for im in images[labels == 1]}
    neg = {im.tobytes() for im in images[labels == 0]}
    assert len(pos) > 30 and len(neg) > 30
    assert not pos & neg


def test_x_or_not_x_determinism():
    a = x_or_not_x(n_per_class=30, seed=1)
    b = x_or_not_x(n_per_class=30, seed=1)
    c = x_or_not_x(n_per_class=30, seed=2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


# ----------------------------------------------------------------------------- digits


def test_load_digits_split():
    pytest.importorskip("sklearn")
    x_train, y_train, x_test, y_test = load_digits(test_fraction=0.2, seed=0)
    assert x_train.shape[1:] == (1, 8, 8) and x_test.shape[1:] == (1, 8, 8)
    assert x_train.shape[0] + x_test.shape[0] == 1797
    assert x_test.shape[0] == pytest.approx(0.2 * 1797, abs=10)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert y_train.shape == (x_train.shape[0],) and y_test.shape == (x_test.shape[0],)
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert set(np.unique(y_test)) == set(range(10))  # stratified: every digit in both parts
    # the shares per digit match the overall share
    share = np.bincount(y_test, minlength=10) / (
        np.bincount(y_train, minlength=10) + np.bincount(y_test, minlength=10)
    )
    assert np.all(np.abs(share - 0.2) < 0.02)
    again = load_digits(test_fraction=0.2, seed=0)
    np.testing.assert_array_equal(again[1], y_train)
    other = load_digits(test_fraction=0.2, seed=1)
    assert not np.array_equal(other[1], y_train)


def test_load_digits_names_the_extra_when_sklearn_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r'pip install "minigrad-cnn\[digits\]"'):
        load_digits()


def test_load_digits_rejects_bad_fraction():
    with pytest.raises(ValueError, match="load_digits: test_fraction"):
        load_digits(test_fraction=1.0)


# ----------------------------------------------------------------------------- IDX files

IDX_CODES = {
    np.uint8: 0x08,
    np.int8: 0x09,
    np.int16: 0x0B,
    np.int32: 0x0C,
    np.float32: 0x0D,
    np.float64: 0x0E,
}


def idx_bytes(array):
    """Encode an array as IDX by hand, independently of the reader."""
    array = np.asarray(array)
    header = bytes([0, 0, IDX_CODES[array.dtype.type], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, compress=False):
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("dtype", list(IDX_CODES), ids=lambda t: t.__name__)
def test_read_idx_round_trip(tmp_path, dtype, compress):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((3, 4, 5)) * 50).astype(dtype)
    suffix = ".gz" if compress else ""
    path = write_idx(tmp_path / f"a-idx3{suffix}", array, compress)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    assert out.shape == (3, 4, 5)
    np.testing.assert_array_equal(out, array)
    out[0, 0, 0] = 0  # writable


def test_read_idx_hand_made_header(tmp_path):
    # a 2 x 3 uint8 matrix: magic 0x00000802 (uint8, 2 dims), dims 2 and 3, then 6 bytes
    raw = bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 255])
    (tmp_path / "m").write_bytes(raw)
    np.testing.assert_array_equal(read_idx(tmp_path / "m"), [[1, 2, 3], [4, 5, 255]])
    # big-endian float32: 1.5 is 0x3FC00000
    raw = bytes([0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, 0xC0, 0, 0])
    (tmp_path / "f").write_bytes(raw)
    np.testing.assert_array_equal(read_idx(str(tmp_path / "f")), np.array([1.5], np.float32))


def test_read_idx_gzip_found_by_content_not_name(tmp_path):
    array = np.arange(6, dtype=np.uint8).reshape(2, 3)
    path = write_idx(tmp_path / "labels-idx2-ubyte", array, compress=True)
    np.testing.assert_array_equal(read_idx(path), array)


def test_read_idx_bad_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(bytes([1, 2, 8, 1, 0, 0, 0, 1, 7]))
    with pytest.raises(ValueError, match=r"read_idx: .*bad.* bad magic number 0x01020801"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 7, 1, 0, 0, 0, 1, 7]))  # unknown type code
    with pytest.raises(ValueError, match="bad magic number"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
def test_read_idx_truncated_and_oversized(tmp_path, compress):
    data = idx_bytes(np.zeros((4, 3), dtype=np.float32))  # 4 + 8 + 48 = 60 bytes
    path = tmp_path / ("short.gz" if compress else "short")
    short = data[:-5]
    path.write_bytes(gzip.compress(short) if compress else short)
    with pytest.raises(ValueError, match=r"short.*expected 60 bytes, got 55"):
        read_idx(path)
    long = data + b"\x00"
    path.write_bytes(gzip.compress(long) if compress else long)
    with pytest.raises(ValueError, match=r"expected 60 bytes, got 61"):
        read_idx(path)
    path.write_bytes(data[:6])
    with pytest.raises(ValueError, match="truncated inside its header"):
        read_idx(path)


# ----------------------------------------------------------------------------- MNIST directory


def fake_mnist(directory, kind, n, compress=False, dot=False):
    rng = np.random.default_rng(n)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    stem = "train" if kind == "train" else "t10k"
    sep = "." if dot else "-"
    suffix = ".gz" if compress else ""
    write_idx(directory / f"{stem}-images{sep}idx3-ubyte{suffix}", images, compress)
    write_idx(directory / f"{stem}-labels{sep}idx1-ubyte{suffix}", labels, compress)
    return images, labels


def test_load_mnist_from_a_directory(tmp_path):
    images, labels = fake_mnist(tmp_path, "train", 6)
    fake_mnist(tmp_path, "test", 4, compress=True)
    x, y = load_mnist(tmp_path, kind="train")
    assert x.shape == (6, 1, 28, 28) and x.dtype == np.float32
    assert y.shape == (6,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_allclose(x[:, 0] * 255, images, atol=1e-4)
    np.testing.assert_array_equal(y, labels)
    x_test, y_test = load_mnist(str(tmp_path), kind="test")
    assert x_test.shape == (4, 1, 28, 28) and y_test.shape == (4,)


def test_load_mnist_dotted_names(tmp_path):
    fake_mnist(tmp_path, "test", 3, dot=True)
    assert load_mnist(tmp_path, kind="test")[0].shape == (3, 1, 28, 28)


def test_load_mnist_missing_files_lists_the_names(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path, kind="train")
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message and "train-images-idx3-ubyte.gz" in message
    assert str(tmp_path) in message and "never downloads" in message
    fake_mnist(tmp_path, "train", 2)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte"):
        load_mnist(tmp_path)


def test_load_mnist_errors(tmp_path):
    with pytest.raises(ValueError, match="load_mnist: kind"):
        load_mnist(tmp_path, kind="validation")
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match=r"3 images but .* 2 labels"):
        load_mnist(tmp_path)


# ----------------------------------------------------------------------------- DataLoader


def toy(n=10):
    return np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n)


def test_every_sample_exactly_once_per_epoch():
    x, y = toy(10)
    loader = DataLoader(x, y, batch_size=3, shuffle=True, seed=0)
    assert len(loader) == 4
    for _ in range(3):
        batches = list(loader)
        assert [len(yb) for _, yb in batches] == [3, 3, 3, 1]
        seen = np.concatenate([yb for _, yb in batches])
        assert sorted(seen.tolist()) == list(range(10))
        for xb, yb in batches:  # pairs stay together
            np.testing.assert_array_equal(xb[:, 0], 2 * yb)


def test_no_shuffle_keeps_order():
    x, y = toy(5)
    loader = DataLoader(x, y, batch_size=2, shuffle=False)
    assert [yb.tolist() for _, yb in loader] == [[0, 1], [2, 3], [4]]


def test_drop_last():
    x, y = toy(10)
    loader = DataLoader(x, y, batch_size=4, drop_last=True, seed=0)
    assert len(loader) == 2
    sizes = [len(yb) for _, yb in loader]
    assert sizes == [4, 4]
    exact = DataLoader(*toy(8), batch_size=4, drop_last=True)
    assert len(exact) == 2 and len(list(exact)) == 2


def test_shuffling_is_reproducible_and_changes_between_epochs():
    x, y = toy(20)

    def epochs(loader, k=3):
        return [np.concatenate([yb for _, yb in loader]).tolist() for _ in range(k)]

    a = epochs(DataLoader(x, y, batch_size=5, seed=7))
    b = epochs(DataLoader(x, y, batch_size=5, seed=7))
    c = epochs(DataLoader(x, y, batch_size=5, seed=8))
    assert a == b
    assert a != c
    assert a[0] != a[1]


def test_order_is_drawn_when_iteration_starts():
    x, y = toy(20)
    reference = DataLoader(x, y, batch_size=20, seed=1)
    epoch1, epoch2 = next(iter(reference))[1], next(iter(reference))[1]
    loader = DataLoader(x, y, batch_size=20, seed=1)
    first, second = iter(loader), iter(loader)
    # consumed in the other order, each iterator still holds its own epoch
    np.testing.assert_array_equal(next(second)[1], epoch2)
    np.testing.assert_array_equal(next(first)[1], epoch1)


def test_dataloader_errors():
    with pytest.raises(ValueError, match=r"DataLoader: .*x.shape=\(10, 2\) and y.shape=\(9,\)"):
        DataLoader(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive integer"):
        DataLoader(*toy(), batch_size=0)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(*toy(), batch_size=2.5)


def test_reaching_for_a_loader_by_its_dataset_name_says_which_function_loads_it():
    with pytest.raises(AttributeError, match=r"mg\.data\.load_digits\(test_fraction=0\.2"):
        mg.data.digits()
    with pytest.raises(AttributeError, match=r"mg\.data\.load_mnist\(directory"):
        mg.data.mnist
    with pytest.raises(AttributeError, match="has no attribute 'nonsense'$"):
        mg.data.nonsense
    assert callable(mg.data.load_digits)
