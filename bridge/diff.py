"""Semantic diff of two exports: what changed, declaration by declaration.

Pure functions over the `bridge.models` export models; reading trees (export folders, git
revisions) lives in `bridge.snapshot`, rendering in `bridge.diff_render`.

Kinds of change, one per declaration (the most significant wins; `aspects` lists all):
`added`, `removed`, `renamed` (new name or module; exact when statement and body hashes
agree, else found through self-references and earlier renames, then by token similarity),
`statement_changed`, `body_changed`, `proof_changed` (the value of a theorem or lemma),
`scope_changed` (same text, but the `open`s or `export`s in force changed, so names in it may
resolve to other declarations), `attributes_changed`, `doc_only`, `moved` (order among the module's declarations changed,
nothing else). A declaration that only shifted lines because text above it changed is not a
change. Anonymous declarations (examples, unnamed instances) carry synthetic names that move
with their line, so they are matched by content, not by name.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bridge.lean.lexer import IDENT, tokenize
from bridge.models import Binder, Declaration, DeclKind, ModuleExport, OpenDirective

ChangeKind = Literal[
    "added",
    "removed",
    "renamed",
    "statement_changed",
    "body_changed",
    "proof_changed",
    "scope_changed",
    "attributes_changed",
    "doc_only",
    "moved",
]
Aspect = Literal["name", "module", "statement", "body", "proof", "scope", "attributes", "doc", "order"]
ModuleChangeKind = Literal["added", "removed", "renamed", "docs_changed"]

CHANGE_ORDER: tuple[ChangeKind, ...] = (
    "added", "removed", "renamed", "statement_changed", "body_changed", "proof_changed",
    "scope_changed", "attributes_changed", "doc_only", "moved",
)
CHANGE_LABELS: dict[str, str] = {
    "added": "added",
    "removed": "removed",
    "renamed": "renamed",
    "statement_changed": "statement changed",
    "body_changed": "body changed",
    "proof_changed": "proof changed",
    "scope_changed": "scope changed",
    "attributes_changed": "attributes changed",
    "doc_only": "doc only",
    "moved": "moved",
}
_PROOF_KINDS = ("theorem", "lemma")
# Below this token-multiset similarity two declarations are not called the same one renamed.
SIMILARITY_THRESHOLD = 0.6
# Similarity matching is quadratic; beyond this many candidate pairs it is skipped.
_MAX_SIMILARITY_PAIRS = 200_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeclChange(_Model):
    change: ChangeKind
    name: str  # after the change (before, for `removed`)
    kind: DeclKind
    module: str
    line: int | None = None
    old_name: str | None = None
    old_module: str | None = None
    old_line: int | None = None
    aspects: list[Aspect] = []
    statement_before: str | None = None
    statement_after: str | None = None
    via_renames: list[str] = []  # "Old → New": renames that alone explain the text change
    opens_added: list[str] = []  # scope changes: `open`/`export` directives now in force, as written
    opens_removed: list[str] = []  # ... and those no longer in force
    similarity: float | None = None  # renames only: 1.0 exact or up to renamed references


class ModuleChange(_Model):
    change: ModuleChangeKind
    module: str
    path: str
    old_module: str | None = None
    old_path: str | None = None
    docs_before: list[str] = []
    docs_after: list[str] = []


class Side(_Model):
    """One side of a diff: where it came from, as far as known."""

    label: str
    root: str | None = None
    git_commit: str | None = None
    lean_toolchain: str | None = None
    tool_version: str | None = None
    modules: int = 0
    declarations: int | None = None  # unknown when unchanged files were never read


class ExportDiff(_Model):
    old: Side
    new: Side
    modules_compared: int = 0
    modules_unchanged: int = 0
    modules: list[ModuleChange] = []
    declarations: list[DeclChange] = []

    def counts(self) -> dict[str, int]:
        c = Counter(d.change for d in self.declarations)
        return {k: c[k] for k in CHANGE_ORDER if c[k]}

    @property
    def empty(self) -> bool:
        return not (self.modules or self.declarations) and self.old.lean_toolchain == self.new.lean_toolchain

    def renames(self) -> dict[str, str]:
        return {d.old_name: d.name for d in self.declarations if d.change == "renamed" and d.old_name}


# ---- text helpers ------------------------------------------------------------------------------


def binder_text(b: Binder) -> str:
    inner = " ".join(b.names)
    if b.type is not None:
        inner = f"{inner} : {b.type}" if inner else b.type
    if b.default is not None:
        inner += f" := {b.default}"
    elif b.auto_param is not None:
        inner += f" := by {b.auto_param}"
    brackets = {"explicit": "()", "implicit": "{}", "strict_implicit": "⦃⦄", "instance": "[]"}[b.info]
    return f"{brackets[0]}{inner}{brackets[1]}"


def statement_text(d: Declaration) -> str:
    """Binders and type as one line, section variables included (the statement hash does too)."""
    parts = [binder_text(b) for b in d.binders]
    if d.type is not None:
        parts.append(f": {d.type}")
    return " ".join(parts)


def _value_text(d: Declaration) -> str:
    extra = [d.value or ""]
    extra += [f"{f.name} {' '.join(binder_text(b) for b in f.binders)} : {f.type} := {f.default}" for f in d.fields]
    extra += [f"{c.name} {' '.join(binder_text(b) for b in c.binders)} : {c.type}" for c in d.constructors]
    if d.termination_by:
        extra.append(f"termination_by {d.termination_by}")
    if d.decreasing_by:
        extra.append(f"decreasing_by {d.decreasing_by}")
    return "\n".join(extra)


# ---- canonical token streams (rename detection) -------------------------------------------------


@dataclass
class _Entry:
    key: str
    decl: Declaration
    module: ModuleExport
    order: int
    _toks: tuple[list[str], list[str]] | None = None

    def tokens(self) -> tuple[list[str], list[str]]:
        """Statement and value token texts, comments and layout dropped (lexed once)."""
        if self._toks is None:
            self._toks = (_lex(statement_text(self.decl)), _lex(_value_text(self.decl)))
        return self._toks


def _lex(text: str) -> list[str]:
    toks, _ = tokenize(text)
    return [("\0" if t.kind == IDENT else "") + t.text for t in toks]


def _canon(e: _Entry, comp_map: dict[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Token streams with references to the declaration itself replaced by `§self` and name
    components of already-renamed declarations mapped old → new (`comp_map`, old side only)."""
    own = e.decl.name.split(".")
    out: list[tuple[str, ...]] = []
    for toks in e.tokens():
        res: list[str] = []
        for t in toks:
            if t.startswith("\0"):
                parts = t[1:].split(".")
                if len(parts) <= len(own) and own[-len(parts):] == parts:
                    res.append("§self")
                    continue
                t = "\0" + ".".join(comp_map.get(p, p) for p in parts)
            res.append(t)
        out.append(tuple(res))
    return out[0], out[1]


