"""Exponential moving average of weights: what samples use (Karras et al. 2024 show EMA matters)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """A shadow copy of a module, updated as `shadow = decay * shadow + (1 - decay) * live`."""

    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        # Warm up the decay so early weights are not frozen in (as in DiT/timm: min(decay, (1+s)/(10+s))).
        d = min(self.decay, (1 + step) / (10 + step))
        for shadow, live in zip(self.model.parameters(), model.parameters()):
            shadow.lerp_(live.detach(), 1 - d)
        for shadow, live in zip(self.model.buffers(), model.buffers()):
            shadow.copy_(live)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.model.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.model.load_state_dict(state)
