"""Report how the bridge reads a folder of real Lean files (a TorchLean checkout or part of one):
the README's "Tried on N real TorchLean files" figures.

    python tools/real_files.py ROOT [--generate DIR] [--show N]

Extracts ROOT (no cache, --jobs 2), then: declarations, diagnostics, `Unparsed` nodes (the first
N listed, with the declaration and the reason), the share of identifiers resolved locally, in the
corpus, outside it and not at all (the most frequent unresolved names). With --generate, also
generates references and tests into DIR, imports every reference module and runs the generated
tests (pytest's summary line). TorchLean's own files stay outside this repository: point ROOT at
a checkout."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bridge.exports import load_exports
from bridge.extract import ExtractOptions, extract
from bridge.lean.terms import DotIdent, Ident
from bridge.names_report import resolve_all
from bridge.resolve import Corpus, walk


def _positions(corpus: Corpus, root: Path) -> tuple[int, int]:
    """Identifiers whose line and column point at their name in the source, and those that do not."""
    lines: dict[str, list[str]] = {}
    ok = bad = 0
    for name, (_, m) in corpus.decls.items():
        text = lines.setdefault(m.path, (root / m.path).read_text("utf-8").split("\n"))
        for tree in corpus.resolved(name).trees():
            for n in walk(tree):
                if isinstance(n, (Ident, DotIdent)):
                    written = ("@" if isinstance(n, Ident) and n.explicit else "") + \
                        ("." if isinstance(n, DotIdent) else "") + n.name
                    if 0 < n.line <= len(text) and text[n.line - 1][n.column - 1 :].startswith(written):
                        ok += 1
                    else:
                        bad += 1
    return ok, bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path, help="a folder of .lean files")
    ap.add_argument("--generate", type=Path, metavar="DIR", help="also generate into DIR and run the tests")
    ap.add_argument("--show", type=int, default=20, metavar="N", help="list N Unparsed nodes (default 20)")
    args = ap.parse_args(argv)
    files = sorted(args.root.rglob("*.lean"))
    if not files:
        print(f"real_files: error: no .lean files under {args.root}", file=sys.stderr)
        return 2
    out = Path(tempfile.mkdtemp(prefix="tlb-real-")) / "exports"
    t0 = time.perf_counter()
    extract(ExtractOptions(root=args.root, out=out, jobs=2, cache_dir=None))
    secs = time.perf_counter() - t0
    mb = sum(f.stat().st_size for f in files) / 1e6
    print(f"{len(files)} files, {mb:.2f} MB (largest {max(f.stat().st_size for f in files) / 1e3:.0f} KB); "
          f"cold extraction --jobs 2: {secs:.1f} s")
    index, modules = load_exports(out)
    diags = [d for m in modules for d in m.diagnostics]
    print(f"declarations {sum(len(m.declarations) for m in modules)}, diagnostics {len(diags)}")
    for d in diags[: args.show]:
        print(f"  {d.path}:{d.line}:{d.column}: {d.message}")
    corpus = Corpus(modules, Path(index.root))
    report = resolve_all(corpus, jobs=2)
    placed, misplaced = _positions(corpus, args.root)
    print(f"identifier positions: {placed} where written, {misplaced} not (notation such as |x| for abs)")
    print(f"Unparsed nodes {len(report.unparsed)}")
    for p in report.unparsed[: args.show]:
        print(f"  {p.declaration}: {p.text}")
    total = report.identifiers or 1
    print("identifiers: " + ", ".join(f"{k} {100 * v / total:.1f} %" for k, v in report.statuses.most_common()))
    print("most frequent unresolved: " + ", ".join(f"{n} ({c})" for n, c in report.frequent_unresolved(10)))
    if args.generate:
        t0 = time.perf_counter()
        gen = subprocess.run([sys.executable, "-m", "bridge.cli", "generate", "--exports", str(out), "--out",
                              str(args.generate)], check=False, capture_output=True, text=True)
        secs = time.perf_counter() - t0
        said = (gen.stdout + gen.stderr).strip()
        print(f"generate ({secs:.1f} s, the process included): {said.splitlines()[-1] if said else ''}")
        sys.path.insert(0, str(args.generate))
        refs = sorted(p.stem for p in args.generate.glob("ref_*.py"))
        failed = []
        for m in refs:
            try:
                importlib.import_module(m)
            except Exception as exc:  # noqa: BLE001 - reported, the run goes on
                failed.append(f"{m}: {type(exc).__name__}: {exc}")
        print(f"reference modules {len(refs)}, failing to import {len(failed)}")
        for f in failed[: args.show]:
            print(f"  {f}")
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
                              str(args.generate)], check=False, capture_output=True, text=True)
        lines = run.stdout.strip().splitlines()
        print("generated tests: " + (lines[-1] if lines else run.stderr.strip()[-300:]))
        for line in lines:
            if line.startswith(("SKIPPED", "FAILED")):
                print("  " + line[:200])
    return 0


if __name__ == "__main__":
    sys.exit(main())
