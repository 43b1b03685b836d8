"""Noise schedules in continuous time t in [0, 1]: x_t = alpha(t) * x0 + sigma(t) * eps.

A schedule owns the math (alpha, sigma, q_sample, conversions between parameterisations);
networks never see it. Two paths:
  CosineSchedule  variance-preserving, alpha^2 + sigma^2 = 1 (Nichol & Dhariwal 2021, eq. 17),
                  with eps / x0 / v conversions (v: Salimans & Ho 2022, sec. 4).
  FlowSchedule    rectified flow / flow matching, x_t = (1 - t) x0 + t eps (Liu et al. 2022;
                  Lipman et al. 2023), velocity u = dx_t/dt = eps - x0.
All math is float32 (no float64: MPS has none). t is a tensor [B] or a scalar.
"""

import math

import torch


def append_dims(x: torch.Tensor, ndim: int) -> torch.Tensor:
    """[B] (or []) -> [B, 1, ..., 1] with ndim dims, for broadcasting against data (as k-diffusion)."""
    return x.reshape(x.shape + (1,) * (ndim - x.ndim))


class NoiseSchedule:
    """A Gaussian path x_t = alpha(t) x0 + sigma(t) eps; subclasses define alpha_sigma."""

    def alpha_sigma(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def _coefs(self, t, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.as_tensor(t, dtype=torch.float32, device=x.device)
        alpha, sigma = self.alpha_sigma(t)
        return append_dims(alpha, x.ndim).to(x.dtype), append_dims(sigma, x.ndim).to(x.dtype)

    def alpha(self, t: torch.Tensor) -> torch.Tensor:
        return self.alpha_sigma(t)[0]

    def sigma(self, t: torch.Tensor) -> torch.Tensor:
        return self.alpha_sigma(t)[1]

    def logsnr(self, t: torch.Tensor) -> torch.Tensor:
        """log(alpha^2 / sigma^2) (Kingma et al. 2021, VDM)."""
        alpha, sigma = self.alpha_sigma(t)
        return 2 * (torch.log(alpha) - torch.log(sigma))

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Sample q(x_t | x0) = N(alpha x0, sigma^2 I) (Ho et al. 2020, eq. 4, in alpha/sigma form)."""
        alpha, sigma = self._coefs(t, x0)
        return alpha * x0 + sigma * noise

    def x0_from_eps(self, x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """x0 = (x_t - sigma eps) / alpha (Ho et al. 2020, eq. 15). Ill-posed as alpha -> 0."""
        alpha, sigma = self._coefs(t, x_t)
        return (x_t - sigma * eps) / alpha

    def eps_from_x0(self, x_t: torch.Tensor, t: torch.Tensor, x0: torch.Tensor) -> torch.Tensor:
        """eps = (x_t - alpha x0) / sigma. Ill-posed as sigma -> 0."""
        alpha, sigma = self._coefs(t, x_t)
        return (x_t - alpha * x0) / sigma


class CosineSchedule(NoiseSchedule):
    """alpha_bar(t) = f(t) / f(0), f(t) = cos^2((t + s) / (1 + s) * pi / 2) (Nichol & Dhariwal 2021, eq. 17);
    alpha = sqrt(alpha_bar), sigma = sqrt(1 - alpha_bar).

    alpha_bar is clamped below at min_alpha_bar (the continuous analogue of their beta <= 0.999
    clip) so that t = 1 keeps alpha > 0 and eps-prediction stays invertible; logSNR(1) ~ -9.2.
    """

    def __init__(self, s: float = 0.008, min_alpha_bar: float = 1e-4):
        self.s, self.min_alpha_bar = s, min_alpha_bar

    def alpha_bar(self, t: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=torch.float32)
        f = lambda u: torch.cos((u + self.s) / (1 + self.s) * (math.pi / 2)) ** 2
        return (f(t) / f(torch.zeros_like(t))).clamp(self.min_alpha_bar, 1.0)   # exactly 1 at t = 0

    def alpha_sigma(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        alpha_bar = self.alpha_bar(t)
        return alpha_bar.sqrt(), (1 - alpha_bar).clamp_min(0.0).sqrt()

    # v-parameterisation (Salimans & Ho 2022, sec. 4 and app. D); requires alpha^2 + sigma^2 = 1.

    def v_from_x0_eps(self, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """v = alpha eps - sigma x0."""
        alpha, sigma = self._coefs(t, x0)
        return alpha * eps - sigma * x0

    def x0_from_v(self, x_t: torch.Tensor, t: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """x0 = alpha x_t - sigma v."""
        alpha, sigma = self._coefs(t, x_t)
        return alpha * x_t - sigma * v

    def eps_from_v(self, x_t: torch.Tensor, t: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """eps = sigma x_t + alpha v."""
        alpha, sigma = self._coefs(t, x_t)
        return sigma * x_t + alpha * v


class FlowSchedule(NoiseSchedule):
    """Rectified-flow path alpha = 1 - t, sigma = t (Liu et al. 2022, eq. 1; Lipman et al. 2023)."""

    def alpha_sigma(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.as_tensor(t, dtype=torch.float32)
        return 1 - t, t

    def velocity_from_x0_eps(self, x0: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """u = dx_t/dt = eps - x0, the flow-matching regression target."""
        return eps - x0

    def x0_from_velocity(self, x_t: torch.Tensor, t: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """x0 = x_t - t u."""
        _, sigma = self._coefs(t, x_t)
        return x_t - sigma * u

    def eps_from_velocity(self, x_t: torch.Tensor, t: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """eps = x_t + (1 - t) u."""
        alpha, _ = self._coefs(t, x_t)
        return x_t + alpha * u
