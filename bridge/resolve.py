"""Name resolution over a whole export: every identifier gets its fully qualified target.

`Corpus.load(exports_dir)` reads `lean_exports/`; `corpus.resolved(name)` parses the
declaration's binder types, statement and body (`bridge.lean.terms`) and fills, in the
trees, `Ident.target/status` (and `DotIdent`, `Proj`): `local | corpus | external |
unresolved`. Trees are computed on demand from the export text and cached.

Lean's rules, as far as they can be followed without elaborating:
- locals first: declaration binders (section variables included), `fun`/`∀`/`∃`/`let`
  binders, pattern variables (an unqualified pattern name that is not a constructor).
  A dotted name whose head is a local (`g.eval`) is generalized field notation: it becomes
  `Proj(Ident g, "eval")`, resolved through the local's type (`g : Graph …` →
  `…Graph.eval`) when that type is known from a binder, a constructor pattern or the
  result type of a corpus function.
- globals: inside namespace A.B (and inside the declaration's own namespace, like Lean for
  `def Graph.eval`), `x` tries `A.B.x`, `A.x`, `x`; then every `open` in force (`only`,
  `hiding`, `renaming`; an opened namespace is itself resolved against the namespace and
  earlier opens, so `open Spec` then `open Tensor` opens `Spec.Tensor`); then `export`
  aliases. `protected` names are never reached by their last component alone.
- `.ctor` (leading dot) uses the expected type where it is known (the parameter type of the
  applied corpus function or constructor, the declaration's pattern/result types), else the
  types named in the declaration's signature, else a unique corpus name.

What is external: a name not declared in the corpus is `external` (Lean core, Std, Mathlib)
unless it is *qualified by a corpus namespace* (`TList.sbu`, `Proofs.Foo.bar`: the corpus owns
that namespace, so a missing member is a real error) and not by a known outside root
(`EXTERNAL_ROOTS`); those are `unresolved`. Unqualified unknown names (`add_comm`, `funext`)
are external: without Mathlib's name table that is the only rule that does not flag every lemma.
"""

from __future__ import annotations

import gc
import re
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from bridge.exports import load_exports
from bridge.gcpause import gc_paused
from bridge.lean.term_nodes import SharedFields, Status, with_fields
from bridge.lean.terms import (
    CHILD_FIELDS,
    NODE_CLASSES,
    Alternatives,
    AnonCtor,
    App,
    Arg,
    Arrow,
    Ascription,
    BinOp,
    DotIdent,
    FieldInit,
    FunMatch,
    Ident,
    If,
    Lambda,
    Let,
    ListLit,
    Match,
    MatchAlt,
    Proj,
    Quant,
    StructInst,
    TBinder,
    Term,
    Tuple,
    copy_tree,
    make_node,
    parse_term,
    set_fields_set,
)
from bridge.models import Declaration, ModuleExport, OpenDirective, Scope, Span

# Root namespaces of Lean core, Std, Batteries and Mathlib that a corpus may extend.
EXTERNAL_ROOTS = frozenset({
    "List", "Nat", "Fin", "Int", "Bool", "Option", "Prod", "Sum", "Array", "String", "Char", "Float",
    "Float32", "UInt8", "UInt16", "UInt32", "UInt64", "USize", "Function", "Eq", "Ne", "HEq", "Iff",
    "And", "Or", "Not", "True", "False", "Decidable", "Classical", "Subtype", "Sigma", "PSigma",
    "Exists", "Unit", "PUnit", "Std", "Lean", "IO", "Real", "Rat", "Complex", "Finset", "Set",
    "Multiset", "Matrix", "Mathlib", "Quot", "Quotient", "Id", "Except", "ExceptT", "StateT",
    "ReaderT", "Thunk", "Task", "ByteArray", "FloatArray", "Vector", "Sym", "Subarray", "Range",
    "Ordering", "Empty", "PEmpty", "Inhabited", "Nonempty", "HAdd", "HMul", "HSub", "HDiv", "Add",
    "Mul", "Sub", "Div", "Neg", "Zero", "One", "Max", "Min", "Finite", "Fintype", "ENNReal", "NNReal",
    "EReal", "Filter", "MeasureTheory", "Polynomial", "LinearMap", "Module", "Submodule", "ZMod",
    "Monoid", "Group", "Ring", "Field", "Semiring", "CommRing", "BigOperators", "Topology", "Metric",
    "Tactic", "Meta", "Elab", "Syntax", "Name", "Expr", "Level", "Json", "System", "Dynamic", "Hashable",
    "HashMap", "RBMap", "Repr", "ToString", "Functor", "Monad", "Applicative", "EStateM", "ST",
    "Substring", "Nat.Linarith", "Ordinal", "Cardinal", "Equiv", "Membership", "WellFounded", "Acc",
    "PLift", "ULift", "Squash", "Setoid", "Trans", "Std.Format", "DecidableEq", "BEq", "LT", "LE",
})
# Constructors of core types that patterns use unqualified.
_CORE_CTORS = {"none": "Option.none", "some": "Option.some", "true": "Bool.true", "false": "Bool.false",
               "rfl": "rfl", "unit": "Unit.unit"}
# Names Lean generates for inductive types and structures.
_AUTO = ("rec", "recOn", "casesOn", "noConfusion", "noConfusionType", "brecOn", "below", "ibelow",
         "binductionOn", "ctorIdx", "induct", "mk", "ext", "ext_iff", "inj", "injEq", "sizeOf_spec")


# Resolution writes into trees the parser built. pydantic's `__setattr__` costs several times a
# dict store, and the resolver writes hundreds of thousands of fields over a corpus; these do what
# it does for a field of a model without `validate_assignment` (store, mark the field set; a
# shared fields set is swapped for the shared one with the name added: see SharedFields).
def _put(node: BaseModel, name: str, value: object) -> None:
    node.__dict__[name] = value
    fs = node.__pydantic_fields_set__
    if name not in fs:
        if fs.__class__ is SharedFields:
            set_fields_set(node, with_fields(fs, (name,)))  # type: ignore[arg-type]
        else:
            fs.add(name)


_MARKED = ("target", "status")


def _mark(node: BaseModel, target: str | None, status: Status | None) -> None:
    """`node.target, node.status = target, status`."""
    d = node.__dict__
    d["target"] = target
    d["status"] = status
    fs = node.__pydantic_fields_set__
    if fs.__class__ is SharedFields:
        set_fields_set(node, fs.added.get(_MARKED) or with_fields(fs, _MARKED))  # type: ignore[attr-defined]
    else:
        fs.add("target")
        fs.add("status")


@dataclass(slots=True)
class ResolvedBinder:
    names: list[str]
    info: str
    type: Term | None
    from_variable: bool = False


@dataclass(slots=True)
class ResolvedDecl:
    """A declaration with its text fields as resolved term trees."""

    name: str
    kind: str
    binders: list[ResolvedBinder]
    statement: Term | None
    body: Term | None
    members: dict[str, Term] = field(default_factory=dict)  # field / constructor types

    def trees(self) -> Iterator[Term]:
        for b in self.binders:
            if b.type is not None:
                yield b.type
        if self.statement is not None:
            yield self.statement
        if self.body is not None:
            yield self.body
        yield from self.members.values()


