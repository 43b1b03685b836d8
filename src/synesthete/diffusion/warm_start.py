"""Warm start for sliding windows: a denoiser wrapper that holds known frames in place.

A window that shares its first n frames with the previous window knows what those frames
should be. At every sampler step the wrapper mixes the known clean frames into the denoised
estimate, frame by frame with weight w (1 = replace, 0 = leave), so the sampler walks the shared
frames to their known values while temporal attention carries them into the new frames. It
works with any sampler of the `denoiser(x, t, **extra) -> x̂0` family (DDIM, Euler).
"""

from typing import Callable

import torch


class KnownFramesDenoiser:
    def __init__(self, denoiser: Callable[..., torch.Tensor], known: torch.Tensor, weight: torch.Tensor):
        """known: clean frames [B, n, ...] for frames 0..n-1 of the window; weight: [n] in [0, 1]."""
        self.denoiser, self.known = denoiser, known
        self.weight = weight.to(known.device, known.dtype).reshape(1, -1, *([1] * (known.ndim - 2)))

    @property
    def schedule(self):
        return self.denoiser.schedule

    def __call__(self, x: torch.Tensor, t: torch.Tensor, **extra_args) -> torch.Tensor:
        x0 = self.denoiser(x, t, **extra_args)
        n = self.known.shape[1]
        head = self.weight * self.known + (1 - self.weight) * x0[:, :n]
        return torch.cat([head, x0[:, n:]], dim=1)


def warm_start(denoiser: Callable[..., torch.Tensor], known: torch.Tensor | None,
               weight: torch.Tensor | None) -> Callable[..., torch.Tensor]:
    """`denoiser` with its first frames held to `known` (unchanged when nothing is known)."""
    if known is None or known.shape[1] == 0:
        return denoiser
    return KnownFramesDenoiser(denoiser, known, weight)
