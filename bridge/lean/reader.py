"""Read one Lean file into declarations: pure text in, models out, no I/O.

`read_module(text, path)` runs the lexer, splits commands, keeps the scope
state (namespaces, sections, `open`, `variable`, `include`/`omit`, `… in`
prefixes) and parses every declaration: its name, kind, binders, type, body,
docstring, attributes and modifiers. Anything it cannot make sense of becomes
a diagnostic on that command; the next command is read as usual.

URLs are left empty here: they depend on where the file sits in a checkout,
which is `bridge.extract`'s business.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

from bridge import __version__
from bridge.lean.commands import (
    CLOSERS,
    COMMAND_KEYWORDS,
    DECL_KEYWORDS,
    MODIFIERS,
    NOTATION_KEYWORDS,
    OPENERS,
    bars_enclose,
    command_head,
    first_on_line,
    match_bracket,
    split_commands,
)
from bridge.lean.lexer import (
    CHAR,
    DOC_COMMENT,
    ERROR,
    HASH_CMD,
    ID_BEGIN,
    ID_REST,
    IDENT,
    MOD_DOC,
    STRING,
    SYMBOL,
    SourceMap,
    Token,
    tokenize,
)
from bridge.lean.records import (  # dict records while reading; validated once in read_module
    Binder,
    Constructor,
    Declaration,
    Diagnostic,
    Hashes,
    ModuleDoc,
    ModuleExport,
    OpenDirective,
    OtherCommand,
    Range,
    Scope,
    StructField,
    plain_declaration,
    to_plain,
)
from bridge.models import ModuleExport as ModuleExportModel
from bridge.models import Span

_KIND_OF = {"lemma": "lemma", "coinductive": "inductive", "irreducible_def": "def"}
_VALUE_STOPS = frozenset({"termination_by", "decreasing_by", "where", "deriving"})
_SIG_STOPS = frozenset({"where", "extends", "deriving", "termination_by", "decreasing_by"})
_BINDER_OPEN = {"(": "explicit", "{": "implicit", "⦃": "strict_implicit", "[": "instance"}
_WS = re.compile(r"\s+")
_LET_WORDS = frozenset({"let", "have", "letI", "haveI", "let'"})
_LAYOUT_WORDS = _LET_WORDS | {"match", "by", "calc", "do", "show", "fun", "λ"}


_SERIAL = itertools.count()


@dataclass
class _Frame:
    kind: str  # namespace | section | mutual | in
    name: str = ""
    serial: int = field(default_factory=lambda: next(_SERIAL))
    opens: list[OpenDirective] = field(default_factory=list)
    exports: list[OpenDirective] = field(default_factory=list)
    variables: list[Binder] = field(default_factory=list)
    included: set[str] = field(default_factory=set)
    omitted_names: set[str] = field(default_factory=set)
    omitted_types: set[str] = field(default_factory=set)


class _StackInfo(NamedTuple):
    namespace: str
    groups: list[Binder]  # section variables in scope (non-empty groups)
    included: set[str]
    omitted_names: set[str]
    omitted_types: set[str]
    var_names: set[str]  # names of the non-instance variables


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def clean_docstring(raw: str) -> str:
    """`/-- text -/` or `/-! text -/` to its text, common indentation removed."""
    body = raw[3:-2] if raw.endswith("-/") else raw[3:]
    lines = body.strip("\n").splitlines()
    indents = [len(x) - len(x.lstrip()) for x in lines[1:] if x.strip()]
    cut = min(indents) if indents else 0
    out = [lines[0].strip()] + [x[cut:].rstrip() for x in lines[1:]] if lines else []
    return "\n".join(out).strip()


class _ModuleReader:
    def __init__(self, text: str, path: str, module: str = "") -> None:
        self.text = text
        self.path = path
        self.module = module
        self.smap = SourceMap(text)
        self.tokens, lex_errors = tokenize(text)
        # Token texts and kinds as flat lists: slices of them feed C-level set, join and
        # index operations, so that most per-declaration scans run no Python per token.
        self.texts: list[str] = list(map(itemgetter(1), self.tokens))
        self.kinds: list[int] = list(map(itemgetter(0), self.tokens))
        self.frames: list[_Frame] = [_Frame("root")]
        self.pending_in = 0  # `… in` frames waiting for their command
        self.decls: list[Declaration] = []
        self.scopes: list[Scope] = []
        self._scope_ids: dict[str, int] = {}
        self._last_scope_key: tuple = ()
        self._last_scope = -1
        self._info_key: tuple[int, ...] = ()
        self._info = _StackInfo("", [], set(), set(), set(), set())
        self.imports: list[str] = []
        self.module_docs: list[ModuleDoc] = []
        self.commands: list[OtherCommand] = []
        self.universes: list[str] = []
        self.diagnostics: list[Diagnostic] = []
        self.notes: list[str] = []
        for err in lex_errors:
            self.diag(err.offset, err.message)

    # ---- small helpers -------------------------------------------------
    def diag(self, offset: int, message: str, severity: str = "error") -> None:
        line, col = self.smap.line_col(offset)
        self.diagnostics.append(
            Diagnostic(path=self.path, line=line, column=col + 1, severity=severity, message=message)  # type: ignore[arg-type]
        )

    def src(self, a: int, b: int) -> str:
        """Source text of tokens [a, b)."""
        if a >= b:
            return ""
        return self.text[self.tokens[a][2] : self.tokens[b - 1][3]]

    def span(self, a: int, b: int) -> Span | None:
        """Where tokens [a, b) are written (`models.Span`); None when empty."""
        if a >= b:
            return None
        line, col, start = self.smap.locate(self.tokens[a][2])
        return line, col + 1, start, self.smap.byte_offset(self.tokens[b - 1][3])

    def norm(self, a: int, b: int) -> str:
        """Token texts of [a, b) joined by single spaces (comments dropped)."""
        if DOC_COMMENT not in self.kinds[a:b]:
            return " ".join(self.texts[a:b])
        return " ".join(t[1] for t in self.tokens[a:b] if t[0] != DOC_COMMENT)

    def type_text(self, a: int, b: int) -> str:
        """A declaration's type: whitespace collapsed, unless a layout-sensitive term
        (`let`/`have`/`match`/`by` ...) spans lines there: then the line breaks end
        its parts, so the source is kept as written."""
        if not _LAYOUT_WORDS.isdisjoint(self.texts[a:b]) and "\n" in self.src(a, b):
            return self.src(a, b)
        return self.flat(a, b)

    def flat(self, a: int, b: int, limit: int = 0) -> str:
        """Tokens [a, b) as written, whitespace collapsed to single spaces; comments (not tokens)
        dropped and string literals kept as they are: joining the lines of `x × -- note` would
        otherwise make the comment swallow the rest of the text."""
        src = self.src(a, b)
        if "--" in src or "/-" in src or '"' in src:
            toks, text = self.tokens, self.text
            parts: list[str] = []
            for j in range(a, b):
                if j > a and toks[j][2] > toks[j - 1][3]:
                    parts.append(" ")
                piece = text[toks[j][2] : toks[j][3]]
                parts.append(piece if toks[j][0] in (STRING, CHAR) else " ".join(piece.split()))
            s = "".join(parts)
        else:
            # = `_WS.sub(" ", src).strip()`: str.split() and the regex's `\s` agree on what
            # whitespace is (str.isspace), and split/join is several times faster
            s = " ".join(src.split())
        return s[:limit] if limit else s

    def find_top(self, a: int, e: int, words: frozenset[str] | set[str], bar_at_line_start: bool = False) -> int:
        """First index in [a, e) at bracket depth 0 whose text is in `words`
        (and, with `bar_at_line_start`, a `|` first on its line); else e.
        A `:=` that belongs to a `let`/`have` inside the term is not a stop."""
        if words.isdisjoint(self.texts[a:e]) and not (bar_at_line_start and "|" in self.texts[a:e]):
            return e  # no candidate at all (the common case for bodies): skip the scan
        depth = 0
        lets = 0
        matching = 0  # 1: a `match` at depth 0 awaits its `with`; 2: its alternatives follow
        toks = self.tokens
        for j in range(a, e):
            t = toks[j]
            s = t[1]
            if t[0] == SYMBOL:
                if s in OPENERS:
                    depth += 1
                    continue
                if s in CLOSERS:
                    depth = max(0, depth - 1)
                    continue
            if depth == 0 and t[0] in (IDENT, SYMBOL):
                if s in _LET_WORDS and t[0] == IDENT:
                    lets += 1
                elif s == ":=" and lets:
                    lets -= 1
                    continue
                if s in words:
                    return j
                if t[0] == IDENT and (s == "match" or (s == "with" and matching)):
                    matching += 1
                elif s == "fun" and j + 1 < e and toks[j + 1][1] == "|":
                    matching = 2  # `fun | p => …`: the bars are the lambda's
                # a statement ending in `match … with | …` owns those bars (as Lean parses it)
                if (bar_at_line_start and s == "|" and matching < 2 and first_on_line(toks, self.text, j)
                        and not bars_enclose(toks, j, e)):
                    return j
        return e

    def _stack_key(self) -> tuple[int, ...]:
        """Identifies the whole scope stack's state cheaply. Frames change only by push
        and pop, and only the top frame is ever added to (opens, variables, `include`,
        `omit`), so the top frame's serial and the sizes of its collections pin down
        every frame beneath it too. Deep stacks are common (pieces leave sections open)."""
        f = self.frames[-1]
        return (f.serial, len(self.frames), len(f.opens), len(f.exports), len(f.variables),
                len(f.included), len(f.omitted_names), len(f.omitted_types))

    def _stack_info(self) -> _StackInfo:
        """What declarations need from the scope stack, recomputed only when it changed."""
        key = self._stack_key()
        if key != self._info_key:
            frames = self.frames
            groups = [g for f in frames for g in f.variables if g.names or g.type]
            self._info = _StackInfo(
                namespace=".".join(f.name for f in frames if f.kind == "namespace" and f.name),
                groups=groups,
                included={n for f in frames for n in f.included},
                omitted_names={n for f in frames for n in f.omitted_names},
                omitted_types={t for f in frames for t in f.omitted_types},
                var_names={n for g in groups for n in g.names if g.info != "instance"},
            )
            self._info_key = key
        return self._info

    def current_namespace(self) -> str:
        return self._stack_info().namespace

    def scope_index(self) -> int:
        # (the top frame pins down the stack beneath it: see `_stack_key`)
        f = self.frames[-1]
        key_frames = (f.serial, len(self.frames), len(f.opens), len(f.exports))
        if key_frames == self._last_scope_key:
            return self._last_scope
        self._last_scope_key = key_frames
        self._last_scope = self._scope_index()
        return self._last_scope

    def _scope_index(self) -> int:
        opens = [o for f in self.frames for o in f.opens]
        exports = [o for f in self.frames for o in f.exports]
        scope = Scope(namespace=self.current_namespace(), opens=opens, exports=exports)
        key = scope.model_dump_json()
        idx = self._scope_ids.get(key)
        if idx is None:
            idx = self._scope_ids[key] = len(self.scopes)
            self.scopes.append(scope)
        return idx

    def make_range(self, a: int, b: int) -> Range:
        locate = self.smap.locate
        sl, sc, sb = locate(self.tokens[a][2])
        el, ec, eb = locate(self.tokens[b - 1][3])
        return Range(start_line=sl, start_column=sc + 1, start_byte=sb, end_line=el, end_column=ec + 1, end_byte=eb)

    # ---- driver ----------------------------------------------------------
    def run(self) -> None:
        toks = self.tokens
        if "#doc" in self.texts and any(t[0] == HASH_CMD and t[1] == "#doc" for t in toks):
            self.notes.append("Verso document (#doc): prose, no declarations to extract; skipped")
            return
        for a, b in split_commands(toks, self.text):
            in_frames_before = self.pending_in
            try:
                self.command(a, b)
            except Exception as exc:  # noqa: BLE001 - a reader bug must not cost the rest of the file
                self.diag(toks[a][2], f"internal reader error ({type(exc).__name__}: {exc}); command skipped")
            # `open X in` / `set_option … in` prefixes apply to the next command only
            if in_frames_before and self.pending_in == in_frames_before:
                while self.frames and self.frames[-1].kind == "in":
                    self.frames.pop()
                self.pending_in = 0

    def command(self, a: int, b: int) -> None:
        toks = self.tokens
        t = toks[a]
        if t[0] == MOD_DOC:
            self.module_docs.append(ModuleDoc(text=clean_docstring(t[1]), line=self.smap.line(t[2])))
            if b > a + 1:
                self.command(a + 1, b)
            return
        if t[0] == ERROR:
            return  # already reported by the lexer
        if t[0] == HASH_CMD:
            self.other(a, b, t[1])
            return
        head = command_head(toks, a, b)
        if head >= b:
            if toks[a][0] == DOC_COMMENT:
                self.diag(toks[a][2], "doc comment is not followed by a declaration", "warning")
            else:
                self.diag(toks[a][2], f"unexpected '{toks[a][1]}': expected a command")
            return
        word = toks[head][1] if toks[head][0] == IDENT else ""
        if word in DECL_KEYWORDS:
            self.declaration(a, head, b)
        elif word == "namespace":
            self.open_frame("namespace", head, b)
        elif word == "section":
            self.open_frame("section", head, b)
        elif word == "mutual":
            self.frames.append(_Frame("mutual"))
        elif word == "end":
            self.end_frame(head, b)
        elif word == "open":
            self.open_cmd(head + 1, b, export=False)
        elif word == "export":
            self.open_cmd(head + 1, b, export=True)
        elif word == "variable":
            self.variable_cmd(head + 1, b)
        elif word == "include":
            self.include_cmd(head + 1, b)
        elif word == "omit":
            self.omit_cmd(head + 1, b)
        elif word == "universe":
            self.universes.extend(x[1] for x in toks[head + 1 : b] if x[0] == IDENT and x[1] != "in")
        elif word == "import":
            self.imports.extend(x[1] for x in toks[head + 1 : b] if x[0] == IDENT and x[1] != "all")
        elif word in ("module", "prelude"):
            pass
        elif word == "set_option":
            self.maybe_in(b)
        elif word == "alias":
            self.alias_cmd(a, head, b)
        elif word in NOTATION_KEYWORDS or word in {
            "attribute", "initialize", "builtin_initialize", "deriving", "run_cmd", "run_elab", "run_meta",
            "register_option", "register_builtin_option", "register_simp_attr", "register_label_attr",
            "add_decl_doc", "assert_not_exists", "assert_not_imported", "suppress_compilation",
            "library_note", "unseal", "seal", "compile_inductive", "declare_config_elab",
            "initialize_simps_projections", "grind_pattern",
        }:
            self.other(a, b, word)
        else:
            self.diag(toks[head][2], f"unexpected '{toks[head][1]}': expected a command")

    def other(self, a: int, b: int, kind: str) -> None:
        self.commands.append(OtherCommand(kind=kind, head=self.flat(a, b, 200), line=self.smap.line(self.tokens[a][2])))

    def maybe_in(self, b: int) -> bool:
        """A command ending in `in` scopes over the next command only."""
        t = self.tokens[b - 1]
        if t[0] == IDENT and t[1] == "in":
            self.frames.append(_Frame("in"))
            self.pending_in += 1
            return True
        return False

    # ---- scopes ----------------------------------------------------------
    def open_frame(self, kind: str, head: int, b: int) -> None:
        # As Lean: `namespace A.B` (or `section A.B`) opens one scope per component, so that
        # `end B` closes the inner one alone and `end A.B` both.
        names = [t[1] for t in self.tokens[head + 1 : b] if t[0] == IDENT]
        for part in names[0].split(".") if names else [""]:
            self.frames.append(_Frame(kind, part))

    def end_frame(self, head: int, b: int) -> None:
        toks = self.tokens
        name = toks[head + 1][1] if head + 1 < b and toks[head + 1][0] == IDENT else ""
        while len(self.frames) > 1 and self.frames[-1].kind == "in":
            self.frames.pop()
        parts = name.split(".") if name else [""]
        if len(self.frames) <= len(parts):
            self.diag(toks[head][2], f"'end{' ' + name if name else ''}' closes nothing"
                      if len(self.frames) <= 1 else f"'end {name}' closes more scopes than are open")
            del self.frames[1:]
            return
        closing = self.frames[len(self.frames) - len(parts):]
        if any(f.kind in ("namespace", "section") and f.name != part for f, part in zip(closing, parts)):
            top = self.frames[-1]
            want = f"end {top.name}".strip()
            self.diag(toks[head][2], f"'end{' ' + name if name else ''}' does not match {top.kind} "
                      f"'{top.name}' (expected '{want}')")
            if name and any(f.name == parts[-1] for f in self.frames[1:]):
                while self.frames[-1].name != parts[-1]:
                    self.frames.pop()
                parts = parts[-1:]
        del self.frames[len(self.frames) - len(parts):]

    def open_cmd(self, a: int, b: int, export: bool) -> None:
        if self.maybe_in(b):
            b -= 1
        toks = self.tokens
        directives: list[OpenDirective] = []
        scoped = False
        i = a
        while i < b:
            t = toks[i]
            if t[0] == IDENT and t[1] == "scoped":
                scoped = True
                i += 1
                continue
            if t[0] != IDENT:
                self.diag(t[2], f"unexpected '{t[1]}' in open command")
                return
            d = OpenDirective(namespace=t[1], scoped=scoped)
            i += 1
            if i < b and toks[i][1] == "(":
                j = match_bracket(toks, i, b)
                j = b - 1 if j < 0 else j
                d.only = [x[1] for x in toks[i + 1 : j] if x[0] == IDENT]
                i = j + 1
            elif i < b and toks[i][1] == "hiding":
                d.hiding = [x[1] for x in toks[i + 1 : b] if x[0] == IDENT]
                i = b
            elif i < b and toks[i][1] == "renaming":
                names = [x[1] for x in toks[i + 1 : b] if x[0] == IDENT]
                d.renaming = dict(zip(names[0::2], names[1::2]))
                i = b
            directives.append(d)
        frame = self.frames[-1]
        (frame.exports if export else frame.opens).extend(directives)

    def variable_cmd(self, a: int, b: int) -> None:
        if self.maybe_in(b):
            b -= 1
        frame = self.frames[-1]
        known = {n: bd for f in self.frames for bd in f.variables for n in bd.names}
        for bd in self.binder_groups(a, b):
            if bd.type is None and bd.names and all(n in known for n in bd.names):
                # `variable {α}`: a binder-info update of variables declared earlier
                for n in bd.names:
                    old = known[n]
                    rest = [x for x in old.names if x != n]
                    moved = old.model_copy(update={"names": [n], "info": bd.info})
                    frame.variables.append(moved)
                    old.names[:] = rest
                continue
            frame.variables.append(bd)

    def include_cmd(self, a: int, b: int) -> None:
        if self.maybe_in(b):
            b -= 1
        self.frames[-1].included.update(t[1] for t in self.tokens[a:b] if t[0] == IDENT)

    def omit_cmd(self, a: int, b: int) -> None:
        if self.maybe_in(b):
            b -= 1
        frame = self.frames[-1]
        for bd in self.binder_groups(a, b):
            if bd.info == "instance" and bd.type and not bd.names:
                frame.omitted_types.add(_WS.sub(" ", bd.type))
            frame.omitted_names.update(bd.names)

    # ---- binders -----------------------------------------------------------
    def binder_groups(self, a: int, b: int) -> list[Binder]:
        """Binder groups and bare names in [a, b)."""
        out: list[Binder] = []
        toks = self.tokens
        i = a
        while i < b:
            t = toks[i]
            if t[0] == SYMBOL and t[1] in _BINDER_OPEN:
                j = match_bracket(toks, i, b)
                if j < 0:
                    self.diag(t[2], f"unclosed '{t[1]}' in binder")
                    return out
                out.append(self.binder(i, j))
                i = j + 1
            elif t[0] == IDENT:
                out.append(Binder(names=[t[1]], info="explicit"))
                i += 1
            else:
                i += 1
        return out

    def binder(self, i: int, j: int) -> Binder:
        """The bracketed binder group tokens[i..j] (both brackets included)."""
        toks = self.tokens
        opener = toks[i][1]
        info = _BINDER_OPEN[opener]
        a, b = i + 1, j
        if opener == "{" and a < b and toks[a][1] == "{" and toks[b - 1][1] == "}":
            info, a, b = "strict_implicit", a + 1, b - 1  # `{{x}}`
        colon = self.find_top(a, b, {":"})
        if info == "instance":
            if colon < b and colon - a == 1 and toks[a][0] == IDENT:
                return Binder(names=[toks[a][1]], type=self.flat(colon + 1, b), info="instance",
                              type_at=self.span(colon + 1, b))
            return Binder(names=[], type=self.flat(a, b), info="instance", type_at=self.span(a, b))
        names_end = colon if colon < b else self.find_top(a, b, {":="})
        names = [t[1] for t in toks[a:names_end] if t[0] == IDENT]
        default = auto = None
        typ = None
        type_at = default_at = None
        if colon < b:
            assign = self.find_top(colon + 1, b, {":="})
            typ = self.flat(colon + 1, assign)
            type_at = self.span(colon + 1, assign)
            if assign < b:
                val = self.flat(assign + 1, b)
                if toks[assign + 1][1] == "by":
                    auto = val
                else:
                    default, default_at = val, self.span(assign + 1, b)
        else:
            assign = names_end
            if assign < b:
                default, default_at = self.flat(assign + 1, b), self.span(assign + 1, b)
        return Binder(names=names, type=typ or None, info=info, default=default, auto_param=auto,  # type: ignore[arg-type]
                      type_at=type_at if typ else None, default_at=default_at)

    def signature(self, p: int, e: int) -> tuple[list[Binder], int]:
        """Binders from `p` up to the type colon or a body keyword; returns the stop index."""
        toks = self.tokens
        binders: list[Binder] = []
        while p < e:
            t = toks[p]
            if t[0] == SYMBOL and t[1] in _BINDER_OPEN:
                j = match_bracket(toks, p, e)
                if j < 0:
                    self.diag(t[2], f"unclosed '{t[1]}' in signature")
                    return binders, e
                binders.append(self.binder(p, j))
                p = j + 1
            elif t[0] == IDENT and t[1] not in _SIG_STOPS:
                binders.append(Binder(names=[t[1]], info="explicit"))
                p += 1
            else:
                break
        return binders, p

    # ---- section variables ------------------------------------------------
    def section_variables(self, decl_binders: list[Binder], mention_ranges: list[tuple[int, int]]) -> list[Binder]:
        """The section variables a declaration uses, by Lean's rule: those mentioned
        (in the statement; for definitions also the body), those their types mention,
        those `include`d; plus instance binders all of whose variables are in."""
        info = self._stack_info()
        groups = info.groups
        if not groups:
            return []
        own = {n for bd in decl_binders for n in bd.names}
        # Every token text in range, not only identifiers: only identifiers' texts (the
        # variables' names) are ever looked up in `used`, and no other token spells one.
        used: set[str] = set()
        for a, b in mention_ranges:
            used.update(self.texts[a:b])
        used.update([w.split(".", 1)[0] for w in used if "." in w])
        used -= own
        used.update(info.included)
        omitted_names = info.omitted_names
        omitted_types = info.omitted_types
        var_names = info.var_names
        chosen: dict[int, set[str]] = {}
        changed = True
        while changed:
            changed = False
            for gi, g in enumerate(groups):
                if g.info == "instance":
                    continue
                for n in g.names:
                    if n in used and n not in omitted_names and n not in chosen.get(gi, set()):
                        chosen.setdefault(gi, set()).add(n)
                        used.update(_idents(g.type or ""))
                        changed = True
        chosen_names = {n for s in chosen.values() for n in s}
        for gi, g in enumerate(groups):
            if g.info != "instance" or not g.type:
                continue
            if _WS.sub(" ", g.type) in omitted_types or any(n in omitted_names for n in g.names):
                continue
            mentioned = _idents(g.type) & var_names
            named_use = any(n in used for n in g.names)
            if (mentioned and mentioned <= chosen_names) or named_use:
                chosen[gi] = set(g.names)
        out = []
        for gi, g in enumerate(groups):
            if gi in chosen:
                names = [n for n in g.names if n in chosen[gi]]
                out.append(g.model_copy(update={"names": names, "from_variable": True}))
        return out

    # ---- declarations --------------------------------------------------------
    def declaration(self, a: int, head: int, b: int) -> None:
        toks = self.tokens
        docstring = None
        attributes: list[str] = []
        modifiers: list[str] = []
        i = a
        while i < head:
            t = toks[i]
            if t[0] == DOC_COMMENT:
                docstring = clean_docstring(t[1])
                i += 1
            elif t[1] == "@[":
                j = match_bracket(toks, i, head)
                attributes.extend(self.split_commas(i + 1, j))
                i = j + 1
            else:
                mod = t[1]
                if mod == "scoped" and i + 1 < head and toks[i + 1][1] == "[":
                    j = match_bracket(toks, i + 1, head)
                    mod = self.flat(i, j + 1)
                    i = j
                modifiers.append(mod)
                i += 1
        word = toks[head][1]
        p = head + 1
        kind = _KIND_OF.get(word, word)
        if word == "class" and p < b and toks[p][1] in ("inductive", "abbrev"):
            modifiers.append(toks[p][1])
            p += 1
        if kind == "instance" and p < b and toks[p][1] == "(" and p + 1 < b and toks[p + 1][1] == "priority":
            j = match_bracket(toks, p, b)
            modifiers.append(self.flat(p + 1, j))
            p = j + 1
        anonymous = False
        name_tok = toks[head]
        if kind == "example" or (kind == "instance" and (p >= b or toks[p][0] != IDENT)):
            anonymous = True
            short = ""
        elif p < b and toks[p][0] == IDENT and toks[p][1] not in _SIG_STOPS:
            name_tok = toks[p]
            short = name_tok[1]
            p += 1
        else:
            where = toks[p][2] if p < b else toks[head][3]
            self.diag(where, f"expected a name after '{word}'")
            return
        self.build_declaration(
            a, b, p, kind, short, name_tok, anonymous, docstring, attributes, modifiers, parent=None
        )

    def split_commas(self, a: int, b: int) -> list[str]:
        return [self.flat(s, e) for s, e in self.comma_items(a, b)]

    def comma_items(self, a: int, b: int) -> list[tuple[int, int]]:
        """The non-empty token ranges between top-level commas in [a, b)."""
        out, start, depth = [], a, 0
        for j in range(a, b):
            s = self.tokens[j][1]
            if self.tokens[j][0] == SYMBOL:
                if s in OPENERS:
                    depth += 1
                elif s in CLOSERS:
                    depth -= 1
                elif s == "," and depth == 0:
                    out.append((start, j))
                    start = j + 1
        if start < b:
            out.append((start, b))
        return [(s, e) for s, e in out if s < e]

    def build_declaration(
        self,
        a: int,
        b: int,
        p: int,
        kind: str,
        short: str,
        name_tok: Token,
        anonymous: bool,
        docstring: str | None,
        attributes: list[str],
        modifiers: list[str],
        parent: str | None,
    ) -> None:
        toks = self.tokens
        sig_start = p
        binders, p = self.signature(p, b)
        extends: list[str] = []
        parents: list[tuple[int, int]] = []
        if p < b and toks[p][1] == "extends":
            stop = self.find_top(p + 1, b, {":", "where", ":=", "deriving"})
            parents = self.comma_items(p + 1, stop)
            extends = [self.flat(s, e) for s, e in parents]
            p = stop
        typ = None
        type_at = value_at = None
        if p < b and toks[p][1] == ":":
            stop = self.find_top(p + 1, b, {":=", "where", "deriving", "termination_by", "decreasing_by"}, True)
            typ = self.type_text(p + 1, stop)
            type_at = self.span(p + 1, stop)
            p = stop
        sig_end = p
        value = None
        value_form = "none"
        value_range = (p, p)
        term_by = dec_by = None
        fields: list[StructField] = []
        ctors: list[Constructor] = []
        deriving: list[str] = []
        aux: list[tuple[int, int]] = []
        full = self.full_name(short, kind, anonymous, typ, toks[p - 1] if anonymous else name_tok, parent, binders)
        if kind in ("structure", "class", "inductive") and not (kind == "class" and "abbrev" in modifiers):
            d = self.find_top(p, b, {"deriving"})
            if d < b:
                deriving = [x for x in self.split_commas(d + 1, b) if x]
            body_start = p + 1 if p < b and toks[p][1] in ("where", ":=") else p
            value_range = (body_start, d)
            if body_start < d:
                value = self.src(body_start, d)
                value_at = self.span(body_start, d)
                value_form = "where"  # constructors or fields, `where` written or not: no term
            if kind == "inductive" or "inductive" in modifiers:
                ctors = self.constructors(body_start, d, full)
            else:
                fields = self.struct_fields(body_start, d, full)
                ctors = [self.structure_constructor(body_start, d, full, name_tok)]
                fields[:0] = [
                    StructField(
                        name=f"to{_head_name(x)}", full_name=f"{full}.to{_head_name(x)}", type=x,
                        name_line=self.smap.line(name_tok[2]), type_at=self.span(*at),
                    )
                    for x, at in zip(extends, parents)
                    if _head_name(x)
                ]
        elif p < b and toks[p][1] in (":=", "|", "where"):
            form_tok = toks[p][1]
            start = p + 1 if form_tok != "|" else p
            value_form = {":=": "term", "|": "alternatives", "where": "where"}[form_tok]
            stops = _VALUE_STOPS if form_tok != "where" else frozenset({"deriving"})
            stop = self.find_top(start, b, stops)
            value = self.src(start, stop)
            value_at = self.span(start, stop)
            value_range = (start, stop)
            q = stop
            while q < b and toks[q][1] in ("termination_by", "decreasing_by"):
                nxt = self.find_top(q + 1, b, _VALUE_STOPS - {toks[q][1]})
                txt = self.flat(q + 1, nxt)
                if toks[q][1] == "termination_by":
                    term_by = txt
                else:
                    dec_by = txt
                q = nxt
            if q < b and toks[q][1] == "where" and form_tok != "where":
                aux.append((q + 1, b))
            elif q < b and toks[q][1] == "deriving":
                deriving = self.split_commas(q + 1, b)
        elif p < b:
            self.diag(toks[p][2], f"unexpected '{toks[p][1]}' in the signature of '{full}'")

        mention = [(sig_start, sig_end)] if kind in ("theorem", "lemma") else [(sig_start, b)]
        var_binders = self.section_variables(binders, mention)
        all_binders = var_binders + binders
        stmt_norm = " ".join(
            [_binder_text(bd) for bd in var_binders] + [self.norm(sig_start, sig_end)]
        )
        value_norm = self.norm(*value_range) + (" termination_by " + term_by if term_by else "") + (
            " decreasing_by " + dec_by if dec_by else ""
        )
        line, col = self.smap.line_col(name_tok[2])
        self.decls.append(
            Declaration(
                name=full,
                kind=kind,  # type: ignore[arg-type]
                name_line=line,
                name_column=col + 1,
                range=self.make_range(a, b),
                docstring=docstring,
                attributes=attributes,
                modifiers=modifiers,
                anonymous=anonymous,
                binders=all_binders,
                type=typ,
                value=value,
                value_form=value_form,  # type: ignore[arg-type]
                termination_by=term_by,
                decreasing_by=dec_by,
                extends=extends,
                fields=fields,
                constructors=ctors,
                deriving=deriving,
                parent=parent,
                scope=self.scope_index(),
                hashes=Hashes(statement=_sha(stmt_norm), value=_sha(value_norm), doc=_sha(docstring or "")),
                type_at=type_at,
                value_at=value_at,
            )
        )
        for s, e in aux:
            self.where_decls(s, e, full)
        if value is not None and kind not in ("structure", "class", "inductive"):
            self.let_recs(*value_range, full)

    def full_name(
        self, short: str, kind: str, anonymous: bool, typ: str | None, tok: Token, parent: str | None,
        binders: Sequence[Binder] = (),
    ) -> str:
        short = normalize_name(short)
        if parent:
            return f"{parent}.{short}"
        if anonymous:
            if kind == "example":
                short = f"_example_L{self.smap.line(tok[2])}"
            else:  # Lean's generated name (bridge.lean.instance_names), `_1`, `_2` … on a clash
                from bridge.lean.instance_names import instance_name  # the term parser: only when needed

                info = self._stack_info()  # section variables are local variables too
                short = instance_name(typ or "", [(b.names, b.type, b.info) for b in binders],
                                      info.namespace, self.module, {d.name for d in self.decls},
                                      {n for g in info.groups for n in g.names})
        if short.startswith("_root_."):
            return short[len("_root_.") :]
        ns = self.current_namespace()
        full = f"{ns}.{short}" if ns else short
        if anonymous and kind == "instance":
            taken = {d.name for d in self.decls}
            base, k = full, 0
            while full in taken:
                k += 1
                full = f"{base}_{k}"
        return full

    def items(self, a: int, e: int) -> list[tuple[int, int]]:
        """Split [a, e) into items that each start a line at the items' indentation
        (a doc comment and the item after it stay together)."""
        toks = self.tokens
        if a >= e:
            return []
        base = self.smap.line_col(toks[a][2])[1]
        out: list[tuple[int, int]] = []
        start = a
        depth = 0
        for j in range(a, e):
            t = toks[j]
            if j > start and depth == 0 and first_on_line(toks, self.text, j):
                col = self.smap.line_col(t[2])[1]
                prev_doc_only = all(toks[k][0] == DOC_COMMENT for k in range(start, j))
                suffix = t[1] in ("termination_by", "decreasing_by")  # belongs to the item above
                if col <= base and not prev_doc_only and not suffix:
                    out.append((start, j))
                    start = j
            if t[0] == SYMBOL:
                if t[1] in OPENERS:
                    depth += 1
                elif t[1] in CLOSERS and depth:
                    depth -= 1
        out.append((start, e))
        return out

    def structure_constructor(self, a: int, e: int, owner: str, name_tok: Token) -> Constructor:
        """`mk`, or the name given by `name ::` at the top of the fields."""
        toks = self.tokens
        s = a
        doc = None
        while s < e and toks[s][0] == DOC_COMMENT:
            doc = clean_docstring(toks[s][1])
            s += 1
        if s + 1 < e and toks[s][0] == IDENT and toks[s + 1][1] == "::":
            return Constructor(name=toks[s][1], full_name=f"{owner}.{toks[s][1]}", docstring=doc,
                               name_line=self.smap.line(toks[s][2]))
        return Constructor(name="mk", full_name=f"{owner}.mk", name_line=self.smap.line(name_tok[2]))

    def struct_fields(self, a: int, e: int, owner: str) -> list[StructField]:
        toks = self.tokens
        k = a
        while k < e and toks[k][0] == DOC_COMMENT:
            k += 1
        if k + 1 < e and toks[k][0] == IDENT and toks[k + 1][1] == "::":
            a = k + 2  # `mk ::` constructor name
        out: list[StructField] = []
        for s, t in self.items(a, e):
            doc = None
            while s < t and toks[s][0] == DOC_COMMENT:
                doc = clean_docstring(toks[s][1])
                s += 1
            while s < t and (toks[s][1] in MODIFIERS or toks[s][1] == "@["):
                s = (match_bracket(toks, s, t) + 1) if toks[s][1] == "@[" else s + 1
            if s >= t:
                continue
            if toks[s][1] in _BINDER_OPEN:
                for bd in self.binder_groups(s, t):
                    for n in bd.names:
                        out.append(StructField(
                            name=n, full_name=f"{owner}.{n}", type=bd.type, default=bd.default,
                            docstring=doc, name_line=self.smap.line(toks[s][2]),
                            type_at=bd.type_at, default_at=bd.default_at,
                        ))
                continue
            names: list[Token] = []
            while s < t and toks[s][0] == IDENT:
                names.append(toks[s])
                s += 1
            binders, s = self.signature(s, t)
            typ = default = type_at = default_at = None
            if s < t and toks[s][1] == ":":
                stop = self.find_top(s + 1, t, {":="})
                typ, type_at = self.flat(s + 1, stop), self.span(s + 1, stop)
                s = stop
            if s < t and toks[s][1] == ":=":
                default, default_at = self.flat(s + 1, t), self.span(s + 1, t)
            for nt in names:
                out.append(StructField(
                    name=nt[1], full_name=f"{owner}.{nt[1]}", binders=binders, type=typ, default=default,
                    docstring=doc, name_line=self.smap.line(nt[2]), type_at=type_at, default_at=default_at,
                ))
        return out

    def constructors(self, a: int, e: int, owner: str) -> list[Constructor]:
        toks = self.tokens
        out: list[Constructor] = []
        bars = []  # constructor bars at bracket depth 0
        depth = 0
        for j in range(a, e):
            s = toks[j][1]
            if toks[j][0] == SYMBOL:
                if s in OPENERS:
                    depth += 1
                elif s in CLOSERS and depth:
                    depth -= 1
                elif s == "|" and depth == 0:
                    bars.append(j)
        for k, j in enumerate(bars):
            end = bars[k + 1] if k + 1 < len(bars) else e
            doc = None
            back = j - 1
            if back >= a and toks[back][0] == DOC_COMMENT:
                doc = clean_docstring(toks[back][1])
            at = j + 1
            # trailing doc comment of the next constructor is not part of this one
            if end < e and toks[end - 1][0] == DOC_COMMENT:
                end -= 1
            while at < end and toks[at][1] == "@[":
                at = match_bracket(toks, at, end) + 1 or end
            if at >= end or toks[at][0] != IDENT:
                self.diag(toks[j][2], "expected a constructor name after '|'")
                continue
            name_t = toks[at]
            binders, q = self.signature(at + 1, end)
            has_type = q < end and toks[q][1] == ":"
            typ = self.flat(q + 1, end) if has_type else None
            short = name_t[1]
            out.append(Constructor(
                name=short, full_name=f"{owner}.{short}", binders=binders, type=typ,
                docstring=doc, name_line=self.smap.line(name_t[2]),
                type_at=self.span(q + 1, end) if has_type else None,
            ))
        return out

    def where_decls(self, a: int, e: int, parent: str) -> None:
        """Auxiliary definitions after a body's `where`: each becomes `parent.name`."""
        toks = self.tokens
        for s, t in self.items(a, e):
            start = s
            doc = None
            attrs: list[str] = []
            mods: list[str] = []
            while s < t:
                tk = toks[s]
                if tk[0] == DOC_COMMENT:
                    doc = clean_docstring(tk[1])
                    s += 1
                elif tk[1] == "@[":
                    j = match_bracket(toks, s, t)
                    attrs.extend(self.split_commas(s + 1, j))
                    s = j + 1
                elif tk[1] in MODIFIERS:
                    mods.append(tk[1])
                    s += 1
                else:
                    break
            if s < t and toks[s][1] in ("def", "theorem", "lemma"):
                s += 1
            if s >= t or toks[s][0] != IDENT:
                if s < t:
                    self.diag(toks[s][2], f"expected an auxiliary definition after 'where' of '{parent}'")
                continue
            self.build_declaration(start, t, s + 1, "def", toks[s][1], toks[s], False, doc, attrs, mods, parent)

    def let_recs(self, a: int, e: int, parent: str) -> None:
        """`let rec name binders : T := body` inside a body declares `parent.name`;
        its extent runs to the next line indented no deeper than the `let`."""
        toks = self.tokens
        texts = self.texts
        stop = e - 2
        if stop <= a:
            return  # (a negative stop would count from the end in `list.index`)
        j = a - 1
        while True:
            try:  # C-level search for the next `let`: bodies rarely have one
                j = texts.index("let", j + 1, stop)
            except ValueError:
                break
            if texts[j + 1] != "rec" or toks[j][0] != IDENT:
                continue
            col = self.smap.line_col(toks[j][2])[1]
            end = e
            for k in range(j + 2, e):
                if first_on_line(toks, self.text, k) and self.smap.line_col(toks[k][2])[1] <= col:
                    end = k
                    break
            n = j + 2
            if n < end and toks[n][0] == IDENT:
                self.build_declaration(j, end, n + 1, "def", toks[n][1], toks[n], False, None, [], [], parent)

    def alias_cmd(self, a: int, head: int, b: int) -> None:
        toks = self.tokens
        if head + 1 >= b or toks[head + 1][0] != IDENT:
            self.other(a, b, "alias")
            return
        name_tok = toks[head + 1]
        self.build_declaration(a, b, head + 2, "alias", name_tok[1], name_tok, False, None, [], [], None)