@dataclass(slots=True)
class _Header:
    """A declaration's binders and statement, resolved; kept from its signature (asked while
    resolving a caller) until the declaration itself is resolved, which then goes on from here."""

    binders: list[ResolvedBinder]
    statement: Term | None
    env: dict[str, str | None]  # the binders' names and type heads


@dataclass(slots=True)
class Use:
    """One identifier occurrence after resolution."""

    name: str  # as written
    target: str | None
    status: Status
    line: int
    column: int


@dataclass
class DepGraph:
    root: str
    corpus: dict[str, list[str]]  # corpus name -> corpus names it uses (within depth)
    external: dict[str, list[str]]  # corpus name -> external names it uses
    unresolved: dict[str, list[str]]


def walk(t: object) -> Iterator[BaseModel]:
    """Every node of a tree (binders, arguments and alternatives included), pre-order, once: a
    node the parser shares among parents (the rhs of `| a | b => rhs`, the type of `x y : T`)
    is one place in the source."""
    stack = [t]
    seen: set[int] = set()
    while stack:
        x = stack.pop()
        cls = x.__class__
        if cls is list:
            stack.extend(reversed(x))  # type: ignore[call-overload]
        elif cls in NODE_CLASSES:
            if id(x) in seen:
                continue
            seen.add(id(x))
            yield x  # type: ignore[misc]
            d = x.__dict__
            for name in _CHILDREN_REVERSED[cls]:
                v = d[name]
                if v.__class__ is list or v.__class__ in NODE_CLASSES:
                    stack.append(v)
        elif isinstance(x, BaseModel):  # not a term node (never in a parsed tree): every field
            yield x
            stack.extend(v for name in reversed(type(x).model_fields)
                         if isinstance(v := getattr(x, name), (BaseModel, list)))
        elif isinstance(x, list):
            stack.extend(reversed(x))


_CHILDREN_REVERSED = {cls: tuple(reversed(fields)) for cls, fields in CHILD_FIELDS.items()}


def uses(tree: object) -> Iterator[Use]:
    for n in walk(tree):
        if type(n) is Ident:
            yield Use(n.name, n.target, n.status or "unresolved", n.line, n.column)
        elif type(n) is DotIdent:  # as written: `.dim`, not a name `dim`
            yield Use("." + n.name, n.target, n.status or "unresolved", n.line, n.column)
        elif type(n) is Proj and n.status is not None and not n.field.isdigit():
            yield Use("." + n.field, n.target, n.status, n.line, n.column)


_Located = tuple[str, int, int]  # `Corpus._at`: a text to parse, the line and column it starts at


