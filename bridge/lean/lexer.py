"""Lean 4 lexer: source text to tokens with offsets, no Lean toolchain.

One compiled master regex does the common tokens; the few constructs a regex
cannot express (nested block comments, interpolated strings, raw strings with
`#` fences) are finished by small hand-written scanners. Tokens carry character
offsets; `SourceMap` turns an offset into line, column and UTF-8 byte offset
only when asked, which keeps the hot loop cheap.

The identifier rules follow Lean's `isIdBeginChar`/`isIdRest` (ASCII letters,
`_`, Greek except λ Π Σ, Coptic, letter-like symbols, mathematical
alphanumerics; then digits, `'`, `!`, `?` and subscripts).
"""

from __future__ import annotations

import bisect
import re
from itertools import accumulate, chain, repeat
from operator import itemgetter
from typing import NamedTuple

# Token kinds (small ints: compared in the hot loops of the reader).
IDENT = 0  # identifiers and keywords alike; the reader decides which is which
SYMBOL = 1
NUMBER = 2
STRING = 3  # plain, interpolated (s!/m!/f!) and raw strings
CHAR = 4
DOC_COMMENT = 5  # /-- ... -/
MOD_DOC = 6  # /-! ... -/
COMMENT = 7  # /- ... -/
LINE_COMMENT = 8  # -- ...
HASH_CMD = 9  # #check, #eval, #doc ...
ERROR = 10  # unterminated comment or string: runs to the end of the input

_LETTERLIKE = (
    "\u03b1-\u03ba\u03bc-\u03c9"  # Greek lower case without λ
    "\u0391-\u039f\u03a1\u03a2\u03a4-\u03a9"  # Greek upper case without Π Σ
    "\u03ca-\u03fb"  # Coptic
    "\u1f00-\u1ffe"  # Polytonic Greek
    "\u2100-\u214f"  # letter-like symbols
    "\U0001d49c-\U0001d59f"  # mathematical script, fraktur, double-struck
)
SUBSCRIPT = "\u2080-\u2089\u2090-\u209c\u1d62-\u1d6a\u2c7c"
ID_BEGIN = f"A-Za-z_{_LETTERLIKE}"
ID_REST = f"{ID_BEGIN}0-9'!?{SUBSCRIPT}"
_PART = f"(?:[{ID_BEGIN}][{ID_REST}]*|«[^»]*»)"
# Mathlib's type notations that glue a letter to symbols: one name each (`ℝ≥0∞` is ENNReal)
_GLUED_TYPES = "ℝ≥0∞|ℝ≥0|ℕ∞"
NAME_RE = re.compile(f"{_PART}(?:\\.{_PART})*")

# Multi-character symbols, longest first so that alternation picks the longest.
_SYMBOLS = sorted(
    [
        ":=", "::", "=>", "->", "<-", "<->", "<=", ">=", "!=", "==", "++", "<|>", "<|", "|>.",
        "|>", "<;>", "...", "..", "@[", "&&&", "|||", "^^^", "&&", "||", "^^", "⁻¹", "]'", ">>=", ">>", "<<<", ">>>",
        "×'", "%[", "#[", "$(", "`(", "``(", "``", "//", "/\\", "\\/", "<$>", "<*>", "*>", "<*", "<&>", ">=>", "<=<",
        "∃!", "~~~",
    ],
    key=len,
    reverse=True,
)
_SYM_ALT = "|".join(re.escape(s) for s in _SYMBOLS)
# A char literal: `'a'`, `'\n'`, `'\x41'`, `'\u2026'` (Lean's form), `'\u{3b1}'`.
_CHAR = r"'(?:\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|u\{[0-9a-fA-F]+\}|[\s\S])|[^\\'\n])'"
# An operator symbol with a subscript or `ˢ` suffix, one token as Mathlib declares them:
# `×ₖ` (Kernel.prod), `∘ₗ`, `→ₗ`, `×ˢ`. Brackets, quotes and punctuation never take one.
_SUBOP = f"[^\\s\\w()\\[\\]{{}}⟨⟩⟦⟧,;'\"`«»@#.:][{SUBSCRIPT}ˢ]+"

