"""The lexer: every lexical trap of TorchLean's sources, positions, and robustness."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.lean.lexer import (
    CHAR,
    COMMENT,
    DOC_COMMENT,
    ERROR,
    HASH_CMD,
    IDENT,
    LINE_COMMENT,
    MOD_DOC,
    NUMBER,
    STRING,
    SYMBOL,
    SourceMap,
    tokenize,
)


def kinds_texts(src: str, keep_comments: bool = True) -> list[tuple[int, str]]:
    toks, errs = tokenize(src, keep_comments=keep_comments)
    assert errs == []
    return [(t.kind, t.text) for t in toks]


def test_nested_block_comment_is_one_token() -> None:
    assert kinds_texts("a /- x /- y -/ z -/ b") == [(IDENT, "a"), (COMMENT, "/- x /- y -/ z -/"), (IDENT, "b")]


def test_doc_and_module_doc_comments_are_kept_without_keep_comments() -> None:
    src = "/-- doc /- inner -/ -/ def /-! mod -/ -- line\n/- plain -/ x"
    assert kinds_texts(src, keep_comments=False) == [
        (DOC_COMMENT, "/-- doc /- inner -/ -/"),
        (IDENT, "def"),
        (MOD_DOC, "/-! mod -/"),
        (IDENT, "x"),
    ]
    assert (LINE_COMMENT, "-- line") in kinds_texts(src)


def test_strings_with_escapes_and_gaps() -> None:
    src = r'"a\"b" "c\\" "\x41\u{3B1}\n" "gap\
    more"'
    got = kinds_texts(src)
    assert [k for k, _ in got] == [STRING] * 4
    assert got[0][1] == r'"a\"b"' and got[1][1] == r'"c\\"'


def test_interpolated_strings_with_nested_braces_and_quotes() -> None:
    src = 's!"a {f "b}"} {g {x := 1}.x} {h \'}\'}" m!"{x}" f!"y" after'
    got = kinds_texts(src)
    assert got == [
        (STRING, 's!"a {f "b}"} {g {x := 1}.x} {h \'}\'}"'),
        (STRING, 'm!"{x}"'),
        (STRING, 'f!"y"'),
        (IDENT, "after"),
    ]


def test_raw_strings() -> None:
    src = 'r"a\\b" r#"has "quotes""# r##"x"#y"## z'
    assert kinds_texts(src) == [
        (STRING, 'r"a\\b"'),
        (STRING, 'r#"has "quotes""#'),
        (STRING, 'r##"x"#y"##'),
        (IDENT, "z"),
    ]


def test_char_literals_versus_primes() -> None:
    src = "'a' '\\n' '\\'' x' h₁' arr[i.1]'h seed'"
    assert kinds_texts(src) == [
        (CHAR, "'a'"),
        (CHAR, "'\\n'"),
        (CHAR, "'\\''"),
        (IDENT, "x'"),
        (IDENT, "h₁'"),
        (IDENT, "arr"),
        (SYMBOL, "["),
        (IDENT, "i"),
        (SYMBOL, "."),
        (NUMBER, "1"),
        (SYMBOL, "]'"),
        (IDENT, "h"),
        (IDENT, "seed'"),
    ]


def test_quoted_names() -> None:
    assert kinds_texts("«quoted name» Foo.«bar baz».qux") == [(IDENT, "«quoted name»"), (IDENT, "Foo.«bar baz».qux")]


def test_numeric_literals() -> None:
    src = "0x1F 0b101 0o17 1.5e-3 2e10 3.0 42 1_000"
    assert [t for k, t in kinds_texts(src) if k == NUMBER] == src.split()


def test_field_index_after_dot_is_not_a_decimal() -> None:
    assert kinds_texts("h.1.2") == [(IDENT, "h"), (SYMBOL, "."), (NUMBER, "1"), (SYMBOL, "."), (NUMBER, "2")]


def test_unicode_identifiers_and_symbols() -> None:
    src = "α Δ Γ τ ss₁ T₁ x? get! λ Π Σ · ∀ ℝ"
    got = kinds_texts(src)
    assert [t for k, t in got if k == IDENT] == ["α", "Δ", "Γ", "τ", "ss₁", "T₁", "x?", "get!", "ℝ"]
    # λ, Π, Σ are not letters in Lean; · and ∀ are symbols
    assert [t for k, t in got if k == SYMBOL] == ["λ", "Π", "Σ", "·", "∀"]


def test_hash_commands_and_multichar_symbols() -> None:
    got = kinds_texts("#check x := @[simp] <;> |>. ⁻¹ #[1]")
    assert got[0] == (HASH_CMD, "#check")
    assert (SYMBOL, ":=") in got and (SYMBOL, "@[") in got and (SYMBOL, "<;>") in got
    assert (SYMBOL, "|>.") in got and (SYMBOL, "⁻¹") in got and (SYMBOL, "#[") in got


def test_unterminated_comment_and_string_at_eof() -> None:
    toks, errs = tokenize("def a := 1\n/- open /- nested -/")
    assert [t.kind for t in toks][-1] == ERROR and len(errs) == 1 and "comment" in errs[0].message
    assert errs[0].offset == 11
    toks, errs = tokenize('def s := "never closed')
    assert toks[-1].kind == ERROR and "string" in errs[0].message
    toks, errs = tokenize('def s := s!"x {y')
    assert toks[-1].kind == ERROR and len(errs) == 1
    toks, errs = tokenize('x := "ends in backslash\\')
    assert toks[-1].kind == ERROR and len(errs) == 1


def test_source_map_lines_columns_and_bytes() -> None:
    text = "α := 1\n  βγ x\n"
    smap = SourceMap(text)
    toks, _ = tokenize(text)
    x = next(t for t in toks if t.text == "x")
    assert smap.line_col(x.start) == (2, 5)
    # α is two bytes, β and γ two bytes each
    assert smap.byte_offset(x.start) == len("α := 1\n  βγ ".encode())
    assert smap.byte_offset(0) == 0 and smap.line(0) == 1


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(list("/-!'\"{}()[]«»#r sm\\\nα₁x0.:=|@_") + ["s!\"", "r#\"", "/-", "-/"]), max_size=120).map(
        "".join
    )
)
def test_tokenize_never_raises_and_covers_the_input(src: str) -> None:
    toks, errs = tokenize(src, keep_comments=True)
    pos = 0
    for t in toks:
        assert t.start >= pos and t.end >= t.start
        assert src[pos : t.start].strip() == ""  # nothing but whitespace is skipped
        assert src[t.start : t.end] == t.text
        pos = t.end
    assert src[pos:].strip() == ""
    assert (toks and toks[-1].kind == ERROR) if errs else all(t.kind != ERROR for t in toks)


_TRAPS = [
    "def a := 1\n/- open /- nested -/", 'def s := "never closed', 'def s := s!"x {y', 'x := "ends in backslash\\',
    "h.1.2 x.1_000.5 0x1.5 .0_.5 1.5e3", "'a' 'b x' '\\n' #check #[1] # /--/ /---/ /-!-/ /-/ x -/ y",
    "a /- b /- c -/ d -/ e -- f\n g", 'r#"raw"# r"x" s!"a{b}c" m!"x" f!"y" "a\\"b"', "«a b».c  «x  ",
    "/-- doc /- nested -/ -/ def x", "x -/ y /", "/-- unterminated", '"\\', "/--/ /--/-/", "", "  \n",
]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(list("/-!'\"{}()[]«»#r smf\\\nα₁x0.:=|@_") + ["s!\"", "r#\"", "/-", "-/", "/--", "/-!", "--"]),
        max_size=80,
    ).map("".join)
)
def test_fast_lexer_matches_the_reference_lexer(src: str) -> None:
    from bridge.lean.lexer import _tokenize_slow

    assert tokenize(src) == _tokenize_slow(src)[:2]


def test_fast_lexer_matches_the_reference_lexer_on_traps_and_fixtures() -> None:
    from pathlib import Path

    from bridge.lean.lexer import _tokenize_slow

    fixtures = Path(__file__).parent / "fixtures"
    texts = _TRAPS + [f.read_bytes().decode("utf-8", "replace") for f in sorted(fixtures.rglob("*.lean"))]
    for text in texts:
        assert tokenize(text) == _tokenize_slow(text)[:2], text[:80]


def test_subscripted_operators_and_four_digit_char_escapes() -> None:
    from bridge.lean.lexer import _tokenize_slow

    src = "x ×ₖ y ∘ₗ z ×ˢ w + a₁ (ₖ c ∈ ['\\u2026', '\\x41', ' ']"
    toks = [t[1] for t in tokenize(src)[0]]
    assert toks[:8] == ["x", "×ₖ", "y", "∘ₗ", "z", "×ˢ", "w", "+"]
    assert "a₁" in toks and "(" in toks and "ₖ" in toks  # a bracket never takes a suffix
    assert "'\\u2026'" in toks and "'\\x41'" in toks and "' '" in toks
    assert tokenize(src) == _tokenize_slow(src)[:2]


def test_a_slice_lexes_to_the_larger_texts_tokens() -> None:
    # lexing is local: a slice cut at token boundaries lexes to the larger text's tokens there,
    # offsets moved back (what lets the parser read a declaration's tokens for its parts)
    text = 'def f (x : Nat) : Nat := x + «y z» -- c\n  + "s\\"t" * 0x1F'
    toks = tokenize(text)[0]
    for i in range(len(toks)):
        for j in range(i + 1, len(toks) + 1):
            a = toks[i][2]
            got = [(k, s, x - a, y - a) for k, s, x, y in toks[i:j]]
            assert got == [tuple(t) for t in tokenize(text[a : toks[j - 1][3]])[0]]
