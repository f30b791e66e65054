"""What the translator knows about the corpus: declarations, structures, constructors, names.

Built from the exports alone. Name resolution prefers the `target` the resolver
(`bridge.resolve`) put on an `Ident`; when a term comes without one, `resolve_name` applies
Lean's rule for the declaration's scope (its own namespaces innermost first, then the `open`s,
then the root) against every name the corpus and the vocabulary know.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from bridge.lean.terms import Term, parse_term
from bridge.models import Declaration, ModuleExport, Scope
from bridge.resolve import Corpus, ResolvedDecl
from bridge.vocab.registry import LOOKUP

FN_KINDS = ("def", "abbrev", "instance", "opaque")
THM_KINDS = ("theorem", "lemma")
STRUCT_KINDS = ("structure", "class")


@dataclass
class StructInfo:
    full_name: str
    params: list[str]  # the structure's own parameters, in order
    fields: list[tuple[str, str | None, str | None]]  # (name, type text, default text), flattened
    owner: dict[str, str]  # field name → the structure that declares it (parents included)
    parents: dict[str, str]  # `toState` → parent full name
    decl: Declaration
    module: str


@dataclass
class DeclRef:
    decl: Declaration
    module: ModuleExport

    @property
    def scope(self) -> Scope:
        return self.module.scopes[self.decl.scope]


@dataclass
class Env:
    modules: list[ModuleExport]
    decls: dict[str, DeclRef] = field(default_factory=dict)
    ctors: dict[str, tuple[str, int]] = field(default_factory=dict)  # ctor → (inductive, explicit arity)
    field_owner: dict[str, str] = field(default_factory=dict)  # field full name → structure
    failed: dict[str, str] = field(default_factory=dict)  # defs that do not translate → why
    corpus: Corpus | None = None
    _resolved_names: dict[tuple[str, str, int, tuple[str, ...]], str | None] = field(default_factory=dict)

    @classmethod
    def build(cls, modules: list[ModuleExport], corpus: Corpus | None = None) -> Env:
        env = cls(modules, corpus=corpus)
        for m in modules:
            for d in m.declarations:
                if d.anonymous:
                    continue
                env.decls.setdefault(d.name, DeclRef(d, m))
                for c in d.constructors:
                    arity = sum(len(b.names) for b in c.binders if b.info == "explicit")
                    env.ctors[c.full_name] = (d.name, arity)
                for f in d.fields:
                    env.field_owner[f.full_name] = d.name
        return env

    @cached_property
    def known(self) -> set[str]:
        return set(self.decls) | set(self.ctors) | set(self.field_owner) | set(LOOKUP)

    @cached_property
    def namespaces(self) -> set[str]:
        """Every proper prefix of a known name."""
        out: set[str] = set()
        for n in self.known:
            parts = n.split(".")
            out.update(".".join(parts[:i]) for i in range(1, len(parts)))
        return out

    def resolve_name(self, name: str, decl: DeclRef) -> str | None:
        """Full name of a global `name` as seen from inside `decl`, or None."""
        name = name.lstrip("@").removeprefix("_root_.")
        parts = tuple(decl.decl.name.split(".")[:-1])
        key = (name, decl.module.module, decl.decl.scope, parts)
        if key not in self._resolved_names:  # declarations of one scope ask for the same names
            self._resolved_names[key] = self._resolve_name(name, list(parts), decl.scope)
        return self._resolved_names[key]

    def _resolve_name(self, name: str, parts: list[str], scope: Scope) -> str | None:
        prefixes: list[str] = []
        ns = scope.namespace.split(".") if scope.namespace else []
        for p in (parts, ns):
            for i in range(len(p), 0, -1):
                cand = ".".join(p[:i])
                if cand not in prefixes:
                    prefixes.append(cand)
        # an `open` names a namespace relative to the current ones or to those opened before it;
        # only namespaces that hold known names matter (no other can yield a candidate below),
        # and keeping the others would double the list with every `open`
        opens: list[str] = []
        namespaces = self.namespaces
        for o in scope.opens:
            if name in o.hiding or (o.only and name not in o.only):
                continue
            for base in [*prefixes, *opens, ""]:
                full = f"{base}.{o.namespace}" if base else o.namespace
                if full in namespaces and full not in opens:
                    opens.append(full)
        for cand in [*(f"{p}.{name}" for p in prefixes), *(f"{o}.{name}" for o in opens), name]:
            if cand in self.known:
                return cand
        return None

    # -- structures -------------------------------------------------------------------------
    @cached_property
    def structures(self) -> dict[str, StructInfo]:
        out: dict[str, StructInfo] = {}
        for n, r in sorted(self.decls.items()):
            if r.decl.kind in STRUCT_KINDS:
                self._build_struct(n, out)
        return out

    def _build_struct(self, name: str, out: dict[str, StructInfo]) -> StructInfo | None:
        # a method, not a recursive closure: that would be a reference cycle through this Env,
        # kept alive for good if resolution freezes it (gc.freeze) while it runs
        if name in out:
            return out[name]
        ref = self.decls.get(name)
        if ref is None or ref.decl.kind not in STRUCT_KINDS:
            return None
        d = ref.decl
        fields: list[tuple[str, str | None, str | None]] = []
        owner: dict[str, str] = {}
        parents: dict[str, str] = {}
        for ext in d.extends:
            head = ext.split()[0] if ext.split() else ext
            full = self.resolve_name(head, ref)
            pinfo = self._build_struct(full, out) if full else None
            if pinfo is not None and full is not None:
                parents["to" + full.split(".")[-1]] = full
                fields.extend(pinfo.fields)
                owner.update(pinfo.owner)
        for f in d.fields:
            if f.name in parents:  # the parent projection `toState` is no data field
                continue
            fields = [x for x in fields if x[0] != f.name]  # a redeclared default overrides
            fields.append((f.name, f.type, f.default))
            owner[f.name] = name
        params = [n for b in d.binders if not b.from_variable and b.info != "instance" for n in b.names]
        info = StructInfo(name, params, fields, owner, parents, d, ref.module.module)
        out[name] = info
        return info

    def struct_for_fields(self, names: set[str]) -> str | None:
        """The unique structure with all these fields whose fields without default are all given."""
        hits = []
        for s in self.structures.values():
            fnames = {f[0] for f in s.fields}
            given = set(names)
            for p in s.parents:
                if p in given:
                    given |= {f[0] for f in self.structures[s.parents[p]].fields}
            required = {f[0] for f in s.fields if f[2] is None}
            if names <= fnames | set(s.parents) and required <= given:
                hits.append(s.full_name)
        return hits[0] if len(hits) == 1 else None

    def term(self, text: str, line: int = 1, column: int = 1) -> Term:
        return parse_term(text, line, column)

    # -- resolved terms (bridge.resolve), with a plain parse as the fallback ------------------
    def resolved(self, name: str) -> ResolvedDecl | None:
        if self.corpus is None:
            return None
        try:
            return self.corpus.resolved(name)
        except Exception:  # noqa: BLE001 -- a resolver failure must not stop generation: parse without targets
            return None

    def binder_types(self, ref: DeclRef) -> list[Term | None]:
        r = self.resolved(ref.decl.name)
        if r is not None and len(r.binders) == len(ref.decl.binders):
            return [b.type for b in r.binders]
        return [self.term(b.type) if b.type else None for b in ref.decl.binders]

    def statement(self, ref: DeclRef) -> Term | None:
        r = self.resolved(ref.decl.name)
        if r is not None and r.statement is not None:
            return r.statement
        return self.term(ref.decl.type, ref.decl.name_line, 1) if ref.decl.type else None

    def body(self, ref: DeclRef) -> Term | None:
        r = self.resolved(ref.decl.name)
        if r is not None and r.body is not None:
            return r.body
        return self.term(ref.decl.value, ref.decl.range.start_line, 1) if ref.decl.value else None

    def field_term(self, info: StructInfo, fname: str, default: bool = False) -> Term | None:
        owner = info.owner.get(fname, info.full_name)
        r = self.resolved(owner)
        key = f"{owner}.{fname}" + (":default" if default else "")
        if r is not None and key in r.members:
            return r.members[key]
        for n, ty, dv in info.fields:
            if n == fname:
                text = dv if default else ty
                return self.term(text) if text else None
        return None
