"""scalarLoss_grad_correct on torch (forward mode vs reverse mode), its mutants, --model, the
runtimes entry-point group and the pytest plugin."""

from __future__ import annotations

import json
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
import torch

from bridge import runtimes
from bridge.check import GeneratedSpecs
from bridge.check_cli import main
from bridge.runtimes.torch_autograd import (
    AUTOGRAD_MUTANTS,
    MODELS,
    SPEC,
    _depth,
    _direction,
    _HalfGradLinear,
    _ScalarOverloads,
    check_model,
    graph_reference_row,
    measure,
)

ROOT = Path(__file__).resolve().parents[1]
GEN = ROOT / "generated"
pytest_plugins = ["pytester"]
DOC = ("https://lean-dojo.github.io/TorchLean/docs/NN/Proofs/Autograd/Training/StepAlgebra.html"
       "#Proofs.Autograd.Algebra.Graph.scalarLoss_grad_correct")


@pytest.mark.parametrize("dtype", ["float64", "float32", "bfloat16"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_pass(name: str, dtype: str) -> None:
    row = check_model(MODELS[name], "cpu", dtype, name=name)
    assert row.verdict in ("exact", "rounding"), (row.error, row.first)
    assert row.spec == SPEC and row.binding == name


@pytest.mark.parametrize("name", sorted(MODELS))
def test_bound_is_not_vacuous_in_float32(name: str) -> None:
    model, inputs, loss_fn = MODELS[name]()
    m = measure(model, inputs, loss_fn, "float32")
    assert m.bound < 1e-2 * m.dx_norm * m.g_norm  # a 1 % error in the gradient is beyond it
    assert m.depth >= 3 and m.k >= 8


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_one_pass_matches_plain_backward(name: str, dtype: str) -> None:
    # measure takes reverse mode from its dual (forward-AD) forward: the gradients must be bitwise
    # those of a plain forward+backward, the depth that of the plain graph, and the model's own
    # parameters back in place afterwards
    model, inputs, loss_fn = MODELS[name]()
    dt = getattr(torch, dtype)
    model = model.to(dt)
    xs = tuple(x.to(dt) if x.is_floating_point() else x for x in inputs)
    loss = loss_fn(model(*xs))
    depth = _depth(loss)
    loss.backward()
    ref = {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}
    params = dict(model.named_parameters())
    m = measure(model, xs, loss_fn, dtype)
    assert m.depth == depth
    assert dict(model.named_parameters()) == params
    assert all(isinstance(p, torch.nn.Parameter) for p in model.parameters())
    for k, p in model.named_parameters():
        assert p.grad is not None and torch.equal(p.grad, ref[k]), k


class _Scalars(torch.nn.Module):
    """Every `tensor ∘ number` form that _ScalarOverloads rewrites, plus ones it must leave alone."""

    def __init__(self, broken: bool = False) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(6, 6)
        self.broken = broken

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = _HalfGradLinear.apply(x, self.lin.weight, self.lin.bias) if self.broken else self.lin(x)
        h = (h * 0.5 + 0.25 * h) / 3 + 1
        h = 2 - torch.tanh(h - 0.125)
        h = torch.mul(h, 1.5) + torch.div(h, 7) + torch.add(h, 3, alpha=2) + torch.sub(h, 1)
        h = h.mul(2).div(3).add(0.5).sub(0.25) + torch.true_divide(h, 3)
        idx = torch.arange(6) * 2  # an integer tensor: left to the default overload
        return h[:, idx // 2] + 1 / (h * h + 1)


def _scalars_factory(broken: bool = False) -> Any:
    torch.manual_seed(11)
    x, y = torch.randn(4, 6), torch.randn(4, 6)
    return _Scalars(broken), (x,), lambda out: torch.nn.functional.mse_loss(out, y.to(out))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scalar_overloads_change_no_value(dtype: str) -> None:
    # the dual forward sends `tensor ∘ number` to the .Scalar overloads (no lazy zero tangents):
    # the loss, its tangent and every gradient must be bitwise those without the rewriting
    import torch.autograd.forward_ad as fwAD

    dt = getattr(torch, dtype)
    model, (x,), loss_fn = _scalars_factory()
    model = model.to(dt)
    x = x.to(dt)
    tangent = {k: torch.randn(p.shape, dtype=dt) for k, p in model.named_parameters()}

    def run(rewrite: bool) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor], list[str]]:
        model.zero_grad(set_to_none=True)
        with fwAD.dual_level():
            params = {k: fwAD.make_dual(p, tangent[k]) for k, p in model.named_parameters()}
            with torch.nn.utils.stateless._reparametrize_module(model, params):
                if rewrite:
                    with _ScalarOverloads():
                        out = model(x)
                        probe = params["lin.weight"] * 0.5
                else:
                    out = model(x)
                    probe = params["lin.weight"] * 0.5
            loss, t = fwAD.unpack_dual(loss_fn(out))
            t = t.clone()
        loss.backward()
        return loss.detach(), t, {k: p.grad.clone() for k, p in model.named_parameters()}, [probe.grad_fn.name()]

    l0, t0, g0, f0 = run(False)
    l1, t1, g1, f1 = run(True)
    assert torch.equal(l0, l1) and torch.equal(t0, t1)
    assert all(torch.equal(g0[k], g1[k]) for k in g0)
    assert f0 == ["MulBackward0"] and f1 == ["MulBackward1"]  # the rewriting did happen


def test_scalar_model_checks_and_its_broken_backward_is_caught() -> None:
    row = check_model(_scalars_factory, "cpu", "float32", name="autograd/scalars", cases=2)
    assert row.verdict in ("exact", "rounding"), (row.error, row.first)
    bad = check_model(lambda: _scalars_factory(broken=True), "cpu", "float32", name="autograd/scalars", cases=2)
    assert bad.verdict == "violation", (bad.error, bad.first)


@pytest.mark.parametrize("dtype", ["float64", "float32", "bfloat16"])
def test_direction_shapes_layout_and_scale(dtype: str) -> None:
    dt = getattr(torch, dtype)
    params = {"w": torch.empty(300, 200, dtype=dt), "conv": torch.empty(64, 3, 7, 7, dtype=dt),
              "b": torch.empty(300, dtype=dt), "thin": torch.empty(4, 500, dtype=dt), "s": torch.empty((), dtype=dt)}
    dx = _direction(params, dt, "cpu", 3)
    for k, p in params.items():
        assert dx[k].shape == p.shape and dx[k].dtype == dt and dx[k].is_contiguous(), k
        assert dx[k].untyped_storage().nbytes() == p.numel() * p.element_size(), k  # own storage: make_dual keeps it
    big = torch.cat([dx["w"].reshape(-1), dx["conv"].reshape(-1)]).double()
    assert abs(float(big.var()) - 1.0) < 0.25 and abs(float(big.mean())) < 0.1
    assert torch.equal(_direction(params, dt, "cpu", 3)["w"], dx["w"])  # seeded
    assert not torch.equal(_direction(params, dt, "cpu", 4)["w"], dx["w"])


def test_training_mode_dropout_and_batchnorm() -> None:
    # one pass: both modes see the same dropout mask (two passes compared two different functions),
    # and BatchNorm's in-place running-statistics update is no obstacle (torch.func.jvp refused it)
    def factory() -> Any:
        torch.manual_seed(3)
        nn = torch.nn
        model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Dropout(0.5), nn.Linear(16, 4), nn.BatchNorm1d(4))
        x, y = torch.randn(6, 8), torch.randn(6, 4)
        return model.train(), (x,), lambda out: nn.functional.mse_loss(out, y.to(out))
    row = check_model(factory, "cpu", "float32", name="autograd/train-mode", cases=3)
    assert row.verdict in ("exact", "rounding"), (row.error, row.first)


