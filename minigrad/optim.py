"""Optimizers: SGD (with momentum, dampening, Nesterov) and Adam, with PyTorch's update rules.

An optimizer holds a list of parameters and their state as numpy arrays. ``step()`` updates
each parameter's array in place from its ``.grad`` (parameters whose grad is None are
skipped) without recording a graph; ``zero_grad()`` sets the grads to None.

>>> import minigrad as mg
>>> w = mg.nn.Parameter(mg.tensor([1.0, -2.0]))
>>> opt = mg.optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward()      # grad = 2 w
>>> opt.step(); w.data
array([ 0.8, -1.6], dtype=float32)
>>> opt.zero_grad(); w.grad is None
True

``opt.explain_update(param, index)`` writes out one element's update with the optimizer's own
numbers, by running ``step()``'s arithmetic on that element (so it agrees bit for bit).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from .numtext import num
from .tensor import Tensor

__all__ = ["SGD", "Adam", "Optimizer"]


def __dir__() -> list[str]:
    return sorted(__all__)  # the public names only (tab completion)


def _check(owner: str, name: str, value: float, low: float = 0.0, high: Any = None) -> None:
    if not (value >= low and (high is None or value < high) and not math.isnan(value)):
        expected = f">= {low}" if high is None else f"in [{low}, {high})"
        raise ValueError(f"{owner}: {name} must be {expected}, got {value!r}")


_SLOT = re.compile(r"(= )?\{(\w+)\}")  # a {name} in a template, "= " before it for a result


def _fill(lines: list[str], names: dict[str, Any]) -> list[str]:
    """Known ``{name}``s replaced by the number rules of :mod:`minigrad.numtext`: floats with 6
    significant digits, a negative operand after an operator in parentheses, a result (after
    ``=``) bare: ``0.1 * (-4) = -0.4``."""

    def put(m: re.Match) -> str:
        if m.group(2) not in names:
            return m.group(0)
        x = names[m.group(2)]
        text = num(x, 6) if isinstance(x, float) else str(x)
        return "= " + text if m.group(1) else f"({text})" if text.startswith("-") else text

    return [_SLOT.sub(put, line) for line in lines]


class Optimizer:
    """Base class: parameters, per-parameter state, ``zero_grad`` and update explanations.

    Subclasses implement ``_rule(state, w, g, h)``, which returns every intermediate of the
    update (``"u"`` is what is subtracted) and the new state, changing none of its inputs;
    ``step()`` runs it on whole arrays and ``explain_update`` on one element.
    """

    def __init__(self, params: Iterable[Tensor], defaults: dict[str, Any]) -> None:
        owner = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{owner}: params must be an iterable of Tensors (e.g. model.parameters()), "
                "got a single Tensor; wrap it in a list"
            )
        self.params: list[Tensor] = list(params)
        if not self.params:
            raise ValueError(f"{owner}: got an empty parameter list")
        seen: set[int] = set()
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{owner}: parameter {i} is a {type(p).__name__}, not a Tensor")
            if not p.is_leaf:
                raise ValueError(
                    f"{owner}: parameter {i} ({p._label()}) is not a leaf (it was made by op "
                    f"'{p.op}'); optimize the leaf tensors the computation starts from"
                )
            if id(p) in seen:
                raise ValueError(f"{owner}: parameter {i} ({p._label()}) appears more than once")
            seen.add(id(p))
        self.defaults = dict(defaults)
        #: per-parameter state, indexed like ``params`` (numpy arrays and step counts)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Set the ``.grad`` of every parameter to None."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        h = self.hyperparameters()
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            grad = p.grad.data
            if grad.shape != p.shape:
                raise ValueError(
                    f"{type(self).__name__}: the grad of parameter {i} ({p._label()}) has shape "
                    f"{grad.shape}, expected {p.shape}"
                )
            terms, new_state = self._rule(self.state[i], p.data, grad, h)
            self.state[i].update(new_state)
            if p.data.flags.writeable:
                p.data -= terms["u"]
            else:
                p.data = p.data - terms["u"]

    def _rule(self, state: dict, w: np.ndarray, g: np.ndarray, h: dict) -> tuple[dict, dict]:
        raise NotImplementedError

    def _templates(self, v: dict[str, Any], h: dict[str, Any]) -> list[str]:
        raise NotImplementedError  # the arithmetic of _rule as text, {name} for each number

    def _derived(self, v: dict[str, Any]) -> dict[str, Any]:
        return {}  # numbers the text shows that step() does not need

    # --- looking inside ----------------------------------------------------------------------

    def hyperparameters(self) -> dict[str, Any]:
        """The settings the next ``step()`` uses (current values: ``lr`` may have been changed).

        >>> import minigrad as mg; opt = mg.optim.SGD([mg.nn.Parameter(mg.zeros(2))], lr=0.1)
        >>> opt.lr = 0.05; opt.hyperparameters()["lr"], opt.hyperparameters()["momentum"]
        (0.05, 0.0)
        """
        return {k: getattr(self, k) for k in self.defaults}

    def _index_of(self, param: Tensor) -> int:
        for i, p in enumerate(self.params):
            if p is param:
                return i
        owner, label = type(self).__name__, getattr(param, "_label", lambda: type(param).__name__)()
        raise ValueError(f"{owner}: {label} is not one of this optimizer's parameters")

    def state_of(self, param: Tensor) -> dict[str, Any]:
        """A copy of ``param``'s state (arrays copied): empty before its first update.

        SGD with momentum keeps ``momentum_buffer``; Adam ``step``, ``exp_avg`` (m) and
        ``exp_avg_sq`` (v). ``explain_update(..., state=...)`` takes it back.

        >>> import minigrad as mg; w = mg.nn.Parameter(mg.tensor([1.0]))
        >>> opt = mg.optim.Adam([w], lr=0.1); (w * 3.0).sum().backward(); opt.step()
        >>> s = opt.state_of(w); s["step"], s["exp_avg"].round(6)
        (1, array([0.3], dtype=float32))
        """
        state = self.state[self._index_of(param)]
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state.items()}

    def explain_update(
        self, param: Tensor, index: Any, *, grad: Any = None, weight: Any = None,
        state: Any = None, hyperparameters: dict[str, Any] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """The update of one element of ``param``, written out with this optimizer's numbers.

        By default it explains the step ``step()`` would make now: from ``param.grad``, the
        current weights, state and settings. To explain a step afterwards, pass what held
        before it: ``grad``, ``weight`` (whole arrays), ``state`` (from :meth:`state_of`) and
        ``hyperparameters`` (from :meth:`hyperparameters`). ``index`` is a flat index or one
        index per axis.

        Returns a dict: ``optimizer``, ``parameter`` (name), ``index`` (tuple),
        ``hyperparameters``, ``values`` (name -> float: ``grad``, ``weight``, every
        intermediate, ``u`` (what is subtracted), ``new_weight``, ``change`` = new - old),
        ``lines`` (the arithmetic, one formula a line), ``text`` (the lines joined) and
        ``templates`` (the lines with ``{name}`` for each value and ``{where}``). With
        ``index=...`` the values are arrays for every element and ``lines``/``text`` None.

        >>> import minigrad as mg
        >>> w = mg.nn.Parameter(mg.tensor([1.0, 2.0]), name="w")
        >>> opt = mg.optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> e = opt.explain_update(w, 1)
        >>> print(e["text"])
        w[1]: SGD step, lr=0.1
        u = lr * grad = 0.1 * 4 = 0.4
        w = w - u = 2 - 0.4 = 1.6
        >>> opt.step(); bool(w.data[1] == e["values"]["new_weight"])
        True
        """
        i = self._index_of(param)
        whole = index is Ellipsis
        idx = _element_index(index, param.shape, type(self).__name__, param._label())
        w1, g1, one = self._element_inputs(i, idx, grad, weight, state)
        hyper = self.hyperparameters() if hyperparameters is None else dict(hyperparameters)
        terms, _ = self._rule(one, w1, g1, hyper)  # the arithmetic of step(), on one element
        new_w = w1 - terms["u"]
        values = {"grad": g1, "weight": w1, **terms, "new_weight": new_w, "change": new_w - w1}
        values.update(self._derived(values))
        if not whole:
            values = {k: float(np.asarray(v).reshape(-1)[0]) for k, v in values.items()}
        head = f"{{where}}: {type(self).__name__} step, " + ", ".join(_hyper_text(hyper))
        tail = "w = w - u = {weight} - {u} = {new_weight}"
        templates = _fill([head, *self._templates(values, hyper), tail], hyper)
        name = param.name or f"parameter {i}"
        out = dict(optimizer=type(self).__name__, parameter=name, index=idx, hyperparameters=hyper)
        out.update(values=values, templates=templates, lines=None, text=None)
        if not whole:
            where = f"{name}[{', '.join(map(str, idx))}]"
            out["lines"] = _fill(templates, {**values, "where": where})
            out["text"] = "\n".join(out["lines"])
        return out

    def _element_inputs(
        self, i: int, idx: tuple[int, ...], grad: Any, weight: Any, state: Any
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        """Weight, gradient, state: one-element arrays of the parameter's dtype (or whole)."""
        p, where = self.params[i], f"{type(self).__name__}.explain_update"
        grad = p.grad.data if grad is None and p.grad is not None else grad
        if grad is None:
            raise ValueError(f"{where}: {p._label()} has no gradient; call backward() first")
        g = np.asarray(grad)
        w = np.asarray(p.data if weight is None else weight)
        for what, arr in (("grad", g), ("weight", w)):
            if arr.shape != p.shape:
                raise ValueError(
                    f"{where}: {what} has shape {arr.shape}, expected the shape of "
                    f"{p._label()}, {p.shape}"
                )
        before = self.state[i] if state is None else state
        n = p.shape if idx is Ellipsis else (1,)
        one = {
            k: (v[idx].reshape(n) if isinstance(v, np.ndarray) else v) for k, v in before.items()
        }
        return w[idx].reshape(n).astype(p.dtype), g[idx].reshape(n).astype(p.dtype), one

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({len(self.params)} parameters, {opts})"