_MASTER = re.compile(
    r"\s*(?:"
    r'(?P<interp>[smf]!")'
    r'|(?P<raw>r#*")'
    f"|(?P<ident>{_GLUED_TYPES}|{_PART}(?:\\.{_PART})*)"
    r"|(?P<lcomment>--[^\n]*)"
    r"|(?P<bcomment>/-)"
    r'|(?P<string>"(?:[^"\\]|\\[\s\S])*(?:"|\\?\Z))'
    r"|(?P<number>0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+"
    r"|[0-9][0-9_]*(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<hash>#[A-Za-z_][A-Za-z_0-9]*)"
    f"|(?P<sym>{_SUBOP}|{_SYM_ALT})"
    f"|(?P<char>{_CHAR})"
    r"|(?P<other>\S)"
    r")"
)
_BLOCK_DELIM = re.compile(r"/-|-/")
_INT_RE = re.compile(r"[0-9]+")

_GROUP_KIND = {
    "ident": IDENT,
    "sym": SYMBOL,
    "other": SYMBOL,
    "number": NUMBER,
    "string": STRING,
    "char": CHAR,
    "hash": HASH_CMD,
    "lcomment": LINE_COMMENT,
}


class Token(NamedTuple):
    """One token: its kind, its text and its [start, end) character offsets."""

    kind: int
    text: str
    start: int
    end: int


class LexError(NamedTuple):
    """An unterminated construct: where it starts and what is missing."""

    offset: int
    message: str


