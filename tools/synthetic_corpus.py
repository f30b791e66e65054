"""Build a TorchLean-sized synthetic Lean corpus from our own fixtures.

Each synthetic file concatenates fixture files (ours, never TorchLean's) under a
unique header so that every file has distinct
content (no cache sharing between them). Defaults match TorchLean's size:
1,300 files, about 13 MB.

The fixtures repeat, and with them their declarations' names (306 distinct in the
whole corpus) and texts. `--groups G` spreads the files over G groups and renames
the namespaces our TorchLean-API fixtures declare (`Spec`, `Proofs`, `Optim`) per
group (`Spec` -> `Spec_g7`): G times as many distinct declarations, each group's
references resolving within the group, as in a real library of that size.

    python tools/synthetic_corpus.py /tmp/corpus --files 1300 --target-mb 13 [--groups 40]
"""

from __future__ import annotations

import argparse
import itertools
import re
import shutil
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
# adversarial files that are broken on purpose would add diagnostics to every copy
_BROKEN = {"unterminated_comment.lean", "unterminated_string.lean", "not_utf8.lean", "malformed.lean", "empty.lean"}


# the root namespaces of our TorchLean-API fixtures, as identifiers (not after a dot: `Foo.Spec`
# is no root; not inside «»)
_ROOTS = re.compile(r"(?<![.\w«])(Spec|Proofs|Optim)(?![\w'»])")


def _pieces() -> list[str]:
    out = []
    for f in sorted(FIXTURES.rglob("*.lean")):
        if f.name in _BROKEN or "blueprint" in f.parts:
            continue
        text = f.read_text(encoding="utf-8")
        # headers are only legal at the top of a file; inside a concatenation they go
        text = re.sub(r"(?m)^(module|prelude|(public )?(meta )?import .*)$", "", text)
        out.append(text)
    return out


def build(out: Path, files: int = 1300, target_mb: float = 13.0, groups: int = 0) -> tuple[int, int]:
    """Write the corpus; return (files, bytes). `groups` > 0: file i belongs to group i % groups,
    whose copies of the fixtures declare their own names (see the module docstring)."""
    if out.exists():
        shutil.rmtree(out)
    pieces = _pieces()
    versions = [[_ROOTS.sub(rf"\1_g{g}", p) for p in pieces] for g in range(groups)] or [pieces]
    per_file = int(target_mb * 1_000_000 / files)
    # one pass through the pieces per group (all of them in every group), or one for all files
    cycles = [itertools.cycle(range(len(pieces))) for _ in versions]
    total = 0
    for i in range(files):
        chunks = [f"/- synthetic file {i}, built by tools/synthetic_corpus.py from our fixtures -/\n"]
        size = len(chunks[0])
        own, cycle = versions[i % len(versions)], cycles[i % len(versions)]
        while size < per_file:
            # plain concatenation: a piece may leave a section open (legal at the end of a
            # file), so wrapping pieces in namespaces of our own would mismatch their `end`s
            piece = f"{own[next(cycle)]}\n"
            chunks.append(piece)
            size += len(piece.encode("utf-8"))
        path = out / "NN" / f"Group{i % 40:02d}" / f"File{i:04d}.lean"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = "".join(chunks)
        path.write_text(data, encoding="utf-8")
        total += len(data.encode("utf-8"))
    return files, total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--files", type=int, default=1300)
    ap.add_argument("--target-mb", type=float, default=13.0)
    ap.add_argument("--groups", type=int, default=0, help="rename the fixtures' namespaces per group of files")
    args = ap.parse_args()
    n, size = build(args.out, args.files, args.target_mb, args.groups)
    print(f"{n} files, {size / 1e6:.1f} MB under {args.out}")


if __name__ == "__main__":
    main()
