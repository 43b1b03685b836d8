"""Classifier-free guidance (Ho & Salimans 2022) as a denoiser wrapper (as k-diffusion's make_cfg_model_fn).

    D_w(x, t | a) = D(x, t | null) + w * (D(x, t | a) - D(x, t | null))

applied to x̂0, which for fixed (x_t, t) is the same linear combination as on eps or v.
The two passes are one batch of 2B; the unconditional half sets extra_args[drop_key] = True
(the model's learned null audio) and takes any further conditions to null from `uncond`
(e.g. {"label": the null-label ids}, to guide on the visualizer label as well). Scale 1 is
exactly the conditional denoiser and scale 0 exactly the unconditional one (each a single pass).

`interval` (lo, hi) limits guidance to noise levels lo <= t <= hi (Kynkaanniemi et al. 2024,
"Applying guidance in a limited interval"); at other steps the scale is `outside` (1: the plain
conditional denoiser, their recipe; 0: the unconditional one). The default (0, 1) guides everywhere.

`rescale` (phi; Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are Flawed",
3.4, diffusers' guidance_rescale): a large scale inflates the guided x̂0 past the data's range, the
kick frames blown out to white; the guided x̂0 is scaled to the conditional one's standard deviation
(per sample, over every frame) and mixed back: phi * rescaled + (1 - phi) * guided. 0 = off.
"""

from typing import Any, Callable

import torch


class CFGDenoiser:
    def __init__(self, denoiser: Callable[..., torch.Tensor], scale: float, drop_key: str = "drop_audio",
                 uncond: dict[str, Any] | None = None, interval: tuple[float, float] = (0.0, 1.0),
                 outside: float = 1.0, rescale: float = 0.0):
        self.denoiser, self.scale, self.drop_key = denoiser, scale, drop_key
        self.uncond = uncond or {}
        self.interval, self.outside, self.rescale = interval, outside, rescale

    def scale_at(self, t: torch.Tensor) -> float:
        """The guidance scale at this step (samplers give every item of the batch the same t)."""
        lo, hi = self.interval
        if (lo, hi) == (0.0, 1.0):
            return self.scale                       # no host sync on the common path
        t = float(t.reshape(-1)[0])
        eps = 1e-6                                  # float32 times: linspace's 0.8 is 0.80000001
        return self.scale if lo - eps <= t <= hi + eps else self.outside

    @property
    def schedule(self):
        return self.denoiser.schedule

    def __call__(self, x: torch.Tensor, t: torch.Tensor, **extra_args) -> torch.Tensor:
        B, scale = x.shape[0], self.scale_at(t)
        if scale == 1.0:
            return self.denoiser(x, t, **extra_args)
        drop = extra_args.pop(self.drop_key, None)
        drop = torch.zeros(B, dtype=torch.bool, device=x.device) if drop is None else drop
        null = torch.ones(B, dtype=torch.bool, device=x.device)
        if scale == 0.0:
            return self.denoiser(x, t, **{**extra_args, **self.uncond, self.drop_key: null})
        batched = lambda v: torch.is_tensor(v) and v.ndim > 0 and v.shape[0] == B
        extra = {k: torch.cat([v, self.uncond.get(k, v)]) if batched(v) else v for k, v in extra_args.items()}
        extra[self.drop_key] = torch.cat([drop, null])
        cond, uncond = self.denoiser(torch.cat([x, x]), torch.cat([t, t]), **extra).chunk(2)
        guided = uncond + scale * (cond - uncond)
        if self.rescale == 0.0:
            return guided
        dims = list(range(1, guided.ndim))
        rescaled = guided * (cond.std(dim=dims, keepdim=True) / guided.std(dim=dims, keepdim=True).clamp_min(1e-6))
        return self.rescale * rescaled + (1.0 - self.rescale) * guided


cfg_denoiser = CFGDenoiser
"""The public name: a guided denoiser is built with the same arguments as CFGDenoiser."""
