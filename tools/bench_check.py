"""Benchmark the checker against the runtime it checks (issue 5, part I).

1. Checking `Proofs.Autograd.Algebra.SGD.step` on a ResNet-50-sized parameter list (161 tensors,
   ~25.6 M float32 parameters, CPU) — the exact, sound fast path of bridge.check, with the fused
   kernel (torch.compile, `--compile on`) and eagerly (`--compile off`) — versus one
   `torch.optim.SGD.step` on the same list. Target: ratio <= 5.
2. The scalarLoss_grad_correct check (jvp versus backward, bridge.runtimes.torch_autograd.measure)
   versus one forward+backward of the same model. Target: ratio <= 3.

Both sides measured in the same run; medians over --repeat runs. Usage:
    python tools/bench_check.py [--repeat 5] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch

from bridge import fast_exact
from bridge.bindings import load_bindings
from bridge.check import GeneratedSpecs, check_step
from bridge.numerics import format_of
from bridge.runtimes.torch_autograd import MODELS, measure
from bridge.runtimes.torch_optim import StepRecord


def resnet50_shapes() -> list[tuple[int, ...]]:
    """Parameter shapes of torchvision's ResNet-50: 53 convs, 53 batch norms (weight, bias), fc."""
    shapes: list[tuple[int, ...]] = [(64, 3, 7, 7), (64,), (64,)]
    cin = 64
    for width, blocks in ((64, 3), (128, 4), (256, 6), (512, 3)):
        for b in range(blocks):
            out = width * 4
            for co, ci, k in ((width, cin, 1), (width, width, 3), (out, width, 1)):
                shapes += [(co, ci, k, k), (co,), (co,)]
            if b == 0:
                shapes += [(out, cin, 1, 1), (out,), (out,)]
            cin = out
    return shapes + [(1000, 2048), (1000,)]


def median_time(fn: Callable[[], object], repeat: int) -> float:
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def bench_sgd(repeat: int, profile: bool) -> dict[str, float]:
    """Medians of one torch.optim.SGD.step, the eager check and the fused check (torch.compile,
    bridge.fast_exact), taking turns within each repetition; `first_fused`: the first fused check
    of the process, compilation included (inductor's disk cache may shorten it on a re-run)."""
    shapes = resnet50_shapes()
    g = torch.Generator().manual_seed(0)
    params = [torch.randn(s, generator=g) for s in shapes]
    grads = [torch.randn(s, generator=g) for s in shapes]
    n = sum(p.numel() for p in params)
    print(f"SGD: {len(shapes)} tensors, {n / 1e6:.2f} M float32 parameters", flush=True)
    work = [p.clone() for p in params]
    for p, gr in zip(work, grads):
        p.grad = gr
    opt = torch.optim.SGD(work, lr=0.01)  # foreach on CPU lists, torch's default
    # the record of one step, as the checker sees it
    fresh = [p.clone() for p in params]
    for p, gr in zip(fresh, grads):
        p.grad = gr
    opt2 = torch.optim.SGD(fresh, lr=0.01)
    with torch.no_grad():
        opt2.step()
    rec = StepRecord(0, params, grads, {}, fresh, {}, {"lr": 0.01})
    binding = next(b for b in load_bindings() if b.name == "sgd-step")
    specs = GeneratedSpecs(Path("generated"))
    fmt = format_of("float32")

    def run(mode: str) -> None:
        fast_exact.set_compile(mode)
        c, _ = check_step(specs, binding, rec, fmt, "alpha", 0)
        assert c.verdict in ("exact", "rounding"), c
        if c.n_off > 1000:  # each element not bitwise exact is judged with Fractions (slow)
            print(f"note: {c.n_off} elements not bitwise exact; the check is dominated by their exact judgement",
                  flush=True)

    run("off")  # warm-up (module loading)
    t0 = time.perf_counter()
    run("on")
    first_fused = time.perf_counter() - t0
    if fast_exact._state["broken"]:
        print(f"note: no fused kernel here ({fast_exact._state['broken']}); 'fused' is the eager path", flush=True)
    if profile:
        for mode in ("off", "on"):
            cProfile.runctx("run(mode)", globals(), {"run": run, "mode": mode}, "/tmp/bench_check.prof")
            pstats.Stats("/tmp/bench_check.prof").sort_stats("cumtime").print_stats(15)
    fns: dict[str, Callable[[], object]] = {"step": opt.step, "eager": partial(run, "off"), "fused": partial(run, "on")}
    ts: dict[str, list[float]] = {k: [] for k in fns}
    with torch.no_grad():
        for _ in range(repeat):
            for k, fn in fns.items():
                t0 = time.perf_counter()
                fn()
                ts[k].append(time.perf_counter() - t0)
    fast_exact.set_compile("auto")
    return {**{k: statistics.median(v) for k, v in ts.items()}, "first_fused": first_fused}


