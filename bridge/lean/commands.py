"""Split a token stream into Lean commands.

Lean ends a command where the next one begins: at a command keyword. A few
keywords also exist inside terms and tactic blocks (`open Foo in tac`,
`set_option … in tac`, `#adaptation_note`), so those start a command only at
column 0 or outside a declaration. Doc comments, `@[…]` and modifiers start a
command only when a command keyword follows them (field and constructor docs
stay inside their structure). A keyword at column 0 always starts a command,
even inside unbalanced brackets: one malformed declaration never swallows its
neighbours.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import compress
from operator import itemgetter, or_

from bridge.lean.lexer import DOC_COMMENT, ERROR, HASH_CMD, IDENT, MOD_DOC, SYMBOL, Token

DECL_KEYWORDS = frozenset(
    {
        "def", "theorem", "lemma", "abbrev", "instance", "example", "opaque", "axiom",
        "structure", "class", "inductive", "coinductive", "irreducible_def",
    }
)
MODIFIERS = frozenset(
    {"private", "protected", "noncomputable", "partial", "unsafe", "nonrec", "meta", "public", "scoped", "local"}
)
NOTATION_KEYWORDS = frozenset(
    {
        "syntax", "macro", "macro_rules", "notation", "notation3", "infix", "infixl", "infixr", "prefix",
        "postfix", "elab", "elab_rules", "declare_syntax_cat", "binder_predicate", "simproc", "dsimproc",
        "simproc_decl", "builtin_simproc",
    }
)
OTHER_KEYWORDS = frozenset(
    {
        "namespace", "section", "end", "variable", "universe", "import", "module", "prelude", "mutual",
        "omit", "include", "export", "attribute", "initialize", "builtin_initialize", "run_cmd",
        "run_elab", "run_meta", "register_option", "register_builtin_option", "register_simp_attr",
        "register_label_attr", "add_decl_doc", "alias", "assert_not_exists", "assert_not_imported",
        "suppress_compilation", "library_note", "unseal", "seal", "compile_inductive", "deriving",
        "declare_config_elab", "initialize_simps_projections", "open", "set_option", "grind_pattern",
    }
)
# Words that also occur inside proofs and terms (`open Foo in simp`, `set_option … in`), or that
# are keywords only in some toolchains and could be identifiers elsewhere (`module`, `alias`):
# they start a command only at column 0 or outside a declaration.
AMBIGUOUS = frozenset(
    {
        "open", "set_option", "module", "prelude", "alias", "include", "omit", "seal", "unseal",
        "library_note", "suppress_compilation", "assert_not_exists", "assert_not_imported",
        "compile_inductive", "initialize_simps_projections", "declare_config_elab", "grind_pattern",
        "register_option", "register_builtin_option", "register_simp_attr", "register_label_attr",
        "add_decl_doc", "run_cmd", "run_elab", "run_meta", "simproc", "dsimproc", "simproc_decl",
        "builtin_simproc", "binder_predicate", "notation3", "irreducible_def", "lemma",
    }
)
COMMAND_KEYWORDS = DECL_KEYWORDS | NOTATION_KEYWORDS | OTHER_KEYWORDS
_TRIGGERS = COMMAND_KEYWORDS | MODIFIERS

OPENERS = frozenset({"(", "[", "{", "⦃", "⟨", "@[", "#[", "%[", "‹", "⟦", "`(", "``(", "$(", "⟪"})
CLOSERS = frozenset({")", "]", "}", "⦄", "⟩", "›", "⟧", "]'", "⟫"})


def first_on_line(tokens: list[Token], text: str, i: int) -> bool:
    """True when no token precedes token `i` on its line (comments aside).
    Looks only at the gap before the token, so a scan over a file stays linear."""
    return i == 0 or text.find("\n", tokens[i - 1][3], tokens[i][2]) >= 0


def bars_enclose(tokens: list[Token], k: int, end: int) -> bool:
    """The `|` or `‖` at k opens `|x|` / `‖x‖` (Mathlib's abs, norm) rather than an alternative
    `| p => …`: it touches the next token, and the first bar of its kind, `=>` or `:=` after it at
    bracket depth 0 (before `end`) is that bar touching the token before it."""
    bar = tokens[k][1]
    if k + 1 >= end or tokens[k][3] != tokens[k + 1][2]:
        return False
    depth = 0
    for j in range(k + 1, end):
        t = tokens[j]
        if t[0] == SYMBOL and t[1] in OPENERS:
            depth += 1
        elif t[0] == SYMBOL and t[1] in CLOSERS:
            if depth == 0:
                return False
            depth -= 1
        elif depth == 0 and t[1] in (bar, "=>", ":="):
            return t[1] == bar and tokens[j - 1][3] == t[2]
    return False


# Attribute blocks and `scoped[NS]` are short: looking further for their end would
# make a file full of unclosed `@[` quadratic to split.
_LOOKAHEAD = 4000


def match_bracket(tokens: list[Token], i: int, end: int, limit: int = 0) -> int:
    """Index of the token closing the opener at `i` (any bracket kind), or -1
    (also when `limit` > 0 and the closer is further than `limit` tokens)."""
    depth = 0
    if limit:
        end = min(end, i + limit)
    for j in range(i, end):
        t = tokens[j]
        if t[0] == SYMBOL:
            s = t[1]
            if s in OPENERS:
                depth += 1
            elif s in CLOSERS:
                depth -= 1
                if depth == 0:
                    return j
    return -1


def command_head(tokens: list[Token], i: int, end: int) -> int:
    """Skip doc comments, `@[…]` attribute blocks and modifiers from `i`;
    return the index of the head keyword (or of whatever stands there)."""
    while i < end:
        t = tokens[i]
        k = t[0]
        if k == DOC_COMMENT:
            i += 1
        elif k == SYMBOL and t[1] == "@[":
            j = match_bracket(tokens, i, end, _LOOKAHEAD)
            if j < 0:
                return i
            i = j + 1
        elif k == IDENT and t[1] in MODIFIERS:
            i += 1
            # `scoped[NS] notation …`
            if t[1] == "scoped" and i < end and tokens[i][1] == "[":
                j = match_bracket(tokens, i, end, _LOOKAHEAD)
                i = j + 1 if j >= 0 else i
        else:
            return i
    return i


def split_commands(tokens: list[Token], text: str) -> list[tuple[int, int]]:
    """Token index ranges [start, end) of the commands of a file, in order."""
    n = len(tokens)
    starts: list[int] = []
    depth = 0
    in_decl = False
    quiet_until = -1  # tokens of an accepted command's head (attributes, modifiers) start nothing
    # A failed lookahead from a doc comment, `@[` or modifier reached some head token; every
    # candidate before that head would reach the same one, so it is not looked up again.
    failed_until = -1
    for i in _candidates(tokens):
        t = tokens[i]
        kind = t[0]
        if kind == SYMBOL:
            s = t[1]
            if s == "@[" and i >= quiet_until and i >= failed_until and (depth == 0 or _col0(text, t)):
                ok, reached = _try_start(tokens, i, n, starts)
                if ok:
                    depth = 0
                    in_decl, quiet_until = _head_info(tokens, i, n)
                else:
                    failed_until = reached
            if s in OPENERS:
                depth += 1
            elif s in CLOSERS and depth > 0:
                depth -= 1
            continue
        if i < quiet_until:
            continue
        if kind == IDENT:
            s = t[1]
            if s not in _TRIGGERS:
                continue
            col0 = _col0(text, t)
            if depth and not col0:
                continue
            if i and (tokens[i - 1][1] == "|" or (tokens[i - 1][1] == "." and tokens[i - 1][3] == t[2])):
                continue  # `| export` (a constructor so named), `.import`: a name, never a command
            if s in AMBIGUOUS and in_decl and not col0:
                continue
            if s == "deriving" and not (i + 1 < n and tokens[i + 1][1] == "instance"):
                continue
            if s in MODIFIERS:
                if i < failed_until:
                    continue
                ok, reached = _try_start(tokens, i, n, starts)
                if not ok:
                    failed_until = reached
                    continue
            else:
                starts.append(i)
            depth = 0
            in_decl, quiet_until = _head_info(tokens, i, n)
        elif kind == DOC_COMMENT:
            if (depth and not _col0(text, t)) or i < failed_until:
                continue
            ok, reached = _try_start(tokens, i, n, starts)
            if ok:
                depth = 0
                in_decl, quiet_until = _head_info(tokens, i, n)
            else:
                failed_until = reached
        elif kind == MOD_DOC or kind == ERROR:
            if kind == MOD_DOC and depth and not _col0(text, t):
                continue
            starts.append(i)
            depth = 0
            in_decl = False
        elif kind == HASH_CMD and (_col0(text, t) or (not depth and not in_decl)):
            starts.append(i)
            depth = 0
            in_decl = False
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    bounds = starts + [n]
    return [(bounds[k], bounds[k + 1]) for k in range(len(starts)) if bounds[k] < bounds[k + 1]]


# The loop above acts only on brackets, command keywords and modifiers, and doc comments,
# module docs, errors and `#` commands: every other token (most identifiers, numbers,
# strings, operators) leaves its state as it is. They are filtered out in C beforehand.
_ACTIVE_TEXTS = OPENERS | CLOSERS | _TRIGGERS
_ACTIVE_KINDS = frozenset({DOC_COMMENT, MOD_DOC, ERROR, HASH_CMD})


def _candidates(tokens: list[Token]) -> Iterator[int]:
    """Indices of the tokens `split_commands` has to look at, in order."""
    active = map(
        or_,
        map(_ACTIVE_TEXTS.__contains__, map(itemgetter(1), tokens)),
        map(_ACTIVE_KINDS.__contains__, map(itemgetter(0), tokens)),
    )
    return compress(range(len(tokens)), active)


def _col0(text: str, t: Token) -> bool:
    s = t[2]
    return s == 0 or text[s - 1] == "\n"


def _try_start(tokens: list[Token], i: int, n: int, starts: list[int]) -> tuple[bool, int]:
    """Start a command at `i` when a command keyword follows its docs, attributes and
    modifiers; also return the head index the lookahead reached."""
    head = command_head(tokens, i, n)
    if head < n and tokens[head][0] == IDENT and tokens[head][1] in COMMAND_KEYWORDS:
        starts.append(i)
        return True, head
    return False, head


def _head_info(tokens: list[Token], i: int, n: int) -> tuple[bool, int]:
    """Whether the command starting at `i` is a declaration, and the first token
    index after its head keyword(s) from which a new command may start."""
    head = command_head(tokens, i, n)
    word = tokens[head][1] if head < n else ""
    quiet = head + 1
    if word == "class" and quiet < n and tokens[quiet][1] in ("inductive", "abbrev"):
        quiet += 1
    elif word == "deriving":
        quiet += 1  # `deriving instance`
    return word in DECL_KEYWORDS, quiet
