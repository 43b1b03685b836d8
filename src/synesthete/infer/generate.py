"""Audio -> video with the trained models: sample latents with the DiT, decode with the VAE.

Generation is windowed from the start: audio is cut into windows of the training clip length
(`data.seconds`); a 3 s clip is one window. Windows are sampled in order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from synesthete.config import Config
from synesthete.diffusion import cfg_denoiser, sample_ddim, sample_euler_flow, to_denoiser
from synesthete.models import AudioDiT, SpatialVAE
from synesthete.train.builders import build_denoiser, build_vae, load_trained, stage_checkpoint
from synesthete.train.vae_task import to_uint8


def window_generator(seed: int, window: int) -> torch.Generator:
    """The noise of window w of a generation with `seed`: reproducible on any device."""
    digest = hashlib.sha256(f"generate:{seed}:{window}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)


@dataclass
class VideoGenerator:
    """The trained pair, ready to turn audio into frames."""

    vae: SpatialVAE          # with the latent normalisation the DiT was trained on
    model: AudioDiT
    cfg: Config
    device: torch.device

    @classmethod
    def from_run(cls, run_dir: Path, device: torch.device) -> "VideoGenerator":
        model, cfg, state = load_trained(stage_checkpoint(run_dir, "dit"), build_denoiser, device)
        vae, _, _ = load_trained(stage_checkpoint(run_dir, "vae"), build_vae, device)
        set_latent_stats(vae, state)
        return cls(vae, model, cfg, device)

    @property
    def frames_per_window(self) -> int:
        return self.cfg.data.frames

    @torch.no_grad()
    def sample_latents(self, audio: torch.Tensor, noise: torch.Tensor, steps: int, guidance: float,
                       sampler: str | None = None, drop_audio: bool = False,
                       callback: Callable | None = None) -> torch.Tensor:
        """audio [B, 1, T * spf], noise [B, T, Cz, h, w] -> normalised latents [B, T, Cz, h, w]."""
        tokens, _ = self.model.audio_encoder(audio.to(self.device))       # encoded once per window
        denoiser = to_denoiser(self.model.dit, self.cfg.dit.objective)
        if drop_audio:
            guided, extra = denoiser, {"audio": tokens,
                                       "drop_audio": torch.ones(audio.shape[0], dtype=torch.bool, device=self.device)}
        else:
            guided, extra = cfg_denoiser(denoiser, guidance), {"audio": tokens}
        sampler = sampler or self.cfg.sample.sampler
        if sampler == "euler":
            return sample_euler_flow(guided, noise.to(self.device), steps, extra_args=extra, callback=callback)
        return sample_ddim(guided, noise.to(self.device), steps, extra_args=extra, callback=callback)

    @torch.no_grad()
    def decode(self, latents: torch.Tensor, chunk: int = 64) -> torch.Tensor:
        """Normalised latents [B, T, Cz, h, w] -> uint8 frames [B, T, 3, H, W] (on the CPU)."""
        b, t = latents.shape[:2]
        z = self.vae.denormalize_latent(latents.flatten(0, 1))
        frames = torch.cat([to_uint8(self.vae.decode(c)).cpu() for c in z.split(chunk)])
        return frames.unflatten(0, (b, t))

    @torch.no_grad()
    def generate(self, audio: torch.Tensor, seed: int | None = None, steps: int | None = None,
                 guidance: float | None = None, sampler: str | None = None, drop_audio: bool = False,
                 on_window: Callable[[int, int], None] | None = None) -> torch.Tensor:
        """audio float [1, L] at the model's sample rate -> uint8 video [ceil(L / spf), 3, H, W]."""
        s = self.cfg.sample
        seed = s.seed if seed is None else seed
        steps = s.steps if steps is None else steps
        guidance = s.guidance if guidance is None else guidance
        spf = self.cfg.data.samples_per_frame
        total = -(-audio.shape[-1] // spf)
        audio = torch.nn.functional.pad(audio.reshape(1, -1), (0, total * spf - audio.shape[-1]))
        cz, h = self.cfg.vae.latent_channels, self.cfg.data.size // self.vae.downsample
        out = []
        starts = list(range(0, total, self.frames_per_window))
        for w, f0 in enumerate(starts):
            t = min(self.frames_per_window, total - f0)
            chunk = audio[:, f0 * spf:(f0 + t) * spf][None]                   # [1, 1, t*spf]
            noise = torch.randn(1, t, cz, h, h, generator=window_generator(seed, w))
            lat = self.sample_latents(chunk, noise, steps, guidance, sampler, drop_audio)
            out.append(self.decode(lat)[0])
            if on_window is not None:
                on_window(w + 1, len(starts))
        return torch.cat(out)


def set_latent_stats(vae: SpatialVAE, state: dict) -> None:
    """Install the latent normalisation a DiT checkpoint was trained with."""
    vae.set_latent_stats(torch.tensor(state["latent_shift"]), torch.tensor(state["latent_scale"]))
