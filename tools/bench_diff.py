"""Benchmark `diff --git` between two revisions of a TorchLean-sized tree (README figures).

Builds the synthetic corpus (tools/synthetic_corpus.py: 1,300 files, ~13 MB, our own fixture
text) as commit A, edits --changed files (one body change and one new declaration each) as
commit B, then times, each --repeat times in this one run, medians reported:
  cold   empty extraction cache: only the changed blobs are read and parsed
  warm   same cache again: nothing is parsed (the diff a CI job repeats)
  dirs   with --dirs, for comparison: `diff OLD NEW` over two full export folders

    python tools/bench_diff.py [--files 1300] [--target-mb 13] [--changed 20] [--repeat 5] [--dirs]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_corpus import build

from bridge import snapshot
from bridge.diff_render import render
from bridge.extract import ExtractOptions, extract
from bridge.snapshot import diff_export_dirs, diff_git

_ENV = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
        "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], env=_ENV, capture_output=True, text=True,
                          check=True).stdout.strip()


def _edit(path: Path, i: int) -> None:
    text = path.read_text(encoding="utf-8")
    old = "TList.sub params (TList.scale lr grads)"
    if old in text:
        text = text.replace(old, "TList.add params (TList.scale (-lr) grads)", 1)
    text += f"\n/-- Added in revision B. -/\ndef benchAdded{i} (n : Nat) : Nat := n + {i}\n"
    path.write_text(text, encoding="utf-8")


def _dirs(repo: Path, work: Path, repeat: int) -> list[float]:
    shared = work / "cache-x"
    _git(repo, "checkout", "-q", "HEAD~1")
    extract(ExtractOptions(root=repo, out=work / "ea", jobs=2, cache_dir=shared))
    _git(repo, "checkout", "-q", "main")
    extract(ExtractOptions(root=repo, out=work / "eb", jobs=2, cache_dir=shared))
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        render(diff_export_dirs(work / "ea", work / "eb"))
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=1300)
    ap.add_argument("--target-mb", type=float, default=13.0)
    ap.add_argument("--changed", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dirs", action="store_true", help="also time `diff OLD NEW` over two export folders")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tlb-bench-diff-"))
    try:
        repo = work / "repo"
        n, size = build(repo, args.files, args.target_mb)
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "A")
        files = sorted(repo.rglob("*.lean"))
        step = max(1, len(files) // args.changed)
        for i, f in enumerate(files[::step][: args.changed]):
            _edit(f, i)
        _git(repo, "commit", "-q", "-am", "B")

        parsed = 0
        real = snapshot.read_file_export

        def counting(data: bytes, rel: str):  # type: ignore[no-untyped-def]
            nonlocal parsed
            parsed += 1
            return real(data, rel)

        snapshot.read_file_export = counting  # type: ignore[assignment]
        cold, warm, dirs = [], [], []  # dirs: filled only with --dirs
        changes = parsed_cold = parsed_warm = 0
        for r in range(args.repeat):
            cache = work / f"cache{r}"
            parsed = 0
            t0 = time.perf_counter()
            d = diff_git(repo, "HEAD~1", "HEAD", cache)
            render(d)
            cold.append(time.perf_counter() - t0)
            parsed_cold, changes = parsed, len(d.declarations)
            parsed = 0
            t0 = time.perf_counter()
            render(diff_git(repo, "HEAD~1", "HEAD", cache))
            warm.append(time.perf_counter() - t0)
            parsed_warm = parsed
        if args.dirs:  # the folder-to-folder diff, for comparison (costs two full extractions)
            dirs = _dirs(repo, work, args.repeat)
        figures = {
            "files": n, "mb": round(size / 1e6, 1), "changed_files": args.changed, "declaration_changes": changes,
            "cold_s": round(statistics.median(cold), 3), "cold_parsed": parsed_cold,
            "warm_s": round(statistics.median(warm), 3), "warm_parsed": parsed_warm,
            "dirs_s": round(statistics.median(dirs), 3) if dirs else None, "repeat": args.repeat,
        }
        if args.json:
            print(json.dumps(figures))
        else:
            print(f"{n} files, {figures['mb']} MB; {args.changed} files changed, {changes} declaration changes")
            print(f"diff --git, empty cache   median {figures['cold_s']:.3f} s  ({parsed_cold} blobs parsed)")
            print(f"diff --git, warm cache    median {figures['warm_s']:.3f} s  ({parsed_warm} blobs parsed)")
            if dirs:
                print(f"diff OLD NEW (export dirs) median {figures['dirs_s']:.3f} s  (changed modules loaded)")
            print(f"medians of {args.repeat} runs in this one run")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
