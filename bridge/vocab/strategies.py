"""Hypothesis strategies for Lean binder types, and the equation check of generated tests.

Scalars of α are small rationals (numerators in [-12, 12], denominators in {1, 2, 3, 4, 5, 8});
shapes have rank ≤ 2 and dims ≤ 3; shape lists have length ≤ 3. Small, so the exact evaluation
stays fast; dyadic and non-dyadic denominators both occur, so float rounding is exercised.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import assume
from hypothesis import strategies as st

from bridge.vocab.runtime import EXACT, FLOAT64, NotEvaluable, convert, deviation, equal

# Float64 bound. Each side is a composition of at most a few hundred correctly rounded binary64
# operations on inputs of magnitude <= 12, so each float side is within n·u·C of the exact value
# (u = 2^-53, C the magnitude of the intermediates, n the operation count); n·u·C stays below
# 1e-10 for these inputs unless an exact intermediate nearly cancels. We allow
# REL · (1 + largest |exact entry|) with REL = 2^-30 ≈ 9.3e-10: far above rounding noise, far below
# any wrong formula on these rationals (those err by at least 1/(8·5·...) ≈ 1e-4).
REL = 2.0**-30


def scalars() -> st.SearchStrategy[Fraction]:
    return st.builds(Fraction, st.integers(-12, 12), st.sampled_from([1, 2, 3, 4, 5, 8]))


def nats() -> st.SearchStrategy[int]:
    return st.integers(0, 5)


def bools() -> st.SearchStrategy[bool]:
    return st.booleans()


def shapes() -> st.SearchStrategy[tuple[int, ...]]:
    return st.lists(st.integers(1, 3), max_size=2).map(tuple)


def shape_lists() -> st.SearchStrategy[list[tuple[int, ...]]]:
    return st.lists(shapes(), max_size=3)


def fins(n: int) -> st.SearchStrategy[int]:
    # `Fin 0` has no elements: a statement about one holds vacuously, the example is dropped
    return st.integers(0, int(n) - 1) if int(n) > 0 else st.nothing()


def tensors(shape: Any) -> st.SearchStrategy[Any]:
    shape = tuple(shape)
    size = int(np.prod(shape)) if shape else 1

    def build(xs: list[Fraction]) -> Any:
        arr = np.empty(size, dtype=object)
        for i, x in enumerate(xs):
            arr[i] = x
        return arr.reshape(shape)

    return st.lists(scalars(), min_size=size, max_size=size).map(build)


def tlists(shapes_: Any) -> st.SearchStrategy[list[Any]]:
    return st.tuples(*(tensors(s) for s in shapes_)).map(list)


def structures(cls: type, fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(fields).map(lambda kw: cls(**kw))


def check_equation(sides: Callable[..., tuple[Any, Any]], env: dict[str, Any]) -> None:
    """Both sides equal exactly over Fraction, and over float64 within the REL bound above."""
    try:
        lhs, rhs = sides(EXACT, **env)
        same = equal(lhs, rhs)
    except (ZeroDivisionError, ValueError):  # a division by zero or sqrt of a negative: skip
        assume(False)
        raise
    except NotEvaluable as exc:  # needs type elaboration or extensionality, which the bridge lacks
        pytest.skip(f"not testable from the translated values: {exc}")
    assert same, f"exact sides differ:\n  lhs = {lhs!r}\n  rhs = {rhs!r}"
    fenv = {k: convert(FLOAT64, v) for k, v in env.items()}
    with np.errstate(all="ignore"):
        flhs, frhs = sides(FLOAT64, **fenv)
    for name, side, exact in (("lhs", flhs, lhs), ("rhs", frhs, rhs)):
        err, mag = deviation(side, exact)
        assert err <= REL * (1 + mag), f"float64 {name} off by {err:g} (bound {REL * (1 + mag):g})"


