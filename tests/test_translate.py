"""Translation: the generated SGD.step against its intended meaning, and missing constants."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.exports import load_exports
from bridge.generate import Generator
from bridge.reference import load_reference, structure
from bridge.vocab.domains import FractionDomain
from bridge.vocab.strategies import shape_lists, tensors

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "generated"
D = FractionDomain()


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_sgd_step_is_p_minus_g_lr_exactly(data: st.DataObject) -> None:
    shapes = data.draw(shape_lists())
    ps = [data.draw(tensors(s)) for s in shapes]
    gs = [data.draw(tensors(s)) for s in shapes]
    lr = data.draw(st.fractions(max_denominator=64))
    out = load_reference("Proofs.Autograd.Algebra.SGD.step", D, GENERATED)(ps, gs, lr)
    assert len(out) == len(ps)
    for o, p, g in zip(out, ps, gs):
        assert o.shape == p.shape
        for x, y, z in zip(o.reshape(-1), p.reshape(-1), g.reshape(-1)):
            assert x == y - z * lr


def test_optimizer_references_and_states() -> None:
    p = D.tensor(np.array([Fraction(1), Fraction(2)]))
    g = D.tensor(np.array([Fraction(1, 2), Fraction(-1)]))
    assert list(load_reference("Optim.SGD.update", D, GENERATED)(Fraction(1, 10), p, g)) == [Fraction(19, 20), Fraction(21, 10)]
    State = structure("Optim.MomentumSGD.State", D, GENERATED)
    st0 = State(buf=D.full((2,), 0))
    assert st0.lr == Fraction(1, 100) and st0.μ == Fraction(9, 10) and st0.nesterov is False
    st1, p1 = load_reference("Optim.MomentumSGD.update", D, GENERATED)(st0, p, g)
    assert list(st1.buf) == list(g) and list(p1) == [1 - Fraction(1, 200), 2 + Fraction(1, 100)]
    for name in ("Optim.Adam", "Optim.AdamW"):
        S = structure(f"{name}.State", D, GENERATED)
        init = load_reference(f"{name}.init", D, GENERATED)((2,))
        assert isinstance(init, S.__mro__[1])
        st2, _ = load_reference(f"{name}.update", D, GENERATED)(S(m=D.full((2,), 0), v=D.full((2,), 0)), p, g)
        assert st2.t == 1


def test_missing_constant_stops_only_its_users() -> None:
    _, modules = load_exports(ROOT / "lean_exports")
    m = next(m for m in modules if m.module == "NN.Proofs.Autograd.Training.StepAlgebra")
    d = next(d for d in m.declarations if d.name.endswith("SGD.step"))
    d.value = "TList.sub params (Foo.bar lr grads)"
    outs = Generator(modules).run()
    o = next(o for o in outs if o.module == m.module)
    why = dict(o.failed)["Proofs.Autograd.Algebra.SGD.step"]
    assert "Foo.bar" in why and "registry.py" in why and "Proofs.Autograd.Algebra.SGD.step" in why
    assert "Proofs.Autograd.Algebra.SGD.step_cons" in dict(o.untested)
    assert any(f.full_name.endswith("seedScalarLoss") for f in o.functions)


def test_reference_error_names_the_declaration() -> None:
    with pytest.raises(LookupError, match="Nope.nothing"):
        load_reference("Nope.nothing", D, GENERATED)
