"""Lean terms as trees: `parse_term(text, line=1, column=1) -> Term`.

The node models live in `bridge.lean.term_nodes` and are re-exported here (node
names are stable; see that module). The parser is a Pratt parser over the
tokens of `bridge.lean.lexer.tokenize`, with Lean 4's precedences:

    ↔ 20 · → 25 (right) · ∨ 30 (right) · ∧ × 35 (right) · = ≠ < ≤ ∈ … 50
    ++ + - 65 (left) · :: 67 (right) · * / % ⊙ 70 (left) · • 73 · ^ ▸ 75 (right)
    ∘ 90 (right) · <| $ 10 (right) · |> 10 (left) · application above all
    prefix: ¬ (argument at 40), - (at 75), ↑ ! (at max)

Layout: like Lean, an application argument or an operator on a *new line* at a
column <= the column of the enclosing `let`/`have`/`|` ends the term (this is
how `let x := v` followed by the body on the next line is split). Inside
brackets layout does not matter.

It never raises: a bracket group whose content does not parse becomes an
`Unparsed` node with the group's text, and a stray token becomes an `Unparsed`
node of its own. `by` blocks, `calc` and `do` are opaque (`Tactic`, `Opaque`).
"""

from __future__ import annotations

import ast
import bisect
import re
from typing import Any, TypeVar

from pydantic import BaseModel

from bridge.lean.commands import bars_enclose
from bridge.lean.lexer import CHAR, ERROR, IDENT, NUMBER, STRING, SUBSCRIPT, SYMBOL, Token, tokenize
from bridge.lean.term_nodes import *
from bridge.lean.term_nodes import (
    AUX_TYPES,
    NODE_TYPES,
    Alternatives,
    AnonCtor,
    App,
    Arg,
    Arrow,
    Ascription,
    BinOp,
    Cdot,
    Char,
    DotIdent,
    FieldInit,
    FunMatch,
    Hole,
    Ident,
    If,
    Index,
    Lambda,
    Let,
    ListLit,
    Match,
    MatchAlt,
    Num,
    Opaque,
    Proj,
    Quant,
    Section,
    SharedFields,
    Show,
    Sort,
    Str,
    StructInst,
    Tactic,
    TBinder,
    Term,
    Tuple,
    UnOp,
    Unparsed,
    _Node,
    shared_fields,
)

_N = TypeVar("_N", bound=_Node)

# ---- fast node construction -------------------------------------------------------------------
# The parser builds trusted values only, so nodes skip pydantic validation: `_b(Cls, **fields)`
# gives the same object `Cls(**fields)` would (same __dict__ in field order, fresh mutable
# defaults, the same `model_fields_set`), like `model_construct` but cheaper.
_new = object.__new__
_set = object.__setattr__


def _slot_setter(name: str) -> Any:
    """The `__set__` of BaseModel's own slot `name` (its `__dict__` and pydantic's bookkeeping
    slots): called directly, about three times cheaper than `object.__setattr__`, which looks the
    attribute up through the class first. Nodes are built by the hundred thousand."""
    for klass in BaseModel.__mro__:
        desc = klass.__dict__.get(name)
        if desc is not None and hasattr(desc, "__set__"):
            return desc.__set__
    return lambda obj, value: _set(obj, name, value)  # pragma: no cover - another pydantic layout


_set_dict = _slot_setter("__dict__")
_set_fields_set = _slot_setter("__pydantic_fields_set__")
set_fields_set = _set_fields_set  # public: the resolver moves nodes between shared sets
_TEMPLATE: dict[type, dict[str, Any]] = {}  # class -> every field with its default, in order
_MUTABLE: dict[type, tuple[str, ...]] = {}  # class -> fields whose default is a list
_CHILDREN: dict[type, tuple[str, ...]] = {}  # class -> fields that may hold nodes or lists
CHILD_FIELDS = _CHILDREN  # public: what tree walkers (bridge.resolve) recurse into, per node class


def _holds_nodes(annotation: Any) -> bool:
    if isinstance(annotation, type):
        return issubclass(annotation, _Node)
    return getattr(annotation, "__origin__", None) is list or any(
        _holds_nodes(a) for a in getattr(annotation, "__args__", ()) if not isinstance(a, str))


for _cls in NODE_TYPES + AUX_TYPES:
    _TEMPLATE[_cls] = {k: (None if f.is_required() else f.default) for k, f in _cls.model_fields.items()}
    _MUTABLE[_cls] = tuple(k for k, v in _TEMPLATE[_cls].items() if isinstance(v, list))
    _CHILDREN[_cls] = tuple(k for k, f in _cls.model_fields.items() if _holds_nodes(f.annotation))


def _b(cls: type[_N], **kw: Any) -> _N:
    d = _TEMPLATE[cls].copy()
    d.update(kw)
    for k in _MUTABLE[cls]:
        if k not in kw:
            d[k] = []
    o = _new(cls)
    _set_dict(o, d)
    _set_fields_set(o, shared_fields(tuple(kw)))  # see SharedFields; extra/private left unset
    return o


make_node = _b  # public: trusted construction for the resolver's rewrites (`g.eval` → Proj)


def _clone(x: Any, dl: int, dc: int, memo: dict[int, Any] | None) -> Any:
    """A fresh copy of a tree parsed at line 1, column 1, moved to start at line 1 + dl,
    column 1 + dc (what parsing it there gives). With `memo`, a node shared by several
    parents (`x y : T`, `| a | b => rhs`) stays shared in the copy."""
    if memo is not None:
        y = memo.get(id(x))
        if y is None:
            y = memo[id(x)] = _CLONE_MEMO[x.__class__](x, dl, dc, memo)
        return y
    return _CLONE[x.__class__](x, dl, dc)


def copy_tree(t: _N) -> _N:
    """A fresh copy of a tree, positions kept; a node shared by several parents stays shared."""
    return _clone(t, 0, 0, {})  # type: ignore[no-any-return]


def _list_kind(annotation: Any) -> str:
    """'nodes' for a list of nodes, 'values' for a list of plain values, '' for no list (a node
    or None). The generated clones rely on a field being always or never a list."""
    if getattr(annotation, "__origin__", None) is list:
        return "nodes" if any(_holds_nodes(a) for a in annotation.__args__) else "values"
    if any(getattr(a, "__origin__", None) is list for a in getattr(annotation, "__args__", ())):
        raise TypeError(f"a node field that may or may not be a list: {annotation}")
    return ""


