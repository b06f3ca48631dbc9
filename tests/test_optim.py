"""SGD and Adam: hand-computed steps always, PyTorch's optimizers when torch is installed."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def set_grad(p, g):
    p.grad = mg.tensor(np.asarray(g, dtype=p.dtype))


# --------------------------------------------------------------------------- by hand


def test_sgd_plain_step():
    w = nn.Parameter(np.array([1.0, -2.0], np.float32))
    opt = mg.optim.SGD([w], lr=0.1)
    set_grad(w, [0.5, -1.0])
    opt.step()
    np.testing.assert_allclose(w.data, [1.0 - 0.05, -2.0 + 0.1], rtol=1e-6)


def test_sgd_momentum_buffer_starts_at_first_gradient():
    w = nn.Parameter(np.array([0.0], np.float64))
    opt = mg.optim.SGD([w], lr=1.0, momentum=0.5, dampening=0.25)
    # buffers: 1 (the first gradient, undampened), 0.5*1 + 0.75*2 = 2, 0.5*2 + 0.75*(-1) = 0.25
    for g, expected in [(1.0, -1.0), (2.0, -3.0), (-1.0, -3.25)]:
        set_grad(w, [g])
        opt.step()
        np.testing.assert_allclose(w.data, [expected])
    np.testing.assert_allclose(opt.state[0]["momentum_buffer"], [0.25])


def test_sgd_nesterov_and_weight_decay_by_hand():
    w = nn.Parameter(np.array([2.0], np.float64))
    opt = mg.optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.5, nesterov=True)
    set_grad(w, [1.0])
    opt.step()
    d1 = 1.0 + 0.5 * 2.0  # grad + wd * w = 2
    w1 = 2.0 - 0.1 * (d1 + 0.9 * d1)  # buf = d1; step = d1 + momentum * buf
    np.testing.assert_allclose(w.data, [w1])
    set_grad(w, [1.0])
    opt.step()
    d2 = 1.0 + 0.5 * w1
    buf2 = 0.9 * d1 + d2
    np.testing.assert_allclose(w.data, [w1 - 0.1 * (d2 + 0.9 * buf2)])


def test_adam_steps_by_hand():
    w = nn.Parameter(np.array([1.0, -3.0], np.float64))
    lr, b1, b2, eps, wd = 0.01, 0.8, 0.9, 1e-8, 0.1
    opt = mg.optim.Adam([w], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    grads = [np.array([0.5, 2.0]), np.array([-1.0, 1.0]), np.array([0.25, 0.0])]
    ref = w.data.copy()
    m = np.zeros(2)
    v = np.zeros(2)
    for t, g in enumerate(grads, start=1):
        set_grad(w, g)
        opt.step()
        g = g + wd * ref
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        ref = ref - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(w.data, ref, rtol=1e-12, atol=1e-12)


def test_adam_first_step_moves_lr_against_the_gradient_sign():
    w = nn.Parameter(np.array([0.0, 0.0, 0.0], np.float32))
    opt = mg.optim.Adam([w], lr=0.1)
    set_grad(w, [3.0, -0.01, 100.0])
    opt.step()
    np.testing.assert_allclose(w.data, [-0.1, 0.1, -0.1], rtol=1e-5)


def test_params_without_grad_are_skipped_and_zero_grad():
    a = nn.Parameter(np.ones(2, np.float32))
    b = nn.Parameter(np.ones(2, np.float32))
    for opt in (
        mg.optim.SGD([a, b], lr=1.0, momentum=0.9),
        mg.optim.Adam([a, b], lr=1.0),
    ):
        set_grad(a, [1.0, 1.0])
        before = b.data.copy()
        opt.step()
        np.testing.assert_array_equal(b.data, before)
        assert opt.state[1] == {}
        opt.zero_grad()
        assert a.grad is None and b.grad is None


def test_accepts_a_generator_and_updates_in_place_without_graph():
    model = nn.Linear(3, 2)
    weight_array = model.weight.data
    opt = mg.optim.SGD(model.parameters(), lr=0.1)  # a generator
    assert len(opt.params) == 2
    model(mg.randn(4, 3)).sum().backward()
    expected = weight_array - 0.1 * model.weight.grad.data
    opt.step()
    assert model.weight.data is weight_array
    np.testing.assert_allclose(model.weight.data, expected, rtol=1e-6)
    assert model.weight.is_leaf and model.weight.requires_grad


def test_lr_can_be_changed_between_steps():
    w = nn.Parameter(np.array([1.0], np.float64))
    opt = mg.optim.SGD([w], lr=1.0)
    opt.lr = 0.25
    set_grad(w, [1.0])
    opt.step()
    np.testing.assert_allclose(w.data, [0.75])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: mg.optim.SGD(p, lr=-0.1), "SGD: lr must be >= 0.0, got -0.1"),
        (lambda p: mg.optim.SGD(p, lr=0.1, momentum=-1), "SGD: momentum must be >= 0.0"),
        (lambda p: mg.optim.SGD(p, lr=0.1, nesterov=True), "nesterov=True needs momentum > 0"),
        (lambda p: mg.optim.Adam(p, lr=float("nan")), "Adam: lr must be >= 0.0, got nan"),
        (lambda p: mg.optim.Adam(p, betas=(0.9, 1.0)), r"betas\[1\] must be in \[0.0, 1.0\)"),
        (lambda p: mg.optim.Adam(p, eps=-1e-8), "Adam: eps must be >= 0.0"),
        (lambda p: mg.optim.Adam(p, weight_decay=-1), "Adam: weight_decay must be >= 0.0"),
        (lambda p: mg.optim.SGD([], lr=0.1), "SGD: got an empty parameter list"),
        (lambda p: mg.optim.SGD(p + p, lr=0.1), "appears more than once"),
    ],
)
def test_bad_arguments_raise_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make([nn.Parameter(np.zeros(2, np.float32))])


def test_bad_params_raise_clear_errors():
    w = nn.Parameter(np.zeros(2, np.float32))
    with pytest.raises(TypeError, match="got a single Tensor; wrap it in a list"):
        mg.optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="parameter 0 is a ndarray, not a Tensor"):
        mg.optim.Adam([np.zeros(2)])
    with pytest.raises(ValueError, match="is not a leaf.*made by op 'mul'"):
        mg.optim.SGD([w * 2], lr=0.1)


def test_repr():
    opt = mg.optim.SGD([nn.Parameter(np.zeros(1, np.float32))], lr=0.1, momentum=0.9)
    assert repr(opt).startswith("SGD(1 parameters, lr=0.1, momentum=0.9")


def test_quadratic_is_minimised():
    target = np.array([3.0, -1.0], np.float32)
    for make in (
        lambda p: mg.optim.SGD(p, lr=0.1, momentum=0.5),
        lambda p: mg.optim.Adam(p, lr=0.1),
    ):
        w = nn.Parameter(np.zeros(2, np.float32))
        opt = make([w])
        for _ in range(300):
            opt.zero_grad()
            ((w - mg.tensor(target)) ** 2).sum().backward()
            opt.step()
        np.testing.assert_allclose(w.data, target, atol=1e-2)


# --------------------------------------------------------------------------- against PyTorch


OPTIMIZERS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01, "dampening": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.1, "nesterov": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-6}),
    ("Adam", {"lr": 0.02, "weight_decay": 0.05}),
]


@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS)
def test_matches_torch_over_several_steps(name, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (4,), (2, 1, 3, 3)]
    inits = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ours = [nn.Parameter(a.copy()) for a in inits]
    theirs = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in inits]
    opt = getattr(mg.optim, name)(ours, **kwargs)
    ref = getattr(torch.optim, name)(theirs, **kwargs)
    for step in range(6):
        grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        for p, q, g in zip(ours, theirs, grads):
            if step == 2 and p is ours[1]:
                p.grad, q.grad = None, None  # a parameter without gradient is left alone
            else:
                p.grad = mg.tensor(g)
                q.grad = torch.from_numpy(g.copy())
        opt.step()
        ref.step()
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_sgd_hand_formula_equals_torch_semantics_for_training():
    """One training step of a Linear model moves weights as w - lr * dL/dw."""
    mg.manual_seed(0)
    model = nn.Linear(2, 1)
    x = mg.tensor([[1.0, 2.0], [3.0, -1.0]])
    before = {n: p.data.copy() for n, p in model.named_parameters()}
    loss = (model(x) ** 2).mean()
    loss.backward()
    grads = {n: p.grad.data.copy() for n, p in model.named_parameters()}
    mg.optim.SGD(model.parameters(), lr=0.5).step()
    for n, p in model.named_parameters():
        np.testing.assert_allclose(p.data, before[n] - 0.5 * grads[n], rtol=1e-6)
    assert math.isfinite(loss.item())


# --------------------------------------------------------------------------- explain_update


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS)
def test_explained_update_is_the_real_update_bit_for_bit(name, kwargs, dtype):
    rng = np.random.default_rng(1)
    w = nn.Parameter(rng.standard_normal((3, 4)).astype(dtype), name="w")
    opt = getattr(mg.optim, name)([w], **kwargs)
    for step in range(1, 5):
        set_grad(w, rng.standard_normal((3, 4)) * 10.0 ** rng.integers(-3, 3))
        before_w, before_g, before_state = w.data.copy(), w.grad.data.copy(), opt.state_of(w)
        ahead = [opt.explain_update(w, k) for k in range(w.size)]  # before the step
        before_hyper = opt.hyperparameters()
        opt.step()
        opt.lr = opt.lr * 0.5  # a schedule changing lr afterwards changes nothing below
        for k in range(w.size):
            idx = np.unravel_index(k, w.shape)
            after = opt.explain_update(  # after the step, from what held before it
                w,
                idx,
                grad=before_g,
                weight=before_w,
                state=before_state,
                hyperparameters=before_hyper,
            )
            for e in (ahead[k], after):
                assert e["values"]["new_weight"] == w.data[idx]  # exactly
                assert e["values"]["change"] == (w.data - before_w)[idx]
                assert e["values"]["grad"] == before_g[idx]
                assert e["index"] == idx
            if name == "Adam":
                assert after["values"]["t"] == step == opt.state_of(w)["step"]
                assert after["values"]["m"] == opt.state_of(w)["exp_avg"][idx]
                assert after["values"]["v"] == opt.state_of(w)["exp_avg_sq"][idx]


def test_explained_sgd_terms_are_the_textbook_formula():
    w = nn.Parameter(np.array([2.0, -1.0]), name="w")
    opt = mg.optim.SGD([w], lr=0.1, momentum=0.5, weight_decay=0.25)
    set_grad(w, [1.0, 3.0])
    e = opt.explain_update(w, 0)
    v = e["values"]
    assert v["g"] == 1.0 + 0.25 * 2.0 and v["b"] == v["g"] and "b_prev" not in v
    assert v["u"] == 0.1 * 1.5 and v["new_weight"] == 2.0 - 0.15
    assert "first step starts the buffer" in e["text"]
    opt.step()
    set_grad(w, [-2.0, 0.0])
    v = opt.explain_update(w, (0,))["values"]
    g2 = -2.0 + 0.25 * 1.85
    assert v["b_prev"] == 1.5 and v["b"] == 0.5 * 1.5 + g2
    assert v["u"] == 0.1 * v["b"]


def test_explained_adam_text_shows_moments_bias_corrections_and_step():
    w = nn.Parameter(np.array([[0.5]]), name="fc.weight")
    opt = mg.optim.Adam([w], lr=0.01, betas=(0.8, 0.9), eps=1e-8)
    for g in (0.5, -0.25):
        set_grad(w, [[g]])
        e = opt.explain_update(w, (0, 0))
        opt.step()
    v = e["values"]
    m1, v1 = 0.2 * 0.5, 0.1 * 0.25
    assert v["m_prev"] == pytest.approx(m1) and v["v_prev"] == pytest.approx(v1)
    assert v["m"] == pytest.approx(0.8 * m1 + 0.2 * -0.25)
    assert v["v"] == pytest.approx(0.9 * v1 + 0.1 * 0.0625)
    assert v["t"] == 2 and v["bias_correction1"] == pytest.approx(1 - 0.8**2)
    text = e["text"]
    assert text.startswith("fc.weight[0, 0]: Adam step, lr=0.01, beta1=0.8, beta2=0.9, eps=1e-08")
    assert "step t = 2" in text and "m = beta1 * m_prev" in text and "sqrt(v_hat)" in text
    assert f"= {v['new_weight']:.6g}" in e["lines"][-1]


def test_explain_update_bad_input_raises_clear_errors():
    w = nn.Parameter(np.zeros((2, 3)), name="w")
    other = nn.Parameter(np.zeros(1), name="other")
    opt = mg.optim.Adam([w])
    with pytest.raises(ValueError, match="'w' has no gradient; call backward"):
        opt.explain_update(w, 0)
    set_grad(w, np.ones((2, 3)))
    with pytest.raises(
        IndexError, match=r"index \(2, 0\) does not name one element of 'w', shape \(2, 3\)"
    ):
        opt.explain_update(w, (2, 0))
    with pytest.raises(IndexError, match="flat index below 6"):
        opt.explain_update(w, 6)
    with pytest.raises(ValueError, match="'other' is not one of this optimizer's parameters"):
        opt.explain_update(other, 0)
    with pytest.raises(ValueError, match=r"grad has shape \(3,\), expected the shape of 'w'"):
        opt.explain_update(w, 0, grad=np.ones(3))


def test_state_of_is_a_copy_and_hyperparameters_follow_lr_changes():
    w = nn.Parameter(np.ones(2), name="w")
    opt = mg.optim.SGD([w], lr=0.1, momentum=0.9)
    set_grad(w, [1.0, 2.0])
    opt.step()
    snap = opt.state_of(w)
    snap["momentum_buffer"][:] = 99.0
    np.testing.assert_array_equal(opt.state[0]["momentum_buffer"], [1.0, 2.0])
    opt.lr = 0.5
    assert opt.hyperparameters() == {
        "lr": 0.5,
        "momentum": 0.9,
        "weight_decay": 0.0,
        "dampening": 0.0,
        "nesterov": False,
    }


@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS)
def test_explain_every_element_at_once_gives_arrays_and_templates(name, kwargs):
    rng = np.random.default_rng(2)
    w = nn.Parameter(rng.standard_normal((2, 3)).astype(np.float32), name="w")
    opt = getattr(mg.optim, name)([w], **kwargs)
    for _ in range(2):
        set_grad(w, rng.standard_normal((2, 3)))
        before = w.data.copy()
        whole = opt.explain_update(w, ...)
        singles = [opt.explain_update(w, k) for k in range(w.size)]
        opt.step()
        assert whole["lines"] is None and whole["text"] is None
        np.testing.assert_array_equal(whole["values"]["new_weight"], w.data)
        np.testing.assert_array_equal(whole["values"]["change"], w.data - before)
        for k, single in enumerate(singles):
            idx = np.unravel_index(k, w.shape)
            assert single["templates"] == whole["templates"]
            for key, value in single["values"].items():
                assert (
                    value
                    == np.asarray(whole["values"][key])[
                        idx if np.ndim(whole["values"][key]) else ()
                    ]
                )
