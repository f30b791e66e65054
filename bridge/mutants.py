"""Seeded mutants: deliberately broken runtimes that every check must catch (DESIGN: a verdict is
only worth something if a broken runtime cannot pass). Each wraps a runtime factory.

Mutants are judged in float32 and float64: in bfloat16 a 0.1 % lr error is below α's own
resolution (bf16 spacing is 2**-7 relative), so there the mutated lr *is* the same α value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from bridge.runtimes.torch_optim import Factory


class _Wrapped:
    """Delegates state/param_groups to the current inner optimizer; `step` is the mutated one."""

    def __init__(self, make: Callable[[], Any], params: list[torch.Tensor],
                 mutated: Callable[[_Wrapped], None]) -> None:
        self._make, self.params, self.inner, self._mutated = make, params, make(), mutated

    @property
    def state(self) -> Any:
        return self.inner.state

    @property
    def param_groups(self) -> Any:
        return self.inner.param_groups

    def step(self) -> None:
        self._mutated(self)


def _wrap(base: Factory, step: Callable[[_Wrapped], None]) -> Factory:
    def make(params: list[torch.Tensor], extra: dict[str, Any]) -> Any:
        return _Wrapped(lambda: base(params, extra), params, step)
    return make


def lr_off(base: Factory) -> Factory:
    def make(params: list[torch.Tensor], extra: dict[str, Any]) -> Any:
        lr = extra["lr"]
        return base(params, {**extra, "lr": lr * 1.001})
    return make


def _skip_last(w: _Wrapped) -> None:
    keep = w.params[-1].detach().clone()
    w.inner.step()
    with torch.no_grad():
        w.params[-1].copy_(keep)


def _half_update(w: _Wrapped) -> None:
    before = [p.detach().clone() for p in w.params]
    w.inner.step()
    with torch.no_grad():
        for p, b in zip(w.params, before):
            p.copy_((b.to(torch.float16) + (p - b).to(torch.float16)).to(p.dtype))


def _sign_flip(w: _Wrapped) -> None:
    before = [p.detach().clone() for p in w.params]
    w.inner.step()
    with torch.no_grad():
        for p, b in zip(w.params, before):
            p.copy_(2 * b - p)


def _twice(w: _Wrapped) -> None:
    w.inner.step()
    w.inner.step()


def _drop_state(w: _Wrapped) -> None:
    w.inner = w._make()  # a fresh optimizer: buffers and step count lost
    w.inner.step()


def _bias_off_by_one(w: _Wrapped) -> None:
    """Bias correction with t+1 instead of t (from the second step on: torch creates the counter
    lazily in the first step). Only counters raised before the step are lowered after it: lowering
    the one torch just created would undo the first step's count and make the mutant a no-op."""
    raised = [st for st in w.inner.state.values() if "step" in st]
    for st in raised:
        st["step"] += 1  # torch increments again inside: bias correction uses (t+1)+1
    w.inner.step()
    for st in raised:
        st["step"] -= 1  # the stored count stays right; only the correction was off


@dataclass(frozen=True)
class Mutant:
    name: str
    wrap: Callable[[Factory], Factory]
    kinds: tuple[str, ...]  # binding kinds it applies to
    needs_state: bool = False
    needs_counter: bool = False


MUTANTS: tuple[Mutant, ...] = (
    Mutant("lr-off-0.1%", lr_off, ("tlist_step", "tensor_update", "stateful")),
    Mutant("skip-last-parameter", lambda f: _wrap(f, _skip_last), ("tlist_step", "tensor_update", "stateful")),
    Mutant("update-in-half", lambda f: _wrap(f, _half_update), ("tlist_step", "tensor_update", "stateful")),
    Mutant("sign-flipped", lambda f: _wrap(f, _sign_flip), ("tlist_step", "tensor_update", "stateful")),
    Mutant("applied-twice", lambda f: _wrap(f, _twice), ("tlist_step", "tensor_update", "stateful")),
    Mutant("state-dropped", lambda f: _wrap(f, _drop_state), ("stateful",), needs_state=True),
    Mutant("bias-correction-off-by-one", lambda f: _wrap(f, _bias_off_by_one), ("stateful",), needs_counter=True),
)


def applicable(m: Mutant, binding: Any) -> bool:
    return (binding.kind in m.kinds and (not m.needs_state or bool(binding.buffers))
            and (not m.needs_counter or bool(binding.counter)))
