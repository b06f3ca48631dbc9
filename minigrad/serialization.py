"""Saving and loading model weights as ``.npz`` files: plain arrays, never pickle.

``mg.save(model, path)`` writes the model's state dict (or any mapping of names to arrays) with
``numpy.savez``; each array is stored under its own name, so ``numpy.load(path)["fc.weight"]``
works too, and one extra entry records the names in order. ``mg.load(path)`` reads it back with
pickling disabled, so loading a file never runs code, and returns an OrderedDict in the saved
order, ready for ``model.load_state_dict``.

Saving to a path is atomic: the archive is written to a temporary file in the same folder, flushed
to disk, then renamed over the target, so a full disk or Ctrl-C during a save leaves the previous
file intact. Loading refuses anything that is not a regular file (a directory, a FIFO, a device)
before opening it.

>>> import os, tempfile
>>> import minigrad as mg
>>> model = mg.nn.Linear(3, 2)
>>> path = os.path.join(tempfile.mkdtemp(), "linear.npz")
>>> mg.save(model, path)
>>> state = mg.load(path)
>>> list(state)
['weight', 'bias']
>>> model.load_state_dict(state)
LoadResult(missing_keys=[], unexpected_keys=[])
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from .tensor import Tensor

__all__ = ["load", "save"]

#: name of the entry holding the format description and the ordered list of names
META_KEY = "__minigrad__"
_FORMAT = "minigrad-state-dict"
_EXPECTED = "an .npz file written by mg.save"
_VERSION = 1

PathLike = str | os.PathLike
_LOAD_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError, RuntimeError)


def _describe(path: Any) -> str:
    if isinstance(path, (str, os.PathLike)):
        return f"'{os.fspath(path)}'"
    return repr(getattr(path, "name", path))


def _state_of(obj: Any) -> Mapping[str, Any]:
    state_dict = getattr(obj, "state_dict", None)
    if callable(state_dict) and not isinstance(obj, Mapping):
        return state_dict()
    if isinstance(obj, Mapping):
        return obj
    raise TypeError(
        f"save: expected a Module or a mapping of names to arrays (a state dict), "
        f"got {type(obj).__name__}"
    )


def save(module_or_state_dict: Any, path: PathLike | IO[bytes]) -> None:
    """Write a Module's ``state_dict()`` (or a mapping of names to arrays) to an ``.npz`` file.

    ``path`` is used exactly as given (no suffix is added) or may be a binary file object.
    Values may be numpy arrays or Tensors; arrays of Python objects are refused, because
    storing them would need pickle.

    >>> import io
    >>> import numpy as np
    >>> import minigrad as mg
    >>> buf = io.BytesIO()
    >>> mg.save({"w": np.ones(2, dtype=np.float32)}, buf)
    >>> _ = buf.seek(0); mg.load(buf)["w"]
    array([1., 1.], dtype=float32)
    """
    state = _state_of(module_or_state_dict)
    arrays: dict[str, np.ndarray] = {}
    for name, value in state.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"save: state dict keys must be non-empty strings, got {name!r}")
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            shown = name.encode("utf-8", "backslashreplace").decode("utf-8")
            raise ValueError(
                f"save: the name '{shown}' holds a lone surrogate, which no file can store as "
                "UTF-8; rename that module attribute or state dict key"
            ) from None
        if name == META_KEY:
            raise ValueError(f"save: the name {META_KEY!r} is reserved for minigrad's metadata")
        arr = value.data if isinstance(value, Tensor) else value
        if not isinstance(arr, np.ndarray):
            if isinstance(arr, (np.generic, int, float, bool)):
                arr = np.asarray(arr)
            else:
                raise TypeError(
                    f"save: entry '{name}' is a {type(value).__name__}; "
                    "expected a numpy array or a Tensor"
                )
        if arr.dtype.hasobject:
            raise ValueError(
                f"save: entry '{name}' holds Python objects (dtype {arr.dtype}); only numeric "
                "arrays can be saved (minigrad never pickles)"
            )
        arrays[name] = arr
    meta = json.dumps({"format": _FORMAT, "version": _VERSION, "names": list(arrays)})
    # object arrays were refused above, so nothing here is pickled
    payload: dict[str, Any] = {META_KEY: np.array(meta), **arrays}
    if isinstance(path, (str, os.PathLike)):
        _save_atomically(payload, os.fspath(path))
    else:
        np.savez(path, **payload)


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words, from its ``st_mode`` (also the CLI's wording).

    >>> import stat
    >>> file_kind(stat.S_IFIFO)
    'a named pipe (FIFO)'
    """
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _save_atomically(payload: dict[str, Any], path: str) -> None:
    """Write ``payload`` to a temporary file beside ``path``, fsync it, rename it over ``path``.

    The rename is atomic on POSIX and Windows, so at every moment ``path`` holds either the old
    file or the complete new one. A symlink is written through (its target is replaced).
    """
    where = f"'{path}'"
    target = os.path.realpath(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        pass
    else:
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(f"save: {where} is a directory; give a file path to write")
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(
                f"save: {where} is {file_kind(st.st_mode)}, not a regular file; "
                "mg.save writes regular files only"
            )
    folder, base = os.path.split(target)
    if not os.path.isdir(folder or "."):
        raise FileNotFoundError(f"save: the folder of {where} does not exist")
    # created with O_EXCL and mode 0o666 so the new file gets the user's umask, like open()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        # Ctrl-C, a full disk, anything: the old file is untouched; drop the partial copy
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder or ".")


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable where the platform allows syncing a directory."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def load(path: PathLike | IO[bytes]) -> OrderedDict[str, np.ndarray]:
    """Read a state dict written by :func:`save` (or any ``.npz`` of numeric arrays).

    Returns an OrderedDict of numpy arrays in the saved order. Pickling is disabled: a file
    holding Python objects, a file that is not an ``.npz`` archive or a damaged one raises
    ``ValueError`` naming the path; a missing file raises ``FileNotFoundError``.

    >>> import minigrad as mg
    >>> mg.load("no/such/file.npz")
    Traceback (most recent call last):
    ...
    FileNotFoundError: load: no such file 'no/such/file.npz'
    """
    where = _describe(path)
    if isinstance(path, (str, os.PathLike)):
        with open_regular_file(os.fspath(path), where, "load", _EXPECTED) as f:
            return _load_from(f, where)
    return _load_from(path, where)


