"""Check runtime implementations against the generated Lean references: one row per binding ×
implementation × device × dtype × lr kind, with a verdict (see bridge.numerics, docs/VERDICTS.md).

The spec value always comes from the generated reference (`SpecProvider.reference`), evaluated on
the runtime's own inputs: exactly over `FractionDomain`, as an error bound over `BoundDomain`,
and — for bindings whose float64 evaluation is a single rounding — over `TorchDomain(float64)`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from bridge.bindings import Binding
from bridge.bound_domain import BoundDomain
from bridge.numerics import (
    Comparison,
    FloatFormat,
    bound_f64,
    compare,
    compare_single_rounding,
    format_of,
    merge,
    round_fraction,
    worst,
)
from bridge.runtimes.torch_optim import (
    Factory,
    StepRecord,
    make_case,
    run_case,
    runtime_options,
    torch_factory,
)
from bridge.vocab.domains import Domain, FractionDomain, TorchDomain

CONVENTIONS = {
    "alpha": "α-faithful: every hyper-parameter (lr included) rounded to the runtime dtype",
    "hyper64": "hyper-parameters kept at their float64/float32 values, not rounded to the runtime dtype",
}


class SpecProvider(Protocol):
    def reference(self, full_name: str, domain: Domain) -> Callable[..., Any]: ...
    def structure(self, full_name: str, domain: Domain) -> Any: ...


class ReferenceUnavailable(Exception):
    """The generated reference cannot be loaded (one-line message)."""


@dataclass
class GeneratedSpecs:
    """The real provider: `bridge.reference` over the generated modules."""

    generated_dir: Path = Path("generated")

    def _mod(self) -> Any:
        try:
            import bridge.reference as ref
        except ImportError as exc:
            raise ReferenceUnavailable(f"bridge.reference is not available ({exc}); run `torchlean-bridge generate`") from None
        return ref

    def reference(self, full_name: str, domain: Domain) -> Callable[..., Any]:
        return self._mod().load_reference(full_name, domain, self.generated_dir)  # type: ignore[no-any-return]

    def structure(self, full_name: str, domain: Domain) -> Any:
        return self._mod().structure(full_name, domain, self.generated_dir)


# ------------------------------------------------------------------------------ spec evaluation


def _to_f64(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy()


def _hyper(rec: StepRecord, conv: str, fmt: FloatFormat) -> dict[str, Any]:
    """Hyper-parameters as exact rationals under a convention (booleans pass through)."""
    out: dict[str, Any] = {}
    for k, v in rec.hyper.items():
        if isinstance(v, bool) or v is None:
            out[k] = v
        else:
            q = Fraction(float(v))
            out[k] = q if conv == "hyper64" else Fraction(round_fraction(q, fmt))
    return out


def evaluate(specs: SpecProvider, binding: Binding, domain: Domain, rec: StepRecord, hyper: dict[str, Any],
             t: int, sel: Callable[[torch.Tensor], torch.Tensor] = lambda x: x,
             only: int | None = None) -> dict[str, list[Any]]:
    """Spec outputs on the record's inputs: {"p": [...], <buffer>: [...]}, one entry per tensor.
    With `only`, just that tensor (the lists then have one entry), its elements chosen by `sel`
    (sound for elementwise specs: every output element depends on the same element of the inputs)."""
    ref = specs.reference(binding.spec, domain)
    ids = range(len(rec.params_in)) if only is None else [only]
    # Torch domains take the runtime tensors themselves (exact float64 copies; no per-element
    # conversion through Fraction), the others a float64 array (exact: every runtime dtype fits).
    conv: Callable[[torch.Tensor], Any] = (
        (lambda x: x.detach().to("cpu", torch.float64)) if isinstance(domain, TorchDomain) else _to_f64)
    ten = [domain.tensor(conv(sel(rec.params_in[i]))) for i in ids]
    grd = [domain.tensor(conv(sel(rec.grads[i]))) for i in ids]
    state_in = {b: [rec.state_in[b][i] for i in ids] for b in binding.buffers}
    if binding.kind == "tlist_step":
        return {"p": list(ref(ten, grd, domain.scalar(hyper["lr"])))}
    if binding.kind == "tensor_update":
        lr = domain.scalar(hyper["lr"])
        return {"p": [ref(lr, p, g) for p, g in zip(ten, grd)]}
    State = specs.structure(binding.state or "", domain)
    out: dict[str, list[Any]] = {"p": [], **{b: [] for b in binding.buffers}}
    for i, (p, g) in enumerate(zip(ten, grd)):
        fields: dict[str, Any] = {}
        for lean in binding.hyper:
            v = hyper[lean]
            fields[lean] = v if isinstance(v, bool) else domain.scalar(v)
        for lean in binding.buffers:
            fields[lean] = domain.tensor(conv(sel(state_in[lean][i])))
        if binding.counter:
            fields[binding.counter] = t
        st2, p2 = ref(State(**fields), p, g)
        out["p"].append(p2)
        for lean in binding.buffers:
            out[lean].append(getattr(st2, lean))
    return out


def _runtime_outputs(binding: Binding, rec: StepRecord) -> dict[str, list[torch.Tensor]]:
    return {"p": rec.params_out, **{b: rec.state_out[b] for b in binding.buffers}}


def _flat_fractions(x: Any) -> list[Fraction]:
    return [q if isinstance(q, Fraction) else Fraction(q) for q in np.asarray(x, dtype=object).reshape(-1).tolist()]


def _flat_bound(x: Any) -> np.ndarray:
    return np.broadcast_to(bound_f64(x.e), np.shape(x.v)).reshape(-1)


def check_step(specs: SpecProvider, binding: Binding, rec: StepRecord, fmt: FloatFormat, conv: str,
               t: int) -> tuple[Comparison, dict[str, Any]]:
    """Verdict of one recorded step under one convention, and where its first offender is.
    A spec that divides by zero on these inputs (e.g. β2 = 0.999 rounds to 1 in bfloat16, so
    `1 - β2^t = 0`) cannot vouch for the runtime: that is a violation under this convention."""
    try:
        return _check_step(specs, binding, rec, fmt, conv, t)
    except ZeroDivisionError:
        n = sum(int(p.numel()) for p in rec.params_out)
        return Comparison("violation", n, n, float("inf")), {
            "note": f"the spec divides by zero on these inputs under convention {conv!r} "
                    f"(a hyper-parameter rounds to a degenerate value in {fmt.name})",
            "inputs": {k: (str(v) if isinstance(v, Fraction) else v) for k, v in _hyper(rec, conv, fmt).items()}}


def _check_step(specs: SpecProvider, binding: Binding, rec: StepRecord, fmt: FloatFormat, conv: str,
                t: int) -> tuple[Comparison, dict[str, Any]]:
    hyper = _hyper(rec, conv, fmt)
    runtime = _runtime_outputs(binding, rec)
    parts: list[tuple[Comparison, str, int]] = []
    fast = (binding.exact_method == "single-rounding-f64" and conv == "alpha" and 2 * fmt.p + 1 <= 53)
    if fast:
        s_out = evaluate(specs, binding, TorchDomain(torch.float64, "cpu"), rec, hyper, t)
        for i, (x, s) in enumerate(zip(runtime["p"], s_out["p"])):
            def exact_at(ix: np.ndarray, i: int = i) -> list[Fraction]:
                sel = _selector(ix)
                return _flat_fractions(evaluate(specs, binding, FractionDomain(), rec, hyper, t, sel, i)["p"][0])

            def bound_at(ix: np.ndarray, i: int = i) -> np.ndarray:
                sel = _selector(ix)
                return _flat_bound(evaluate(specs, binding, BoundDomain(fmt), rec, hyper, t, sel, i)["p"][0])

            s_np = s.detach().to("cpu", torch.float64).numpy() if isinstance(s, torch.Tensor) else np.asarray(s)
            parts.append((compare_single_rounding(_to_f64(x).reshape(-1), s_np.reshape(-1), fmt,
                                                  exact_at, bound_at), "p", i))
    else:
        exact = evaluate(specs, binding, FractionDomain(), rec, hyper, t)
        bounds = evaluate(specs, binding, BoundDomain(fmt), rec, hyper, t)
        for name, xs in runtime.items():
            for i, x in enumerate(xs):
                c = compare(_to_f64(x).reshape(-1), _flat_fractions(exact[name][i]),
                            _flat_bound(bounds[name][i]), fmt)
                parts.append((c, name, i))
    merged = merge([c for c, _, _ in parts])
    where: dict[str, Any] = {}
    lead = next(((c, n, i) for c, n, i in parts
                 if c.verdict == merged.verdict and c.first_index is not None), None)
    if lead is not None:
        c, name, i = lead
        j = int(c.first_index or 0)
        where = {"output": name, "tensor": i, "index": j,
                 "inputs": {"p": _elem(rec.params_in[i], j), "g": _elem(rec.grads[i], j),
                            **{b: _elem(rec.state_in[b][i], j) for b in binding.buffers},
                            **{k: (str(v) if isinstance(v, Fraction) else v) for k, v in hyper.items()}},
                 **c.detail}
    return merged, where


def _finite_inputs(binding: Binding, rec: StepRecord) -> bool:
    ts = [*rec.params_in, *rec.grads, *(t for b in binding.buffers for t in rec.state_in[b])]
    return all(bool(torch.isfinite(t).all()) for t in ts)


def _selector(ix: np.ndarray) -> Callable[[torch.Tensor], torch.Tensor]:
    idx = torch.as_tensor(ix, dtype=torch.long)
    return lambda x: x.detach().reshape(-1).to("cpu")[idx]


def _elem(t: torch.Tensor, j: int) -> float:
    return float(t.detach().reshape(-1)[j].to("cpu", torch.float64).item())


# ------------------------------------------------------------------------------------ the run


@dataclass
class Row:
    binding: str
    spec: str
    implementation: str
    device: str
    dtype: str
    lr_kind: str
    verdict: str  # exact | rounding | violation | error
    max_ulp: float = 0.0
    cases: int = 0
    steps: int = 0
    elements: int = 0
    share_off: float = 0.0
    convention: str = "alpha"
    first: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    status: str = ""  # ok | expected | unexpected | fixed (set by bridge.expected)
    reason: str = ""
    link: str = ""
    mutant: str = ""
    seconds: float = 0.0
    skipped_steps: int = 0
    note: str = ""  # why a row follows a convention other than α (the α-faithful verdict it had)


@dataclass
class CheckOptions:
    devices: list[str] = field(default_factory=lambda: ["cpu"])
    dtypes: list[str] = field(default_factory=lambda: ["float64", "float32", "float16", "bfloat16"])
    seed: int = 0
    cases: int = 3
    lr: float = 0.01
    large: int = 4096  # one tensor this large in the last case of fast-path bindings
    edge: bool = True  # each case holds the dtype's special values (mutant runs: off, see bridge.mutants)


def check_binding(specs: SpecProvider, binding: Binding, impl: str, device: str, dtype: str, lr_kind: str,
                  opts: CheckOptions, factory: Factory | None = None, mutant: str = "") -> Row:
    """Run every case of one row and give its verdict (never raises for runtime failures)."""
    t0 = time.perf_counter()
    row = Row(binding.name, binding.spec, impl, device, dtype, lr_kind, "exact", mutant=mutant)
    fmt = format_of(dtype)
    factory = factory or torch_factory(binding, impl)
    options = runtime_options(binding, impl) if impl in binding.implementations else {}
    comps: list[Comparison] = []
    convs: set[str] = set()
    for ci in range(opts.cases):
        fast = binding.exact_method == "single-rounding-f64" and 2 * fmt.p + 1 <= 53
        large = opts.large if (ci == opts.cases - 1 and fast) else 0
        case = make_case(binding, ci, opts.seed, device, dtype, opts.lr, lr_kind, large, opts.edge)
        try:
            records = run_case(binding, factory, case, options)
        except Exception as exc:  # noqa: BLE001 - any runtime refusal becomes an error row, not a crash
            row.verdict, row.error = "error", f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            break
        for rec in records:
            t = rec.step  # the spec's own Nat counter: steps taken before this one
            if not _finite_inputs(binding, rec):
                # a rational spec has no inf/NaN inputs; the step that produced them was judged already
                row.skipped_steps += 1
                continue
            c, where = check_step(specs, binding, rec, fmt, "alpha", t)
            conv = "alpha"
            if c.verdict == "violation" and fmt.p < 53:
                c2, where2 = check_step(specs, binding, rec, fmt, "hyper64", t)
                if c2.verdict != "violation":
                    if not row.note:
                        row.note = _convention_note(c, where, fmt)
                    c, where, conv = c2, where2, "hyper64"
            convs.add(conv)
            comps.append(c)
            row.steps += 1
            # the row names the first violating element, else the first element off
            if where and c.verdict != "exact" and (not row.first or (
                    c.verdict == "violation" and row.first.get("verdict") != "violation")):
                row.first = {"verdict": c.verdict, "case": ci, "step": rec.step, "seed": opts.seed, **where}
        row.cases += 1
        if comps and worst([c.verdict for c in comps]) == "violation":
            break  # one violating case is enough evidence; keep the run short
    if row.verdict != "error":
        m = merge(comps)
        row.verdict, row.max_ulp, row.elements, row.share_off = m.verdict, m.max_ulp, m.n, m.share_off
        row.convention = "hyper64" if "hyper64" in convs else "alpha"
    row.seconds = time.perf_counter() - t0
    if not math.isfinite(row.max_ulp):
        row.max_ulp = float("inf")
    return row


def _convention_note(alpha: Comparison, where: dict[str, Any], fmt: FloatFormat) -> str:
    """Why a step was judged under `hyper64`: what the α-faithful check said."""
    why = where.get("note") or f"violation, {alpha.max_ulp:.3g} ulp at the first offender"
    return (f"α-faithful ({fmt.name} hyper-parameters): {why}. torch keeps hyper-parameters as Python "
            f"floats (bias corrections 1-β^t in float64); judged with hyper-parameters at their float64 values")


def plan(bindings: Iterable[Binding], opts: CheckOptions, only: list[str] | None = None
         ) -> list[tuple[Binding, str, str, str, str]]:
    """Every (binding, implementation, device, dtype, lr kind) to run, in table order."""
    out: list[tuple[Binding, str, str, str, str]] = []
    for b in bindings:
        if only and b.name not in only:
            continue
        for impl, spec in b.implementations.items():
            for dev in opts.devices:
                if torch.device(dev).type not in spec.devices:
                    continue
                for dt in opts.dtypes:
                    for lk in b.lr_kinds:
                        out.append((b, impl, dev, dt, lk))
    return out
