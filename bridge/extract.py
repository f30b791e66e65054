"""Extraction of a whole source tree: discovery, cache, workers, atomic output.

Data flow: find `.lean` files → (cached) `read_module` per file in worker
processes → URLs attached → `DIR/<Module>.json` and `DIR/index.json`.
Nothing in the output folder changes until every module has been read; then
module files are replaced one by one (each atomically) and the index last.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic_core

from bridge import __version__
from bridge.fsutil import write_text_atomic
from bridge.gcpause import gc_paused
from bridge.lean.reader import read_module_data
from bridge.models import SCHEMA_VERSION, Diagnostic, ExportIndex, IndexEntry, ModuleExport
from bridge.progress import bar

DEFAULT_DOCS_BASE = "https://lean-dojo.github.io/TorchLean/docs"
DEFAULT_SOURCE_BASE = "https://github.com/lean-dojo/TorchLean"
DEFAULT_EXCLUDES = (".lake/*", "lake-packages/*", "build/*", ".*/*", "*/.*/*")
STATE_FILE = ".extract-state.json"  # not committed: which reader wrote this folder


def _reader_fingerprint() -> str:
    """Tool and schema version plus a digest of the reader's own code: a changed
    reader (a dev install, say) never reuses outputs or cache entries of another."""
    h = hashlib.sha256(f"{__version__}\0{SCHEMA_VERSION}".encode())
    here = Path(__file__).parent
    for f in sorted([*here.joinpath("lean").glob("*.py"), here / "models.py", here / "extract.py"]):
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


READER_FINGERPRINT = _reader_fingerprint()


class ExtractError(Exception):
    """Bad arguments or an unreadable tree; one line, suitable for the CLI."""


@dataclass
class ExtractOptions:
    root: Path
    out: Path = Path("lean_exports")
    jobs: int = 1
    strict: bool = False
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    docs_base: str = DEFAULT_DOCS_BASE
    source_base: str = DEFAULT_SOURCE_BASE
    source_ref: str | None = None
    cache_dir: Path | None = None  # None: no cache
    progress: bool = False


@dataclass
class ExtractResult:
    index: ExportIndex
    diagnostics: list[Diagnostic]
    read: int  # files parsed this run
    cached: int  # files taken from the cache
    unchanged: int  # files whose output was already up to date
    written: int
    removed: int
    seconds: float


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "torchlean-bridge" / "extract"


def module_name(rel: str) -> str:
    """`NN/Spec/Core/Shape.lean` → `NN.Spec.Core.Shape`."""
    return rel[: -len(".lean")].replace("/", ".") if rel.endswith(".lean") else rel.replace("/", ".")


def discover(root: Path, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> list[str]:
    """Relative POSIX paths of the `.lean` files under `root`, sorted."""
    inc, exc = list(include), list(DEFAULT_EXCLUDES) + list(exclude)
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in (".lake", "lake-packages"))
        for name in filenames:
            if not name.endswith(".lean"):
                continue
            rel = Path(dirpath, name).relative_to(root).as_posix()
            if inc and not any(fnmatch.fnmatch(rel, g) for g in inc):
                continue
            if any(fnmatch.fnmatch(rel, g) for g in exc):
                continue
            out.append(rel)
    return sorted(out)


def git_commit(root: Path) -> str | None:
    """HEAD of `root` when `root` is the top of a git checkout (else None: a
    folder inside some other repository has no commit of its own)."""
    try:
        top = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = top.stdout.split()
    if top.returncode != 0 or len(lines) != 2:
        return None
    if Path(lines[0]).resolve() != root.resolve():
        return None
    return lines[1]


def decode_source(data: bytes, rel: str) -> tuple[str, list[Diagnostic]]:
    """UTF-8 text of a file; bad bytes become U+FFFD plus one diagnostic naming the first."""
    try:
        text = data.decode("utf-8")
        diags: list[Diagnostic] = []
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        col = len(data[line_start : exc.start].decode("utf-8", errors="replace")) + 1  # in characters
        diags = [
            Diagnostic(
                path=rel, line=line, column=col,
                message=f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); read with replacement characters",
            )
        ]
        text = data.decode("utf-8", errors="replace")
    text = text.removeprefix("\ufeff")
    return text, diags


def read_file_export(data: bytes, rel: str) -> ModuleExport:
    """Read one file's bytes into its URL-less export."""
    return ModuleExport.model_validate(read_file_data(data, rel))


