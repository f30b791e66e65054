"""`torchlean-bridge check`: run bindings over devices and dtypes, print a table, write reports.

Exit 0 when nothing unexpected deviates (and every mutant is caught with --mutants), 1 otherwise,
2 for usage errors (bad files, a missing device, a missing generated reference)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bridge import DTYPES
from bridge.bindings import Binding, BindingError, load_bindings

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def add_parser(sub: Any) -> None:
    c = sub.add_parser(
        "check", help="check runtimes (torch optimizers) against the Lean specs",
        description="Run each binding's implementations on seeded cases, compare with the exact spec "
                    "value from the generated reference in ulps, and report exact/rounding/violation.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  torchlean-bridge check                               # every binding, cpu, four dtypes\n"
               "  torchlean-bridge check --device cuda --dtype float32 # on the GPU\n"
               "  torchlean-bridge check --mutants                     # and show broken runtimes are caught\n"
               "  torchlean-bridge check --optimizer mypkg.opt:make    # your optimizer against SGD.step\n"
               "  torchlean-bridge check --model mypkg.models:mlp      # your model's backward pass\n"
               "exit status: 0 nothing unexpected, 1 an unexpected deviation or a missed mutant, 2 usage")
    c.add_argument("--device", action="append", metavar="DEV", help="cpu or cuda (repeatable; default cpu)")
    c.add_argument("--dtype", action="append", choices=list(DTYPES),
                   help="repeatable; default all four")
    c.add_argument("--binding", action="append", metavar="NAME", help="only these bindings (repeatable)")
    c.add_argument("--bindings", metavar="FILE", help="bindings JSON (default: the shipped bridge/bindings.json)")
    c.add_argument("--expected", metavar="FILE", help="expected deviations (default: bridge/expected_deviations.txt)")
    c.add_argument("--report", metavar="DIR", default="reports/check",
                   help="write report.json, report.md and report.html here (default reports/check)")
    c.add_argument("--seed", type=int, default=0, help="seed of the generated cases (default 0)")
    c.add_argument("--cases", type=int, default=3, metavar="N",
                   help="seeded cases per row (default 3; each holds the dtype's edge values); more for a deeper run")
    c.add_argument("--compile", choices=("auto", "on", "off"), default="auto",
                   help="fuse the float32 SGD check into one torch.compile kernel: auto (default) once a run "
                        "has checked ~67 M elements eagerly, on (compiles at once, seconds), off")
    c.add_argument("--mutants", action="store_true", help="also run the built-in mutants; each must be caught")
    c.add_argument("--optimizer", metavar="MODULE:FACTORY",
                   help="check factory(params, lr) -> object with .step() against --spec (default SGD.step)")
    c.add_argument("--spec", metavar="NAME", default="Proofs.Autograd.Algebra.SGD.step",
                   help="spec for --optimizer (default Proofs.Autograd.Algebra.SGD.step)")
    c.add_argument("--model", metavar="MODULE:FACTORY",
                   help="check scalarLoss_grad_correct on factory() -> (model, inputs, loss_fn); the model "
                        "and inputs are moved to each device and dtype, loss_fn(out) must move its targets "
                        "with .to(out)")
    c.add_argument("--exports", default="lean_exports", metavar="DIR", help="for doc/source links")
    c.add_argument("--generated", default="generated", metavar="DIR", help="generated references")
    c.set_defaults(func=run)


def _fmt_row(r: Any) -> str:
    name = r.binding + (f" [{r.mutant}]" if r.mutant else "")
    ulp = "inf" if r.max_ulp == float("inf") else f"{r.max_ulp:.3g}"
    classes = class_summary(r) if r.verdict not in ("exact", "error") else ""
    return (f"{name:<34} {r.implementation:<18} {r.device:<5} {r.dtype:<9} {r.lr_kind:<6} "
            f"{r.verdict:<9} {ulp:>9} {r.cases:>5}  {r.status}{' (' + r.convention + ')' if r.convention != 'alpha' else ''}"
            f"{'  ' + classes if classes else ''}")


def class_summary(r: Any) -> str:
    """`regular=rounding edge=rounding underflow=violation`: the row's verdict per value class."""
    return " ".join(f"{k}={d['verdict']}" for k, d in (getattr(r, "classes", None) or {}).items())


