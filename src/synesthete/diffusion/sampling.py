"""Samplers as plain functions with one signature (as k-diffusion's sampling.py):

    sample_x(denoiser, noise, steps, extra_args=None, callback=None, progress=False, ...)

`denoiser(x, t [B], **extra_args) -> x̂0` (see objectives.to_denoiser / guidance.cfg_denoiser);
`noise` is the starting standard normal [B, ...] (draw it with your generator); `steps` is an
int or a decreasing tensor of times from `timesteps`. `callback({"x", "i", "t", "denoised"})`
is called once per step before the update; previews and progress hang on it.
"""

from typing import Callable

import torch

from synesthete.diffusion.schedule import NoiseSchedule


def timesteps(steps: int, t_max: float = 1.0, t_min: float = 0.0, device=None) -> torch.Tensor:
    """steps + 1 times, uniform from t_max down to t_min (float32) — DDIM's "linear" spacing."""
    return torch.linspace(t_max, t_min, steps + 1, dtype=torch.float32, device=device)


def _steps(steps, device) -> torch.Tensor:
    ts = timesteps(steps, device=device) if isinstance(steps, int) else torch.as_tensor(steps, device=device)
    return ts.float()


def _iterate(n: int, progress: bool, description: str):
    if not progress:
        return range(n)
    from synesthete.progress import track
    return track(range(n), description=description, total=n)


@torch.no_grad()
def sample_ddim(denoiser: Callable[..., torch.Tensor], noise: torch.Tensor, steps, extra_args: dict | None = None,
                callback: Callable | None = None, progress: bool = False, eta: float = 0.0,
                schedule: NoiseSchedule | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """DDIM (Song et al. 2020, eq. 12), written for any Gaussian path x_t = alpha x0 + sigma eps.

    eta = 0 is the deterministic ODE sampler; eta = 1 matches DDPM's posterior variance. The
    schedule defaults to `denoiser.schedule`. With eta > 0 the fresh noise comes from `generator`.
    """
    schedule = schedule or denoiser.schedule
    extra_args = extra_args or {}
    ts = _steps(steps, noise.device)
    x = noise * schedule.sigma(ts[0]).to(noise.device, noise.dtype)   # x_T ~ N(0, sigma(t_max)^2)
    for i in _iterate(len(ts) - 1, progress, "DDIM"):
        t, s = ts[i], ts[i + 1]
        x0 = denoiser(x, t.expand(x.shape[0]), **extra_args)
        if callback is not None:
            callback({"x": x, "i": i, "t": t, "denoised": x0})
        alpha_t, sigma_t = schedule.alpha_sigma(t)
        alpha_s, sigma_s = schedule.alpha_sigma(s)
        eps = (x - alpha_t * x0) / sigma_t                                 # implied noise, eq. 12's eps_theta
        # Posterior std sigma_s * sqrt(1 - (alpha_t sigma_s / (alpha_s sigma_t))^2), scaled by eta (eq. 16).
        c = eta * sigma_s * (1 - (alpha_t * sigma_s / (alpha_s * sigma_t)) ** 2).clamp_min(0).sqrt()
        x = alpha_s * x0 + (sigma_s**2 - c**2).clamp_min(0).sqrt() * eps
        if eta > 0:
            gen_device = generator.device if generator is not None else x.device
            z = torch.randn(x.shape, generator=generator, device=gen_device).to(x.device, x.dtype)
            x = x + c * z
    return x


@torch.no_grad()
def sample_euler_flow(denoiser: Callable[..., torch.Tensor], noise: torch.Tensor, steps,
                      extra_args: dict | None = None, callback: Callable | None = None,
                      progress: bool = False) -> torch.Tensor:
    """Euler on the rectified-flow ODE dx/dt = u(x, t) from t = 1 to 0 (Liu et al. 2022, alg. 1).

    With x_t = (1 - t) x0 + t eps the velocity implied by the denoised x̂0 is u = (x_t - x̂0) / t.
    """
    extra_args = extra_args or {}
    ts = _steps(steps, noise.device)
    x = noise
    for i in _iterate(len(ts) - 1, progress, "Euler (flow)"):
        t, s = ts[i], ts[i + 1]
        x0 = denoiser(x, t.expand(x.shape[0]), **extra_args)
        if callback is not None:
            callback({"x": x, "i": i, "t": t, "denoised": x0})
        u = (x - x0) / t                                                   # dx/dt
        x = x + (s - t) * u                                                # Euler step, dt = s - t < 0
    return x
