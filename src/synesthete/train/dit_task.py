"""Training the audio encoder + DiT on VAE latents of procedural clips.

The VAE is frozen (its EMA weights). Latents are normalised per channel to unit variance with
statistics measured once on fixed training clips and stored in every DiT checkpoint.
Each rendered and encoded batch trains `dit.reuse` consecutive steps with fresh noise, which
amortises the cost of rendering and encoding on a CPU.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn

from synesthete.config import Config
from synesthete.contact_sheet import contact_sheet
from synesthete.data import ProceduralAVDataset, make_clip
from synesthete.data.batches import reused, step_batches
from synesthete.device import frame_chunk
from synesthete.diffusion import training_loss
from synesthete.eval.pulse import pulse_stats
from synesthete.infer.generate import VideoGenerator, set_latent_stats
from synesthete.media import write_av
from synesthete.models import SpatialVAE
from synesthete.train.builders import build_denoiser
from synesthete.train.vae_task import VAE_SHAPE_KEYS, to_model_range
from synesthete.visualizers import visualizer_index

STATS_CLIPS = 32
"""Training clips (indices from the top of the training range) that fix the latent statistics."""


@torch.no_grad()
def encode_video(vae: SpatialVAE, video: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 [B, T, 3, H, W] -> raw posterior-mean latents [B, T, Cz, h, w] on `device`."""
    b, t = video.shape[:2]
    frames = video.flatten(0, 1)
    z = torch.cat([vae.encode(to_model_range(f.to(device)))[0] for f in frames.split(frame_chunk(device))])
    return z.unflatten(0, (b, t))


