"""Command line of `diff` and `sync` (hooked into `bridge.cli` by `add_parsers`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _cache(args: argparse.Namespace) -> Path | None:
    from bridge.extract import default_cache_dir

    if args.no_cache:
        return None
    return Path(args.cache_dir) if args.cache_dir else default_cache_dir()


def _cmd_diff(args: argparse.Namespace) -> int:
    from bridge.diff_render import render
    from bridge.snapshot import SnapshotError, diff_export_dirs, diff_git

    try:
        if args.git:
            repo, rev_a, rev_b = args.git
            d = diff_git(Path(repo), rev_a, rev_b, _cache(args))
        else:
            if not (args.old and args.new):
                print("torchlean-bridge diff: error: give OLD and NEW export folders, or --git REPO REV_A REV_B",
                      file=sys.stderr)
                return EXIT_USAGE
            d = diff_export_dirs(Path(args.old), Path(args.new))
    except SnapshotError as exc:
        print(f"torchlean-bridge diff: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(render(d, args.format))
    if args.exit_code and not d.empty:
        return EXIT_FAIL
    return EXIT_OK


def _cmd_sync(args: argparse.Namespace) -> int:
    from bridge.diff_render import render
    from bridge.sync import SyncError, SyncOptions, sync

    opts = SyncOptions(
        root=Path(args.root), exports=Path(args.exports), generated=Path(args.generated), check=args.check,
        cache_dir=_cache(args), jobs=args.jobs, bindings=Path(args.bindings) if args.bindings else None,
    )
    try:
        res = sync(opts)
    except SyncError as exc:
        print(f"torchlean-bridge sync: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    out = sys.stdout
    if not res.diff.empty:
        out.write(render(res.diff, args.format))
    else:
        out.write(f"{res.diff.old.label} → {res.diff.new.label}: no declaration changes\n")
    if res.impacts:
        out.write("\nWhat it touches:\n" if args.format == "text" else "\n#### What it touches\n\n")
        out.writelines(f"- {line}\n" for line in res.impacts)
    for note in [*res.notes, *([res.generated.note] if res.generated.note else [])]:
        print(f"note: {note}", file=sys.stderr)
    exp, gen = opts.exports.as_posix(), opts.generated.as_posix()
    if args.check:
        if not res.stale:
            out.write(f"\nup to date: {exp}/ and {gen}/ match {opts.root}\n")
            return EXIT_OK
        stale = [f"{exp}/{n}" for n in res.stale_exports]
        stale += [f"{exp}/lock.json"] if res.lock_stale and f"{exp}/lock.json" not in stale else []
        stale += [f"{gen}/{n}" for n in res.generated.stale]
        shown = ", ".join(stale[:8]) + (f" and {len(stale) - 8} more" if len(stale) > 8 else "")
        out.write(f"\nstale: {shown}\nrun `torchlean-bridge sync {opts.root}` and commit the result\n")
        return EXIT_FAIL
    done = f"{len(res.written)} export files written" if res.written else "exports already up to date"
    if res.generated.wired:
        g = res.generated
        done += f"; {gen}/: {len(g.written)} written, {len(g.removed)} removed" if (g.written or g.removed) \
            else f"; {gen}/ already up to date"
    out.write(f"\n{done}\n")
    return EXIT_OK


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    def cache_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--cache-dir", metavar="DIR", help="extraction cache (default: $XDG_CACHE_HOME/torchlean-bridge)")
        p.add_argument("--no-cache", action="store_true", help="use no extraction cache")

    d = sub.add_parser(
        "diff",
        help="what changed between two exports or two git revisions, declaration by declaration",
        description=(
            "Semantic diff of two export folders (OLD NEW), or of two revisions of a git checkout "
            "(--git REPO REV_A REV_B, read with git itself; no checkout). Per declaration: added, "
            "removed, renamed, statement changed, body changed, proof changed, scope changed (the opens "
            "in force), attributes changed, doc only, moved; module docs too. Unchanged declarations are not listed."
        ),
    )
    d.add_argument("old", metavar="OLD", nargs="?", help="export folder before")
    d.add_argument("new", metavar="NEW", nargs="?", help="export folder after")
    d.add_argument("--git", nargs=3, metavar=("REPO", "REV_A", "REV_B"), help="diff two revisions of a checkout")
    d.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    d.add_argument("--exit-code", action="store_true", help="exit 1 when there are changes (like git diff)")
    cache_opts(d)
    d.set_defaults(func=_cmd_diff)

    s = sub.add_parser(
        "sync",
        help="extract ROOT, diff against lean_exports/, regenerate generated/, write lean_exports/lock.json",
        description=(
            "Follow a TorchLean checkout in one command: extract ROOT, report what changed against the "
            "committed exports and which bindings and generated tests it touches, rewrite lean_exports/ "
            "and generated/, and record the source in lean_exports/lock.json. With --check nothing is "
            "written and the exit status is 1 when anything committed is stale (a CI gate)."
        ),
    )
    s.add_argument("root", metavar="ROOT", help="root of the Lean source tree (a TorchLean checkout)")
    s.add_argument("--check", action="store_true", help="write nothing; exit 1 if exports or generated files are stale")
    s.add_argument("--exports", default="lean_exports", metavar="DIR", help="export folder (default: lean_exports)")
    s.add_argument("--generated", default="generated", metavar="DIR", help="generated folder (default: generated)")
    s.add_argument("--bindings", metavar="FILE", help="bindings file (default: the shipped bridge/bindings.json)")
    s.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="worker processes (default: 1)")
    s.add_argument("--format", choices=("text", "markdown"), default="text", help="format of the change report")
    cache_opts(s)
    s.set_defaults(func=_cmd_sync)
