"""Runtimes contributed through the `torchlean_bridge.runtimes` entry-point group (tests)."""

from __future__ import annotations

from typing import Any

import torch


class MySGD(torch.optim.SGD):
    """A third-party optimizer: plain SGD under another name."""


class MyBrokenSGD(torch.optim.SGD):
    def __init__(self, params: Any, lr: float = 0.01, **kw: Any) -> None:
        super().__init__(params, lr=lr * 1.001, **kw)


def _binding(name: str, cls: str) -> dict[str, Any]:
    return {"name": name, "spec": "Proofs.Autograd.Algebra.SGD.step", "kind": "tlist_step",
            "runtime": f"tests.plugin_runtimes.{cls}", "implementations": {"default": {}},
            "steps": 1, "lr_kinds": ["float"], "exact_method": "single-rounding-f64"}


def provide() -> list[dict[str, Any]]:
    return [_binding("my-sgd", "MySGD"), _binding("my-broken-sgd", "MyBrokenSGD")]
