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
from bridge.runtimes.torch_optim import DeviceError, check_device

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


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("impl", ["for-loop", "foreach", "fused"])
def test_cuda_sgd(impl: str) -> None:
    assert check_binding(SPECS, B["sgd-step"], impl, "cuda", "float32", "float", OPTS).verdict != "violation"


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
