"""The torch fast exact path (bridge.fast_exact, float32) gives the exact method's verdicts and ulps."""

from __future__ import annotations

import math
import shutil
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


# ------------------------------------------------------------------ the fused kernel (torch.compile)


# torch.compile's CPU backend needs a C++ compiler (the README's machines have gcc); without one
# the check falls back to the eager path, which test_without_a_compiler_... covers
needs_cxx = pytest.mark.skipif(not any(shutil.which(c) for c in ("g++", "c++", "clang++")),
                               reason="torch.compile needs a C++ compiler")


def _fused_setup(monkeypatch: pytest.MonkeyPatch, mode: str = "on") -> None:
    # small thresholds: the 700-element tensor is a group alone, the 15-element one is packed
    monkeypatch.setattr(fast_exact, "FUSED_SMALL", 256)
    monkeypatch.setattr(fast_exact, "FUSED_MIN", 8)
    monkeypatch.setitem(fast_exact._state, "mode", mode)
    monkeypatch.setitem(fast_exact._state, "broken", "")


@needs_cxx
def test_fused_kernel_flags_exactly_the_groups_off_mask_flags() -> None:
    from bridge.vocab.domains import TorchDomain

    d64 = TorchDomain(torch.float64, "cpu")
    ref = SPECS.reference("Proofs.Autograd.Algebra.SGD.step", d64)
    kernel = fast_exact.fused_kernel(("test", ref.func), lambda p, g, lr: ref([p], [g], lr)[0])  # type: ignore[attr-defined]
    seen = set()
    for seed, lr in ((0, 0.5), (1, 0.01)):
        params, grads = _inputs(seed, lr)
        lr64 = d64.scalar(float(torch.tensor(lr, dtype=torch.float32)))
        for out in _variants(params, grads, lr, seed):
            for p, g, x in zip(params, grads, out):
                p, g, x = p.reshape(-1), g.reshape(-1), x.reshape(-1)
                eager = fast_exact.off_mask(ref([p.double()], [g.double()], lr64)[0], x) is not None
                assert kernel(p, g, x, lr64) == eager
                seen.add(eager)
            # element by element over the special values and midpoints (each repeated: a group of 2)
            p, g, x = params[0][:300], grads[0][:300], out[0][:300]
            for j in range(300):
                pj, gj, xj = p[j].repeat(2), g[j].repeat(2), x[j].repeat(2)
                eager = fast_exact.off_mask(ref([pj.double()], [gj.double()], lr64)[0], xj) is not None
                assert kernel(pj, gj, xj, lr64) == eager, (j, pj[0].item(), gj[0].item(), xj[0].item())
    assert seen == {True, False}  # both answers occur: a kernel that always flags would fail here


@needs_cxx
@pytest.mark.parametrize("name", ["sgd-step", "sgd-update"])
def test_fused_path_gives_the_eager_verdicts(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    binding = SGD[name]
    _fused_setup(monkeypatch)
    calls: list[int] = []
    real = fast_exact.fused_suspects

    def counting(*a: object, **k: object) -> object:
        calls.append(1)
        return real(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(fast_exact, "fused_suspects", counting)
    verdicts = set()
    for seed, lr in ((0, 0.5), (1, 0.01)):
        params, grads = _inputs(seed, lr)
        for out in _variants(params, grads, lr, seed):
            rec = StepRecord(0, params, grads, {}, out, {}, {"lr": lr})
            fused = check_step(SPECS, binding, rec, F32, "alpha", 0)
            assert not fast_exact._state["broken"]
            with monkeypatch.context() as m:
                m.setitem(fast_exact._state, "mode", "off")
                _same(fused, check_step(SPECS, binding, rec, F32, "alpha", 0))
            verdicts.add(fused[0].verdict)
    assert calls and verdicts >= {"exact", "rounding", "violation"}


def test_without_a_compiler_the_eager_path_answers_with_one_warning(monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    _fused_setup(monkeypatch)

    def broken(*_: object) -> object:
        def kernel(*__: object) -> object:
            raise RuntimeError("InductorError: no working C++ compiler found")
        return kernel

    monkeypatch.setattr(fast_exact, "fused_kernel", broken)
    params, grads = _inputs(0, 0.01)
    outs = _variants(params, grads, 0.01, 0)
    recs = [StepRecord(0, params, grads, {}, out, {}, {"lr": 0.01}) for out in (outs[0], outs[3])]
    got = [check_step(SPECS, SGD["sgd-step"], r, F32, "alpha", 0) for r in recs]
    err = capsys.readouterr().err
    assert err.count("fused check kernel is unavailable (RuntimeError: InductorError") == 1
    assert fast_exact._state["broken"]
    monkeypatch.setitem(fast_exact._state, "mode", "off")
    for r, g in zip(recs, got):
        _same(g, check_step(SPECS, SGD["sgd-step"], r, F32, "alpha", 0))


def test_auto_mode_compiles_once_enough_was_checked_eagerly(monkeypatch: pytest.MonkeyPatch) -> None:
    _fused_setup(monkeypatch, "auto")
    monkeypatch.setattr(fast_exact, "COMPILE_AFTER", 1000)
    monkeypatch.setitem(fast_exact._state, "eager", 0)
    assert [fast_exact.use_fused(n) for n in (700, 700, 5)] == [False, False, True]
    monkeypatch.setitem(fast_exact._state, "mode", "off")
    assert not fast_exact.use_fused(10**9)
    with pytest.raises(ValueError, match="auto, on, off"):
        fast_exact.set_compile("sometimes")


def test_fused_groups_cover_every_element_once() -> None:
    sizes = [5, 300, 1, 0, 1024, 7, 255, 256]
    groups = list(fast_exact.fused_groups(sizes, 256))
    got = [(i, j) for grp in groups for i, a, b in grp for j in range(a, b)]
    assert sorted(got) == [(i, j) for i, n in enumerate(sizes) for j in range(n)]
    assert [(1, 0, 300)] in groups and [(4, 0, 1024)] in groups  # large tensors alone, uncut
