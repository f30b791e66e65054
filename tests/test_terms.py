"""The term parser: precedence, constructs, positions, and that it never raises."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.lean.lexer import tokenize
from bridge.lean.terms import (
    Alternatives,
    AnonCtor,
    App,
    Arrow,
    Ascription,
    BinOp,
    DotIdent,
    FunMatch,
    Ident,
    If,
    Index,
    Lambda,
    Let,
    ListLit,
    Match,
    Proj,
    Quant,
    Section,
    StructInst,
    Tactic,
    Tuple,
    UnOp,
    Unparsed,
    parse_term,
)

FIXTURES = Path(__file__).parent / "fixtures"


def sx(t: object) -> str:
    """A compact s-expression of a tree, for precedence assertions."""
    if isinstance(t, Ident):
        return ("@" if t.explicit else "") + t.name
    if isinstance(t, DotIdent):
        return "." + t.name
    if isinstance(t, App):
        return "(" + " ".join([sx(t.fn)] + [f"({a.name} := {sx(a.value)})" if a.name else sx(a.value)
                                           for a in t.args]) + ")"
    if isinstance(t, BinOp):
        return f"({sx(t.lhs)} {t.op} {sx(t.rhs)})"
    if isinstance(t, Arrow):
        return f"({sx(t.dom)} → {sx(t.cod)})"
    if isinstance(t, UnOp):
        return f"({t.op}{sx(t.arg)})" if not t.postfix else f"({sx(t.arg)}{t.op})"
    if isinstance(t, Proj):
        return f"{sx(t.term)}.{t.field}"
    return getattr(t, "text", None) or t.node  # type: ignore[attr-defined]


@pytest.mark.parametrize("src, want", [
    ("a - b * c", "(a - (b * c))"),
    ("a * b - c", "((a * b) - c)"),
    ("a - b - c", "((a - b) - c)"),
    ("f x y + g z", "((f x y) + (g z))"),
    ("a → b → c", "(a → (b → c))"),
    ("¬ a ∧ b", "((¬a) ∧ b)"),
    ("a ∧ b ∨ c", "((a ∧ b) ∨ c)"),
    ("a ∨ b ∧ c", "(a ∨ (b ∧ c))"),
    ("a = b ↔ c = d", "((a = b) ↔ (c = d))"),
    ("x :: xs ++ ys", "((x :: xs) ++ ys)"),  # :: is 67, ++ is 65
    ("a ^ b ^ c", "(a ^ (b ^ c))"),
    ("-x ^ 2", "(-(x ^ 2))"),
    ("-a * b", "((-a) * b)"),
    ("f ∘ g ∘ h", "(f ∘ (g ∘ h))"),
    ("f <| g <| x", "(f <| (g <| x))"),
    ("x |> f |> g", "((x |> f) |> g)"),
    ("a + b ≤ c * d", "((a + b) ≤ (c * d))"),
    ("p ⊙ q + r", "((p ⊙ q) + r)"),
    ("α × β → γ", "((α × β) → γ)"),
    ("f x.1 y.2", "(f x.1 y.2)"),
    ("(f x).symm", "(f x).symm"),
    ("@f α x", "(@f α x)"),
    ("step (Γ := []) a b", "(step (Γ := list) a b)"),
    ("h ▸ xs", "(h ▸ xs)"),
    ("x⁻¹ * y", "((x⁻¹) * y)"),
    # bitwise operators (Lean's HOr 55, HXor 58, HAnd 60, shifts 75) and Bool `!` (argument at 40)
    ("a ||| b ^^^ c &&& d", "(a ||| (b ^^^ (c &&& d)))"),
    ("x <<< 8 ||| y >>> 2", "((x <<< 8) ||| (y >>> 2))"),
    ("!xs.contains x && b", "((!(xs.contains x)) && b)"),
    ("p ^^ q || r", "((p ^^ q) || r)"),
    # applicative and monadic operators
    ("f <$> x <*> y", "((f <$> x) <*> y)"),
    ("a *> b *> c", "(a *> (b *> c))"),
    ("a <* b <* c", "((a <* b) <* c)"),
    ("xs <&> f >>= g", "((xs <&> f) >>= g)"),
    ("f >=> g >=> h", "(f >=> (g >=> h))"),
])
def test_precedence(src: str, want: str) -> None:
    assert sx(parse_term(src)) == want


def test_constructs() -> None:
    t = parse_term("fun (x : α) y => x + y")
    assert isinstance(t, Lambda) and [b.names for b in t.binders] == [["x"], ["y"]]
    assert isinstance(parse_term("λ ⟨a, b⟩ ↦ a"), Lambda)
    fm = parse_term("fun | 0 => 1 | n + 1 => n")
    assert isinstance(fm, FunMatch) and len(fm.alts) == 2
    sec = parse_term("(· - ·)")
    assert isinstance(sec, Section) and isinstance(sec.body, BinOp)
    lt = parse_term("let x := f a\nx + 1")
    assert isinstance(lt, Let) and lt.name == "x" and sx(lt.value) == "(f a)" and sx(lt.body) == "(x + 1)"
    assert isinstance(parse_term("have h : p := by simp; h"), Let)
    it = parse_term("if h : a = b then x else y")
    assert isinstance(it, If) and it.hyp == "h" and sx(it.else_) == "y"
    m = parse_term("match a, b with\n  | 0, _ => x\n  | _, _ => y")
    assert isinstance(m, Match) and len(m.discriminants) == 2 and len(m.alts) == 2
    q = parse_term("∀ x ∈ s, ∃ n : Nat, p x n")
    assert isinstance(q, Quant) and q.binders[0].bound_op == "∈" and isinstance(q.body, Quant)
    pi = parse_term("{ss : List Shape} → (xs : TList α ss) → Nat")
    assert isinstance(pi, Quant) and pi.binders[0].info == "implicit" and isinstance(pi.body, Quant)
    assert isinstance(parse_term("(1 : α)"), Ascription)
    assert isinstance(parse_term("[a, b, c]"), ListLit)
    tu = parse_term("(a, b, c)")
    assert isinstance(tu, Tuple) and len(tu.items) == 3
    assert isinstance(parse_term("⟨a, b⟩"), AnonCtor)
    si = parse_term("{ st with m := 1, v := 2 }")
    assert isinstance(si, StructInst) and si.base is not None and [f.name for f in si.fields] == ["m", "v"]
    assert isinstance(parse_term("{ lr := lr, μ := μ }"), StructInst)
    assert isinstance(parse_term("xs[i]'h"), Index)
    assert isinstance(parse_term("by\n  intro x\n  simp"), Tactic)
    dot = parse_term(".cons x .nil")
    assert isinstance(dot, App) and isinstance(dot.fn, DotIdent) and isinstance(dot.args[1].value, DotIdent)


def test_shapes_met_in_real_files() -> None:
    # `|x|` (absolute value), also leading a statement; alternatives still start with a bar
    ab = parse_term("|f x - g x| ≤ d (|y|)")
    assert sx(ab) == "((abs ((f x) - (g x))) ≤ (d (abs y)))"
    assert isinstance(parse_term("|0 => a\n|n + 1 => b"), Alternatives)
    # bars as arguments, norms, and constants written as symbols
    assert sx(parse_term("cmp |d - x| |u - x| = o")) == "((cmp (abs (d - x)) (abs (u - x))) = o)"
    assert sx(parse_term("max ‖a‖ ‖b‖ ≤ ε")) == "((max (norm a) (norm b)) ≤ ε)"
    assert sx(parse_term("f ⊥ ⊤ = ∅")) == "((f Bot.bot Top.top) = EmptyCollection.emptyCollection)"
    # subtypes and set-builder braces are what Lean elaborates them to
    sub = parse_term("{ l : Layer σ // l.size = n }")
    assert isinstance(sub, App) and sx(sub.fn) == "Subtype" and isinstance(sub.args[0].value, Lambda)
    lam = sub.args[0].value
    assert lam.binders[0].names == ["l"] and sx(lam.binders[0].type) == "(Layer σ)"
    assert sx(parse_term("{ x | 0 < x }").fn) == "setOf"  # type: ignore[attr-defined]
    # a term macro applied to a list is no index
    mac = parse_term("shape![b, n, d]")
    assert isinstance(mac, App) and sx(mac.fn) == "shape!" and isinstance(mac.args[0].value, ListLit)
    assert isinstance(parse_term("xs[i]!"), Index)
    # `.ctor ..` patterns
    alts = parse_term("| .relu .. => 1\n| .concat a .. => 2")
    assert isinstance(alts, Alternatives) and [len(a.patterns[0].args) for a in alts.alts] == [1, 2]
    # `do` as the last argument
    run = parse_term("Id.run do\n  let mut acc := 0\n  return acc")
    assert isinstance(run, App) and run.args[0].value.node == "opaque"
    # structure instance fields one per line: a field at the first field's column ends the value
    si = parse_term("{ state := st\n  params := sub p (scale g lr)\n  count := n + 1 }", 1, 3)
    assert isinstance(si, StructInst) and [f.name for f in si.fields] == ["state", "params", "count"]
    assert sx(si.fields[0].value) == "st"
    # a tactic block on its own lines owns its commas (`∀ r, …`); a one-line one ends at `,`
    blk = parse_term("{\n  proof := by\n    suffices ∀ r : Nat, r > 0 → p r by\n      exact this\n    intro r\n}")
    assert isinstance(blk, StructInst) and isinstance(blk.fields[0].value, Tactic)
    assert isinstance(parse_term("⟨by simp, by rfl⟩"), AnonCtor)


def test_alternatives_body() -> None:
    t = parse_term("| [], .nil, .nil => .nil\n  | _ :: _, .cons x xs, .cons y ys => .cons (addSpec x y) (add xs ys)")
    assert isinstance(t, Alternatives)
    assert [len(a.patterns) for a in t.alts] == [3, 3]
    assert sx(t.alts[1].rhs) == "(.cons (addSpec x y) (add xs ys))"


def test_let_layout_and_trailing_fun() -> None:
    t = parse_term("∀ x dx d,\n  let seed := f g x\n  dot (j x) seed = dot dx (b x seed)")
    assert isinstance(t, Quant) and isinstance(t.body, Let)
    assert sx(t.body.value) == "(f g x)" and isinstance(t.body.body, BinOp)
    app = parse_term("Tensor.dim fun i : Fin 2 => .scalar i")
    assert isinstance(app, App) and isinstance(app.args[0].value, Lambda)


def test_positions() -> None:
    t = parse_term("f\n  (g x)", line=10, column=5)
    assert (t.line, t.column) == (10, 5)
    assert isinstance(t, App)
    # parentheses make no node: the application starts at `g`
    assert (t.args[0].value.line, t.args[0].value.column) == (11, 4)
    inner = parse_term("a + b", line=3, column=7)
    assert isinstance(inner, BinOp) and (inner.rhs.line, inner.rhs.column) == (3, 11)


def test_unparsed_not_raise() -> None:
    for bad in ["(a b", "a )", "{x | p x}", "fun x", "if a then", "match x", "⟨a,", "", ")))", "let x"]:
        t = parse_term(bad)
        assert t is not None
    t = parse_term("a )")
    assert isinstance(t, Unparsed) and t.text == "a )" and t.reason


_SAMPLE = [p.read_text(encoding="utf-8") for p in sorted((FIXTURES / "torchlean").rglob("*.lean"))]
_SAMPLE_TOKENS = [t[1] for text in _SAMPLE for t in tokenize(text)[0]][:4000]
_ALPHABET = "()[]{}⟨⟩·,:=|→∀∃λ.@_ abcxyfun let have if then else match with by 01+-*/^¬∧∨↔\n\"'"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=_ALPHABET, max_size=80))
def test_never_raises_random(text: str) -> None:
    parse_term(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_SAMPLE_TOKENS), max_size=60), st.sampled_from([" ", "\n", "\n  "]))
def test_never_raises_token_soup(toks: list[str], sep: str) -> None:
    parse_term(sep.join(toks))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(_SAMPLE) - 1), st.integers(0, 10**6), st.integers(1, 300), st.text(max_size=5))
def test_never_raises_mutated_fixture(k: int, at: int, cut: int, junk: str) -> None:
    text = _SAMPLE[k]
    a = at % max(1, len(text))
    parse_term(text[a : a + cut] + junk + text[a + cut : a + 2 * cut])


def test_the_parse_cache_hands_out_what_a_direct_parse_gives() -> None:
    # first sight (parsed in place), second (parsed, stored, copied), later (copied): the same tree,
    # positions shifted to where the text stands, and a fresh object every time
    from bridge.exports import load_exports
    from bridge.lean import terms
    from bridge.resolve import walk

    _, modules = load_exports(Path(__file__).resolve().parents[1] / "lean_exports")
    texts = sorted({t for m in modules for d in m.declarations
                    for t in [b.type for b in d.binders] + [d.type, d.value] if t})
    multi = [t for t in texts if "\n" in t]
    assert len(texts) > 200 and multi
    terms.clear_cache()
    for text in texts:
        seen = []
        for line, column in ((1, 1), (7, 3), (7, 3), (40, 1), (3, 3)):
            tree = parse_term(text, line, column)
            direct = terms._parse(text, tokenize(text)[0], line, column)[0]
            assert tree.model_dump() == direct.model_dump(), (text, line, column)
            assert all(tree is not other for other in seen)
            seen.append(tree)
            for node in walk(tree):  # as the resolver does: fill the tree in place
                if isinstance(node, Ident):
                    node.target = "mutated"
    assert terms._CACHE and terms._SEEN
    terms.clear_cache()
    assert not terms._CACHE and not terms._SEEN


@pytest.mark.parametrize("src, want", [
    # an operator with a subscript suffix parses as its base operator (Mathlib's `×ₖ`, `∘ₗ`, `×ˢ`)
    ("μ ×ₖ ν ×ₖ ρ", "(μ ×ₖ (ν ×ₖ ρ))"),
    ("f ∘ₗ g ∘ₗ h", "(f ∘ₗ (g ∘ₗ h))"),
    ("s ×ˢ t → u", "((s ×ˢ t) → u)"),
    ("a + b₁ * c₂", "(a + (b₁ * c₂))"),  # subscripts on names stay in the names
    # `@& T` (a borrowed parameter) is T
    ("@& Array Nat → Nat", "((Array Nat) → Nat)"),
    # a name literal is a value, not a reference
    ("TSyntax `term → Nat", "((TSyntax `term) → Nat)"),
    ("mkIdent ``Nat.succ", "(mkIdent ``Nat.succ)"),
    # `name[a, b]` with commas is a term macro applied to a list; `xs[i]` stays an index
    ("pipeline[ f (k := 1), g, h ]", "(pipeline list)"),
])
def test_operator_variants_annotations_and_macro_lists(src: str, want: str) -> None:
    t = parse_term(src)
    assert not [n for n in _nodes(t) if isinstance(n, Unparsed)], src
    assert sx(t) == want


def test_lean_char_escapes_are_one_literal() -> None:
    t = parse_term("c ∈ ['(', ' ', '\\u00e9', '\\x41', '\\u{3b1}']")
    assert isinstance(t, BinOp) and isinstance(t.rhs, ListLit) and len(t.rhs.items) == 5
    assert isinstance(parse_term("xs[i] + ys[j]"), BinOp)
    assert isinstance(parse_term("xs[i]").model_dump(), dict) and isinstance(parse_term("xs[i]"), Index)


def _nodes(t: object) -> list[object]:
    from bridge.resolve import walk

    return list(walk(t))


@pytest.mark.parametrize("src, want", [
    ("∃! v : T, f v = v", "quant"),  # `∃!` is one quantifier token
    ("(~~~mask) &&& x", "((~~~mask) &&& x)"),  # bitwise complement
    ("WithTop ℕ∞ → ℝ≥0∞ → ℝ≥0", "((WithTop ℕ∞) → (ℝ≥0∞ → ℝ≥0))"),  # glued type notations are names
    ("⌊x / 2⌋₊ + ⌈y⌉ ≤ ∞", "(((Nat.floor (x / 2)) + (Int.ceil y)) ≤ Top.top)"),
    ("match (generalizing := false) b with | 0 => 1 | _ => 2", "match"),
    ("unless e ≥ 0 do\n  throw s", "unless e ≥ 0 do\n  throw s"),
])
def test_more_notations_from_real_files(src: str, want: str) -> None:
    t = parse_term(src)
    assert not [n for n in _nodes(t) if isinstance(n, Unparsed)], src
    assert sx(t) == want


def test_an_else_left_of_a_tactic_block_closes_an_if_of_the_block() -> None:
    # Lean checks the block's column only where a tactic starts; the outer `else` of a term-level
    # `if` stays outside a `by` block that has no `if` of its own
    inner = parse_term("by\n    if h : a then\n      if g : b then\n        exact x\n      else\n        exact y\n"
                       "  else\n    exact z")
    assert isinstance(inner, Tactic) and inner.text.rstrip().endswith("exact z")
    outer = parse_term("if h then by\n      simp\n  else by ring")
    assert isinstance(outer, If) and isinstance(outer.else_, Tactic)


def test_a_nested_match_ends_at_a_bar_left_of_its_first_alternative() -> None:
    # Lean's matchAlts: alternatives at or right of the first one's column; a nested match needs
    # no parentheses when the enclosing match's alternatives stand further left
    t = parse_term("match x with\n| a => match y with\n  | b => 1\n  | c => 2\n| d => 3")
    assert isinstance(t, Match) and len(t.alts) == 2
    assert isinstance(t.alts[0].rhs, Match) and len(t.alts[0].rhs.alts) == 2
    # at the same column (or on one line) the inner match takes them all, as Lean does
    t = parse_term("match x with\n| a => match y with\n| b => 1\n| d => 3")
    assert isinstance(t, Match) and len(t.alts) == 1 and len(t.alts[0].rhs.alts) == 2
    t = parse_term("match x with | a => match y with | b => 1 | d => 3")
    assert len(t.alts) == 1 and len(t.alts[0].rhs.alts) == 2
    # equations of a body: the first bar's column is the declaration's, whatever it is given
    t = parse_term("| 0 => 1\n  | n + 1 => 2", 4, 9)
    assert isinstance(t, Alternatives) and len(t.alts) == 2


def test_node_classes_are_exact() -> None:
    # the parser's cloner and the resolver dispatch on a node's exact class (`x.__class__ in
    # NODE_CLASSES`, `t.__class__ is App`): every node class is listed and none is subclassed
    from bridge.lean.term_nodes import _Node
    from bridge.lean.terms import NODE_CLASSES

    def below(c: type) -> set[type]:
        return {s for d in c.__subclasses__() for s in {d} | below(d)}

    assert below(_Node) == set(NODE_CLASSES)
    assert all(not c.__subclasses__() for c in NODE_CLASSES)


def test_nodes_share_fields_sets_without_sharing_state() -> None:
    # the parser's nodes share one immutable fields set per distinct content (SharedFields) and
    # leave pydantic's extra/private slots unset; to pydantic they must stay ordinary models
    import copy
    import pickle

    from bridge.lean.term_nodes import SharedFields

    a, b = parse_term("f x + g 1", 3, 5), parse_term("f x + g 1", 3, 5)
    fa, fb = a.lhs.fn, b.lhs.fn  # type: ignore[attr-defined]
    assert fa.__pydantic_fields_set__ is fb.__pydantic_fields_set__
    assert type(fa.__pydantic_fields_set__) is SharedFields
    with pytest.raises(TypeError, match="immutable"):
        fa.__pydantic_fields_set__.add("target")
    # setting a field through one node marks it set there only
    fa.target = "F"
    assert "target" in fa.model_fields_set and "target" not in fb.model_fields_set
    assert type(fa.__pydantic_fields_set__) is set and fb.target is None
    del fa.target
    assert fb.model_fields_set == {"line", "column", "name"}
    # equal to what validation builds from the same data, either way round
    for node in (b, b.lhs, fb):
        valid = type(node).model_validate(node.model_dump())
        assert valid == node and node == valid
        assert node.model_extra is None and node.__pydantic_private__ is None
    # the same fields set as pydantic's own construction with the same arguments
    assert fb.model_dump(exclude_unset=True) == Ident(line=3, column=5, name="f").model_dump(exclude_unset=True)
    # copies own plain sets; their changes stay theirs
    for dup in (copy.copy(b), copy.deepcopy(b), pickle.loads(pickle.dumps(b)), b.model_copy(update={"op": "-"})):
        assert type(dup.__pydantic_fields_set__) is set
        dup.op = "*"
        assert dup.op == "*" and b.op == "+" and dup.model_fields_set == b.model_fields_set
    with pytest.raises(AttributeError):
        _ = fb.no_such_field  # type: ignore[attr-defined]
