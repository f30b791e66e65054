"""Benchmark parsing and resolving every statement and body of a synthetic TorchLean-sized
corpus (tools/synthetic_corpus.py: ~1,300 files / 13 MB built from our fixtures).

Extraction runs once (not timed here; see tools/bench_extract.py). Then, --repeat times in
this one run, medians reported:
  parse         parse_term on every binder type, statement and body text of the export
                (parse_term caches trees by text; repeated texts cost a copy of the tree)
  parse, cold   the same with that cache emptied before every call (terms.clear_cache): what
                a corpus without repeated texts costs per text
  load          Corpus.load's reading and validation of the export JSON (bridge.exports);
                extraction has the modules in memory already and does not pay this
  resolve       Corpus(modules) + resolved() for every declaration (parsing included, cold
                caches); declarations with the same name count once (the synthetic corpus
                repeats its fixtures within each group)
  resolve, N    the same in --jobs worker processes (`torchlean-bridge names --jobs N`:
                bridge.names_report.resolve_all, counts and failures sent back, not trees), in a
                fresh process as the command runs; building the corpus included, loading not

The synthetic corpus repeats its fixtures. Plain (`--groups 0`) it has only 306 distinct
declarations to resolve; by default its files form 130 groups, each with the fixtures'
namespaces renamed (tools/synthetic_corpus.py), for about 15,800 distinct declarations, as many
as TorchLean is estimated to have (~16,000: 6,155 in 4.9 MB of its files, scaled to 13 MB). Our
fixtures' declarations are smaller than TorchLean's, and their texts still repeat: `--root DIR`
measures a folder of real Lean files instead (a TorchLean checkout; its text stays outside this
repository), which is what a user's run costs.

    python tools/bench_terms.py [--files 1300] [--target-mb 13] [--groups 130] [--repeat 3] [--root DIR]
    python tools/bench_terms.py --names-only EXPORTS [--jobs N]
    python tools/bench_terms.py --resolve-only EXPORTS

The last two time one phase on exports extracted before (`torchlean-bridge extract`), in a fresh
process; run with PYTHONPATH set to another checkout, they time that code on the same exports.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_corpus import build

from bridge.exports import load_exports
from bridge.extract import ExtractOptions, extract
from bridge.lean import terms
from bridge.lean.terms import Unparsed, parse_term
from bridge.names_report import resolve_all
from bridge.resolve import Corpus, walk


def _names_only(out: Path, jobs: int) -> None:
    """Load the exports, then time building the corpus and `resolve_all` (JSON on stdout)."""
    index, loaded = load_exports(out)
    t0 = time.perf_counter()
    report = resolve_all(Corpus(loaded, Path(index.root)), jobs)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "identifiers": {k: v for k, v in report.statuses.items() if v},
                      "unparsed": len(report.unparsed)}))


def _resolve_only(out: Path) -> None:
    """Load the exports, then time building the corpus and `resolved()` for every declaration,
    serially, trees kept (the `resolve` phase on its own; JSON on stdout)."""
    index, loaded = load_exports(out)
    t0 = time.perf_counter()
    corpus = Corpus(loaded, Path(index.root))
    for name in corpus.decls:
        corpus.resolved(name)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "declarations": len(corpus.decls)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=1300)
    ap.add_argument("--target-mb", type=float, default=13.0)
    ap.add_argument("--groups", type=int, default=130, help="synthetic corpus: groups of files with their own names")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--root", type=Path, help="measure this folder of .lean files instead of the synthetic corpus")
    ap.add_argument("--names-only", type=Path, metavar="EXPORTS",
                    help="only time building the corpus of EXPORTS and resolving it as `names --jobs` does (JSON)")
    ap.add_argument("--resolve-only", type=Path, metavar="EXPORTS",
                    help="only time building the corpus of EXPORTS and resolving it serially, trees kept (JSON)")
    args = ap.parse_args()
    if args.resolve_only:
        _resolve_only(args.resolve_only)
        return
    if args.names_only:
        _names_only(args.names_only, args.jobs)
        return
    work = Path(tempfile.mkdtemp(prefix="tlb-bench-terms-"))
    try:
        corpus_dir, out = args.root or work / "corpus", work / "out"
        if args.root is None:
            n, size = build(corpus_dir, args.files, args.target_mb, args.groups)
        else:
            paths = list(args.root.rglob("*.lean"))
            n, size = len(paths), sum(p.stat().st_size for p in paths)
        extract(ExtractOptions(root=corpus_dir, out=out, jobs=args.jobs, cache_dir=None))
        _, modules = load_exports(out)
        texts = [t for m in modules for d in m.declarations
                 for t in [b.type for b in d.binders] + [d.type, d.value if d.value_form in ("term", "alternatives") else None]
                 if t]
        parse_s, cold_s, load_s, resolve_s, par_s = [], [], [], [], []
        stats: Counter[str] = Counter()
        decls = 0
        for _ in range(args.repeat):
            terms.clear_cache()
            t0 = time.perf_counter()
            for t in texts:
                parse_term(t)
            parse_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for t in texts:
                terms.clear_cache()
                parse_term(t)
            cold_s.append(time.perf_counter() - t0)
            terms.clear_cache()
            t0 = time.perf_counter()
            index, loaded = load_exports(out)
            load_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            c = Corpus(loaded, Path(index.root))
            for name in c.decls:
                c.resolved(name)
            resolve_s.append(time.perf_counter() - t0)
            decls = len(c.decls)
            stats = Counter()  # counted outside the timed phase (names --jobs counts inside its own)
            for name in c.decls:
                for tree in c.resolved(name).trees():
                    stats["unparsed_nodes"] += sum(isinstance(node, Unparsed) for node in walk(tree))
                for u in c.uses_of(name):
                    stats[u.status] += 1
            del c
            terms.clear_cache()
            # in a fresh process, as `torchlean-bridge names` runs: forking this one, grown by
            # the phases above, costs more (page tables, copy-on-write) than the command pays
            done = subprocess.run([sys.executable, __file__, "--names-only", str(out), "--jobs", str(args.jobs)],
                                  check=True, capture_output=True, text=True)
            got = json.loads(done.stdout)
            par_s.append(got["seconds"])
            assert got["identifiers"] == {k: v for k, v in stats.items() if k != "unparsed_nodes"}
            assert got["unparsed"] == stats["unparsed_nodes"]
        print(f"corpus: {n} files, {size / 1e6:.1f} MB, {decls} declarations, {len(texts)} texts "
              f"({sum(map(len, texts)) / 1e6:.1f} MB, {len(set(texts))} distinct); medians of {args.repeat}")
        print("| phase | median s |")
        print("|---|---|")
        print(f"| parse every binder type, statement, body | {statistics.median(parse_s):.2f} |")
        print(f"| the same, parse cache emptied before every text | {statistics.median(cold_s):.2f} |")
        print(f"| load the exports (Corpus.load: read + validate JSON) | {statistics.median(load_s):.2f} |")
        print(f"| parse + resolve every declaration (Corpus(modules)) | {statistics.median(resolve_s):.2f} "
              f"({1e3 * statistics.median(resolve_s) / max(decls, 1):.2f} ms per declaration) |")
        print(f"| parse + resolve every declaration, {args.jobs} processes (names --jobs {args.jobs}) | "
              f"{statistics.median(par_s):.2f} |")
        print(f"| load + parse + resolve (the old single phase) | "
              f"{statistics.median([a + b for a, b in zip(load_s, resolve_s)]):.2f} |")
        print("identifiers:", dict(stats))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
