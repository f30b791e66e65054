"""Resolve every declaration of an export folder, for counting instructions: wall clock on a
shared machine varies by tens of percent from run to run, instruction counts do not.

    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python tools/resolve_instructions.py EXPORTS [--load-only]

valgrind prints "Collected : N" at the end; the cost of resolution is N minus the same command
with --load-only (reading the exports). `--jobs N` resolves as `torchlean-bridge names --jobs N`
does (bridge.names_report.resolve_all, counting included); add `--trace-children=yes` to
valgrind to count each worker process on its own. The README's instruction counts come from this, on the
exports `tools/bench_terms.py` extracts (the synthetic corpus with its 130 groups, or `--root`).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bridge.exports import load_exports
from bridge.names_report import resolve_all
from bridge.resolve import Corpus


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("exports", type=Path)
    ap.add_argument("--load-only", action="store_true", help="read the exports and stop (the baseline)")
    ap.add_argument("--jobs", type=int, default=0, metavar="N",
                    help="resolve with names_report.resolve_all in N processes (default: the plain loop)")
    args = ap.parse_args()
    index, modules = load_exports(args.exports)
    corpus = Corpus(modules, Path(index.root))
    if args.load_only:
        pass
    elif args.jobs:
        resolve_all(corpus, args.jobs)
    else:
        for name in corpus.decls:
            corpus.resolved(name)
    print(f"{len(corpus.decls)} declarations" + ("" if args.load_only else " resolved"), flush=True)
    os._exit(0)  # skip tearing down the trees: the same for both runs, not what is measured


if __name__ == "__main__":
    main()