def _sim(a: Counter[str], b: Counter[str]) -> float:
    inter = sum((a & b).values())
    union = sum((a | b).values())
    return inter / union if union else 1.0


# ---- the diff ------------------------------------------------------------------------------------


def _entries(modules: Sequence[ModuleExport]) -> dict[str, _Entry]:
    out: dict[str, _Entry] = {}
    seen: Counter[str] = Counter()
    for m in modules:
        for i, d in enumerate(m.declarations):
            if d.anonymous:
                base = f"\0anon:{m.module}:{d.kind}:{d.hashes.statement}:{d.hashes.value}"
            else:
                base = d.name
            seen[base] += 1  # duplicates (anonymous twins, or a corpus that redeclares) get #n
            key = base if seen[base] == 1 else f"{base}#{seen[base]}"
            out[key] = _Entry(key, d, m, i)
    return out


def _content_aspects(a: Declaration, b: Declaration) -> list[Aspect]:
    asp: list[Aspect] = []
    if a.hashes.statement != b.hashes.statement or a.kind != b.kind:
        asp.append("statement")
    if a.hashes.value != b.hashes.value:
        asp.append("proof" if b.kind in _PROOF_KINDS else "body")
    if a.attributes != b.attributes or a.modifiers != b.modifiers:
        asp.append("attributes")
    if a.hashes.doc != b.hashes.doc:
        asp.append("doc")
    return asp


