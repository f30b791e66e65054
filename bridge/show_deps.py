"""`torchlean-bridge show` and `deps`: one declaration, and what it depends on."""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path

from bridge.exports import ExportError, spanless_note
from bridge.resolve import Corpus, DepGraph

EXIT_OK, EXIT_FAIL = 0, 1


def _err(cmd: str, msg: str) -> int:
    print(f"torchlean-bridge {cmd}: error: {msg}", file=sys.stderr)
    return EXIT_FAIL


def _lookup(cmd: str, exports: Path, name: str) -> tuple[Corpus, str] | int:
    try:
        corpus = Corpus.load(exports)
    except ExportError as exc:
        return _err(cmd, str(exc))
    note = spanless_note((m.schema_version for m in corpus.modules), exports)
    if note:
        print(note, file=sys.stderr)
    found = corpus.find(name)
    if len(found) == 1:
        return corpus, found[0]
    if not found:
        last = name.rsplit(".", 1)[-1]
        near = sorted(n for n in corpus.decls if n.rsplit(".", 1)[-1] == last)[:10]
        if not near:  # a typo or a partial name: the closest last components
            by_last: dict[str, list[str]] = {}
            for n in corpus.decls:
                by_last.setdefault(n.rsplit(".", 1)[-1], []).append(n)
            close = difflib.get_close_matches(last, list(by_last), n=5, cutoff=0.6)
            near = sorted(x for c in close for x in by_last[c])[:10]
        hint = f"; did you mean: {', '.join(near)}" if near else ""
        return _err(cmd, f"no declaration named '{name}' in {exports}{hint}")
    shown = ", ".join(found[:10]) + (f", ... ({len(found)} in all)" if len(found) > 10 else "")
    return _err(cmd, f"'{name}' is ambiguous: {shown}")


def show(name: str, exports: Path) -> int:
    got = _lookup("show", exports, name)
    if isinstance(got, int):
        return got
    corpus, full = got
    d = corpus.decl(full)
    assert d is not None
    m = corpus.module_of(full)
    out = print
    out(f"{d.kind} {full}")
    out(f"  module: {m.module if m else '?'} ({m.path if m else '?'}:{d.name_line})")
    if d.modifiers or d.attributes:
        out(f"  modifiers: {' '.join(d.modifiers)}  attributes: {', '.join(d.attributes)}".rstrip())
    for b in d.binders:
        o, c = {"explicit": ("(", ")"), "implicit": ("{", "}"), "strict_implicit": ("⦃", "⦄"), "instance": ("[", "]")}[b.info]
        inner = " ".join(b.names) + (" : " if b.names and b.type else "") + (b.type or "")
        note = "   (section variable)" if b.from_variable else ""
        out(f"  binder {o}{inner}{c}{note}")
    if d.type:
        out(f"  statement: {d.type}")
    if d.docstring:
        out("  doc: " + d.docstring.replace("\n", "\n       "))
    if d.doc_url:
        out(f"  doc url: {d.doc_url}")
    if d.source_url:
        out(f"  source: {d.source_url}")
    corpus_names, ext, unres = corpus.constants(full)
    out(f"  uses ({len(corpus_names)} in corpus):")
    for n in corpus_names:
        out(f"    {n}")
    if ext:
        out(f"  external: {', '.join(ext)}")
    if unres:
        out(f"  unresolved: {', '.join(unres)}")
    return EXIT_OK


def deps(name: str, exports: Path, depth: int | None = None, fmt: str = "text") -> int:
    got = _lookup("deps", exports, name)
    if isinstance(got, int):
        return got
    corpus, full = got
    g = corpus.deps(full, depth)
    if fmt == "json":
        print(json.dumps(_as_json(g), indent=2, ensure_ascii=False))
    elif fmt == "dot":
        print(_as_dot(g))
    else:
        print(_as_text(g))
    return EXIT_OK


def _externals(g: DepGraph) -> list[str]:
    return sorted({e for es in g.external.values() for e in es})


def _as_json(g: DepGraph) -> dict:
    return {
        "root": g.root,
        "corpus": sorted(g.corpus),
        "external": _externals(g),
        "unresolved": sorted({u for us in g.unresolved.values() for u in us}),
        "edges": {k: v for k, v in sorted(g.corpus.items())},
        "external_edges": {k: v for k, v in sorted(g.external.items()) if v},
    }


def _as_text(g: DepGraph) -> str:
    lines = [f"{g.root}: {len(g.corpus) - 1} corpus dependencies, {len(_externals(g))} external"]
    for n in sorted(g.corpus):
        if n != g.root:
            lines.append(f"  {n}")
    ext = _externals(g)
    if ext:
        lines.append("external (outside the corpus):")
        lines.extend(f"  {e}" for e in ext)
    unres = sorted({u for us in g.unresolved.values() for u in us})
    if unres:
        lines.append("unresolved:")
        lines.extend(f"  {u}" for u in unres)
    return "\n".join(lines)


def _as_dot(g: DepGraph) -> str:
    lines = ["digraph deps {", "  rankdir=LR;", '  node [shape=box, fontname="monospace"];']
    for src, dsts in sorted(g.corpus.items()):
        for d in dsts:
            lines.append(f"  {json.dumps(src)} -> {json.dumps(d)};")
    for src, dsts in sorted(g.external.items()):
        for d in dsts:
            lines.append(f'  {json.dumps(src)} -> {json.dumps(d)} [style=dashed];')
    for e in _externals(g):
        lines.append(f"  {json.dumps(e)} [shape=ellipse, style=dashed];")
    lines.append("}")
    return "\n".join(lines)