def _cloner(cls: type[_Node], memo: bool) -> Any:
    """`_clone` for one node class, as straight-line code (the hot path of `parse_term`): with
    `memo` (trees with shared nodes) or without (most trees: no memo to look up or pass on).
    Lists of `Arg`s, the commonest nodes after identifiers, are copied inline."""
    sig = "x, dl, dc, memo" if memo else "x, dl, dc"
    child = "_clone(v, dl, dc, memo)" if memo else "_CLONE[v.__class__](v, dl, dc)"
    lines = [
        f"def clone({sig}):",
        "    d = x.__dict__.copy()",
        "    if d['line'] == 1:",
        "        d['column'] += dc",
        "    d['line'] += dl",
    ]
    for k in _CHILDREN[cls]:
        ann = cls.model_fields[k].annotation
        kind = _list_kind(ann)
        lines.append(f"    v = d[{k!r}]")
        if kind == "values":
            lines.append(f"    d[{k!r}] = list(v)")
        elif kind == "nodes" and getattr(ann, "__args__", ())[:1] == (Arg,) and not memo:
            lines += [
                "    if v:",
                "        out = []",
                "        for e in v:",
                "            ed = e.__dict__.copy()",
                "            if ed['line'] == 1:",
                "                ed['column'] += dc",
                "            ed['line'] += dl",
                "            w = ed['value']",
                "            ed['value'] = _CLONE[w.__class__](w, dl, dc)",
                "            y = _new(Arg)",
                "            _set_dict(y, ed)",
                "            fs = e.__pydantic_fields_set__",
                "            _set_fields_set(y, fs if fs.__class__ is SharedFields else fs.copy())",
                "            out.append(y)",
                f"        d[{k!r}] = out",
                "    else:",
                f"        d[{k!r}] = []",
            ]
        elif kind == "nodes":
            elem = "_clone(e, dl, dc, memo)" if memo else "_CLONE[e.__class__](e, dl, dc)"
            lines.append(f"    d[{k!r}] = [{elem} for e in v]")
        else:  # a node, or None
            lines += [
                "    if v is not None:",
                f"        d[{k!r}] = {child}",
            ]
    lines += [
        "    y = _new(cls)",
        "    _set_dict(y, d)",
        "    fs = x.__pydantic_fields_set__",  # shared (immutable) or a node's own (copied)
        "    _set_fields_set(y, fs if fs.__class__ is SharedFields else fs.copy())",
        "    return y",
    ]
    ns: dict[str, Any] = {"cls": cls, "Arg": Arg, "_new": _new, "_set_dict": _set_dict,
                          "_set_fields_set": _set_fields_set, "SharedFields": SharedFields, "_clone": _clone,
                          "_CLONE": _CLONE}
    exec("\n".join(lines), ns)  # noqa: S102 - generated from the model's own field names
    return ns["clone"]


_CLONE: dict[type, Any] = {}  # class -> clone(x, dl, dc)
_CLONE_MEMO: dict[type, Any] = {}  # class -> clone(x, dl, dc, memo)
NODE_CLASSES = frozenset(NODE_TYPES + AUX_TYPES)  # public: every node class (none has subclasses)
_CLONE.update({c: _cloner(c, memo=False) for c in NODE_TYPES + AUX_TYPES})
_CLONE_MEMO.update({c: _cloner(c, memo=True) for c in NODE_TYPES + AUX_TYPES})

MAX = 1024
# op -> (precedence, associativity: "l", "r" or "n")
BINOPS: dict[str, tuple[int, str]] = {
    "<|": (10, "r"), "$": (10, "r"), "|>": (10, "l"),
    "↔": (20, "n"), "<->": (20, "n"), "<|>": (20, "l"),
    "→": (25, "r"), "->": (25, "r"), "≃": (25, "r"),
    "∨": (30, "r"), "\\/": (30, "r"), "||": (30, "l"), "⊕": (30, "r"), "^^": (33, "l"),
    "∧": (35, "r"), "/\\": (35, "r"), "&&": (35, "l"), "×": (35, "r"), "×'": (35, "r"),
    "=": (50, "n"), "==": (50, "n"), "≠": (50, "n"), "!=": (50, "n"), "<": (50, "n"),
    ">": (50, "n"), "≤": (50, "n"), "≥": (50, "n"), "<=": (50, "n"), ">=": (50, "n"),
    "∈": (50, "n"), "∉": (50, "n"), "⊆": (50, "n"), "⊂": (50, "n"), "⊇": (50, "n"),
    "⊃": (50, "n"), "∣": (50, "n"), "≈": (50, "n"), "≡": (50, "n"), "≅": (50, "n"),
    ">>=": (55, "l"), ">=>": (55, "r"), "<=<": (55, "r"), "|||": (55, "l"), "^^^": (58, "l"), "&&&": (60, "l"), "<*>": (60, "l"), "<*": (60, "l"), "*>": (60, "r"), ">>": (60, "l"),
    "++": (65, "l"), "+": (65, "l"), "-": (65, "l"), "∪": (65, "l"),
    "::": (67, "r"),
    "*": (70, "l"), "/": (70, "l"), "%": (70, "l"), "⊙": (70, "l"), "∩": (70, "l"),
    "\\": (70, "l"), "⊗": (70, "l"),
    "•": (73, "r"),
    "^": (75, "r"), "▸": (75, "r"), "<<<": (75, "l"), ">>>": (75, "l"),
    "∘": (90, "r"), "<$>": (100, "r"), "<&>": (100, "l"),
}
_SUBSCRIPTED = re.compile(f"(\\S+?)[{SUBSCRIPT}ˢ]+")  # the lexer's operator suffixes


def binop(s: str) -> tuple[int, str] | None:
    """(precedence, associativity) of infix `s`; an operator with a subscript suffix (`×ₖ`,
    `∘ₗ`, `×ˢ`: Mathlib's variants of an operator) parses as its base operator does."""
    op = BINOPS.get(s)
    if op is None and len(s) > 1:
        m = _SUBSCRIPTED.fullmatch(s)
        if m:
            return BINOPS.get(m.group(1))
    return op


