"""Expected deviations: a plain file, like array-api-tests' xfails.

One entry per line: `SPEC  BINDING/IMPLEMENTATION  DEVICE  DTYPE  [CLASS]  | reason | link`; fields
may use shell globs (`*`); a line starting with `#` is a comment. CLASS (optional, default `*`: every
class, as before) names the value classes of elements the entry excuses, comma-separated
(`underflow`, `edge,underflow`; see `bridge.check.VALUE_CLASSES`, docs/VERDICTS.md). A row's
elements are judged per class; a row violates in a class if any element of that class does.

A row whose violating classes are all excused by matching entries is reported `expected` and does
not fail the run; a violating class that no entry excuses makes the row `unexpected` (e.g. a wrong
lr on `regular` elements of a row whose `underflow` class is expected); a matching row that no
longer violates is reported `fixed` (remove the entry), and an entry matching a row none of whose
excused classes violates any more is listed in the row's `fixed_entries`. A row without a class
breakdown (an error, a spec dividing by zero, an autograd row) needs an entry with CLASS `*`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from bridge.check import VALUE_CLASSES

DEFAULT_EXPECTED = Path(__file__).with_name("expected_deviations.txt")


class ExpectedError(Exception):
    pass


@dataclass(frozen=True)
class Entry:
    spec: str
    runtime: str
    device: str
    dtype: str
    reason: str
    link: str
    line: int
    value_class: str = "*"  # comma-separated globs over bridge.check.VALUE_CLASSES

    def covers(self, value_class: str | None) -> bool:
        """Whether the entry excuses a violation in `value_class` (None: the row judged whole)."""
        pats = [c.strip() for c in self.value_class.split(",") if c.strip()]
        if value_class is None:
            return "*" in pats
        return any(fnmatchcase(value_class, c) for c in pats)

    def label(self) -> str:
        return f"line {self.line}" + ("" if self.value_class == "*" else f" [{self.value_class}]")

    def matches(self, row: Any) -> bool:
        return (fnmatchcase(row.spec, self.spec) and fnmatchcase(f"{row.binding}/{row.implementation}", self.runtime)
                and fnmatchcase(row.device, self.device) and fnmatchcase(row.dtype, self.dtype))


def load_expected(path: Path | None) -> list[Entry]:
    if path is None:
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExpectedError(f"{path}: cannot read expected deviations: {exc}") from None
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = "" if raw.lstrip().startswith("#") else raw.strip()  # links keep their #L anchors
        if not line:
            continue
        head, _, rest = line.partition("|")
        # the link is the last field: a reason may itself contain `|` (`|g| < 2**-1022`)
        reason, _, link = rest.rpartition("|") if "|" in rest else (rest, "", "")
        fields = head.split()
        if len(fields) not in (4, 5) or not reason.strip():
            raise ExpectedError(f"{path}:{n}: want `SPEC BINDING/IMPL DEVICE DTYPE [CLASS] | reason | link`")
        cls = fields[4] if len(fields) == 5 else "*"
        bad = [c for c in cls.split(",") if not c or not any(fnmatchcase(k, c) for k in VALUE_CLASSES)]
        if bad:
            raise ExpectedError(f"{path}:{n}: unknown value class {bad[0]!r} (use {', '.join(VALUE_CLASSES)} or *)")
        out.append(Entry(fields[0], fields[1], fields[2], fields[3], reason.strip(), link.strip(), n, cls))
    return out


def classify(rows: list[Any], entries: list[Entry]) -> None:
    """Set `status`, `reason`, `link` and `fixed_entries` on every row, class by class."""
    for row in rows:
        hits = [e for e in entries if e.matches(row)]
        if row.verdict == "error" and "not supported" in row.error:
            row.status = "unsupported"  # the runtime refuses this configuration itself (e.g. tensor lr)
            continue
        classes: dict[str, Any] = getattr(row, "classes", None) or {}
        if row.verdict not in ("violation", "error"):
            bad: list[str | None] = []
        elif classes and row.verdict == "violation":
            bad = [k for k, d in classes.items() if d["verdict"] == "violation"]
        else:
            bad = [None]  # judged whole
        used = [e for e in hits if any(e.covers(k) for k in bad)]
        open_ = [k for k in bad if not any(e.covers(k) for e in hits)]
        if hasattr(row, "fixed_entries"):
            row.fixed_entries = [e.label() for e in hits if e not in used]
        if open_:
            row.status = "unexpected"
            names = ", ".join(k or "the whole row" for k in open_)
            row.reason = f"violation in {names} not covered by an expected entry" + (
                f" (expected: {'; '.join(e.reason for e in used)})" if used else "")
            row.link = used[0].link if used else ""
        elif bad:
            row.status = "expected"
            row.reason = "; ".join(dict.fromkeys(e.reason for e in used))
            row.link = used[0].link
        elif hits:
            row.reason, row.link = hits[0].reason, hits[0].link
            row.status = "fixed"
        else:
            row.status = "ok"
