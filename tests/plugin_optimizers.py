"""Optimizer factories for `--optimizer module:factory` tests (factory(params, lr) -> .step())."""

from __future__ import annotations

from typing import Any

import torch


def plain_sgd(params: list[torch.Tensor], lr: float) -> Any:
    return torch.optim.SGD(params, lr=lr)


def sgd_lr_off(params: list[torch.Tensor], lr: float) -> Any:
    return torch.optim.SGD(params, lr=lr * 1.001)


class AdamLrOff(torch.optim.Adam):
    """Adam with lr·1.001: wrong on every element, detectable on normal-range values only."""

    def __init__(self, params: Any, lr: Any = 1e-3, **kw: Any) -> None:
        super().__init__(params, lr=lr * 1.001, **kw)
