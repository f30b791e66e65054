"""`torchlean-bridge names`: resolve every identifier of every declaration, and say how it went.

Every binder type, statement, body and member type of the export is parsed and resolved
(`bridge.resolve`), and each identifier counted by status (`local`, `corpus`, `external`,
`unresolved`); the unresolved ones and the `Unparsed` nodes are listed with their positions. This
is what a maintainer runs after a Lean change to see what the bridge no longer understands.

Resolution is per declaration and reads the whole corpus, so `jobs` worker processes each take
contiguous shares of the declarations (a module's declarations ask for the same signatures) from
a corpus built once and inherited by `fork`; only the counts and the lists come back. Where
`fork` is not available (Windows), the work runs in this process.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from bridge.lean.terms import CHILD_FIELDS, NODE_CLASSES, DotIdent, Ident, MatchAlt, Proj, TBinder, Unparsed
from bridge.progress import bar
from bridge.resolve import Corpus

STATUSES = ("local", "corpus", "external", "unresolved")


@dataclass(frozen=True, order=True)
class Place:
    """An identifier or an `Unparsed` node, where it is written."""

    path: str
    line: int
    column: int
    declaration: str
    text: str  # the identifier as written, or the reason a piece did not parse


@dataclass
class NamesReport:
    declarations: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    unresolved: list[Place] = field(default_factory=list)
    unparsed: list[Place] = field(default_factory=list)
    seconds: float = 0.0
    jobs: int = 1

    @property
    def identifiers(self) -> int:
        return sum(self.statuses.values())

    def frequent_unresolved(self, n: int) -> list[tuple[str, int]]:
        return Counter(p.text for p in self.unresolved).most_common(n)

    def merge(self, other: NamesReport) -> None:
        self.declarations += other.declarations
        self.statuses.update(other.statuses)
        self.unresolved += other.unresolved
        self.unparsed += other.unparsed


_CORPUS: Corpus | None = None  # the corpus a forked worker inherits (set just before the fork)


def _resolve_share(names: list[str]) -> NamesReport:
    corpus = _CORPUS
    assert corpus is not None
    out = NamesReport()
    counts = out.statuses
    for name in names:
        path = corpus.decls[name][1].path
        # counted and dropped: what was scanned is freed for the next declaration's trees
        for tree in corpus.resolved(name, keep=False).trees():
            _scan(tree, counts, out, path, name)
        out.declarations += 1
    return out


def _node_fields(cls: type) -> tuple[str, ...]:
    """`cls`'s fields that can hold nodes (not its lists of names)."""
    def holds(ann: object) -> bool:
        if isinstance(ann, type):
            return ann in NODE_CLASSES
        return any(holds(a) for a in getattr(ann, "__args__", ()))
    return tuple(f for f in CHILD_FIELDS[cls] if holds(cls.model_fields[f].annotation))  # type: ignore[attr-defined]


_SCAN_FIELDS: dict[type, tuple[str, ...]] = {cls: _node_fields(cls) for cls in NODE_CLASSES}
_SHARING = frozenset({TBinder, MatchAlt})  # the parents whose children other parents may share


def _scan(tree: object, counts: Counter[str], out: NamesReport, path: str, name: str) -> None:
    """What `walk` + `uses` give, in one loop by exact class (no generator, no `Use` per
    identifier, lists opened where they are found): this runs once per node of the corpus."""
    stack = [tree]
    # A node shared by several parents is one place. Only binders and alternatives share (the
    # type of `x y : T`, the rhs of `| a | b => rhs`), so only their children are checked.
    seen: set[int] = set()
    pop, push, extend = stack.pop, stack.append, stack.extend
    fields = _SCAN_FIELDS
    while stack:
        x = pop()
        cls = x.__class__
        if cls is Ident or cls is DotIdent:
            named = cast("Ident | DotIdent", x)
            status = named.status or "unresolved"
            counts[status] += 1
            if status == "unresolved":
                out.unresolved.append(Place(path, named.line, named.column, name,
                                            named.name if cls is Ident else "." + named.name))
            continue
        if cls is Proj:
            pj = cast(Proj, x)
            if pj.status is not None and not pj.field.isdigit():
                counts[pj.status] += 1
                if pj.status == "unresolved":
                    out.unresolved.append(Place(path, pj.line, pj.column, name, "." + pj.field))
        elif cls is Unparsed:
            bad = cast(Unparsed, x)
            out.unparsed.append(Place(path, bad.line, bad.column, name, bad.reason))
            continue
        d = x.__dict__
        if cls in _SHARING:
            for f in fields[cls]:
                v = d[f]
                if v is not None:
                    if v.__class__ is list:
                        extend(v)
                    elif id(v) not in seen:
                        seen.add(id(v))
                        push(v)
            continue
        for f in fields[cls]:
            v = d[f]
            if v is not None:
                if v.__class__ is list:
                    extend(v)
                else:
                    push(v)