def _open_text(o: OpenDirective, export: bool) -> str:
    """An `open`/`export` directive as Lean writes it (one namespace)."""
    text = ("export " if export else "open ") + ("scoped " if o.scoped else "") + o.namespace
    if o.only:
        text += " (" + " ".join(o.only) + ")"
    if o.hiding:
        text += " hiding " + " ".join(o.hiding)
    if o.renaming:
        text += " renaming " + ", ".join(f"{a} → {b}" for a, b in sorted(o.renaming.items()))
    return text


def _scope_texts(e: _Entry) -> list[str]:
    """The `open`s and `export`s in force at a declaration (its namespace is part of its name)."""
    sc = e.module.scopes[e.decl.scope] if 0 <= e.decl.scope < len(e.module.scopes) else None
    if sc is None:
        return []
    return [_open_text(o, False) for o in sc.opens] + [_open_text(o, True) for o in sc.exports]


def _scope_change(o: _Entry, n: _Entry) -> tuple[list[str], list[str]] | None:
    """(added, removed) directives when the scope in force changed, else None."""
    before, after = _scope_texts(o), _scope_texts(n)
    if before == after:
        return None
    return [t for t in after if t not in before], [t for t in before if t not in after]


def _primary(asp: Sequence[str]) -> ChangeKind:
    if "name" in asp or "module" in asp:
        return "renamed"
    for a, k in (("statement", "statement_changed"), ("body", "body_changed"), ("proof", "proof_changed"),
                 ("scope", "scope_changed"), ("attributes", "attributes_changed"), ("doc", "doc_only")):
        if a in asp:
            return k  # type: ignore[return-value]
    return "moved"


def _change(old: _Entry | None, new: _Entry | None, asp: list[Aspect], **extra: object) -> DeclChange:
    ref = new or old
    assert ref is not None
    d = ref.decl
    ch = DeclChange(
        change="added" if old is None else "removed" if new is None else _primary(asp),
        name=d.name, kind=d.kind, module=ref.module.module, line=d.name_line, aspects=asp,
    )
    if old is not None and new is not None:
        ch.old_line = old.decl.name_line
        if old.decl.name != new.decl.name:
            ch.old_name = old.decl.name
        if old.module.module != new.module.module:
            ch.old_module = old.module.module
        if "statement" in asp:
            ch.statement_before, ch.statement_after = statement_text(old.decl), statement_text(new.decl)
    for k, v in extra.items():
        setattr(ch, k, v)
    return ch


def _pair_group(olds: list[_Entry], news: list[_Entry]) -> list[tuple[_Entry, _Entry]]:
    """Pair equal-fingerprint candidates: same last name component first, then same module, then order."""
    pairs = []
    olds, news = list(olds), list(news)
    for rank in (lambda e: e.decl.name.rsplit(".", 1)[-1], lambda e: e.module.module, lambda e: ""):
        for o in list(olds):
            hit = next((n for n in news if rank(n) == rank(o)), None)
            if hit is not None:
                pairs.append((o, hit))
                olds.remove(o)
                news.remove(hit)
    return pairs


def _comp_renames(pairs: Iterable[tuple[_Entry, _Entry]]) -> dict[str, str]:
    out = {}
    for o, n in pairs:
        if o.decl.anonymous or n.decl.anonymous:
            continue
        a, b = o.decl.name.rsplit(".", 1)[-1], n.decl.name.rsplit(".", 1)[-1]
        if a != b:
            out[a] = b
    return out


