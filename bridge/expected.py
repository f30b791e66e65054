"""Expected deviations: a plain file, like array-api-tests' xfails.

One entry per line: `SPEC  BINDING/IMPLEMENTATION  DEVICE  DTYPE  | reason | link`; fields may use
shell globs (`*`); a line starting with `#` is a comment. A violating row that matches is reported `expected` and
does not fail the run; a matching row that no longer violates is reported `fixed` (remove the
entry); a violating row that matches nothing is `unexpected`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

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
        reason, _, link = rest.partition("|")
        fields = head.split()
        if len(fields) != 4 or not reason.strip():
            raise ExpectedError(f"{path}:{n}: want `SPEC BINDING/IMPL DEVICE DTYPE | reason | link`")
        out.append(Entry(fields[0], fields[1], fields[2], fields[3], reason.strip(), link.strip(), n))
    return out


def classify(rows: list[Any], entries: list[Entry]) -> None:
    """Set `status`, `reason` and `link` on every row."""
    for row in rows:
        hit = next((e for e in entries if e.matches(row)), None)
        bad = row.verdict in ("violation", "error")
        if row.verdict == "error" and "not supported" in row.error:
            row.status = "unsupported"  # the runtime refuses this configuration itself (e.g. tensor lr)
            continue
        if hit:
            row.reason, row.link = hit.reason, hit.link
            row.status = "expected" if bad else "fixed"
        else:
            row.status = "unexpected" if bad else "ok"
