"""End-to-end checks of torch optimizers against the generated references (generated/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from bridge.bindings import BindingError, load_bindings
from bridge.check import CheckOptions, GeneratedSpecs, check_binding
from bridge.check_cli import main
from bridge.expected import DEFAULT_EXPECTED as DEFAULT_EXPECTED_FILE
from bridge.expected import classify, load_expected
from bridge.runtimes.torch_optim import DeviceError, check_device, torch_factory

ROOT = Path(__file__).resolve().parents[1]
SPECS = GeneratedSpecs(ROOT / "generated")
B = {b.name: b for b in load_bindings()}
OPTS = CheckOptions(cases=1, large=256)
DOC = "https://lean-dojo.github.io/TorchLean/docs/NN/Proofs/Autograd/Training/StepAlgebra.html#Proofs.Autograd.Algebra.SGD.step"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("impl", ["for-loop", "foreach", "fused"])
def test_plain_torch_sgd_passes(dtype: str, impl: str) -> None:
    row = check_binding(SPECS, B["sgd-step"], impl, "cpu", dtype, "float", OPTS)
    assert row.verdict in ("exact", "rounding"), row.first


def test_momentum_float32_passes() -> None:
    assert check_binding(SPECS, B["momentum"], "for-loop", "cpu", "float32", "float", OPTS).verdict != "violation"


def test_lr_off_factory_is_a_violation_naming_spec_and_doc_url(capsys: pytest.CaptureFixture[str],
                                                                tmp_path: Path) -> None:
    rc = main(["--optimizer", "tests.plugin_optimizers:sgd_lr_off", "--dtype", "float32", "--report",
               str(tmp_path)], specs=SPECS)
    err = capsys.readouterr().err
    assert rc == 1
    assert "violation: Proofs.Autograd.Algebra.SGD.step" in err and DOC in err
    rep = json.loads((tmp_path / "report.json").read_text())
    assert rep["rows"][0]["doc_url"] == DOC and rep["rows"][0]["source_url"].startswith("https://github.com/")
    assert (tmp_path / "report.html").read_text().count(DOC) >= 1 and (tmp_path / "report.md").exists()


def test_plain_factory_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--optimizer", "tests.plugin_optimizers:plain_sgd", "--dtype", "float32",
                 "--dtype", "float64"], specs=SPECS) == 0


def test_expected_deviation_and_fixed(tmp_path: Path) -> None:
    f = tmp_path / "xfails.txt"
    f.write_text("# comment\nProofs.Autograd.Algebra.SGD.step  sgd-step/fused  cpu  float16 | fused half bug | "
                 "https://example.org/x#L3\nProofs.Autograd.Algebra.SGD.step  sgd-step/for-loop  cpu  float32 | "
                 "old bug | https://example.org/y\n")
    entries = load_expected(f)
    assert entries[0].link == "https://example.org/x#L3"
    bad = check_binding(SPECS, B["sgd-step"], "fused", "cpu", "float16", "float", CheckOptions(cases=2, large=256))
    good = check_binding(SPECS, B["sgd-step"], "for-loop", "cpu", "float32", "float", OPTS)
    classify([bad, good], entries)
    assert bad.verdict == "violation" and bad.status == "expected"  # torch 2.13 fused half SGD on CPU
    assert good.status == "fixed"


def test_bad_bindings_file_is_one_line(tmp_path: Path) -> None:
    f = tmp_path / "b.json"
    f.write_text('{"schema_version": 1, "bindings": [{"name": "x"}]}')
    with pytest.raises(BindingError, match="invalid bindings at"):
        load_bindings(f)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error")
def test_cuda_without_gpu_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(DeviceError):
        check_device("cuda")
    assert main(["--device", "cuda"], specs=SPECS) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_package_data_ships_bindings_and_expected() -> None:
    # pyproject package-data lists both; importlib.resources finds them as the installed package does
    from importlib.resources import files

    from bridge.expected import DEFAULT_EXPECTED

    res = files("bridge")
    assert json.loads(res.joinpath("bindings.json").read_text("utf-8"))["bindings"]
    assert "pytorch/issues/191763" in res.joinpath("expected_deviations.txt").read_text("utf-8")
    assert load_expected(DEFAULT_EXPECTED)
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert {"bindings.json", "expected_deviations.txt"} <= set(data["tool"]["setuptools"]["package-data"]["bridge"])


def test_fused_momentum_half_bug_and_bf16_adam_convention_are_reported() -> None:
    entries = load_expected(DEFAULT_EXPECTED_FILE)
    mom = check_binding(SPECS, B["momentum"], "fused", "cpu", "float16", "float", OPTS)
    adam = check_binding(SPECS, B["adam"], "for-loop", "cpu", "bfloat16", "float", OPTS)
    classify([mom, adam], entries)
    assert mom.verdict == "violation" and mom.status == "expected" and "191763" in mom.link
    # β2 = 0.999 is 1 in bfloat16: the α-faithful spec divides by zero; the row says so
    assert adam.convention == "hyper64" and "divides by zero" in adam.note, adam.note


def test_tensor_lr_has_the_parameter_dtype() -> None:
    # an α value: float64 lr for float64 params (a float32 lr made Adam's lr/bc1 a float32 number)
    from bridge.runtimes.torch_optim import make_case, run_case, runtime_options, torch_factory

    b = B["adam"]
    case = make_case(b, 0, 0, "cpu", "float64", 0.01, "tensor")
    recs = run_case(b, torch_factory(b, "fused"), case, runtime_options(b, "fused"))
    assert recs[0].hyper["lr"] == 0.01  # exactly the float64 value, not float32(0.01)


# ------------------------------------------------------------------ expected deviations per value class


def test_adam_lr_off_on_regular_values_is_unexpected_despite_the_underflow_entry() -> None:
    # the default run (edge values included): the row's underflow class has an expected entry, the
    # regular class does not, so a wrong lr is unexpected there
    from bridge.mutants import MUTANTS

    lr_off = next(m for m in MUTANTS if m.name == "lr-off-0.1%")
    row = check_binding(SPECS, B["adam"], "for-loop", "cpu", "float32", "float", OPTS,
                        factory=lr_off.wrap(torch_factory(B["adam"], "for-loop")))
    classify([row], load_expected(DEFAULT_EXPECTED_FILE))
    assert row.classes["regular"]["verdict"] == "violation", row.classes
    assert row.status == "unexpected" and "regular" in row.reason, (row.status, row.reason)


def test_mutated_adam_runtime_fails_the_default_cli_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = json.loads((ROOT / "bridge" / "bindings.json").read_text("utf-8"))
    adam = next(b for b in spec["bindings"] if b["name"] == "adam")
    adam["runtime"] = "tests.plugin_optimizers.AdamLrOff"
    adam["implementations"] = {"for-loop": adam["implementations"]["for-loop"]}
    f = tmp_path / "bindings.json"
    f.write_text(json.dumps({**spec, "bindings": [adam]}), encoding="utf-8")
    rc = main(["--bindings", str(f), "--dtype", "float32", "--cases", "1", "--report", str(tmp_path / "r")], specs=SPECS)
    out, err = capsys.readouterr()
    assert rc == 1 and "violation in regular" in err, err
    assert "unexpected  regular=violation" in out, out
    rep = json.loads((tmp_path / "r" / "report.json").read_text())
    assert rep["rows"][0]["classes"]["regular"]["verdict"] == "violation"
    assert "regular=violation" in (tmp_path / "r" / "report.md").read_text()
    assert "regular=violation" in (tmp_path / "r" / "report.html").read_text()


@pytest.mark.parametrize("impl,dtype", [("for-loop", "float32"), ("fused", "float64"), ("for-loop", "float16")])
def test_adam_deviations_are_confined_to_the_underflow_class(impl: str, dtype: str) -> None:
    row = check_binding(SPECS, B["adam"], impl, "cpu", dtype, "float", OPTS)
    classify([row], load_expected(DEFAULT_EXPECTED_FILE))
    assert row.status == "expected" and row.classes["underflow"]["verdict"] == "violation", row.classes
    assert {row.classes[k]["verdict"] for k in ("regular", "edge")} <= {"exact", "rounding"}, row.classes
    # float16 for-loop: |g| ~ 1e-3 is a normal float16 number; (1-β2)·g² underflows, ε rounds to 0
    first = row.classes["underflow"]["first"]
    assert first["class"] == "underflow" and (dtype != "float16" or abs(first["inputs"]["g"]) >= 2.0**-14)


def test_class_entries_fixed_and_partially_fixed(tmp_path: Path) -> None:
    f = tmp_path / "xfails.txt"
    f.write_text("Optim.Adam.update  adam/for-loop  cpu  float32  underflow | subnormal order | https://x/a\n"
                 "Optim.Adam.update  adam/for-loop  cpu  float32  edge | gone | https://x/b\n"
                 "Optim.Adam.update  adam/fused  cpu  float16  underflow,edge | gone too | https://x/c\n")
    entries = load_expected(f)
    assert [e.value_class for e in entries] == ["underflow", "edge", "underflow,edge"]
    bad = check_binding(SPECS, B["adam"], "for-loop", "cpu", "float32", "float", OPTS)
    good = check_binding(SPECS, B["adam"], "fused", "cpu", "float16", "float", OPTS)
    classify([bad, good], entries)
    assert bad.status == "expected" and bad.reason == "subnormal order" and bad.fixed_entries == ["line 2 [edge]"]
    assert good.status == "fixed" and good.link == "https://x/c"


def test_a_class_entry_does_not_cover_a_row_judged_whole(tmp_path: Path) -> None:
    f = tmp_path / "xfails.txt"
    f.write_text("Proofs.Autograd.Algebra.SGD.step  sgd-step/fused  cpu  float16  nonsense | r | l\n")
    with pytest.raises(Exception, match="unknown value class 'nonsense'"):
        load_expected(f)
    f.write_text("Proofs.Autograd.Algebra.SGD.step  sgd-step/fused  cpu  float16  edge | r | l\n")
    row = check_binding(SPECS, B["sgd-step"], "fused", "cpu", "float16", "float", OPTS)
    classify([row], load_expected(f))
    assert row.status == "unexpected" and "regular" in row.reason  # the fused bug is on regular values too
