"""Every built-in mutant must be caught (a verdict is only worth something if a broken runtime fails)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.bindings import load_bindings
from bridge.check import CheckOptions, GeneratedSpecs, check_binding
from bridge.mutants import MUTANTS, applicable
from bridge.runtimes.torch_optim import torch_factory

SPECS = GeneratedSpecs(Path(__file__).resolve().parents[1] / "generated")
B = {b.name: b for b in load_bindings()}
CASES = [(b, m) for name in ("sgd-step", "momentum", "adam") for b in [B[name]] for m in MUTANTS if applicable(m, b)]


@pytest.mark.parametrize("binding,mutant", CASES, ids=[f"{b.name}-{m.name}" for b, m in CASES])
def test_mutant_caught(binding, mutant) -> None:  # type: ignore[no-untyped-def]
    fac = mutant.wrap(torch_factory(binding, "for-loop"))
    opts = CheckOptions(cases=1, large=64, edge=False)
    # the unmutated runtime passes on these cases, so a violation is the mutant's doing
    assert check_binding(SPECS, binding, "for-loop", "cpu", "float32", "float", opts).verdict != "violation"
    row = check_binding(SPECS, binding, "for-loop", "cpu", "float32", "float", opts, factory=fac, mutant=mutant.name)
    assert row.verdict == "violation", (mutant.name, row)


def test_every_mutant_is_exercised() -> None:
    assert {m.name for _, m in CASES} == {m.name for m in MUTANTS}