def _match_renames(
    removed: dict[str, _Entry], added: dict[str, _Entry]
) -> tuple[list[tuple[_Entry, _Entry, float]], dict[str, str]]:
    """Pair removed with added declarations that are the same one under a new name or module."""
    found: list[tuple[_Entry, _Entry, float]] = []
    rem, add = dict(removed), dict(added)

    def take(pairs: list[tuple[_Entry, _Entry]], score: float) -> None:
        for o, n in pairs:
            found.append((o, n, score))
            rem.pop(o.key)
            add.pop(n.key)

    # 1. exact: same kind, same statement and body hashes
    groups: dict[tuple[str, str, str], tuple[list[_Entry], list[_Entry]]] = {}
    for e in rem.values():
        groups.setdefault((e.decl.kind, e.decl.hashes.statement, e.decl.hashes.value), ([], []))[0].append(e)
    for e in add.values():
        k = (e.decl.kind, e.decl.hashes.statement, e.decl.hashes.value)
        if k in groups:
            groups[k][1].append(e)
    for olds, news in groups.values():
        take(_pair_group(olds, news), 1.0)

    # 2. equal up to self-references and to the renames found so far; repeat while it finds more
    comp = _comp_renames((o, n) for o, n, _ in found)
    for _ in range(4):
        fp: dict[tuple[object, ...], tuple[list[_Entry], list[_Entry]]] = {}
        for e in rem.values():
            fp.setdefault((e.decl.kind, *_canon(e, comp)), ([], []))[0].append(e)
        for e in add.values():
            fk = (e.decl.kind, *_canon(e, {}))
            if fk in fp:
                fp[fk][1].append(e)
        before = len(found)
        for olds, news in fp.values():
            take(_pair_group(olds, news), 1.0)
        if len(found) == before:
            break
        comp = _comp_renames((o, n) for o, n, _ in found)

    # 3. similar: mutual best match by token multiset, same kind family, above the threshold
    fam = {"lemma": "theorem", "abbrev": "def"}
    if rem and add and len(rem) * len(add) <= _MAX_SIMILARITY_PAIRS:
        bags_o = {k: Counter(chain(*_canon(e, comp))) for k, e in rem.items()}
        bags_n = {k: Counter(chain(*_canon(e, {}))) for k, e in add.items()}
        best_o: dict[str, tuple[float, str]] = {}
        best_n: dict[str, tuple[float, str]] = {}
        for ko, eo in rem.items():
            for kn, en in add.items():
                if fam.get(eo.decl.kind, eo.decl.kind) != fam.get(en.decl.kind, en.decl.kind):
                    continue
                if eo.decl.anonymous != en.decl.anonymous:
                    continue
                s = _sim(bags_o[ko], bags_n[kn])
                if s > best_o.get(ko, (0.0, ""))[0]:
                    best_o[ko] = (s, kn)
                if s > best_n.get(kn, (0.0, ""))[0]:
                    best_n[kn] = (s, ko)
        sims = []
        for ko, (s, kn) in best_o.items():
            if s >= SIMILARITY_THRESHOLD and best_n.get(kn, (0.0, ""))[1] == ko:
                sims.append((rem[ko], add[kn], round(s, 3)))
        for o, n, s in sims:
            found.append((o, n, s))
            rem.pop(o.key)
            add.pop(n.key)
        comp = _comp_renames((o, n) for o, n, _ in found)
    return found, comp


def _moved(common: list[tuple[_Entry, _Entry]]) -> set[str]:
    """Keys whose order among the module's common declarations changed (not in the longest
    matching run): a line shift caused by edits above is not a move."""
    by_mod: dict[str, list[tuple[_Entry, _Entry]]] = {}
    for o, n in common:
        if o.module.module == n.module.module:
            by_mod.setdefault(n.module.module, []).append((o, n))
    out: set[str] = set()
    for pairs in by_mod.values():
        old_seq = [o.key for o, _ in sorted(pairs, key=lambda p: p[0].order)]
        new_seq = [o.key for o, _ in sorted(pairs, key=lambda p: p[1].order)]
        if old_seq == new_seq:
            continue
        sm = difflib.SequenceMatcher(None, old_seq, new_seq, autojunk=False)
        kept = {k for blk in sm.get_matching_blocks() for k in old_seq[blk.a : blk.a + blk.size]}
        out.update(k for k in old_seq if k not in kept)
    return out


def _via(old: _Entry, new: _Entry, comp: dict[str, str]) -> list[str]:
    """The renames that alone explain a text change of a declaration that kept its name."""
    if not comp or _canon(old, comp) != _canon(new, {}):
        return []
    used = {p for t in old.tokens()[0] + old.tokens()[1] if t.startswith("\0") for p in t[1:].split(".")}
    return [f"{a} → {b}" for a, b in sorted(comp.items()) if a in used]


