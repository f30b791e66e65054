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

from bridge import DTYPES, fast_exact
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


STATELESS = ("tlist_step", "tensor_update")


def stateless_call(ref: Callable[..., Any], kind: str, params: list[Any], grads: list[Any], lr: Any) -> list[Any]:
    """The reference of a stateless binding on parameter and gradient lists: `step params grads lr`
    over the whole list (`tlist_step`) or `update lr p g` per tensor (`tensor_update`)."""
    if kind == "tlist_step":
        return list(ref(params, grads, lr))
    return [ref(lr, p, g) for p, g in zip(params, grads)]


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
    if binding.kind in STATELESS:
        return {"p": stateless_call(ref, binding.kind, ten, grd, domain.scalar(hyper["lr"]))}
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
    c, where, _ = check_step_classes(specs, binding, rec, fmt, conv, t)
    return c, where


def check_step_classes(specs: SpecProvider, binding: Binding, rec: StepRecord, fmt: FloatFormat, conv: str,
                       t: int) -> tuple[Comparison, dict[str, Any], dict[str, tuple[Comparison, dict[str, Any]]]]:
    """`check_step`, and the verdict of every value class of elements (see `VALUE_CLASSES`); a
    spec that divides by zero gives no classes (the whole row is judged)."""
    try:
        return _check_step(specs, binding, rec, fmt, conv, t)
    except ZeroDivisionError:
        n = sum(int(p.numel()) for p in rec.params_out)
        return Comparison("violation", n, n, float("inf")), {
            "note": f"the spec divides by zero on these inputs under convention {conv!r} "
                    f"(a hyper-parameter rounds to a degenerate value in {fmt.name})",
            "inputs": {k: (str(v) if isinstance(v, Fraction) else v) for k, v in _hyper(rec, conv, fmt).items()}}, {}


VALUE_CLASSES = ("regular", "edge", "underflow")
"""Classes of elements, judged separately (docs/VERDICTS.md, "Value classes"):
`underflow` — the spec's own bound in the dtype at the element is dominated by underflow: more than
twice the same bound with the exponent range unbounded below (infinite only through underflow
included); `edge` — otherwise, an input of the element (parameter, gradient, state buffer) is
subnormal; `regular` — every other element (inputs zero or normal, rounding error relative)."""


def _no_underflow(fmt: FloatFormat) -> FloatFormat:
    """`fmt` with its exponent range unbounded below (eta negligible): the bound without underflow."""
    return FloatFormat(f"{fmt.name}-no-underflow", fmt.p, -16300 if fmt.emin < -200 else -1000 + fmt.p, fmt.emax)


def _input_classes(binding: Binding, rec: StepRecord, i: int, fmt: FloatFormat, n: int) -> np.ndarray:
    """0 (regular) or 1 (edge: some input of the element is subnormal) per element of tensor `i`."""
    tiny = math.ldexp(1.0, fmt.emin)
    cls = np.zeros(n, dtype=np.int8)
    for t in [rec.params_in[i], rec.grads[i], *(rec.state_in[b][i] for b in binding.buffers)]:
        a = np.abs(_to_f64(t).reshape(-1))
        if a.size == n:
            cls[(a > 0) & (a < tiny)] = 1
    return cls


def _raw_bound(x: Any, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(x.e), np.shape(x.v)).reshape(-1)[:n]


def _memo(fn: Callable[[np.ndarray], Any]) -> Callable[[np.ndarray], list[Any]]:
    """`fn` over index arrays, each index computed once (the per-class re-judging reuses them)."""
    seen: dict[int, Any] = {}

    def at(ix: np.ndarray) -> list[Any]:
        miss = np.asarray([j for j in np.asarray(ix).tolist() if j not in seen], dtype=np.int64)
        if miss.size:
            seen.update(zip(miss.tolist(), list(fn(miss))))
        return [seen[j] for j in np.asarray(ix).tolist()]

    return at


def _by_class(judge: Callable[[np.ndarray], Comparison], cls: np.ndarray) -> list[tuple[Comparison, int]]:
    """`judge(indices)` for each class present, first offenders mapped back to tensor indices."""
    out = []
    for k in np.unique(cls).tolist():
        idx = np.flatnonzero(cls == k)
        c = judge(idx)
        if c.first_index is not None:
            c.first_index = int(idx[c.first_index])
        out.append((c, int(k)))
    return out