def _element_index(index: Any, shape: tuple[int, ...], owner: str, label: str) -> Any:
    if index is Ellipsis:
        return index
    size = math.prod(shape)
    flat = isinstance(index, (int, np.integer)) and not isinstance(index, bool)
    try:  # a flat index or one per axis, negatives counting from the end as in numpy
        idx, dims = ((int(index),), (size,)) if flat else (tuple(map(int, index)), shape)
        if len(idx) != len(dims) or not all(-n <= k < n for k, n in zip(idx, dims)):
            raise IndexError
        idx = tuple(k % n for k, n in zip(idx, dims))
        return tuple(int(k) for k in np.unravel_index(idx[0], shape)) if flat else idx
    except (IndexError, TypeError, ValueError):
        raise IndexError(
            f"{owner}.explain_update: index {index!r} does not name one element of {label}, "
            f"shape {shape} (give a flat index below {size} or one index per axis)"
        ) from None


def _num(x: Any) -> str:
    """A setting written into a formula: the explorer's 6-significant-digit rule."""
    return num(x, 6)


def _hyper_text(h: dict[str, Any]) -> list[str]:
    """``["lr=0.1", "momentum=0.9"]``: the settings that take part (zeros and False left out)."""
    pairs = [(k, v) for k, v in h.items() if k in ("lr", "eps") or v not in (0, False)]
    return [f"beta1={v[0]}, beta2={v[1]}" if k == "betas" else f"{k}={v}" for k, v in pairs]


