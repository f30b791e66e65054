"""`sync`: one command to follow TorchLean; `sync --check` as a CI gate; lock file; impacts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.sync import LockFile
from tests.support.fixture_v2 import V1, apply_v2

REPO = Path(__file__).resolve().parent.parent
ROOT = "tests/fixtures/torchlean"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _snapshot(*dirs: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for d in dirs if d.is_dir() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """A tmp copy of the repository layout (committed exports, fixture tree), synced once."""
    shutil.copytree(REPO / "lean_exports", tmp_path / "lean_exports")
    shutil.copytree(V1, tmp_path / ROOT)
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "sync", ROOT, "--cache-dir", str(tmp_path / "cache"))
    assert code == 0, err
    return tmp_path


def test_repository_as_committed_is_in_sync(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    before = _snapshot(REPO / "lean_exports", REPO / "generated")
    code, out, err = run_cli(capsys, "sync", ROOT, "--check", "--no-cache")
    assert code == 0, out + err
    assert "up to date" in out
    assert _snapshot(REPO / "lean_exports", REPO / "generated") == before


def test_check_fails_after_one_line_changes_and_writes_nothing(
    layout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "sync", ROOT, "--check", "--no-cache")
    assert code == 0 and "up to date" in out
    lock = LockFile.model_validate_json((layout / "lean_exports/lock.json").read_text(encoding="utf-8"))
    assert (lock.source_root, lock.lean_toolchain, lock.git_commit) == (ROOT, "leanprover/lean4:v4.29.0", None)

    step = layout / ROOT / "NN/Proofs/Autograd/Training/StepAlgebra.lean"
    step.write_text(step.read_text(encoding="utf-8").replace(
        "TList.sub params (TList.scale lr grads)", "TList.add params (TList.scale (-lr) grads)"), encoding="utf-8")
    before = _snapshot(layout / "lean_exports", layout / "generated")
    code, out, _ = run_cli(capsys, "sync", ROOT, "--check", "--no-cache")
    assert code == 1
    assert "body changed" in out and "Proofs.Autograd.Algebra.SGD.step" in out
    assert "`SGD.step` body changed: torch.optim.SGD bindings must be re-checked (sgd-step)" in out
    assert "stale: lean_exports/NN.Proofs.Autograd.Training.StepAlgebra.json" in out
    assert _snapshot(layout / "lean_exports", layout / "generated") == before


def test_sync_to_v2_regenerates_and_reports(layout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gen = layout / "generated"
    old_tests = {p.name: p.read_text(encoding="utf-8") for p in gen.glob("test_*.py")}
    assert "test_Spec__fill_scalar" in old_tests["test_NN__Spec__Core__Tensor.py"]
    apply_v2(layout / ROOT)
    code, out, err = run_cli(capsys, "sync", ROOT, "--no-cache")
    assert code == 0, err
    # the report: what changed and what it touches
    assert "renamed" in out and "Spec.Tensor.full" in out and "from Spec.fill" in out
    assert "`SGD.update` statement changed: torch.optim.SGD bindings must be re-checked (sgd-update)" in out
    assert ("`SGD.update_eq` statement changed: generated test "
            "generated/test_NN__Runtime__Optim__Optimizers.py::test_Optim__SGD__update_eq was stale: regenerated") in out
    assert "test_Spec__Shape__rank_eq_length_dims was stale: removed" in out
    assert "test_Spec__fill_scalar was stale: replaced by the test of `Spec.Tensor.full_scalar`" in out
    # no stale generated test survives: the statement-changed theorem's test states the new statement
    tensor = (gen / "test_NN__Spec__Core__Tensor.py").read_text(encoding="utf-8")
    assert "test_Spec__fill_scalar" not in tensor and "Spec.Tensor.full_scalar" in tensor
    assert "rank_eq_length_dims" not in (gen / "test_NN__Spec__Core__Shape.py").read_text(encoding="utf-8")
    optim = (gen / "test_NN__Runtime__Optim__Optimizers.py").read_text(encoding="utf-8")
    assert optim != old_tests["test_NN__Runtime__Optim__Optimizers.py"]
    lock = LockFile.model_validate_json((layout / "lean_exports/lock.json").read_text(encoding="utf-8"))
    assert lock.lean_toolchain == "leanprover/lean4:v4.34.0"
    assert (layout / "lean_exports/NN.Spec.Core.Init.json").is_file()
    code, out, _ = run_cli(capsys, "sync", ROOT, "--check", "--no-cache")
    assert code == 0 and "no declaration changes" in out


def test_sync_bad_root_is_one_line(layout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(layout / "lean_exports")
    for root in ("no/such/dir", "lean_exports"):
        code, _, err = run_cli(capsys, "sync", root, "--check", "--no-cache")
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert _snapshot(layout / "lean_exports") == before