def _fast_judge(xf: np.ndarray, sf: np.ndarray, fmt: FloatFormat, exact_at: Callable[[np.ndarray], list[Any]],
                bound_at: Callable[[np.ndarray], list[Any]]) -> Callable[[np.ndarray], Comparison]:
    def judge(idx: np.ndarray) -> Comparison:
        return compare_single_rounding(xf[idx], sf[idx], fmt, lambda ix: exact_at(idx[ix]),
                                       lambda ix: np.asarray(bound_at(idx[ix]), dtype=np.float64))
    return judge


def _full_judge(xf: np.ndarray, ex: list[Fraction], bd: np.ndarray, fmt: FloatFormat
                ) -> Callable[[np.ndarray], Comparison]:
    def judge(idx: np.ndarray) -> Comparison:
        return compare(xf[idx], [ex[j] for j in idx.tolist()], bd[idx], fmt)
    return judge


def _check_step(specs: SpecProvider, binding: Binding, rec: StepRecord, fmt: FloatFormat, conv: str,
                t: int) -> tuple[Comparison, dict[str, Any], dict[str, tuple[Comparison, dict[str, Any]]]]:
    hyper = _hyper(rec, conv, fmt)
    runtime = _runtime_outputs(binding, rec)
    parts: list[tuple[Comparison, str, int, int | None]] = []  # class None: every element exact
    fast = (binding.exact_method == "single-rounding-f64" and conv == "alpha" and fmt.single_rounding_in_f64)
    if fast and fmt.name == "float32" and fast_exact.subnormals_exact():
        parts = _fast_f32(specs, binding, rec, fmt, hyper, t)
    elif fast:
        s_out = evaluate(specs, binding, TorchDomain(torch.float64, "cpu"), rec, hyper, t)
        for i, (x, s) in enumerate(zip(runtime["p"], s_out["p"])):
            def exact_at(ix: np.ndarray, i: int = i) -> list[Fraction]:
                sel = _selector(ix)
                return _flat_fractions(evaluate(specs, binding, FractionDomain(), rec, hyper, t, sel, i)["p"][0])

            def bound_at(ix: np.ndarray, i: int = i) -> np.ndarray:
                sel = _selector(ix)
                return _flat_bound(evaluate(specs, binding, BoundDomain(fmt), rec, hyper, t, sel, i)["p"][0])

            s_np = s.detach().to("cpu", torch.float64).numpy() if isinstance(s, torch.Tensor) else np.asarray(s)
            xf, sf = _to_f64(x).reshape(-1), s_np.reshape(-1)
            judge = _fast_judge(xf, sf, fmt, _memo(exact_at), _memo(bound_at))
            whole = judge(np.arange(xf.size))
            if whole.verdict == "exact":
                parts.append((whole, "p", i, None))
                continue
            # not bitwise exact: judge each value class of the inputs (the fast path has no
            # whole-tensor bound, so its classes are `regular` and `edge` only)
            for c, k in _by_class(judge, _input_classes(binding, rec, i, fmt, xf.size)):
                parts.append((c, "p", i, k))
    else:
        exact = evaluate(specs, binding, FractionDomain(), rec, hyper, t)
        bounds = evaluate(specs, binding, BoundDomain(fmt), rec, hyper, t)
        bounds0 = evaluate(specs, binding, BoundDomain(_no_underflow(fmt)), rec, hyper, t)
        for i in range(len(runtime["p"])):
            n = int(runtime["p"][i].numel())
            cls = _input_classes(binding, rec, i, fmt, n)
            under = np.zeros(n, dtype=bool)
            for name in runtime:
                e, e0 = _raw_bound(bounds[name][i], n), _raw_bound(bounds0[name][i], n)
                with np.errstate(invalid="ignore", over="ignore"):
                    under |= (e > 2 * e0) | (np.isinf(e) & np.isfinite(e0))
            cls[under] = 2
            for name, xs in runtime.items():
                xf = _to_f64(xs[i]).reshape(-1)
                ex, bd = _flat_fractions(exact[name][i]), _flat_bound(bounds[name][i])
                for c, k in _by_class(_full_judge(xf, ex, bd, fmt), cls):
                    c.n = int(np.count_nonzero(cls == k))
                    parts.append((c, name, i, k))
    merged, where = _lead(parts, binding, rec, hyper)
    classes: dict[str, tuple[Comparison, dict[str, Any]]] = {}
    for k, cname in enumerate(VALUE_CLASSES):
        mine = [p for p in parts if p[3] == k]
        if mine:
            classes[cname] = _lead(mine, binding, rec, hyper)
    return merged, where, classes