_DECAY = "g = grad + weight_decay * w = {grad} + {weight_decay} * {weight} = {g}"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, dampening, Nesterov, weight decay.

    Per step, as PyTorch: ``g = grad + weight_decay * w``; with momentum the buffer starts as
    the first ``g`` and then becomes ``b = momentum * b + (1 - dampening) * g``, and the step
    uses ``b`` (or ``g + momentum * b`` with ``nesterov=True``); finally ``w -= lr * step``.

    >>> import minigrad as mg
    >>> w = mg.nn.Parameter(mg.tensor([1.0]))
    >>> opt = mg.optim.SGD([w], lr=0.5, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * 1.0).sum().backward(); opt.step()
    >>> w.data   # 1 - 0.5 * 1 - 0.5 * (0.9 + 1)
    array([-0.45], dtype=float32)
    """

    def __init__(
        self, params: Iterable[Tensor], lr: float, momentum: float = 0.0,
        weight_decay: float = 0.0, dampening: float = 0.0, nesterov: bool = False,
    ) -> None:  # fmt: skip
        hyper = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, dampening=dampening)
        for name, value in hyper.items():
            _check("SGD", name, value)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"SGD: nesterov=True needs momentum > 0 and dampening = 0, "
                f"got momentum={momentum} and dampening={dampening}"
            )
        super().__init__(params, {**hyper, "nesterov": nesterov})
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.dampening, self.nesterov = dampening, nesterov

    def _rule(self, state: dict, w: np.ndarray, g: np.ndarray, h: dict) -> tuple[dict, dict]:
        terms: dict[str, Any] = {}
        new_state: dict[str, Any] = {}
        if h["weight_decay"] != 0:
            g = terms["g"] = g + h["weight_decay"] * w
        if h["momentum"] != 0:
            prev = state.get("momentum_buffer")
            if prev is None:
                buf = np.array(g, copy=True)  # never an alias of the gradient
            else:
                terms["b_prev"] = prev
                buf = prev * h["momentum"] + (1 - h["dampening"]) * g
            terms["b"] = new_state["momentum_buffer"] = buf
            if h["nesterov"]:
                g = terms["d"] = g + h["momentum"] * buf
            else:
                g = buf
        terms["u"] = h["lr"] * g
        return terms, new_state

    def _templates(self, v: dict[str, Any], h: dict[str, Any]) -> list[str]:
        g = "g" if "g" in v else "grad"
        d = "d" if "d" in v else "b" if "b" in v else g
        lines = [_DECAY] if g == "g" else []
        if "b_prev" in v:
            lines.append(
                f"b = momentum * b_prev + (1 - dampening) * {g} = {{momentum}} * {{b_prev}} + "
                f"{_num(1 - h['dampening'])} * {{{g}}} = {{b}}"
            )
        elif "b" in v:
            lines.append(f"b = {g} = {{b}}  (the first step starts the buffer)")
        if "d" in v:
            lines.append(
                f"d = {g} + momentum * b = {{{g}}} + {{momentum}} * {{b}} = {{d}}  (Nesterov)"
            )
        lines.append(f"u = lr * {d} = {{lr}} * {{{d}}} = {{u}}")
        return lines


class Adam(Optimizer):
    """Adam with bias correction, as PyTorch (L2 ``weight_decay`` is added to the gradient).

    Per step t: ``g = grad + weight_decay * w``; ``m = b1 m + (1 - b1) g``;
    ``v = b2 v + (1 - b2) g^2``;
    ``w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``.

    >>> import minigrad as mg
    >>> w = mg.nn.Parameter(mg.tensor([1.0, -1.0]))
    >>> opt = mg.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w.data.round(4)   # the first step moves each weight by lr against its gradient's sign
    array([ 0.9, -0.9], dtype=float32)
    """

    def __init__(
        self, params: Iterable[Tensor], lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
    ) -> None:  # fmt: skip
        for name, value in (("lr", lr), ("eps", eps), ("weight_decay", weight_decay)):
            _check("Adam", name, value)
        if len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        for k in (0, 1):
            _check("Adam", f"betas[{k}]", betas[k], 0.0, 1.0)
        hyper = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        super().__init__(params, hyper)
        self.lr, self.eps, self.weight_decay = lr, eps, weight_decay
        self.betas = (float(betas[0]), float(betas[1]))

    def _rule(self, state: dict, w: np.ndarray, g: np.ndarray, h: dict) -> tuple[dict, dict]:
        b1, b2 = h["betas"]
        terms: dict[str, Any] = {}
        if h["weight_decay"] != 0:
            g = terms["g"] = g + h["weight_decay"] * w
        t = state.get("step", 0) + 1
        m_prev = state["exp_avg"] if state else np.zeros_like(w)
        v_prev = state["exp_avg_sq"] if state else np.zeros_like(w)
        m = m_prev + (1 - b1) * (g - m_prev)  # b1 m + (1 - b1) g, written as PyTorch's lerp
        v = v_prev * b2 + (1 - b2) * g * g
        bc1, bc2 = 1 - b1**t, 1 - b2**t
        step_size = h["lr"] / bc1
        denom = np.sqrt(v) / math.sqrt(bc2) + h["eps"]
        terms.update(t=t, m_prev=m_prev, v_prev=v_prev, m=m, v=v, step_size=step_size)
        terms.update(bias_correction1=bc1, bias_correction2=bc2, denom=denom)
        terms["u"] = step_size * m / denom
        return terms, {"step": t, "exp_avg": m, "exp_avg_sq": v}

    def _derived(self, v: dict[str, Any]) -> dict[str, Any]:
        return {"m_hat": v["m"] / v["bias_correction1"], "v_hat": v["v"] / v["bias_correction2"]}

    def _templates(self, v: dict[str, Any], h: dict[str, Any]) -> list[str]:
        g = "g" if "g" in v else "grad"
        b1, b2 = h["betas"]
        lines = [_DECAY] if g == "g" else []
        lines += [
            f"m = beta1 * m_prev + (1 - beta1) * {g} = {_num(b1)} * {{m_prev}} + "
            f"{_num(1 - b1)} * {{{g}}} = {{m}}",
            f"v = beta2 * v_prev + (1 - beta2) * {g}^2 = {_num(b2)} * {{v_prev}} + "
            f"{_num(1 - b2)} * {{{g}}}^2 = {{v}}",
            "step t = {t}: 1 - beta1^t = {bias_correction1}, 1 - beta2^t = {bias_correction2}",
            "m_hat = m / (1 - beta1^t) = {m_hat}, v_hat = v / (1 - beta2^t) = {v_hat}",
            "u = lr * m_hat / (sqrt(v_hat) + eps) = {lr} * {m_hat} / (sqrt({v_hat}) + {eps}) = {u}",
        ]
        return lines
