"""Semantic diff: each kind of change between the two fixture versions, exactly once; git mode."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bridge import snapshot
from bridge.cli import main
from bridge.diff import ExportDiff, diff_modules
from bridge.diff_render import render
from bridge.extract import ExtractOptions, extract
from bridge.lean.reader import read_module
from bridge.snapshot import diff_export_dirs, diff_git
from tests.support.fixture_v2 import EXPECTED, EXPECTED_MODULES, V1, make_git_repo, make_v2


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("diff")
    v2 = make_v2(base / "v2")
    for src, out in ((V1, base / "e1"), (v2, base / "e2")):
        extract(ExtractOptions(root=src, out=out))
    return base / "e1", base / "e2"


def _listed(d: ExportDiff) -> list[tuple[str, str, str | None]]:
    return [(c.change, c.name, c.old_name) for c in d.declarations]


def test_fixture_versions_list_each_change_once(exports: tuple[Path, Path]) -> None:
    d = diff_export_dirs(*exports)
    listed = _listed(d)
    assert len(listed) == len(set(listed)), "a change is listed twice"
    assert set(listed) == EXPECTED
    assert {(m.change, m.module) for m in d.modules} == EXPECTED_MODULES
    assert (d.old.lean_toolchain, d.new.lean_toolchain) == ("leanprover/lean4:v4.29.0", "leanprover/lean4:v4.34.0")
    by = {c.name: c for c in d.declarations}
    # the generation rename of a primitive: a rename, whose statement changed too (arguments swapped)
    full = by["Spec.Tensor.full"]
    assert full.change == "renamed" and full.old_name == "Spec.fill" and "statement" in full.aspects
    assert full.statement_before and "(v : α)" in full.statement_before
    clamp = by["Spec.clampNonneg"]
    assert (clamp.old_module, clamp.module, clamp.aspects) == ("NN.Spec.Core.Scalar", "NN.Spec.Core.TensorOps", ["module"])
    upd = by["Optim.SGD.update"]
    assert upd.statement_before and upd.statement_after and "(lr : α) (p g" in upd.statement_before
    assert by["Spec.Tensor.eq_scalar_toScalar"].aspects == ["order"]
    # layout/comment-only edits, line shifts and examples renamed by their line are not changes
    assert "Spec.Tensor.ofFn" not in by and "Spec.Tensor.toList" not in by
    assert not any(c.module == "NN.Examples.Basic" for c in d.declarations)
    docs = next(m for m in d.modules if m.change == "docs_changed")
    assert "one per optimizer" in docs.docs_after[0] and "one per optimizer" not in docs.docs_before[0]


def test_identical_exports_are_empty(exports: tuple[Path, Path]) -> None:
    d = diff_export_dirs(exports[0], exports[0])
    assert d.empty and d.declarations == [] and d.modules == []
    assert "no changes" in render(d)


def test_renderings(exports: tuple[Path, Path]) -> None:
    d = diff_export_dirs(*exports)
    text = render(d, "text")
    assert "renamed" in text and "Spec.Tensor.full" in text and "from Spec.fill" in text
    assert "before: " in text and "lean-toolchain: leanprover/lean4:v4.29.0 → leanprover/lean4:v4.34.0" in text
    md = render(d, "markdown")
    assert "| statement changed | `Optim.SGD.update` |" in md and "```lean" in md
    again = ExportDiff.model_validate_json(render(d, "json"))
    assert _listed(again) == _listed(d)


def test_generation_rename_of_a_primitive_type() -> None:
    """`TList` → `TensorPack` (namespace and name): the type, its functions and the users."""
    old = read_module(
        "namespace Proofs.Autograd.Algebra\n"
        "inductive TList (α : Type) : List Nat → Type where\n"
        "  | nil : TList α []\n  | cons {n : Nat} {ns : List Nat} (x : α) (xs : TList α ns) : TList α (n :: ns)\n"
        "def TList.zero [Zero α] : (ns : List Nat) → TList α ns\n"
        "  | [] => .nil\n  | _ :: ns => .cons 0 (TList.zero ns)\n"
        "def step (p g : TList α ns) (lr : α) : TList α ns := p\n"
        "end Proofs.Autograd.Algebra\n",
        "A.lean", "A",
    )
    new = read_module(
        "namespace TorchLean\n"
        "inductive TensorPack (α : Type) : List Nat → Type where\n"
        "  | nil : TensorPack α []\n"
        "  | cons {n : Nat} {ns : List Nat} (x : α) (xs : TensorPack α ns) : TensorPack α (n :: ns)\n"
        "def TensorPack.zero [Zero α] : (ns : List Nat) → TensorPack α ns\n"
        "  | [] => .nil\n  | _ :: ns => .cons 0 (TensorPack.zero ns)\n"
        "end TorchLean\n"
        "namespace Proofs.Autograd.Algebra\n"
        "open TorchLean\n"
        "def step (p g : TensorPack α ns) (lr : α) : TensorPack α ns := p\n"
        "end Proofs.Autograd.Algebra\n",
        "A.lean", "A",
    )
    d = diff_modules([old], [new])
    by = {c.name: c for c in d.declarations}
    assert set(_listed(d)) == {
        ("renamed", "TorchLean.TensorPack", "Proofs.Autograd.Algebra.TList"),
        ("renamed", "TorchLean.TensorPack.zero", "Proofs.Autograd.Algebra.TList.zero"),
        ("statement_changed", "Proofs.Autograd.Algebra.step", None),
    }
    assert by["TorchLean.TensorPack"].similarity == 1.0 and by["TorchLean.TensorPack"].aspects == ["name"]
    assert by["Proofs.Autograd.Algebra.step"].via_renames == ["TList → TensorPack"]
    assert "only through renames: TList → TensorPack" in render(d)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    return make_git_repo(tmp_path_factory.mktemp("git") / "repo")


def test_git_diff_equals_export_diff(repo: tuple[Path, str, str], exports: tuple[Path, Path]) -> None:
    path, r1, r2 = repo
    head = (path / "NN/Spec/Core/Tensor.lean").read_text(encoding="utf-8")
    d = diff_git(path, r1, r2, cache_dir=None)
    assert _listed(d) == _listed(diff_export_dirs(*exports))
    assert {(m.change, m.module) for m in d.modules} == EXPECTED_MODULES
    assert d.old.git_commit == r1 and d.new.git_commit == r2
    assert d.modules_compared == 13 and d.modules_unchanged == 5
    # nothing was checked out: the working tree still holds v2
    assert (path / "NN/Spec/Core/Tensor.lean").read_text(encoding="utf-8") == head


def test_git_diff_reads_only_changed_blobs_and_reuses_cache(
    repo: tuple[Path, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, r1, r2 = repo
    parsed: list[str] = []
    real = snapshot.read_file_export

    def counting(data: bytes, rel: str):  # type: ignore[no-untyped-def]
        parsed.append(rel)
        return real(data, rel)

    monkeypatch.setattr(snapshot, "read_file_export", counting)
    first = diff_git(path, r1, r2, cache_dir=tmp_path / "cache")
    # 8 changed files in v1 and v2 (Init.lean only in v2): 15 blobs, never the 5 unchanged files
    assert len(parsed) == 15 and "NN/Spec/Core/Scalar.lean" in parsed and "NN.lean" not in parsed
    parsed.clear()
    second = diff_git(path, r1, r2, cache_dir=tmp_path / "cache")
    assert parsed == [] and second == first
    # extract shares the same cache: a tree extracted once is never parsed by diff
    parsed.clear()
    extract(ExtractOptions(root=V1, out=tmp_path / "x", cache_dir=tmp_path / "cache2"))
    diff_git(path, r1, r1, cache_dir=tmp_path / "cache2")
    assert parsed == []


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_diff_formats(capsys: pytest.CaptureFixture[str], repo: tuple[Path, str, str],
                          exports: tuple[Path, Path]) -> None:
    path, r1, r2 = repo
    code, out, _ = run_cli(capsys, "diff", "--git", str(path), r1, r2, "--format", "markdown", "--no-cache")
    assert code == 0 and "| renamed | `Spec.Tensor.full` |" in out
    code, out, _ = run_cli(capsys, "diff", str(exports[0]), str(exports[1]), "--format", "json", "--exit-code")
    assert code == 1 and ExportDiff.model_validate_json(out).counts()["renamed"] == 4
    code, out, _ = run_cli(capsys, "diff", str(exports[0]), str(exports[0]), "--exit-code")
    assert code == 0 and "no changes" in out


@pytest.mark.parametrize("case", ["unknown_rev", "not_repo", "corrupt", "missing", "no_args"])
def test_cli_diff_bad_input_is_one_line(
    case: str, capsys: pytest.CaptureFixture[str], repo: tuple[Path, str, str], exports: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    path, r1, _ = repo
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "index.json").write_text('{"schema_version": "1.0", "modules": [', encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(tmp_path / "plain")], check=False, capture_output=True)
    argv = {
        "unknown_rev": ["diff", "--git", str(path), r1, "no-such-rev"],
        "not_repo": ["diff", "--git", str(tmp_path / "bad"), "HEAD", "HEAD"],
        "corrupt": ["diff", str(exports[0]), str(bad)],
        "missing": ["diff", str(exports[0]), str(tmp_path / "nowhere")],
        "no_args": ["diff", str(exports[0])],
    }[case]
    code, out, err = run_cli(capsys, *argv, "--no-cache")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "error:" in err
    if case == "unknown_rev":
        assert "unknown revision 'no-such-rev'" in err
    if case == "not_repo":
        assert "not a git repository" in err


def test_open_added_or_removed_is_a_scope_change() -> None:
    """Same text, other names: a new `open` above a declaration may change what its names mean."""
    head = ("namespace Spec\ndef relu (x : Int) : Int := max x 0\nend Spec\n"
            "namespace Fast\ndef relu (x : Int) : Int := x\nend Fast\n")
    body = "def act (x : Int) : Int := relu x\ntheorem act_self (x : Int) : act x = act x := rfl\n"
    old = read_module(head + "def untouched : Nat := 0\nopen Spec\n" + body, "A.lean", "A")
    new = read_module(head + "def untouched : Nat := 0\n" + "open Fast hiding relu\nopen scoped Fast\n" + body,
                      "A.lean", "A")
    d = diff_modules([old], [new])
    assert set(_listed(d)) == {("scope_changed", "act", None), ("scope_changed", "act_self", None)}
    act = next(c for c in d.declarations if c.name == "act")
    assert act.aspects == ["scope"]
    assert act.opens_added == ["open Fast hiding relu", "open scoped Fast"] and act.opens_removed == ["open Spec"]
    text = render(d)
    assert "scope changed" in text and "now open Fast hiding relu" in text and "no longer open Spec" in text
    # a body edit under a changed scope: the body change leads, the scope change is listed too
    edited = read_module(head + "def untouched : Nat := 0\nopen Fast\n" + body.replace("relu x", "relu (x + 0)"),
                         "A.lean", "A")
    d2 = diff_modules([old], [edited])
    by = {c.name: c for c in d2.declarations}
    assert by["act"].change == "body_changed" and by["act"].aspects == ["body", "scope"]
    assert by["act_self"].change == "scope_changed"
    assert diff_modules([old], [old]).declarations == []


def test_scope_change_touches_the_bindings_of_its_spec() -> None:
    from types import SimpleNamespace

    from bridge.impact import impacts

    head = "namespace Spec\ndef relu (x : Int) : Int := max x 0\nend Spec\n"
    old = read_module(head + "open Spec\ndef act (x : Int) : Int := relu x\n", "A.lean", "A")
    new = read_module(head + "open Spec hiding relu\ndef act (x : Int) : Int := relu x\n", "A.lean", "A")
    d = diff_modules([old], [new])
    b = SimpleNamespace(spec="act", name="act-binding", runtime="torch.act")
    lines = impacts(d, [b], [old], [new], {}, regenerated=False)
    assert lines == ["`act` scope changed: torch.act bindings must be re-checked (act-binding)"]
