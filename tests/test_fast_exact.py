"""The torch fast exact path (bridge.fast_exact, float32) gives the exact method's verdicts and ulps."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from bridge import fast_exact
from bridge.bindings import load_bindings
from bridge.check import GeneratedSpecs, check_step
from bridge.numerics import format_of
from bridge.runtimes.torch_optim import StepRecord

ROOT = Path(__file__).resolve().parents[1]
SPECS = GeneratedSpecs(ROOT / "generated")
F32 = format_of("float32")
SGD = {b.name: b for b in load_bindings()}


def _inputs(seed: int, lr: float) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    f32 = torch.float32
    params = [torch.randn(700, generator=g) * torch.exp2(torch.randint(-20, 20, (700,), generator=g)), torch.randn(3, 5)]
    grads = [torch.randn(700, generator=g) * torch.exp2(torch.randint(-30, 30, (700,), generator=g)), torch.randn(3, 5)]
    p, gr = params[0], grads[0]
    specials = torch.tensor([0.0, -0.0, 2.0**-149, -(2.0**-149), 2.0**-126, 3 * 2.0**-140, 1.0, 2.0, 3.0e38,
                             -3.4e38, 1.7e38, 2.0**-127, 5.0, 2.0**-130], dtype=f32)
    p[:14] = specials
    gr[:14] = torch.tensor([0.0, 0.0, -(2.0**-149), 2.0**-149, -(2.0**-149), 2.0**-149, 2.0**-23, 2.0**-23,
                            -3.0e38, 1.0e38, -1.7e38, 2.0**-140, 3 * 2.0**-22, -(2.0**-149)], dtype=f32)
    # exact float32 midpoints of p - g*lr when lr = 0.5: g an odd multiple of p's spacing
    sp = torch.nextafter(p[14:200].abs(), torch.tensor(math.inf)) - p[14:200].abs()
    gr[14:200] = sp * (2 * torch.randint(0, 4, (186,), generator=g) + 1).to(f32)
    # subnormal and zero results
    p[200:260] = torch.randint(-50, 50, (60,), generator=g).to(f32) * 2.0**-149
    gr[200:260] = torch.randint(-50, 50, (60,), generator=g).to(f32) * 2.0**-149 * (1 / lr if lr > 0.25 else 1.0)
    gr[260:280] = 0.0
    return params, grads


def _variants(params: list[torch.Tensor], grads: list[torch.Tensor], lr: float, seed: int) -> list[list[torch.Tensor]]:
    lr32 = float(torch.tensor(lr, dtype=torch.float32))
    good = [(p.double() - g.double() * lr32).float() for p, g in zip(params, grads)]
    g = torch.Generator().manual_seed(seed + 1)
    out = [good]
    for k in (1, 3, 1000):  # a few ulps off here and there (rounding or violation), then far off
        v = [x.clone() for x in good]
        ix = torch.randint(0, v[0].numel(), (25,), generator=g)
        v[0][ix] = torch.nextafter(v[0][ix], torch.full((25,), math.inf)) if k == 1 else v[0][ix] * (1 + k * 2.0**-23)
        out.append(v)
    v = [x.clone() for x in good]
    v[0][300] = math.nan
    v[0][0] = -0.0
    v[1][1, 2] = math.inf
    out.append(v)
    two = [(p - (g * lr32)).float() for p, g in zip(params, grads)]  # float32 in two roundings
    out.append(two)
    return out


def _same(a: object, b: object, classes: bool = True) -> None:
    ca, cb = a[0], b[0]  # type: ignore[index]
    assert (ca.verdict, ca.n, ca.n_off, ca.first_index) == (cb.verdict, cb.n, cb.n_off, cb.first_index)
    assert ca.max_ulp == cb.max_ulp or (math.isnan(ca.max_ulp) and math.isnan(cb.max_ulp))
    assert repr(ca.detail) == repr(cb.detail)  # repr: NaN equals NaN
    wa, wb = dict(a[1]), dict(b[1])  # type: ignore[index]
    if not classes:  # the fast paths classify regular/edge only, the exact path also underflow
        wa.pop("class", None)
        wb.pop("class", None)
    assert repr(wa) == repr(wb)


@pytest.mark.parametrize("lr", [0.5, 0.01])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", ["sgd-step", "sgd-update"])
def test_fast_path_equals_exact_path(monkeypatch: pytest.MonkeyPatch, name: str, seed: int, lr: float) -> None:
    binding = SGD[name]
    slow = binding.model_copy(update={"exact_method": "fraction"})
    params, grads = _inputs(seed, lr)
    monkeypatch.setattr(fast_exact, "CHUNK", 256)  # several groups, cut tensors and grouped ones
    seen = set()
    for out in _variants(params, grads, lr, seed):
        rec = StepRecord(0, params, grads, {}, out, {}, {"lr": lr})
        fast = check_step(SPECS, binding, rec, F32, "alpha", 0)
        exact = check_step(SPECS, slow, rec, F32, "alpha", 0)
        _same(fast, exact, classes=False)
        seen.add(fast[0].verdict)
        with monkeypatch.context() as m:  # the numpy fast path agrees too
            m.setattr(fast_exact, "subnormals_exact", lambda: False)
            _same(check_step(SPECS, binding, rec, F32, "alpha", 0), fast)
    assert seen >= {"exact", "violation"}


def test_groups_cover_every_element_once() -> None:
    sizes = [5, 300, 1, 0, 1024, 7]
    got = [(i, j) for grp in fast_exact.groups(sizes, 256) for i, a, b in grp for j in range(a, b)]
    assert sorted(got) == [(i, j) for i, n in enumerate(sizes) for j in range(n)]


def test_window_test_on_midpoints_and_neighbours() -> None:
    """A midpoint, and the float64 numbers next to it, against both float32 neighbours."""
    lo = torch.tensor([1.0, 2.0**-126, 3.0e38, 2.0**-149, 1.5], dtype=torch.float32)
    hi = torch.nextafter(lo, torch.tensor(math.inf))
    mid = (lo.double() + hi.double()) / 2
    for s in (mid, torch.nextafter(mid, torch.tensor(math.inf, dtype=torch.float64)),
              torch.nextafter(mid, torch.tensor(-math.inf, dtype=torch.float64))):
        for x in (lo, hi):
            m = fast_exact.off_mask(s, x)
            assert m is not None
            # an element passes only if x is its correct rounding and s is not the midpoint
            ok = (s.float() == x) & (s != mid)
            assert bool((~m <= ok).all())
    assert fast_exact.off_mask(torch.tensor([0.0], dtype=torch.float64), torch.tensor([0.0])) is None
    assert fast_exact.off_mask(torch.tensor([math.nan], dtype=torch.float64), torch.tensor([math.nan])) is not None
