"""What a TorchLean change touches on our side: bindings to re-check, generated tests to redo.

Only changes of meaning count: a statement, a body, the `open`s in force, a rename or a removal.
A proof, a doc, an attribute or a position never changes what a spec computes, so it touches no
binding. A binding is touched directly (its spec changed) or through its spec's dependencies in
the corpus (`bridge.resolve.Corpus.deps`). Generated tests are found by their
`@pytest.mark.lean("Name")` marker, so this module needs nothing from the generator but its output
folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bridge.diff import CHANGE_LABELS, DeclChange, ExportDiff
from bridge.models import ModuleExport

# a scope change counts: the same text may now name other declarations
_SEMANTIC = ("statement_changed", "body_changed", "scope_changed", "renamed", "removed")
_MARK = re.compile(r"""@pytest\.mark\.lean\(\s*(['"])(?P<name>.+?)\1\s*\)(?:.|\n)*?\ndef (?P<test>test_\w+)""")


@dataclass(frozen=True)
class GeneratedTest:
    lean_name: str
    file: str  # relative to the generated folder
    test: str


def generated_tests(generated: Path) -> dict[str, list[GeneratedTest]]:
    """Lean name → generated tests marked with it, read from `generated/test_*.py`."""
    out: dict[str, list[GeneratedTest]] = {}
    if not generated.is_dir():
        return out
    for f in sorted(generated.glob("test_*.py")):
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for m in _MARK.finditer(text):
            out.setdefault(m["name"], []).append(GeneratedTest(m["name"], f.name, m["test"]))
    return out


def generated_references(generated: Path) -> dict[str, str]:
    """Lean name → `file::python name` of its generated reference (from `manifest.json`)."""
    try:
        data = json.loads((generated / "manifest.json").read_text(encoding="utf-8"))
        return {k: f"{v['file']}::{v['py']}" for k, v in data.get("references", {}).items()}
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return {}


def _short(name: str) -> str:
    parts = name.split(".")
    return ".".join(parts[-2:]) if len(parts) > 1 else name


def _what(c: DeclChange) -> str:
    if c.change == "renamed" and c.old_name:
        return f"`{_short(c.old_name)}` renamed to `{c.name}`"
    if c.change == "renamed":
        return f"`{_short(c.name)}` moved to module {c.module}"
    return f"`{_short(c.name)}` {CHANGE_LABELS[c.change]}"


class _Deps:
    """Transitive corpus dependencies, on demand; an unresolvable corpus degrades to 'none'."""

    def __init__(self, modules: Sequence[ModuleExport]) -> None:
        self._modules = list(modules)
        self._corpus: object | None = None
        self._memo: dict[str, set[str]] = {}

    def of(self, name: str) -> set[str]:
        if name not in self._memo:
            try:
                if self._corpus is None:
                    from bridge.resolve import Corpus

                    self._corpus = Corpus(self._modules)
                self._memo[name] = set(self._corpus.deps(name).corpus) - {name}  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 -- resolution is best effort here: a gap must not stop a sync
                self._memo[name] = set()
        return self._memo[name]


def impacts(
    diff: ExportDiff,
    bindings: Sequence[object],
    old_modules: Sequence[ModuleExport],
    new_modules: Sequence[ModuleExport],
    tests: dict[str, list[GeneratedTest]],
    regenerated: bool,
    refs: dict[str, str] | None = None,
    generated_dir: str = "generated",
) -> list[str]:
    """One line per (change, consequence): bindings to re-check, generated tests made stale."""
    changes = [c for c in diff.declarations if c.change in _SEMANTIC]
    if not changes:
        return []
    refs = refs or {}
    by_name: dict[str, DeclChange] = {}
    for c in changes:
        by_name[c.name] = c
        if c.old_name:
            by_name[c.old_name] = c
    new_deps, old_deps = _Deps(new_modules), _Deps(old_modules)
    lines: list[str] = []

    for b in bindings:
        spec, name, runtime = getattr(b, "spec", ""), getattr(b, "name", "?"), getattr(b, "runtime", "?")
        direct = by_name.get(spec)
        if direct is not None:
            if direct.change == "removed":
                lines.append(f"{_what(direct)}: binding {name} ({runtime}) points at a declaration that no "
                             "longer exists; update its spec in the bindings file")
            elif direct.change == "renamed" and direct.old_name == spec:
                lines.append(f"{_what(direct)}: binding {name} ({runtime}) must follow the rename "
                             "(update its spec) and be re-checked")
            else:
                lines.append(f"{_what(direct)}: {runtime} bindings must be re-checked ({name})")
        deps = new_deps.of(spec) | old_deps.of(spec)
        for dep in sorted(deps & set(by_name)):
            c = by_name[dep]
            if c is not direct:
                lines.append(f"{_what(c)}: {runtime} bindings must be re-checked ({name}, through `{_short(spec)}`)")

    verb = "was stale: regenerated" if regenerated else "is stale: `torchlean-bridge sync` regenerates it"
    seen: set[tuple[str, str]] = set()
    for c in changes:
        for lean in {c.name, c.old_name} - {None}:
            for t in tests.get(str(lean), []):
                if (t.file, t.test) in seen:
                    continue
                seen.add((t.file, t.test))
                if c.change == "removed":
                    fate = "was stale: removed" if regenerated else "is stale: its declaration is gone"
                elif c.change == "renamed" and lean == c.old_name:
                    fate = (f"was stale: replaced by the test of `{c.name}`" if regenerated
                            else f"is stale: `torchlean-bridge sync` replaces it with the test of `{c.name}`")
                else:
                    fate = verb
                lines.append(f"{_what(c)}: generated test {generated_dir}/{t.file}::{t.test} {fate}")
        for lean in {c.name, c.old_name} - {None}:
            ref = refs.get(str(lean))
            if ref is not None and c.change != "removed" and (ref, str(lean)) not in seen:
                seen.add((ref, str(lean)))
                lines.append(f"{_what(c)}: generated reference {generated_dir}/{ref} {verb}")
    # theorems whose generated tests exercise a changed definition
    for lean, ts in sorted(tests.items()):
        if lean in by_name:
            continue
        hit = sorted(new_deps.of(lean) & set(by_name))
        for dep in hit:
            for t in ts:
                if (t.file, t.test) not in seen:
                    seen.add((t.file, t.test))
                    lines.append(f"{_what(by_name[dep])}: generated test {generated_dir}/{t.file}::{t.test} "
                                 f"(`{_short(lean)}`) exercises it and {verb}")
    return lines
