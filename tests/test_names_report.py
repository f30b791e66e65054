"""`torchlean-bridge names`: every identifier resolved, counted, and the failures placed."""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.extract import ExtractOptions, extract
from bridge.names_report import resolve_all
from bridge.resolve import Corpus

EXPORTS = Path(__file__).resolve().parent.parent / "lean_exports"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_counts_every_use_of_every_declaration_and_workers_agree() -> None:
    corpus = Corpus.load(EXPORTS)
    want: Counter[str] = Counter(u.status for n in corpus.decls for u in corpus.uses_of(n))
    one = resolve_all(Corpus.load(EXPORTS), jobs=1)
    two = resolve_all(Corpus.load(EXPORTS), jobs=2)
    assert one.statuses == want and one.declarations == len(corpus.decls) > 100
    assert (two.statuses, two.declarations, two.unresolved, two.unparsed) == \
        (one.statuses, one.declarations, one.unresolved, one.unparsed)
    assert one.jobs == 1 and two.jobs == 2
    assert one.statuses["unresolved"] == 0 and not one.unparsed  # our fixture tree resolves fully


def _broken(tmp_path: Path) -> Path:
    src = tmp_path / "src" / "NN"
    src.mkdir(parents=True)
    (src / "Broken.lean").write_text(textwrap.dedent("""\
        namespace A
        inductive K where
          | a | b
        inductive L where
          | a | c
        def pick (k : K) : K := k
        def both : List Nat := [.a, .a]
        def typo (n : Nat) : Nat := missingFn n + n.succ
        def odd : Nat := (1 +)
        end A
        """), "utf-8")
    out = tmp_path / "exports"
    extract(ExtractOptions(root=tmp_path / "src", out=out, cache_dir=None))
    return out


def test_unresolved_and_unparsed_are_listed_where_written(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = _broken(tmp_path)
    corpus = Corpus.load(out)
    uses = [(corpus.decls[n][1].path, u.line, u.column, n, u.name, u.status) for n in corpus.decls
            for u in corpus.uses_of(n)]
    report = resolve_all(Corpus.load(out), jobs=2)
    assert report.statuses == Counter(u[-1] for u in uses)
    assert [(p.path, p.line, p.column, p.declaration, p.text) for p in report.unresolved] == \
        sorted(u[:-1] for u in uses if u[-1] == "unresolved")
    rc, text, _ = run(capsys, "names", "--exports", str(out))
    assert rc == 0
    # `.a` of unknown type: K.a and L.a both exist, so it is not guessed
    assert "NN/Broken.lean:7:25: unresolved: .a (in A.both)" in text
    assert "NN/Broken.lean:7:29: unresolved: .a (in A.both)" in text
    assert "NN/Broken.lean:9:22: unparsed: missing term (in A.odd)" in text
    assert "most frequent unresolved: .a (2)" in text
    rc, text, err = run(capsys, "names", "--exports", str(out), "--strict", "--list", "0", "-j", "2")
    assert rc == 1 and ": unresolved:" not in text and "--strict: 2 unresolved identifiers, 1 unparsed" in err
    assert "... 3 more" in text
    rc, js, _ = run(capsys, "names", "--exports", str(out), "--format", "json")
    data = json.loads(js)
    assert data["identifiers"]["unresolved"] == 2 and len(data["unparsed"]) == 1
    assert data["unresolved"][0] == {"path": "NN/Broken.lean", "line": 7, "column": 25,
                                     "declaration": "A.both", "name": ".a"}
    # `missingFn` is declared nowhere in the corpus: external (Lean core, Mathlib), not unresolved
    assert data["identifiers"]["external"] >= 1


def test_bad_options_and_missing_exports_fail_in_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rc, _, err = run(capsys, "names", "--jobs", "0")
    assert rc == 2 and err.count("\n") == 1 and "--jobs must be at least 1" in err
    rc, _, err = run(capsys, "names", "--exports", str(tmp_path / "nope"))
    assert rc == 2 and err.count("\n") == 1 and "no such export directory (run `torchlean-bridge extract" in err


def test_progress_bar_counts_declarations(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[tuple[int, int]] = []
    r = resolve_all(Corpus.load(EXPORTS), jobs=2, on_progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1] == (r.declarations, r.declarations)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    from bridge.names_report import progress

    progress(3, 4)
    progress(4, 4)
    err = capsys.readouterr().err
    assert "\rresolving [######################........] 3/4 declarations" in err and err.endswith("4/4 declarations\n")


def test_a_node_shared_by_several_parents_is_counted_once(tmp_path: Path) -> None:
    # the parser gives `∀ x y : T` one T for both binders and `| 0 | 1 => rhs` one rhs for both
    # alternatives; `names` counts each such node once, as `uses_of` lists it once
    src = tmp_path / "src" / "NN"
    src.mkdir(parents=True)
    (src / "Shared.lean").write_text(textwrap.dedent("""\
        namespace S
        def twice (n : Nat) : Nat := n + n
        theorem comm : ∀ x y : Nat, twice x + y = y + twice x := by simp
        def small : Nat → Nat
          | 0 | 1 => twice 0
          | n => n
        def also (k : Nat) : Nat :=
          match k with
          | 2 | 3 => twice k
          | _ => 0
        end S
        """), "utf-8")
    out = tmp_path / "exports"
    extract(ExtractOptions(root=tmp_path / "src", out=out, cache_dir=None))
    corpus = Corpus.load(out)
    uses = {n: [(u.name, u.line, u.column) for u in corpus.uses_of(n)] for n in corpus.decls}
    assert uses["S.comm"].count(("Nat", 3, 24)) == 1  # the shared type, once
    assert uses["S.small"].count(("twice", 5, 14)) == 1  # the shared rhs, once
    assert uses["S.also"].count(("twice", 9, 14)) == 1
    report = resolve_all(Corpus.load(out), jobs=1)
    assert report.identifiers == sum(map(len, uses.values()))
