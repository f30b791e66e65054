"""The console script as a user runs it: from the repository root, a plug-in module of their own."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("torchlean-bridge") is None, reason="console script not installed")
def test_optimizer_plugin_from_the_working_directory_is_a_named_violation(tmp_path: Path) -> None:
    proc = subprocess.run(
        ["torchlean-bridge", "check", "--optimizer", "tests.plugin_optimizers:sgd_lr_off",
         "--dtype", "float32", "--report", str(tmp_path / "r")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "violation: Proofs.Autograd.Algebra.SGD.step (https://lean-dojo.github.io/TorchLean/docs/" in proc.stdout + proc.stderr
    assert (tmp_path / "r" / "report.html").is_file()


def test_unknown_binding_is_a_usage_error_listing_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    from bridge.cli import main

    assert main(["check", "--binding", "sgd-stpe"]) == 2
    err = capsys.readouterr().err
    assert "unknown binding 'sgd-stpe'" in err and "sgd-step" in err and err.count("\n") == 1


def test_unknown_name_suggests_close_declarations(capsys: pytest.CaptureFixture[str]) -> None:
    from bridge.cli import main

    assert main(["show", "SGD.stp", "--exports", str(ROOT / "lean_exports")]) == 1
    err = capsys.readouterr().err
    assert "did you mean" in err and "Proofs.Autograd.Algebra.SGD.step" in err