class Corpus:
    """All declarations of an export, with name lookup and resolved term trees."""

    def __init__(self, modules: list[ModuleExport], root: Path | None = None) -> None:
        # `resolved` freezes what is alive (gc.freeze); once this corpus is dropped, give it all
        # back to the collector, so that a cycle someone else had alive then is not kept forever
        weakref.finalize(self, gc.unfreeze)
        self.modules = modules
        self.root = root
        self.decls: dict[str, tuple[Declaration, ModuleExport]] = {}
        self.members: dict[str, str] = {}  # field/constructor/generated name -> owner declaration
        self.member_info: dict[str, object] = {}  # full name -> StructField | Constructor
        for m in modules:
            for d in m.declarations:
                self.decls.setdefault(d.name, (d, m))
        for name, (d, _) in list(self.decls.items()):
            for f in d.fields:
                self.members.setdefault(f.full_name, name)
                self.member_info.setdefault(f.full_name, f)
            for c in d.constructors:
                self.members.setdefault(c.full_name, name)
                self.member_info.setdefault(c.full_name, c)
            if d.kind in ("structure", "class", "inductive"):
                for a in _AUTO:
                    self.members.setdefault(f"{name}.{a}", name)
            for p in d.extends:
                head = _head_text(p)
                if head:
                    self.members.setdefault(f"{name}.to{head.split('.')[-1]}", name)
        self.names: set[str] = set(self.decls) | set(self.members)
        self.namespaces: set[str] = set()
        for n in self.names:  # every proper prefix; a prefix seen already has its own prefixes in
            ns = n.rpartition(".")[0]
            while ns and ns not in self.namespaces:
                self.namespaces.add(ns)
                ns = ns.rpartition(".")[0]
        for m in modules:
            for s in m.scopes:
                if s.namespace:
                    self.namespaces.add(s.namespace)
        self.roots = {n.split(".")[0] for n in self.names}
        self.protected = {n for n, (d, _) in self.decls.items() if "protected" in d.modifiers}
        self.by_last: dict[str, list[str]] = {}
        for n in self.names:
            self.by_last.setdefault(n.rsplit(".", 1)[-1], []).append(n)
        self._aliases = self._export_aliases()
        # every namespace that has a name or an export alias directly or further inside: `own.x`
        # is looked up only under these (most definitions have no `f.go` helpers, and building
        # and hashing `own.x` for every name of every definition was 3 % of resolving)
        self._parents: set[str] = set(self.namespaces)
        for alias in self._aliases:
            ns = alias.rpartition(".")[0]
            while ns and ns not in self._parents:
                self._parents.add(ns)
                ns = ns.rpartition(".")[0]
        self._field_cands: dict[str, list[str]] = {}  # `x.f` of unknown type: corpus members `T.f`
        self._dot_cands: dict[str, list[str]] = {}  # `.c` of unknown type: constants `T.c` of a type
        # id(a list above) -> its names' places, and each name with its type's last component
        self._cand_index: dict[int, tuple[list[str], dict[str, int], list[tuple[str, str]]]] = {}
        self._cache: dict[str, ResolvedDecl] = {}
        self._sig_cache: dict[str, tuple[list[str | None], str | None]] = {}
        self._sources: dict[str, bytes | None] = {}
        self._ctx_data: dict[int, _CtxData] = {}  # id(declaration) -> what its context is made of
        self._prefix_lists: dict[tuple[str, str], list[str]] = {}  # (own namespace, scope's) -> prefixes
        self._scope_opens: dict[tuple[int, int], list[tuple[str, OpenDirective]]] = {}  # (id(module), scope)
        self._words: dict[str, frozenset[str]] = {}  # binder type or statement -> its words
        self._headers: dict[int, _Header] = {}  # id(declaration) -> header resolved, body not yet
        self._lookups: dict[tuple[tuple[str, ...], int, int], dict[str, tuple[str | None, Status]]] = {}

    @classmethod
    def load(cls, exports_dir: Path) -> Corpus:
        index, modules = load_exports(Path(exports_dir))
        return cls(modules, Path(index.root))

    # ---- lookup ------------------------------------------------------------------------------
    def decl(self, full_name: str) -> Declaration | None:
        e = self.decls.get(full_name)
        return e[0] if e else None

    def module_of(self, full_name: str) -> ModuleExport | None:
        e = self.decls.get(full_name) or self.decls.get(self.members.get(full_name, ""))
        return e[1] if e else None

    def find(self, suffix: str) -> list[str]:
        """Declarations whose full name is `suffix` or ends in `.suffix` (sorted)."""
        if suffix in self.decls:
            return [suffix]
        tail = "." + suffix
        return sorted(n for n in self.decls if n.endswith(tail))

    def _export_aliases(self) -> dict[str, str]:
        """`export O (a b)` inside namespace N: `N.a` means `O.a` (and all of O without a list)."""
        out: dict[str, str] = {}
        for m in self.modules:
            for s in m.scopes:
                for ex in s.exports:
                    for ns in self._open_targets(ex.namespace, s.namespace, []):
                        members = ex.only or [n[len(ns) + 1:] for n in self.names if n.startswith(ns + ".")]
                        for a in members:
                            if a in ex.hiding:
                                continue
                            alias = f"{s.namespace}.{a}" if s.namespace else a
                            out.setdefault(alias, f"{ns}.{a}")
        return out

    def _exists(self, name: str) -> str | None:
        if name in self.names:
            return name
        return self._aliases.get(name)

    def _open_targets(self, ns: str, current: str, earlier: list[str]) -> list[str]:
        """The namespaces `open ns` can mean: relative to the current namespace, to namespaces
        opened before, or absolute. Unknown ones are kept as written (external)."""
        out: list[str] = []
        for p in _prefixes(current):
            cand = f"{p}.{ns}" if p else ns
            if cand in self.namespaces and cand not in out:
                out.append(cand)
        for e in earlier:
            cand = f"{e}.{ns}"
            if cand in self.namespaces and cand not in out:
                out.append(cand)
        if not out:
            out.append(ns)
        return out

    # ---- resolution context --------------------------------------------------------------------
    def context(self, d: Declaration, m: ModuleExport) -> _Ctx:
        """Where `d`'s names are looked up. What that takes is built once per declaration (field
        notation and abbreviations ask again) and kept as plain data: a cached context would
        refer back to the corpus, a cycle that `resolved`'s freeze would keep alive."""
        data = self._ctx_data.get(id(d))
        if data is None:
            data = self._ctx_data[id(d)] = self._ctx_data_of(d, m)
        return _Ctx(self, d, data)

    def _ctx_data_of(self, d: Declaration, m: ModuleExport) -> _CtxData:
        si = d.scope if 0 <= d.scope < len(m.scopes) else -1
        scope = m.scopes[si] if si >= 0 else Scope(namespace="")
        own = d.name.rsplit(".", 1)[0] if "." in d.name else ""
        # declarations of one scope and namespace share what they are made of (built once)
        prefixes = self._prefix_lists.get((own, scope.namespace))
        if prefixes is None:
            prefixes = []  # after the def's own name (a def's equations see its namespace)
            for p in _prefixes(own) + _prefixes(scope.namespace):
                if p not in prefixes:
                    prefixes.append(p)
            self._prefix_lists[own, scope.namespace] = prefixes
        if d.name in prefixes:
            prefixes = [p for p in prefixes if p != d.name]
        opens = self._scope_opens.get((id(m), si))
        if opens is None:
            opens = self._scope_opens[id(m), si] = []
            opened: list[str] = []
            for o in scope.opens:
                for ns in self._open_targets(o.namespace, scope.namespace, opened):
                    opens.append((ns, o))
                    opened.append(ns)
        # declarations with the same prefixes and scope look names up alike: they share answers
        key = (tuple(prefixes), id(m), si)
        shared = self._lookups.setdefault(key, {})
        return _CtxData(d.name if d.kind == "def" else None, prefixes, opens, shared, {}, (d, m))

    def sig_words(self, d: Declaration) -> set[str]:
        """The words of a declaration's binder types and statement (what `_prefer` prefers);
        asked for only where field notation has several candidates."""
        out: set[str] = set()
        for t in [b.type for b in d.binders if b.type] + ([d.type] if d.type else []):
            words = self._words.get(t)
            if words is None:
                words = self._words[t] = frozenset(_WORD.findall(t))
            out |= words
        return out

    def resolved(self, full_name: str, keep: bool = True) -> ResolvedDecl:
        """The declaration's binder types, statement and body as resolved trees (cached; with
        `keep=False` not kept, for a caller that reads them once: `names` counts and drops them).

        Resolving freezes what is alive (`gc.freeze`, see below) until the corpus is dropped
        (then `gc.unfreeze`): a reference cycle alive at that moment is not collected before, so
        nothing of this package keeps a cycle through a corpus or its users (tested: a dropped
        corpus, and `generate`'s, are freed)."""
        hit = self._cache.get(full_name)
        if hit is not None:
            return hit
        entry = self.decls.get(full_name)
        if entry is None:
            raise KeyError(full_name)
        # The trees are kept (cached) and hold no cycles: without the pause and freeze the
        # collector rescans every tree built so far, again and again (resolving the 6,133 real
        # declarations took about twice as long).
        with gc_paused(freeze=True):
            res = self._resolve(*entry)
        if keep:
            self._cache[full_name] = res
        return res

    def _resolve(self, d: Declaration, m: ModuleExport) -> ResolvedDecl:
        ctx = self.context(d, m)
        h = self._headers.pop(id(d), None)
        if h is None:  # no signature asked for yet: resolve the header, and keep the signature
            own = self.decls.get(d.name, (None,))[0] is d and d.name not in self.member_info
            if own:
                self._sig_cache[d.name] = ([], None)  # recursion guard, as in `signature`
            h = self._header_of(d, m)
            if own:
                self._sig_cache[d.name] = self._signature_of(ctx, h)
        binders, statement, env = h.binders, h.statement, h.env
        body = None
        members: dict[str, Term] = {}
        at = self._at
        if d.value is not None and d.value_form in ("term", "alternatives"):
            raw = parse_term(*at(m, d.value, d.value_at, d.name_line, d.name_column))
            body = ctx.body(raw, env, statement)
        fenv = dict(env)  # later fields may mention earlier ones
        for f in d.fields:
            if f.type is not None:
                members[f.full_name] = ctx.term(parse_term(*at(m, f.type, f.type_at, f.name_line, 1)), dict(fenv))
            if f.default is not None:  # of the field's type (`device : Device := .cpu`)
                members[f.full_name + ":default"] = ctx.term(parse_term(*at(m, f.default, f.default_at, f.name_line, 1)),
                                                             dict(fenv), ctx.type_head(members.get(f.full_name)))
            fenv[f.name] = None
        for c in d.constructors:
            cenv = dict(env)
            for b in c.binders:
                if b.type is not None:
                    t = ctx.term(parse_term(*at(m, b.type, b.type_at, c.name_line, 1)), cenv)
                    members[f"{c.full_name}:{','.join(b.names) or 'inst'}"] = t
                    for n in b.names:
                        cenv[n] = ctx.type_head(t)
            if c.type is not None:
                members[c.full_name] = ctx.term(parse_term(*at(m, c.type, c.type_at, c.name_line, 1)), cenv)
        return ResolvedDecl(d.name, d.kind, binders, statement, body, members)

    def _header_of(self, d: Declaration, m: ModuleExport) -> _Header:
        """Resolve the binder types, then the statement (the binders in scope)."""
        ctx = self.context(d, m)
        at, line, column = self._at, d.name_line, d.name_column
        env: dict[str, str | None] = {}
        binders: list[ResolvedBinder] = []
        for b in d.binders:
            ty = None
            if b.type is not None:
                ty = ctx.term(parse_term(*at(m, b.type, b.type_at, line, column)), env)
            head = ctx.type_head(ty) if ty is not None else None
            for n in b.names:
                env[n] = head
            binders.append(ResolvedBinder(list(b.names), b.info, ty, b.from_variable))
        statement = None
        if d.type is not None:
            statement = ctx.term(parse_term(*at(m, d.type, d.type_at, line, column)), dict(env))
        return _Header(binders, statement, env)

    def _at(self, m: ModuleExport, text: str, at: Span | None, line: int, column: int) -> _Located:
        """What to parse for a text field, and where: its verbatim slice of the source (layout
        kept, every node placed exactly) when the file is at hand and unchanged; else the text
        as exported, at `line`/`column` (the declaration's or the member's name)."""
        if at is not None:
            data = self._source(m)
            if data is not None:
                return data[at[2] : at[3]].decode("utf-8"), at[0], at[1]
        return text, line, column

    def _source(self, m: ModuleExport) -> bytes | None:
        """The module's source file as bytes (the export's ranges are byte offsets), when it is
        at hand and still what was exported; read once per module."""
        if m.path not in self._sources:
            data = None
            if self.root is not None:
                p = self.root / m.path
                try:
                    raw = p.read_bytes()
                    if _sha256(raw) == m.source_sha256:
                        raw.decode("utf-8")  # only readable UTF-8 is located in
                        data = raw
                except (OSError, UnicodeDecodeError):
                    data = None
            self._sources[m.path] = data
        return self._sources[m.path]

    # ---- signatures (for expected types and field notation) ----------------------------------
    def signature(self, full_name: str) -> tuple[list[str | None], str | None]:
        """Type heads of the explicit parameters of a corpus constant, and of its result."""
        hit = self._sig_cache.get(full_name)
        if hit is not None:
            return hit
        self._sig_cache[full_name] = ([], None)  # recursion guard
        params: list[str | None] = []
        result: str | None = None
        info = self.member_info.get(full_name)
        entry = self.decls.get(full_name)
        if info is None and entry is not None:
            # a declaration: its header, resolved once for this and for resolving it later
            d, m = entry
            h = self._headers.get(id(d))
            if h is None:
                h = self._headers[id(d)] = self._header_of(d, m)
            sig = self._sig_cache[full_name] = self._signature_of(self.context(d, m), h)
            return sig
        owner = self.decls.get(self.members.get(full_name, ""))
        src = entry or owner
        if src is not None:
            d, m = src
            ctx = self.context(d, m)
            binders = getattr(info, "binders", None) if info is not None else d.binders
            type_text = getattr(info, "type", None) if info is not None else d.type
            env: dict[str, str | None] = {}
            for b in binders or []:
                if b.from_variable and b.info == "explicit":
                    continue
                head = ctx.type_head(ctx.term(parse_term(b.type), env)) if b.type else None
                for n in b.names:
                    env[n] = head
                    if b.info == "explicit":
                        params.append(head)
            if type_text:
                result = _params_result(ctx, ctx.term(parse_term(type_text), dict(env)), params)
            elif info is not None and full_name in self.members and owner is not None:
                result = self.members[full_name]  # a constructor without a type: its inductive
        self._sig_cache[full_name] = (params, result)
        return params, result

    def param_names(self, full_name: str) -> list[str]:
        """Names of the explicit binders of a corpus constant: the first entries of its
        `signature`'s parameters, in order (what a named argument `(s := x)` can name)."""
        info = self.member_info.get(full_name)
        if info is not None:
            binders = getattr(info, "binders", None) or []
        elif full_name in self.decls:
            binders = self.decls[full_name][0].binders
        else:
            return []
        return [n for b in binders if b.info == "explicit" and not b.from_variable for n in b.names]

    def params_for(self, full_name: str, args: list[Arg]) -> tuple[list[str | None], dict[str, str | None]]:
        """The type heads of the parameters that `args`' unnamed arguments fill, in order, and of
        those its named arguments name: a named argument naming an explicit binder
        (`f (s := x) .a`) takes that one out of the positional ones."""
        params = self.signature(full_name)[0]
        for a in args:
            if a.name is not None:
                break
        else:  # no named argument (nearly every application)
            return params, {}
        given = {a.name for a in args if a.name is not None}
        names = self.param_names(full_name)
        if not given.intersection(names):
            return params, {}
        by_name = {n: params[k] for k, n in enumerate(names) if n in given and k < len(params)}
        return [p for k, p in enumerate(params) if k >= len(names) or names[k] not in given], by_name

    @staticmethod
    def _signature_of(ctx: _Ctx, h: _Header) -> tuple[list[str | None], str | None]:
        params: list[str | None] = []
        for b in h.binders:
            if b.from_variable and b.info == "explicit":
                continue  # a section variable's explicit binder is no parameter of the constant
            if b.info == "explicit":
                params.extend([ctx.type_head(b.type) if b.type is not None else None] * len(b.names))
        result = _params_result(ctx, h.statement, params) if h.statement is not None else None
        return params, result

    # ---- summaries ---------------------------------------------------------------------------
    def uses_of(self, full_name: str) -> list[Use]:
        out: list[Use] = []
        for t in self.resolved(full_name).trees():
            out.extend(uses(t))
        return out

    def constants(self, full_name: str) -> tuple[list[str], list[str], list[str]]:
        """(corpus, external, unresolved) names used by a declaration, sorted, no duplicates."""
        corpus, ext, unres = set(), set(), set()
        for u in self.uses_of(full_name):
            if u.status == "corpus" and u.target:
                corpus.add(u.target)
            elif u.status == "external":
                ext.add(u.target or u.name)
            elif u.status == "unresolved":
                unres.add(u.name)
        corpus.discard(full_name)
        return sorted(corpus), sorted(ext), sorted(unres)

    def deps(self, full_name: str, depth: int | None = None) -> DepGraph:
        """Transitive closure over corpus declarations from `full_name`, breadth first.
        Fields and constructors lead to their owning declaration as well."""
        g = DepGraph(full_name, {}, {}, {})
        frontier = [full_name]
        level = 0
        while frontier and (depth is None or level < depth):
            nxt: list[str] = []
            for name in frontier:
                if name in g.corpus:
                    continue
                owner = name if name in self.decls else self.members.get(name)
                if owner is None:
                    g.corpus[name] = []
                    continue
                corpus, ext, unres = self.constants(owner)
                if owner != name:
                    corpus = sorted(set(corpus) | {owner})
                g.corpus[name] = corpus
                g.external[name] = ext
                g.unresolved[name] = unres
                nxt.extend(c for c in corpus if c not in g.corpus)
            frontier = nxt
            level += 1
        for name in frontier:
            g.corpus.setdefault(name, [])
        return g


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