class SourceMap:
    """Maps character offsets to 1-based lines, 0-based columns and UTF-8 byte offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._line_starts = [0]
        find = text.find
        i = find("\n")
        while i >= 0:
            self._line_starts.append(i + 1)
            i = find("\n", i + 1)
        self._line_bytes: list[int] | None = None
        self._ascii = text.isascii()

    def locate(self, offset: int) -> tuple[int, int, int]:
        """`line_col` and `byte_offset` at once: one bisect instead of two."""
        line = bisect.bisect_right(self._line_starts, offset)
        start = self._line_starts[line - 1]
        if self._ascii:
            return line, offset - start, offset
        if self._line_bytes is None:
            self.byte_offset(0)  # builds the per-line byte table
        assert self._line_bytes is not None
        return line, offset - start, self._line_bytes[line - 1] + len(self.text[start:offset].encode("utf-8"))

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self._line_starts, offset)

    def line_col(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1]

    def byte_offset(self, offset: int) -> int:
        if self._line_bytes is None:
            if self._ascii:
                return offset
            # byte offset of each line start: running sum of the lines' UTF-8 lengths
            # (each plus its "\n"), computed by map/accumulate rather than a Python loop
            lines = self.text.split("\n")[:-1]
            sizes = map(len, map(str.encode, lines))
            self._line_bytes = list(accumulate(map((1).__add__, sizes), initial=0))
        line = bisect.bisect_right(self._line_starts, offset)
        start = self._line_starts[line - 1]
        return self._line_bytes[line - 1] + len(self.text[start:offset].encode("utf-8"))


def _scan_block_comment(text: str, pos: int) -> int:
    """End offset of the (nested) block comment whose body starts at `pos`, or -1."""
    depth = 1
    for m in _BLOCK_DELIM.finditer(text, pos):
        if m.group() == "/-":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return m.end()
    return -1


def _scan_string(text: str, pos: int, interpolated: bool) -> int:
    """End offset of a string whose body starts at `pos` (after the quote), or -1.

    In an interpolated string, `{ ... }` holds a term that may itself contain
    braces, strings and char literals.
    """
    n = len(text)
    i = pos
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif interpolated and c == "{":
            i = _scan_braces(text, i + 1)
            if i < 0:
                return -1
        else:
            i += 1
    return -1


def _scan_braces(text: str, pos: int) -> int:
    depth = 1
    n = len(text)
    i = pos
    while i < n:
        c = text[i]
        if c == '"':
            interp = i >= 2 and text[i - 1] == "!" and text[i - 2] in "smf"
            i = _scan_string(text, i + 1, interp)
            if i < 0:
                return -1
        elif c == "'":
            m = _CHAR_RE.match(text, i)
            i = m.end() if m else i + 1
        elif c == "{":
            depth += 1
            i += 1
        elif c == "}":
            depth -= 1
            i += 1
            if depth == 0:
                return i
        else:
            i += 1
    return -1


_CHAR_RE = re.compile(_CHAR)


def _tokenize_slow(
    text: str, keep_comments: bool = False, begin: int = 0, one: bool = False,
    tokens: list[Token] | None = None, errors: list[LexError] | None = None,
) -> tuple[list[Token], list[LexError], int]:
    """The reference lexer: one master-regex match and one Python step per token.
    With `one`, stops after the first match and returns the offset it reached
    (-1: the input ended or an unterminated construct ended it)."""
    if tokens is None:
        tokens = []
    if errors is None:
        errors = []
    append = tokens.append
    match = _MASTER.match
    new = tuple.__new__
    n = len(text)
    pos = begin
    while True:
        m = match(text, pos)
        if m is None:
            break
        group = m.lastgroup or "other"
        start = m.start(group)
        end = m.end()
        if group == "ident":
            append(new(Token, (IDENT, m.group(group), start, end)))
        elif group == "sym" or group == "other":
            append(new(Token, (SYMBOL, m.group(group), start, end)))
        elif group == "bcomment":
            close = _scan_block_comment(text, end)
            marker = text[end : end + 1]
            kind = DOC_COMMENT if marker == "-" else MOD_DOC if marker == "!" else COMMENT
            # `/--/` and `/-!-/`-like degenerate forms are plain comments
            if kind != COMMENT and text.startswith("-/", end):
                kind = COMMENT
            if close < 0:
                errors.append(LexError(start, "unterminated comment (missing '-/')"))
                append(new(Token, (ERROR, text[start:], start, n)))
                break
            if kind != COMMENT or keep_comments:
                append(new(Token, (kind, text[start:close], start, close)))
            end = close
        elif group == "lcomment":
            if keep_comments:
                append(new(Token, (LINE_COMMENT, m.group(group), start, end)))
        elif group == "string":
            s = m.group(group)
            if len(s) < 2 or not s.endswith('"') or _odd_backslashes(s):
                errors.append(LexError(start, "unterminated string literal (missing '\"')"))
                append(new(Token, (ERROR, text[start:], start, n)))
                break
            append(new(Token, (STRING, s, start, end)))
        elif group == "interp" or group == "raw":
            if group == "interp":
                close = _scan_string(text, end, True)
            else:
                fence = text[start + 1 : end - 1]
                close = text.find('"' + fence, end)
                close = close + 1 + len(fence) if close >= 0 else -1
            if close < 0:
                errors.append(LexError(start, "unterminated string literal (missing '\"')"))
                append(new(Token, (ERROR, text[start:], start, n)))
                break
            append(new(Token, (STRING, text[start:close], start, close)))
            end = close
        elif group == "number":
            s = m.group(group)
            if "." in s and start > 0 and text[start - 1] == ".":
                # `h.1.2`: after a dot, numbers are field indices, never decimals
                s = _INT_RE.match(text, start).group()  # type: ignore[union-attr]
                end = start + len(s)
            append(new(Token, (NUMBER, s, start, end)))
        else:
            append(new(Token, (_GROUP_KIND[group], m.group(group), start, end)))
        pos = end
        if one:
            return tokens, errors, pos
    return tokens, errors, -1


# ---- fast path -----------------------------------------------------------------
# One `findall` over the text yields (skipped, token) pairs: whitespace, line comments
# and unnested plain block comments are skipped inside the regex, doc comments without
# nesting and terminated plain strings are single tokens. Offsets come from running
# sums of the lengths and kinds from the first character, so no Python code runs per
# token. Anything else (nested comments, interpolated and raw strings, unterminated
# constructs) stops the pass: the catch-all alternative swallows the rest of the text
# with an empty token, the reference lexer takes one step there, and the pass resumes.
_CBODY = r"(?:[^-/]++|-(?!/)|/(?!-))*+-/"  # a comment body up to the first `-/`, no `/-` inside
_FAST = re.compile(
    rf"((?:\s++|--[^\n]*+|/--/|/-(?![-!]){_CBODY})*+)"
    r"(?:("
    rf"/-[-!]{_CBODY}"
    r'|(?![smf]!"|r#*"|/-)(?:'
    f"{_GLUED_TYPES}|{_PART}(?:\\.{_PART})*"
    r'|"(?:[^"\\]++|\\[\s\S])*+"'
    r"|(?<=\.)[0-9]+(?=[0-9_]*\.[0-9])"
    r"|0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+"
    r"|[0-9][0-9_]*(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
    r"|#[A-Za-z_][A-Za-z_0-9]*"
    f"|{_SUBOP}|{_SYM_ALT}"
    f"|{_CHAR}"
    r'|[^\s"]'
    r"))|[\s\S]*)"
)


def _first_kinds() -> dict[str, int]:
    kinds: dict[str, int] = {"«": -1, '"': STRING, "'": -1, "#": -1, "/": -1}
    kinds.update(dict.fromkeys("0123456789", NUMBER))
    spec = ID_BEGIN
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            for c in range(ord(spec[i]), ord(spec[i + 2]) + 1):
                kinds[chr(c)] = IDENT
            i += 3
        else:
            kinds[spec[i]] = IDENT
            i += 1
    return kinds


_FIRST_KIND = _first_kinds()


def _ambiguous_kind(t: str) -> int:
    c = t[0]
    if c == "«":  # a lone unclosed guillemet is a symbol
        return IDENT if len(t) > 1 else SYMBOL
    if c == "'":
        return CHAR if len(t) > 1 else SYMBOL
    if c == "#":
        return HASH_CMD if len(t) > 1 and (t[1].isascii() and (t[1].isalpha() or t[1] == "_")) else SYMBOL
    if t.startswith("/--"):
        return DOC_COMMENT
    if t.startswith("/-!"):
        return MOD_DOC
    return SYMBOL


def tokenize(text: str, keep_comments: bool = False) -> tuple[list[Token], list[LexError]]:
    """Split `text` into tokens. Never raises; unterminated constructs become
    an ERROR token running to the end of the input plus a `LexError`.

    Plain comments are dropped unless `keep_comments`; doc comments and
    module docs are always kept (the reader needs them). Gives exactly the
    tokens of `_tokenize_slow`, faster.
    """
    if keep_comments:
        toks, errs, _ = _tokenize_slow(text, True)
        return toks, errs
    tokens: list[Token] = []
    errors: list[LexError] = []
    findall = _FAST.findall
    get = _FIRST_KIND.get
    first_char = itemgetter(0)
    new = tuple.__new__
    n = len(text)
    pos = 0
    while pos < n:
        pairs = findall(text, pos)
        if not pairs:
            break
        skips, texts = zip(*pairs)
        try:
            stop = texts.index("")  # the first special construct (or the end)
        except ValueError:
            stop = len(texts)
        texts = texts[:stop]
        # pos, start0, end0, start1, end1, ...
        offs = list(accumulate(chain.from_iterable(zip(map(len, skips), map(len, texts))), initial=pos))
        # kind from the first character, in C (map over dict.get); the few first
        # characters that leave the kind open (-1) are settled one by one afterwards
        kinds = list(map(get, map(first_char, texts), repeat(SYMBOL)))
        k = -1
        while True:
            try:
                k = kinds.index(-1, k + 1)
            except ValueError:
                break
            kinds[k] = _ambiguous_kind(texts[k])
        tokens.extend(map(new, repeat(Token), zip(kinds, texts, offs[1::2], offs[2::2])))
        if stop == len(pairs):
            break
        _, _, pos = _tokenize_slow(text, False, offs[-1] + len(skips[stop]), True, tokens, errors)
        if pos < 0:
            break
    return tokens, errors


def _odd_backslashes(s: str) -> bool:
    """True when the closing quote of `s` is escaped (the string never ended)."""
    k = len(s) - 2
    count = 0
    while k >= 1 and s[k] == "\\":
        count += 1
        k -= 1
    return count % 2 == 1
