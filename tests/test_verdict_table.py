"""tools/verdict_table.py: the README's verdict table from a check report."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("verdict_table", ROOT / "tools" / "verdict_table.py")
assert _spec and _spec.loader
vt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vt)


def _row(binding: str, impl: str, dtype: str, verdict: str, status: str = "ok", device: str = "cuda",
         lr: str = "float", mutant: str = "") -> dict:
    return {"binding": binding, "implementation": impl, "device": device, "dtype": dtype, "lr_kind": lr,
            "verdict": verdict, "status": status, "mutant": mutant}


def test_worst_verdict_over_lr_kinds_with_marks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [_row("adam", "fused", "float32", "rounding"),
            _row("adam", "fused", "float32", "violation", "expected", lr="tensor"),
            _row("adam", "fused", "float16", "violation", "unexpected"),
            _row("adam", "foreach", "float32", "error", "unsupported", lr="tensor"),
            _row("adam", "foreach", "float32", "exact"),
            _row("adam", "fused", "float64", "exact", device="cpu"),
            _row("adam", "fused", "float32", "violation", "caught", mutant="sign-flipped"),
            _row("adam", "fused", "float32", "rounding", "MISSED", mutant="lr-off")]
    f = tmp_path / "report.json"
    f.write_text(json.dumps({"rows": rows}))
    assert vt.main([str(f), "--device", "cuda"]) == 0
    out = capsys.readouterr().out
    assert "| binding | implementation | float32 | float16 |" in out  # float64 ran on the cpu only
    assert "| adam | fused | violation* | violation! |" in out
    assert "| adam | foreach | exact | - |" in out  # the unsupported tensor-lr row is left out
    assert "mutants on cuda: 1 of 2 caught" in out


def test_unreadable_report_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert vt.main([str(tmp_path / "missing.json")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