def _shares(names: list[str], jobs: int) -> list[list[str]]:
    """Contiguous shares, large first and ever smaller (each a fixed part of what is left), so
    that the workers finish together: declarations differ in cost by orders of magnitude, and
    the last share handed out decides when the whole is done."""
    if jobs == 1:
        return [names]
    out, start, left = [], 0, len(names)
    while left:
        size = max(min(left, 16), left // (2 * jobs))
        out.append(names[start : start + size])
        start += size
        left -= size
    return out


def resolve_all(corpus: Corpus, jobs: int = 1, on_progress: Callable[[int, int], None] | None = None) -> NamesReport:
    """Resolve every declaration of `corpus`; `jobs` processes (forked) when more than one."""
    global _CORPUS
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}")
    t0 = time.perf_counter()
    names = list(corpus.decls)
    report = NamesReport(jobs=jobs)
    _CORPUS = corpus
    try:
        shares = _shares(names, jobs)
        done = 0
        if jobs > 1 and len(shares) > 1 and "fork" in mp.get_all_start_methods():
            # what exists now (the corpus) out of the collector's reach: a worker's collections
            # would otherwise walk it all, copying each page it touches (copy-on-write)
            gc.freeze()
            with mp.get_context("fork").Pool(jobs) as pool:
                for part in pool.imap_unordered(_resolve_share, shares):
                    report.merge(part)
                    done += part.declarations
                    if on_progress:
                        on_progress(done, len(names))
        else:
            report.jobs = 1
            for share in shares:
                part = _resolve_share(share)
                report.merge(part)
                done += part.declarations
                if on_progress:
                    on_progress(done, len(names))
    finally:
        _CORPUS = None
    report.unresolved.sort()
    report.unparsed.sort()
    report.seconds = time.perf_counter() - t0
    return report


progress = bar("resolving", "declarations")


def render_text(r: NamesReport, where: str, listed: int) -> str:
    n = max(r.identifiers, 1)
    procs = f"{r.jobs} processes" if r.jobs > 1 else "1 process"
    head = (f"{where}: {r.declarations} declarations, {r.identifiers} identifiers resolved in "
            f"{r.seconds:.2f} s ({procs})")
    lines = [head]
    for s in STATUSES:
        lines.append(f"  {s:<10} {r.statuses[s]:>9}  {100 * r.statuses[s] / n:5.1f} %")
    lines.append(f"  unparsed pieces: {len(r.unparsed)}")
    if r.unresolved:
        top = ", ".join(f"{name} ({k})" for name, k in r.frequent_unresolved(10))
        lines.append(f"most frequent unresolved: {top}")
    for p in r.unresolved[:listed]:
        lines.append(f"{p.path}:{p.line}:{p.column}: unresolved: {p.text} (in {p.declaration})")
    for p in r.unparsed[:listed]:
        lines.append(f"{p.path}:{p.line}:{p.column}: unparsed: {p.text} (in {p.declaration})")
    hidden = max(0, len(r.unresolved) - listed) + max(0, len(r.unparsed) - listed)
    if hidden:
        lines.append(f"... {hidden} more (--list N, or --format json for all)")
    return "\n".join(lines)


def render_json(r: NamesReport) -> dict[str, object]:
    def places(ps: list[Place], key: str) -> list[dict[str, object]]:
        return [{"path": p.path, "line": p.line, "column": p.column, "declaration": p.declaration, key: p.text}
                for p in ps]

    return {
        "declarations": r.declarations,
        "identifiers": {s: r.statuses[s] for s in STATUSES},
        "unresolved": places(r.unresolved, "name"),
        "unparsed": places(r.unparsed, "reason"),
        "seconds": round(r.seconds, 3),
        "jobs": r.jobs,
    }