def read_file_data(data: bytes, rel: str) -> dict[str, Any]:
    """`read_file_export` as plain data (fields in schema order), not validated."""
    text, diags = decode_source(data, rel)
    with gc_paused():  # many small objects, no cycles worth collecting
        mod = read_module_data(text, rel, module_name(rel))
    mod["source_sha256"] = hashlib.sha256(data).hexdigest()
    if diags:
        mod["diagnostics"][:0] = [d.model_dump() for d in diags]
    return mod


def _attach_urls_data(mod: dict[str, Any], docs_base: str, source_base: str, ref: str) -> None:
    """Fill in each declaration's `doc_url` and `source_url` (on plain module data)."""
    page = f"{docs_base.rstrip('/')}/{mod['module'].replace('.', '/')}.html"
    src = f"{source_base.rstrip('/')}/blob/{ref}/{mod['path']}"
    for d in mod["declarations"]:
        d["doc_url"] = f"{page}#{d['name']}"
        d["source_url"] = f"{src}#L{d['name_line']}"


def _cache_key(data: bytes, rel: str) -> str:
    h = hashlib.sha256()
    h.update(f"{READER_FINGERPRINT}\0{rel}\0".encode())
    h.update(data)
    return h.hexdigest()


# What a worker hands back: rel, the final module JSON (URLs attached, as written to
# disk), its index summary (module, source SHA-256, declarations, kinds, diagnostics) and whether the
# parse came from the cache. The parent neither parses nor re-serializes module JSON.
_Summary = tuple[str, str, int, dict[str, int], list[dict[str, Any]]]
_Result = tuple[str, str, _Summary, bool]


def _work(job: tuple[str, str, str | None, str, str, str]) -> _Result:
    """Worker: (root, rel, cache dir, docs base, source base, ref) → `_Result`."""
    root, rel, cache, docs_base, source_base, ref = job
    mod: dict[str, Any] | None = None
    from_cache = False
    try:
        data = Path(root, rel).read_bytes()
    except OSError as exc:
        mod = ModuleExport(
            tool_version=__version__, module=module_name(rel), path=rel, source_sha256="",
            diagnostics=[Diagnostic(path=rel, line=1, column=1, message=f"cannot read file: {exc.strerror}")],
        ).model_dump()
    else:
        cpath = None
        if cache:
            key = _cache_key(data, rel)
            cpath = Path(cache, key[:2], key + ".json")
            try:
                mod = json.loads(cpath.read_bytes())
                from_cache = True
            except (OSError, ValueError):
                pass
        if mod is None:
            mod = read_file_data(data, rel)
            if cpath is not None:
                try:  # the URL-less export, as `ModuleExport.model_dump_json()` writes it
                    write_text_atomic(cpath, pydantic_core.to_json(mod).decode())
                except OSError:
                    pass  # a read-only cache only costs speed
    decls = mod["declarations"]
    summary = (mod["module"], mod["source_sha256"], len(decls), dict(sorted(Counter(d["kind"] for d in decls).items())), mod["diagnostics"])
    _attach_urls_data(mod, docs_base, source_base, ref)
    # byte for byte `ModuleExport.model_dump_json(indent=1)`: same fields, same order
    text = pydantic_core.to_json(mod, indent=1).decode() + "\n"
    return rel, text, summary, from_cache


_progress = bar("extracting", "files")