_WORD = re.compile(r"[^\s()\[\]{}→,:]+")


def _prefixes(ns: str) -> list[str]:
    """`A.B` → [`A.B`, `A`, ``]."""
    out = []
    parts = ns.split(".") if ns else []
    for k in range(len(parts), 0, -1):
        out.append(".".join(parts[:k]))
    out.append("")
    return out


_HEAD_RE = re.compile(r"[^\s(]+")


def _head_text(t: str) -> str:
    m = _HEAD_RE.match(t.strip())
    return m.group() if m else ""


@dataclass(slots=True)
class _CtxData:
    """What a declaration's names are looked up in (plain data, no reference to the corpus)."""

    own: str | None  # a def's own name: looked in first (`f.go` in the equations of `f`)
    prefixes: list[str]  # then these namespaces, innermost first
    opens: list[tuple[str, OpenDirective]]
    shared: dict[str, tuple[str | None, Status]]  # answers without `own`, shared by declarations
    memo: dict[str, tuple[str | None, Status]]  # its own answers
    held: tuple[Declaration, ModuleExport]  # kept alive: their id()s key these caches


class _Ctx:
    """Resolution of the names in one declaration."""

    __slots__ = ("_memo", "_shared", "_sig_heads", "_sig_types", "c", "decl", "opens", "own", "prefixes")

    def __init__(self, corpus: Corpus, decl: Declaration, data: _CtxData) -> None:
        self.c = corpus
        self.decl = decl
        self.own = data.own
        self.prefixes = data.prefixes
        self.opens = data.opens
        self._shared = data.shared
        self._memo = data.memo
        self._sig_heads: set[str] | None = None  # words of its binder types and statement
        self._sig_types: set[str] | None = None  # what `sig_heads` resolve to (`_prefer`)

    # ---- globals -----------------------------------------------------------------------------
    def lookup(self, name: str) -> tuple[str | None, Status]:
        """(target, status) of a global name."""
        hit = self._memo.get(name)
        if hit is None:
            hit = self._memo[name] = self._with_own(name)
        return hit

    def _with_own(self, name: str) -> tuple[str | None, Status]:
        """What `_lookup` gives with `own` in front of the prefixes, from its answer without."""
        own, c = self.own, self.c
        if own is not None and own in c._parents and not name.startswith("_root_."):
            t = c._exists(f"{own}.{name}")
            if t and self._visible(t, name):
                return t, "corpus"
        hit = self._shared.get(name)
        if hit is None:
            hit = self._shared[name] = self._lookup(name)
        if own is not None and hit[1] == "external" and not name.startswith("_root_.") and "." in name:
            # `own.Q` a corpus namespace makes `Q.x` a corpus name that is missing
            head, qual = name.split(".", 1)[0], name.rsplit(".", 1)[0]
            if head not in EXTERNAL_ROOTS and f"{own}.{qual}" in c.namespaces and \
                    own.split(".")[0] not in EXTERNAL_ROOTS:
                return None, "unresolved"
        return hit

    def _visible(self, full: str, written: str) -> bool:
        # a protected name needs at least its last namespace component written out
        return not (full in self.c.protected and "." not in written)

    def _lookup(self, name: str) -> tuple[str | None, Status]:
        if name.startswith("_root_."):
            bare = name[len("_root_."):]
            t = self.c._exists(bare)
            return (t, "corpus") if t else (bare, "external")
        c = self.c
        protected = c.protected
        for p in self.prefixes:
            t = c._exists(f"{p}.{name}" if p else name)
            if t and not (t in protected and "." not in name):  # `_visible`
                return t, "corpus"
        head = name.split(".", 1)[0]
        for ns, o in self.opens:
            if o.renaming:
                src = next((k for k, v in o.renaming.items() if v == head), None)
                if src is None:
                    continue
                t = c._exists(f"{ns}.{src}{name[len(head):]}")
                if t:
                    return t, "corpus"
                continue
            if (o.only and head not in o.only) or head in o.hiding:
                continue
            t = c._exists(f"{ns}.{name}")
            if t and self._visible(t, name):
                return t, "corpus"
        # not in the corpus: outside (core/Mathlib) unless qualified by a corpus namespace
        if "." in name and head not in EXTERNAL_ROOTS:
            qual = name.rsplit(".", 1)[0]
            for p in self.prefixes:
                full = f"{p}.{qual}" if p else qual
                if full in c.namespaces and full.split(".")[0] not in EXTERNAL_ROOTS:
                    return None, "unresolved"
            for ns, _ in self.opens:
                if f"{ns}.{qual}" in c.namespaces:
                    return None, "unresolved"
        if name in _CORE_CTORS:
            return _CORE_CTORS[name], "external"
        if "." not in name:
            ext_opens = [ns for ns, _ in self.opens if ns not in c.namespaces]
            if len(ext_opens) == 1 and name[:1].islower():
                return f"{ext_opens[0]}.{name}", "external"
        return name, "external"

    def type_head(self, t: Term | None) -> str | None:
        """Fully qualified head constant of a type term (`TList α Γ` → `…TList`)."""
        # exact classes (node classes have no subclasses): `isinstance` on a pydantic model
        # class goes through its metaclass, several times slower, and this runs per binder
        while True:
            cls = t.__class__
            if cls is App:
                t = t.fn  # type: ignore[union-attr]
            elif cls is Ascription:
                t = t.type  # type: ignore[union-attr]
            else:
                break
        if t.__class__ is Ident:
            if t.status == "local":
                return None
            if t.target:
                return t.target
            if t.status is None:
                return self.lookup(t.name)[0]
        return None

    # ---- trees -------------------------------------------------------------------------------
    def body(self, t: Term, env: dict[str, str | None], statement: Term | None) -> Term:
        """A declaration body; equation alternatives get pattern/result types from the statement."""
        if type(t) is Alternatives:
            doms: list[str | None] = []
            s = statement
            while True:
                if type(s) is Arrow:
                    doms.append(self.type_head(s.dom))
                    s = s.cod
                elif type(s) is Quant and s.quantifier in ("→", "∀"):
                    for b in s.binders:
                        doms.extend([self.type_head(b.type) if b.type else None] * max(1, len(b.names)))
                    s = s.body
                else:
                    break
            res = self.type_head(s) if s is not None else None
            self.alts(t.alts, env, doms, res)
            return t
        res = self.type_head(statement) if statement is not None else None
        return self.term(t, env, res)

    def term(self, t: Term, env: dict[str, str | None], expected: str | None = None) -> Term:
        """Resolve in place; returns the node (a dotted local name becomes a `Proj`)."""
        cls = t.__class__
        if cls is Ident:  # two nodes in five
            return self.ident(t, env)  # type: ignore[arg-type]
        if cls in _LEAVES:
            return t
        # one dict lookup by exact class (node classes have no subclasses) rather than a chain
        # of isinstance tests: this is the resolver's hottest call, once per node
        h = _TERM_BY_CLASS.get(cls)
        if h is not None:
            return h(self, t, env, expected)  # type: ignore[no-any-return]
        return self._children(t, env)

    def _ident(self, t: Ident, env: dict[str, str | None], expected: str | None) -> Term:
        return self.ident(t, env)

    def _dot_ident(self, t: DotIdent, env: dict[str, str | None], expected: str | None) -> Term:
        self.dot_ident(t, expected)
        return t

    def _app(self, t: App, env: dict[str, str | None], expected: str | None) -> Term:
        params: list[str | None] = []
        by_name: dict[str, str | None] = {}
        # `fn` and `value` are required fields, always marked set: stored without `_put`
        d = t.__dict__
        fn = d["fn"] = self.term(d["fn"], env, expected)
        tgt = _target(fn)
        if tgt and tgt in self.c.names:
            params, by_name = self.c.params_for(tgt, d["args"])
        k, n = 0, len(params)
        term = self.term
        for a in d["args"]:
            ad = a.__dict__
            name = ad["name"]
            if name is None:
                exp = params[k] if k < n else None
                k += 1
            else:
                exp = by_name.get(name)
            ad["value"] = term(ad["value"], env, exp)
        return t

    def _binding(self, t: Lambda | Quant, env: dict[str, str | None], expected: str | None) -> Term:
        inner = dict(env)
        _put(t, "binders", self.binders(t.binders, inner))
        _put(t, "body", self.term(t.body, inner))
        return t

    def _let(self, t: Let, env: dict[str, str | None], expected: str | None) -> Term:
        inner = dict(env)
        _put(t, "binders", self.binders(t.binders, inner))
        if t.type is not None:
            _put(t, "type", self.term(t.type, inner))
        if t.keyword == "let rec" and t.name:
            env = dict(env)
            env[t.name] = None
            inner[t.name] = None
        _put(t, "value", self.term(t.value, inner, self.type_head(t.type) if t.type else None))
        after = dict(env)
        if t.pattern is not None:
            _put(t, "pattern", self.pattern(t.pattern, after, None))
        if t.name:
            after[t.name] = (self.type_head(t.type) if t.type is not None
                             else self.result_head(t.value, env))
        elif t.keyword in ("have", "haveI"):
            after["this"] = None
        if t.body is not None:
            _put(t, "body", self.term(t.body, after, expected))
        return t

    def _if(self, t: If, env: dict[str, str | None], expected: str | None) -> Term:
        _put(t, "cond", self.term(t.cond, env))
        inner = dict(env)
        if t.hyp:
            inner[t.hyp] = None
        _put(t, "then", self.term(t.then, inner, expected))
        if t.else_ is not None:
            _put(t, "else_", self.term(t.else_, inner, expected))
        return t

    def _match(self, t: Match, env: dict[str, str | None], expected: str | None) -> Term:
        # the discriminants first: their types' heads are read off their resolved trees
        _put(t, "discriminants", [self.term(x, env) for x in t.discriminants])
        heads = [self.result_head(x, env) for x in t.discriminants]
        env2 = dict(env)
        for h in t.hyps:
            if h:
                env2[h] = None
        self.alts(t.alts, env2, heads, expected)
        return t

    def _fun_match(self, t: FunMatch, env: dict[str, str | None], expected: str | None) -> Term:
        self.alts(t.alts, env, [], None)
        return t

    def _alternatives(self, t: Alternatives, env: dict[str, str | None], expected: str | None) -> Term:
        self.alts(t.alts, env, [], expected)
        return t

    def _proj(self, t: Proj, env: dict[str, str | None], expected: str | None) -> Term:
        _put(t, "term", self.term(t.term, env))
        self.proj(t, self.result_head(t.term, env))
        return t

    def _binop(self, t: BinOp, env: dict[str, str | None], expected: str | None) -> Term:
        if t.op in ("<|", "$"):  # `f <| x` is `f x`: x has the type of f's next parameter
            _put(t, "lhs", self.term(t.lhs, env))
            _put(t, "rhs", self.term(t.rhs, env, self._next_param(t.lhs)))
            return t
        if t.op == "|>":  # `x |> f` is `f x`
            _put(t, "rhs", self.term(t.rhs, env))
            _put(t, "lhs", self.term(t.lhs, env, self._next_param(t.rhs)))
            return t
        if t.op not in _EQ_OPS:
            return self._children(t, env)
        # `a = b`: each side's expected type is the other's (`fill v .scalar = .scalar v`); a
        # side headed by a leading-dot name is resolved second, knowing the other's type
        lhs, rhs = t.lhs, t.rhs
        if type(lhs) is DotIdent or (type(lhs) is App and type(lhs.fn) is DotIdent):
            _put(t, "rhs", self.term(rhs, env))
            _put(t, "lhs", self.term(lhs, env, self.result_head(t.rhs, env)))
        else:
            _put(t, "lhs", self.term(lhs, env))
            _put(t, "rhs", self.term(rhs, env, self.result_head(t.lhs, env)))
        return t

    def _list(self, t: ListLit, env: dict[str, str | None], expected: str | None) -> Term:
        # the items share one type: `[OpKind.abs, .sqrt]`'s `.sqrt` is an OpKind. Items headed by
        # a leading-dot name are resolved last, knowing the type of the others.
        dotted = [type(x) is DotIdent or (type(x) is App and type(x.fn) is DotIdent) for x in t.items]
        items: list[Term] = list(t.items)
        head = None
        for k, x in enumerate(items):
            if not dotted[k]:
                items[k] = self.term(x, env)
                head = head or self.result_head(items[k], env)
        for k, x in enumerate(items):
            if dotted[k]:
                items[k] = self.term(x, env, head)
        _put(t, "items", items)
        return t

    def _struct_inst(self, t: StructInst, env: dict[str, str | None], expected: str | None) -> Term:
        if t.base is not None:
            _put(t, "base", self.term(t.base, env))
        if t.type is not None:
            _put(t, "type", self.term(t.type, env))
        owner = self.type_head(t.type) if t.type is not None else (
            self.result_head(t.base, env) if t.base is not None else expected)
        for f in t.fields:
            self.field_init(f, env, owner)
        return t

    def _next_param(self, f: Term) -> str | None:
        """The type head of the next explicit argument of a resolved function term (`f` or
        `f a b`), where its signature is known."""
        args: list[Arg] = f.args if type(f) is App else []
        k = sum(1 for a in args if a.name is None)
        tgt = _target(f.fn if type(f) is App else f)
        if tgt and tgt in self.c.names:
            params = self.c.params_for(tgt, args)[0]
            return params[k] if k < len(params) else None
        return None

    def _children(self, t: Term, env: dict[str, str | None]) -> Term:
        """Every other node: resolve each child term (binders, alternatives and field
        initialisers are resolved by their parents' rules, never here)."""
        d = t.__dict__
        for name in CHILD_FIELDS[t.__class__]:
            v = d[name]
            if v.__class__ is list:
                _put(t, name, [self.term(x, env) if x.__class__ in NODE_CLASSES else x for x in v])  # type: ignore[arg-type]
            elif v.__class__ in NODE_CLASSES and v.__class__ not in _RESOLVED_BY_PARENT:
                _put(t, name, self.term(v, env))  # type: ignore[arg-type]
        return t

    def field_init(self, f: FieldInit, env: dict[str, str | None], owner: str | None) -> None:
        inner = dict(env)
        _put(f, "binders", self.binders(f.binders, inner))
        ftype = None
        if owner:
            full = self.struct_member(owner, f.name)
            if full:
                ftype = self.c.signature(full)[1]
        _put(f, "value", self.term(f.value, inner, ftype))

    def alts(self, alts: list[MatchAlt], env: dict[str, str | None], heads: list[str | None],
             expected: str | None) -> None:
        # `| a | b => rhs`: the parser gives the alternatives one shared rhs (consecutive). Where
        # their patterns bind alike it is resolved once (a match of 15 such alternatives nested
        # in another was resolved 15 x 15 times: 11 KB visited 58,743 nodes, 1,272 distinct);
        # where they bind differently (`| .a x | .b x`, x of two types) each binding resolves its
        # own copy: resolving in place again, over the first result, is not resolving it.
        envs = []
        for alt in alts:
            aenv = dict(env)
            _put(alt, "patterns", [self.pattern(p, aenv, heads[k] if k < len(heads) else None)
                            for k, p in enumerate(alt.patterns)])
            envs.append(aenv)
        k = 0
        while k < len(alts):
            rhs, j = alts[k].rhs, k + 1
            while j < len(alts) and alts[j].rhs is rhs:
                j += 1
            spare = copy_tree(rhs) if any(envs[i] != envs[k] for i in range(k + 1, j)) else None
            done: list[tuple[dict[str, str | None], Term]] = []
            for i in range(k, j):
                res = next((r for e, r in done if e == envs[i]), None)
                if res is None:
                    target = copy_tree(spare) if done and spare is not None else rhs
                    res = self.term(target, envs[i], expected)
                    done.append((envs[i], res))
                _put(alts[i], "rhs", res)
            k = j

    def binders(self, bs: list[TBinder], env: dict[str, str | None]) -> list[TBinder]:
        # `∀ x y : T` / `∃ x y ∈ s`: the parser gives the binders one shared T (or s); it is
        # resolved once, for the first (resolving it again in place would run over its result)
        done: dict[int, tuple[Term, Term]] = {}  # id(as parsed) -> (as parsed, kept alive; resolved)
        for b in bs:
            for name in ("type", "default", "bound"):
                v = b.__dict__[name]
                if v is not None:
                    hit = done.get(id(v))
                    if hit is None:
                        hit = done[id(v)] = (v, self.term(v, env))
                    _put(b, name, hit[1])
            if b.pattern is not None:
                _put(b, "pattern", self.pattern(b.pattern, env, self.type_head(b.type) if b.type else None))
            head = self.type_head(b.type) if b.type is not None else None
            for n in b.names:
                env[n] = head
        return bs

    # ---- patterns ----------------------------------------------------------------------------
    def pattern(self, p: Term, env: dict[str, str | None], expected: str | None) -> Term:
        """Resolve a pattern, binding its variables in `env` (typed where the constructor says)."""
        if type(p) is Ident:
            if "." not in p.name and not p.explicit:
                target, status = self._ctor_named(p.name, expected)
                if target is None:
                    _mark(p, p.name, "local")
                    env[p.name] = expected
                    return p
                _mark(p, target, status)
                return p
            _mark(p, *self.lookup(p.name))
            return p
        if type(p) is DotIdent:
            self.dot_ident(p, expected)
            return p
        if type(p) is App:
            _put(p, "fn", self.pattern(p.fn, {}, expected) if type(p.fn) is not Ident or "." in p.fn.name
                 else self._pattern_head(p.fn, expected))
            tgt = _target(p.fn)
            params: list[str | None] = []
            named: dict[str, str | None] = {}
            if tgt and tgt in self.c.names:
                params = self.c.signature(tgt)[0]
                info = self.c.member_info.get(tgt)
                for b in getattr(info, "binders", []) or []:
                    for n in b.names:
                        named[n] = None
            k = 0
            for a in p.args:
                if a.name is not None:
                    _put(a, "value", self.pattern(a.value, env, named.get(a.name)))
                else:
                    _put(a, "value", self.pattern(a.value, env, params[k] if k < len(params) else None))
                    k += 1
            return p
        if type(p) is Ascription:
            _put(p, "type", self.term(p.type, env))
            _put(p, "term", self.pattern(p.term, env, self.type_head(p.type)))
            return p
        # `a :: as`, `n + 1`, `⟨a, b⟩`, `(a, b)`, `[a]`, literals: every sub-pattern binds
        if type(p) is BinOp:
            _put(p, "lhs", self.pattern(p.lhs, env, None))
            _put(p, "rhs", self.pattern(p.rhs, env, expected if p.op == "::" else None))
            return p
        if type(p) in (AnonCtor, Tuple, ListLit):
            _put(p, "items", [self.pattern(x, env, None) for x in p.items])
            return p
        return self.term(p, env)

    def _pattern_head(self, fn: Ident, expected: str | None) -> Ident:
        target, status = self._ctor_named(fn.name, expected)
        if target is None:
            target, status = self.lookup(fn.name)
        _mark(fn, target, status)
        return fn

    def _ctor_named(self, name: str, expected: str | None) -> tuple[str | None, Status]:
        """An unqualified pattern name is a constructor when one is in scope, else a variable."""
        if expected and f"{expected}.{name}" in self.c.members:
            return f"{expected}.{name}", "corpus"
        t, status = self.lookup(name)
        if status == "corpus" and t is not None and t in self.c.member_info and \
                not hasattr(self.c.member_info[t], "default"):
            return t, status
        if name in _CORE_CTORS:
            return _CORE_CTORS[name], "external"
        return None, "unresolved"

    # ---- identifiers ---------------------------------------------------------------------------
    def ident(self, t: Ident, env: dict[str, str | None]) -> Term:
        name = t.name
        head, _, rest = name.partition(".")
        if head in env:
            if not rest:
                _mark(t, name, "local")
                return t
            # generalized field notation on a local: `g.eval` → Proj(g, eval)
            base = make_node(Ident, line=t.line, column=t.column, name=head, target=head, status="local")
            node: Term = base
            typ = env[head]
            for part in rest.split("."):
                pj = make_node(Proj, line=t.line, column=t.column, term=node, field=part)
                self.proj(pj, typ)
                typ = self.c.signature(pj.target)[1] if pj.target and pj.status == "corpus" else None
                node = pj
            return node
        hit = self._memo.get(name)  # `lookup`, inlined: once per identifier
        if hit is None:
            hit = self._memo[name] = self._with_own(name)
        target, status = hit
        if status != "corpus" and "." in name:
            # `Shape.scalar.size`: longest constant prefix, the rest is field notation
            parts = name.split(".")
            for k in range(len(parts) - 1, 0, -1):
                tgt, st = self.lookup(".".join(parts[:k]))
                if st == "corpus" and tgt:
                    node = make_node(Ident, line=t.line, column=t.column, name=".".join(parts[:k]),
                                     explicit=t.explicit, target=tgt, status=st)
                    typ = self.c.signature(tgt)[1]
                    for part in parts[k:]:
                        pj = make_node(Proj, line=t.line, column=t.column, term=node, field=part)
                        self.proj(pj, typ)
                        typ = self.c.signature(pj.target)[1] if pj.target and pj.status == "corpus" else None
                        node = pj
                    return node
        _mark(t, target, status)
        return t

    def struct_member(self, owner: str, fname: str, seen: frozenset[str] = frozenset()) -> str | None:
        """`owner.fname` as a field, constructor or function, looking through `extends`."""
        hit = self.c._exists(f"{owner}.{fname}")
        if hit:
            return hit
        d = self.c.decl(owner)
        if d is not None and owner not in seen:
            m = self.c.module_of(owner)
            ctx = self.c.context(d, m) if m else self
            for p in d.extends:
                ph = ctx.lookup(_head_text(p))[0] if isinstance(ctx, _Ctx) else None
                if ph:
                    r = self.struct_member(ph, fname, seen | {owner})
                    if r:
                        return r
        return None

    def unfold_type(self, typ: str) -> str | None:
        """The head of a type abbreviation's body (`abbrev Shape := List Nat` → `List`), resolved
        where the abbreviation stands; None when `typ` is not one."""
        d = self.c.decl(typ)
        if d is None or d.kind not in ("def", "abbrev") or not d.value or d.value_form != "term":
            return None
        head = _head_text(d.value)
        m = self.c.module_of(typ)
        if not head or m is None:
            return None
        return self.c.context(d, m).lookup(head)[0]

    def proj(self, pj: Proj, typ: str | None) -> None:
        if pj.field.isdigit():
            _put(pj, "status", "external")  # anonymous projection `.1`
            return
        for _ in range(4):  # through type abbreviations, a few levels deep
            if not typ:
                break
            full = self.struct_member(typ, pj.field)
            if full:
                _mark(pj, full, "corpus")
                return
            if typ not in self.c.names:
                _mark(pj, f"{typ}.{pj.field}", "external")
                return
            typ = self.unfold_type(typ)
        # type unknown: a unique corpus member of that name; none: outside the corpus
        c = self.c
        cands = c._field_cands.get(pj.field)
        if cands is None:
            cands = c._field_cands[pj.field] = [n for n in c.by_last.get(pj.field, []) if n in c.members or
                                                n.rsplit(".", 1)[0] in c.decls]
        preferred = self._prefer(cands, pj.field, True)
        if len(preferred) == 1 or len(cands) == 1:
            _mark(pj, (preferred or cands)[0], "corpus")
        elif cands:  # several corpus types have it: no guess (nor a claim it is from outside)
            _mark(pj, None, "unresolved")
        else:
            _mark(pj, None, "external")

    def _prefer(self, cands: list[str], name: str, parents: bool) -> list[str]:
        """Of the members `T.name` a name could mean (its type unknown), those of a type that
        the declaration's binder types or statement name (as the names resolve here; with
        `parents`, through `extends` too, as field notation does), else of any type whose last
        component is such a name."""
        if len(cands) < 2:
            return cands
        if self._sig_heads is None:
            self._sig_heads = self.c.sig_words(self.decl)
        sig_heads = self._sig_heads
        if self._sig_types is None:
            self._sig_types = set()
            for w in sig_heads:
                target, status = self.lookup(w)
                if status == "corpus" and target:
                    self._sig_types.add(target)
        if parents:
            members = {self.struct_member(t, name) for t in self._sig_types}
        else:  # `.name` is a constant of its type's own namespace
            members = {f"{t}.{name}" for t in self._sig_types}
        # candidate lists are long where many types share a member name: index them once
        index = self.c._cand_index.get(id(cands))
        if index is None or index[0] is not cands:  # (kept alive by the entry: ids are not reused)
            index = self.c._cand_index[id(cands)] = (
                cands, {n: k for k, n in enumerate(cands)},
                [(n, n.rsplit(".", 1)[0].rsplit(".", 1)[-1]) for n in cands])
        _, at, owners = index
        exact = sorted((n for n in members if n in at), key=at.__getitem__)  # type: ignore[arg-type]
        return exact or [n for n, owner in owners if owner in sig_heads]

    def dot_ident(self, t: DotIdent, expected: str | None) -> None:
        c = self.c
        for _ in range(4):  # through type abbreviations (`abbrev TList := …`), a few levels deep
            if not expected:
                break
            full = self.struct_member(expected, t.name)
            if full:
                _mark(t, full, "corpus")
                return
            if expected not in c.names:
                _mark(t, f"{expected}.{t.name}", "external")
                return
            expected = self.unfold_type(expected)
        # type unknown: a corpus constructor or function of that name when there is one (or one
        # of a type the declaration's signature names); among several, no guess
        cands = c._dot_cands.get(t.name)
        if cands is None:
            cands = c._dot_cands[t.name] = [n for n in c.by_last.get(t.name, []) if n.rsplit(".", 1)[0] in c.decls]
        pick = self._prefer(cands, t.name, False) or cands
        if len(pick) == 1:
            _mark(t, pick[0], "corpus")
        elif pick:
            _mark(t, None, "unresolved")
        else:
            _mark(t, None, "external")

    def result_head(self, t: Term | None, env: dict[str, str | None]) -> str | None:
        """Head of the type of an already-resolved term, where it is easy to know."""
        if type(t) is Ascription:
            return self.type_head(t.type)
        if type(t) is Ident and t.status == "local":
            return env.get(t.name)
        fn = t.fn if type(t) is App else t
        tgt = _target(fn)  # type: ignore[arg-type]
        if tgt and tgt in self.c.names:
            return self.c.signature(tgt)[1]
        return None