def test_parameters_restored_when_the_model_raises() -> None:
    model, inputs, _ = MODELS["autograd/mlp-mse"]()
    params = dict(model.named_parameters())

    def bad_loss(out: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        measure(model, inputs, bad_loss, "float32")
    assert dict(model.named_parameters()) == params


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mutant,target,factory", AUTOGRAD_MUTANTS, ids=[m[0] for m in AUTOGRAD_MUTANTS])
def test_autograd_mutants_caught(mutant: str, target: str, factory: Any, dtype: str) -> None:
    row = check_model(factory, "cpu", dtype, name=target, mutant=mutant)
    assert row.verdict == "violation", row


def test_half_gradient_mutant_has_correct_forward() -> None:
    # the mutant differs from the model only in reverse mode: same loss, same jvp
    good, bad = MODELS["autograd/mlp-mse"](), AUTOGRAD_MUTANTS[0][2]()
    mg, mb = measure(*good, "float64"), measure(*bad, "float64")
    assert mg.jvp == pytest.approx(mb.jvp, rel=1e-12) and abs(mb.rev - mg.rev) > 1e-3 * abs(mg.rev)


def test_cli_mutants_are_caught(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["--binding", "autograd/mlp-mse", "--binding", "autograd/shared-param", "--dtype", "float32",
               "--mutants"], specs=GeneratedSpecs(GEN))
    out = capsys.readouterr().out
    assert rc == 0, out
    assert out.count("caught") == 4 and "MISSED" not in out


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_graph_reference_row(dtype: str) -> None:
    row = graph_reference_row(GeneratedSpecs(GEN), dtype)
    assert row.verdict in ("exact", "rounding"), (row.error, row.first)


class _BrokenBackprop:
    """The generated references, with backpropCtx halved: the theorem's two sides then differ."""

    def __init__(self) -> None:
        self.inner = GeneratedSpecs(GEN)

    def reference(self, name: str, domain: Any) -> Any:
        f = self.inner.reference(name, domain)
        if name.endswith("backpropCtx"):
            return lambda *a, **k: [x / 2 for x in f(*a, **k)]
        return f

    def structure(self, name: str, domain: Any) -> Any:
        return self.inner.structure(name, domain)


def test_graph_reference_row_catches_a_broken_reference() -> None:
    row = graph_reference_row(_BrokenBackprop(), "float64")
    assert row.verdict == "violation" and "breaks the theorem" in row.first["note"]


def test_graph_reference_unavailable_is_said(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # an empty generated folder: no Graph reference to load
    rc = main(["--binding", "autograd/graph-reference", "--dtype", "float32"], specs=GeneratedSpecs(tmp_path))
    out = capsys.readouterr().out
    assert rc == 0 and "unavailable" in out


def test_model_option_passes_and_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--model", "tests.plugin_models:good", "--dtype", "float32", "--dtype", "float64"]) == 0
    capsys.readouterr()
    rc = main(["--model", "tests.plugin_models:half_gradient", "--dtype", "float32", "--report", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 1 and f"violation: {SPEC} ({DOC})" in err
    rep = json.loads((tmp_path / "report.json").read_text())
    assert rep["rows"][0]["doc_url"] == DOC and rep["rows"][0]["binding"] == "autograd/tests.plugin_models:half_gradient"


def test_model_option_bad_import_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--model", "tests.plugin_models:nope", "--dtype", "float32"]) == 2


def _fake_entry_points(value: str) -> Any:
    def eps(group: str) -> list[EntryPoint]:
        return [EntryPoint("fake", value, group)] if group == runtimes.ENTRY_POINT_GROUP else []
    return eps


def test_runtimes_entry_point_group(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(runtimes, "entry_points", _fake_entry_points("tests.plugin_runtimes:provide"))
    names = [b.name for b in runtimes.discover_bindings()]
    assert names == ["my-sgd", "my-broken-sgd"]
    assert main(["--binding", "my-sgd", "--dtype", "float32"], specs=GeneratedSpecs(GEN)) == 0
    assert "my-sgd" in capsys.readouterr().out
    assert main(["--binding", "my-broken-sgd", "--dtype", "float32"], specs=GeneratedSpecs(GEN)) == 1


def test_runtimes_entry_point_may_return_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.plugin_runtimes import provide

    f = tmp_path / "b.json"
    f.write_text(json.dumps({"schema_version": 1, "bindings": provide()[:1]}))
    import tests.plugin_runtimes as mod
    monkeypatch.setattr(mod, "as_file", lambda: str(f), raising=False)
    monkeypatch.setattr(runtimes, "entry_points", _fake_entry_points("tests.plugin_runtimes:as_file"))
    assert [b.name for b in runtimes.discover_bindings()] == ["my-sgd"]


def _plugin_args() -> list[str]:
    from importlib.metadata import entry_points

    loaded = any(ep.value == "bridge.pytest_plugin" for ep in entry_points(group="pytest11"))
    # the CPU rows only: with a GPU present the plugin would add the CUDA rows (tests/test_cuda.py)
    return ["--torchlean-device", "cpu"] + ([] if loaded else ["-p", "bridge.pytest_plugin"])


def test_pytest_plugin_is_opt_in(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    res = pytester.runpytest(*_plugin_args(), "--collect-only", "-q")
    assert "torchlean-check" not in res.stdout.str() and "1 test collected" in res.stdout.str()


def test_pytest_plugin_items(pytester: pytest.Pytester) -> None:
    pytester.makeini(f"[pytest]\ntorchlean_check = true\ntorchlean_generated = {GEN}\n")
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    res = pytester.runpytest(*_plugin_args(), "--torchlean-binding", "sgd-step", "--torchlean-binding",
                             "autograd/shared-param", "--torchlean-dtype", "float32", "-m", "lean", "-v")
    res.assert_outcomes(passed=7, deselected=1)
    assert "sgd-step/fused-cpu-float32-float PASSED" in res.stdout.str()


def test_pytest_plugin_fails_on_a_violation(pytester: pytest.Pytester) -> None:
    pytester.syspathinsert(ROOT)
    pytester.syspathinsert()
    pytester.makepyfile(badopt="import torch\n\nclass Bad(torch.optim.SGD):\n"
                               "    def __init__(self, params, lr=0.01, **kw):\n"
                               "        super().__init__(params, lr=lr * 1.001, **kw)\n")
    from tests.plugin_runtimes import _binding

    b = {**_binding("bad", "Bad"), "runtime": "badopt.Bad"}
    (pytester.path / "b.json").write_text(json.dumps({"schema_version": 1, "bindings": [b]}))
    res = pytester.runpytest(*_plugin_args(), "--torchlean-check", "--torchlean-bindings", "b.json",
                             "--torchlean-binding", "bad", "--torchlean-dtype", "float32",
                             "--torchlean-generated", str(GEN))
    res.assert_outcomes(failed=1)
    assert "Proofs.Autograd.Algebra.SGD.step: bad/default cpu float32: violation" in res.stdout.str()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error")
def test_pytest_plugin_cuda_without_gpu_is_a_usage_error(pytester: pytest.Pytester) -> None:
    args = [a for a in _plugin_args() if a not in ("--torchlean-device", "cpu")]
    res = pytester.runpytest(*args, "--torchlean-check", "--torchlean-device", "cuda",
                             "--torchlean-generated", str(GEN))
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    assert "--torchlean-device cuda: torch.cuda.is_available() is False" in res.stderr.str()
