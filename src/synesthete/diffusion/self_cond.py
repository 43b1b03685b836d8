"""Self-conditioning at sampling time (Chen et al. 2022, "Analog Bits"): a denoiser wrapper that
hands the model its own x̂0 from the previous sampler step, so each step refines one picture.

Wrap the outermost denoiser (after guidance and warm start): its x̂0 is the estimate the sampler
uses, and both halves of a guided batch see it. A fresh wrapper per sample; it works with any
sampler of the `denoiser(x, t, **extra) -> x̂0` family.
"""

from typing import Callable

import torch


class SelfConditioned:
    def __init__(self, denoiser: Callable[..., torch.Tensor]):
        self.denoiser = denoiser
        self.previous: torch.Tensor | None = None     # none before the first step: the model sees zeros

    @property
    def schedule(self):
        return self.denoiser.schedule

    def __call__(self, x: torch.Tensor, t: torch.Tensor, **extra_args) -> torch.Tensor:
        x0 = self.denoiser(x, t, x_self_cond=self.previous, **extra_args)
        self.previous = x0
        return x0
