"""Learned sync scorer: SyncNet adapted to abstract visuals.

Hand-made sync checks (eval/pulse.py) look for one cue, a pulse on the kick. This net learns
every cue the visualizers use (flashes on snares, jolts on kicks, drift on beats) from the
procedural ground truth: two towers embed each video frame and each audio frame into a shared
unit-length space, and training makes the true alignment the nearest among 2K+1 candidate
offsets (K = MAX_SHIFT frames), after shifting the video by a random d in [-K, K].

  audio tower: log-mel -> AudioEncoder (64-d, dilations 1-2-4, one frame block): about +-3
               frames of context per token;
  video tower: frame + frame difference at `size` px -> three stride-2 convs (16-32-64
               channels) -> flatten -> 64-d, plus per-frame brightness statistics, then one
               temporal conv (+-1 frame).

Sign convention: offset +k means the video lags the audio by k frames (frame t shows what the
audio did at t - k), which is what `shift_video(video, +k)` produces.
`predict_offset` reports SyncNet's two numbers: `min_dist` (LSE-D: mean embedding distance at
the best offset, lower is better) and `confidence` (LSE-C: median over offsets minus the
minimum, higher is better).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
import torchaudio
from torch import nn

from synesthete.config import DataConfig
from synesthete.data import VAL_INDEX_BASE, make_clip
from synesthete.device import pick_device
from synesthete.eval.nets_cache import (FRAME_STATS, frame_stats, frames_and_motion, load_or_train,
                                        render_pool, seeded_init, to_net_size)
from synesthete.models.audio_encoder import AudioEncoder

MAX_SHIFT = 6
"""K: candidate offsets are -K..K frames (+-375 ms at 16 fps)."""
DEFAULT_STEPS = 500
DEFAULT_BATCH = 16
DEFAULT_CLIPS = 800
"""Default budget: 500 steps of 16 clips over a pool of 800 training clips. Measured on one CPU
core: about 2 min (6 s rendering); on 72 validation clips x 13 shifts (-6..6), 0.96 within +-1
frame (0.99 for shifts made by cropping a longer clip rather than repeating edge frames)."""


def shift_video(video: torch.Tensor, k: int) -> torch.Tensor:
    """Delay video [..., T, 3, H, W] by k frames (k < 0: advance), repeating the edge frame:
    out[t] = video[clamp(t - k, 0, T - 1)]."""
    t = video.shape[-4]
    idx = (torch.arange(t) - k).clamp(0, t - 1)
    return video.index_select(-4, idx.to(video.device))


class SyncScorer(nn.Module):
    """Two towers: audio [B, 1, L] -> [B, T, dim] and video [B, T, 3, H, W] -> [B, T, dim],
    both L2-normalised per frame."""

    def __init__(self, sample_rate: int = 16000, fps: int = 16, size: int = 32, dim: int = 64,
                 width: int = 16):
        super().__init__()
        self.sample_rate, self.fps, self.size, self.dim = sample_rate, fps, size, dim
        self.audio = AudioEncoder(sample_rate, fps, n_mels=40, dim=64, dilations=(1, 2, 4), frame_blocks=1)
        self.audio_proj = nn.Linear(64, dim)
        chans = [6, width, 2 * width, 4 * width]
        layers: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:]):  # three stride-2 convs: size -> size / 8
            layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.GroupNorm(8, cout), nn.SiLU()]
        self.frames = nn.Sequential(*layers)
        c = chans[-1]
        self.flat = nn.Linear(c * (size // 8) ** 2, c)
        self.stat_proj = nn.Linear(FRAME_STATS, c)
        self.temporal = nn.Conv1d(c, c, 3, padding=1)
        self.video_proj = nn.Linear(c, dim)
        self.log_scale = nn.Parameter(torch.tensor(math.log(10.0)))  # logits = -scale * distance

    @property
    def frame_hop(self) -> int:
        return self.sample_rate // self.fps

    def embed_audio(self, audio: torch.Tensor) -> torch.Tensor:
        tokens, _ = self.audio(audio)                                  # (B, T, 64)
        return F.normalize(self.audio_proj(tokens), dim=-1)

    def embed_video(self, video: torch.Tensor) -> torch.Tensor:
        x = frames_and_motion(video, self.size)                        # (B, T, 6, S, S)
        b, t = x.shape[:2]
        h = F.silu(self.flat(self.frames(x.flatten(0, 1)).flatten(1))).reshape(b, t, -1)
        h = h + self.stat_proj(frame_stats(x))                         # (B, T, C)
        h = h + self.temporal(F.silu(h).transpose(1, 2)).transpose(1, 2)
        return F.normalize(self.video_proj(F.silu(h)), dim=-1)


def offset_distances(v: torch.Tensor, a: torch.Tensor, max_shift: int = MAX_SHIFT) -> torch.Tensor:
    """Video and audio embeddings [B, T, D] -> mean distance [B, 2K+1] for offsets -K..K:
    dist_k = mean over t in [K, T-K) of |v_t - a_(t-k)|. Every offset averages the same frames."""
    t = v.shape[1]
    assert t > 2 * max_shift, f"need more than {2 * max_shift} frames, got {t}"
    vw = v[:, max_shift:t - max_shift]
    out = [(vw - a[:, max_shift - k:t - max_shift - k]).norm(dim=-1).mean(dim=1)
           for k in range(-max_shift, max_shift + 1)]
    return torch.stack(out, dim=1)


def train_sync_scorer(steps: int = DEFAULT_STEPS, batch: int = DEFAULT_BATCH, size: int = 32, seed: int = 0,
                      device: str | torch.device | None = None, clips: int = DEFAULT_CLIPS,
                      lr: float = 2e-3) -> tuple[SyncScorer, dict[str, Any]]:
    """Train on a pool of `clips` training clips (indices 0..clips-1) rendered at `size` px:
    each step shifts every video by a random d in [-K, K] (and flips half the batch left-right)
    and minimises cross-entropy over the 2K+1 candidate offsets with the truth at d.
    Seeded: same arguments, same weights (on one device type)."""
    dev = pick_device("auto") if device is None else torch.device(device)
    cfg = DataConfig()
    t0 = time.perf_counter()
    pool = render_pool(list(range(clips)), size, audio=True)
    render_s = time.perf_counter() - t0
    model = seeded_init(seed, lambda: SyncScorer(cfg.sample_rate, cfg.fps, size)).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, 0.5 * (1 + math.cos(math.pi * s / steps))))
    gen = torch.Generator().manual_seed(seed)
    loss_avg = acc_avg = 0.0
    model.train()
    for step in range(steps):
        idx = torch.randint(0, clips, (batch,), generator=gen)
        shifts = torch.randint(-MAX_SHIFT, MAX_SHIFT + 1, (batch,), generator=gen)
        video = torch.stack([shift_video(pool["video"][i], int(d)) for i, d in zip(idx, shifts)])
        if bool(torch.rand((), generator=gen) < 0.5):
            video = video.flip(-1)
        audio = pool["audio"][idx].to(dev)
        dist = offset_distances(model.embed_video(video.to(dev)), model.embed_audio(audio))
        logits = -model.log_scale.clamp(max=math.log(100.0)).exp() * dist
        target = (shifts + MAX_SHIFT).to(dev)
        loss = F.cross_entropy(logits, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step >= steps - max(1, steps // 10):  # running figures over the last tenth
            loss_avg += float(loss.detach())
            acc_avg += float((logits.argmax(1) == target).float().mean())
    tail = max(1, steps // 10) if steps else 1
    stats = {"steps": steps, "batch": batch, "clips": clips, "size": size, "seed": seed,
             "render_s": round(render_s, 1), "train_s": round(time.perf_counter() - t0 - render_s, 1),
             "final_loss": round(loss_avg / tail, 4), "final_train_acc": round(acc_avg / tail, 4),
             "device": dev.type}
    return model.eval(), stats


@torch.no_grad()
def predict_offset(model: SyncScorer, video: torch.Tensor, audio: torch.Tensor, fps: int,
                   sample_rate: int) -> dict[str, Any]:
    """video uint8 [T, 3, H, W] (any H, W), audio [1, L] or [L] -> {offset_frames, offset_ms,
    confidence (LSE-C), min_dist (LSE-D), dists (per offset -K..K)}. Audio at another rate is
    resampled; L is trimmed or zero-padded to T frames. Needs T > 2K (13 frames)."""
    if fps != model.fps:
        raise ValueError(f"the sync scorer was trained at {model.fps} fps, got {fps}")
    audio = audio.reshape(1, 1, -1).float()
    if sample_rate != model.sample_rate:
        audio = torchaudio.functional.resample(audio, sample_rate, model.sample_rate)
    need = video.shape[0] * model.frame_hop
    audio = F.pad(audio, (0, max(0, need - audio.shape[-1])))[..., :need]
    dev = next(model.parameters()).device
    model.eval()
    dist = offset_distances(model.embed_video(video[None].to(dev)), model.embed_audio(audio.to(dev)))[0].cpu()
    best = int(dist.argmin())
    offset = best - MAX_SHIFT
    return {"offset_frames": offset, "offset_ms": 1000.0 * offset / fps,
            "confidence": float(dist.median() - dist.min()), "min_dist": float(dist.min()),
            "dists": [round(float(d), 5) for d in dist]}


class ScorerFrames:
    """The scorer's frames of a video at any frame rate and size, picked as chunks of it arrive: the
    frame nearest each of the scorer's frame times, shrunk to its size at once (so a long or large
    video costs memory for its small frames only)."""

    def __init__(self, fps: float, model: SyncScorer) -> None:
        self.step, self.size = fps / model.fps, model.size
        self.seen = 0                    # source frames so far
        self.small: list[torch.Tensor] = []
        self.picked = 0                  # scorer frames so far
        self.last: torch.Tensor | None = None

    def add(self, chunk: torch.Tensor) -> None:
        """The next source frames, uint8 [n, 3, H, W]."""
        end = self.seen + chunk.shape[0]
        idx = []
        while (k := math.floor(self.picked * self.step + 0.5)) < end:
            idx.append(k - self.seen)
            self.picked += 1
        if idx:
            self.small.append(to_net_size(chunk[idx].float(), self.size))   # 0-255, as frames_and_motion takes
        self.seen, self.last = end, chunk[-1:]

    def frames(self) -> torch.Tensor:
        """float (0-255) [n, 3, size, size] for the n = floor(T x scorer fps / fps) scorer frames of the
        T frames seen (the last frame stands in for a time rounded past it)."""
        n = int(self.seen / self.step + 1e-6)
        out = torch.cat(self.small) if self.small else torch.zeros(0, 3, self.size, self.size)
        if out.shape[0] < n:
            out = torch.cat([out, to_net_size(self.last.float(), self.size).expand(n - out.shape[0], -1, -1, -1)])
        return out[:n]


@torch.no_grad()
def score_scorer_frames(model: SyncScorer, picked: ScorerFrames, audio: torch.Tensor,
                        sample_rate: int) -> dict[str, Any] | None:
    """`predict_offset` on the frames a `ScorerFrames` picked (`eval --video`), plus `fps` (the
    scorer's, which sets the offset's resolution) and `frames` (scored). None when shorter than
    2K+1 frames."""
    frames = picked.frames()
    if frames.shape[0] <= 2 * MAX_SHIFT:
        return None
    return {**predict_offset(model, frames, audio, model.fps, sample_rate), "fps": model.fps, "frames": frames.shape[0]}


def score_any_video(model: SyncScorer, video: torch.Tensor, fps: float, audio: torch.Tensor,
                    sample_rate: int, chunk: int = 256) -> dict[str, Any] | None:
    """`score_scorer_frames` of a whole video uint8 [T, 3, H, W] at any frame rate and size."""
    picked = ScorerFrames(fps, model)
    for i in range(0, video.shape[0], chunk):
        picked.add(video[i:i + chunk])
    return score_scorer_frames(model, picked, audio, sample_rate)


@torch.no_grad()
def offset_accuracy(model: SyncScorer, n_clips: int = 36, shifts: tuple[int, ...] = (-4, -2, 0, 2, 4),
                    render_size: int | None = None) -> dict[str, float]:
    """On validation clips VAL_INDEX_BASE + i (never trained on), rendered at `render_size`
    (default: the scorer's size): shift each video by every shift in `shifts` and predict.
    Returns the fraction within +-1 frame (`acc_1`), exact (`acc_0`), and the mean LSE-C and
    LSE-D at zero shift."""
    cfg = DataConfig(size=render_size or model.size)
    near = exact = total = 0
    conf, dmin = [], []
    for i in range(n_clips):
        clip = make_clip(cfg, VAL_INDEX_BASE + i)
        for k in shifts:
            r = predict_offset(model, shift_video(clip["video"], k), clip["audio"], cfg.fps, cfg.sample_rate)
            near += int(abs(r["offset_frames"] - k) <= 1)
            exact += int(r["offset_frames"] == k)
            total += 1
            if k == 0:
                conf.append(r["confidence"])
                dmin.append(r["min_dist"])
    total = max(total, 1)
    return {"acc_1": near / total, "acc_0": exact / total,
            "confidence": sum(conf) / max(len(conf), 1), "min_dist": sum(dmin) / max(len(dmin), 1)}


def load_or_train_sync_scorer(cache_dir: Path, size: int = 32, steps: int = DEFAULT_STEPS,
                              batch: int = DEFAULT_BATCH, seed: int = 0, clips: int = DEFAULT_CLIPS,
                              device: str | torch.device | None = None,
                              val_clips: int = 36) -> tuple[SyncScorer, dict[str, Any]]:
    """The cached sync scorer for this config, training it once if missing (weights on the CPU).
    The sidecar's stats include `offset_accuracy` on `val_clips` validation clips."""
    config = {"net": "sync_scorer", "version": 1, "size": size, "steps": steps, "batch": batch,
              "seed": seed, "clips": clips, "max_shift": MAX_SHIFT}

    def train() -> tuple[nn.Module, dict[str, Any]]:
        model, stats = train_sync_scorer(steps, batch, size=size, seed=seed, device=device, clips=clips)
        stats["val"] = offset_accuracy(model.to("cpu"), val_clips) if val_clips else {}
        return model, stats

    cfg = DataConfig()
    return load_or_train(cache_dir, "sync_scorer", config,
                         lambda: SyncScorer(cfg.sample_rate, cfg.fps, size), train)
