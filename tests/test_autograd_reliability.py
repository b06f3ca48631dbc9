"""Engine reliability: silent wrong answers, misbehaving ops, clear errors, API gaps."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.autograd import call_op
from minigrad.gradients import check_grad_dtype
from minigrad.op import Op

# --------------------------------------------------------------------------- pow corners


def test_pow_zero_to_the_zero_has_zero_gradients_like_torch() -> None:
    x = mg.tensor(0.0, requires_grad=True)
    b = mg.tensor(0.0, requires_grad=True)
    (x**b).backward()
    assert x.grad.item() == 0.0 and b.grad.item() == 0.0


def test_pow_corners_match_torch() -> None:
    torch = pytest.importorskip("torch")
    xs = np.array([0.0, 0.0, 0.0, 0.0, -1.0, -2.0, 2.0, 0.0, 1.0, -0.5])
    bs = np.array([0.0, 1.0, 2.0, 0.5, 2.0, 3.0, 0.0, -1.0, 0.0, 2.0])
    x = mg.tensor(xs, requires_grad=True)
    b = mg.tensor(bs, requires_grad=True)
    with np.errstate(all="ignore"):
        (x**b).sum().backward()
    tx = torch.tensor(xs, requires_grad=True)
    tb = torch.tensor(bs, requires_grad=True)
    (tx**tb).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), equal_nan=True)
    np.testing.assert_allclose(b.grad.data, tb.grad.numpy(), equal_nan=True)


# --------------------------------------------------------------------------- tensor dtypes


@pytest.mark.parametrize(
    "data",
    [
        "abc",
        np.array(["a", "b"]),
        np.array([1, "a"], dtype=object),
        np.array(["2020-01-01"], dtype="datetime64[D]"),
        np.zeros(2, dtype=[("a", "f4")]),
        np.zeros(2, dtype="V4"),
        None,
    ],
    ids=["str", "str-array", "object", "datetime64", "structured", "void", "None"],
)
def test_tensor_accepts_only_numbers(data: object) -> None:
    with pytest.raises(TypeError, match="tensor.*bool, integer, floating or complex"):
        mg.tensor(data)
    with pytest.raises(TypeError, match="tensor.*bool, integer, floating or complex"):
        mg.as_tensor(data)


def test_tensor_accepts_bool_int_float_complex() -> None:
    for data in (True, 3, 2.5, 1 + 2j, np.array([1, 2], dtype=np.uint8)):
        assert mg.tensor(data).dtype.kind in "biufc"


def test_ragged_nested_list_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="tensor: nested sequences of different lengths"):
        mg.tensor([[1.0, 2.0], [3.0]])


def test_list_of_zero_d_tensors_makes_a_tensor() -> None:
    t = mg.tensor([mg.tensor(1.0), mg.tensor(2.0)])
    np.testing.assert_array_equal(t.data, [1.0, 2.0])
    assert t.dtype == np.float32
    rows = mg.tensor([mg.tensor([1.0, 2.0]), [3.0, 4.0]])
    assert rows.shape == (2, 2)


# --------------------------------------------------------------------------- in-place changes


def test_modifying_saved_data_before_backward_raises_naming_op_and_tensor() -> None:
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True, name="x")
    y = (x * x).sum()
    x.data[0] = 100
    with pytest.raises(
        RuntimeError, match=r"op 'mul'.*tensor 'x' of shape \(3,\).*modified in place"
    ):
        y.backward()


def test_modifying_a_large_saved_array_is_detected() -> None:
    w = mg.tensor(np.linspace(-1, 1, 10_000), requires_grad=True, name="w")
    loss = mg.exp(w).sum() + (w * 3.0).sum()
    w.data[5000] += 1e-9
    with pytest.raises(RuntimeError, match="'w'.*modified in place"):
        loss.backward()


def test_changing_data_after_backward_is_fine_and_retained_graph_checks_again() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = (x * x).sum()
    y.backward(retain_graph=True)
    x.data -= 0.5  # what an optimizer step does
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()
    z = (x * x).sum()
    z.backward()  # a fresh forward pass sees the new values
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0] + 2 * np.array([0.5, 1.5]))


# --------------------------------------------------------------------------- retain_grad


def test_retain_grad_accumulates_over_two_backward_passes() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    h.retain_grad()
    y = (h * h).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(h.grad.data, 2 * 2 * h.data)  # torch: [12., 24.]


# --------------------------------------------------------------------------- misbehaving ops


class _Plugin(Op):
    plugin = "bad-dist 1.2"
    entry_point = "bad_dist.ops:Bad"


def _plugin(forward, backward=None, name="bad"):
    cls = type(
        name.title(),
        (_Plugin,),
        {
            "name": name,
            "forward": staticmethod(forward),
            "backward": staticmethod(backward or (lambda ctx, g: g)),
        },
    )
    return cls


@pytest.mark.parametrize(
    "value",
    [None, "text", np.array(["a"]), np.array([object()]), [1.0, 2.0]],
    ids=["None", "str", "str-array", "object-array", "list"],
)
def test_forward_returning_non_numeric_names_op_and_distribution(value: object) -> None:
    op = _plugin(lambda ctx, x: value)
    with pytest.raises(TypeError, match=r"op 'bad' \(from plugin bad-dist 1.2, entry point "):
        call_op(op, mg.tensor([1.0]))


def test_forward_writing_into_its_input_raises_and_leaves_the_input_alone() -> None:
    def forward(ctx, x):
        x *= 3
        return x

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="read-only") as info:
        call_op(_plugin(forward), x)
    assert any("forward of op 'bad'" in n for n in info.value.__notes__)
    np.testing.assert_array_equal(x.data, [1.0, 2.0])


def test_backward_writing_into_saved_arrays_raises() -> None:
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 2

    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        x[...] = 0
        return grad * 2

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = call_op(_plugin(forward, backward), x).sum()
    with pytest.raises(ValueError, match="read-only") as info:
        y.backward()
    assert any("backward of op 'bad'" in n for n in info.value.__notes__)
    np.testing.assert_array_equal(x.data, [1.0, 2.0])


def test_saved_plugin_input_still_comes_back_as_the_input_tensor() -> None:
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x

    x = mg.tensor([1.0, 3.0], requires_grad=True)
    (g,) = mg.grad(call_op(_plugin(forward, backward), x).sum(), [x], create_graph=True)
    (gg,) = mg.grad(g.sum(), [x])  # connected through the saved input: d/dx 2x = 2
    np.testing.assert_array_equal(gg.data, [2.0, 2.0])


@pytest.mark.parametrize("dtype", [np.complex64, np.int64, np.bool_])
def test_lossy_gradient_dtype_is_an_error_naming_op_and_distribution(dtype: type) -> None:
    op = _plugin(lambda ctx, x: x * 2, lambda ctx, g: np.ones(g.shape, dtype=dtype))
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"op 'bad' \(from plugin bad-dist 1.2.*lose information"):
        call_op(op, x).sum().backward()


def test_gradient_precision_difference_is_fitted() -> None:
    op = _plugin(lambda ctx, x: x * 2, lambda ctx, g: np.full(g.shape, 2.0, dtype=np.float64))
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    call_op(op, x).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_mixed_precision_inputs_keep_working() -> None:
    img = mg.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    w = mg.tensor(np.full((3,), 0.5), requires_grad=True)  # float64
    (img * w).sum().backward()
    assert img.grad.dtype == np.float32 and w.grad.dtype == np.float64


def test_check_grad_dtype_is_the_public_rule() -> None:
    check_grad_dtype("op", 0, np.float64, np.float32)
    check_grad_dtype("op", 0, np.float32, np.complex64)
    check_grad_dtype("op", 0, np.complex128, np.complex64)
    for g, x in [(np.complex64, np.float32), (np.int32, np.float32), (np.bool_, np.float64)]:
        with pytest.raises(TypeError, match="op 'op'.*input 0"):
            check_grad_dtype("op", 0, g, x)


@pytest.mark.parametrize("phase", ["forward", "backward"])
def test_exceptions_inside_ops_keep_their_type_and_get_a_note(phase: str) -> None:
    class Boom(KeyError):
        pass

    def fail(ctx, x):
        raise Boom("inner")

    op = _plugin(fail if phase == "forward" else (lambda ctx, x: x * 2), fail, name="boomer")
    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(Boom) as info:
        call_op(op, x).sum().backward()
    (n,) = info.value.__notes__
    assert phase in n and "op 'boomer'" in n and "bad-dist 1.2" in n and "bad_dist.ops:Bad" in n


def test_core_op_errors_get_a_note_naming_the_op() -> None:
    with pytest.raises(ValueError, match="shapes") as info:
        mg.tensor([1.0, 2.0]) + mg.tensor([1.0, 2.0, 3.0])
    assert info.value.__notes__ == ["in the forward of op 'add'"]


# --------------------------------------------------------------------------- core errors


def test_sum_axis_must_be_ints_without_repeats() -> None:
    t = mg.ones(2, 3)
    with pytest.raises(TypeError, match="sum: axis must be an int or a tuple of ints.*float"):
        t.sum(axis=1.0)
    with pytest.raises(ValueError, match=r"sum: axis \(0, 0\) repeats an axis"):
        t.sum(axis=(0, 0))
    with pytest.raises(ValueError, match=r"mean: axis \(1, -1\) repeats"):
        t.mean(axis=(1, -1))


def test_pad_with_too_many_pairs_names_the_op() -> None:
    with pytest.raises(ValueError, match=r"pad: pad_width .* does not fit a 2-D tensor"):
        mg.pad(mg.ones(2, 2), [(1, 1)] * 3)
    assert mg.pad(mg.ones(2, 2), [(1, 0), (0, 2)]).shape == (3, 4)
    assert mg.pad(mg.ones(2, 2), 1).shape == (4, 4)


def test_load_of_a_header_with_a_non_literal_shape_says_so(tmp_path) -> None:
    buf = io.BytesIO()
    np.save(buf, np.zeros(3, np.float32))
    bad = buf.getvalue().replace(b"'shape': (3,)", b"'shape': (a,)")
    path = tmp_path / "bad.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("w.npy", bad)
    with pytest.raises(ValueError, match="header is not plain literal") as info:
        mg.load(path)
    assert "Python objects" not in str(info.value)


# --------------------------------------------------------------------------- API gaps


def test_register_hook_returns_a_removable_handle() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x.register_hook(lambda g: g * 10.0)
    (x * 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [10.0, 10.0])
    h.remove()
    h.remove()  # twice is harmless
    x.zero_grad()
    (x * 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_grad_outputs_may_be_a_single_array_or_tensor() -> None:
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = mg.grad(x * 2, [x], grad_outputs=np.ones(3, dtype=np.float32))
    np.testing.assert_array_equal(g.data, [2.0, 2.0, 2.0])
    (g,) = mg.grad(x * 2, [x], grad_outputs=mg.tensor([1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g.data, [2.0, 0.0, 4.0])


def test_mg_grad_fills_retained_grads_but_not_leaf_grads() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    h.retain_grad()
    mg.grad((h * h).sum(), [x])
    assert x.grad is None  # as torch.autograd.grad: h.grad = [6., 12.], x.grad = None
    np.testing.assert_array_equal(h.grad.data, [6.0, 12.0])


# --------------------------------------------------------------------------- sweeps


_corner = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0])


@settings(max_examples=60, deadline=None)
@given(xs=st.lists(_corner, min_size=1, max_size=6), bs=st.lists(_corner, min_size=1, max_size=6))
def test_pow_gradients_match_torch_on_corner_values(xs: list[float], bs: list[float]) -> None:
    torch = pytest.importorskip("torch")
    n = min(len(xs), len(bs))
    xv, bv = np.array(xs[:n]), np.array(bs[:n])
    x = mg.tensor(xv, requires_grad=True)
    b = mg.tensor(bv, requires_grad=True)
    with np.errstate(all="ignore"):
        (x**b).sum().backward()
    tx = torch.tensor(xv, requires_grad=True)
    tb = torch.tensor(bv, requires_grad=True)
    (tx**tb).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), equal_nan=True)
    np.testing.assert_allclose(b.grad.data, tb.grad.numpy(), equal_nan=True)


@settings(max_examples=40, deadline=None)
@given(
    arr=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=9), elements=st.floats(-9, 9)),
    where=st.integers(0, 10_000),
    delta=st.sampled_from([1.0, -1e-9, 1e-300, 7.5]),
)
def test_any_single_element_change_of_a_saved_leaf_is_caught(
    arr: np.ndarray, where: int, delta: float
) -> None:
    x = mg.tensor(arr, requires_grad=True)
    y = (x * x).sum()
    flat = x.data.reshape(-1)
    i = where % flat.size
    before = flat[i]
    flat[i] = before + delta
    if flat[i] == before:  # the change was below float precision: nothing changed
        y.backward()
        return
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("size", [65, 66, 67, 1000])  # whole 64-bit words or not
@pytest.mark.parametrize("bit", ["lowest", "highest"])
def test_a_one_bit_change_of_a_large_saved_leaf_is_caught(dtype, size, bit) -> None:
    x = mg.tensor(np.linspace(-3, 3, size).astype(dtype), requires_grad=True)
    y = (x * x).sum()
    word = x.data.view(f"u{x.data.itemsize}")
    flip = 1 if bit == "lowest" else 1 << (8 * x.data.itemsize - 1)
    for i in (0, size // 2, size - 1):
        word[i] ^= flip
        with pytest.raises(RuntimeError, match="modified in place"):
            y.backward(retain_graph=True)
        word[i] ^= flip  # back as it was: backward runs again
    y.backward()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_one_bit_change_of_a_transposed_saved_leaf_is_caught(dtype) -> None:
    base = np.linspace(-3, 3, 12 * 10).astype(dtype).reshape(12, 10)
    x = mg.tensor(base.T, requires_grad=True)  # Fortran order: not C-contiguous
    assert not x.data.flags.c_contiguous
    y = (x * x).sum()
    y.backward(retain_graph=True)  # unchanged: no false alarm
    word = x.data.view(f"u{x.data.itemsize}")
    word[3, 7] ^= 1
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def _rearrange(d: np.ndarray, how: str) -> None:
    """Rearrange ``d``'s values in place, as user code might (same values, other places)."""
    flat = d.reshape(-1)  # a view: d is C-contiguous
    if how == "reverse":
        flat[:] = flat[::-1].copy()
    elif how == "roll":
        flat[:] = np.roll(flat, 1)
    elif how == "shuffle":
        np.random.default_rng(0).shuffle(flat)
    elif how == "swap two":
        flat[[1, -2]] = flat[[-2, 1]]
    elif how == "square transpose":
        d[...] = d.T.copy()
    elif how == "sort":
        flat.sort()


