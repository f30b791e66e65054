"""`torchlean-bridge generate`: exports → `generated/` (reference modules, tests, coverage).

Everything is rendered in memory first; only then are files written (each atomically) and
files of an older run that the new set no longer has removed, so an interrupted or failed run
leaves the old outputs intact. Output is a pure function of the exports and this tool's
version: sorted iteration everywhere, no timestamps.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from bridge import __version__
from bridge.exports import load_exports
from bridge.fsutil import write_text_atomic
from bridge.models import ExportIndex, ModuleExport
from bridge.resolve import Corpus
from bridge.translate.decls import DeclTranslator, FunctionOut, StructOut, TestOut
from bridge.translate.env import FN_KINDS, THM_KINDS, DeclRef, Env
from bridge.translate.expr import Callee, Untranslatable, vocab_callee
from bridge.translate.names import module_stem, py_global
from bridge.vocab.registry import LOOKUP

MANIFEST = "manifest.json"
COVERAGE = "COVERAGE.md"
OWN = re.compile(r"^(ref_|test_).*\.py$|^(manifest\.json|COVERAGE\.md|conftest\.py)$")


def export_hash(exports: Path) -> str:
    """SHA-256 over the index and every module export it lists (names and bytes)."""
    h = hashlib.sha256()
    index = exports / "index.json"
    files = [index] + sorted(exports / f"{m['module']}.json" for m in json.loads(index.read_text("utf-8"))["modules"])
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


@dataclass
class ModuleOut:
    module: str
    stem: str
    path: str
    functions: list[FunctionOut] = field(default_factory=list)
    structures: list[StructOut] = field(default_factory=list)
    tests: list[TestOut] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (full name, reason)
    untested: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # kinds we don't translate


def _escape_doc(text: str) -> str:
    """Body of a triple-quoted docstring that reads back as `text` (injection-safe)."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')  # never three quotes in a row, never a quote before the closing ones
        elif ch == "\n":
            out.append("\n")
        elif not ch.isprintable() or ch in "\u2028\u2029":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def _pydoc(lines: list[str], indent: str = "    ") -> str:
    text = "\n".join(lines)
    body = _escape_doc(text).replace("\n", "\n" + indent)
    return f'"""{body}\n{indent}"""'


def _pyrepr(v: object) -> str:
    return repr(v)


