"""Exact rounding, ulps, running-error bounds and verdicts (bridge.numerics)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.numerics import (
    FORMATS,
    ErrVal,
    compare,
    compare_single_rounding,
    format_of,
    round_f64_array,
    round_fraction,
    ulp,
    ulp_distance,
)

F32, F16, BF16, F64 = FORMATS["float32"], FORMATS["float16"], FORMATS["bfloat16"], FORMATS["float64"]
finite64 = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=300, deadline=None)
@given(finite64)
def test_round_fraction_matches_hardware_casts(x: float) -> None:
    q = Fraction(x)
    assert round_fraction(q, F64) == x
    with np.errstate(over="ignore"):
        assert round_fraction(q, F32) == float(np.float32(x))
        assert round_fraction(q, F16) == float(np.float16(x))  # numpy rounds float64->half directly


@settings(max_examples=300, deadline=None)
@given(finite64)
def test_round_f64_array_agrees_with_round_fraction(x: float) -> None:
    for fmt in (F32, F16, BF16):
        r, _ = round_f64_array(np.array([x]), fmt)
        assert r[0] == round_fraction(Fraction(x), fmt)


def test_subnormals_ties_and_overflow() -> None:
    tiny = Fraction(2) ** -149  # smallest float32 subnormal
    assert round_fraction(tiny, F32) == math.ldexp(1, -149)
    assert round_fraction(tiny / 2, F32) == 0.0  # tie -> even (zero)
    assert round_fraction(tiny * 3 / 2, F32) == math.ldexp(2, -149)  # tie -> even (2)
    assert round_fraction(tiny / 2 + Fraction(1, 10**80), F32) == math.ldexp(1, -149)
    assert round_fraction(Fraction(65520), F16) == math.inf  # half-way past max half rounds to inf
    assert round_fraction(Fraction(65519), F16) == 65504.0
    assert round_fraction(Fraction(1, 3), BF16) == float(torch.tensor(1 / 3, dtype=torch.bfloat16))
    assert ulp(Fraction(1), F32) == Fraction(2) ** -23
    assert ulp(Fraction(0), F16) == Fraction(2) ** -24
    assert ulp_distance(1.0 + 2**-23, Fraction(1), F32) == 1.0
    assert ulp_distance(math.nan, Fraction(1), F32) == math.inf
    assert format_of(torch.bfloat16) is BF16
    with pytest.raises(ValueError):
        format_of(torch.int32)


def test_errval_bounds_sgd_first_order() -> None:
    p, g, lr = 1.0, 3.0, 0.1
    b = ErrVal.exact(p, F32) - ErrVal.exact(g, F32) * ErrVal.exact(lr, F32)
    first_order = (abs(g * lr) + abs(p - g * lr)) * F32.u
    assert first_order <= float(b.e) <= first_order * (1 + 1e-6) + 3 * F32.eta


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=3))
def test_errval_bound_holds_for_float32_evaluation(xs: list[float]) -> None:
    a, b, c = (float(np.float32(x)) for x in xs)
    exact = Fraction(a) - Fraction(b) * Fraction(c) / (Fraction(abs(a)) + 1)
    t = torch.tensor([a, b, c], dtype=torch.float32)
    computed = float(t[0] - t[1] * t[2] / (t[0].abs() + 1))
    ea, eb, ec = (ErrVal.exact(v, F32) for v in (a, b, c))
    bound = ea - eb * ec / (ErrVal.exact(abs(a), F32) + 1)
    assert abs(Fraction(computed) - exact) <= Fraction(float(bound.e))


def test_errval_sqrt_and_division_by_uncertain_zero() -> None:
    z = ErrVal.exact(np.array([4.0, 0.0]), F32).sqrt()
    assert z.v.tolist() == [2.0, 0.0]
    d = ErrVal(np.array([1e-30]), np.array([1.0]), F32)
    assert np.isinf((ErrVal.exact(np.array([1.0]), F32) / d).e).all()


def test_compare_verdicts() -> None:
    exact = [Fraction(1, 3), Fraction(2, 3)]
    r = [round_fraction(q, F32) for q in exact]
    bound = np.array([1e-7, 1e-7])
    assert compare(np.array(r), exact, bound, F32).verdict == "exact"
    one_off = [r[0], float(np.nextafter(np.float32(r[1]), np.float32(1)))]
    c = compare(np.array(one_off), exact, bound, F32)
    assert c.verdict == "rounding" and c.n_off == 1 and c.first_index == 1 and 0.5 < c.max_ulp <= 1.5
    far = [r[0], r[1] * 1.001]
    c = compare(np.array(far), exact, bound, F32)
    assert c.verdict == "violation" and c.first_index == 1 and c.max_ulp > 1000
    assert compare(np.array([math.nan, r[1]]), exact, bound, F32).verdict == "violation"


def test_single_rounding_fast_path_handles_midpoints() -> None:
    # s = 1 + 2**-24 is a float32 midpoint; the exact value just above it must round up.
    s = np.array([1.0 + 2.0**-24, 0.5])
    exact = [Fraction(1) + Fraction(2) ** -24 + Fraction(2) ** -60, Fraction(1, 2)]
    runtime_right = np.array([1.0 + 2.0**-23, 0.5])

    def exact_at(ix: np.ndarray) -> list[Fraction]:
        return [exact[i] for i in ix]

    def bound_at(ix: np.ndarray) -> np.ndarray:
        return np.full(len(ix), 1e-7)

    assert compare_single_rounding(runtime_right, s, F32, exact_at, bound_at).verdict == "exact"
    c = compare_single_rounding(np.array([1.0, 0.5]), s, F32, exact_at, bound_at)
    assert c.verdict == "rounding" and c.first_index == 0
    with pytest.raises(ValueError):
        compare_single_rounding(runtime_right, s, F64, exact_at, bound_at)


def test_float64_bounds_keep_the_underflow_term() -> None:
    # 2**-1075 is 0 in float64: bounds for float64 runtimes are computed in a wider type (or eta rounded up)
    assert F64.eta_work > 0 and F32.eta_work == F32.eta
    e = (ErrVal.exact(np.array([math.ldexp(1.0, -1073)]), F64) * 0.1).e
    assert float(e[0]) > 0


@pytest.mark.parametrize("dtype,p,g", [(torch.float32, -1.6445246413746042e-39, 1.2098012200855805e-39),
                                       (torch.float64, -3.112894101653614e-309, 2.29001258634178e-309)])
def test_adam_subnormal_gradient_bound_is_sound_and_torch_exceeds_it(dtype: torch.dtype, p: float, g: float) -> None:
    """The generated Adam evaluated in the dtype (spec order) stays within its running-error bound;
    torch's regrouped step ((-lr/bc1)·m first: a subnormal intermediate, then / ε) does not."""
    from pathlib import Path

    from bridge.bound_domain import BoundDomain
    from bridge.reference import load_reference, structure
    from bridge.vocab.domains import FractionDomain, TorchDomain

    gen = Path(__file__).resolve().parents[1] / "generated"
    fmt = format_of(dtype)
    hyper = {k: float(torch.tensor(v, dtype=dtype).double()) for k, v in
             {"lr": 0.01, "β1": 0.9, "β2": 0.999, "ε": 1e-8}.items()}
    out = {}
    for name, D in [("exact", FractionDomain()), ("bound", BoundDomain(fmt)), ("dtype", TorchDomain(dtype))]:
        def mk(a: float, D: Any = D, name: str = name) -> Any:
            return D.tensor(torch.tensor([a], dtype=torch.float64) if name == "dtype" else np.array([a]))
        st = structure("Optim.Adam.State", D, gen)(**{k: D.scalar(Fraction(v)) for k, v in hyper.items()},
                                                    m=mk(0.0), v=mk(0.0), t=0)
        out[name] = load_reference("Optim.Adam.update", D, gen)(st, mk(p), mk(g))[1]
    q = out["exact"].reshape(-1)[0]
    bound = Fraction(float(np.asarray(out["bound"].e).reshape(-1)[0]))
    assert abs(Fraction(float(out["dtype"].reshape(-1)[0])) - q) <= bound
    param = torch.tensor([p], dtype=dtype)
    param.grad = torch.tensor([g], dtype=dtype)
    torch.optim.Adam([param], lr=hyper["lr"], betas=(hyper["β1"], hyper["β2"]), eps=hyper["ε"], foreach=False).step()
    assert abs(Fraction(float(param[0])) - q) > bound  # the finding in expected_deviations.txt