REARRANGEMENTS = ["reverse", "roll", "shuffle", "swap two", "square transpose", "sort"]


@pytest.mark.parametrize("how", REARRANGEMENTS)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("side", [9, 40, 300])  # 81 to 90,000 elements: exact bytes and hashed
def test_any_rearrangement_of_a_saved_leaf_is_caught(how: str, dtype: str, side: int) -> None:
    # distinct values in no particular order, so every rearrangement changes the array
    values = np.random.default_rng(side).permutation(side * side) - side * side / 2
    values = values.astype(dtype).reshape(side, side)
    x = mg.tensor(values, requires_grad=True)
    w = mg.tensor(np.ones((side, side), dtype=dtype), requires_grad=True)
    y = (x * w).sum()  # w's gradient is x's values: a rearranged x gives a wrong one
    before = x.data.copy()
    _rearrange(x.data, how)
    assert not np.array_equal(x.data, before) and np.array_equal(
        np.sort(x.data, None), np.sort(before, None)
    )
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_rearranged_non_contiguous_saved_leaf_is_caught_and_no_false_alarm(dtype) -> None:
    base = np.arange(200 * 30, dtype=dtype).reshape(200, 30)
    x = mg.tensor(base.T, requires_grad=True)  # Fortran order, 48 KB at float64
    y = (x * x).sum()
    y.backward(retain_graph=True)  # unchanged: no false alarm
    x.data[:, :] = x.data[:, ::-1].copy()
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


