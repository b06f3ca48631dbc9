"""The one traversal of the recorded graph and what an observer of it sees."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import BackwardObserver, traverse
from minigrad.graph.trace import producer
from minigrad.op import Context, Op


class Log(BackwardObserver):
    """Records every event of a traversal."""

    def __init__(self) -> None:
        self.seeds: list = []
        self.steps: list = []
        self.accums: list = []
        self.leaves: list = []

    def seed(self, root, grad):
        self.seeds.append((root, grad.data.copy()))

    def step(self, index, node, grad, input_grads):
        self.steps.append((index, node, grad.data.copy(), input_grads))

    def accumulate(self, index, target, contribution, total):
        self.accums.append((index, target, contribution.data.copy(), total.data.copy()))

    def leaf(self, tensor, grad):
        self.leaves.append((tensor, grad.data.copy()))


calls: list[str] = []


class Tag(Op):
    """Identity that logs when its backward runs (to see the engine's own order)."""

    name = "tag"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, label: str) -> np.ndarray:
        return x.copy()

    @staticmethod
    def backward(ctx: Context, grad: mg.Tensor) -> mg.Tensor:
        calls.append(ctx.attrs["label"])
        return grad


def tag(x: mg.Tensor, label: str) -> mg.Tensor:
    from minigrad.autograd import call_op

    return call_op(Tag, x, label=label)


def diamond() -> tuple[mg.Tensor, mg.Tensor]:
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    a = tag(x * 2.0, "a")
    b = tag(tag(x * 3.0, "b1"), "b2")
    return x, tag((a * b).sum(), "loss")


def test_observer_order_is_the_engines_order_each_node_once() -> None:
    calls.clear()
    _x, loss = diamond()
    log = Log()
    traverse([loss], [None], retain_graph=True, accumulate=False, hooks=False, observer=log)
    seen = [n.attrs["label"] for _, n, _, _ in log.steps if n.name == "tag"]
    observed_calls = list(calls)
    calls.clear()
    loss.backward()
    assert seen == observed_calls == calls  # same order as a real backward
    nodes = [n for _, n, _, _ in log.steps]
    assert len(nodes) == len(set(nodes)) == 8  # tag x4, mul x3 (incl. a*b), sum
    assert [i for i, *_ in log.steps] == list(range(8))
    # generations never increase along the pass
    gens = [n.generation for n in nodes]
    assert gens == sorted(gens, reverse=True)


def test_inspecting_pass_writes_no_grad_and_calls_no_hook() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    h.retain_grad()
    fired = []
    h.register_hook(lambda g: fired.append("h"))
    x.register_hook(lambda g: fired.append("x"))
    loss = (h * h).sum()
    log = Log()
    traverse([loss], [None], retain_graph=True, accumulate=False, hooks=False, observer=log)
    assert x.grad is None and h.grad is None and fired == []
    assert not loss._node.freed  # retain_graph kept the saved state
    ((leaf_tensor, leaf_grad),) = log.leaves
    assert leaf_tensor is x
    loss.backward()
    np.testing.assert_allclose(leaf_grad, x.grad.data)  # the pass the engine really runs
    assert sorted(fired) == ["h", "x"]


def test_accumulation_events_for_x_times_x() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    log = Log()
    traverse([loss], [None], retain_graph=True, accumulate=False, hooks=False, observer=log)
    ((index, target, contribution, total),) = log.accums
    mul_step = next(s for s in log.steps if s[1].name == "mul")
    assert index == mul_step[0] and target is x
    first, second = mul_step[3]
    np.testing.assert_allclose(contribution, second.data)
    np.testing.assert_allclose(total, first.data + second.data)
    np.testing.assert_allclose(total, [2.0, 4.0])
    np.testing.assert_allclose(log.leaves[0][1], total)


def test_accumulation_for_an_intermediate_used_three_times() -> None:
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    h = mg.exp(x)
    loss = (h * h + h).sum()  # h feeds mul twice and add once
    log = Log()
    traverse([loss], [None], retain_graph=True, accumulate=False, hooks=False, observer=log)
    events = [a for a in log.accums if a[1] is h._node]
    assert len(events) == 2  # three arrivals: one starts the sum, two add to it
    sent = [
        g.data
        for _, node, _, grads in log.steps
        for t, g in zip(node.inputs, grads)
        if t is h and g is not None
    ]
    assert len(sent) == 3
    np.testing.assert_allclose(events[-1][3], sum(sent))
    np.testing.assert_allclose(events[0][3], sent[0] + sent[1])
    exp_step = next(s for s in log.steps if s[1] is h._node)
    np.testing.assert_allclose(exp_step[2], events[-1][3])  # the node ran on the total
    loss.backward()
    ex = np.exp(x.data)
    np.testing.assert_allclose(x.grad.data, (2 * ex + 1) * ex, rtol=1e-6)


