"""Term tree node models (the data half of `bridge.lean.terms`).

Every node is a pydantic model with a literal `node` field (the discriminator of
`Term`) and the 1-based `line`/`column` of its first token in the Lean source.
The parser lives in `bridge.lean.terms`, which re-exports everything here; import
from there. Node names and fields are a contract with the translator
(ARCHITECTURE.md section 2): add fields with defaults, never rename.

Resolution (`bridge.resolve`) fills `target`/`status` on `Ident`, `DotIdent`
and `Proj`; the parser leaves them `None`. When the resolver finds that a
dotted identifier such as `g.eval` starts with a local, it rewrites it into
`Proj(term=Ident("g"), field="eval", target=".../Graph.eval")`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["local", "corpus", "external", "unresolved"]
BinderKind = Literal["explicit", "implicit", "strict_implicit", "instance"]


class SharedFields(set[str]):
    """A node's `__pydantic_fields_set__` shared by every node set alike.

    The parser and the resolver build nodes by the hundred thousand (bridge.lean.terms); one
    set of field names per node cost a copy per node and a resize where the resolver marks
    `target` and `status`. Nodes they build therefore share one immutable set per distinct
    content (`shared_fields`), and setting a field moves a node to the set with that name
    added (`with_fields`). Mutating one in place would change every node sharing it, so it
    raises; its copies (pydantic's `model_copy`, `copy`, pickling) are plain sets again, and
    `_Node.__setattr__` gives a node a plain set of its own before pydantic adds to it.
    """

    __slots__ = ("added",)
    added: dict[tuple[str, ...], SharedFields]  # names -> the shared set with them added

    def _immutable(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("a node's shared fields set is immutable (set a field through the node)")

    add = discard = remove = pop = clear = update = _immutable  # type: ignore[assignment]
    intersection_update = difference_update = symmetric_difference_update = _immutable  # type: ignore[assignment]
    __ior__ = __iand__ = __isub__ = __ixor__ = _immutable  # type: ignore[assignment]

    def __copy__(self) -> set[str]:
        return set(self)

    def __deepcopy__(self, memo: object) -> set[str]:
        return set(self)

    def __reduce__(self) -> tuple[type, tuple[list[str]]]:
        return set, (sorted(self),)


_SHARED: dict[frozenset[str], SharedFields] = {}
_BY_KEY: dict[tuple[str, ...], SharedFields] = {}  # field names in a call's order -> their set


def shared_fields(names: tuple[str, ...]) -> SharedFields:
    """The shared set holding `names` (one object per distinct set of names)."""
    hit = _BY_KEY.get(names)
    if hit is None:
        content = frozenset(names)
        hit = _SHARED.get(content)
        if hit is None:
            hit = _SHARED[content] = SharedFields(content)
            hit.added = {}
        _BY_KEY[names] = hit
    return hit


def with_fields(fs: SharedFields, names: tuple[str, ...]) -> SharedFields:
    """The shared set holding `fs` and `names`."""
    hit = fs.added.get(names)
    if hit is None:
        hit = fs.added[names] = shared_fields(tuple(fs) + names)
    return hit


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line: int = 1
    column: int = 1

    # Nodes the parser builds share their fields set (`SharedFields`) and leave the
    # `__pydantic_extra__`/`__pydantic_private__` slots unset (two slot writes fewer per node;
    # these models have no extra fields and no private attributes): read, an unset slot is None,
    # which is what pydantic's own `model_construct` stores there.
    def __getattr__(self, name: str) -> Any:
        if name == "__pydantic_extra__" or name == "__pydantic_private__":
            return None
        return BaseModel.__getattr__(self, name)  # type: ignore[attr-defined]

    def __setattr__(self, name: str, value: Any) -> None:
        fs = self.__pydantic_fields_set__
        if fs.__class__ is SharedFields:
            object.__setattr__(self, "__pydantic_fields_set__", set(fs))
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        fs = self.__pydantic_fields_set__
        if fs.__class__ is SharedFields:
            object.__setattr__(self, "__pydantic_fields_set__", set(fs))
        super().__delattr__(name)


class Ident(_Node):
    """A name as written (`x`, `TList.sub`, `h.symm`); `explicit` for `@f`."""

    node: Literal["ident"] = "ident"
    name: str
    explicit: bool = False
    target: str | None = None  # fully qualified name (or the local's own name)
    status: Status | None = None


class DotIdent(_Node):
    """A leading-dot name `.snoc`: a constant of the expected type's namespace."""

    node: Literal["dot_ident"] = "dot_ident"
    name: str  # without the dot
    target: str | None = None
    status: Status | None = None


class Num(_Node):
    """Numeric literal; `value` for natural numbers (decimal, hex, binary, octal)."""

    node: Literal["num"] = "num"
    text: str
    value: int | None = None


class Str(_Node):
    """String literal (`text` as written, quotes included); `value` decoded for plain strings."""

    node: Literal["str"] = "str"
    text: str
    value: str | None = None


class Char(_Node):
    node: Literal["char"] = "char"
    text: str


class Sort(_Node):
    """`Type`, `Prop`, `Sort u`, `Type u`, `Type*` (the level kept as text)."""

    node: Literal["sort"] = "sort"
    name: str
    level: str | None = None


class Hole(_Node):
    """`_`, or a synthetic/named hole `?x` (then `name` is `x`)."""

    node: Literal["hole"] = "hole"
    name: str | None = None


class Cdot(_Node):
    """`·` inside a section `(· - ·)`; see `Section`."""

    node: Literal["cdot"] = "cdot"


class Arg(_Node):
    """One argument of an application: positional, or named `(x := v)`."""

    node: Literal["arg"] = "arg"
    name: str | None = None  # set for named arguments
    value: Term


class App(_Node):
    """`fn a b (x := c)`; `@f a` shows as `fn=Ident(explicit=True)`."""

    node: Literal["app"] = "app"
    fn: Term
    args: list[Arg]


class TBinder(_Node):
    """A binder group in a term: `x`, `(x y : T)`, `{ss}`, `[Zero α]`, `⟨a, b⟩`, `x ∈ s`.

    `pattern` holds a destructuring binder (`fun ⟨a, b⟩ => …`); then `names` is empty.
    `bound_op`/`bound` hold a binder predicate (`∀ x ∈ s, …`, `∃ n < m, …`).
    """

    node: Literal["binder"] = "binder"
    names: list[str] = []
    type: Term | None = None
    info: BinderKind = "explicit"
    default: Term | None = None
    pattern: Term | None = None
    bound_op: str | None = None
    bound: Term | None = None


class Lambda(_Node):
    """`fun x (y : T) => body` / `λ x ↦ body`."""

    node: Literal["lambda"] = "lambda"
    binders: list[TBinder]
    body: Term


class MatchAlt(_Node):
    """`| p₁, p₂ => rhs`; `| a | b => rhs` gives several alternatives with one rhs each."""

    node: Literal["match_alt"] = "match_alt"
    patterns: list[Term]
    rhs: Term


class FunMatch(_Node):
    """`fun | pat => … | pat => …`."""

    node: Literal["fun_match"] = "fun_match"
    alts: list[MatchAlt]


class Alternatives(_Node):
    """A declaration body given by equations (`value_form == "alternatives"`)."""

    node: Literal["alternatives"] = "alternatives"
    alts: list[MatchAlt]


class Match(_Node):
    """`match h : a, b with | … => …`; `hyps[i]` names the equation of `discriminants[i]`."""

    node: Literal["match"] = "match"
    discriminants: list[Term]
    hyps: list[str | None] = []
    alts: list[MatchAlt]


class Section(_Node):
    """A `·` section: `(· - ·)` is `fun a b => a - b`; `body` holds `Cdot` nodes in order."""

    node: Literal["section"] = "section"
    body: Term


class Let(_Node):
    """`let x (y : T) : U := v; body`, `have h : T := v`, `let ⟨a, b⟩ := v`.

    `keyword` is `let`, `have`, `let rec`, `letI`, `haveI`, `show` is separate. `body` is None
    when the term ends after the definition. `pattern` is set for destructuring lets.
    """

    node: Literal["let"] = "let"
    keyword: str = "let"
    name: str | None = None
    binders: list[TBinder] = []
    type: Term | None = None
    value: Term
    pattern: Term | None = None
    body: Term | None = None


class If(_Node):
    """`if c then a else b`; `if h : c then …` sets `hyp`."""

    node: Literal["if"] = "if"
    hyp: str | None = None
    cond: Term
    then: Term
    else_: Term | None = None


class Quant(_Node):
    """Binder notation: `∀ x, P`, `∃ x, P`, `Π`, `Σ`, `∃!`, `∑ i, f i`, and dependent
    arrows `(x : A) → B` / `{x : A} → B` (quantifier `"→"`)."""

    node: Literal["quant"] = "quant"
    quantifier: str
    binders: list[TBinder]
    body: Term


class Arrow(_Node):
    """Non-dependent function type `a → b` (right associative)."""

    node: Literal["arrow"] = "arrow"
    dom: Term
    cod: Term


class BinOp(_Node):
    """Infix operator `lhs op rhs` (`op` as written: `+`, `++`, `∘`, `↔`, `<|`, `▸` ...)."""

    node: Literal["binop"] = "binop"
    op: str
    lhs: Term
    rhs: Term


class UnOp(_Node):
    """Prefix (`¬ p`, `-x`, `↑x`, `!b`) or postfix (`x⁻¹`, `A†`) operator."""

    node: Literal["unop"] = "unop"
    op: str
    arg: Term
    postfix: bool = False


class Ascription(_Node):
    """`(e : T)`."""

    node: Literal["ascription"] = "ascription"
    term: Term
    type: Term


class ListLit(_Node):
    """`[a, b]`, or `#[a, b]` when `array`."""

    node: Literal["list"] = "list"
    items: list[Term]
    array: bool = False


class Tuple(_Node):
    """`(a, b, c)` (right-nested pairs in Lean); `()` is the empty tuple (Unit)."""

    node: Literal["tuple"] = "tuple"
    items: list[Term]


class AnonCtor(_Node):
    """`⟨a, b⟩`."""

    node: Literal["anon_ctor"] = "anon_ctor"
    items: list[Term]


class FieldInit(_Node):
    """`f := v` (or `f x := v`) inside a structure instance."""

    node: Literal["field_init"] = "field_init"
    name: str
    binders: list[TBinder] = []
    value: Term


class StructInst(_Node):
    """`{ f := v, g := w }`, `{ s with f := v }`, optionally `: T` at the end."""

    node: Literal["struct_inst"] = "struct_inst"
    base: Term | None = None
    fields: list[FieldInit]
    type: Term | None = None


class Proj(_Node):
    """`e.f`, `e.1`, and generalized field notation `x.foo` once resolved.

    `field` is a name or a 1-based index as text. The resolver sets `target` to the
    structure field or the function `T.foo` that `x.foo` means.
    """

    node: Literal["proj"] = "proj"
    term: Term
    field: str
    target: str | None = None
    status: Status | None = None


class Index(_Node):
    """`xs[i]`, `xs[i]'h`, `xs[i]!`, `xs[i]?`; `suffix` holds the variant."""

    node: Literal["index"] = "index"
    term: Term
    index: Term
    suffix: str | None = None
    proof: Term | None = None


class Show(_Node):
    """`show T from e`, `show T by tac`, or plain `show T` (then `value` is None)."""

    node: Literal["show"] = "show"
    type: Term
    value: Term | None = None


class Tactic(_Node):
    """`by …`: an opaque tactic block, kept as text (without the `by`)."""

    node: Literal["tactic"] = "tactic"
    text: str


class Opaque(_Node):
    """A construct kept as text on purpose: `calc …`, `do …`, quotations."""

    node: Literal["opaque"] = "opaque"
    keyword: str
    text: str


class Unparsed(_Node):
    """Text outside the grammar, with its position; `reason` says what stopped the parser."""

    node: Literal["unparsed"] = "unparsed"
    text: str
    reason: str = ""


Term = Annotated[
    Ident | DotIdent | Num | Str | Char | Sort | Hole | Cdot | App | Lambda | FunMatch | Alternatives | Match | Section | Let | If | Quant | Arrow | BinOp | UnOp | Ascription | ListLit | Tuple | AnonCtor | StructInst | Proj | Index | Show | Tactic | Opaque | Unparsed,
    Field(discriminator="node"),
]

NODE_TYPES: tuple[type[_Node], ...] = (
    Ident, DotIdent, Num, Str, Char, Sort, Hole, Cdot, App, Lambda, FunMatch, Alternatives,
    Match, Section, Let, If, Quant, Arrow, BinOp, UnOp, Ascription, ListLit, Tuple, AnonCtor,
    StructInst, Proj, Index, Show, Tactic, Opaque, Unparsed,
)
AUX_TYPES: tuple[type[_Node], ...] = (Arg, TBinder, MatchAlt, FieldInit)

for _m in NODE_TYPES + AUX_TYPES:
    _m.model_rebuild()