# prefix op -> precedence its argument is parsed at
PREFIX: dict[str, int] = {"¬": 40, "-": 75, "↑": MAX, "!": 40, "←": 0, "√": MAX, "⇑": MAX, "∑'": 67, "~~~": MAX}
POSTFIX = frozenset({"⁻¹", "†", "ᵀ", "ᴴ"})
# constants written as a symbol: the constant Lean elaborates them to
_NULLARY = {"⊥": "Bot.bot", "⊤": "Top.top", "∅": "EmptyCollection.emptyCollection", "∞": "Top.top"}
QUANTIFIERS = frozenset({"∀", "∃", "Π", "Σ", "∃!", "∑", "∏", "⋃", "⋂", "⨆", "⨅", "Σ'"})
BINDER_PRED = frozenset({"∈", "∉", "⊆", "⊂", "⊇", "⊃", "<", "≤", ">", "≥", "≠", "in"})
# tokens that end any term (the enclosing construct consumes them)
STOPS = frozenset({
    ")", "]", "}", "⟩", "⦄", "›", "]'", "⌋", "⌉", ",", ":=", "=>", "↦", "|", "‖", ":", ";", "..", "//", "←", "<;>",
    "then", "else", "with", "from", "in", "at", "where", "termination_by", "decreasing_by",
    "deriving", "generalizing", "using", "|>.",
})
KEYWORDS = frozenset({
    "fun", "let", "have", "show", "if", "match", "by", "calc", "do", "then", "else", "with", "from",
    "in", "at", "where", "termination_by", "decreasing_by", "deriving", "letI", "haveI", "suffices",
    "generalizing", "using", "nomatch", "nofun", "return", "unless", "for", "mut", "try", "catch",
    "finally", "open", "set_option",
})
LET_WORDS = frozenset({"let", "have", "letI", "haveI", "let'", "suffices"})
OPENERS = {"(": ")", "[": "]", "{": "}", "⟨": "⟩", "⦃": "⦄", "#[": "]", "@[": "]", "%[": "]",
           "‹": "›", "`(": ")", "``(": ")", "$(": ")", "⟦": "⟧", "⟪": "⟫", "⌊": "⌋", "⌈": "⌉"}
CLOSERS = frozenset({")", "]", "}", "⟩", "⦄", "›", "]'", "⟧", "⟫", "⌋", "⌉"})
_BINDER_OPEN = {"(": "explicit", "{": "implicit", "⦃": "strict_implicit", "[": "instance"}


