"""Condense a `torchlean-bridge check` report into the verdict table the README records.

    python tools/verdict_table.py reports/cuda/check/report.json --device cuda

One line per binding × implementation, one column per dtype; a cell is the worst verdict over
the row's lr kinds (`exact` < `rounding` < `violation` < `error`), marked `*` when the
violation is an expected deviation (bridge/expected_deviations.txt) and `!` when unexpected.
Mutant rows are counted, not listed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ORDER = ["exact", "rounding", "violation", "error"]
DTYPES = ["float64", "float32", "float16", "bfloat16"]


def table(rows: list[dict], device: str) -> list[str]:
    cells: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
    for r in rows:
        if r["device"] != device or r.get("mutant") or r["status"] == "unsupported":
            continue
        key = (r["binding"], r["implementation"])
        old = cells.setdefault(key, {}).get(r["dtype"])
        mark = {"expected": "*", "unexpected": "!"}.get(r["status"], "")
        if old is None or ORDER.index(r["verdict"]) > ORDER.index(old[0]):
            cells[key][r["dtype"]] = (r["verdict"], mark)
    present = [d for d in DTYPES if any(d in c for c in cells.values())]
    out = ["| binding | implementation | " + " | ".join(present) + " |",
           "|---|---|" + "---|" * len(present)]
    for (b, impl), by_dt in cells.items():
        out.append(f"| {b} | {impl} | " + " | ".join(
            (by_dt[d][0] + by_dt[d][1]) if d in by_dt else "-" for d in present) + " |")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", type=Path, help="report.json written by torchlean-bridge check --report DIR")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    try:
        rows = json.loads(args.report.read_text("utf-8"))["rows"]
    except (OSError, ValueError, KeyError) as exc:
        print(f"verdict_table: error: {args.report}: {exc}", file=sys.stderr)
        return 2
    lines = table(rows, args.device)
    muts = [r for r in rows if r["device"] == args.device and r.get("mutant")]
    print("\n".join(lines))
    print(f"\nmutants on {args.device}: {sum(r['status'] == 'caught' for r in muts)} of {len(muts)} caught")
    return 0


if __name__ == "__main__":
    sys.exit(main())
