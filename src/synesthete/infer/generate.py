"""Audio -> video with the trained models: sample latents with the DiT, decode with the VAE.

Audio of any length is cut into overlapping windows of the training clip length (`data.seconds`),
sampled in order and streamed out as they finish (infer.windows has the plan and the blend).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator, Protocol

import torch

from synesthete.config import Config
from synesthete.device import frame_chunk
from synesthete.diffusion import SelfConditioned, cfg_denoiser, sample_ddim, sample_euler_flow, to_denoiser
from synesthete.diffusion.warm_start import warm_start
from synesthete.infer.windows import blend, crossfade_weights, next_window_start
from synesthete.models import AudioDiT, SpatialVAE
from synesthete.seeds import stable_seed
from synesthete.train.checkpoint import CheckpointError
from synesthete.train.builders import build_denoiser, build_inference_vae, load_trained, stage_checkpoint
from synesthete.train.vae_task import to_uint8
from synesthete.visualizers import visualizer_index


def window_generator(seed: int, window: int) -> torch.Generator:
    """The noise of window w of a generation with `seed`: reproducible on any device."""
    return torch.Generator().manual_seed(stable_seed("generate", seed, window))


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
        vae, vae_cfg, _ = load_trained(stage_checkpoint(run_dir, "vae"), build_inference_vae, device)
        if vae_cfg.vae.latent_channels != cfg.vae.latent_channels:
            raise CheckpointError(f"{run_dir}: the DiT expects {cfg.vae.latent_channels} latent channels, "
                                  f"the VAE makes {vae_cfg.vae.latent_channels}")
        set_latent_stats(vae, state)
        return cls(vae, model, cfg, device)

    @property
    def frames_per_window(self) -> int:
        return self.cfg.data.frames

    @property
    def takes_visualizer(self) -> bool:
        """Whether the DiT was trained with visualizer labels (dit.visualizer_label)."""
        return self.model.dit.label_embedder is not None

    def require_labels(self, hint: str = "") -> None:
        """A one-line error unless the DiT takes visualizer labels: for what only means something with them."""
        if not self.takes_visualizer:
            raise CheckpointError("this run's DiT takes no visualizer label "
                                  f"(trained with dit.visualizer_label: false){hint}")

    def resample(self, **fields) -> None:
        """Sample another way from now on: `sample.*` fields (e.g. guidance=5.0), validated as config."""
        if fields:
            self.cfg = replace(self.cfg, sample=replace(self.cfg.sample, **fields))

    def label_for(self, clip: dict) -> str | None:
        """The visualizer to ask for when generating for `clip`: its own, if the model takes one."""
        return clip["meta"]["visualizer"] if self.takes_visualizer else None

    def visualizer_label(self, visualizer: str | None) -> torch.Tensor | None:
        """The label tensor [1] for `visualizer` (None for None); a one-line error if the model takes none."""
        if visualizer is None:
            return None
        self.require_labels("; leave out --visualizer")
        return torch.tensor([visualizer_index(visualizer)], device=self.device)

    @torch.no_grad()
    def sample_latents(self, audio: torch.Tensor, noise: torch.Tensor, steps: int, guidance: float,
                       sampler: str | None = None, drop_audio: bool = False,
                       callback: Callable | None = None, known: torch.Tensor | None = None,
                       visualizer: str | None = None) -> torch.Tensor:
        """audio [B, 1, T * spf], noise [B, T, Cz, h, w] -> normalised latents [B, T, Cz, h, w].

        `known` [B, n, Cz, h, w]: clean latents of the first n frames (a sliding window's
        overlap with the previous one), held in place with a fading weight (warm start).
        `visualizer`: the look to draw (models trained with labels; None = the model's choice).
        Guidance is on the audio only: both CFG passes get the same label.
        """
        label = self.visualizer_label(visualizer)
        cond = self.model.audio_condition(audio.to(self.device))          # encoded once per window
        denoiser = to_denoiser(self.model.dit, self.cfg.dit.objective)
        if drop_audio:
            guided, extra = denoiser, {**cond, "drop_audio": torch.ones(audio.shape[0], dtype=torch.bool,
                                                                        device=self.device)}
        else:
            s = self.cfg.sample
            guided = cfg_denoiser(denoiser, guidance, interval=tuple(s.guidance_interval), outside=s.guidance_outside,
                                  rescale=s.guidance_rescale)
            extra = dict(cond)
        if label is not None:
            extra["label"] = label.expand(audio.shape[0])
        if known is not None and known.shape[1]:
            guided = warm_start(guided, known.to(self.device), crossfade_weights(known.shape[1]))
        if self.model.dit.self_cond:
            guided = SelfConditioned(guided)
        sampler = sampler or self.cfg.sample.sampler
        if sampler == "euler":
            return sample_euler_flow(guided, noise.to(self.device), steps, extra_args=extra, callback=callback)
        return sample_ddim(guided, noise.to(self.device), steps, extra_args=extra, callback=callback)

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Normalised latents [B, T, Cz, h, w] -> uint8 frames [B, T, 3, H, W] (on the CPU)."""
        b, t = latents.shape[:2]
        z = self.vae.denormalize_latent(latents.flatten(0, 1).to(self.device))
        frames = torch.cat([to_uint8(self.vae.decode(c)).cpu() for c in z.split(frame_chunk(self.device))])
        return frames.unflatten(0, (b, t))

    @torch.no_grad()
    def stream(self, audio: "AudioSource", seed: int | None = None, steps: int | None = None,
               guidance: float | None = None, sampler: str | None = None, drop_audio: bool = False,
               overlap: int | None = None, windows: list | None = None,
               on_frames: Callable[[int], None] | None = None,
               visualizer: str | None = None) -> Iterator[torch.Tensor]:
        """Yield uint8 frames [n, 3, H, W] in order as windows finish, for audio of any length.

        `audio.read(n)` hands out the model-rate mono signal ([1, <= n]; empty at the end), so
        neither the song nor the video is ever held whole: memory is one window plus its overlap.
        The video has ceil(samples / samples_per_frame) frames. Windows of the training clip
        length overlap by `overlap` frames (at most half a window); each warm-starts from the
        shared frames and the overlap is Hann cross-faded (infer.windows). `windows` (a list)
        receives each (start, length); `on_frames(n)` is told how many frames were finished.
        `visualizer`: see sample_latents.
        """
        self.visualizer_label(visualizer)   # fail before any audio is read
        s = self.cfg.sample
        seed = s.seed if seed is None else seed
        steps = s.steps if steps is None else steps
        guidance = s.guidance if guidance is None else guidance
        window, spf = self.frames_per_window, self.cfg.data.samples_per_frame
        overlap = min(s.overlap if overlap is None else overlap, window // 2)
        cz, h = self.cfg.vae.latent_channels, self.cfg.data.size // self.vae.downsample

        sound = torch.zeros(1, 0)          # model-rate audio from frame `first` on
        first, total = 0, None             # `total` (frames) is known once the audio has ended

        def need(frames: int) -> None:     # buffer audio up to frame `frames` (or the end)
            nonlocal sound, total
            missing = (frames - first) * spf - sound.shape[-1]
            if total is None and missing > 0:
                got = audio.read(missing).reshape(1, -1).float()
                sound = torch.cat([sound, got], dim=-1)
                if got.shape[-1] < missing:
                    total = first + -(-sound.shape[-1] // spf)

        need(window)
        if total == 0:
            return
        latents = torch.zeros(1, 0, cz, h, h)  # finished-but-unwritten latents from frame `first` on
        start, w = 0, 0
        while True:
            length = window if total is None else min(window, total - start)
            a = sound[:, (start - first) * spf:(start - first + length) * spf]
            a = torch.nn.functional.pad(a, (0, length * spf - a.shape[-1]))[None]       # [1, 1, length*spf]
            known = latents[:, start - first:]                                             # shared frames
            noise = torch.randn(1, length, cz, h, h, generator=window_generator(seed, w))
            lat = self.sample_latents(a, noise, steps, guidance, sampler, drop_audio, known=known,
                                      visualizer=visualizer).cpu()
            n = known.shape[1]
            if n:
                lat = torch.cat([blend(known[0], lat[0, :n])[None], lat[:, n:]], dim=1)
            latents = torch.cat([latents[:, :start - first], lat], dim=1)
            if windows is not None:
                windows.append((start, length))
            need(start + window + max(1, window - overlap))   # audio of the next window: tells if it ends
            if total is not None and start + length >= total:
                nxt = total
            else:
                nxt = next_window_start(start, window, overlap, total)
            done, latents = latents[:, :nxt - first], latents[:, nxt - first:]
            sound = sound[:, (nxt - first) * spf:]
            first = nxt
            if done.shape[1]:
                yield self.decode(done)[0]
                if on_frames is not None:
                    on_frames(done.shape[1])
            if first >= (total if total is not None else float("inf")):
                return
            start, w = nxt, w + 1

    @torch.no_grad()
    def generate(self, audio: torch.Tensor, seed: int | None = None, steps: int | None = None,
                 guidance: float | None = None, sampler: str | None = None, drop_audio: bool = False,
                 overlap: int | None = None, windows: list | None = None,
                 visualizer: str | None = None) -> torch.Tensor:
        """audio float [1, L] at the model's sample rate -> uint8 video [ceil(L / spf), 3, H, W]."""
        frames = list(self.stream(TensorAudio(audio), seed=seed, steps=steps, guidance=guidance,
                                  sampler=sampler, drop_audio=drop_audio, overlap=overlap, windows=windows,
                                  visualizer=visualizer))
        if not frames:
            return torch.zeros(0, 3, self.cfg.data.size, self.cfg.data.size, dtype=torch.uint8)
        return torch.cat(frames)


class AudioSource(Protocol):
    def read(self, n: int) -> torch.Tensor:
        """The next (up to) n samples [1, <= n]; empty once the audio has ended."""


class TensorAudio:
    """An in-memory signal as an AudioSource."""

    def __init__(self, audio: torch.Tensor):
        self.audio, self.pos = audio.reshape(1, -1), 0

    def read(self, n: int) -> torch.Tensor:
        out = self.audio[:, self.pos:self.pos + n]
        self.pos += out.shape[-1]
        return out


class Silence:
    """`samples` of silence as an AudioSource, without holding them (audio-free generation)."""

    def __init__(self, samples: int):
        self.left = samples

    def read(self, n: int) -> torch.Tensor:
        n = max(0, min(n, self.left))
        self.left -= n
        return torch.zeros(1, n)


def set_latent_stats(vae: SpatialVAE, state: dict) -> None:
    """Install the latent normalisation a DiT checkpoint was trained with."""
    vae.set_latent_stats(torch.tensor(state["latent_shift"]), torch.tensor(state["latent_scale"]))