class _Parser:
    def __init__(self, text: str, tokens: list[Token], line: int, column: int) -> None:
        self.text = text
        self.toks = tokens
        self.n = len(tokens)
        self.i = 0
        self.end = self.n  # tokens at or after `end` read as end of input (bracket limits)
        self.stop_col = -1  # layout: a new-line token at a column <= this ends the term
        self.cdots: list[int] = []
        self.base_line = line
        self.base_col = column
        self._nl = [0]
        pos = text.find("\n")
        while pos >= 0:
            self._nl.append(pos + 1)
            pos = text.find("\n", pos + 1)
        self.multiline = len(self._nl) > 1
        self.shared = False  # a node got several parents (see `_clone`)
        self.positional = False  # the tree has text that depends on line/column (a reason)
        self.close = self._match_brackets()

    # ---- positions ---------------------------------------------------------------------------
    def _match_brackets(self) -> dict[int, int]:
        out: dict[int, int] = {}
        stack: list[int] = []
        for k, t in enumerate(self.toks):
            if t[0] != SYMBOL:
                continue
            s = t[1]
            if s in OPENERS:
                stack.append(k)
            elif s in CLOSERS and stack:
                out[stack.pop()] = k
        return out

    def pos(self, k: int) -> tuple[int, int]:
        off = self.toks[k][2] if k < self.n else len(self.text)
        if not self.multiline:
            return self.base_line, self.base_col + off
        ln = bisect.bisect_right(self._nl, off) - 1
        col = off - self._nl[ln]
        if ln == 0:
            return self.base_line, self.base_col + col
        return self.base_line + ln, col + 1

    def col(self, k: int) -> int:
        return self.pos(k)[1]

    def newline_before(self, k: int) -> bool:
        return self.multiline and k > 0 and self.text.find("\n", self.toks[k - 1][3], self.toks[k][2]) >= 0

    def span(self, a: int, b: int) -> str:
        """Source text of tokens [a, b)."""
        if a >= b or a >= self.n:
            return ""
        return self.text[self.toks[a][2] : self.toks[min(b, self.n) - 1][3]]

    # ---- token helpers -----------------------------------------------------------------------
    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.toks[j] if j < self.end else None

    def at(self, s: str) -> bool:
        t = self.peek()
        return t is not None and t[1] == s and t[0] in (SYMBOL, IDENT)

    def eat(self, s: str) -> bool:
        if self.at(s):
            self.i += 1
            return True
        return False

    def stopped(self) -> bool:
        """End of the current term: end of input, a stop token, or layout."""
        t = self.peek()
        if t is None:
            return True
        if t[0] in (SYMBOL, IDENT) and t[1] in STOPS:
            return True
        return self.stop_col >= 0 and self.newline_before(self.i) and self.col(self.i) <= self.stop_col

    def node_at(self, k: int) -> dict[str, Any]:  # Any: mypy cannot check **kwargs of models
        if not self.multiline:
            return {"line": self.base_line,
                    "column": self.base_col + (self.toks[k][2] if k < self.n else len(self.text))}
        ln, c = self.pos(k)
        return {"line": ln, "column": c}

    def unparsed(self, a: int, b: int, reason: str) -> Unparsed:
        return _b(Unparsed, text=self.span(a, b), reason=reason, **self.node_at(a))

    def adjacent(self, k: int) -> bool:
        """Token k touches the token before it (no whitespace): `x.1`, `xs[i]`."""
        return 0 < k < self.n and self.toks[k - 1][3] == self.toks[k][2]

    # ---- groups ------------------------------------------------------------------------------
    def group(self, fn):  # type: ignore[no-untyped-def]
        """Run `fn` on the content of the bracket at `self.i`; returns (result, ok, open, close)."""
        o = self.i
        c = self.close.get(o, -1)
        if c < 0 or c >= self.end:
            # unbalanced: the rest is unparsed
            self.i = self.end
            return None, False, o, self.end
        saved = (self.end, self.stop_col)
        self.end, self.stop_col = c, -1
        self.i = o + 1
        try:
            res = fn()
            ok = self.i == c
        finally:
            self.end, self.stop_col = saved
        self.i = c + 1
        return res, ok, o, c

    # ---- entry points ------------------------------------------------------------------------
    def parse_all(self) -> Term:
        if self.n == 0:
            return _b(Unparsed, text=self.text.strip(), reason="empty term", line=self.base_line, column=self.base_col)
        t: Term | None = None
        if self.at("|") and self.adjacent(1):  # `|x| …` (absolute value) rather than `| pat => …`
            t = self.expr(0)
            if self.i < self.n:
                t, self.i = None, 0
        if t is None and self.at("|"):
            t = _b(Alternatives, alts=self.alts(), **self.node_at(0))
        elif t is None:
            t = self.expr(0)
        if self.i < self.n:
            ln, c = self.pos(self.i)
            self.positional = True
            return self.unparsed(0, self.n, f"unexpected {self.toks[self.i][1]!r} at {ln}:{c}")
        return t

    def expr(self, min_prec: int) -> Term:
        start = self.i
        left = self.leading(min_prec)
        while True:
            t = self.peek()
            if t is None or (self.stop_col >= 0 and self.newline_before(self.i)
                             and self.col(self.i) <= self.stop_col):
                break
            s = t[1]
            if t[0] == SYMBOL and s == "|>.":
                if min_prec > 10:
                    break
                self.i += 1
                nm = self.peek()
                if nm is None or nm[0] != IDENT:
                    break
                self.i += 1
                fn: Term = _b(Proj, term=left, field=nm[1], **self.node_at(start))
                args = self.args()
                left = _b(App, fn=fn, args=args, **self.node_at(start)) if args else fn
                continue
            op = binop(s) if t[0] == SYMBOL else None
            if op is None:
                break
            prec, assoc = op
            if prec < min_prec:
                break
            self.i += 1
            rhs = self.expr(prec if assoc == "r" else prec + 1)
            if s in ("→", "->"):
                left = _b(Arrow, dom=left, cod=rhs, **self.node_at(start))
            else:
                left = _b(BinOp, op=s, lhs=left, rhs=rhs, **self.node_at(start))
            if assoc == "n" and self.peek() is not None and (binop(self.peek()[1]) or (0, ""))[0] == prec:  # type: ignore[index]
                # `a = b = c` is not Lean; leave the rest to the caller (it becomes Unparsed)
                break
        return left

    def leading(self, min_prec: int) -> Term:
        t = self.peek()
        start = self.i
        if t is None:
            return _b(Unparsed, text="", reason="missing term", **self.node_at(min(self.i, self.n - 1)))
        kind, s = t[0], t[1]
        if kind in (SYMBOL, IDENT):
            if s in ("fun", "λ"):
                return self.fun()
            if s in QUANTIFIERS and kind == SYMBOL:
                return self.quant()
            if s in LET_WORDS:
                return self.let()
            if s == "if":
                return self.if_()
            if s == "match":
                return self.match()
            if s == "show":
                return self.show()
            if s == "by":
                return self.by()
            if s in ("calc", "do", "unless"):  # `unless c do …`: do-notation, kept as text
                return self.opaque_rest(s)
            if s in ("nomatch", "nofun"):
                self.i += 1
                self.end_of_block()
                return _b(Opaque, keyword=s, text=self.span(start, self.i), **self.node_at(start))
            if s in _BINDER_OPEN and kind == SYMBOL:
                pi = self.try_pi()
                if pi is not None:
                    return pi
            if s in PREFIX and kind == SYMBOL:
                self.i += 1
                arg = self.expr(PREFIX[s])
                return _b(UnOp, op=s, arg=arg, **self.node_at(start))
        head = self.atom()
        if min_prec >= MAX:
            return head
        args = self.args()
        if args:
            return _b(App, fn=head, args=args, **self.node_at(start))
        return head

    # ---- application -------------------------------------------------------------------------
    def can_start_arg(self) -> bool:
        t = self.peek()
        if t is not None and t[1] in ("|", "‖") and t[0] == SYMBOL and bars_enclose(self.toks, self.i, self.end):
            return True  # `f |x|`, `max ‖a‖ ‖b‖`
        if t is None or self.stopped():
            return False
        kind, s = t[0], t[1]
        if kind == IDENT:
            return s not in KEYWORDS or s in ("fun", "do")
        if kind in (NUMBER, STRING, CHAR):
            return True
        if kind == SYMBOL:
            if s in ("(", "[", "⟨", "{", "#[", "@", "·", "‹", "`(", "``(", "`", "``", "λ", "?", "⦃", "%[", "⌊", "⌈") \
                    or s in _NULLARY:
                return True
            if s == "." and self.i + 1 < self.end and self.toks[self.i + 1][0] == IDENT and self.adjacent(self.i + 1):
                return True
        return False

    def args(self) -> list[Arg]:
        out: list[Arg] = []
        while self.can_start_arg():
            k = self.i
            t = self.toks[k]
            if t[1] == "(" and k + 2 < self.end and self.toks[k + 1][0] == IDENT and self.toks[k + 2][1] == ":=":
                name = self.toks[k + 1][1]

                def named() -> Term:
                    self.i += 2
                    return self.expr(0)

                val, ok, o, c = self.group(named)
                value = val if ok and val is not None else self.unparsed(o, c + 1, "bad named argument")
                out.append(_b(Arg, name=name, value=value, **self.node_at(k)))
                continue
            if t[1] in ("fun", "λ", "do"):
                out.append(_b(Arg, value=self.leading(0), **self.node_at(k)))
                break
            before = self.i
            a = self.atom()
            if self.i == before:
                break
            out.append(_b(Arg, value=a, **self.node_at(k)))
        if self.at(".."):
            nxt = self.toks[self.i + 1] if self.i + 1 < self.end else None
            if nxt is None or nxt[1] in STOPS:  # `.ctor ..` in a pattern: the remaining arguments
                out.append(_b(Arg, value=_b(Hole, name="..", **self.node_at(self.i)), **self.node_at(self.i)))
                self.i += 1
        return out

    # ---- atoms -------------------------------------------------------------------------------
    def atom(self) -> Term:
        t = self.peek()
        start = self.i
        if t is None:
            return _b(Unparsed, text="", reason="missing term", **self.node_at(min(self.i, self.n - 1)))
        kind, s = t[0], t[1]
        here = self.node_at(start)
        res: Term
        if kind == IDENT:
            self.i += 1
            if s == "_":
                res = _b(Hole, **here)
            elif s in ("Type", "Sort", "Prop"):
                level = None
                nt = self.peek()
                if s != "Prop" and nt is not None and not self.newline_before(self.i) and (
                    nt[1] in ("*", "_") or nt[0] == NUMBER
                    or (nt[0] == IDENT and (s == "Sort" or _is_universe(nt[1])))
                ):
                    level = nt[1]
                    self.i += 1
                res = _b(Sort, name=s, level=level, **here)
            elif s in KEYWORDS:
                # a keyword where a term was expected: leave it for the caller
                self.i = start
                return self.stray(f"unexpected keyword {s!r}")
            else:
                res = _b(Ident, name=s, **here)
        elif kind == NUMBER:
            self.i += 1
            res = _b(Num, text=s, value=_nat(s), **here)
        elif kind == STRING:
            self.i += 1
            res = _b(Str, text=s, value=_string(s), **here)
        elif kind == CHAR:
            self.i += 1
            res = _b(Char, text=s, **here)
        elif kind == SYMBOL:
            res = self.symbol_atom(s, start)
        else:
            return self.stray("unexpected " + ("unterminated text" if kind == ERROR else repr(s)))
        return self.postfix(res, start)

    def top_comma(self, k: int) -> bool:
        """The bracket opening at k holds a comma at its own depth: `name[a, b]` is a term macro
        applied to a list (an index `xs[i]` has one term)."""
        c = self.close.get(k)
        if c is None:
            return False
        j = k + 1
        while j < c:
            if self.toks[j][1] == "," and self.toks[j][0] == SYMBOL:
                return True
            j = self.close[j] + 1 if j in self.close else j + 1
        return False

    def stray(self, reason: str) -> Unparsed:
        k = self.i
        self.i = min(self.i + 1, self.end) if self.i < self.end else self.i
        if k in self.close and self.close[k] < self.end:
            self.i = self.close[k] + 1
        return self.unparsed(k, max(self.i, k + 1), reason)

    def symbol_atom(self, s: str, start: int) -> Term:
        here = self.node_at(start)
        if s == "(":
            return self.paren()
        if s in ("[", "#["):
            items, ok, o, c = self.group(lambda: self.comma_list())
            if not ok:
                return self.unparsed(o, c + 1, "bad list literal")
            return _b(ListLit, items=items, array=s == "#[", **here)
        if s == "⟨":
            items, ok, o, c = self.group(lambda: self.comma_list())
            if not ok:
                return self.unparsed(o, c + 1, "bad anonymous constructor")
            return _b(AnonCtor, items=items, **here)
        if s == "{":
            return self.brace()
        if s == "@":
            self.i += 1
            nt = self.peek()
            if nt is not None and nt[0] == IDENT and self.adjacent(self.i):
                self.i += 1
                return _b(Ident, name=nt[1], explicit=True, **here)
            if nt is not None and nt[1] == "&" and self.adjacent(self.i):
                self.i += 1  # `@& T`: a borrowed parameter of type T (a compiler annotation)
                return self.expr(MAX)
            return self.atom()
        if s in ("`", "``") and self.i + 1 < self.end and self.toks[self.i + 1][0] == IDENT and self.adjacent(self.i + 1):
            self.i += 2  # a name literal `` `term ``: a `Lean.Name` value, not a reference
            return _b(Opaque, keyword=s, text=s + self.toks[start + 1][1], **here)
        if s == "." and self.i + 1 < self.end and self.toks[self.i + 1][0] == IDENT and self.adjacent(self.i + 1):
            self.i += 2
            return _b(DotIdent, name=self.toks[start + 1][1], **here)
        if s == "·":
            self.i += 1
            if self.cdots:
                self.cdots[-1] += 1
            return _b(Cdot, **here)
        if s == "?" and self.i + 1 < self.end and self.toks[self.i + 1][0] == IDENT:
            self.i += 2
            return _b(Hole, name=self.toks[start + 1][1], **here)
        if s in ("λ",):
            return self.fun()
        if s in ("|", "‖") and self.adjacent(self.i + 1):  # `|x|` / `‖x‖` (Mathlib's abs, norm)
            self.i += 1
            e = self.expr(0)
            if self.at(s) and self.adjacent(self.i):
                self.i += 1
                fn = _b(Ident, name="abs" if s == "|" else "norm", **here)
                return _b(App, fn=fn, args=[_b(Arg, value=e, **self.node_at(start + 1))], **here)
            self.i = start
        if s in _NULLARY:  # `⊥`, `⊤`, `∅`: constants written as symbols
            self.i += 1
            return _b(Ident, name=_NULLARY[s], **here)
        if s in ("⌊", "⌈"):  # Mathlib's floor and ceiling, `⌊x⌋₊` the natural-number ones
            e, ok, o, c = self.group(lambda: self.expr(0))
            if not ok or e is None:
                return self.unparsed(o, c + 1, "bad floor or ceiling")
            nat = self.i < self.end and self.toks[self.i][1] == "₊" and self.adjacent(self.i)
            self.i += nat
            fn = _b(Ident, name=("Nat." if nat else "Int.") + ("floor" if s == "⌊" else "ceil"), **here)
            return _b(App, fn=fn, args=[_b(Arg, value=e, **self.node_at(o + 1))], **here)
        if s in OPENERS:  # quotations, ‹…›, %[…], ⟦…⟧: kept as text
            _, _, o, c = self.group(lambda: None)
            return _b(Opaque, keyword=s, text=self.span(o, c + 1), **here)
        return self.stray(f"unexpected {s!r}")

    def postfix(self, res: Term, start: int) -> Term:
        while True:
            t = self.peek()
            if t is None or t[0] != SYMBOL:
                return res
            s = t[1]
            k = self.i
            if s == "." and self.adjacent(k) and k + 1 < self.end and self.adjacent(k + 1):
                nt = self.toks[k + 1]
                if nt[0] == NUMBER or nt[0] == IDENT:
                    self.i += 2
                    # `x.1.foo` lexes `.1` then `.foo`; an ident `foo.bar` is two fields
                    for part in nt[1].split(".") if nt[0] == IDENT else [nt[1]]:
                        res = _b(Proj, term=res, field=part, **self.node_at(start))
                    continue
                return res
            if s == "[" and self.adjacent(k) and isinstance(res, Ident) and (
                    res.name.endswith("!") or self.top_comma(k)):
                # `shape![a, b]`: a term macro applied to a bracketed list, not `xs[i]`
                items, ok, o, c = self.group(lambda: self.comma_list())
                if not ok:
                    return _b(App, fn=res, args=[_b(Arg, value=self.unparsed(o, c + 1, "bad macro list"),
                                                    **self.node_at(k))], **self.node_at(start))
                lst = _b(ListLit, items=items, **self.node_at(k))
                return _b(App, fn=res, args=[_b(Arg, value=lst, **self.node_at(k))], **self.node_at(start))
            if s == "[" and self.adjacent(k):
                idx, ok, o, c = self.group(lambda: self.expr(0))
                if not ok or idx is None:
                    return _b(Index, term=res, index=self.unparsed(o + 1, c, "bad index"), **self.node_at(start))
                closer = self.toks[c][1]
                node = _b(Index, term=res, index=idx, **self.node_at(start))
                if closer == "]'":
                    node.suffix = "'"
                    node.proof = self.atom()
                else:
                    nt = self.peek()  # type: ignore[assignment]
                    if nt is not None and nt[1] in ("!", "?") and self.adjacent(self.i):
                        node.suffix = nt[1]
                        self.i += 1
                res = node
                continue
            if s in POSTFIX:
                self.i += 1
                res = _b(UnOp, op=s, arg=res, postfix=True, **self.node_at(start))
                continue
            return res

    def comma_list(self) -> list[Term]:
        items: list[Term] = []
        if self.peek() is None:
            return items
        while True:
            items.append(self.expr(0))
            if not self.eat(","):
                return items

    def paren(self) -> Term:
        start = self.i
        here = self.node_at(start)
        self.cdots.append(0)

        def inner() -> Term | None:
            if self.peek() is None:
                return _b(Tuple, items=[], **here)
            e = self.expr(0)
            if self.eat(":"):
                if self.peek() is None:  # `(e :)`
                    return e
                ty = self.expr(0)
                return _b(Ascription, term=e, type=ty, **here)
            if self.at(","):
                items = [e]
                while self.eat(","):
                    items.append(self.expr(0))
                return _b(Tuple, items=items, **here)
            return e

        try:
            res, ok, o, c = self.group(inner)
        finally:
            cd = self.cdots.pop()
        if not ok or res is None:
            return self.unparsed(o, c + 1, "bad parenthesized term")
        if cd:
            return _b(Section, body=res, **here)
        return res

    def brace(self) -> Term:
        start = self.i
        here = self.node_at(start)

        def inner() -> Term | None:
            if self.peek() is None:
                return _b(StructInst, fields=[], **here)
            comp = self.comprehension(here)
            if comp is not None:
                return comp
            base = None
            j = self.i
            # `{ s with … }`: find a depth-0 `with`
            while j < self.end:
                tj = self.toks[j]
                if tj[1] == "with" and tj[0] == IDENT:
                    base = self.expr(0)
                    if not self.eat("with"):
                        return None
                    break
                if tj[1] in (":=", "|", "//"):
                    break
                j = self.close.get(j, j) + 1
            t0 = self.peek()
            if base is None and not (t0 is not None and t0[0] == IDENT and self.field_start()):
                return None
            fields: list[FieldInit] = []
            # fields may stand one per line (Lean's `sepByIndent`): a field that starts a line
            # at or left of the first field's column ends the value before it
            field_col = self.col(self.i) if self.peek() is not None and self.newline_before(self.i) else -1
            while self.peek() is not None and not self.at(":"):
                ft = self.peek()
                if ft is None or ft[0] != IDENT:
                    return None
                fk = self.i
                self.i += 1
                binders = self.binders_until((":=",))
                if not self.eat(":="):
                    if not binders and (self.at(",") or self.peek() is None):
                        # field abbreviation `{ x }` means `{ x := x }`
                        fields.append(_b(FieldInit, name=ft[1], value=_b(Ident, name=ft[1], **self.node_at(fk)),
                                                **self.node_at(fk)))
                        self.eat(",")
                        continue
                    return None
                saved = self.stop_col
                if field_col < 0 and len(fields) == 0 and self.multiline:
                    field_col = self.col(fk)  # `{ a := …` on the brace's line: later fields align with `a`
                self.stop_col = max(saved, field_col)
                try:
                    val = self.expr(0)
                finally:
                    self.stop_col = saved
                fields.append(_b(FieldInit, name=ft[1], binders=binders, value=val, **self.node_at(fk)))
                if not self.eat(","):
                    # Lean also allows newlines between fields
                    if self.peek() is not None and self.peek()[0] == IDENT and not self.at("with"):  # type: ignore[index]
                        continue
                    break
            ty = None
            if self.eat(":"):
                ty = self.expr(0)
            return _b(StructInst, base=base, fields=fields, type=ty, **here)

        res, ok, o, c = self.group(inner)
        if not ok or res is None:
            return self.unparsed(o, c + 1, "set-builder, subtype or unknown brace term")
        return res

    def comprehension(self, here: dict[str, Any]) -> Term | None:
        """`{ x : T // p }` (a subtype) or `{ x | p }` / `{ x : T | p }` (a set), as Lean
        elaborates them: `Subtype (fun x : T => p)`, `setOf (fun x : T => p)`. None (and nothing
        consumed) when the brace is something else."""
        k = self.i
        t = self.peek()
        if t is None or t[0] != IDENT or t[1] in KEYWORDS:
            return None
        self.i += 1
        ty = None
        if self.eat(":"):
            ty = self.expr(0)
        if self.at("//") or (self.at("|") and not self.adjacent(self.i + 1)):
            head = "Subtype" if self.toks[self.i][1] == "//" else "setOf"
            self.i += 1
            pred = self.expr(0)
            binder = _b(TBinder, names=[t[1]], type=ty, **self.node_at(k))
            lam = _b(Lambda, binders=[binder], body=pred, **self.node_at(k))
            return _b(App, fn=_b(Ident, name=head, **here), args=[_b(Arg, value=lam, **self.node_at(k))], **here)
        self.i = k
        return None

    def field_start(self) -> bool:
        """At `f :=` or `f x y :=` (a field of a structure instance) or `{ x }` / `{ x, y }`."""
        j = self.i + 1
        while j < self.end and self.toks[j][0] == IDENT and self.toks[j][1] not in KEYWORDS:
            j += 1
        if j < self.end and self.toks[j][1] == ":=":
            return True
        return j == self.i + 1 and (j >= self.end or self.toks[j][1] == ",")

    # ---- binders -----------------------------------------------------------------------------
    def binders_until(self, stops: tuple[str, ...]) -> list[TBinder]:
        """Binder groups up to (not including) one of `stops`, for `fun`, `∀`, `let f x`."""
        out: list[TBinder] = []
        simple: list[TBinder] = []
        while True:
            t = self.peek()
            if t is None or (t[1] in stops and t[0] in (SYMBOL, IDENT)):
                return out
            k = self.i
            here = self.node_at(k)
            s = t[1]
            if t[0] == IDENT and s not in KEYWORDS:
                self.i += 1
                b = _b(TBinder, names=[s], **here)
                out.append(b)
                simple.append(b)
                continue
            if t[0] == SYMBOL and s == ":":
                # `x y : T` without brackets: the type applies to the simple binders before it
                self.i += 1
                ty = self.expr(0)
                for b in simple:
                    b.type = ty
                self.shared |= len(simple) > 1
                simple = []
                continue
            if t[0] == SYMBOL and s in BINDER_PRED and simple and s != "in":
                self.i += 1
                bound = self.expr(51)
                for b in simple:
                    b.bound_op, b.bound = s, bound
                self.shared |= len(simple) > 1
                simple = []
                continue
            if t[0] == IDENT and s == "in" and simple:
                self.i += 1
                bound = self.expr(51)
                for b in simple:
                    b.bound_op, b.bound = "in", bound
                self.shared |= len(simple) > 1
                simple = []
                continue
            simple = []
            if t[0] == SYMBOL and s in _BINDER_OPEN:
                b2 = self.bracket_binder()
                if b2 is not None:
                    out.append(b2)
                    continue
            if t[0] == SYMBOL and s in ("⟨", "(", "@", ".", "_"):
                pat = self.atom()
                out.append(_b(TBinder, pattern=pat, **here))
                continue
            # anything else: give up on this binder list
            if self.i == k:
                return out

    def bracket_binder(self) -> TBinder | None:
        """`(x y : T)`, `(x : T := d)`, `{α}`, `⦃h⦄`, `[C α]`, `[inst : C α]`; None (and no
        progress) when the bracket is not a binder group."""
        k = self.i
        s = self.toks[k][1]
        info = _BINDER_OPEN[s]
        c = self.close.get(k, -1)
        if c < 0 or c >= self.end:
            return None
        here = self.node_at(k)
        if info == "instance":
            def inst() -> TBinder:
                names: list[str] = []
                if (self.i + 1 < self.end and self.toks[self.i][0] == IDENT
                        and self.toks[self.i + 1][1] == ":"):
                    names = [self.toks[self.i][1]]
                    self.i += 2
                return _b(TBinder, names=names, type=self.expr(0), info="instance", **here)
            res, ok, _, _ = self.group(inst)
            return res if ok else _b(TBinder, type=self.unparsed(k + 1, c, "bad instance binder"), info="instance", **here)
        # names first
        j = k + 1
        names: list[str] = []
        while j < c and self.toks[j][0] == IDENT and self.toks[j][1] not in KEYWORDS:
            names.append(self.toks[j][1])
            j += 1
        if not names or (j < c and self.toks[j][1] != ":"):
            return None

        def body() -> TBinder:
            self.i = j
            ty = default = None
            if self.eat(":"):
                ty = self.expr(0)
            if self.eat(":="):
                default = self.expr(0)
            return _b(TBinder, names=names, type=ty, default=default, info=info, **here)  # type: ignore[arg-type]

        res, ok, _, _ = self.group(body)
        if not ok:
            return _b(TBinder, names=names, type=self.unparsed(j, c, "bad binder type"), info=info, **here)  # type: ignore[arg-type]
        return res  # type: ignore[no-any-return]

    def try_pi(self) -> Term | None:
        """`(x : A) → B`, `{ss : List Shape} → B`, `[Zero α] → B`: a bracket binder then `→`."""
        k = self.i
        c = self.close.get(k, -1)
        if c < 0 or c + 1 >= self.end or self.toks[c + 1][1] not in ("→", "->"):
            return None
        b = self.bracket_binder()
        if b is None or self.i != c + 1:
            self.i = k
            return None
        self.i += 1
        body = self.expr(25)
        return _b(Quant, quantifier="→", binders=[b], body=body, **self.node_at(k))

    # ---- leading constructs ------------------------------------------------------------------
    def fun(self) -> Term:
        start = self.i
        self.i += 1
        here = self.node_at(start)
        if self.at("|"):
            return _b(FunMatch, alts=self.alts(), **here)
        binders = self.binders_until(("=>", "↦"))
        if not (self.eat("=>") or self.eat("↦")):
            return self.rest_unparsed(start, "expected `=>` after fun binders")
        return _b(Lambda, binders=binders, body=self.expr(0), **here)

    def quant(self) -> Term:
        start = self.i
        q = self.toks[start][1]
        self.i += 1
        binders = self.binders_until((",",))
        if not self.eat(","):
            return self.rest_unparsed(start, f"expected `,` after {q} binders")
        return _b(Quant, quantifier=q, binders=binders, body=self.expr(0), **self.node_at(start))

    def let(self) -> Term:
        start = self.i
        here = self.node_at(start)
        kw = self.toks[start][1]
        self.i += 1
        if kw == "let" and self.at("rec"):
            self.i += 1
            kw = "let rec"
        saved = self.stop_col
        self.stop_col = self.col(start)
        try:
            name = None
            pattern = None
            binders: list[TBinder] = []
            t = self.peek()
            if t is not None and t[0] == IDENT and t[1] not in KEYWORDS:
                name = t[1]
                self.i += 1
                binders = self.binders_until((":", ":=", "←", "|"))
            elif t is not None and t[0] == SYMBOL and t[1] in ("⟨", "(", "."):
                pattern = self.atom()
            ty = None
            if self.eat(":"):
                ty = self.expr(0)
            if self.eat(":=") or self.eat("←"):
                value = self.expr(0)
            elif self.at("|"):
                value = _b(FunMatch, alts=self.alts(), **self.node_at(self.i))
            elif self.at("by"):
                value = self.by()
            elif kw == "suffices" and self.eat("from"):
                value = self.expr(0)
            elif ty is not None and kw in ("have", "haveI", "suffices"):
                value = _b(Hole, **here)  # `have h : T` then tactics elsewhere
            else:
                return self.rest_unparsed(start, f"expected `:=` in {kw}")
        finally:
            self.stop_col = saved
        if kw == "suffices" and self.eat("by"):
            self.i -= 1
        self.eat(";")
        body = None if self.stopped() else self.expr(0)
        return _b(Let, keyword=kw, name=name, binders=binders, type=ty, value=value, pattern=pattern,
                   body=body, **here)

    def if_(self) -> Term:
        start = self.i
        self.i += 1
        hyp = None
        if self.peek(1) is not None and self.peek()[0] == IDENT and self.peek(1)[1] == ":":  # type: ignore[index]
            hyp = self.peek()[1]  # type: ignore[index]
            self.i += 2
        if self.at("let"):
            return self.rest_unparsed(start, "`if let` is not supported")
        cond = self.expr(0)
        if not self.eat("then"):
            return self.rest_unparsed(start, "expected `then`")
        then = self.expr(0)
        els = self.expr(0) if self.eat("else") else None
        return _b(If, hyp=hyp, cond=cond, then=then, else_=els, **self.node_at(start))

    def match(self) -> Term:
        start = self.i
        self.i += 1
        while self.at("(") and (opt := self.peek(1)) is not None and opt[1] in ("generalizing", "motive") \
                and (eq := self.peek(2)) is not None and eq[1] == ":=":
            self.group(lambda: None)  # `match (generalizing := false) x with`: an elaboration option
        discs: list[Term] = []
        hyps: list[str | None] = []
        while True:
            hyp = None
            if self.peek(1) is not None and self.peek()[0] == IDENT and self.peek(1)[1] == ":":  # type: ignore[index]
                hyp = self.peek()[1]  # type: ignore[index]
                self.i += 2
            discs.append(self.expr(0))
            hyps.append(hyp)
            if not self.eat(","):
                break
        if not self.eat("with"):
            return self.rest_unparsed(start, "expected `with` in match")
        return _b(Match, discriminants=discs, hyps=hyps, alts=self.alts(), **self.node_at(start))

    def alts(self) -> list[MatchAlt]:
        out: list[MatchAlt] = []
        first_col = 0
        while self.at("|"):
            bar = self.i
            # Lean's matchAlts: an alternative starts at or right of the first one's column; a `|`
            # further left belongs to an enclosing match (a nested match needs no parentheses).
            # Not when the first `|` is on the text's first line: without its source, a text is
            # placed at its declaration's name, so that column may not be the real one.
            if not out:
                line, col = self.pos(bar)
                first_col = col if line != self.base_line else 0
            elif self.col(bar) < first_col:
                break
            saved = self.stop_col
            self.stop_col = self.col(bar)
            try:
                groups: list[tuple[int, list[Term]]] = []
                while self.eat("|"):
                    k = self.i
                    pats = [self.expr(0)]
                    while self.eat(","):
                        pats.append(self.expr(0))
                    groups.append((k, pats))
                if not (self.eat("=>") or self.eat("↦")):
                    rhs: Term = self.rest_unparsed(bar, "expected `=>` in alternative")
                else:
                    rhs = self.expr(0)
            finally:
                self.stop_col = saved
            self.shared |= len(groups) > 1
            for k, pats in groups:
                out.append(_b(MatchAlt, patterns=pats, rhs=rhs, **self.node_at(k)))
        return out

    def show(self) -> Term:
        start = self.i
        self.i += 1
        ty = self.expr(0)
        val: Term | None = None
        if self.eat("from"):
            val = self.expr(0)
        elif self.at("by"):
            val = self.by()
        return _b(Show, type=ty, value=val, **self.node_at(start))

    def by(self) -> Term:
        start = self.i
        self.i += 1
        first = self.i
        self.end_of_block()
        text = self.span(first, self.i)
        return _b(Tactic, text=text, **self.node_at(start))

    def end_of_block(self) -> None:
        """Skip a tactic sequence: lines indented at least as far as its first token (and
        beyond the enclosing layout column); brackets are skipped whole."""
        if self.peek() is None:
            return
        block_col = self.col(self.i) if self.newline_before(self.i) else -1
        open_ifs = 0  # `if`s of the block still waiting for their `else`
        while self.i < self.end:
            t = self.toks[self.i]
            if self.newline_before(self.i):
                c = self.col(self.i)
                # an `else` left of the block's column still closes an `if` of the block (Lean
                # checks the column at each tactic's start only)
                if not (t[1] == "else" and open_ifs > 0 and c > self.stop_col):
                    if c <= self.stop_col or (block_col >= 0 and c < block_col):
                        return
                    if block_col < 0 and self.stop_col < 0 and c <= 1 and self.i > 0:
                        return
            if t[0] == IDENT and t[1] in ("if", "else"):
                open_ifs += 1 if t[1] == "if" else -1
            if block_col < 0 and t[0] == SYMBOL and t[1] in (",", ")", "]", "}", "⟩") and self.end < self.n:
                return  # inside brackets: `⟨by simp, by simp⟩` (a block of its own lines ends by layout)
            self.i = self.close.get(self.i, self.i) + 1

    def opaque_rest(self, kw: str) -> Term:
        start = self.i
        self.i += 1
        saved = self.stop_col
        self.end_of_block()
        self.stop_col = saved
        return _b(Opaque, keyword=kw, text=self.span(start, self.i), **self.node_at(start))

    def rest_unparsed(self, start: int, reason: str) -> Unparsed:
        """Give up on a construct: everything to the end of the current block is unparsed."""
        while not (self.peek() is None or (self.stop_col >= 0 and self.newline_before(self.i)
                                           and self.col(self.i) <= self.stop_col)):
            self.i = self.close.get(self.i, self.i) + 1
        self.i = min(self.i, self.end)
        return self.unparsed(start, max(self.i, start + 1), reason)


