"""The `torchlean-bridge` command line: a thin face over the library.

Every failure the user can cause (bad paths, corrupt exports, unknown options)
ends in one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bridge import __version__

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _cmd_extract(args: argparse.Namespace) -> int:
    from bridge.extract import ExtractError, ExtractOptions, default_cache_dir, extract

    opts = ExtractOptions(
        root=Path(args.root),
        out=Path(args.out),
        jobs=args.jobs,
        strict=args.strict,
        include=args.include or [],
        exclude=args.exclude or [],
        docs_base=args.docs_base,
        source_base=args.source_base,
        source_ref=args.source_ref,
        cache_dir=None if args.no_cache else Path(args.cache_dir) if args.cache_dir else default_cache_dir(),
        progress=sys.stderr.isatty() and not args.quiet,
    )
    try:
        res = extract(opts)
    except ExtractError as exc:
        print(f"torchlean-bridge extract: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for d in res.diagnostics:
        print(d.format(), file=sys.stderr)
    idx = res.index
    if not args.quiet:
        total = sum(e.declarations for e in idx.modules)
        print(
            f"{len(idx.modules)} modules, {total} declarations, {len(res.diagnostics)} diagnostics "
            f"-> {opts.out}/ ({res.read} read, {res.cached} from cache, {res.unchanged} unchanged; "
            f"{res.seconds:.2f} s)"
        )
        if not idx.modules:
            print(f"note: no .lean files under {opts.root}", file=sys.stderr)
    if opts.strict and res.diagnostics:
        print(f"torchlean-bridge extract: --strict: {len(res.diagnostics)} diagnostics", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


def _cmd_show(args: argparse.Namespace) -> int:
    from bridge.show_deps import show

    return show(args.name, Path(args.exports))


def _cmd_deps(args: argparse.Namespace) -> int:
    from bridge.show_deps import deps

    return deps(args.name, Path(args.exports), args.depth, args.format)


def _cmd_generate(args: argparse.Namespace) -> int:
    from bridge.exports import ExportError, read_index, spanless_note
    from bridge.generate import generate

    try:
        res = generate(Path(args.exports), Path(args.out), check=args.check)
        note = spanless_note([read_index(Path(args.exports)).schema_version], Path(args.exports))
    except ExportError as exc:
        print(f"torchlean-bridge generate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if note:
        print(note, file=sys.stderr)
    if args.check:
        problems = [f"stale: {n}" for n in res.stale] + [f"missing: {n}" for n in res.missing] + \
            [f"extra: {n}" for n in res.extra]
        for line in problems:
            print(f"{args.out}/{line.split(': ', 1)[1]}: {line.split(':', 1)[0]}", file=sys.stderr)
        if problems:
            print(f"torchlean-bridge generate --check: {args.out}/ is out of date ({len(problems)} files); "
                  f"run `torchlean-bridge generate --exports {args.exports} --out {args.out}`", file=sys.stderr)
            return EXIT_FAIL
        print(f"{args.out}/ is up to date")
        return EXIT_OK
    print(f"{len(res.written)} files written, {len(res.removed)} removed -> {args.out}/")
    return EXIT_OK


def _cmd_names(args: argparse.Namespace) -> int:
    import json

    from bridge.exports import ExportError, spanless_note
    from bridge.names_report import progress, render_json, render_text, resolve_all
    from bridge.resolve import Corpus

    if args.jobs < 1:
        print(f"torchlean-bridge names: error: --jobs must be at least 1, got {args.jobs}", file=sys.stderr)
        return EXIT_USAGE
    try:
        corpus = Corpus.load(Path(args.exports))
    except ExportError as exc:
        print(f"torchlean-bridge names: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    note = spanless_note((m.schema_version for m in corpus.modules), Path(args.exports))
    if note:
        print(note, file=sys.stderr)
    report = resolve_all(corpus, args.jobs, progress if sys.stderr.isatty() and args.format == "text" else None)
    if args.format == "json":
        print(json.dumps(render_json(report), indent=1, ensure_ascii=False))
    else:
        print(render_text(report, args.exports, args.list))
    if args.strict and (report.unresolved or report.unparsed):
        print(f"torchlean-bridge names: --strict: {len(report.unresolved)} unresolved identifiers, "
              f"{len(report.unparsed)} unparsed pieces", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from bridge.models import ExportIndex, ModuleExport

    model = ExportIndex if args.model == "index" else ModuleExport
    print(json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    from bridge.extract import DEFAULT_DOCS_BASE, DEFAULT_SOURCE_BASE

    p = _Parser(
        prog="torchlean-bridge",
        description=(
            "Read TorchLean's Lean sources (no Lean toolchain needed), export every declaration "
            "to versioned JSON, and check runtimes against the specs."
        ),
        epilog=(
            "examples:\n"
            "  torchlean-bridge extract ~/src/TorchLean --jobs 2\n"
            "  torchlean-bridge names --jobs 2        # what does not resolve, as path:line:col\n"
            "  torchlean-bridge schema > export.schema.json\n"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"torchlean-bridge {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    e = sub.add_parser(
        "extract",
        help="read a Lean source tree and write lean_exports/",
        description=(
            "Read every .lean file under ROOT and write DIR/<Module.Name>.json per module plus "
            "DIR/index.json. Module names come from paths relative to ROOT (NN/Spec/Core/Shape.lean "
            "is NN.Spec.Core.Shape). Files are cached by content, so a re-run only reads changed "
            "files. Problems in a file are reported as path:line:col diagnostics; the rest is still read."
        ),
    )
    e.add_argument("root", metavar="ROOT", help="root of the Lean source tree (a TorchLean checkout)")
    e.add_argument("--out", default="lean_exports", metavar="DIR", help="output folder (default: lean_exports)")
    e.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="worker processes (default: 1)")
    e.add_argument("--strict", action="store_true", help="exit 1 if any diagnostic was reported")
    e.add_argument("--include", action="append", metavar="GLOB", help="only files whose relative path matches (repeatable)")
    e.add_argument("--exclude", action="append", metavar="GLOB", help="skip files whose relative path matches (repeatable)")
    e.add_argument("--docs-base", default=DEFAULT_DOCS_BASE, metavar="URL", help=f"API docs root (default: {DEFAULT_DOCS_BASE})")
    e.add_argument("--source-base", default=DEFAULT_SOURCE_BASE, metavar="URL", help=f"source repository (default: {DEFAULT_SOURCE_BASE})")
    e.add_argument(
        "--source-ref", metavar="REF",
        help="commit or branch for source links (default: ROOT's git HEAD when ROOT is a checkout, else main)",
    )
    e.add_argument("--cache-dir", metavar="DIR", help="extraction cache (default: $XDG_CACHE_HOME/torchlean-bridge)")
    e.add_argument("--no-cache", action="store_true", help="read every file, use no cache")
    e.add_argument("--quiet", "-q", action="store_true", help="no summary line and no progress bar")
    e.set_defaults(func=_cmd_extract)

    s = sub.add_parser("schema", help="print the JSON Schema of the export files",
                       description="Print the JSON Schema of a module export (default) or of index.json.")
    s.add_argument("--model", choices=("module", "index"), default="module")
    s.set_defaults(func=_cmd_schema)

    names = (
        "NAME is a fully qualified name or any unique suffix of one (SGD.step for "
        "Proofs.Autograd.Algebra.SGD.step); an ambiguous or unknown NAME lists the candidates "
        "and exits 1.\n\n"
        "Every identifier of the statement and body is resolved: to a corpus declaration, to an "
        "external one (declared outside the exports: Lean core, Mathlib, files not exported), or "
        "'unresolved'. A name found through a type (x.f, .ctor) whose type is not known and which "
        "several corpus types declare is unresolved, never guessed."
    )
    sh = sub.add_parser("show", help="one declaration: binders, statement, docs, links, constants it uses",
                        description="Show a declaration: kind, module and line, binders, statement, "
                                    "docstring, doc and source links, and the constants it uses.\n\n" + names,
                        epilog="examples:\n  torchlean-bridge show SGD.step\n"
                               "  torchlean-bridge show Graph.seedScalarLoss --exports my_exports",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    sh.add_argument("name", metavar="NAME")
    sh.add_argument("--exports", default="lean_exports", metavar="DIR", help="export folder (default: lean_exports)")
    sh.set_defaults(func=_cmd_show)

    dp = sub.add_parser("deps", help="transitive dependencies of a declaration inside the corpus",
                        description="The corpus declarations NAME depends on, transitively, printed with "
                                    "their fully qualified names; the external and unresolved names they "
                                    "use are listed at the edge.\n\n" + names,
                        epilog="examples:\n  torchlean-bridge deps Graph.seedScalarLoss\n"
                               "  torchlean-bridge deps SGD.step --depth 1\n"
                               "  torchlean-bridge deps SGD.step --format dot | dot -Tsvg > sgd.svg",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    dp.add_argument("name", metavar="NAME")
    dp.add_argument("--exports", default="lean_exports", metavar="DIR", help="export folder (default: lean_exports)")
    dp.add_argument("--depth", type=int, default=None, metavar="N", help="follow at most N levels (default: all)")
    dp.add_argument("--format", choices=("text", "json", "dot"), default="text",
                    help="text (default), json (for programs) or dot (Graphviz)")
    dp.set_defaults(func=_cmd_deps)

    nm = sub.add_parser(
        "names", help="resolve every identifier of the exports; list what does not resolve",
        description=(
            "Parse and resolve every binder type, statement, body and member type of the exports,\n"
            "count the identifiers by status (local; corpus; external: declared outside the exports,\n"
            "in Lean core or Mathlib; unresolved) and list the unresolved ones and the pieces that did\n"
            "not parse, as path:line:col. Run it after a Lean change to see what the bridge no longer\n"
            "understands. A name found through a type (x.f, .ctor) whose type is not known and which\n"
            "several corpus types declare is unresolved, never guessed."
        ),
        epilog="examples:\n  torchlean-bridge names --jobs 2\n"
               "  torchlean-bridge names --exports my_exports --strict   # a CI gate\n"
               "  torchlean-bridge names --format json > names.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    nm.add_argument("--exports", default="lean_exports", metavar="DIR", help="export folder (default: lean_exports)")
    nm.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                    help="worker processes (default: 1; more need fork, else the work runs in one)")
    nm.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json (everything)")
    nm.add_argument("--list", type=int, default=20, metavar="N",
                    help="text: list at most N unresolved and N unparsed places (default: 20)")
    nm.add_argument("--strict", action="store_true", help="exit 1 if anything is unresolved or unparsed")
    nm.set_defaults(func=_cmd_names)

    g = sub.add_parser(
        "generate", help="write Python reference implementations and pytest tests to generated/",
        description=("Translate the exported declarations into one reference module and one test module "
                     "per Lean module (theorems become hypothesis property tests), plus COVERAGE.md and "
                     "manifest.json. Output is deterministic; files change only when their text does."),
    )
    g.add_argument("--exports", default="lean_exports", metavar="DIR", help="export folder (default: lean_exports)")
    g.add_argument("--out", default="generated", metavar="DIR", help="output folder (default: generated)")
    g.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 listing stale, missing or extra files")
    g.set_defaults(func=_cmd_generate)

    from bridge.check_cli import add_parser as _add_check_parser  # the check room owns its options

    _add_check_parser(sub)
    from bridge.sync_cli import add_parsers as _add_sync_parsers  # diff and sync

    _add_sync_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("torchlean-bridge: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
