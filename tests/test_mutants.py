"""Every built-in mutant must be caught (a verdict is only worth something if a broken runtime fails)."""

from __future__ import annotations

import pytest

from bridge.bindings import load_bindings
from bridge.check import CheckOptions, check_binding
from bridge.mutants import MUTANTS, applicable
from bridge.runtimes.torch_optim import torch_factory
from tests.support.standin_specs import StandinSpecs

SPECS = StandinSpecs()
B = {b.name: b for b in load_bindings()}
CASES = [(b, m) for name in ("sgd-step", "momentum", "adam") for b in [B[name]] for m in MUTANTS if applicable(m, b)]
# OPEN: this mutant is not caught yet (mutant ineffective or check blind: undetermined). strict: the
# test starts failing the moment it is caught, so the mark cannot outlive the fix.
OPEN = {("adam", "bias-correction-off-by-one")}
PARAMS = [pytest.param(b, m, marks=pytest.mark.xfail(strict=True, reason="open: not caught yet"))
          if (b.name, m.name) in OPEN else pytest.param(b, m) for b, m in CASES]


@pytest.mark.parametrize("binding,mutant", PARAMS, ids=[f"{b.name}-{m.name}" for b, m in CASES])
def test_mutant_caught(binding, mutant) -> None:  # type: ignore[no-untyped-def]
    fac = mutant.wrap(torch_factory(binding, "for-loop"))
    row = check_binding(SPECS, binding, "for-loop", "cpu", "float32", "float", CheckOptions(cases=1, large=64),
                        factory=fac, mutant=mutant.name)
    assert row.verdict == "violation", (mutant.name, row)


def test_every_mutant_is_exercised() -> None:
    assert {m.name for _, m in CASES} == {m.name for m in MUTANTS}