def _is_universe(s: str) -> bool:
    return len(s) <= 3 and s[0] in "uvw" and all(ch.isdigit() or ch in "_₀₁₂₃₄₅₆₇₈₉'" for ch in s[1:])


def _nat(s: str) -> int | None:
    try:
        return int(s.replace("_", ""), 0)
    except ValueError:
        return int(s) if s.isdigit() else None


def _string(s: str) -> str | None:
    if not s.startswith('"'):
        return None
    try:
        v = ast.literal_eval(s)
    except (ValueError, SyntaxError):
        return None
    return v if isinstance(v, str) else None


def _parse(text: str, tokens: list[Token], line: int, column: int) -> tuple[Term, bool, bool]:
    """The tree; whether some node of it has several parents; whether it is position-dependent
    beyond the node positions."""
    p = _Parser(text, tokens, line, column)
    try:
        return p.parse_all(), p.shared, p.positional
    except RecursionError:
        return _b(Unparsed, text=text.strip(), reason="term nested too deeply", line=line, column=column), False, False


# Parsed trees by text, parsed at 1:1: statements and binder types repeat a lot (`(n : Nat)`),
# and node positions only shift with where the text starts. The starting column matters to
# layout once the text spans lines, so that is part of the key then; a tree whose text
# mentions a position (an `Unparsed` reason) is not kept. Trees handed out are always fresh
# copies (the resolver fills them in place). A text is cached at its second sight only: the
# first is parsed where it stands and handed out as is (storing it would cost a copy, ~30 % of
# a parse, which a corpus of unique texts never earns back). Bounded: cleared when full.
_CACHE: dict[str | tuple[str, int], tuple[Term, bool]] = {}
_SEEN: set[str | tuple[str, int]] = set()
CACHE_SIZE = 1 << 16