def test_seed_and_fitted_input_gradients() -> None:
    a = mg.tensor(np.ones((2, 3)), requires_grad=True)
    b = mg.tensor(np.ones((1, 3), dtype=np.float32), requires_grad=True)
    y = a + b  # float64 + float32 -> float64; b's gradient is summed and cast back
    g = np.arange(6.0).reshape(2, 3)
    log = Log()
    traverse([y], [g], retain_graph=True, accumulate=False, hooks=False, observer=log)
    ((root, seed),) = log.seeds
    assert root is y
    np.testing.assert_array_equal(seed, g)
    ((_, _node, _, (ga, gb)),) = log.steps
    assert ga.shape == (2, 3) and gb.shape == (1, 3) and gb.dtype == np.float32
    np.testing.assert_array_equal(gb.data, [[3.0, 5.0, 7.0]])


def test_traverse_without_observer_is_backward() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    traverse([(x * x).sum()], [None])
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


def test_inputs_returns_gradients_keyed_by_id() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    out = traverse([(h * h).sum()], [None], inputs=[x, h])
    assert out is not None
    np.testing.assert_array_equal(out[id(h)].data, [4.0, 8.0])
    np.testing.assert_array_equal(out[id(x)].data, [8.0, 16.0])
    assert x.grad is None


def test_every_core_op_has_a_formula() -> None:
    from minigrad.functional import CORE_OPS

    assert len(CORE_OPS) == 30
    for cls in CORE_OPS:
        assert isinstance(cls.formula, str) and "d" in cls.formula, cls


def test_forget_spec_after_naming_a_class() -> None:
    from minigrad.op import forget_spec, op_spec

    class Anon(Op):
        @staticmethod
        def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
            return x

    assert op_spec(Anon).name == "anon"
    Anon.name = "given"
    assert op_spec(Anon).name == "anon"  # cached
    forget_spec(Anon)
    assert op_spec(Anon).name == "given"


def test_observer_methods_default_to_nothing() -> None:
    x = mg.tensor(2.0, requires_grad=True)
    traverse([x * x], [None], observer=BackwardObserver())
    assert x.grad.item() == pytest.approx(4.0)


def test_a_node_shows_its_public_face_and_frees_its_saved_values() -> None:
    # what inspectors read: op, name, inputs, attrs, saved, output, scope
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    with mg.name_scope("block"):
        y = x * x
    node = y._node
    assert node.op.name == "mul" and node.name == "mul" and node.scope == "block"
    assert node.inputs == (x, x) and node.attrs == {} and node.output is y
    assert len(node.saved) == 2 and all(s is x.data for s in node.saved)
    assert not node.freed
    face = ("op", "name", "inputs", "attrs", "saved", "output", "scope", "freed")
    face += ("needs_input_grad", "generation", "seq", "hooks")
    before = {field: getattr(node, field) for field in face}
    for field in face:
        with pytest.raises(AttributeError):  # a read-only face: inspectors cannot change it
            setattr(node, field, None)
    assert {field: getattr(node, field) for field in face} == before
    y.sum().backward()
    assert node.saved is None and node.freed  # backward() gave the saved values back
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        node.saved_tensors


def test_the_nodes_generation_seq_and_needs_input_grad_say_what_the_engine_recorded() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    c = mg.tensor([3.0, 4.0])  # needs no gradient
    y = x * c
    z = y + x
    ny, nz = producer(y), producer(z)
    assert ny.needs_input_grad == (True, False) and nz.needs_input_grad == (True, True)
    assert (ny.generation, nz.generation) == (1, 2)  # one more than the deepest input's node
    assert ny.seq < nz.seq  # creation order
    assert ny.scope is None and ny.hooks == ()


def test_a_hook_added_on_a_node_runs_and_is_removed_by_its_handle() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    node = producer(y)
    seen: list[list[float]] = []

    def double(g: mg.Tensor) -> mg.Tensor:
        seen.append(g.data.tolist())
        return g * 2

    handle = node.add_hook(double)
    assert node.hooks == (double,)
    y.sum().backward(retain_graph=True)
    assert seen == [[1.0, 1.0]]
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])
    handle.remove()
    assert node.hooks == ()
    x.grad = None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])
    assert len(seen) == 1


def test_register_hook_on_a_non_leaf_lands_on_its_node() -> None:
    x = mg.tensor([1.0], requires_grad=True)
    y = x * 2
    first, second = (lambda g: g + 1), (lambda g: g * 10)
    y.register_hook(first)
    handle = y.register_hook(second)
    assert producer(y).hooks == (first, second)  # in the order they run
    y.sum().backward(retain_graph=True)
    assert x.grad.item() == pytest.approx((1 + 1) * 10 * 2)
    handle.remove()
    assert producer(y).hooks == (first,)