# Words Lean reserves: a name part spelled like one keeps its guillemets (`«def»`).
_KEYWORDS = COMMAND_KEYWORDS | MODIFIERS | frozenset(
    {"fun", "let", "have", "show", "from", "if", "then", "else", "do", "by", "at", "with", "match", "in",
     "where", "calc", "suffices", "obtain", "forall", "Type", "Sort", "Prop", "deriving", "extends",
     "termination_by", "decreasing_by", "mut", "return", "for", "unless", "try", "catch", "finally"}
)
_PLAIN_PART = re.compile(f"[{ID_BEGIN}][{ID_REST}]*")


def normalize_name(name: str) -> str:
    """`Foo.«plain».«a b»` → `Foo.plain.«a b»`: Lean drops guillemets a name part does not need."""
    if "«" not in name:
        return name
    parts = re.findall(r"«[^»]*»|[^.«]+", name)
    out = [
        p[1:-1] if p.startswith("«") and _PLAIN_PART.fullmatch(p[1:-1]) and p[1:-1] not in _KEYWORDS else p
        for p in parts
    ]
    return ".".join(out)


@functools.lru_cache(maxsize=4096)  # the same variable types are looked at for every declaration
def _idents(text: str) -> frozenset[str]:
    out = set()
    for w in re.findall(r"[^\s()\[\]{}⦃⦄:,→←↔∀∃λ=<>+*/\-]+", text):
        out.add(w)
        out.add(w.split(".", 1)[0])
    return frozenset(out)


