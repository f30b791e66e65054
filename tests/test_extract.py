"""Extraction of whole trees: CLI, index, cache, workers, atomic output, bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import bridge.extract as extract_mod
from bridge import __version__
from bridge.cli import main
from bridge.exports import ExportError, load_exports, read_module_export
from bridge.extract import ExtractOptions, extract
from bridge.models import SCHEMA_VERSION

FIXTURES = Path(__file__).parent / "fixtures"
TREE = FIXTURES / "torchlean"
ADVERSARIAL = FIXTURES / "adversarial"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    dst = tmp_path / "src"
    shutil.copytree(TREE, dst)
    return dst


def test_extract_fixture_tree_shows_sgd_step(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "x"
    code, stdout, _ = run_cli(capsys, "extract", str(TREE), "--out", str(out), "--no-cache")
    assert code == 0 and "declarations" in stdout
    mod = read_module_export(out / "NN.Proofs.Autograd.Training.StepAlgebra.json")
    step = next(d for d in mod.declarations if d.name == "Proofs.Autograd.Algebra.SGD.step")
    assert step.kind == "def"
    assert [(b.names, b.type, b.info, b.from_variable) for b in step.binders] == [
        (["α"], "Type", "implicit", True),
        ([], "CommRing α", "instance", True),
        (["Γ"], "List Shape", "implicit", False),
        (["params", "grads"], "TList α Γ", "explicit", False),
        (["lr"], "α", "explicit", False),
    ]


def test_index_lists_modules_counts_and_versions(tmp_path: Path) -> None:
    res = extract(ExtractOptions(root=TREE, out=tmp_path / "x"))
    index, modules = load_exports(tmp_path / "x")
    assert index.schema_version == SCHEMA_VERSION and index.tool_version == __version__
    assert index.git_commit is None  # a folder inside another repository has no commit of its own
    assert index.lean_toolchain and index.lean_toolchain.startswith("leanprover/lean4:")
    names = [e.module for e in index.modules]
    assert "NN.Proofs.Autograd.Training.StepAlgebra" in names and "NN.Runtime.Optim.Optimizers" in names
    assert names == sorted(names, key=lambda m: next(e.path for e in index.modules if e.module == m))
    assert sum(index.declaration_counts.values()) == sum(len(m.declarations) for m in modules)
    assert index.declaration_counts["theorem"] >= 5 and res.diagnostics == []
    # the Verso chapter is recognised and skipped with a note
    verso = [m for m in modules if m.notes]
    assert verso and all(m.path.startswith("blueprint/") and not m.declarations for m in verso)


def test_git_commit_recorded_for_a_checkout(tree: Path, tmp_path: Path) -> None:
    git = ["git", "-C", str(tree), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "x"], check=True)
    head = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    extract(ExtractOptions(root=tree, out=tmp_path / "x"))
    index, modules = load_exports(tmp_path / "x")
    assert index.git_commit == head and index.source_ref == head
    step = next(d for m in modules for d in m.declarations if d.name.endswith("SGD.step"))
    assert step.source_url == (
        f"https://github.com/lean-dojo/TorchLean/blob/{head}/NN/Proofs/Autograd/Training/StepAlgebra.lean"
        f"#L{step.name_line}"
    )
    assert step.doc_url == (
        "https://lean-dojo.github.io/TorchLean/docs/NN/Proofs/Autograd/Training/StepAlgebra.html"
        "#Proofs.Autograd.Algebra.SGD.step"
    )


def test_parallel_output_equals_serial_output(tmp_path: Path) -> None:
    extract(ExtractOptions(root=TREE, out=tmp_path / "a", jobs=1))
    extract(ExtractOptions(root=TREE, out=tmp_path / "b", jobs=2))
    a = {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()}
    b = {p.name: p.read_bytes() for p in (tmp_path / "b").iterdir()}
    assert a == b and len(a) > 10


def test_cache_rereads_only_changed_files(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = extract(ExtractOptions(root=tree, out=tmp_path / "x", cache_dir=cache))
    assert first.read == len(first.index.modules) and first.cached == 0
    # same sources, fresh output folder: everything comes from the cache
    again = extract(ExtractOptions(root=tree, out=tmp_path / "y", cache_dir=cache))
    assert again.read == 0 and again.cached == len(first.index.modules)
    # warm re-run into the same folder: nothing read, nothing written
    warm = extract(ExtractOptions(root=tree, out=tmp_path / "x", cache_dir=cache))
    assert (warm.read, warm.cached, warm.written) == (0, 0, 0)
    assert warm.unchanged == len(first.index.modules)
    assert warm.index == first.index
    f = tree / "NN/Proofs/Autograd/Training/StepAlgebra.lean"
    f.write_text(f.read_text(encoding="utf-8").replace("def step", "def step2"), encoding="utf-8")
    changed = extract(ExtractOptions(root=tree, out=tmp_path / "x", cache_dir=cache))
    assert (changed.read, changed.written) == (1, 1)
    mod = read_module_export(tmp_path / "x/NN.Proofs.Autograd.Training.StepAlgebra.json")
    assert any(d.name.endswith("SGD.step2") for d in mod.declarations)


def test_removed_source_removes_its_export(tree: Path, tmp_path: Path) -> None:
    extract(ExtractOptions(root=tree, out=tmp_path / "x"))
    (tree / "NN/Examples/Basic.lean").unlink()
    (tmp_path / "x" / "notes.txt").write_text("user file")
    res = extract(ExtractOptions(root=tree, out=tmp_path / "x"))
    assert res.removed == 1 and not (tmp_path / "x/NN.Examples.Basic.json").exists()
    assert (tmp_path / "x" / "notes.txt").exists()  # files that are not ours are left alone


def test_outputs_stay_intact_when_a_run_fails(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "x"
    extract(ExtractOptions(root=tree, out=out))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    for f in tree.rglob("*.lean"):
        f.write_text(f.read_text(encoding="utf-8") + "\ndef extra : Nat := 0\n", encoding="utf-8")
    calls = {"n": 0}
    real = extract_mod._collect

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 5:
            raise MemoryError("simulated failure mid-run")
        return real(*args, **kwargs)

    monkeypatch.setattr(extract_mod, "_collect", failing)
    with pytest.raises(MemoryError):
        extract(ExtractOptions(root=tree, out=out))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_include_and_exclude_globs(tmp_path: Path) -> None:
    res = extract(ExtractOptions(root=TREE, out=tmp_path / "x", include=["NN/Proofs/*"], exclude=["*Soundness*"]))
    paths = [e.path for e in res.index.modules]
    assert paths and all(p.startswith("NN/Proofs/") and "Soundness" not in p for p in paths)


def test_adversarial_files_report_diagnostics_and_strict_fails(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run_cli(capsys, "extract", str(ADVERSARIAL), "--out", str(tmp_path / "a"), "--no-cache")
    assert code == 0
    lines = [x for x in err.splitlines() if x]
    assert any(x.startswith("unterminated_comment.lean:") and "unterminated comment" in x for x in lines)
    assert any(x.startswith("unterminated_string.lean:") and "unterminated string" in x for x in lines)
    assert any(x.startswith("not_utf8.lean:") and "not valid UTF-8" in x for x in lines)
    assert any(x.startswith("malformed.lean:") for x in lines)
    assert "Traceback" not in err
    code, _, err = run_cli(capsys, "extract", str(ADVERSARIAL), "--out", str(tmp_path / "b"), "--no-cache", "--strict")
    assert code == 1 and "--strict" in err
    code, _, _ = run_cli(capsys, "extract", str(TREE), "--out", str(tmp_path / "c"), "--no-cache", "--strict")
    assert code == 0


def test_not_utf8_file_is_still_read(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/Bad.lean").write_bytes(b"def ok : Nat := 1\n-- \xce\xb1 caf\xe9 \xff\ndef ok2 : Nat := 2\n")
    res = extract(ExtractOptions(root=tmp_path / "src", out=tmp_path / "x"))
    mod = read_module_export(tmp_path / "x/Bad.json")
    assert [d.name for d in mod.declarations] == ["ok", "ok2"]
    # the first bad byte, counted in characters (α before it is two bytes, one character)
    assert [(d.line, d.column) for d in res.diagnostics] == [(2, 9)]


def test_huge_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    body = "".join(f"/-- doc {i} -/\ntheorem t{i} (n : Nat) : n + {i} = {i} + n := by\n  omega\n\n" for i in range(20000))
    (tmp_path / "src/Huge.lean").write_text("namespace H\n" + body + "end H\n", encoding="utf-8")
    assert len(body) > 1_000_000
    res = extract(ExtractOptions(root=tmp_path / "src", out=tmp_path / "x"))
    assert res.index.modules[0].declarations == 20000 and res.diagnostics == []


def test_unreadable_and_missing_inputs_give_one_line_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run_cli(capsys, "extract", str(tmp_path / "nope"))
    assert code == 2 and err.count("\n") == 1 and "no such directory" in err
    code, _, err = run_cli(capsys, "extract", str(TREE), "--jobs", "0")
    assert code == 2 and "--jobs" in err
    with pytest.raises(SystemExit) as exc:
        main(["extract", str(TREE), "--bogus"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_schema_command_and_version_mismatch(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run_cli(capsys, "schema")
    schema = json.loads(out)
    assert code == 0 and "declarations" in schema["properties"] and "Declaration" in schema["$defs"]
    code, out, _ = run_cli(capsys, "schema", "--model", "index")
    assert "modules" in json.loads(out)["properties"]
    extract(ExtractOptions(root=TREE, out=tmp_path / "x"))
    p = tmp_path / "x/NN.Spec.Core.Shape.json"
    data = json.loads(p.read_text())
    data["schema_version"] = "0.9"
    p.write_text(json.dumps(data))
    with pytest.raises(ExportError) as exc:
        read_module_export(p)
    msg = str(exc.value)
    assert "'0.9'" in msg and f"'{SCHEMA_VERSION}'" in msg and "\n" not in msg
    # an older minor version (fewer fields, all with defaults) is read; a newer one is not
    major, minor = map(int, SCHEMA_VERSION.split("."))
    old = {k: v for k, v in data.items()}
    old["schema_version"] = "1.0"
    old["declarations"] = [{k: v for k, v in d.items() if not k.endswith("_at")} for d in data["declarations"]]
    p.write_text(json.dumps(old))
    assert read_module_export(p).declarations[0].type_at is None
    for newer in (f"{major}.{minor + 1}", f"{major + 1}.0", "1.x", None):
        data["schema_version"] = newer
        p.write_text(json.dumps(data))
        with pytest.raises(ExportError, match=r"export schema version"):
            read_module_export(p)
    p.write_text("{ not json")
    with pytest.raises(ExportError, match=r"Shape.json:1:3: corrupt export"):
        read_module_export(p)
    # another schema wins over the validation errors it causes
    p.write_text(json.dumps({"schema_version": "0.9", "declarations": "gone"}))
    with pytest.raises(ExportError, match=r"export schema version '0.9'"):
        read_module_export(p)
    data["schema_version"] = SCHEMA_VERSION
    data["declarations"][0]["name_line"] = "seven"
    p.write_text(json.dumps(data))
    with pytest.raises(ExportError, match=r"corrupt export at 'declarations\.0\.name_line': Input should be a valid integer"):
        read_module_export(p)
    p.write_text("[1, 2]")
    with pytest.raises(ExportError, match=r"top level is not an object"):
        read_module_export(p)
    p.write_bytes(b'{"schema_version": "\xff"}')
    with pytest.raises(ExportError, match=r"cannot read export: 'utf-8' codec"):
        read_module_export(p)


def test_console_script_runs() -> None:
    exe = shutil.which("torchlean-bridge")
    cmd = [exe] if exe else [sys.executable, "-m", "bridge.cli"]
    res = subprocess.run(cmd + ["--help"], capture_output=True, text=True, check=False)
    assert res.returncode == 0 and "extract" in res.stdout


def test_committed_exports_are_what_the_reader_produces(tmp_path: Path) -> None:
    """`lean_exports/` is committed; a reader change that alters any export must come with
    re-extracted exports (`torchlean-bridge extract tests/fixtures/torchlean`)."""
    committed = Path(__file__).parent.parent / "lean_exports"
    fresh = tmp_path / "x"
    extract(ExtractOptions(root=TREE, out=fresh))
    # every module export and the index (lock.json is `sync`'s, not the reader's)
    names = sorted(p.name for p in fresh.glob("*.json") if not p.name.startswith("."))
    extra = {p.name for p in committed.glob("NN*.json")} - set(names)
    assert not extra, f"committed exports of modules that no longer exist: {sorted(extra)}"

    def content(path: Path) -> object:
        data = json.loads(path.read_text(encoding="utf-8"))
        data.pop("root", None)  # the index names the root as the command was given it
        return data

    stale = [n for n in names if content(committed / n) != content(fresh / n)]
    assert not stale, f"stale committed exports: {stale}"