# --------------------------------------------------------------------------- read-only backward


def _scaling_plugin(backward):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 2

    return _plugin(forward, backward, name="scale")


def test_backward_writing_through_saved_tensors_data_raises_and_x_stays() -> None:
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        d = x.data
        d *= 2  # the caller's x, reached through the Tensor saved_tensors hands back
        return grad * 2

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = call_op(_scaling_plugin(backward), x).sum()
    with pytest.raises(ValueError, match="read-only") as info:
        y.backward()
    assert any("backward of op 'scale'" in n for n in info.value.__notes__)
    np.testing.assert_array_equal(x.data, [1.0, 2.0])
    x.data[0] = 5.0  # the user's tensor is writeable again once backward is over
    assert x.data[0] == 5.0


@pytest.mark.parametrize("reach", ["inputs", "output", "grad"])
def test_backward_writing_into_inputs_output_or_grad_raises(reach: str) -> None:
    def backward(ctx, grad):
        target = {"inputs": lambda: ctx.inputs[0], "output": lambda: ctx.output}.get(
            reach, lambda: grad
        )()
        target.data[...] = 0
        return grad * 2

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([3.0, 4.0], requires_grad=True)
    y = call_op(_scaling_plugin(backward), x)
    loss = (y * w).sum()
    with pytest.raises(ValueError, match="read-only"):
        loss.backward()
    np.testing.assert_array_equal(x.data, [1.0, 2.0])
    np.testing.assert_array_equal(w.data, [3.0, 4.0])


def test_arrays_are_writeable_after_a_plugin_backward_ran() -> None:
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x.data[0] / x.data[0]  # reading is fine

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = call_op(_scaling_plugin(backward), x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    for arr in (x.data, x.grad.data, y.data):
        assert arr.flags.writeable
    x.grad.data *= 0.5  # an optimizer may scale gradients in place
    x.data -= x.grad.data
    np.testing.assert_array_equal(x.data, [0.0, 1.0])