def _module_changes(old: Sequence[ModuleExport], new: Sequence[ModuleExport]) -> list[ModuleChange]:
    om = {m.module: m for m in old}
    nm = {m.module: m for m in new}
    out: list[ModuleChange] = []
    gone = [m for k, m in om.items() if k not in nm]
    came = [m for k, m in nm.items() if k not in om]
    for m in came:
        twin = next((g for g in gone if g.source_sha256 and g.source_sha256 == m.source_sha256), None)
        if twin is not None:
            gone.remove(twin)
            out.append(ModuleChange(change="renamed", module=m.module, path=m.path,
                                    old_module=twin.module, old_path=twin.path))
        else:
            out.append(ModuleChange(change="added", module=m.module, path=m.path,
                                    docs_after=[d.text for d in m.module_docs]))
    for m in gone:
        out.append(ModuleChange(change="removed", module=m.module, path=m.path,
                                docs_before=[d.text for d in m.module_docs]))
    for k, n in nm.items():
        o = om.get(k)
        if o is not None:
            a, b = [d.text for d in o.module_docs], [d.text for d in n.module_docs]
            if [" ".join(x.split()) for x in a] != [" ".join(x.split()) for x in b]:
                out.append(ModuleChange(change="docs_changed", module=k, path=n.path, docs_before=a, docs_after=b))
    out.sort(key=lambda c: (c.module, c.change))
    return out


def diff_modules(
    old: Sequence[ModuleExport],
    new: Sequence[ModuleExport],
    old_side: Side | None = None,
    new_side: Side | None = None,
    unchanged: int = 0,
) -> ExportDiff:
    """The semantic diff of two sets of module exports. `unchanged` counts modules left out of
    both sides because their source is byte-identical (the git fast path)."""
    eo, en = _entries(old), _entries(new)
    common = [(eo[k], en[k]) for k in eo if k in en]
    removed = {k: e for k, e in eo.items() if k not in en}
    added = {k: e for k, e in en.items() if k not in eo}
    renames, comp = _match_renames(removed, added)
    moved = _moved(common)

    changes: list[DeclChange] = []
    for o, n in common:
        asp = _content_aspects(o.decl, n.decl)
        scope = _scope_change(o, n)
        if scope is not None:
            asp.insert(sum(a in ("statement", "body", "proof") for a in asp), "scope")
        if o.module.module != n.module.module:
            asp.insert(0, "module")
        if o.key in moved:
            asp.append("order")
        if asp:
            via = _via(o, n, comp) if ("statement" in asp or "body" in asp or "proof" in asp) else []
            extra = {} if scope is None else {"opens_added": scope[0], "opens_removed": scope[1]}
            changes.append(_change(o, n, asp, via_renames=via, **extra))
    for o, n, score in renames:
        asp = []
        co, cn = _canon(o, comp), _canon(n, {})
        if co[0] != cn[0] or o.decl.kind != n.decl.kind:
            asp.append("statement")
        if co[1] != cn[1]:
            asp.append("proof" if n.decl.kind in _PROOF_KINDS else "body")
        asp += [a for a in _content_aspects(o.decl, n.decl) if a in ("attributes", "doc")]
        if o.decl.anonymous and n.decl.anonymous:
            if o.module.module != n.module.module:
                asp.insert(0, "module")
            if asp:  # an example edited in place: a content change, not a rename
                changes.append(_change(o, n, asp))
            continue
        head: list[Aspect] = []
        if o.decl.name != n.decl.name:
            head.append("name")
        if o.module.module != n.module.module:
            head.append("module")
        changes.append(_change(o, n, head + asp, similarity=score))
    renamed_old, renamed_new = {o.key for o, _, _ in renames}, {n.key for _, n, _ in renames}
    changes += [_change(e, None, []) for k, e in removed.items() if k not in renamed_old]
    changes += [_change(None, e, []) for k, e in added.items() if k not in renamed_new]
    changes.sort(key=lambda c: (c.module, c.line or 0, c.name))
    return ExportDiff(
        old=old_side or Side(label="old", modules=len(old), declarations=len(eo)),
        new=new_side or Side(label="new", modules=len(new), declarations=len(en)),
        modules_compared=len({m.module for m in old} | {m.module for m in new}) + unchanged,
        modules_unchanged=unchanged + len(
            {(m.module, m.source_sha256) for m in old} & {(m.module, m.source_sha256) for m in new}
        ),
        modules=_module_changes(old, new),
        declarations=changes,
    )

