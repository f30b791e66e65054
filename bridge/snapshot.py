"""The two sides of a diff: an export folder, or a revision of a git checkout.

A git revision is read with git itself (`git ls-tree -r` for the file list, one
`git cat-file --batch` for the contents): neither revision is checked out. Files whose blob
is the same in both revisions cannot differ, so they are never read at all; the changed
ones go through the extraction cache, keyed by content (`bridge.extract._cache_key`), so a
blob parsed once (by `extract` or an earlier diff) is never parsed again.
"""

from __future__ import annotations

import fnmatch
import subprocess
from pathlib import Path

from bridge.diff import ExportDiff, Side, diff_modules
from bridge.exports import ExportError, load_exports, read_index, read_module_export
from bridge.extract import DEFAULT_EXCLUDES, _cache_key, read_file_export
from bridge.fsutil import write_text_atomic
from bridge.models import ModuleExport


class SnapshotError(Exception):
    """A side that cannot be read: not a git repository, unknown revision, corrupt export."""


def diff_export_dirs(old: Path, new: Path) -> ExportDiff:
    """The diff of two export folders. Modules with the same source bytes, exported by the same
    tool version, cannot differ: they are not even loaded."""
    try:
        indexes = [read_index(d) if d.is_dir() else load_exports(d)[0] for d in (old, new)]
        ia, ib = indexes
        same: set[tuple[str, str]] = set()
        if ia.tool_version == ib.tool_version:
            same = {(e.module, e.source_sha256) for e in ia.modules} & {(e.module, e.source_sha256) for e in ib.modules}
        sides = []
        for d, index in ((old, ia), (new, ib)):
            modules = [read_module_export(d / f"{e.module}.json") for e in index.modules
                       if (e.module, e.source_sha256) not in same]
            side = Side(label=str(d), root=index.root, git_commit=index.git_commit,
                        lean_toolchain=index.lean_toolchain, tool_version=index.tool_version,
                        modules=len(index.modules), declarations=sum(e.declarations for e in index.modules))
            sides.append((side, modules))
    except ExportError as exc:
        raise SnapshotError(str(exc)) from None
    (so, mo), (sn, mn) = sides
    return diff_modules(mo, mn, so, sn, unchanged=len(same))


# ---- git ------------------------------------------------------------------------------------------


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        res = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, check=False)
    except OSError as exc:
        raise SnapshotError(f"cannot run git: {exc.strerror}") from None
    if res.returncode != 0:
        msg = res.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SnapshotError(f"{repo}: git {args[0]} failed: {msg[-1] if msg else 'exit ' + str(res.returncode)}")
    return res.stdout


def _resolve(repo: Path, rev: str) -> str:
    if not repo.is_dir():
        raise SnapshotError(f"{repo}: no such directory")
    probe = subprocess.run(["git", "-C", str(repo), "rev-parse", "--git-dir"], capture_output=True, check=False)
    if probe.returncode != 0:
        raise SnapshotError(f"{repo}: not a git repository")
    res = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", "--end-of-options",
                          f"{rev}^{{commit}}"], capture_output=True, text=True, check=False)
    if res.returncode != 0 or not res.stdout.strip():
        raise SnapshotError(f"{repo}: unknown revision {rev!r}")
    return res.stdout.strip()


def _wanted(rel: str) -> bool:
    """The same files `extract` reads (see `bridge.extract.discover`)."""
    if not rel.endswith(".lean"):
        return False
    if any(p.startswith(".") or p in (".lake", "lake-packages") for p in rel.split("/")[:-1]):
        return False
    return not any(fnmatch.fnmatch(rel, g) for g in DEFAULT_EXCLUDES)


def _tree(repo: Path, commit: str) -> dict[str, str]:
    """path → blob id of every file of a commit (plus `lean-toolchain`)."""
    out: dict[str, str] = {}
    for rec in _git(repo, "ls-tree", "-r", "-z", "--full-tree", commit).split(b"\0"):
        if not rec:
            continue
        meta, _, path = rec.partition(b"\t")
        _mode, typ, oid = meta.decode().split()
        rel = path.decode("utf-8", "surrogateescape")
        if typ == "blob" and (_wanted(rel) or rel == "lean-toolchain"):
            out[rel] = oid
    return out


def _cat(repo: Path, oids: list[str]) -> dict[str, bytes]:
    """Contents of blobs, all through one `git cat-file --batch`."""
    if not oids:
        return {}
    raw = _git(repo, "cat-file", "--batch", stdin="".join(f"{o}\n" for o in oids).encode())
    out: dict[str, bytes] = {}
    pos = 0
    for oid in oids:
        nl = raw.index(b"\n", pos)
        head = raw[pos:nl].split()
        if len(head) != 3:
            raise SnapshotError(f"{repo}: git cat-file: missing object {oid}")
        size = int(head[2])
        out[oid] = raw[nl + 1 : nl + 1 + size]
        pos = nl + 1 + size + 1  # a newline follows each object
    return out


def export_bytes(data: bytes, rel: str, cache_dir: Path | None) -> ModuleExport:
    """The URL-less export of one file's bytes, through the content-keyed extraction cache."""
    cpath = None
    if cache_dir is not None:
        key = _cache_key(data, rel)
        cpath = cache_dir / key[:2] / f"{key}.json"
        try:
            return ModuleExport.model_validate_json(cpath.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass  # missing or unreadable cache entry: parse again
    mod = read_file_export(data, rel)
    if cpath is not None:
        try:
            write_text_atomic(cpath, mod.model_dump_json())
        except OSError:
            pass  # a read-only cache only costs speed
    return mod


def diff_git(repo: Path, rev_a: str, rev_b: str, cache_dir: Path | None = None) -> ExportDiff:
    """The diff between two revisions of a checkout; only files whose blob differs are read."""
    ca, cb = _resolve(repo, rev_a), _resolve(repo, rev_b)
    ta, tb = _tree(repo, ca), _tree(repo, cb)
    changed_a = {p: o for p, o in ta.items() if tb.get(p) != o}
    changed_b = {p: o for p, o in tb.items() if ta.get(p) != o}
    blobs = _cat(repo, sorted(set(changed_a.values()) | set(changed_b.values())
                              | {t["lean-toolchain"] for t in (ta, tb) if "lean-toolchain" in t}))

    def side(rev: str, commit: str, tree: dict[str, str], changed: dict[str, str]) -> tuple[Side, list[ModuleExport]]:
        mods = [export_bytes(blobs[o], p, cache_dir) for p, o in sorted(changed.items()) if p != "lean-toolchain"]
        tc = tree.get("lean-toolchain")
        toolchain = blobs[tc].decode("utf-8", "replace").strip() if tc else None
        label = rev if rev.startswith(commit[:7]) else f"{rev} ({commit[:12]})"
        return Side(label=label, root=str(repo), git_commit=commit, lean_toolchain=toolchain,
                    modules=sum(1 for p in tree if p != "lean-toolchain")), mods

    (sa, ma), (sb, mb) = side(rev_a, ca, ta, changed_a), side(rev_b, cb, tb, changed_b)
    unchanged = sum(1 for p, o in ta.items() if p != "lean-toolchain" and tb.get(p) == o)
    return diff_modules(ma, mb, sa, sb, unchanged=unchanged)