def extract(opts: ExtractOptions, on_progress: Callable[[int, int], None] | None = None) -> ExtractResult:
    t0 = time.perf_counter()
    root = opts.root
    if not root.is_dir():
        raise ExtractError(f"{root}: no such directory (give the root of a TorchLean checkout)")
    if opts.jobs < 1:
        raise ExtractError(f"--jobs must be at least 1, got {opts.jobs}")
    files = discover(root, opts.include, opts.exclude)
    commit = git_commit(root)
    ref = opts.source_ref or commit or "main"
    toolchain_file = root / "lean-toolchain"
    toolchain = toolchain_file.read_text(encoding="utf-8", errors="replace").strip() if toolchain_file.is_file() else None

    # Outputs already up to date (same tool, same URL settings, same source bytes) are skipped.
    old = _old_index(opts.out)
    reusable: dict[str, IndexEntry] = {}
    if old and _state_fingerprint(opts.out) == READER_FINGERPRINT and (
        old.docs_base, old.source_base, old.source_ref
    ) == (opts.docs_base, opts.source_base, ref):
        reusable = {e.path: e for e in old.modules}

    entries: dict[str, IndexEntry] = {}
    texts: dict[str, str] = {}
    diagnostics: list[Diagnostic] = []
    kinds: Counter[str] = Counter()
    todo: list[str] = []
    unchanged = 0
    for rel in files:
        prev = reusable.get(rel)
        if prev is not None and (opts.out / f"{prev.module}.json").is_file():
            try:
                same = hashlib.sha256((root / rel).read_bytes()).hexdigest() == prev.source_sha256
            except OSError:
                same = False
            if same and not prev.diagnostics:
                entries[rel] = prev
                unchanged += 1
                continue
        todo.append(rel)
    for e in entries.values():
        kinds.update(e.kinds)
    cache = str(opts.cache_dir) if opts.cache_dir else None
    jobs = [(str(root), rel, cache, opts.docs_base, opts.source_base, ref) for rel in todo]
    read = cached = 0
    done = unchanged
    report = on_progress or (_progress if opts.progress else None)
    if opts.jobs > 1 and len(jobs) > 1:
        import multiprocessing as mp

        ctx = mp.get_context("fork") if sys.platform.startswith("linux") else None
        with ProcessPoolExecutor(max_workers=opts.jobs, mp_context=ctx) as pool:
            results = pool.map(_work, jobs, chunksize=max(1, len(jobs) // (opts.jobs * 8)))
            for res in results:
                done += 1
                read, cached = _collect(res, entries, texts, diagnostics, kinds, read, cached)
                if report and (done % 25 == 0 or done == len(files)):
                    report(done, len(files))
    else:
        for job in jobs:
            done += 1
            read, cached = _collect(_work(job), entries, texts, diagnostics, kinds, read, cached)
            if report and (done % 25 == 0 or done == len(files)):
                report(done, len(files))
    if report and not jobs and files:
        report(len(files), len(files))

    ordered = [entries[rel] for rel in files]
    index = ExportIndex(
        tool_version=__version__,
        root=_display_root(root),
        git_commit=commit,
        lean_toolchain=toolchain,
        docs_base=opts.docs_base,
        source_base=opts.source_base,
        source_ref=ref,
        modules=ordered,
        declaration_counts=dict(sorted(kinds.items())),
        diagnostics=sum(e.diagnostics for e in ordered),
    )
    # Every module is whole in memory: only now is the output folder touched.
    written = 0
    for rel, text in texts.items():
        write_text_atomic(opts.out / f"{entries[rel].module}.json", text)
        written += 1
    removed = 0
    if old:
        keep = {e.module for e in ordered}
        for e in old.modules:
            if e.module not in keep:
                stale = opts.out / f"{e.module}.json"
                if stale.is_file():
                    stale.unlink()
                    removed += 1
    index_text = index.model_dump_json(indent=2) + "\n"
    index_path = opts.out / "index.json"
    if not index_path.is_file() or index_path.read_text(encoding="utf-8") != index_text:
        write_text_atomic(index_path, index_text)
    if _state_fingerprint(opts.out) != READER_FINGERPRINT:
        write_text_atomic(opts.out / STATE_FILE, json.dumps({"reader": READER_FINGERPRINT}) + "\n")
    return ExtractResult(index, diagnostics, read, cached, unchanged, written, removed, time.perf_counter() - t0)


def _collect(
    res: _Result,
    entries: dict[str, IndexEntry],
    texts: dict[str, str],
    diagnostics: list[Diagnostic],
    kinds: Counter[str],
    read: int,
    cached: int,
) -> tuple[int, int]:
    rel, text, (module, sha, n_decls, mod_kinds, diags), from_cache = res
    entries[rel] = IndexEntry(
        module=module, path=rel, source_sha256=sha,
        declarations=n_decls, diagnostics=len(diags), kinds=mod_kinds,
    )
    kinds.update(mod_kinds)
    diagnostics.extend(Diagnostic.model_validate(d) for d in diags)
    texts[rel] = text
    return (read, cached + 1) if from_cache else (read + 1, cached)


def _old_index(out: Path) -> ExportIndex | None:
    try:
        data = json.loads((out / "index.json").read_text(encoding="utf-8"))
        if data.get("schema_version") != SCHEMA_VERSION:
            return None
        return ExportIndex.model_validate(data)
    except (OSError, ValueError):
        return None


def _state_fingerprint(out: Path) -> str | None:
    try:
        return str(json.loads((out / STATE_FILE).read_text(encoding="utf-8"))["reader"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _display_root(root: Path) -> str:
    try:
        return root.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return root.as_posix()