class _Memo:
    """A SpecProvider that loads each reference once (the fast path evaluates it per chunk)."""

    def __init__(self, specs: SpecProvider) -> None:
        self.specs = specs
        self.refs: dict[tuple[str, str], Callable[..., Any]] = {}

    def reference(self, full_name: str, domain: Domain) -> Callable[..., Any]:
        key = (full_name, repr(domain))
        if key not in self.refs:
            self.refs[key] = self.specs.reference(full_name, domain)
        return self.refs[key]

    def structure(self, full_name: str, domain: Domain) -> Any:
        return self.specs.structure(full_name, domain)


def _fast_f32(specs: SpecProvider, binding: Binding, rec: StepRecord, fmt: FloatFormat, hyper: dict[str, Any],
              t: int) -> list[tuple[Comparison, str, int, int | None]]:
    """The single-rounding fast path for float32 in torch over bounded chunks (bridge.fast_exact):
    the same parts as the numpy fast path; only the elements it cannot vouch for are judged exactly."""
    f64 = TorchDomain(torch.float64, "cpu")
    memo = _Memo(specs)

    def spec_f64(group: list[tuple[int, int, int]]) -> torch.Tensor:
        sub = StepRecord(rec.step, [fast_exact.flat_slices(rec.params_in, group)],
                         [fast_exact.flat_slices(rec.grads, group)],
                         {b: [fast_exact.flat_slices(rec.state_in[b], group)] for b in binding.buffers}, [], {}, rec.hyper)
        s = evaluate(memo, binding, f64, sub, hyper, t)["p"][0]
        return s if isinstance(s, torch.Tensor) else torch.as_tensor(s, dtype=torch.float64)

    found = None
    if binding.kind in STATELESS and fast_exact.use_fused(sum(int(x.numel()) for x in rec.params_out)):
        ref = memo.reference(binding.spec, f64)
        lr = f64.scalar(hyper["lr"])
        kernel = fast_exact.fused_kernel((getattr(ref, "func", ref), binding.kind),
                                         lambda p, g, lr: stateless_call(ref, binding.kind, [p], [g], lr)[0])

        def any_off(group: list[tuple[int, int, int]]) -> bool:
            return kernel(*(fast_exact.flat_slices(ts, group) for ts in (rec.params_in, rec.grads, rec.params_out)), lr)

        found = fast_exact.fused_suspects(rec.params_out, spec_f64, any_off)
    if found is None:
        found = fast_exact.suspects(rec.params_out, spec_f64)
    parts: list[tuple[Comparison, str, int, int | None]] = []
    for i, x in enumerate(rec.params_out):
        n = int(x.numel())
        if i not in found:
            parts.append((Comparison("exact", n), "p", i, None))
            continue
        sus = found[i].numpy()  # sorted flat indices

        def exact_at(ix: np.ndarray, i: int = i) -> list[Fraction]:
            return _flat_fractions(evaluate(specs, binding, FractionDomain(), rec, hyper, t, _selector(ix), i)["p"][0])

        def bound_at(ix: np.ndarray, i: int = i) -> np.ndarray:
            return _flat_bound(evaluate(specs, binding, BoundDomain(fmt), rec, hyper, t, _selector(ix), i)["p"][0])

        ex_at, bd_at = _memo(exact_at), _memo(bound_at)

        def judge(idx: np.ndarray, x: torch.Tensor = x, sus: np.ndarray = sus,
                  ex_at: Callable[[np.ndarray], list[Any]] = ex_at,
                  bd_at: Callable[[np.ndarray], list[Any]] = bd_at) -> Comparison:
            ix = sus[np.isin(sus, idx)]
            if ix.size == 0:
                return Comparison("exact", int(idx.size))
            c = compare(_to_f64(_selector(ix)(x)).reshape(-1), ex_at(ix), np.asarray(bd_at(ix), dtype=np.float64), fmt)
            c.n = int(idx.size)
            if c.first_index is not None:
                c.first_index = int(np.searchsorted(idx, ix[c.first_index]))
            return c

        whole = judge(np.arange(n))
        if whole.verdict == "exact":
            parts.append((whole, "p", i, None))
            continue
        for c, k in _by_class(judge, _input_classes(binding, rec, i, fmt, n)):
            parts.append((c, "p", i, k))
    return parts