_EQ_OPS = ("=", "≠", "==", "!=")
# Node classes without children and without a name (literals, holes, opaque text): nothing to
# resolve in them.
_LEAVES = frozenset(cls for cls, fields in CHILD_FIELDS.items() if not fields) - {Ident, DotIdent}
# `_Ctx.term`'s rule per node class; a class not here has its children resolved (`_children`)
_TERM_BY_CLASS: dict[type, Callable[..., Term]] = {
    Ident: _Ctx._ident, DotIdent: _Ctx._dot_ident, App: _Ctx._app, Lambda: _Ctx._binding,
    Quant: _Ctx._binding, Let: _Ctx._let, If: _Ctx._if, Match: _Ctx._match, FunMatch: _Ctx._fun_match,
    Alternatives: _Ctx._alternatives, Proj: _Ctx._proj, BinOp: _Ctx._binop, StructInst: _Ctx._struct_inst,
    ListLit: _Ctx._list,
}


def _params_result(ctx: _Ctx, t: Term, params: list[str | None]) -> str | None:
    """Walk a resolved statement's arrows and explicit ∀ binders, appending their domains' type
    heads to `params`; the head of what is left (the result type)."""
    while True:
        if type(t) is Arrow:
            params.append(ctx.type_head(t.dom))
            t = t.cod
        elif type(t) is Quant and t.quantifier in ("→", "∀", "Π"):
            for b2 in t.binders:
                if b2.info == "explicit":
                    params.extend([ctx.type_head(b2.type) if b2.type else None] * max(1, len(b2.names)))
            t = t.body
        else:
            return ctx.type_head(t)


_NAMED = frozenset({Ident, DotIdent, Proj})
_RESOLVED_BY_PARENT = frozenset({TBinder, MatchAlt, FieldInit})


def _target(t: Term) -> str | None:
    if t.__class__ in _NAMED and t.status == "corpus":  # type: ignore[union-attr]
        return t.target  # type: ignore[union-attr]
    return None
