"""`torchlean-bridge show` / `deps` on the committed exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.cli import main

EXPORTS = str(Path(__file__).resolve().parent.parent / "lean_exports")
ALG = "Proofs.Autograd.Algebra"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv) + ["--exports", EXPORTS])
    out, err = capsys.readouterr()
    return rc, out, err


def test_deps_sgd_step(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "deps", f"{ALG}.SGD.step", "--format", "json")
    assert rc == 0
    g = json.loads(out)
    for n in [f"{ALG}.TList.sub", f"{ALG}.TList.scale", "Spec.Tensor.subSpec", "Spec.Tensor.scaleSpec",
              "Spec.Tensor.map2Spec", "Spec.Tensor.mapSpec"]:
        assert n in g["corpus"], n
    assert g["unresolved"] == []


def test_deps_seed_scalar_loss(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "deps", f"{ALG}.Graph.seedScalarLoss", "--format", "json")
    assert rc == 0
    g = json.loads(out)
    for n in [f"{ALG}.TList.zero", f"{ALG}.TList.snoc", f"{ALG}.TList.cast", "Spec.Tensor.scalar"]:
        assert n in g["corpus"], n
    assert "List.append_assoc" in g["external"]
    assert "List.append_assoc" not in g["corpus"]


def test_deps_depth_and_formats(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "deps", "SGD.step", "--depth", "1", "--format", "json")
    g = json.loads(out)
    assert rc == 0 and "Spec.Tensor.mapSpec" not in g["corpus"] and f"{ALG}.TList.sub" in g["corpus"]
    rc, out, _ = run(capsys, "deps", "SGD.step", "--format", "dot")
    assert rc == 0 and out.startswith("digraph") and f'"{ALG}.SGD.step" -> "{ALG}.TList.sub"' in out
    rc, out, _ = run(capsys, "deps", "SGD.step")
    assert rc == 0 and "Spec.Tensor.subSpec" in out and "external" in out


def test_show(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "show", "SGD.step")
    assert rc == 0
    assert out.startswith(f"def {ALG}.SGD.step")
    assert "(params grads : TList α Γ)" in out and "statement: TList α Γ" in out
    assert "StepAlgebra.html#Proofs.Autograd.Algebra.SGD.step" in out
    assert "StepAlgebra.lean#L" in out and "Gradient descent" in out
    assert f"    {ALG}.TList.sub" in out


@pytest.mark.parametrize("name, word", [("update", "ambiguous"), ("nope_nothing", "no declaration")])
def test_bad_names(capsys: pytest.CaptureFixture[str], name: str, word: str) -> None:
    for cmd in ("show", "deps"):
        rc, out, err = run(capsys, cmd, name)
        assert rc != 0 and out == ""
        assert word in err and len(err.strip().splitlines()) == 1
    _, _, err = run(capsys, "show", "update")
    assert "Optim.Adam.update" in err


def test_bad_exports_dir(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rc = main(["deps", "SGD.step", "--exports", str(tmp_path / "none")])
    _, err = capsys.readouterr()
    assert rc != 0 and len(err.strip().splitlines()) == 1


def test_exports_of_schema_1_0_still_show_with_a_note(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # schema 1.0 had no spans: still read, targets the same, and one note says why positions
    # are approximate; the current schema gets no note
    old = tmp_path / "old"
    old.mkdir()
    for p in Path(EXPORTS).glob("*.json"):
        data = json.loads(p.read_text("utf-8"))
        if "schema_version" in data:
            data["schema_version"] = "1.0"
        for d in data.get("declarations", []):
            for k in [k for k in d if k.endswith("_at")]:
                del d[k]
            for b in d["binders"] + [b for x in d["fields"] + d["constructors"] for b in x.get("binders", [])]:
                b.pop("type_at", None), b.pop("default_at", None)
            for x in d["fields"] + d["constructors"]:
                x.pop("type_at", None), x.pop("default_at", None)
        (old / p.name).write_text(json.dumps(data), "utf-8")
    rc, new_out, err = run(capsys, "deps", f"{ALG}.SGD.step")
    assert rc == 0 and "note:" not in err
    rc = main(["deps", f"{ALG}.SGD.step", "--exports", str(old)])
    out, err = capsys.readouterr()
    assert rc == 0 and out == new_out
    assert err.count("\n") == 1 and "schema 1.0 carry no source spans" in err and "re-run" in err
    rc = main(["generate", "--exports", str(old), "--out", str(tmp_path / "gen")])
    assert rc == 0 and "schema 1.0 carry no source spans" in capsys.readouterr().err
