"""Model factories for `--model module:factory` tests (factory() -> (model, inputs, loss_fn))."""

from __future__ import annotations

from typing import Any

from bridge.runtimes.torch_autograd import mlp_mse, mutant_half_gradient


def good() -> Any:
    return mlp_mse()


def half_gradient() -> Any:
    return mutant_half_gradient()
