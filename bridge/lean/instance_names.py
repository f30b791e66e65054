"""Names of anonymous instances, as Lean 4 generates them, approximated from the source text.

Lean (`Lean.Elab.DeclNameGen`) elaborates the instance's binders and type and prints the result:
``inst`` + the conclusion + ``Of<T>`` for each binder the rest does not depend on (instance
binders, mostly). Printing keeps constants (last name component, capitalised), `Prop`/`Type`/
`Sort`, ``Forall`` for arrows; it drops local variables, literals, proofs and implicit arguments,
mentions each subterm once, and leaves out every prefix of the current namespace that is a
constant (`instance : ToString Color` inside `namespace Color` is `Color.instToString`). When no
constant of the name is declared in the current module, it appends a suffix: ``_<project>`` when
one comes from the same project (the module's root), else the whole module (``_nN_spec_foo``).

Without elaboration this module works on the parsed term: a written argument counts as explicit,
notation is mapped to the constant it stands for (``ℝ`` → `Real`, ``<`` → `LT.lt`, a section
``(· < ·)`` → `LT.lt` by eta-reduction), a single-letter or Greek identifier not declared here is an
auto-bound variable, and "another project" means a constant from Lean's core or Mathlib we know by
name (`EXTERNAL`). Unknown shapes fall back to the constants written in the type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bridge.lean import term_nodes as tn
from bridge.lean.terms import parse_term

# notation for constants (types and propositions)
NOTATION = {"ℝ": "Real", "ℚ": "Rat", "ℕ": "Nat", "ℤ": "Int", "ℂ": "Complex", "ℝ≥0": "NNReal",
            "ℝ≥0∞": "ENNReal", "Prop": "Prop"}
# operators → the constant they elaborate to (the printed word is its capitalised last component)
OPERATORS = {
    "+": "HAdd.hAdd", "-": "HSub.hSub", "*": "HMul.hMul", "/": "HDiv.hDiv", "%": "HMod.hMod",
    "^": "HPow.hPow", "++": "HAppend.hAppend", "•": "HSMul.hSMul", "∘": "Function.comp",
    "<": "LT.lt", ">": "GT.gt", "≤": "LE.le", "<=": "LE.le", "≥": "GE.ge", ">=": "GE.ge",
    "=": "Eq", "≠": "Ne", "!=": "bne", "==": "BEq.beq", "∧": "And", "∨": "Or", "↔": "Iff",
    "×": "Prod", "⊕": "Sum", "∣": "Dvd.dvd", "∈": "Membership.mem", "⊆": "HasSubset.Subset",
    "::": "List.cons", "¬": "Not",
}
# operators whose function takes the operands' type as an implicit argument (a type former, which
# Lean prints): `a < b` is `@LT.lt α _ a b`, `a + b` is `@HAdd.hAdd α α α _ a b`
TYPED_OPERATORS = frozenset({"+", "-", "*", "/", "%", "<", ">", "≤", "<=", "≥", ">=", "=", "≠", "==", "!="})
# constants from other projects (Lean core, Batteries, Mathlib) that instance types often mention
_EXTERNAL_NAMES = """
Nat Int Float Float32 UInt8 UInt16 UInt32 UInt64 USize Char String Bool Prop Type Sort Unit PUnit
List Array Option Except Id IO StateT ReaderT ExceptT EStateM Fin Subtype Prod Sum Sigma PSigma
Real Rat Complex NNReal ENNReal Function Set Finset Multiset Matrix
Inhabited Nonempty ToString Repr Hashable BEq DecidableEq Decidable DecidableRel DecidablePred
Coe CoeTail CoeHead CoeOut CoeSort CoeFun CoeDep OfNat OfScientific NatCast IntCast
Add Sub Mul Div Neg Mod Pow HAdd HSub HMul HDiv HMod HPow HAppend SMul HSMul Append
Zero One LT LE GT GE Max Min Ord Ordering Eq Ne And Or Not Iff
Functor Applicative Monad MonadLift MonadExcept Pure Bind Seq Alternative ForIn Membership
EmptyCollection Singleton Insert GetElem Inv Dvd AddMonoid Monoid Semiring Ring CommRing Field
Preorder PartialOrder LinearOrder Lattice Fintype Finite Countable Encodable Setoid HasSubset bne
"""
EXTERNAL = frozenset(_EXTERNAL_NAMES.split())
_AUTO_BOUND = re.compile(r"^[a-zα-ωΑ-Ω][₀-₉0-9']*$")


def _word(name: str) -> str:
    last = name.rsplit(".", 1)[-1]
    return last[:1].upper() + last[1:] if last[:1].isalpha() else ""


class _Namer:
    def __init__(self, bound: set[str], ns_prefixes: list[str], local: set[str],
                 types: dict[str, tn.Term] | None = None) -> None:
        self.bound = bound  # local variables: binder names, auto-bound implicits
        self.types = types or {}  # annotated types of the instance's binders
        self.ns_prefixes = ns_prefixes  # current namespace and its prefixes, longest first
        self.local = local  # names declared so far in this module
        self.seen: set[str] = set()  # subterms already printed (Lean prints each once)
        self.consts: list[str] = []  # constants that contribute (fully qualified where known)

    def const(self, name: str) -> str:
        name = NOTATION.get(name, name)
        full = self.resolve(name)
        if full in self.seen:
            return ""
        self.seen.add(full)
        self.consts.append(full)
        return _word(full)

    def type_of(self, t: tn.Term) -> tn.Term | None:
        """The type of an operand when the text says it: an annotated binder, a numeral (Nat)."""
        if isinstance(t, tn.Ident) and t.name in self.types:
            return self.types[t.name]
        if isinstance(t, tn.Num) and t.value is not None:
            return tn.Ident(name="Nat")
        if isinstance(t, tn.Ascription):
            return t.type
        return None

    def resolve(self, name: str) -> str:
        for p in self.ns_prefixes:
            if f"{p}.{name}" in self.local:
                return f"{p}.{name}"
        return name

    def seed_namespace(self, mentioned: set[str]) -> None:
        """Each prefix of the namespace that is a constant is already seen: one declared in this
        module, or one the type itself names (so it must be a constant)."""
        for p in self.ns_prefixes:
            last = p.rsplit(".", 1)[-1]
            if p in self.local or last in mentioned or p in mentioned:
                self.seen.update((p, last))
                self.consts.append(p)

    def name(self, t: tn.Term | None) -> str:
        # Lean mentions each subterm once; here constants and sorts are de-duplicated by name
        # (`const`), which covers it: a repeated subterm's constants are all seen already (only
        # a repeated arrow still says `Forall` again)
        return "" if t is None else self._name(t)

    def _name(self, t: tn.Term) -> str:
        if isinstance(t, tn.Ident):
            if t.name in self.bound or (_AUTO_BOUND.match(t.name) and t.name not in NOTATION
                                        and self.resolve(t.name) not in self.local):
                return ""
            return self.const(t.name)
        if isinstance(t, tn.DotIdent):
            return self.const(t.name)
        if isinstance(t, tn.Sort):
            word = {"Prop": "Prop", "Type": "Type"}.get(t.name, "Sort")
            if word in self.seen:
                return ""
            self.seen.add(word)
            return word
        if isinstance(t, tn.App):
            out = self.name(t.fn)
            for a in t.args:
                # a named argument counts when it is a type or type former (Lean visits those
                # even when implicit): here, when its head is a capitalised constant
                if a.name is None or _type_like(a.value):
                    out += self.name(a.value)
            return out
        if isinstance(t, tn.Arrow):
            return "Forall" + self.name(t.dom) + self.name(t.cod)
        if isinstance(t, tn.BinOp):
            op = OPERATORS.get(t.op)
            head = self.const(op) if op else ""
            if t.op in TYPED_OPERATORS:
                head += self.name(self.type_of(t.lhs) or self.type_of(t.rhs))
            return head + self.name(t.lhs) + self.name(t.rhs)
        if isinstance(t, tn.UnOp):
            op = OPERATORS.get(t.op)
            return (self.const(op) if op else "") + self.name(t.arg)
        if isinstance(t, tn.Section):
            body = t.body
            if isinstance(body, tn.BinOp) and isinstance(body.lhs, tn.Cdot) and isinstance(body.rhs, tn.Cdot):
                op = OPERATORS.get(body.op)  # `(· < ·)` eta-reduces to the operator's function
                return self.const(op) if op else ""
            return self.name(body)
        if isinstance(t, tn.Ascription):
            return self.name(t.term)
        if isinstance(t, tn.Lambda):
            saved = set(self.bound)
            for b in t.binders:
                self.bound.update(b.names)
            try:
                return self.name(t.body)
            finally:
                self.bound = saved
        if isinstance(t, tn.Quant) and t.quantifier in ("∀", "Π"):
            saved = set(self.bound)
            for b in t.binders:
                self.bound.update(b.names)
            try:
                return "Forall" + self.name(t.body)
            finally:
                self.bound = saved
        if isinstance(t, tn.Num) and t.value is not None:
            # `@OfNat.ofNat T n _`: T printed, the raw literal not (T: Nat unless known otherwise)
            return self.const("OfNat.ofNat") + self.const("Nat")
        if isinstance(t, (tn.Num, tn.Str, tn.Char, tn.Hole, tn.Cdot)):
            return ""
        if isinstance(t, tn.Tuple) and len(t.items) == 1:
            return self.name(t.items[0])
        raise _Unknown


class _Unknown(Exception):
    """A term shape this approximation does not print: fall back to the constants written."""


def _type_like(t: tn.Term) -> bool:
    head = t.fn if isinstance(t, tn.App) else t
    return isinstance(head, tn.Ident) and head.name.rsplit(".", 1)[-1][:1].isupper()


def _idents(text: str) -> set[str]:
    return set(re.findall(r"[^\W\d][\w.'₀-₉]*", text))


def _fallback(typ: str) -> str:
    words: list[str] = []
    for dot, w in re.findall(r"(?<![\w.'])(\.?)([A-Za-z_][\w.']*)", typ):
        last = w.rsplit(".", 1)[-1]
        if (dot or w[:1].isupper()) and last and last[:1].isalpha():
            word = last[:1].upper() + last[1:]
            if word not in words:
                words.append(word)
    return "".join(words)


def _suffix(module: str) -> str:
    return "".join("_" + c[:1].lower() + c[1:] for c in module.split(".") if c)


def instance_name(typ: str, binders: Sequence[tuple[list[str], str | None, str]], namespace: str,
                  module: str, local: set[str], variables: Iterable[str] = ()) -> str:
    """The short name (without namespace) Lean gives `instance <binders> : <typ>`.

    `binders`: the instance's own binder groups as (names, type text, info); `namespace`: the
    current namespace; `module`: the module's name; `local`: fully qualified names declared
    earlier in this module; `variables`: names of the section variables in scope (local
    variables, like the binders, but never named `Of…`)."""
    parts = namespace.split(".") if namespace else []
    prefixes = [".".join(parts[:k]) for k in range(len(parts), 0, -1)]
    bound = {n for names, _, _ in binders for n in names} | set(variables)
    types = {n: parse_term(t) for names, t, _ in binders if t for n in names}
    namer = _Namer(set(bound), prefixes, local, types)
    mentioned = _idents(typ) | {i for _, t, _ in binders if t for i in _idents(t)}
    namer.seed_namespace(mentioned)
    try:
        base = namer.name(parse_term(typ))
        # Lean names the conclusion first, then the binder types from the last one back (which
        # decides where a repeated subterm is mentioned), and lists them in binder order
        ofs: list[str] = []
        for k in range(len(binders) - 1, -1, -1):
            names, btyp, _info = binders[k]
            later = typ + " " + " ".join(t or "" for _, t, _ in binders[k + 1:])
            if names and _idents(later) & set(names):
                continue  # a dependent binder: the rest mentions it
            piece = namer.name(parse_term(btyp)) if btyp else ""
            if piece:
                ofs.insert(0, "Of" + piece)
        name = "inst" + base + "".join(ofs)
    except _Unknown:
        return "inst" + _fallback(typ)
    consts = namer.consts
    if any(c in local for c in consts):
        return name
    root = module.split(".", 1)[0]
    if any(c.split(".", 1)[0] not in EXTERNAL for c in consts):
        return name + _suffix(root)
    return name + _suffix(module)
