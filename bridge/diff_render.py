"""Rendering an `ExportDiff` as text (terminal), Markdown (PR comments) or JSON (tools)."""

from __future__ import annotations

import difflib
from typing import Literal

from bridge.diff import CHANGE_LABELS, DeclChange, ExportDiff, ModuleChange

Format = Literal["text", "markdown", "json"]


def summary(d: ExportDiff) -> str:
    counts = d.counts()
    parts = [f"{n} {CHANGE_LABELS[k]}" for k, n in counts.items()]
    mods = f"{d.modules_compared} modules compared, {d.modules_compared - d.modules_unchanged} changed"
    total = sum(counts.values())
    return f"{mods}; {total} declaration change{'s' if total != 1 else ''}" + (f": {', '.join(parts)}" if parts else "")


def detail(c: DeclChange) -> str:
    """What else is worth saying about a change, in a few words."""
    bits = []
    if c.change == "renamed":
        if c.old_name and c.old_name != c.name:
            bits.append(f"from {c.old_name}")
        if c.old_module:
            bits.append(f"from module {c.old_module}")
        also = [a for a in c.aspects if a not in ("name", "module")]
        if also:
            bits.append(f"{' and '.join(also)} changed too")
        if c.similarity is not None and c.similarity < 1.0:
            bits.append(f"matched by similarity {c.similarity:.2f}")
    else:
        also = [a for a in c.aspects if a not in ("order",) and CHANGE_LABELS[c.change].split()[0] != a]
        if c.change == "doc_only":
            also = []
        if also:
            bits.append(f"also {', '.join(also)}")
        if "order" in c.aspects and c.change != "moved":
            bits.append("also moved")
    if c.change == "moved" and c.old_line is not None:
        bits.append(f"was line {c.old_line}")
    if c.opens_added or c.opens_removed:
        bits.append(", ".join([f"now {t}" for t in c.opens_added] + [f"no longer {t}" for t in c.opens_removed]))
    if c.via_renames:
        bits.append(f"only through renames: {', '.join(c.via_renames)}")
    return "; ".join(bits)


def _header(d: ExportDiff) -> list[str]:
    lines = [f"{d.old.label} → {d.new.label}"]
    if d.old.lean_toolchain != d.new.lean_toolchain:
        lines.append(f"lean-toolchain: {d.old.lean_toolchain} → {d.new.lean_toolchain}")
    lines.append(summary(d))
    return lines


def _module_line(m: ModuleChange) -> str:
    if m.change == "renamed":
        return f"module renamed: {m.old_module} → {m.module} ({m.path})"
    if m.change == "docs_changed":
        return f"module docs changed: {m.module}"
    return f"module {m.change}: {m.module} ({m.path})"


def doc_delta(m: ModuleChange) -> list[str]:
    """The changed lines of module docs, `-`/`+` prefixed (no context)."""
    a = [x for t in m.docs_before for x in t.splitlines()]
    b = [x for t in m.docs_after for x in t.splitlines()]
    return [x for x in difflib.unified_diff(a, b, lineterm="", n=0) if x[:1] in "-+" and x[:3] not in ("---", "+++")]


def render_text(d: ExportDiff) -> str:
    out = _header(d)
    if d.empty:
        out.append("no changes")
        return "\n".join(out) + "\n"
    for m in d.modules:
        out.append(_module_line(m))
        if m.change == "docs_changed":
            out += [f"    {x}" for x in doc_delta(m)]
    width = max((len(CHANGE_LABELS[c.change]) for c in d.declarations), default=0)
    module = None
    for c in d.declarations:
        if c.module != module:
            module = c.module
            out.append(f"\n{module}")
        where = f"  L{c.line}" if c.line else ""
        more = detail(c)
        out.append(f"  {CHANGE_LABELS[c.change]:<{width}}  {c.name}{where}" + (f"  ({more})" if more else ""))
        if c.statement_before is not None:
            out.append(f"      before: {c.statement_before}")
            out.append(f"      after:  {c.statement_after}")
    return "\n".join(out) + "\n"


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|")


def render_markdown(d: ExportDiff) -> str:
    old, new = d.old.label, d.new.label
    out = [f"### TorchLean changes: `{old}` → `{new}`", ""]
    if d.old.lean_toolchain != d.new.lean_toolchain:
        out += [f"lean-toolchain: `{d.old.lean_toolchain}` → `{d.new.lean_toolchain}`", ""]
    out += [summary(d), ""]
    if d.empty:
        return "\n".join(out + ["No changes."]) + "\n"
    if d.modules:
        out += [f"- {_md_escape(_module_line(m))}" for m in d.modules] + [""]
    if d.declarations:
        out += ["| change | declaration | module | line | details |", "|---|---|---|---|---|"]
        for c in d.declarations:
            out.append(f"| {CHANGE_LABELS[c.change]} | `{c.name}` | `{c.module}` | {c.line or ''} | "
                       f"{_md_escape(detail(c))} |")
        stmts = [c for c in d.declarations if c.statement_before is not None]
        if stmts:
            out += ["", "#### Statements", ""]
            for c in stmts:
                out += [f"`{c.name}`", "", "```lean", f"-- before: {c.old_name or c.name}",
                        c.statement_before or "", f"-- after: {c.name}", c.statement_after or "", "```", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def render(d: ExportDiff, fmt: Format = "text") -> str:
    if fmt == "json":
        return d.model_dump_json(indent=2) + "\n"
    if fmt == "markdown":
        return render_markdown(d)
    return render_text(d)
