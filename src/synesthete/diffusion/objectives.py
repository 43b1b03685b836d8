"""Parameterisation as small wrappers around a backbone (as k-diffusion's Denoiser, edm2's Precond).

objective "eps": the backbone predicts eps on the cosine path (Ho et al. 2020)
          "v"  : the backbone predicts v = alpha eps - sigma x0 on the cosine path (Salimans & Ho 2022)
          "flow": the backbone predicts u = eps - x0 on the rectified-flow path (Liu et al. 2022)
Switching objective changes these wrappers only, never the network. A backbone is any callable
model_fn(x_t, t, **extra_args) with t [B] float in [0, 1] (e.g. DiT or AudioDiT).
"""

from typing import Callable, Literal

import torch
import torch.nn.functional as F

from synesthete.diffusion.schedule import CosineSchedule, FlowSchedule, NoiseSchedule

Objective = Literal["eps", "v", "flow"]
OBJECTIVES: tuple[str, ...] = ("eps", "v", "flow")


def default_schedule(objective: Objective) -> NoiseSchedule:
    """The path each objective is defined on: flow -> FlowSchedule, eps / v -> CosineSchedule."""
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; expected one of {OBJECTIVES}")
    return FlowSchedule() if objective == "flow" else CosineSchedule()


def training_target(objective: Objective, schedule: NoiseSchedule, x0: torch.Tensor,
                    noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """What the backbone regresses onto for x_t = q_sample(x0, t, noise)."""
    if objective == "eps":
        return noise
    if objective == "v":
        return schedule.v_from_x0_eps(x0, noise, t)
    if objective == "flow":
        return schedule.velocity_from_x0_eps(x0, noise)
    raise ValueError(f"unknown objective {objective!r}")


def training_loss(model_fn: Callable[..., torch.Tensor], x0: torch.Tensor, objective: Objective = "v",
                  extra_args: dict | None = None, generator: torch.Generator | None = None,
                  schedule: NoiseSchedule | None = None, p_uncond: float = 0.0,
                  drop_key: str = "drop_audio", t: torch.Tensor | None = None,
                  t_shift: float = 1.0, self_cond: bool = False) -> torch.Tensor:
    """Simple diffusion loss E_{t~U[0,1], eps}[ ||model_fn(x_t, t) - target||^2 ] (Ho et al. 2020, eq. 14).

    t_shift s > 1 draws more high noise levels: t = s u / (1 + (s - 1) u), u ~ U[0, 1] (SD3's
    shift, Esser et al. 2024). t (unless given: fixed times [B] for a validation loss on a grid), noise and the
    conditioning-dropout mask (p_uncond, passed as extra_args[drop_key], OR-ed with any mask
    already there) are drawn from `generator` (on the generator's device, then moved to x0's).
    self_cond: on half the steps (a coin from `generator`) the backbone first estimates x0 without
    gradients and then gets that estimate as `x_self_cond` (Chen et al. 2022, "Analog Bits");
    on the other half it gets none, as at a sampler's first step.
    Returns the mean squared error in float32 (a scalar).
    """
    schedule = schedule or default_schedule(objective)
    B, device = x0.shape[0], x0.device
    gen_device = generator.device if generator is not None else device
    if t is None:
        u = torch.rand(B, generator=generator, device=gen_device)                          # (B,)
        t = t_shift * u / (1 + (t_shift - 1) * u)
    t = t.to(device)
    noise = torch.randn(x0.shape, generator=generator, device=gen_device).to(device, x0.dtype)
    extra = dict(extra_args or {})
    if p_uncond > 0:
        drop = (torch.rand(B, generator=generator, device=gen_device) < p_uncond).to(device)
        extra[drop_key] = drop | extra[drop_key] if extra.get(drop_key) is not None else drop
    x_t = schedule.q_sample(x0, t, noise)
    if self_cond and float(torch.rand((), generator=generator, device=gen_device)) < 0.5:
        with torch.no_grad():
            extra["x_self_cond"] = Denoiser(model_fn, objective, schedule)(x_t, t, **extra)
    pred = model_fn(x_t, t, **extra)
    return F.mse_loss(pred.float(), training_target(objective, schedule, x0, noise, t).float())


class Denoiser:
    """Backbone output -> x0 prediction: denoiser(x_t, t [B], **extra_args) -> x̂0 (k-diffusion's convention).

    Carries its schedule so samplers need no other argument.
    """

    def __init__(self, model_fn: Callable[..., torch.Tensor], objective: Objective,
                 schedule: NoiseSchedule | None = None):
        self.model_fn, self.objective = model_fn, objective
        self.schedule = schedule or default_schedule(objective)

    def __call__(self, x: torch.Tensor, t: torch.Tensor, **extra_args) -> torch.Tensor:
        out = self.model_fn(x, t, **extra_args).to(x.dtype)
        if self.objective == "eps":
            return self.schedule.x0_from_eps(x, t, out)
        if self.objective == "v":
            return self.schedule.x0_from_v(x, t, out)
        return self.schedule.x0_from_velocity(x, t, out)


def to_denoiser(model_fn: Callable[..., torch.Tensor], objective: Objective,
                schedule: NoiseSchedule | None = None) -> Denoiser:
    return Denoiser(model_fn, objective, schedule)