def _head_name(type_text: str) -> str:
    """`Base α` → `Base`; `A.B.State α s` → `State` (the parent projection is `toState`)."""
    m = re.match(r"[^\s()]+", type_text.strip())
    return m.group().rsplit(".", 1)[-1] if m else ""


def _binder_text(bd: Binder) -> str:
    o, c = {"explicit": ("(", ")"), "implicit": ("{", "}"), "strict_implicit": ("⦃", "⦄"), "instance": ("[", "]")}[bd.info]
    inner = " ".join(bd.names)
    if bd.type:
        inner = f"{inner} : {bd.type}" if inner else bd.type
    return f"{o}{inner}{c}"


def read_module(text: str, path: str, module: str = "") -> ModuleExportModel:
    """Read one Lean file's text. Never raises for any input text."""
    return ModuleExportModel.model_validate(read_module_data(text, path, module))


def read_module_data(text: str, path: str, module: str = "") -> dict[str, Any]:
    """`read_module` as plain data: the export's fields in schema order, not validated
    (`pydantic_core.to_json` of it is byte for byte `read_module(...).model_dump_json()`)."""
    r = _ModuleReader(text, path, module)
    r.run()
    # plain dicts out (see `to_plain`); declarations, the bulk, by a cheaper specialised copy
    out: dict[str, Any] = to_plain(ModuleExport(
        tool_version=__version__,
        module=module,
        path=path,
        source_sha256=_sha(text),
        imports=r.imports,
        module_docs=r.module_docs,
        declarations=[],
        scopes=r.scopes,
        commands=r.commands,
        universes=r.universes,
        diagnostics=r.diagnostics,
        notes=r.notes,
    ))
    out["declarations"] = list(map(plain_declaration, r.decls))
    return out
