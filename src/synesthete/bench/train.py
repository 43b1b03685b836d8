"""`synesthete bench-train`: training throughput of the VAE and the DiT, fp32 vs bf16 autocast.

Model compute only (forward + backward + AdamW step on fixed tensors of the configured shapes),
so the figure is the models' cost on this device, separate from data rendering. With a critic
configured (`vae.adv_weight > 0`) the VAE is also timed with it: its steps from `vae.adv_start` on.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable

import torch

from synesthete.bench.machine import machine_info
from synesthete.config import Config
from synesthete.device import autocast, synchronize
from synesthete.diffusion import training_loss
from synesthete.models.critic import adversarial_terms
from synesthete.train.builders import build_denoiser, build_vae, build_vae_loss


def step_times(step: Callable[[], None], repeats: int, device: torch.device, warmup: int = 2) -> list[float]:
    """Seconds of each of `repeats` calls of `step`, after `warmup` untimed ones."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        synchronize(device)
        t0 = time.perf_counter()
        step()
        synchronize(device)
        times.append(time.perf_counter() - t0)
    return times


@dataclass
class TrainingSteps:
    """One optimiser step (forward, loss, backward, AdamW) of each model on fixed random tensors of
    the configured training shapes: `vae(bf16, with_critic)`, `dit(bf16)`."""

    vae: Callable[..., None]
    dit: Callable[[bool], None]
    vae_frames: int
    crop: int
    has_critic: bool


def training_steps(cfg: Config, device: torch.device,
                   wrap: Callable[[Callable], Callable] = lambda m: m) -> TrainingSteps:
    """The step closures `bench-train` times; `wrap` is applied to the VAE, its loss and the DiT
    (e.g. torch.compile, `scripts/compile_probe.py`)."""
    d = cfg.data
    g = torch.Generator().manual_seed(0)

    vae, loss_fn = build_vae(cfg).to(device), build_vae_loss(cfg)
    opt = torch.optim.AdamW(vae.parameters(), 1e-4)
    crop = cfg.vae.crop or d.size
    frames = cfg.vae.train.batch * cfg.vae.frames_per_clip
    x = (torch.rand(frames, 3, crop, crop, generator=g) * 2 - 1).to(device)
    vae_fwd, vae_loss = wrap(vae), wrap(loss_fn)

    dit = build_denoiser(cfg).to(device)
    dopt = torch.optim.AdamW(dit.parameters(), 1e-4)
    dit_fwd = wrap(dit)
    b = cfg.dit.train.batch
    lat = torch.randn(b, d.frames, cfg.vae.latent_channels, d.size // vae.downsample, d.size // vae.downsample,
                      generator=g).to(device)
    audio = (torch.randn(b, 1, d.samples, generator=g) * 0.1).to(device)

    def vae_step(bf16: bool = False, with_critic: bool = False):
        with autocast(device, bf16):
            x_hat, mean, logvar = vae_fwd(x)
            loss, _ = vae_loss(x_hat.float(), x, mean.float(), logvar.float())
            if with_critic:
                loss = loss + adversarial_terms(vae.critic, x, x_hat, cfg.vae.adv_weight)[0]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def dit_step(bf16: bool = False):
        with autocast(device, bf16):
            loss = training_loss(dit_fwd, lat, cfg.dit.objective, {"audio": audio}, torch.Generator().manual_seed(1),
                                 p_uncond=cfg.dit.cond_drop, self_cond=cfg.dit.self_cond)
        dopt.zero_grad(set_to_none=True)
        loss.backward()
        dopt.step()

    return TrainingSteps(vae_step, dit_step, frames, crop, vae.critic is not None)


def bench_train(cfg: Config, device: torch.device, repeats: int = 5) -> dict:
    results: dict[str, dict] = {}
    steps = training_steps(cfg, device)
    frames, b = steps.vae_frames, cfg.dit.train.batch
    median = lambda step: statistics.median(step_times(step, repeats, device))  # noqa: E731

    for precision in ("fp32", "bf16"):
        if precision == "bf16" and device.type == "mps":
            continue
        on = precision == "bf16"
        tv, td = median(lambda: steps.vae(on)), median(lambda: steps.dit(on))
        results[precision] = {
            "vae": {"s_per_step": round(tv, 4), "frames_per_step": frames, "crop": steps.crop,
                    "frames_per_s": round(frames / tv, 1)},
            "dit": {"s_per_step": round(td, 4), "clips_per_step": b, "clips_per_s": round(b / td, 2)},
        }
        if steps.has_critic:
            tc = median(lambda: steps.vae(on, with_critic=True))
            results[precision]["vae_critic"] = {"s_per_step": round(tc, 4), "critic_width": cfg.vae.critic_width,
                                                "frames_per_s": round(frames / tc, 1)}
    return {
        "benchmark": "bench-train",
        "device": str(device),
        "vae_size": cfg.vae.size,
        "dit_size": cfg.dit.size,
        "results": results,
        "machine": machine_info(),
    }