def clear_cache() -> None:
    """Forget every parsed text (benchmarks measure a corpus without repeated texts this way)."""
    _CACHE.clear()
    _SEEN.clear()


def parse_term(text: str, line: int = 1, column: int = 1) -> Term:
    """Parse a Lean term (a statement, a body, equation alternatives `| p => e`).

    `line`/`column` (1-based) locate the first character of `text` in its file; every node
    gets its own position from them. Never raises: see `Unparsed`.
    """
    key: str | tuple[str, int] = (text, column) if "\n" in text else text
    hit = _CACHE.get(key)
    if hit is None:
        tokens = tokenize(text)[0]
        if key not in _SEEN:
            if len(_SEEN) >= CACHE_SIZE:
                _SEEN.clear()
            _SEEN.add(key)
            return _parse(text, tokens, line, column)[0]
        if len(_CACHE) >= CACHE_SIZE:
            _CACHE.clear()
        if "\n" in text:  # parse where it is, so that layout sees the right columns
            tree, shared, positional = _parse(text, tokens, 1, column)
            if positional:
                return _parse(text, tokens, line, column)[0]
            hit = _CACHE[key] = (_clone(tree, 0, 1 - column, None) if shared is False else
                                 _clone(tree, 0, 1 - column, {}), shared)
        else:
            tree, shared, positional = _parse(text, tokens, 1, 1)
            if positional:
                return _parse(text, tokens, line, column)[0]
            hit = _CACHE[key] = (tree, shared)
    tree, shared = hit
    if shared:
        return _clone(tree, line - 1, column - 1, {})  # type: ignore[no-any-return]
    return _CLONE[tree.__class__](tree, line - 1, column - 1)  # type: ignore[no-any-return]