def open_regular_file(path: str, where: str, who: str, expected: str) -> IO[bytes]:
    """Open ``path`` for reading if it is a regular file; refuse anything else before opening.

    A FIFO would block ``open`` forever and a directory or device is never a model file, so the
    type is checked with ``os.stat`` first; the file is then opened non-blocking and checked
    again, in case it was swapped between the two calls. Errors start with ``who`` (the function
    the user called) and end with what was ``expected``.

    >>> open_regular_file(".", "'.'", "load", "an .npz file")
    Traceback (most recent call last):
    ...
    IsADirectoryError: load: '.' is a directory, not a file; expected an .npz file
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{who}: no such file {where}") from None
    _refuse_non_regular(st.st_mode, where, who, expected)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        _refuse_non_regular(os.fstat(fd).st_mode, where, who, expected)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _refuse_non_regular(mode: int, where: str, who: str, expected: str) -> None:
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{who}: {where} is a directory, not a file; expected {expected}")
    if not stat.S_ISREG(mode):
        raise ValueError(
            f"{who}: {where} is {file_kind(mode)}, not a regular file; expected {expected}"
        )


def _load_from(path: Any, where: str) -> OrderedDict[str, np.ndarray]:
    try:
        archive = np.load(path, allow_pickle=False)
    except _LOAD_ERRORS as e:
        if "pickle" in str(e).lower():
            raise ValueError(
                f"load: {where} holds pickled Python data, which minigrad never loads "
                "(unpickling can run code); expected an .npz file written by mg.save"
            ) from e
        raise ValueError(
            f"load: {where} is not a readable .npz file of arrays ({type(e).__name__}: {e}); "
            "expected a file written by mg.save"
        ) from e
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(
            f"load: {where} holds a single .npy array, not an .npz archive of named arrays; "
            "expected a file written by mg.save"
        )
    with archive:
        files = list(archive.files)
        names = _saved_order(archive, files, where)
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        for name in names:
            try:
                state[name] = archive[name]
            except ValueError as e:
                if "pickle" in str(e).lower():
                    raise ValueError(
                        f"load: entry '{name}' in {where} holds Python objects, which could only "
                        "be read by unpickling (which can run code); refusing to load it"
                    ) from e
                if "malformed" in str(e) or "header" in str(e).lower():
                    raise ValueError(
                        f"load: entry '{name}' in {where} is damaged: its .npy header is not "
                        f"plain literal values (dtype, order, shape) ({e})"
                    ) from e
                raise ValueError(f"load: entry '{name}' in {where} is damaged: {e}") from e
            except Exception as e:  # zlib.error, BadZipFile...: anything means a damaged entry
                raise ValueError(
                    f"load: entry '{name}' in {where} is damaged ({type(e).__name__}: {e})"
                ) from e
    return state


def _saved_order(archive: Any, files: list[str], where: str) -> list[str]:
    """The names in saved order: from the metadata entry, else the archive's own order."""
    if META_KEY not in files:
        return files
    try:
        meta = json.loads(str(archive[META_KEY]))
        names = meta["names"]
        ok = meta.get("format") == _FORMAT and isinstance(names, list)
    except (*_LOAD_ERRORS, TypeError, json.JSONDecodeError) as e:
        raise ValueError(f"load: the metadata entry of {where} is damaged ({e})") from e
    if not ok or sorted(names) != sorted(f for f in files if f != META_KEY):
        raise ValueError(
            f"load: the metadata entry of {where} does not match the arrays it holds; "
            "the file is damaged or was not written by mg.save"
        )
    return names
