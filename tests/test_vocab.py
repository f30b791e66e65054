"""The trusted vocabulary: domains, primitives, Python names."""

from __future__ import annotations

import ast
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from bridge.translate.names import py_global, py_ident
from bridge.vocab import prims
from bridge.vocab.domains import Float64Domain, FractionDomain, TorchDomain, exact_sqrt, round_to_format


def test_exact_sqrt_is_exact_on_squares_and_close_otherwise() -> None:
    assert exact_sqrt(Fraction(9, 16)) == Fraction(3, 4)
    r = exact_sqrt(Fraction(2))
    assert abs(r * r - 2) < Fraction(1, 2**250)


def test_literals_round_once_to_the_dtype() -> None:
    d = TorchDomain(torch.bfloat16)
    x = d.div(1, 100)
    assert x.dtype == torch.bfloat16
    assert Fraction(float(x)) == round_to_format(Fraction(1, 100), 8, -126, 127)
    assert FractionDomain().div(1, 100) == Fraction(1, 100)
    assert Float64Domain().div(1, 10) == 0.1


@given(st.fractions(max_denominator=1000), st.sampled_from([(24, -126, 127), (11, -14, 15), (8, -126, 127)]))
def test_round_to_format_matches_torch(q: Fraction, fmt: tuple[int, int, int]) -> None:
    dtype = {24: torch.float32, 11: torch.float16, 8: torch.bfloat16}[fmt[0]]
    try:
        mine = round_to_format(q, *fmt)
    except OverflowError:
        return
    # float64 -> dtype is a single correct rounding when q is exactly a float64
    q64 = Fraction(float(q))
    assert round_to_format(q64, *fmt) == Fraction(float(torch.tensor(float(q64), dtype=torch.float64).to(dtype)))
    assert abs(mine - q) <= abs(Fraction(float(torch.tensor(float(q)).to(dtype))) - q) + Fraction(1, 2**60)


def test_elementwise_primitives_in_every_domain() -> None:
    for d in (FractionDomain(), Float64Domain(), TorchDomain(torch.float32)):
        a = d.tensor(np.array([[1.0, -4.0], [9.0, 2.0]]))
        b = d.tensor(np.array([[0.5, 2.0], [3.0, 4.0]]))
        assert d.shape_of(prims.sub_spec(d, a, b)) == (2, 2)
        s = prims.sqrt_spec(d, a)  # sqrt (max x 0)
        assert float(d.flat(s)[1]) == 0.0 and float(d.flat(s)[2]) == 3.0
        assert float(prims.dot(d, a, b)) == 0.5 - 8 + 27 + 8
        assert d.shape_of(prims.tensor_scalar(d, 3)) == ()


def test_tlist_ops() -> None:
    d = FractionDomain()
    xs = [d.full((2,), 1), d.full((), 2)]
    assert prims.tlist_unsnoc(d, prims.tlist_snoc(d, xs, d.full((1,), 3)))[0] == xs
    assert prims.cast(d, None, xs) is xs
    assert prims.tlist_dot_list(d, xs, xs) == 6


def test_python_names_are_valid_and_deterministic() -> None:
    for n in ["α", "β1", "μ", "ε", "ρ", "Γ", "s'", "ss₁", "lambda", "match", "_x", "h?", "µ", "ﬁ", "x!"]:
        p = py_ident(n)
        ast.parse(f"{p} = 1")
        assert p == py_ident(n)
    assert py_ident("β1") == "β1" and py_ident("lambda") == "lambda_"
    assert py_global("A.b__c") != py_global("A.b.c")


def test_a_numeral_compared_with_a_tensor_is_the_constant_tensor() -> None:
    # `Tensor.full s 0 = 0`: the right side is the numeral 0 at the tensor type
    from bridge.vocab.runtime import equal

    D = FractionDomain()
    zeros = prims.full(D, (2, 3), D.scalar(0))
    assert equal(zeros, 0) and equal(0, zeros) and equal(zeros, Fraction(0))
    assert not equal(zeros, 1) and not equal(prims.full(D, (2,), D.scalar(1)), 0)
    assert equal(torch.zeros(4, dtype=torch.float64), 0.0) and not equal(torch.ones(2), 0)
    assert not equal(np.zeros(2), True)  # a Bool is no numeral


def test_values_the_translation_cannot_judge_are_not_evaluable() -> None:
    # function equality needs extensionality; a method of an unknown type was never translated

    from bridge.vocab.runtime import NotEvaluable, equal, field

    f = prims.full
    with pytest.raises(NotEvaluable, match="functions"):
        equal(lambda x: x, lambda x: x)
    assert equal(f, f)  # the same object
    with pytest.raises(NotEvaluable, match="`.foldl` on a list value"):
        field([1, 2], "foldl")
    with pytest.raises(NotEvaluable, match="`.reverse` on a list value"):
        field([1, 2], "reverse")  # Python's list.reverse is not Lean's List.reverse
    import dataclasses

    @dataclasses.dataclass
    class State:
        lr: int = 1

    assert field(State(), "lr") == 1  # a structure's field


def test_fin_zero_has_no_values_to_draw() -> None:
    from hypothesis import find

    from bridge.vocab.strategies import fins

    assert find(fins(3), lambda i: i == 2) == 2
    assert fins(0).is_empty and not fins(1).is_empty