def wide_mlp() -> tuple[torch.nn.Module, tuple[torch.Tensor, ...], Callable[[torch.Tensor], torch.Tensor]]:
    """A realistic size: batch 64, 512 -> 512 -> 512 -> 10 MLP (tanh), cross-entropy (0.53 M params)."""
    torch.manual_seed(5)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(512, 512), nn.Tanh(), nn.Linear(512, 512), nn.Tanh(), nn.Linear(512, 10))
    x, y = torch.randn(64, 512), torch.randint(0, 10, (64,))
    return model, (x,), lambda out: nn.functional.cross_entropy(out, y)


def wide_block() -> tuple[torch.nn.Module, tuple[torch.Tensor, ...], Callable[[torch.Tensor], torch.Tensor]]:
    """A realistic size: the transformer block at d = 256, 4 heads, MLP 1024, batch 16 x 64 tokens."""
    from bridge.runtimes.torch_autograd import Block
    torch.manual_seed(6)
    model = Block(256, 4, 1024)
    x, y = torch.randn(16, 64, 256), torch.randn(16, 64, 256)
    return model, (x,), lambda out: torch.nn.functional.mse_loss(out, y)


def load_baseline(path: str) -> Callable[..., object]:
    """`measure` from another copy of bridge/runtimes/torch_autograd.py (e.g. the previous version),
    to time it side by side with the current one in the same run."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("baseline_torch_autograd", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod.measure  # type: ignore[no-any-return]


def bench_autograd(repeat: int, baseline: Callable[..., object] | None = None
                   ) -> list[tuple[str, float, float, float | None]]:
    """(name, check, forward+backward, baseline check or None) medians; the timed functions take
    turns within each repetition, so a change of machine load hits all of them alike."""
    out = []
    models = {**MODELS, "bench/mlp-64x512": wide_mlp, "bench/block-16x64x256": wide_block}
    for name, fac in models.items():
        model, inputs, loss_fn = fac()
        measure(model, inputs, loss_fn, "float32")  # warm-up
        if baseline is not None:
            baseline(model, inputs, loss_fn, "float32")

        def fwd_bwd(model=model, inputs=inputs, loss_fn=loss_fn) -> None:  # type: ignore[no-untyped-def]
            model.zero_grad(set_to_none=True)
            loss_fn(model(*inputs)).backward()

        fns: dict[str, Callable[[], object]] = {"ref": fwd_bwd, "chk": partial(measure, model, inputs, loss_fn, "float32")}
        if baseline is not None:
            fns["old"] = partial(baseline, model, inputs, loss_fn, "float32")
        ts: dict[str, list[float]] = {k: [] for k in fns}
        for _ in range(repeat * 4):
            for k, fn in fns.items():
                t0 = time.perf_counter()
                fn()
                ts[k].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in ts.items()}
        out.append((name, med["chk"], med["ref"], med.get("old")))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--baseline", metavar="PATH",
                    help="another copy of torch_autograd.py (e.g. the previous version) timed in the same run")
    ap.add_argument("--autograd-only", action="store_true", help="skip the SGD part")
    args = ap.parse_args()
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    if not args.autograd_only:
        t = bench_sgd(args.repeat, args.profile)
        print(f"torch.optim.SGD.step median {t['step'] * 1e3:.1f} ms; SGD check, fused kernel median "
              f"{t['fused'] * 1e3:.1f} ms, ratio {t['fused'] / t['step']:.2f} (target <= 5; first fused check, "
              f"compilation included: {t['first_fused']:.1f} s); eager median {t['eager'] * 1e3:.1f} ms, ratio "
              f"{t['eager'] / t['step']:.2f}", flush=True)
    baseline = load_baseline(args.baseline) if args.baseline else None
    for name, t_chk, t_ref, t_old in bench_autograd(args.repeat, baseline):
        old = "" if t_old is None else f"; baseline {t_old * 1e3:.2f} ms, ratio {t_old / t_ref:.2f}"
        print(f"{name}: jvp-vs-backward check median {t_chk * 1e3:.2f} ms; forward+backward median "
              f"{t_ref * 1e3:.2f} ms; ratio {t_chk / t_ref:.2f} (target <= 3){old}", flush=True)


if __name__ == "__main__":
    main()
