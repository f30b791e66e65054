"""Declarations → Python: functions from definitions, dataclasses from structures, property-test
specifications from theorems. The output is plain data for the templates (`bridge.generate`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bridge.lean import term_nodes as T
from bridge.models import Binder
from bridge.translate.env import DeclRef, Env, StructInfo
from bridge.translate.expr import CalleeFn, Scope, Translator, Untranslatable
from bridge.translate.names import py_global, py_ident

TENSOR_HEADS = ("Tensor",)
TLIST_HEADS = ("TList", "TensorPack")
EQ_OPS = ("=",)


@dataclass
class Param:
    lean: str
    py: str
    type: T.Term | None
    info: str  # explicit | implicit | instance | type
    default: str | None = None  # Python expression


@dataclass
class FunctionOut:
    full_name: str
    py: str
    params: list[Param]
    body: list[str]
    helpers: list[str]
    deps: set[str]
    statement: str
    doc: str
    doc_url: str
    source_url: str
    sig: str = "_D"


@dataclass
class StructOut:
    full_name: str
    py: str
    fields: list[tuple[str, str, str | None]]  # (lean name, py name, default expression)
    parents: dict[str, str]  # parent projection py name → parent class expression
    doc: str
    doc_url: str
    source_url: str
    helpers: list[str] = field(default_factory=list)
    deps: set[str] = field(default_factory=set)


@dataclass
class TestOut:
    full_name: str
    py: str
    draws: list[tuple[str, str]]  # (py name, strategy expression or "None")
    params: list[str]
    body: list[str]
    helpers: list[str]
    deps: set[str]
    statement: str
    doc: str
    doc_url: str
    source_url: str


class NoGenerator(Exception):
    pass


_SCRUTINEE = re.compile(r"_rt\.match_(?:list|ctor|anon)\(([^,()]+),")


def _chosen_by_implicits(body: Sequence[str], implicits: set[str]) -> set[str]:
    """Implicit parameters that alone decide an equation of the translated body: an equation
    line (`if (_m1 := _rt.match_…(x, …)) is not None and …:`) all of whose patterns test implicit
    parameters. `None` matches any pattern (a missing implicit is usually decided by the
    explicit patterns beside it); where no explicit pattern takes part, that would be a guess."""
    out: set[str] = set()
    for line in body:
        if line.lstrip().startswith("if (") and "_rt.match_" in line:
            tested = set(_SCRUTINEE.findall(line))
            if tested and tested <= implicits:
                out |= tested
    return out


def _mentions(name: str, texts: Sequence[str | None]) -> bool:
    pat = re.compile(rf"(?<![\w.'₀-₉]){re.escape(name)}(?![\w'₀-₉])")
    return any(t and pat.search(t) for t in texts)


def _binder_params(env: Env, ref: DeclRef, texts: list[str | None]) -> list[Param]:
    d = ref.decl
    out: list[Param] = []
    types = env.binder_types(ref)
    for i, b in enumerate(d.binders):
        if b.info == "instance" and not b.names:
            continue
        if b.from_variable and not any(_mentions(n, texts + [x.type for x in d.binders if not x.from_variable])
                                       for n in b.names):
            continue
        ty = types[i]
        for n in b.names:
            out.append(Param(n, py_ident(n), ty, _info(b, ty)))
    return out


def _info(b: Binder | T.TBinder, ty: T.Term | None) -> str:
    if isinstance(ty, T.Sort):
        return "type"
    if b.info == "instance":
        return "instance"
    return "explicit" if b.info == "explicit" else "implicit"


def _pi_params(ty: T.Term | None) -> tuple[list[Param], T.Term | None]:
    """Peel `(x : A) → {y : B} → C → D` into parameters and the result type."""
    params: list[Param] = []
    k = 0
    while True:
        if isinstance(ty, T.Quant) and ty.quantifier in ("→", "∀"):
            for b in ty.binders:
                for n in b.names or ["_"]:
                    k += 1
                    py = py_ident(n) if n != "_" else f"_a{k}"
                    params.append(Param(n if n != "_" else py, py, b.type, _info(b, b.type)))
            ty = ty.body
        elif isinstance(ty, T.Arrow):
            k += 1
            params.append(Param(f"_a{k}", f"_a{k}", ty.dom, "explicit"))
            ty = ty.cod
        else:
            return params, ty


def _head(ty: T.Term | None) -> tuple[T.Term | None, list[T.Term]]:
    args: list[T.Term] = []
    while isinstance(ty, T.App):
        args = [a.value for a in ty.args if a.name is None] + args
        ty = ty.fn
    return ty, args


def _head_name(ty: T.Term | None) -> str | None:
    h, _ = _head(ty)
    return h.name if isinstance(h, T.Ident) else None


class DeclTranslator:
    def __init__(self, env: Env, callee_of: CalleeFn) -> None:
        self.env = env
        self.callee_of = callee_of

    # -- signatures -------------------------------------------------------------------------
    def params(self, ref: DeclRef) -> tuple[list[Param], T.Term | None]:
        d = ref.decl
        params = _binder_params(self.env, ref, [d.type, d.value])
        pi: list[Param] = []
        result = self.env.statement(ref)
        if d.value_form == "alternatives":
            pi, result = _pi_params(result)
            params = _shadow(params, pi)
        seen = {p.py for p in params}
        for p in pi:
            while p.py in seen:
                p.py += "_"
            seen.add(p.py)
        return params + pi, result

    def explicit_arity(self, ref: DeclRef) -> tuple[int, list[str | None], list[str | None]]:
        """Required explicit arguments, the last component of each explicit binder's type head,
        and each one's numeral kind (`α` for a scalar, `nat`, or None)."""
        params, _ = self.params(ref)
        ex = [p for p in params if p.info == "explicit"]
        defaults = {n for b in ref.decl.binders if b.default is not None for n in b.names}
        required = [p for p in ex if p.lean not in defaults]
        tvars = {p.lean for p in params if p.info == "type"}
        kinds = [Translator(self.env, ref, self.callee_of).type_kind(p.type, tvars) for p in ex]
        return len(required), [(_head_name(p.type) or "").split(".")[-1] or None for p in ex], kinds

    def _signature(self, params: list[Param], ref: DeclRef, tr: Translator, sc: Scope) -> tuple[str, Scope]:
        defaults = {n: b.default for b in ref.decl.binders if b.default is not None for n in b.names}
        pos: list[str] = []
        kw: list[str] = []
        self.prologue: list[str] = []
        for p in params:
            if p.info == "explicit":
                if p.lean in defaults:
                    # a Lean default is in the domain: computed at call time, `None` means "use it"
                    dv = tr.expr(self.env.term(defaults[p.lean] or ""), Scope(), tr.type_kind(p.type))
                    self.prologue += [f"    if {p.py} is None:", f"        {p.py} = {dv}"]
                    pos.append(f"{p.py}=None")
                else:
                    pos.append(p.py)
            else:
                kw.append(f"{p.py}=None")
            sc = sc.bind(p.lean, p.py, p.type)
        sig = ", ".join(["_D", *pos] + (["*", *kw] if kw else []))
        return sig, sc

    def _infer(self, params: list[Param], tr: Translator, body: list[str]) -> list[str]:
        """Prologue lines filling implicit shape arguments from explicit ones (`s` from `p : Tensor α s`),
        only for those the body reads: inferring an unused one is wasted work on every call."""
        lines = []
        for p in params:
            if p.info != "implicit" or not _mentions(p.py, body):
                continue
            src = self._source_of(p.lean, params, tr)
            if src:
                lines.append(f"    if {p.py} is None:")
                lines.append(f"        {p.py} = {src}")
            elif p.py in _chosen_by_implicits(body, {q.py for q in params if q.info == "implicit"}):
                # an equation is chosen by this implicit alone: `None` (not given) would match its
                # pattern and pick that equation whatever the value is
                lines.append(f"    if {p.py} is None:")
                lines.append(f"        raise _rt.Undetermined({tr.ref.decl.name!r}, {p.lean!r})")
        return lines

    def _source_of(self, name: str, params: list[Param], tr: Translator) -> str | None:
        for q in params:
            if q.info != "explicit":
                continue
            head, args = _head(q.type)
            if not isinstance(head, T.Ident):
                continue
            last = head.name.split(".")[-1]
            for i, a in enumerate(args):
                if not (isinstance(a, T.Ident) and a.name == name):
                    continue
                if last in TENSOR_HEADS and i == 1:
                    return f"_rt.shape_of(_D, {q.py})"
                if last in TLIST_HEADS and i == 1:
                    return f"_rt.shapes_of(_D, {q.py})"
                full = tr.resolve(head.name, head.target, head.status)
                s = self.env.structures.get(full or "")
                if s is not None and i < len(s.params):
                    for fname, _fty, _ in s.fields:
                        fh, fargs = _head(self.env.field_term(s, fname))
                        if isinstance(fh, T.Ident) and fh.name.split(".")[-1] in TENSOR_HEADS and len(fargs) > 1 \
                                and isinstance(fargs[1], T.Ident) and fargs[1].name == s.params[i]:
                            return f"_rt.shape_of(_D, _rt.field({q.py}, {py_ident(fname)!r}))"
        return None

    # -- definitions ------------------------------------------------------------------------
    def function(self, ref: DeclRef) -> FunctionOut:
        d = ref.decl
        if d.value is None or d.value_form not in ("term", "alternatives"):
            raise Untranslatable(f"{d.name} has no term body (value form `{d.value_form}`)")
        tr = Translator(self.env, ref, self.callee_of)
        params, result = self.params(ref)
        sig, sc = self._signature(params, ref, tr, Scope())
        body_t = self.env.body(ref)
        if body_t is None:
            raise Untranslatable(f"{d.name}: no body")
        if isinstance(body_t, T.Tactic):
            raise Untranslatable(f"{d.name} is defined by a tactic block")
        wrap = "{}"
        if isinstance(result, T.Ident) and any(p.lean == result.name and p.info == "type" for p in params):
            wrap = "_rt.as_scalar(_D, {})"  # the result is a scalar of α: numerals become domain scalars
        tr.expected_struct = tr.struct_of_type(result)
        tr.scalar_vars |= {p.lean for p in params if p.info == "type"}
        at = tr.type_kind(result)
        if d.value_form == "alternatives":
            if not isinstance(body_t, T.Alternatives):
                raise Untranslatable(f"{d.name}: equations did not parse ({body_t.node})")
            pi = [p for p in params if p in params[len(params) - self._npi(ref):]]
            discs: list[T.Term] = [T.Ident(name=p.lean, status="local") for p in pi]
            body = tr.match_stmts(discs, body_t.alts, sc, "    ", body_t, wrap, at)
        else:
            body = tr.stmts(body_t, sc, "    ", wrap, at)
        return FunctionOut(d.name, py_global(d.name), params, self.prologue + self._infer(params, tr, body) + body,
                           tr.helpers, tr.deps, _statement(ref), d.docstring or "", d.doc_url, d.source_url, sig)

    def _npi(self, ref: DeclRef) -> int:
        return len(_pi_params(self.env.statement(ref))[0])

    # -- structures -------------------------------------------------------------------------
    def structure(self, info: StructInfo) -> StructOut:
        ref = self.env.decls[info.full_name]
        tr = Translator(self.env, ref, self.callee_of)
        sc = Scope()  # parameters unbound: a default that needs one (`fill 0 s`) stays required
        fields = []
        for name, _ty, default in info.fields:
            dexpr = None
            dterm = self.env.field_term(info, name, default=True) if default is not None else None
            if dterm is not None:
                try:
                    dexpr = tr.expr(dterm, sc, tr.field_kind(info.full_name, name))
                except Untranslatable:
                    dexpr = None
            fields.append((name, py_ident(name), dexpr))
        parents = {}
        for pname, pfull in info.parents.items():
            c = self.callee_of("struct:" + pfull)
            if c is not None:
                parents[py_ident(pname)] = c.py
        d = ref.decl
        return StructOut(d.name, py_global(d.name), fields, parents, d.docstring or "", d.doc_url,
                         d.source_url, tr.helpers, tr.deps)

    # -- theorems ---------------------------------------------------------------------------
    def theorem(self, ref: DeclRef) -> TestOut:
        d = ref.decl
        if not d.type:
            raise Untranslatable(f"{d.name} has no statement")
        tr = Translator(self.env, ref, self.callee_of)
        params = _binder_params(self.env, ref, [d.type])
        stmt = self.env.statement(ref)
        pi, body = _pi_params(stmt)
        params = _shadow(params, pi) + pi
        scalar_types = {p.lean for p in params if p.info == "type"}
        draws: list[tuple[str, str]] = []
        sc = Scope()
        for p in params:
            if p.info == "instance":
                continue
            if p.info == "type":
                draws.append((p.py, "None"))
            else:
                try:
                    strat = self.generator(p.type, sc, tr, scalar_types, {})
                except NoGenerator as exc:
                    raise Untranslatable(f"no generator for binder `{p.lean}`: {exc}") from None
                draws.append((p.py, strat))
            sc = sc.bind(p.lean, p.py, p.type)
        eq = body
        lets: list[T.Let] = []
        while isinstance(eq, T.Let) and eq.body is not None:
            lets.append(eq)
            eq = eq.body
        if not (isinstance(eq, T.BinOp) and eq.op in EQ_OPS):
            raise Untranslatable(f"statement is not an equation (`{getattr(eq, 'op', eq.node if eq else '?')}`)")
        tr.scalar_vars |= scalar_types
        sides = [eq.lhs, eq.rhs]
        at = tr.kind_of(eq.lhs, sc) or tr.kind_of(eq.rhs, sc)
        if at is not None:  # `pow x 0 = 1`: the literal has the other side's type
            ty = T.Ident(name=min(scalar_types) if at == "α" and scalar_types else "ℝ" if at == "α" else "Nat")
            sides = [T.Ascription(term=x, type=ty, line=x.line, column=x.column) if isinstance(x, T.Num) else x
                     for x in sides]
        pair: T.Term = T.Tuple(items=sides, line=eq.line, column=eq.column)
        for let in reversed(lets):
            pair = let.model_copy(update={"body": pair})
        lines = tr.stmts(pair, sc, "    ")
        return TestOut(d.name, "test_" + py_global(d.name), draws, [p.py for p, _ in
                       [(p, 0) for p in params if p.info != "instance"]], lines, tr.helpers, tr.deps,
                       _statement(ref), d.docstring or "", d.doc_url, d.source_url)

    def generator(self, ty: T.Term | None, sc: Scope, tr: Translator, scalars: set[str],
                  subst: dict[str, str]) -> str:
        """A hypothesis strategy expression for values of type `ty`."""
        head, args = _head(ty)
        if isinstance(ty, (T.BinOp, T.Quant, T.Arrow)):
            raise NoGenerator(f"`{_show(ty)}` is a proposition or a function")
        if not isinstance(head, T.Ident):
            raise NoGenerator(f"`{_show(ty)}`")
        name = head.name
        last = name.split(".")[-1]
        if name in scalars and not args:
            return "_g.scalars()"
        if name in ("Nat", "ℕ"):
            return "_g.nats()"
        if name == "Bool":
            return "_g.bools()"
        if last == "Shape" and not args:
            return "_g.shapes()"
        if name == "List" and len(args) == 1 and _head_name(args[0]) in ("Shape", "Spec.Shape"):
            return "_g.shape_lists()"
        if last in TENSOR_HEADS and len(args) == 2:
            return f"_g.tensors({self._index(args[1], sc, tr, subst)})"
        if last in TLIST_HEADS and len(args) == 2:
            return f"_g.tlists({self._index(args[1], sc, tr, subst)})"
        if last == "Fin" and len(args) == 1:
            return f"_g.fins({self._index(args[0], sc, tr, subst)})"
        full = tr.resolve(name, head.target, head.status)
        info = self.env.structures.get(full or "")
        if info is not None:
            sub = dict(subst)
            for pname, a in zip(info.params, args):
                if isinstance(a, T.Ident) and a.name in scalars:
                    continue
                sub[pname] = self._index(a, sc, tr, subst)
            fstrats = []
            for fname, _fty, _ in info.fields:
                fs = self.generator(self.env.field_term(info, fname), sc, tr, scalars | set(info.params[:1]), sub)
                fstrats.append(f"{py_ident(fname)!r}: {fs}")
            cls = tr.struct_ref(info.full_name, head)
            return f"_g.structures({cls}, {{{', '.join(fstrats)}}})"
        raise NoGenerator(f"no generator for values of `{_show(ty)}`")

    def _index(self, t: T.Term, sc: Scope, tr: Translator, subst: dict[str, str]) -> str:
        if isinstance(t, T.Ident) and t.name in subst:
            return subst[t.name]
        return tr.expr(t, sc)


def _shadow(params: list[Param], pi: list[Param]) -> list[Param]:
    """Section variables that a binder after the colon shadows are not parameters."""
    names = {p.lean for p in pi}
    return [p for p in params if p.lean not in names]


def _show(t: T.Term | None) -> str:
    if t is None:
        return "?"
    if isinstance(t, T.Ident):
        return t.name
    if isinstance(t, T.App):
        return " ".join([_show(t.fn), *(_show(a.value) for a in t.args)])
    if isinstance(t, T.BinOp):
        return f"{_show(t.lhs)} {t.op} {_show(t.rhs)}"
    return t.node


def _statement(ref: DeclRef) -> str:
    d = ref.decl
    parts = [f"{d.kind} {d.name}"]
    for b in d.binders:
        if b.from_variable:
            continue
        inner = " ".join(b.names) + (f" : {b.type}" if b.type else "")
        br = {"explicit": "()", "implicit": "{}", "strict_implicit": "⦃⦄", "instance": "[]"}[b.info]
        parts.append(f"{br[0]}{inner}{br[-1]}")
    s = " ".join(parts)
    if d.type:
        s += f" : {d.type}"
    return s