def run(args: argparse.Namespace, specs: Any = None) -> int:
    from bridge import fast_exact
    from bridge.check import CheckOptions, GeneratedSpecs, ReferenceUnavailable, check_binding, plan
    from bridge.expected import DEFAULT_EXPECTED, ExpectedError, classify, load_expected
    from bridge.mutants import MUTANTS, applicable
    from bridge.report import spec_links, write_reports
    from bridge.runtimes import discover_bindings
    from bridge.runtimes.torch_optim import DeviceError, check_device, import_object

    err = "torchlean-bridge check: error:"
    fast_exact.set_compile(args.compile)
    try:
        for d in args.device or ["cpu"]:
            check_device(d)
        bindings: list[Binding] = load_bindings(Path(args.bindings) if args.bindings else None)
        if not args.bindings:
            bindings += discover_bindings()
        expected = load_expected(Path(args.expected) if args.expected else DEFAULT_EXPECTED)
    except (DeviceError, BindingError, ExpectedError) as exc:
        print(f"{err} {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.binding:
        from bridge.runtimes.torch_autograd import MODELS

        known = sorted({b.name for b in bindings} | set(MODELS) | {"autograd/graph-reference"})
        unknown = [n for n in args.binding if n not in known]
        if unknown:  # a typo must not pass as "0 rows, nothing deviates"
            print(f"{err} unknown binding {', '.join(map(repr, unknown))}; known: {', '.join(known)}",
                  file=sys.stderr)
            return EXIT_USAGE
    specs = specs or GeneratedSpecs(Path(args.generated))
    opts = CheckOptions(devices=args.device or ["cpu"], dtypes=args.dtype or CheckOptions().dtypes,
                        seed=args.seed, cases=args.cases)
    rows: list[Any] = []
    try:
        if args.optimizer:
            user = import_object(args.optimizer)
            match = [b for b in bindings if b.spec == args.spec and b.kind in ("tlist_step", "tensor_update")]
            if not match:
                print(f"{err} no binding with spec {args.spec!r} usable by --optimizer", file=sys.stderr)
                return EXIT_USAGE
            b = match[0].model_copy(update={"lr_kinds": ["float"]})
            fac = (lambda params, extra: user(params, float(extra["lr"])))
            for dev in opts.devices:
                for dt in opts.dtypes:
                    rows.append(check_binding(specs, b, args.optimizer, dev, dt, "float", opts, factory=fac))
        elif not args.model:
            for b, impl, dev, dt, lk in plan(bindings, opts, args.binding):
                rows.append(check_binding(specs, b, impl, dev, dt, lk, opts))
            rows.extend(_autograd_rows(specs, opts, args.binding))
        if args.model:
            from bridge.runtimes.torch_autograd import check_model
            user_model = import_object(args.model)
            for dev in opts.devices:
                for dt in opts.dtypes:
                    rows.append(check_model(user_model, dev, dt, args.seed, name=args.model, cases=opts.cases))
        classify(rows, expected)
        for r in rows:
            if r.binding == "autograd/graph-reference" and r.error.startswith(("ReferenceUnavailable",
                                                                                 "ReferenceError")):
                r.status = "unavailable"  # the generated Graph reference is not there: said, not failed
        if args.mutants:
            from bridge.runtimes.torch_optim import torch_factory
            for b in bindings:
                if args.binding and b.name not in args.binding:
                    continue
                impl = next(iter(b.implementations))
                # Mutants are judged where the unmutated runtime passes (no edge values, one case:
                # torch's own expected deviations would otherwise "catch" every mutant).
                mopts = dataclasses.replace(opts, edge=False, cases=1)
                for dev in opts.devices:
                    clean = {dt: check_binding(specs, b, impl, dev, dt, "float", mopts).verdict
                             for dt in ("float32", "float64")}
                    for m in MUTANTS:
                        if not applicable(m, b):
                            continue
                        for dt in ("float32", "float64"):
                            r = check_binding(specs, b, impl, dev, dt, "float", mopts,
                                              factory=m.wrap(torch_factory(b, impl)), mutant=m.name)
                            r.status = "caught" if r.verdict in ("violation", "error") else "MISSED"
                            if clean[dt] in ("violation", "error"):
                                r.status = "MISSED"  # inconclusive: the unmutated runtime fails here too
                                r.error = r.error or "inconclusive: the unmutated runtime violates on these cases"
                            rows.append(r)
            from bridge.runtimes.torch_autograd import AUTOGRAD_MUTANTS
            from bridge.runtimes.torch_autograd import check_model as _check_model
            for mname, target, mfac in AUTOGRAD_MUTANTS:
                if args.binding and target not in args.binding:
                    continue
                for dev in opts.devices:
                    for dt in ("float32", "float64"):
                        r = _check_model(mfac, dev, dt, args.seed, name=target, cases=opts.cases, mutant=mname)
                        r.status = "caught" if r.verdict in ("violation", "error") else "MISSED"
                        rows.append(r)
    except (ReferenceUnavailable, ImportError) as exc:
        print(f"{err} {exc}", file=sys.stderr)
        return EXIT_USAGE
    links = spec_links(Path(args.exports))
    print(f"{'binding':<34} {'implementation':<18} {'dev':<5} {'dtype':<9} {'lr':<6} {'verdict':<9} "
          f"{'max ulp':>9} {'cases':>5}  status")
    for r in rows:
        print(_fmt_row(r))
    bad = [r for r in rows if r.status in ("unexpected", "MISSED")]
    for r in bad:
        url = links.get(r.spec, {}).get("doc_url", "")
        what = f"mutant {r.mutant} not caught" if r.mutant else (r.error or f"violation, max {r.max_ulp:.3g} ulp")
        if r.status == "unexpected" and r.reason:
            what += f"; {r.reason}"
        print(f"{r.verdict}: {r.spec} ({url}) by {r.binding}/{r.implementation} on {r.device} {r.dtype}: {what}",
              file=sys.stderr)
    fixed = [r for r in rows if r.status == "fixed" or getattr(r, "fixed_entries", None)]
    summary = (f"{len(rows)} rows; {len(bad)} unexpected; {sum(r.status == 'expected' for r in rows)} expected "
               f"deviations; {len(fixed)} fixed (remove their entries from the expected file)")
    print(summary)
    if args.report:
        paths = write_reports(rows, Path(args.report), links, summary, Path(args.generated))
        print(f"report: {', '.join(str(p) for p in paths)}")
    return EXIT_FAIL if bad else EXIT_OK


def _autograd_rows(specs: Any, opts: Any, only: list[str] | None) -> list[Any]:
    """scalarLoss_grad_correct rows: the built-in models on every device and dtype, and the
    generated-reference graph on cpu (see bridge.runtimes.torch_autograd)."""
    from bridge.runtimes.torch_autograd import MODELS, check_model, graph_reference_row

    out: list[Any] = []
    for name, fac in MODELS.items():
        if only and name not in only:
            continue
        for dev in opts.devices:
            for dt in opts.dtypes:
                out.append(check_model(fac, dev, dt, opts.seed, name=name, cases=opts.cases))
    if not only or "autograd/graph-reference" in only:
        for dt in opts.dtypes:
            out.append(graph_reference_row(specs, dt, opts.seed))
    return out


def main(argv: Sequence[str] | None = None, specs: Any = None) -> int:
    """Entry for tests and the pytest plugin: parse `check` options and run with `specs`."""
    p = argparse.ArgumentParser(prog="torchlean-bridge")
    sub = p.add_subparsers(dest="command")
    add_parser(sub)
    args = p.parse_args(["check", *(argv or [])])
    return run(args, specs)