@torch.no_grad()
def latent_stats(vae: SpatialVAE, cfg: Config, device: torch.device) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of the latents of STATS_CLIPS fixed training clips."""
    first = 1 << 39  # far above any index a run reaches, below the validation range
    zs = [encode_video(vae, make_clip(cfg.data, first + i)["video"][None], device) for i in range(STATS_CLIPS)]
    z = torch.cat(zs).transpose(0, 2).flatten(1)                          # [Cz, N*T*h*w]
    return z.mean(dim=1).tolist(), z.std(dim=1).tolist()


def labels(metas: list[dict]) -> torch.Tensor:
    """Visualizer label indices [B] of clips (dit.visualizer_label)."""
    return torch.tensor([visualizer_index(m["visualizer"]) for m in metas])


@torch.no_grad()
def grid_loss(model: nn.Module, latents: torch.Tensor, objective: str, extra: dict,
              levels: tuple[float, ...]) -> float:
    """The training loss at fixed noise levels with fixed noise (seed = the level's index),
    averaged: comparable across steps and runs, unlike the training loss."""
    losses = [float(training_loss(model, latents, objective, extra_args=extra, generator=torch.Generator().manual_seed(i),
                                  t=torch.full((len(latents),), t)))
              for i, t in enumerate(levels)]
    return sum(losses) / len(losses)


class DiTTask:
    name = "dit"

    def __init__(self, cfg: Config, vae: SpatialVAE, device: torch.device, stats: dict | None = None):
        self.cfg, self.device = cfg, device
        self.vae = vae.to(device).eval().requires_grad_(False)
        if stats is None:
            shift, scale = latent_stats(self.vae, cfg, device)
            stats = {"latent_shift": shift, "latent_scale": scale}
        self.stats = stats
        set_latent_stats(self.vae, stats)
        self.model = build_denoiser(cfg)
        self.train_cfg = cfg.dit.train
        self.compat_keys = ["dit.size", "dit.audio_dim", "dit.objective", "dit.visualizer_label", "dit.audio_chroma", "dit.audio_key", "dit.self_cond", "dit.label_layout",
                            *VAE_SHAPE_KEYS, "data.sample_rate", "data.fps", "data.size"]
        self.clips_per_step = cfg.dit.train.batch
        self._val: list[dict] | None = None

    def batches(self, start_step: int, rank: int, world: int, workers: int) -> Iterator[Any]:
        reuse = self.cfg.dit.reuse
        source = step_batches(self.cfg.data, self.train_cfg.batch, start_step // reuse, rank, world, workers)
        return reused(map(self._encoded, source), reuse, start_step)

    def _encoded(self, batch: dict[str, Any]) -> dict[str, Any]:
        """A rendered batch -> normalised latents, audio and labels on the device (once per reuse)."""
        latents = self.vae.normalize_latent(encode_video(self.vae, batch["video"], self.device))
        return {"latents": latents, "audio": batch["audio"].to(self.device), "label": labels(batch["meta"])}

    def loss(self, model: nn.Module, batch: dict[str, Any], gen: torch.Generator) -> tuple[torch.Tensor, dict]:
        extra = {"audio": batch["audio"]}
        if self.cfg.dit.visualizer_label:   # the label is dropped (-> null) as often as the audio
            label = batch["label"]
            drop = torch.rand(label.shape, generator=gen, device=gen.device).cpu() < self.cfg.dit.cond_drop
            extra["label"] = torch.where(drop, visualizer_index(None), label).to(self.device)
        loss = training_loss(model, batch["latents"], self.cfg.dit.objective,
                             extra_args=extra, generator=gen, p_uncond=self.cfg.dit.cond_drop,
                             t_shift=self.cfg.dit.t_shift, self_cond=self.cfg.dit.self_cond)
        return loss, {}

    def validation_clips(self) -> list[dict]:
        if self._val is None:
            val = ProceduralAVDataset(self.cfg.data, split="val")
            self._val = [val.clip(i) for i in range(min(4, max(1, self.cfg.data.val_clips)))]
        return self._val

    @torch.no_grad()
    def validate(self, ema_model: nn.Module, step: int, out_dir: Path) -> dict[str, Any]:
        clips = self.validation_clips()
        audio = torch.stack([c["audio"] for c in clips]).to(self.device)
        latents = self.vae.normalize_latent(encode_video(self.vae, torch.stack([c["video"] for c in clips]),
                                                         self.device))
        extra = {"audio": audio}
        if self.cfg.dit.visualizer_label:
            extra["label"] = labels([c["meta"] for c in clips]).to(self.device)
        val_loss = grid_loss(ema_model, latents, self.cfg.dit.objective, extra, (0.1, 0.3, 0.5, 0.7, 0.9))
        gen = VideoGenerator(self.vae, ema_model, self.cfg, self.device)
        out_dir.mkdir(parents=True, exist_ok=True)
        images, ratios, truth_ratios = {}, [], []
        d = self.cfg.data
        for k, clip in enumerate(clips[:2]):
            video = gen.generate(clip["audio"], visualizer=gen.label_for(clip))
            ratios.append(pulse_stats(video, clip["events"]["kick"], d.fps)["ratio"])
            truth_ratios.append(pulse_stats(clip["video"], clip["events"]["kick"], d.fps)["ratio"])
            stem = out_dir / f"step_{step:06d}_val{k}"
            write_av(stem.with_suffix(".mp4"), video, d.fps, clip["audio"], d.sample_rate)
            images[f"val{k}"] = contact_sheet(
                stem.with_suffix(".png"), video, clip["audio"], d.fps, d.sample_rate, clip["events"],
                title=f"DiT step {step} · validation song {k} · {clip['meta']['visualizer']}",
                rows=[("generated", video), ("truth", clip["video"])])
        return {"val_loss": val_loss, "pulse_ratio": sum(ratios) / len(ratios),
                "pulse_ratio_truth": sum(truth_ratios) / len(truth_ratios), "images": images}

    def state_extra(self) -> dict[str, Any]:
        return {**self.stats, "model": {"size": self.cfg.dit.size, "objective": self.cfg.dit.objective}}
