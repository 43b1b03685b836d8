"""Training the spatial VAE: frames drawn from procedural clips, reconstruction + sharpness + KL."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn

from synesthete.config import Config
from synesthete.contact_sheet import frame_grid
from synesthete.data import VAL_INDEX_BASE, check_visualizers, make_clip
from synesthete.data.batches import reused, step_batches
from synesthete.device import frame_chunk
from synesthete.eval.quality import sharpness_ratio
from synesthete.models import SpatialVAE
from synesthete.models.critic import adversarial_terms
from synesthete.train.builders import build_vae, build_vae_loss

VAE_SHAPE_KEYS = ["vae.size", "vae.latent_channels", "vae.shortcuts"]
"""Config keys that make a VAE's function (a checkpoint must share them to resume, and the DiT
trained on its latents too); shortcuts add no weights, so a shape check alone would not catch them."""


def to_model_range(video: torch.Tensor) -> torch.Tensor:
    """uint8 [..., 3, H, W] -> float [-1, 1]."""
    return video.float().div(127.5).sub(1.0)


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 (clamped)."""
    return x.add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)


def psnr(x_hat: torch.Tensor, x: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1] (peak-to-peak 2), over the whole batch."""
    mse = float(((x_hat.clamp(-1, 1) - x) ** 2).mean())
    return 10 * math.log10(4.0 / max(mse, 1e-12))


def random_crops(frames: torch.Tensor, size: int, gen: torch.Generator) -> torch.Tensor:
    """One random size x size crop per frame: [N, C, H, W] -> [N, C, size, size]."""
    n, _, h, w = frames.shape
    y = torch.randint(0, h - size + 1, (n,), generator=gen, device=gen.device).cpu()
    x = torch.randint(0, w - size + 1, (n,), generator=gen, device=gen.device).cpu()
    rows = (y[:, None] + torch.arange(size))[:, None, :, None]                 # [N, 1, size, 1]
    cols = (x[:, None] + torch.arange(size))[:, None, None, :]                 # [N, 1, 1, size]
    return frames[torch.arange(n)[:, None, None, None], torch.arange(frames.shape[1])[None, :, None, None], rows, cols]


@torch.no_grad()
def reconstruct(vae: SpatialVAE, frames: torch.Tensor) -> torch.Tensor:
    """Encode to the posterior mean and decode, in chunks: float [N, 3, H, W] -> [N, 3, H, W]."""
    return torch.cat([vae.decode(vae.encode(f)[0]) for f in frames.split(frame_chunk(frames.device))])


VAL_CLIPS_PER_VISUALIZER = 4


class VAETask:
    """Batches: `train.batch` clips per step, `frames_per_clip` random frames from each."""

    name = "vae"

    def __init__(self, cfg: Config, device: torch.device):
        self.cfg, self.device = cfg, device
        self.model = build_vae(cfg)
        v = cfg.vae
        self.loss_fn = build_vae_loss(cfg)
        self.train_cfg = v.train
        self.compat_keys = VAE_SHAPE_KEYS + ["data.size"]
        self.clips_per_step = v.train.batch
        self.find_unused_parameters = self.model.critic is not None   # under DDP: it idles until adv_start
        self._val: dict[str, torch.Tensor] | None = None

    def param_groups(self, model: nn.Module) -> list:
        """One group, or with a critic that learns at its own rate (`vae.critic_lr_mult`) two."""
        params = [p for p in model.parameters() if p.requires_grad]
        mult = self.cfg.vae.critic_lr_mult
        if model.critic is None or mult == 1.0:
            return params
        critic = {id(p) for p in model.critic.parameters()}
        return [{"params": [p for p in params if id(p) not in critic]},
                {"params": [p for p in params if id(p) in critic], "lr_mult": mult}]

    def batches(self, start_step: int, rank: int, world: int, workers: int) -> Iterator[Any]:
        reuse = self.cfg.vae.reuse
        source = step_batches(self.cfg.data, self.train_cfg.batch, start_step // reuse, rank, world, workers)
        return reused(source, reuse, start_step)

    def loss(self, model: nn.Module, batch: dict[str, Any], gen: torch.Generator) -> tuple[torch.Tensor, dict]:
        video = batch["video"]                                            # [B, T, 3, H, W] uint8
        b, t = video.shape[:2]
        k = min(self.cfg.vae.frames_per_clip, t)
        pick = torch.rand(b, t, generator=gen, device=gen.device).argsort(dim=1)[:, :k].cpu()
        frames = video[torch.arange(b)[:, None], pick].flatten(0, 1)      # [B*k, 3, H, W]
        crop = self.cfg.vae.crop
        if crop is not None and crop < frames.shape[-1]:
            frames = random_crops(frames, crop, gen)                        # [B*k, 3, crop, crop]
        x = to_model_range(frames.to(self.device))
        x_hat, mean, logvar = model(x, sample=True, generator=gen)
        loss, parts = self.loss_fn(x_hat.float(), x, mean.float(), logvar.float())
        critic = getattr(model, "module", model).critic                   # unwrap DDP
        if critic is not None and batch["step"] * self.cfg.vae.reuse >= self.cfg.vae.adv_start:
            adv, d_loss, g_loss = adversarial_terms(critic, x, x_hat, self.cfg.vae.adv_weight)
            loss = loss + adv                                              # one optimiser step trains both
            parts = {**parts, "critic": d_loss.detach(), "adv": g_loss.detach()}
        return loss, {k: float(v) for k, v in parts.items()}

    def validation_frames(self) -> dict[str, torch.Tensor]:
        """Fixed frames, the same number from every configured visualizer: {name: uint8 [n, 3, H, W]}.

        Each visualizer draws VAL_CLIPS_PER_VISUALIZER validation songs of its own (8 evenly
        spaced frames each), so the PSNR weighs all looks equally instead of whichever ones a
        handful of random validation clips happen to use.
        """
        if self._val is None:
            names = check_visualizers(self.cfg.data)
            k = VAL_CLIPS_PER_VISUALIZER
            self._val = {}
            for j, name in enumerate(names):
                clips = [make_clip(self.cfg.data, VAL_INDEX_BASE + j * k + i, [name])["video"] for i in range(k)]
                pick = torch.linspace(0, clips[0].shape[0] - 1, 8).round().long()
                self._val[name] = torch.cat([c[pick] for c in clips])     # [k*8, 3, H, W] uint8
        return self._val

    def validate(self, ema_model: nn.Module, step: int, out_dir: Path) -> dict[str, Any]:
        per_vis = self.validation_frames()
        frames = torch.cat(list(per_vis.values()))
        x = to_model_range(frames.to(self.device))
        x_hat = reconstruct(ema_model, x)
        out: dict[str, Any] = {"val_loss": float(((x_hat - x) ** 2).mean()), "psnr": psnr(x_hat, x)}
        # the evaluation's sharpness ratio (mean Laplacian variance, recon / truth): the ceiling a
        # latent model's sharpness_ratio can reach through this decoder
        recon = to_uint8(x_hat).cpu()
        out["sharpness"] = sharpness_ratio(recon, frames)
        sizes = [len(f) for f in per_vis.values()]
        for name, xh, xv, r, f in zip(per_vis, x_hat.split(sizes), x.split(sizes), recon.split(sizes), frames.split(sizes)):
            out[f"psnr_{name}"] = psnr(xh, xv)
            out[f"sharpness_{name}"] = sharpness_ratio(r, f)
        # two frames of each visualizer on the sheet (its first and middle one; at most 24 columns)
        starts = torch.tensor([0] + sizes[:-1]).cumsum(0)
        show = torch.stack([starts, starts + torch.tensor(sizes) // 2], dim=1).flatten()[:24]
        out_dir.mkdir(parents=True, exist_ok=True)
        sheet = out_dir / f"recon_step_{step:06d}.png"
        frame_grid(sheet, [("truth", frames[show]), ("recon", recon[show])],
                   title=f"VAE step {step}: PSNR {out['psnr']:.2f} dB")
        out["images"] = {"recon": sheet}
        return out

    def state_extra(self) -> dict[str, Any]:
        return {"model": {"size": self.cfg.vae.size, "latent_channels": self.cfg.vae.latent_channels}}