def _lead(parts: list[tuple[Comparison, str, int, int | None]], binding: Binding, rec: StepRecord,
          hyper: dict[str, Any]) -> tuple[Comparison, dict[str, Any]]:
    """Merged verdict of `parts` and where its first offender is."""
    merged = merge([c for c, _, _, _ in parts])
    where: dict[str, Any] = {}
    lead = next(((c, n, i, k) for c, n, i, k in parts
                 if c.verdict == merged.verdict and c.first_index is not None), None)
    if lead is not None:
        c, name, i, k = lead
        j = int(c.first_index or 0)
        where = {"output": name, "tensor": i, "index": j,
                 **({"class": VALUE_CLASSES[k]} if k is not None else {}),
                 "inputs": {"p": _elem(rec.params_in[i], j), "g": _elem(rec.grads[i], j),
                            **{b: _elem(rec.state_in[b][i], j) for b in binding.buffers},
                            **{k2: (str(v) if isinstance(v, Fraction) else v) for k2, v in hyper.items()}},
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
    # per value class (VALUE_CLASSES): {"verdict", "max_ulp", "elements", "first"}; expected entries
    # excuse classes, not whole rows (bridge.expected). Empty: no breakdown (the row is judged whole).
    classes: dict[str, dict[str, Any]] = field(default_factory=dict)
    fixed_entries: list[str] = field(default_factory=list)  # entries matching the row that no longer deviate


@dataclass
class CheckOptions:
    devices: list[str] = field(default_factory=lambda: ["cpu"])
    dtypes: list[str] = field(default_factory=lambda: list(DTYPES))
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
        fast = binding.exact_method == "single-rounding-f64" and fmt.single_rounding_in_f64
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
            c, where, cls = check_step_classes(specs, binding, rec, fmt, "alpha", t)
            conv = "alpha"
            if c.verdict == "violation" and fmt.p < 53:
                c2, where2, cls2 = check_step_classes(specs, binding, rec, fmt, "hyper64", t)
                # hyper64 where it removes violations: all of them, or those of some value classes
                # (or where the α spec divides by zero and hyper64 can be judged class by class)
                if c2.verdict != "violation" or (cls2 and (not cls or _violating(cls2) < _violating(cls))):
                    if not row.note:
                        row.note = _convention_note(c, where, fmt)
                    c, where, cls, conv = c2, where2, cls2, "hyper64"
            _add_classes(row, cls, ci, rec.step, opts.seed)
            convs.add(conv)
            comps.append(c)
            row.steps += 1
            # the row names the first violating element, else the first element off
            if where and c.verdict != "exact" and (not row.first or (
                    c.verdict == "violation" and row.first.get("verdict") != "violation")):
                row.first = {"verdict": c.verdict, "case": ci, "step": rec.step, "seed": opts.seed, **where}
        row.cases += 1
        if comps and worst([c.verdict for c in comps]) == "violation" and all(
                d["verdict"] == "violation" for d in row.classes.values()):
            break  # one violating case is enough evidence (for every class seen); keep the run short
    if row.verdict != "error":
        m = merge(comps)
        row.verdict, row.max_ulp, row.elements, row.share_off = m.verdict, m.max_ulp, m.n, m.share_off
        row.convention = "hyper64" if "hyper64" in convs else "alpha"
    row.seconds = time.perf_counter() - t0
    if not math.isfinite(row.max_ulp):
        row.max_ulp = float("inf")
    return row


def _violating(cls: dict[str, tuple[Comparison, dict[str, Any]]]) -> set[str]:
    return {k for k, (c, _) in cls.items() if c.verdict == "violation"}


def _add_classes(row: Row, cls: dict[str, tuple[Comparison, dict[str, Any]]], case: int, step: int,
                 seed: int) -> None:
    """Accumulate one step's per-class verdicts into the row (worst verdict, first offender)."""
    for k in VALUE_CLASSES:
        if k not in cls:
            continue
        c, where = cls[k]
        d = row.classes.setdefault(k, {"verdict": "exact", "max_ulp": 0.0, "elements": 0, "first": {}})
        d["elements"] += c.n
        d["max_ulp"] = max(d["max_ulp"], c.max_ulp)
        if where and c.verdict != "exact" and (not d["first"] or (
                c.verdict == "violation" and d["verdict"] != "violation")):
            d["first"] = {"verdict": c.verdict, "case": case, "step": step, "seed": seed, **where}
        d["verdict"] = worst([d["verdict"], c.verdict])


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