def _jinja() -> Environment:
    env = Environment(loader=PackageLoader("bridge", "templates"), autoescape=False, keep_trailing_newline=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pyrepr"] = _pyrepr
    env.filters["pydoc"] = _pydoc
    env.filters["lean_fields"] = lambda fields: repr({lean: py for lean, py, _ in fields})
    env.filters["mdline"] = lambda text: " ".join(str(text).split()).replace("|", "\\|")
    env.filters["module_refs"] = _imports
    return env


class Generator:
    def __init__(self, modules: list[ModuleExport], corpus: Corpus | None = None) -> None:
        self.env = Env.build(modules, corpus)
        self.owner: dict[str, str] = {}  # full name of a translated def/structure → module stem
        for m in modules:
            for d in m.declarations:
                if not d.anonymous:
                    self.owner.setdefault(d.name, module_stem(m.module))
        self.dt_cache: dict[str, DeclTranslator] = {}
        # run()'s passes: what each def/theorem translated to, and the names whose failing would
        # change that (the callees it asked for, its deps, itself)
        self._memo: dict[str, tuple[set[str], tuple[str, object]]] = {}
        self._asked: set[str] | None = None  # callees asked for by the translation under way
        self._newly: set[str] = set()  # names that failed in the last pass

    def callee_for(self, stem: str, in_test: bool) -> DeclTranslator:
        key = f"{stem}:{in_test}"
        if key not in self.dt_cache:
            # the generator by weak reference: a cycle through it would keep the corpus alive
            # once resolution has frozen it (gc.freeze)
            me = weakref.proxy(self)
            self.dt_cache[key] = DeclTranslator(self.env, lambda full: me._ask(full, stem, in_test))
        return self.dt_cache[key]

    def _ref(self, full: str, stem: str, in_test: bool) -> str:
        owner = self.owner[full]
        return py_global(full) if owner == stem and not in_test else f"_M_{owner}.{py_global(full)}"

    def _ask(self, full: str, stem: str, in_test: bool) -> Callee | None:
        if self._asked is not None:
            self._asked.add(full)
        return self._callee(full, stem, in_test)

    def _callee(self, full: str, stem: str, in_test: bool) -> Callee | None:
        if full.startswith("struct:"):
            name = full[len("struct:"):]
            return Callee(self._ref(name, stem, in_test), 0) if name in self.env.structures else None
        e = LOOKUP.get(full)
        if e is not None and e.kind != "fallback":
            return vocab_callee(e)
        ref = self.env.decls.get(full)
        if ref is not None and ref.decl.kind in FN_KINDS and ref.decl.value_form in ("term", "alternatives") \
                and full not in self.failed:
            arity, types, kinds = self.callee_for(stem, in_test).explicit_arity(ref)
            return Callee(self._ref(full, stem, in_test), arity, (), None, types, kinds)
        if e is not None:
            return vocab_callee(e)
        if full in self.env.ctors:
            return Callee(f"_rt.ctor({full!r}, ", self.env.ctors[full][1])
        return None

    def run(self) -> list[ModuleOut]:
        self.failed: dict[str, str] = self.env.failed
        while True:  # translate; a def that uses a failed def fails too; repeat until stable
            outs = [self._module(m) for m in self.env.modules]
            newly = {n: r for o in outs for n, r in o.failed if n not in self.failed}
            if not newly:
                return outs
            self.failed.update(newly)
            self._newly = set(newly)  # the next pass translates again only what these touch

    def _once(self, name: str, translate: Callable[[set[str]], tuple[str, object]]) -> tuple[str, object]:
        """`translate(watch)`, or its result from the last pass when none of the names it watched
        (what it asked for and depends on, itself) failed since: the result would be the same."""
        hit = self._memo.get(name)
        if hit is not None and hit[0].isdisjoint(self._newly):
            return hit[1]
        watch = self._asked = {name}
        try:
            res = translate(watch)
        finally:
            self._asked = None
        self._memo[name] = (watch, res)
        return res

    def _outcome(self, ref: DeclRef, is_fn: bool, tr: DeclTranslator, watch: set[str]) -> tuple[str, object]:
        """(the ModuleOut list it goes to, the item): a def's function or why it failed, a
        theorem's test or why it is untested."""
        name = ref.decl.name
        if is_fn and name in self.failed:
            return "failed", (name, self.failed[name])
        try:
            out: FunctionOut | TestOut = tr.function(ref) if is_fn else tr.theorem(ref)
            watch |= out.deps
            bad = sorted(x for x in out.deps if x in self.failed)
            if bad:
                why = "" if is_fn else f" ({self.failed[bad[0]][:200]})"
                raise Untranslatable(f"needs `{bad[0]}`, which does not translate{why}")
            return ("functions" if is_fn else "tests"), out
        except Untranslatable as exc:
            return ("failed" if is_fn else "untested"), (name, str(exc))

    def _module(self, m: ModuleExport) -> ModuleOut:
        stem = module_stem(m.module)
        out = ModuleOut(m.module, stem, m.path)
        dt, tt = self.callee_for(stem, False), self.callee_for(stem, True)
        for d in m.declarations:
            if d.anonymous:
                if d.kind not in ("example",):
                    out.skipped.append((f"<anonymous {d.kind}, line {d.name_line}>", "anonymous"))
                continue
            ref = self.env.decls[d.name]
            if ref.decl is not d:
                continue
            if d.name in LOOKUP and LOOKUP[d.name].kind != "fallback":
                out.skipped.append((d.name, f"vocabulary primitive `{LOOKUP[d.name].py}`: {LOOKUP[d.name].why}"))
                continue
            if d.kind in ("structure", "class"):
                if d.kind == "class":
                    out.skipped.append((d.name, "type class (instances are resolved by the domain)"))
                    continue
                out.structures.append(dt.structure(self.env.structures[d.name]))
            elif d.kind in FN_KINDS or d.kind in THM_KINDS:
                is_fn = d.kind in FN_KINDS
                where, item = self._once(d.name, functools.partial(self._outcome, ref, is_fn, dt if is_fn else tt))
                getattr(out, where).append(item)
            else:
                out.skipped.append((d.name, f"{d.kind}: no run-time meaning to generate"))
        return out


def _imports(code: str, own: str | None) -> list[str]:
    """The modules a generated file's code refers to (`_M_<stem>.name`), but its own."""
    return sorted({m for m in re.findall(r"\b_M_([A-Za-z0-9_]+?)\.", code) if m != own})


def render(exports: Path, loaded: tuple[ExportIndex, list[ModuleExport]] | None = None) -> dict[str, str]:
    """Relative path → text of every output file. `loaded`: the exports of `exports`, when the
    caller has read them already (they are read once: loading is most of the cost)."""
    index, modules = loaded if loaded is not None else load_exports(exports)
    ehash = export_hash(exports)
    gen = Generator(modules, Corpus(modules, Path(index.root)))
    outs = gen.run()
    jenv = _jinja()
    files: dict[str, str] = {}
    manifest: dict[str, dict[str, str]] = {}
    for o in outs:
        if o.functions or o.structures:
            code = jenv.get_template("reference.py.j2").render(m=o, version=__version__, ehash=ehash)
            files[f"ref_{o.stem}.py"] = code
            for f in o.functions:
                manifest[f.full_name] = {"file": f"ref_{o.stem}.py", "py": f.py, "kind": "function"}
            for s in o.structures:
                manifest[s.full_name] = {"file": f"ref_{o.stem}.py", "py": s.py, "kind": "structure"}
        if o.tests:
            code = jenv.get_template("test.py.j2").render(m=o, version=__version__, ehash=ehash)
            files[f"test_{o.stem}.py"] = code
    files[MANIFEST] = json.dumps({"tool_version": __version__, "export_hash": ehash,
                                  "references": dict(sorted(manifest.items()))},
                                 indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    files["conftest.py"] = jenv.get_template("conftest.py.j2").render(version=__version__, ehash=ehash)
    files[COVERAGE] = jenv.get_template("coverage.md.j2").render(outs=outs, version=__version__, ehash=ehash)
    return files


@dataclass
class GenerateResult:
    written: list[str]
    removed: list[str]
    stale: list[str]
    missing: list[str]
    extra: list[str]


def _existing(out: Path) -> set[str]:
    return {p.name for p in out.iterdir() if p.is_file() and OWN.match(p.name)} if out.is_dir() else set()


def generate(exports: Path, out: Path, check: bool = False,
             loaded: tuple[ExportIndex, list[ModuleExport]] | None = None) -> GenerateResult:
    files = render(exports, loaded)
    have = _existing(out)
    stale = sorted(n for n in files if n in have and (out / n).read_text("utf-8") != files[n])
    missing = sorted(n for n in files if n not in have)
    extra = sorted(have - set(files))
    if check:
        return GenerateResult([], [], stale, missing, extra)
    written = []
    for name in sorted(files):
        if name in stale or name in missing:
            write_text_atomic(out / name, files[name])
            written.append(name)
    for name in extra:
        (out / name).unlink()
    return GenerateResult(written, extra, stale, missing, extra)
