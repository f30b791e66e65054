"""`torchlean-bridge sync`: follow a TorchLean checkout in one command.

Extract ROOT into a temporary folder (through the content cache), diff it against the
committed `lean_exports/`, regenerate `generated/` (`bridge.generate.generate`), report what
changed and what it touches, and write `lean_exports/lock.json`. With `check`, nothing is
written and the result says whether anything committed is stale (the CI gate).

Order of writes, so that old outputs stay intact until the new ones are whole: everything is
extracted and rendered first; `generate` renders all files in memory before writing; only
then are export files replaced (each atomically), the index after the modules, the lock last.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from bridge import __version__
from bridge.diff import ExportDiff, Side, diff_modules
from bridge.exports import ExportError, load_exports
from bridge.extract import STATE_FILE, ExtractError, ExtractOptions, extract
from bridge.fsutil import write_text_atomic
from bridge.impact import generated_references, generated_tests, impacts
from bridge.models import ModuleExport

LOCK_FILE = "lock.json"


class SyncError(Exception):
    """Bad arguments or an unreadable tree (one line)."""


class LockFile(BaseModel):
    """What the committed exports were made from, and by which tool."""

    model_config = ConfigDict(extra="forbid")
    schema_version: Literal[1] = 1
    tool_version: str
    source_root: str
    git_commit: str | None = None
    lean_toolchain: str | None = None
    exports_sha256: str  # over index.json and every module export, as `generate` stamps its files


@dataclass
class SyncOptions:
    root: Path
    exports: Path = Path("lean_exports")
    generated: Path = Path("generated")
    check: bool = False
    cache_dir: Path | None = None
    jobs: int = 1
    bindings: Path | None = None


@dataclass
class GeneratedStatus:
    wired: bool
    stale: list[str] = field(default_factory=list)  # missing, changed or extra files
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class SyncResult:
    diff: ExportDiff
    stale_exports: list[str]
    lock_stale: bool
    generated: GeneratedStatus
    impacts: list[str]
    notes: list[str]
    written: list[str]  # export files written (check: none)

    @property
    def stale(self) -> bool:
        return bool(self.stale_exports or self.lock_stale or self.generated.stale)


def exports_digest(folder: Path) -> str:
    """SHA-256 over index.json and the module exports it lists (names and bytes), sorted."""
    h = hashlib.sha256()
    index = folder / "index.json"
    names = sorted(f"{m['module']}.json" for m in json.loads(index.read_text(encoding="utf-8"))["modules"])
    for f in [index, *(folder / n for n in names)]:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _export_files(folder: Path) -> dict[str, str]:
    """The files an extraction owns in `folder` (module exports and the index), by name."""
    if not folder.is_dir():
        return {}
    out = {}
    for f in sorted(folder.glob("*.json")):
        if f.name != LOCK_FILE and not f.name.startswith("."):  # .extract-state.json is local state
            try:
                out[f.name] = f.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                out[f.name] = "\0unreadable"
    return out


def _generator() -> Callable[..., Any] | None:
    """`bridge.generate.generate(exports, out, check)` when the generator is installed."""
    try:
        from bridge.generate import generate
    except ImportError:
        return None
    return generate


def _committed(exports: Path, notes: list[str]) -> tuple[list[ModuleExport], Side]:
    if not (exports / "index.json").is_file():
        notes.append(f"{exports}/ has no exports yet: everything is new")
        return [], Side(label=str(exports), modules=0, declarations=0)
    try:
        index, modules = load_exports(exports)
    except ExportError as exc:
        notes.append(f"committed exports unreadable, treated as empty: {exc}")
        return [], Side(label=str(exports), modules=0, declarations=0)
    return modules, Side(label=f"{exports}/ (committed)", root=index.root, git_commit=index.git_commit,
                         lean_toolchain=index.lean_toolchain, tool_version=index.tool_version,
                         modules=len(modules), declarations=sum(len(m.declarations) for m in modules))


def sync(opts: SyncOptions) -> SyncResult:
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tlb-sync-") as tmp:
        fresh = Path(tmp) / "exports"
        try:
            res = extract(ExtractOptions(root=opts.root, out=fresh, jobs=opts.jobs, cache_dir=opts.cache_dir))
        except ExtractError as exc:
            raise SyncError(str(exc)) from None
        if not res.index.modules:
            raise SyncError(f"{opts.root}: no .lean files (give the root of a TorchLean checkout)")
        idx = res.index
        fresh_index, new_modules = load_exports(fresh)
        old_modules, old_side = _committed(opts.exports, notes)
        new_side = Side(label=f"{idx.root} (source)", root=idx.root, git_commit=idx.git_commit,
                        lean_toolchain=idx.lean_toolchain, tool_version=idx.tool_version,
                        modules=len(new_modules), declarations=sum(len(m.declarations) for m in new_modules))
        diff = diff_modules(old_modules, new_modules, old_side, new_side)

        new_files, old_files = _export_files(fresh), _export_files(opts.exports)
        stale_exports = sorted(n for n in set(new_files) | set(old_files) if new_files.get(n) != old_files.get(n))
        lock = LockFile(tool_version=__version__, source_root=idx.root, git_commit=idx.git_commit,
                        lean_toolchain=idx.lean_toolchain, exports_sha256=exports_digest(fresh))
        lock_text = lock.model_dump_json(indent=2) + "\n"
        try:
            lock_stale = (opts.exports / LOCK_FILE).read_text(encoding="utf-8") != lock_text
        except (OSError, UnicodeDecodeError):
            lock_stale = True

        tests_before = generated_tests(opts.generated)
        refs_before = generated_references(opts.generated)
        gen = _generator()
        if gen is None:
            status = GeneratedStatus(wired=False, note="generated/ not checked: bridge.generate is not installed")
        else:
            # rendered from the fresh exports: byte-identical to what lean_exports/ will hold
            try:
                r = gen(fresh, opts.generated, check=opts.check, loaded=(fresh_index, new_modules))
            except Exception as exc:  # noqa: BLE001 -- another room's code: one line, never a traceback
                raise SyncError(f"generate failed: {type(exc).__name__}: {exc}") from None
            status = GeneratedStatus(wired=True, stale=sorted({*r.stale, *r.missing, *r.extra}),
                                     written=list(r.written), removed=list(r.removed))

        bindings: list[object] = []
        try:
            from bridge.bindings import BindingError, load_bindings

            try:
                bindings = list(load_bindings(opts.bindings))
            except BindingError as exc:
                notes.append(f"bindings not consulted: {exc}")
        except ImportError:
            notes.append("bindings not consulted: bridge.bindings is not installed")
        lines = impacts(diff, bindings, old_modules, new_modules, tests_before,
                        regenerated=status.wired and not opts.check, refs=refs_before,
                        generated_dir=opts.generated.as_posix())

        written: list[str] = []
        if not opts.check:
            # every new output is whole in memory or in `fresh`: now replace, the index last
            for name in sorted(n for n in stale_exports if n in new_files and n != "index.json"):
                write_text_atomic(opts.exports / name, new_files[name])
                written.append(name)
            for name in stale_exports:
                if name not in new_files and (opts.exports / name).is_file():
                    (opts.exports / name).unlink()
            if "index.json" in stale_exports:
                write_text_atomic(opts.exports / "index.json", new_files["index.json"])
                written.append("index.json")
            state = fresh / STATE_FILE
            if state.is_file():  # lets a later plain `extract` into lean_exports/ skip unchanged files
                write_text_atomic(opts.exports / STATE_FILE, state.read_text(encoding="utf-8"))
            if lock_stale:
                write_text_atomic(opts.exports / LOCK_FILE, lock_text)
                written.append(LOCK_FILE)
    return SyncResult(diff, stale_exports, lock_stale, status, lines, notes, written)
