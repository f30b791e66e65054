"""Lean term trees → Python source (expressions, statements, patterns).

Generated code conventions: the domain is the local `_D`; vocabulary primitives are `_p.*`
(`bridge.vocab.prims`), run-time helpers `_rt.*` (`bridge.vocab.runtime`); every translated
function takes `_D` first. A term in tail position becomes statements (`let` an assignment,
`match`/`if` a branch with `return`); a `let`/`match` nested inside an expression is hoisted
into a module-level helper that takes the domain and every local in scope, so no closure can
capture the wrong variable. Every string that reaches the output goes through `repr`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from bridge.lean import term_nodes as T
from bridge.translate.env import DeclRef, Env
from bridge.translate.names import py_global, py_ident
from bridge.vocab.registry import LOOKUP, UNSUPPORTED, Entry

ARITH = {"+": "+", "-": "-", "*": "*", "%": "%", "•": "*"}
CMP = {"<": "<", "≤": "<=", "<=": "<=", ">": ">", "≥": ">=", ">=": ">="}
BOOL = {"∧": "and", "&&": "and", "∨": "or", "||": "or"}


class Untranslatable(Exception):
    """A construct or constant the translator cannot handle; `missing` names a constant."""

    def __init__(self, message: str, missing: str | None = None) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass
class Local:
    py: str
    type: T.Term | None = None  # the binder's type term, when known


@dataclass
class Scope:
    names: dict[str, Local] = field(default_factory=dict)

    def bind(self, lean: str, py: str | None = None, type: T.Term | None = None) -> Scope:
        new = Scope(dict(self.names))
        new.names[lean] = Local(py or py_ident(lean), type)
        return new

    def params(self) -> list[str]:
        seen: list[str] = []
        for loc in self.names.values():
            if loc.py not in seen:
                seen.append(loc.py)
        return seen


@dataclass
class Callee:
    """How to call a constant: Python expression of the function, explicit arity, erased slots."""

    py: str
    arity: int
    erased: tuple[int, ...] = ()
    first_type_ns: str | None = None  # for `x.f` notation: which explicit argument `x` fills
    explicit_types: list[str | None] = field(default_factory=list)
    explicit_kinds: list[str | None] = field(default_factory=list)  # numeral type per explicit argument
    erased_names: tuple[str, ...] = ()  # proof arguments given by name, never translated
    receiver: int | None = None  # vocabulary: the explicit argument `x` fills in `x.f …`


# Numeral kinds: at "α" (the scalar type: ℝ, ℚ, Float and type variables too) a literal is a
# scalar of the domain, `_D.scalar(n)`, and operations on it are the domain's; at "nat" it is a
# Python int and `/` is Nat division; None: not known (a plain Python number, exact until it
# meets a domain value).
NAT_TYPES = ("Nat", "ℕ", "Fin")
SCALAR_TYPES = ("Real", "ℝ", "Rat", "ℚ", "Float", "Float32")
# vocabulary results at α (others are computed from their arguments or are not scalars)
SCALAR_RESULTS = ("Proofs.TensorAlgebra.dot", "Proofs.TensorAlgebra.dotAcc", "Proofs.Autograd.Algebra.TList.dotList",
                  "TorchLean.TensorPack.dotList", "Spec.Sqrt.sqrt", "Real.sqrt", "Float.sqrt", "Spec.Exp.exp",
                  "Real.exp", "Float.exp")


class Translator:
    """Translates the terms of one declaration; `module_of` maps a corpus def to its Python path."""

    def __init__(self, env: Env, ref: DeclRef, callee_of: CalleeFn) -> None:
        self.env = env
        self.ref = ref
        self.callee_of = callee_of
        self.helpers: list[str] = []
        self.deps: set[str] = set()
        self.counter = 0
        self.expected_struct: str | None = None
        self.num_at: str | None = None  # the numeral kind at the term being translated
        # the declaration's scalar type variables (binders whose type is a `Sort`)
        self.scalar_vars: set[str] = _type_vars(env, ref)

    # -- utilities --------------------------------------------------------------------------
    def fresh(self, base: str = "t") -> str:
        self.counter += 1
        return f"_{base}{self.counter}"

    def where(self, t: T._Node) -> str:
        return f"{self.ref.decl.name} ({self.ref.module.path}:{self.ref.decl.name_line}, term line {t.line})"

    def resolve(self, name: str, target: str | None, status: str | None) -> str | None:
        """Full name of a global. The resolver's `external` guess is only a guess when the corpus
        lacks the definition (the file that defines `subSpec` was not read): the vocabulary may
        know the name under the scope's namespaces and opens, so ask Lean's rule first."""
        if target and (status == "corpus" or (status == "external" and target in self.env.known)):
            return target
        return self.env.resolve_name(name, self.ref) or (target if status == "external" else None)

    def const(self, full: str, node: T.Term) -> Callee:
        if full in UNSUPPORTED:
            raise Untranslatable(f"`{full}` in {self.where(node)}: {UNSUPPORTED[full]}", missing=full)
        callee = self.callee_of(full)
        if callee is None and full in self.env.failed:
            raise Untranslatable(f"needs `{full}` (used in {self.where(node)}), which does not translate: "
                                 f"{self.env.failed[full][:300]}", missing=full)
        if callee is None:
            raise Untranslatable(
                f"`{full}`, used in {self.where(node)}, has neither a translatable definition in the corpus "
                f"nor a vocabulary entry; add `Entry(({full!r},), \"py_name\", ARITY)` to "
                f"bridge/vocab/registry.py and `def py_name(D, ...)` to bridge/vocab/prims.py",
                missing=full,
            )
        if full in self.env.decls and full not in LOOKUP:
            self.deps.add(full)
        return callee

    # -- numeral kinds ----------------------------------------------------------------------
    def type_kind(self, ty: T.Term | None, tvars: set[str] | None = None) -> str | None:
        """The numeral kind of values of type `ty` (see NAT_TYPES)."""
        head = ty
        while isinstance(head, T.App):
            head = head.fn
        if isinstance(head, T.Ident):
            name = head.name.removeprefix("_root_.")
            if name in NAT_TYPES:
                return "nat"
            if name in SCALAR_TYPES or name in (self.scalar_vars if tvars is None else tvars):
                return "α"
        return None

    def result_kind(self, full: str) -> str | None:
        """The numeral kind of what constant `full` returns (after all its arguments)."""
        if full in SCALAR_RESULTS:
            return "α"
        if full == "List.length":
            return "nat"
        ref = self.env.decls.get(full)
        if ref is None:
            return None
        ty = self.env.statement(ref)
        while True:
            if isinstance(ty, T.Quant) and ty.quantifier in ("→", "∀"):
                ty = ty.body
            elif isinstance(ty, T.Arrow):
                ty = ty.cod
            else:
                break
        return self.type_kind(ty, _type_vars(self.env, ref))

    def field_kind(self, owner: str | None, fname: str) -> str | None:
        info = self.env.structures.get(owner or "")
        if info is None:
            return None
        return self.type_kind(self.env.field_term(info, fname), _type_vars(self.env, self.env.decls[owner or ""]))

    def kind_of(self, t: T.Term, sc: Scope) -> str | None:
        """The numeral kind of the value of `t`, where it is easy to know (Lean's `binop%` picks
        the type of the operands that have one; a literal takes it)."""
        if isinstance(t, T.Ident):
            if t.name in sc.names:
                return self.type_kind(sc.names[t.name].type)
            head, _, rest = t.name.partition(".")
            if rest and head in sc.names and "." not in rest and t.status not in ("corpus", "external"):
                return self.field_kind(self.type_namespace(T.Ident(name=head, status="local"), sc), rest)
            full = self.resolve(t.name, t.target, t.status)
            return self.result_kind(full) if full else None
        if isinstance(t, T.Ascription):
            return self.type_kind(t.type)
        if isinstance(t, T.Proj) and not t.field.isdigit():
            if t.target and t.target not in self.env.field_owner:
                return self.result_kind(t.target)
            return self.field_kind(self.type_namespace(t.term, sc), t.field)
        if isinstance(t, T.App):
            fn = t.fn
            while isinstance(fn, T.App):
                fn = fn.fn
            if isinstance(fn, (T.Ident, T.Proj)) and not (isinstance(fn, T.Ident) and fn.name in sc.names):
                return self.kind_of(fn, sc)
            return None
        if isinstance(t, T.BinOp) and t.op in (*ARITH, "/", "^"):
            return self.kind_of(t.lhs, sc) or (self.kind_of(t.rhs, sc) if t.op != "^" else None)
        if isinstance(t, T.UnOp) and t.op == "-":
            return self.kind_of(t.arg, sc)
        if isinstance(t, T.If) and t.else_ is not None:
            return self.kind_of(t.then, sc) or self.kind_of(t.else_, sc)
        return None

    # -- expressions ------------------------------------------------------------------------
    def expr(self, t: T.Term, sc: Scope, at: str | None = None) -> str:
        """Python for `t`; `at` is the numeral kind of its position (None: unknown)."""
        old, self.num_at = self.num_at, at
        try:
            return self._expr(t, sc)
        finally:
            self.num_at = old

    def _expr(self, t: T.Term, sc: Scope) -> str:
        if isinstance(t, T.Ident):
            return self.ident(t, sc, [])
        if isinstance(t, T.DotIdent):
            return self.apply_const(self.dot_target(t, 0), t, [], sc)
        if isinstance(t, T.Num):
            if t.value is not None:
                return f"_D.scalar({t.value!r})" if self.num_at == "α" else repr(t.value)
            return f"_D.scalar(_rt.Fraction({t.text.replace('_', '')!r}))"
        if isinstance(t, T.Str):
            return repr(t.value if t.value is not None else t.text)
        if isinstance(t, T.App):
            return self.app(t, sc)
        if isinstance(t, T.BinOp):
            return self.binop(t, sc)
        if isinstance(t, T.UnOp):
            a = self.expr(t.arg, sc, (self.kind_of(t.arg, sc) or self.num_at) if t.op == "-" else None)
            if t.op == "-":
                return f"(-{a})"
            if t.op in ("¬", "!"):
                return f"(not {a})"
            if t.op == "↑":
                return a
            raise Untranslatable(f"operator `{t.op}` in {self.where(t)}")
        if isinstance(t, T.Ascription):
            old = self.expected_struct
            self.expected_struct = self.struct_of_type(t.type) or old
            try:
                return self.expr(t.term, sc, self.type_kind(t.type))
            finally:
                self.expected_struct = old
        if isinstance(t, T.Show) and t.value is not None:
            return self.expr(t.value, sc, self.num_at)
        if isinstance(t, T.ListLit):
            return "[" + ", ".join(self.expr(i, sc) for i in t.items) + "]"
        if isinstance(t, (T.Tuple, T.AnonCtor)):
            return self.tuple_(t.items, sc, t)
        if isinstance(t, T.StructInst):
            return self.struct_inst(t, sc)
        if isinstance(t, T.Proj):
            return self.proj(t, sc, [])
        if isinstance(t, T.If):
            if t.else_ is None:
                raise Untranslatable(f"`if` without `else` in {self.where(t)}")
            c = self.cond(t.cond, sc)
            at = self.kind_of(t, sc) or self.num_at
            return f"({self.expr(t.then, sc, at)} if {c} else {self.expr(t.else_, sc, at)})"
        if isinstance(t, T.Lambda):
            return self.lambda_(t, sc)
        if isinstance(t, T.Section):
            return self.section(t, sc)
        if isinstance(t, (T.Let, T.Match, T.FunMatch)):
            return self.hoist(t, sc)
        if isinstance(t, T.Index):
            return f"{self.expr(t.term, sc)}[{self.expr(t.index, sc)}]"
        if isinstance(t, (T.Hole, T.Sort, T.Arrow, T.Quant, T.Tactic)):
            return "None"  # types and proofs carry no run-time data
        if isinstance(t, T.Unparsed):
            raise Untranslatable(f"unparsed term `{t.text[:60]}` in {self.where(t)} ({t.reason})")
        raise Untranslatable(f"{t.node} term in {self.where(t)}")

    def cond(self, t: T.Term, sc: Scope) -> str:
        return f"bool({self.expr(t, sc)})"

    def ident(self, t: T.Ident, sc: Scope, args: list[T.Arg]) -> str:
        name = t.name
        if t.status != "corpus" and t.status != "external":
            head, _, rest = name.partition(".")
            if name in sc.names:
                return self.call_value(sc.names[name].py, args, sc)
            if rest and head in sc.names:  # `st.buf`, `g.eval x d`: field notation on a local
                obj: T.Term = T.Ident(name=head, line=t.line, column=t.column, status="local")
                for part in rest.split(".")[:-1]:
                    obj = T.Proj(term=obj, field=part, line=t.line, column=t.column)
                return self.proj(T.Proj(term=obj, field=rest.split(".")[-1], line=t.line, column=t.column),
                                 sc, args)
        full = self.resolve(name, t.target, t.status)
        if full is None:
            raise Untranslatable(
                f"`{name}`, used in {self.where(t)}, names nothing in the corpus or the vocabulary; "
                f"add a vocabulary entry for its full name to bridge/vocab/registry.py",
                missing=name,
            )
        return self.apply_const(full, t, args, sc)

    def dot_target(self, t: T.DotIdent, nargs: int) -> str:
        """`.name`: the resolver's target (it resolves against the expected type); for a term
        that comes without one, the base type whose constructor takes `nargs` arguments."""
        if t.target:
            return t.target
        for ns in ("Proofs.Autograd.Algebra.TList", "Spec.Shape", "Spec.Tensor", "List"):
            e = LOOKUP.get(f"{ns}.{t.name}")
            if e is not None and e.arity == nargs:
                return f"{ns}.{t.name}"
        hits = sorted(c for c in self.env.ctors if c.endswith("." + t.name))
        if len(hits) == 1:
            return hits[0]
        raise Untranslatable(f"`.{t.name}` in {self.where(t)}: cannot tell which type's constructor")

    def call_value(self, f: str, args: list[T.Arg], sc: Scope) -> str:
        if not args:
            return f
        return f"{f}({self.call_args(args, sc)})"

    def call_args(self, args: list[T.Arg], sc: Scope) -> str:
        """Arguments of a call whose signature is not known here: positional ones first, then
        the named ones (Lean allows `f (x := a) b`; Python wants keywords last; they bind by name)."""
        return ", ".join(self.arg(a, sc) for a in sorted(args, key=lambda a: a.name is not None))

    def arg(self, a: T.Arg, sc: Scope) -> str:
        v = self.expr(a.value, sc)
        return f"{py_ident(a.name)}={v}" if a.name else v

    def apply_const(self, full: str, node: T.Term, args: list[T.Arg], sc: Scope) -> str:
        callee = self.const(full, node)
        pos = [a for a in args if a.name is None]
        named = [a for a in args if a.name is not None and a.name not in callee.erased_names]
        if any(a.name in callee.erased_names for a in args):  # `cast (h := proof) xs`: the proof is erased
            slots = [i for i in callee.erased if i < callee.arity]
            for i in slots[: len([a for a in args if a.name in callee.erased_names])]:
                pos.insert(i, T.Arg(value=T.Hole(line=node.line, column=node.column)))
        if callee.arity == 0 and not pos and not named and callee.py.startswith("_rt.ctor("):
            return callee.py + ")"
        parts = ["_D"]
        kinds = callee.explicit_kinds
        for i, a in enumerate(pos[: callee.arity]):
            parts.append("None" if i in callee.erased else self.expr(a.value, sc, kinds[i] if i < len(kinds) else None))
        parts += [self.arg(a, sc) for a in named]
        if callee.py.startswith("_rt.ctor("):
            return f"{callee.py}{', '.join(parts[1:])})"
        if len(pos) < callee.arity:
            return f"_rt.partial({callee.py}, {', '.join(parts)})"
        call = f"{callee.py}({', '.join(parts)})"
        rest = pos[callee.arity:]
        if rest:
            call += "(" + ", ".join(self.expr(a.value, sc) for a in rest) + ")"
        return call

    def app(self, t: T.App, sc: Scope) -> str:
        fn, args = t.fn, list(t.args)
        while isinstance(fn, T.App):  # `(f a) b`
            args = list(fn.args) + args
            fn = fn.fn
        if isinstance(fn, T.Ident):
            return self.ident(fn, sc, args)
        if isinstance(fn, T.DotIdent):
            return self.apply_const(self.dot_target(fn, len([a for a in args if a.name is None])), fn, args, sc)
        if isinstance(fn, T.Proj):
            return self.proj(fn, sc, args)
        return f"({self.expr(fn, sc)})({self.call_args(args, sc)})"

    def binop(self, t: T.BinOp, sc: Scope) -> str:
        op = t.op
        if op == "▸":
            return self.expr(t.rhs, sc)  # a cast along a proof: the identity at run time
        if op in ("<|", "$"):
            return self.app(T.App(fn=t.lhs, args=[T.Arg(value=t.rhs)], line=t.line, column=t.column), sc)
        if op == "|>":
            return self.app(T.App(fn=t.rhs, args=[T.Arg(value=t.lhs)], line=t.line, column=t.column), sc)
        if op == "^":
            return f"_rt.npow({self.expr(t.lhs, sc, self.kind_of(t.lhs, sc) or self.num_at)}, {self.expr(t.rhs, sc, 'nat')})"
        at = None
        if op in ARITH or op in CMP or op in ("/", "=", "==", "≠", "!="):
            at = self.kind_of(t.lhs, sc) or self.kind_of(t.rhs, sc)
            if at is None and op in (*ARITH, "/"):
                at = self.num_at  # `1 - 1/2` at α: the whole expression's type
        a, b = self.expr(t.lhs, sc, at), self.expr(t.rhs, sc, at)
        if op in ARITH:
            return f"({a} {ARITH[op]} {b})"
        if op == "/":
            if at == "nat":
                return f"_rt.nat_div({a}, {b})"
            return f"_D.div({a}, {b}, {self.ref.decl.name!r})"
        if op == "++":
            return f"_p.append(_D, {a}, {b})"
        if op == "::":
            return f"_p.list_cons(_D, {a}, {b})"
        if op == "∘":
            return f"_rt.compose({a}, {b})"
        if op == "=" or op == "==":
            return f"_rt.equal({a}, {b})"
        if op in ("≠", "!="):
            return f"(not _rt.equal({a}, {b}))"
        if op in CMP:
            return f"({a} {CMP[op]} {b})"
        if op in BOOL:
            return f"({a} {BOOL[op]} {b})"
        raise Untranslatable(f"operator `{op}` in {self.where(t)}")

    def tuple_(self, items: list[T.Term], sc: Scope, node: T.Term) -> str:
        if isinstance(node, T.AnonCtor) and self.expected_struct:
            s = self.env.structures.get(self.expected_struct)
            if s is not None and len(items) == len(s.fields):
                inits = [T.FieldInit(name=f[0], value=v) for f, v in zip(s.fields, items)]
                return self.struct_inst(T.StructInst(fields=inits, line=node.line, column=node.column), sc)
        old, self.expected_struct = self.expected_struct, None
        try:
            xs = [self.expr(i, sc) for i in items]
        finally:
            self.expected_struct = old
        if not xs:
            return "()"
        out = xs[-1]  # `(a, b, c)` is `(a, (b, c))` in Lean
        for x in reversed(xs[:-1]):
            out = f"({x}, {out})"
        return out

    def struct_of_type(self, ty: T.Term | None) -> str | None:
        head = ty
        while isinstance(head, T.App):
            head = head.fn
        if isinstance(head, T.Ident):
            full = self.resolve(head.name, head.target, head.status)
            if full in self.env.structures:
                return full
        return None

    def struct_inst(self, t: T.StructInst, sc: Scope) -> str:
        old, self.expected_struct = self.expected_struct, None
        try:
            inits = [(py_ident(f.name), self.expr(f.value, sc)) for f in t.fields]
        finally:
            self.expected_struct = old
        kw = ", ".join(f"{n}={v}" for n, v in inits)
        if t.base is not None:
            return f"_rt.replace({self.expr(t.base, sc)}{', ' if kw else ''}{kw})"
        full = self.struct_of_type(t.type) or self.expected_struct
        if full is None or full not in self.env.structures:
            full = self.env.struct_for_fields({f.name for f in t.fields})
        if full is None:
            raise Untranslatable(f"structure instance in {self.where(t)}: cannot tell which structure")
        cls = self.struct_ref(full, t)
        return f"_rt.make({cls}, {cls}.defaults(_D){', ' if kw else ''}{kw})"

    def struct_ref(self, full: str, node: T.Term) -> str:
        callee = self.callee_of("struct:" + full)
        if callee is None:
            raise Untranslatable(f"structure `{full}` in {self.where(node)} was not generated", missing=full)
        return callee.py

    def proj(self, t: T.Proj, sc: Scope, args: list[T.Arg]) -> str:
        if t.field.isdigit():
            return self.call_value(f"_rt.proj({self.expr(t.term, sc)}, {int(t.field)})", args, sc)
        target = t.target
        ty_ns = self.type_namespace(t.term, sc)
        if target is None and ty_ns is not None:
            cand = f"{ty_ns}.{t.field}"
            if cand in self.env.known:
                target = cand
        if target and target in self.env.field_owner or (target is None and ty_ns in self.env.structures):
            return self.call_value(f"_rt.field({self.expr(t.term, sc)}, {py_ident(t.field)!r})", args, sc)
        if target and (target in self.env.decls or target in LOOKUP) and target not in self.env.structures:
            callee = self.const(target, t)
            k = self.self_slot(callee, target)
            pos = [a for a in args if a.name is None]
            named = [a for a in args if a.name is not None]
            new = pos[:k] + [T.Arg(value=t.term)] + pos[k:] + named
            return self.apply_const(target, t, new, sc)
        # unknown type: a structure field or parent projection, looked up at run time
        return self.call_value(f"_rt.field({self.expr(t.term, sc)}, {py_ident(t.field)!r})", args, sc)

    def self_slot(self, callee: Callee, target: str) -> int:
        if callee.receiver is not None:
            return callee.receiver
        ns = target.rsplit(".", 1)[0].split(".")[-1]
        for i, ty in enumerate(callee.explicit_types):
            if ty == ns:
                return i
        return 0

    def type_namespace(self, t: T.Term, sc: Scope) -> str | None:
        if isinstance(t, T.Ident) and t.name in sc.names:
            ty = sc.names[t.name].type
            head = ty
            while isinstance(head, T.App):
                head = head.fn
            if isinstance(head, T.Ident):
                return self.resolve(head.name, head.target, head.status)
        if isinstance(t, T.App):  # `(List.finRange n).take k`, `(xs.map f).sum`: the function's result
            fn = t.fn
            while isinstance(fn, T.App):
                fn = fn.fn
            name = None
            if isinstance(fn, T.Ident):
                name = self.resolve(fn.name, fn.target, fn.status)
            elif isinstance(fn, T.Proj):
                ns = self.type_namespace(fn.term, sc)
                name = fn.target or (f"{ns}.{fn.field}" if ns else None)
            e = LOOKUP.get(name or "")
            if e is not None:
                return e.result
        return None

    def lambda_(self, t: T.Lambda, sc: Scope) -> str:
        names: list[str] = []
        inner = sc
        for b in t.binders:
            if b.pattern is not None:
                return self.hoist(t, sc)
            for n in b.names or ["_"]:
                py = py_ident(n) if n != "_" else self.fresh("u")
                inner = inner.bind(n, py, b.type)
                names.append(py)
        body = self.expr(t.body, inner)
        return f"(lambda {', '.join(names)}: {body})"

    def section(self, t: T.Section, sc: Scope) -> str:
        holes: list[str] = []

        def fill(node: T._Node) -> T._Node:
            if isinstance(node, T.Cdot):
                name = f"·{len(holes)}"
                holes.append(name)
                return T.Ident(name=name, line=node.line, column=node.column, status="local")
            data: dict[str, object] = {}
            for k, v in node:
                if isinstance(v, T._Node) and not isinstance(v, T.Section):
                    data[k] = fill(v)
                elif isinstance(v, list):
                    data[k] = [fill(x) if isinstance(x, T._Node) and not isinstance(x, T.Section) else x for x in v]
            return node.model_copy(update=data)

        body = cast(T.Term, fill(t.body))  # a Cdot becomes an Ident: still a Term
        inner = sc
        pys = []
        for h in holes:
            py = self.fresh("s")
            inner = inner.bind(h, py)
            pys.append(py)
        return f"(lambda {', '.join(pys)}: {self.expr(body, inner)})"

    # -- hoisting and statements ------------------------------------------------------------
    def hoist(self, t: T.Term, sc: Scope) -> str:
        name = f"_h_{py_global(self.ref.decl.name)}_{len(self.helpers) + 1}"
        self.helpers.append("")  # reserve the slot (nested hoists number after this one)
        slot = len(self.helpers) - 1
        params = sc.params()
        if isinstance(t, T.Lambda):  # `fun ⟨a, b⟩ => …`: a helper whose body matches the arguments
            argn = [self.fresh("a") for _ in t.binders]
            alts = [T.MatchAlt(patterns=[b.pattern or T.Ident(name=b.names[0] if b.names else "_")
                                         for b in t.binders], rhs=t.body)]
            body = self.match_stmts([T.Ident(name=a, status="local") for a in argn], alts,
                                    Scope({**sc.names, **{a: Local(a) for a in argn}}), "    ", t)
            lines = [f"def {name}(_D, {', '.join(params + argn)}):", *body]
            self.helpers[slot] = "\n".join(lines)
            return f"(lambda {', '.join(argn)}: {name}(_D, {', '.join(params + argn)}))"
        if isinstance(t, T.FunMatch):
            n = len(t.alts[0].patterns) if t.alts else 1
            argn = [self.fresh("a") for _ in range(n)]
            body = self.match_stmts([T.Ident(name=a, status="local") for a in argn], t.alts,
                                    Scope({**sc.names, **{a: Local(a) for a in argn}}), "    ", t)
            self.helpers[slot] = "\n".join([f"def {name}(_D, {', '.join(params + argn)}):", *body])
            return f"(lambda {', '.join(argn)}: {name}(_D, {', '.join(params + argn)}))"
        body = self.stmts(t, sc, "    ", at=self.num_at)
        self.helpers[slot] = "\n".join([f"def {name}({', '.join(['_D', *params])}):", *body])
        return f"{name}({', '.join(['_D', *params])})"

    def stmts(self, t: T.Term, sc: Scope, ind: str, wrap: str = "{}", at: str | None = None) -> list[str]:
        """Statements computing `t` in tail position, ending in `return`; `at`: its numeral kind."""
        if isinstance(t, T.Let):
            if t.body is None:
                raise Untranslatable(f"`{t.keyword}` without a body in {self.where(t)}")
            if t.keyword in ("have", "haveI") and t.name is None and t.pattern is None:
                return self.stmts(t.body, sc, ind, wrap, at)
            if t.binders:  # `let f x := v`: a local function
                lam = T.Lambda(binders=t.binders, body=t.value, line=t.line, column=t.column)
                val = self.expr(lam, sc)
            else:
                old = self.expected_struct
                self.expected_struct = self.struct_of_type(t.type)
                try:
                    val = self.expr(t.value, sc, self.type_kind(t.type) if t.type is not None else None)
                finally:
                    self.expected_struct = old
            if t.pattern is not None:
                tmp = self.fresh("l")
                alts = [T.MatchAlt(patterns=[t.pattern], rhs=t.body)]
                return [f"{ind}{tmp} = {val}",
                        *self.match_stmts([T.Ident(name=tmp, status="local")], alts,
                                          sc.bind(tmp, tmp), ind, t, wrap, at)]
            name = t.name or "_"
            py = self.fresh("l") if name == "_" else py_ident(name)
            if name in sc.names or py in sc.params():
                py = self.fresh(py_ident(name).strip("_") or "l")  # shadowing: keep the outer value
            return [f"{ind}{py} = {val}", *self.stmts(t.body, sc.bind(name, py, t.type), ind, wrap, at)]
        if isinstance(t, T.Match):
            return self.match_stmts(t.discriminants, t.alts, sc, ind, t, wrap, at)
        if isinstance(t, T.If) and t.else_ is not None:
            return [f"{ind}if {self.cond(t.cond, sc)}:", *self.stmts(t.then, sc, ind + "    ", wrap, at),
                    f"{ind}else:", *self.stmts(t.else_, sc, ind + "    ", wrap, at)]
        if isinstance(t, T.Show) and t.value is not None:
            return self.stmts(t.value, sc, ind, wrap, at)
        return [f"{ind}return {wrap.format(self.expr(t, sc, at))}"]

    def match_stmts(self, discs: list[T.Term], alts: list[T.MatchAlt], sc: Scope, ind: str,
                    node: T.Term, wrap: str = "{}", at: str | None = None) -> list[str]:
        lines: list[str] = []
        vals = []
        for d in discs:
            if isinstance(d, T.Ident) and d.name in sc.names:
                vals.append(sc.names[d.name].py)
            else:
                tmp = self.fresh("d")
                lines.append(f"{ind}{tmp} = {self.expr(d, sc)}")
                vals.append(tmp)
        for alt in alts:
            if len(alt.patterns) != len(vals):
                raise Untranslatable(f"match alternative with {len(alt.patterns)} patterns for "
                                     f"{len(vals)} values in {self.where(alt)}")
            conds: list[str] = []
            binds: list[tuple[str, str]] = []
            for p, v in zip(alt.patterns, vals):
                self.pattern(p, v, conds, binds)
            inner = sc
            pre = []
            for lean, expr in binds:
                py = py_ident(lean)
                if lean in sc.names or py in sc.params() or py in vals:
                    py = self.fresh(py.strip("_") or "b")
                pre.append(f"{ind}    {py} = {expr}")
                inner = inner.bind(lean, py)
            lines.append(f"{ind}if {' and '.join(conds) or 'True'}:")
            lines += pre
            lines += self.stmts(alt.rhs, inner, ind + "    ", wrap, at)
        lines.append(f"{ind}raise _rt.NoMatch({self.ref.decl.name!r}, {node.line})")
        return lines

    def pattern(self, p: T.Term, v: str, conds: list[str], binds: list[tuple[str, str]]) -> None:
        """Add the tests that `v` matches `p` to `conds` and the variables it binds to `binds`."""
        if isinstance(p, T.Hole):
            return
        if isinstance(p, T.Ident) and "." not in p.name and p.status != "corpus" and p.status != "external" \
                and not self._is_ctor_name(p.name):
            binds.append((p.name, v))
            return
        if isinstance(p, T.Num) and p.value is not None:
            conds.append(f"_rt.equal({v}, {p.value!r})")
            return
        if isinstance(p, T.BinOp) and p.op == "+" and isinstance(p.rhs, T.Num) and p.rhs.value is not None:
            k = p.rhs.value
            conds.append(f"_rt.nat_ge({v}, {k!r})")
            self.pattern(p.lhs, f"_rt.nat_sub({v}, {k!r})", conds, binds)
            return
        if isinstance(p, T.BinOp) and p.op == "::":
            tmp = self.fresh("m")
            conds.append(f"({tmp} := _rt.match_ctor({v}, 'cons', 2)) is not None")
            self.pattern(p.lhs, f"{tmp}[0]", conds, binds)
            self.pattern(p.rhs, f"{tmp}[1]", conds, binds)
            return
        if isinstance(p, T.ListLit):
            tmp = self.fresh("m")
            conds.append(f"({tmp} := _rt.match_list({v}, {len(p.items)})) is not None")
            for i, item in enumerate(p.items):
                self.pattern(item, f"{tmp}[{i}]", conds, binds)
            return
        if isinstance(p, (T.Tuple, T.AnonCtor)):
            tmp = self.fresh("m")
            conds.append(f"({tmp} := _rt.match_anon({v}, {len(p.items)})) is not None")
            for i, item in enumerate(p.items):
                self.pattern(item, f"{tmp}[{i}]", conds, binds)
            return
        if isinstance(p, T.Ascription):
            self.pattern(p.term, v, conds, binds)
            return
        head: T.Term = p
        args: list[T.Arg] = []
        if isinstance(p, T.App):
            head, args = p.fn, list(p.args)
        if isinstance(head, (T.Ident, T.DotIdent)):
            name = head.name.split(".")[-1]
            pos = [a for a in args if a.name is None]
            named = [a for a in args if a.name is not None]
            tmp = self.fresh("m")
            conds.append(f"({tmp} := _rt.match_ctor({v}, {name!r}, {len(pos)})) is not None")
            for i, a in enumerate(pos):
                self.pattern(a.value, f"{tmp}[{i}]", conds, binds)
            for a in named:
                self.pattern(a.value, f"_rt.ctor_named({v}, {name!r}, {a.name!r})", conds, binds)
            return
        raise Untranslatable(f"pattern `{p.node}` in {self.where(p)}")

    def _is_ctor_name(self, name: str) -> bool:
        if name in ("nil", "true", "false", "none"):
            return True
        full = self.env.resolve_name(name, self.ref)
        return full is not None and (full in self.env.ctors or full in LOOKUP and LOOKUP[full].kind == "constant")


CalleeFn = Callable[[str], "Callee | None"]


def _type_vars(env: Env, ref: DeclRef) -> set[str]:
    """Names of a declaration's binders whose type is a universe (`{α : Type}`)."""
    return {n for b in ref.decl.binders if b.type and b.type.split()[0] in ("Type", "Type*", "Sort")
            for n in b.names}


def vocab_callee(e: Entry) -> Callee:
    kinds: list[str | None] = ["α" if i in e.scalar_args else None for i in range(e.arity)]
    return Callee(f"_p.{e.py}", e.arity, e.erased, explicit_kinds=kinds, erased_names=e.erased_names,
                  receiver=e.receiver)
