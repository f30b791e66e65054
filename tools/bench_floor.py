"""What any Python reader must pay to extract the synthetic corpus: the floor under the
>= 10 MB/s cold-extraction target (README "Numbers").

Each step below is work that every reader written in Python (with this project's libraries)
has to do to produce the export the schema asks for, done here in its cheapest form, with no
parsing logic at all. Their sum, spread perfectly over --jobs cores, is a lower bound on cold
extraction; the target's budget is size / 10 MB/s.

  read     read and decode every file
  scan     one regex pass that finds comment and string delimiters only (a reader must also
           find the command keywords, not counted here: an alternation of ~90 words costs several
           times more); tokenizing every byte with the lexer's regex (`lex`) is shown beside it,
           not counted
  headers  split each declaration's name, binders and type text at brackets and colons (one
           regex) and at whitespace; bodies and proofs skipped
  records  build each exported declaration record as a fresh dict with the same fields
  hashes   the three SHA-256 hashes of each declaration (statement, value, doc)
  json     serialize each module (compact; the written form is indented, shown beside it)
  write    write each module file atomically (temp file + rename)

Each step runs in this one process, --repeat times, median taken.

    python tools/bench_floor.py [--files 1300] [--target-mb 13] [--jobs 2] [--repeat 3] [--root DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic_core

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_corpus import build

from bridge.extract import ExtractOptions, extract
from bridge.lean import lexer

# Comment and string delimiters only: finding the command keywords too (an alternation of ~90
# words) costs several times more in Python's `re`, so the floor leaves it out.
_SCAN = re.compile(r"/-|-/|--|\"")
# What splits a header into binders and type: brackets and colons (names come from str.split).
_HEADER = re.compile(r"[()\[\]{}⦃⦄]|:=?")


def _median(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=1300)
    ap.add_argument("--target-mb", type=float, default=13.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--root", type=Path, help="measure this folder of .lean files instead of the synthetic corpus")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="tlb-floor-"))
    try:
        corpus = args.root or work / "corpus"
        if args.root is None:
            build(corpus, args.files, args.target_mb)
        paths = sorted(corpus.rglob("*.lean"))
        size = sum(p.stat().st_size for p in paths)
        t0 = time.perf_counter()
        extract(ExtractOptions(root=corpus, out=work / "out", jobs=args.jobs, cache_dir=None))
        actual = time.perf_counter() - t0
        mods: list[dict[str, Any]] = [
            pydantic_core.from_json(p.read_bytes()) for p in sorted((work / "out").glob("*.json"))
            if p.name != "index.json" and not p.name.startswith(".")
        ]
        decls = [d for m in mods for d in m["declarations"]]
        texts = [p.read_bytes().decode("utf-8") for p in paths]
        headers = [" ".join([d["name"], *(b["type"] or "" for b in d["binders"]), d["type"] or ""]) for d in decls]
        hashed = [(d["type"] or "", d["value"] or "", d["docstring"] or "") for d in decls]
        sha = hashlib.sha256

        def read() -> None:
            for p in paths:
                p.read_bytes().decode("utf-8")

        def scan() -> None:
            for t in texts:
                for _ in _SCAN.finditer(t):
                    pass

        def lex() -> None:
            for t in texts:
                lexer._MASTER.findall(t)

        def header() -> None:
            for h in headers:
                _HEADER.findall(h)
                h.split()

        def records() -> None:
            for d in decls:
                r = {k: v for k, v in d.items()}
                r["range"] = {k: v for k, v in d["range"].items()}
                r["hashes"] = {k: v for k, v in d["hashes"].items()}
                r["binders"] = [{k: v for k, v in b.items()} for b in d["binders"]]

        def hashes() -> None:
            for a, b, c in hashed:
                sha(a.encode()).hexdigest()
                sha(b.encode()).hexdigest()
                sha(c.encode()).hexdigest()

        def json_compact() -> None:
            for m in mods:
                pydantic_core.to_json(m)

        def json_indented() -> None:
            for m in mods:
                pydantic_core.to_json(m, indent=1)

        blobs = [pydantic_core.to_json(m) for m in mods]
        dest = work / "write"
        dest.mkdir()

        def write() -> None:
            for k, b in enumerate(blobs):
                tmp = dest / f".{k}.tmp"
                tmp.write_bytes(b)
                os.replace(tmp, dest / f"{k}.json")

        steps = [("read", read), ("scan", scan), ("headers", header), ("records", records),
                 ("hashes", hashes), ("json", json_compact), ("write", write)]
        aside = [("lex (every byte, not counted)", lex), ("json indented (not counted)", json_indented)]
        got = {name: _median(fn, args.repeat) for name, fn in steps + aside}
        floor = sum(got[name] for name, _ in steps)
        budget = size / 1e6 / 10.0
        print(f"corpus: {len(paths)} files, {size / 1e6:.1f} MB, {len(decls)} declarations; "
              f"medians of {args.repeat}, one core")
        print("| step | core-seconds |")
        print("|---|---|")
        for name, _ in steps + aside:
            print(f"| {name} | {got[name]:.2f} |")
        print(f"floor: {floor:.2f} core-s = {floor / args.jobs:.2f} s on {args.jobs} cores, perfectly split "
              f"(the reader itself, --jobs {args.jobs}: {actual:.2f} s)")
        print(f"budget at 10 MB/s: {budget:.2f} s; left for all parsing: "
              f"{budget * args.jobs - floor:.2f} core-s = {1e6 * (budget * args.jobs - floor) / max(len(decls), 1):.1f} "
              f"us per declaration")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
