"""Benchmark extraction on a synthetic TorchLean-sized corpus (README figures).

Phases, each repeated --repeat times in this one run, medians reported:
  cold   fresh output folder, empty cache, --jobs N: every file lexed and parsed
  cache  fresh output folder, warm cache: parse results come from the cache
  warm   same output folder, nothing changed: files hashed, nothing written
Peak memory is the largest resident set of this process and its workers.

    python tools/bench_extract.py [--files 1300] [--target-mb 13] [--jobs 2] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_corpus import build

from bridge.extract import ExtractOptions, extract


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=1300)
    ap.add_argument("--target-mb", type=float, default=13.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tlb-bench-"))
    try:
        corpus = work / "corpus"
        n, size = build(corpus, args.files, args.target_mb)
        cold, cached, warm = [], [], []
        decls = diags = 0
        for r in range(args.repeat):
            cache = work / f"cache{r}"
            out = work / f"out{r}"
            res = extract(ExtractOptions(root=corpus, out=out, jobs=args.jobs, cache_dir=cache))
            assert res.read == n, (res.read, n)
            cold.append(res.seconds)
            decls = sum(e.declarations for e in res.index.modules)
            diags = len(res.diagnostics)
            res = extract(ExtractOptions(root=corpus, out=work / f"out{r}b", jobs=args.jobs, cache_dir=cache))
            assert res.cached == n, (res.cached, n)
            cached.append(res.seconds)
            res = extract(ExtractOptions(root=corpus, out=out, jobs=args.jobs, cache_dir=cache))
            assert res.unchanged == n and res.written == 0, (res.unchanged, res.written, n)
            warm.append(res.seconds)
            shutil.rmtree(out)
            shutil.rmtree(work / f"out{r}b")
        peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        mb = size / 1e6
        figures = {
            "files": n,
            "megabytes": round(mb, 2),
            "declarations": decls,
            "diagnostics": diags,
            "jobs": args.jobs,
            "repeat": args.repeat,
            "cold_seconds_median": round(statistics.median(cold), 3),
            "cold_mb_per_s": round(mb / statistics.median(cold), 1),
            "cache_seconds_median": round(statistics.median(cached), 3),
            "warm_seconds_median": round(statistics.median(warm), 3),
            "warm_seconds_per_1000_files": round(statistics.median(warm) * 1000 / n, 3),
            "peak_rss_mb_main": round(peak_self, 1),
            "peak_rss_mb_worker": round(peak_children, 1),
        }
        if args.json:
            print(json.dumps(figures, indent=2))
        else:
            print(f"corpus: {n} files, {mb:.1f} MB, {decls} declarations, {diags} diagnostics; "
                  f"--jobs {args.jobs}, medians of {args.repeat}")
            print("| phase | median s | figure |")
            print("|---|---|---|")
            print(f"| cold (empty cache) | {figures['cold_seconds_median']} | {figures['cold_mb_per_s']} MB/s |")
            print(f"| fresh output, warm cache | {figures['cache_seconds_median']} | |")
            print(f"| warm re-run, nothing changed | {figures['warm_seconds_median']} | "
                  f"{figures['warm_seconds_per_1000_files']} s per 1,000 files |")
            print(f"| peak memory | | main {figures['peak_rss_mb_main']} MB, worker {figures['peak_rss_mb_worker']} MB |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
