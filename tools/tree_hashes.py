"""Hash every resolved declaration of an export folder, to check that a change to the parser or
the resolver meant for speed leaves the trees alone.

    python tools/tree_hashes.py EXPORTS OUT.json            # this checkout's code
    PYTHONPATH=../old python tools/tree_hashes.py EXPORTS OLD.json   # another checkout's
    python tools/tree_hashes.py --compare OLD.json OUT.json

Per declaration: a SHA-256 of its binder types, statement and body as dumped by pydantic, and one
of its member types (fields, constructors); each with positions and without (a change that only
moves positions shows as the first kind alone). `--compare` prints how many declarations differ
and exits 1 if any do.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

Json = dict[str, object] | list[object] | str | int | float | bool | None


def _strip(x: Json) -> Json:
    if isinstance(x, dict):
        return {k: _strip(v) for k, v in x.items() if k not in ("line", "column")}  # type: ignore[arg-type]
    if isinstance(x, list):
        return [_strip(v) for v in x]  # type: ignore[arg-type]
    return x


def _sha(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def hashes(exports: Path) -> dict[str, list[str]]:
    from bridge.exports import load_exports
    from bridge.resolve import Corpus

    index, modules = load_exports(exports)
    corpus = Corpus(modules, Path(index.root))
    out: dict[str, list[str]] = {}
    for name in corpus.decls:
        r = corpus.resolved(name)  # (no `keep=False`: older checkouts are hashed too)
        header: list[object] = [[b.names, b.info, b.type.model_dump() if b.type else None, b.from_variable]
                                for b in r.binders]
        header += [r.statement.model_dump() if r.statement else None, r.body.model_dump() if r.body else None]
        members = {k: v.model_dump() for k, v in r.members.items()}
        out[name] = [_sha(header), _sha(_strip(header)), _sha(members), _sha(_strip(members))]  # type: ignore[arg-type]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs=2, type=Path, metavar="PATH", help="EXPORTS OUT.json, or with --compare A.json B.json")
    ap.add_argument("--compare", action="store_true", help="compare two hash files")
    args = ap.parse_args(argv)
    if not args.compare:
        got = hashes(args.paths[0])
        args.paths[1].write_text(json.dumps(got))
        print(f"{len(got)} declarations hashed ({__import__('bridge').__file__})")
        return 0
    a, b = (json.loads(p.read_text()) for p in args.paths)
    if a.keys() != b.keys():
        print(f"different declarations: {len(a.keys() - b.keys())} only in the first, "
              f"{len(b.keys() - a.keys())} only in the second")
        return 1
    moved = [n for n in a if a[n] != b[n] and (a[n][1], a[n][3]) == (b[n][1], b[n][3])]
    changed = [n for n in a if (a[n][1], a[n][3]) != (b[n][1], b[n][3])]
    print(f"{len(a)} declarations: {len(changed)} with other trees, {len(moved)} with other positions only")
    for n in (changed + moved)[:10]:
        print("  " + n)
    return 1 if changed or moved else 0


if __name__ == "__main__":
    sys.exit(main())
