"""tools/verdict_table.py and tools/real_files.py: the README figures from a check report and from real files."""

from __future__ import annotations

import importlib.util
import json
import re
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


def test_real_files_report_on_our_fixture_tree(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # tools/real_files.py gives the README's real-file figures; on our own fixtures it must say
    # zero diagnostics and the shares of resolved identifiers
    spec = importlib.util.spec_from_file_location("real_files", ROOT / "tools" / "real_files.py")
    assert spec and spec.loader
    rf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rf)
    assert rf.main([str(ROOT / "tests" / "fixtures" / "torchlean"), "--show", "3"]) == 0
    out = capsys.readouterr().out
    assert "diagnostics 0" in out and "identifiers: local" in out and "unresolved" not in out.split("identifiers:")[1].split("\n")[0]
    assert "where written, 0 not" in out
    assert rf.main([str(tmp_path)]) == 2  # no .lean files: one line, exit 2
    assert capsys.readouterr().err.count("\n") == 1
    # --generate: generated, timed, every reference imported, the generated tests run
    src = tmp_path / "src" / "Small"
    src.mkdir(parents=True)
    (src / "Basic.lean").write_text("namespace Small\n\ndef d (x : Nat) : Nat := x + 3\n\n"
                                    "theorem d_pos (x : Nat) : d x = x + 3 := rfl\n\nend Small\n", encoding="utf-8")
    assert rf.main([str(tmp_path / "src"), "--generate", str(tmp_path / "gen")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"generate \(\d+\.\d s, the process included\): \d+ files written", out), out
    assert "reference modules 1, failing to import 0" in out and "generated tests: 1 passed" in out, out


def test_bench_floor_on_our_fixture_tree(capsys: pytest.CaptureFixture[str]) -> None:
    # tools/bench_floor.py gives the README's floor under the extraction target; on a folder it
    # must time every step over that folder's declarations and add them up
    spec = importlib.util.spec_from_file_location("bench_floor", ROOT / "tools" / "bench_floor.py")
    assert spec and spec.loader
    bf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bf)
    fixtures = ROOT / "tests" / "fixtures" / "torchlean"
    bf.main(["--root", str(fixtures), "--repeat", "1", "--jobs", "1"])
    out = capsys.readouterr().out
    index = json.loads((ROOT / "lean_exports" / "index.json").read_text("utf-8"))
    n_decls = sum(m["declarations"] for m in index["modules"])
    assert f"{len(list(fixtures.rglob('*.lean')))} files" in out and f"{n_decls} declarations" in out
    steps = {line.split("|")[1].strip(): float(line.split("|")[2]) for line in out.splitlines()
             if line.startswith("| ") and "not counted" not in line and "core-seconds" not in line}
    assert set(steps) == {"read", "scan", "headers", "records", "hashes", "json", "write"}
    floor = float(out.split("floor: ")[1].split(" core-s")[0])
    assert abs(floor - sum(steps.values())) <= 0.01 * len(steps)


def test_synthetic_corpus_groups_declare_their_own_names(tmp_path: Path) -> None:
    # tools/synthetic_corpus.py --groups: every group holds all the fixtures, its TorchLean-API
    # namespaces renamed, so the corpus has that many times the distinct declarations and every
    # reference still resolves within its group; without groups the corpus is what it was
    from bridge.exports import load_exports
    from bridge.extract import ExtractOptions, extract
    from bridge.resolve import Corpus

    spec = importlib.util.spec_from_file_location("synthetic_corpus", ROOT / "tools" / "synthetic_corpus.py")
    assert spec and spec.loader
    sc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sc)
    names: dict[int, set[str]] = {}
    for groups in (0, 3):
        sc.build(tmp_path / f"c{groups}", files=6, target_mb=0.5, groups=groups)
        extract(ExtractOptions(root=tmp_path / f"c{groups}", out=tmp_path / f"x{groups}", cache_dir=None))
        _, modules = load_exports(tmp_path / f"x{groups}")
        assert not [d for m in modules for d in m.diagnostics]
        names[groups] = {d.name for m in modules for d in m.declarations if not d.anonymous}
        c = Corpus.load(tmp_path / f"x{groups}")
        assert not [u for n in c.decls for u in c.uses_of(n) if u.status == "unresolved"]
    api = {n for n in names[0] if n.split(".")[0] in ("Spec", "Proofs", "Optim")}
    assert len(api) > 100 and "Proofs.Autograd.Algebra.SGD.step" in api
    assert names[3] == (names[0] - api) | {n.replace(n.split(".")[0], f"{n.split('.')[0]}_g{g}", 1)
                                           for n in api for g in range(3)}
    a = (tmp_path / "c3" / "NN" / "Group00" / "File0000.lean").read_text("utf-8")
    b = (tmp_path / "c3" / "NN" / "Group01" / "File0001.lean").read_text("utf-8")
    assert "namespace Spec_g0" in a and "Spec_g1" not in a and "namespace Spec_g1" in b


def test_tree_hashes_tell_moved_positions_from_other_trees(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # tools/tree_hashes.py backs the README's "the same trees" for each speed change
    spec = importlib.util.spec_from_file_location("tree_hashes", ROOT / "tools" / "tree_hashes.py")
    assert spec and spec.loader
    th = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(th)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert th.main([str(ROOT / "lean_exports"), str(a)]) == 0
    assert th.main([str(ROOT / "lean_exports"), str(b)]) == 0
    capsys.readouterr()
    assert th.main(["--compare", str(a), str(b)]) == 0
    assert ": 0 with other trees, 0 with other positions only" in capsys.readouterr().out
    hashes = json.loads(b.read_text())
    names = sorted(hashes)
    hashes[names[0]][0] = "moved"  # with positions only
    hashes[names[1]][3] = "other"  # members, without positions
    b.write_text(json.dumps(hashes))
    assert th.main(["--compare", str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert "1 with other trees, 1 with other positions only" in out and names[0] in out and names[1] in out
