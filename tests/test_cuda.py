"""The CUDA side of `check` (skipped without a GPU; CI has none). On a GPU machine run them with
`tools/cuda_suite.sh`, which also writes the verdict table recorded in the README."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from bridge.bindings import load_bindings
from bridge.check import CheckOptions, GeneratedSpecs, check_binding
from bridge.check_cli import main
from bridge.mutants import MUTANTS, applicable
from bridge.runtimes.torch_autograd import AUTOGRAD_MUTANTS, MODELS, check_model
from bridge.runtimes.torch_optim import make_case, torch_factory

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

ROOT = Path(__file__).resolve().parents[1]
SPECS = GeneratedSpecs(ROOT / "generated")
B = {b.name: b for b in load_bindings()}
OPTS = CheckOptions(cases=1, large=256)


def test_cases_live_on_the_gpu() -> None:
    # a CUDA row must run the CUDA kernels, not silently fall back to the CPU
    case = make_case(B["sgd-step"], 0, 0, "cuda", "float32", OPTS.lr, "tensor", 256, True)
    tensors = case.params + [g for step in case.grads for g in step]
    assert tensors and all(t.is_cuda for t in tensors)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("impl", ["for-loop", "foreach", "fused"])
def test_cuda_sgd_conforms(impl: str, dtype: str) -> None:
    row = check_binding(SPECS, B["sgd-step"], impl, "cuda", dtype, "float", OPTS)
    assert row.verdict in ("exact", "rounding"), row.first


@pytest.mark.parametrize("binding", ["sgd-step", "momentum", "adam"])
def test_cuda_mutants_caught(binding: str) -> None:
    b = B[binding]
    impl = "fused" if "fused" in b.implementations else next(iter(b.implementations))
    opts = CheckOptions(cases=1, large=64, edge=False)
    assert check_binding(SPECS, b, impl, "cuda", "float32", "float", opts).verdict != "violation"
    missed = []
    for m in MUTANTS:
        if applicable(m, b):
            row = check_binding(SPECS, b, impl, "cuda", "float32", "float", opts,
                                factory=m.wrap(torch_factory(b, impl)), mutant=m.name)
            if row.verdict != "violation":
                missed.append((m.name, row.verdict))
    assert not missed


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_cuda_models_conform(name: str, dtype: str) -> None:
    row = check_model(MODELS[name], "cuda", dtype, name=name)
    assert row.verdict in ("exact", "rounding"), (row.error, row.first)


@pytest.mark.parametrize("mutant,target,factory", AUTOGRAD_MUTANTS, ids=[m for m, _, _ in AUTOGRAD_MUTANTS])
def test_cuda_autograd_mutants_caught(mutant: str, target: str, factory: object) -> None:
    assert check_model(factory, "cuda", "float32", name=target, mutant=mutant).verdict == "violation"  # type: ignore[arg-type]


def test_cuda_check_run_has_nothing_unexpected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the README's main job on the GPU: every binding, implementation and dtype, the mutants too
    rc = main(["--device", "cuda", "--mutants", "--cases", "1", "--report", str(tmp_path)], specs=SPECS)
    out = capsys.readouterr()
    assert rc == 0, out.err
    rows = json.loads((tmp_path / "report.json").read_text())["rows"]
    # the generated-reference graph row runs on the CPU by design (bridge.runtimes.torch_autograd)
    assert {r["device"] for r in rows if r["binding"] != "autograd/graph-reference"} == {"cuda"}
    assert len({r["dtype"] for r in rows}) == 4
    assert any(r["mutant"] for r in rows)
