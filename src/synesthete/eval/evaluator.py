"""Evaluator network: the feature space for a Fréchet distance between sets of videos.

An FVD-style metric needs features that see what defines a clip's content. Inception/I3D
features know nothing about abstract visualizers, so this small net is trained on procedural
clips to predict their ground truth from the video alone:
  - the visualizer (9-way class): what is drawn;
  - the mode (major/minor): the palette family;
  - the tempo, normalised to [0, 1] over the tempo range (drift speed is proportional to it;
    at the default budget it stays near the constant guess: reported, not relied on);
  - the 16 per-frame features (kick, snare, rms, beat_phase, ...) frame by frame, and so their
    means over the clip: how the picture moves with the music. (Clip means alone were tried as
    the target: too weak a signal, the net learnt nothing from them in 300 steps.)
Its penultimate layer (`dim`-d, 128 by default) is the feature space (`video_features`).

Architecture (about 150k parameters at width 8, size 64): each frame plus its difference to
the previous frame (6 channels) goes through four stride-2 3x3 convs (8-16-32-64 channels,
GroupNorm) to a size/16 grid, flattened (layout matters: rings vs tunnel) to 64-d, plus a
projection of per-frame brightness statistics; three residual dilated temporal convs mix
frames; mean and std over time are pooled, then a linear + SiLU gives the 128-d feature vector
and linear heads the clip predictions (the per-frame head reads the temporal trunk). It
accepts any number of frames.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from synesthete.audio.features import NUM_FEATURES
from synesthete.audio.plan import TEMPO_RANGE
from synesthete.config import DataConfig
from synesthete.data import VAL_INDEX_BASE, make_clip
from synesthete.device import pick_device
from synesthete.eval.nets_cache import (FRAME_STATS, frame_stats, frames_and_motion, load_or_train,
                                        render_pool, seeded_init)
from synesthete.visualizers import REGISTRY

VISUALIZERS: tuple[str, ...] = tuple(sorted(REGISTRY))
MODES: tuple[str, ...] = ("major", "minor")
DEFAULT_STEPS = 500
DEFAULT_BATCH = 12
DEFAULT_CLIPS = 960
"""Default budget: 500 steps of 12 clips (32-frame crops) over a pool of 960 training clips
(rendered once, 0.57 GB at 64 px). Measured on one CPU core: about 2 min (11 s rendering), and
on 72 validation clips visualizer 0.99, mode 1.00. (300 steps over 720 clips: 0.90.)"""


def normalise_tempo(bpm: torch.Tensor | float) -> torch.Tensor:
    lo, hi = TEMPO_RANGE
    return (torch.as_tensor(bpm, dtype=torch.float32) - lo) / (hi - lo)


class TimeNorm(nn.LayerNorm):
    """LayerNorm over the channels of [B, C, T], per time step: no statistics pooled over time
    or over the batch, so a clip's overall level (loudness, brightness) survives."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


class VideoEvaluator(nn.Module):
    """uint8 or float video [B, T, 3, H, W] -> (features [B, dim], predictions dict)."""

    def __init__(self, size: int = 64, width: int = 8, dim: int = 128):
        super().__init__()
        self.size, self.dim = size, dim
        chans = [6, width, 2 * width, 4 * width, 8 * width]
        layers: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:]):  # four stride-2 convs: size -> size / 16
            layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.GroupNorm(8, cout), nn.SiLU()]
        self.frames = nn.Sequential(*layers)
        c = chans[-1]
        cells = (size // 16) ** 2
        self.flat = nn.Linear(c * cells, c)  # keeps the layout (where things are), not just what
        self.stat_proj = nn.Linear(FRAME_STATS, c)
        self.temporal = nn.ModuleList([nn.Conv1d(c, c, 3, padding=d, dilation=d) for d in (1, 2, 4)])
        self.tnorm = nn.ModuleList([TimeNorm(c) for _ in range(3)])
        self.embed = nn.Linear(2 * c, dim)
        self.heads = nn.Linear(dim, len(VISUALIZERS) + len(MODES) + 1)
        self.frame_head = nn.Conv1d(c, NUM_FEATURES, 1)  # per-frame features, from the trunk

    def prepare(self, video: torch.Tensor) -> torch.Tensor:
        """uint8/float(0-255) [B, T, 3, H, W] -> float [B, T, 6, size, size]: frame and its change."""
        return frames_and_motion(video, self.size)

    def forward(self, video: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        x = self.prepare(video)
        b, t = x.shape[:2]
        h = F.silu(self.flat(self.frames(x.flatten(0, 1)).flatten(1))).reshape(b, t, -1)
        h = (h + self.stat_proj(frame_stats(x))).transpose(1, 2)      # (B, C, T)
        for conv, norm in zip(self.temporal, self.tnorm):
            h = h + conv(F.silu(norm(h)))
        pooled = torch.cat([h.mean(dim=2), h.std(dim=2, unbiased=False)], dim=1)
        feats = F.silu(self.embed(pooled))                            # (B, dim): the feature space
        out = self.heads(feats)
        nv, nm = len(VISUALIZERS), len(MODES)
        preds = {"visualizer": out[:, :nv], "mode": out[:, nv:nv + nm],
                 "tempo": out[:, nv + nm], "frame_features": self.frame_head(h).transpose(1, 2)}
        preds["features"] = preds["frame_features"].mean(dim=1)
        return feats, preds


def clip_targets(features: torch.Tensor, meta: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Ground truth for a batch: class ids, normalised tempo, per-frame features and their means."""
    return {
        "visualizer": torch.tensor([VISUALIZERS.index(m["visualizer"]) for m in meta]),
        "mode": torch.tensor([MODES.index(m["mode"]) for m in meta]),
        "tempo": normalise_tempo([float(m["tempo"]) for m in meta]),
        "frame_features": features.float(),
        "features": features.float().mean(dim=1),
    }


def evaluator_loss(preds: dict[str, torch.Tensor],
                   target: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Cross-entropy for the classes plus MSE for the regressions (targets in [0, 1]). The
    per-frame features get x10, putting their gradients on the scale of the class terms; tempo
    keeps x1: at x10 its (mostly unexplained) error drowned the others and cost class accuracy."""
    parts = {
        "visualizer": F.cross_entropy(preds["visualizer"], target["visualizer"]),
        "mode": F.cross_entropy(preds["mode"], target["mode"]),
        "tempo": F.mse_loss(preds["tempo"], target["tempo"]),
        "features": 10.0 * F.mse_loss(preds["frame_features"], target["frame_features"]),
    }
    return sum(parts.values()), {k: float(v.detach()) for k, v in parts.items()}


def train_evaluator(steps: int = DEFAULT_STEPS, batch: int = DEFAULT_BATCH, size: int = 64, seed: int = 0,
                    device: str | torch.device | None = None, clips: int = DEFAULT_CLIPS, crop: int = 32,
                    lr: float = 4e-3, width: int = 8) -> tuple[VideoEvaluator, dict[str, Any]]:
    """Train on a pool of `clips` training clips (indices 0..clips-1) rendered at `size` px.
    Each step draws `batch` clips, a random `crop`-frame window and a random horizontal flip
    (none changes the truth). Seeded: same arguments, same weights (on one device type)."""
    dev = pick_device("auto") if device is None else torch.device(device)
    t0 = time.perf_counter()
    pool = render_pool(list(range(clips)), size)
    targets = clip_targets(pool["features"], pool["meta"])
    render_s = time.perf_counter() - t0
    model = seeded_init(seed, lambda: VideoEvaluator(size=size, width=width)).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, 0.5 * (1 + math.cos(math.pi * s / steps))))
    gen = torch.Generator().manual_seed(seed)
    frames = pool["video"].shape[1]
    crop = min(crop, frames)
    parts: dict[str, float] = {}
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, clips, (batch,), generator=gen)
        start = int(torch.randint(0, frames - crop + 1, (1,), generator=gen))
        video = pool["video"][idx, start:start + crop]
        if bool(torch.rand((), generator=gen) < 0.5):
            video = video.flip(-1)
        target = {k: v[idx] for k, v in targets.items() if k != "features"}
        target["frame_features"] = target["frame_features"][:, start:start + crop]
        _, preds = model(video.to(dev))
        loss, parts = evaluator_loss(preds, {k: v.to(dev) for k, v in target.items()})
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    stats = {"steps": steps, "batch": batch, "clips": clips, "size": size, "seed": seed,
             "render_s": round(render_s, 1), "train_s": round(time.perf_counter() - t0 - render_s, 1),
             "final_loss": {k: round(v, 4) for k, v in parts.items()}, "device": dev.type}
    return model.eval(), stats


@torch.no_grad()
def video_features(model: VideoEvaluator, videos: torch.Tensor, chunk: int = 8) -> torch.Tensor:
    """uint8 videos [N, T, 3, H, W] (any H, W: resized to the evaluator's size) -> float32 [N, dim]."""
    dev = next(model.parameters()).device
    model.eval()
    out = [model(videos[i:i + chunk].to(dev))[0].float().cpu() for i in range(0, len(videos), chunk)]
    return torch.cat(out) if out else torch.zeros(0, model.dim)


@torch.no_grad()
def read_video(model: VideoEvaluator, video: torch.Tensor) -> tuple[torch.Tensor, str]:
    """One uint8 video [T, 3, H, W] -> (its features [1, dim], the visualizer the net names).

    On a generated clip the name says whether the model drew the look it was asked for (the net
    names the truth's visualizer on 0.99 of validation clips). A lenient judge: it reads palette
    and motion as well as layout (the first true frame held still: 0.66 on `standard`), so a
    clip it names is not surely drawn in that look, while true clips are named almost always."""
    dev = next(model.parameters()).device
    model.eval()
    feats, preds = model(video[None].to(dev))
    return feats.float().cpu(), VISUALIZERS[int(preds["visualizer"].argmax(-1))]


@torch.no_grad()
def evaluator_accuracy(model: VideoEvaluator, n_val_clips: int = 36,
                       render_size: int | None = None) -> dict[str, float]:
    """Scores on validation clips VAL_INDEX_BASE + i (never trained on), rendered at
    `render_size` (default: the evaluator's size; 128 checks the resize path):
    visualizer and mode accuracy, tempo MAE in BPM, MAE of the 16 clip-mean features and of the
    per-frame features. Constant-guess baselines (measured): tempo 28 BPM, clip means 0.102,
    per-frame 0.179."""
    cfg = DataConfig(size=render_size or model.size)
    dev = next(model.parameters()).device
    model.eval()
    vis_ok = mode_ok = 0
    tempo_err = feat_err = frame_err = 0.0
    lo, hi = TEMPO_RANGE
    for i in range(n_val_clips):
        clip = make_clip(cfg, VAL_INDEX_BASE + i)
        target = clip_targets(clip["features"][None], [clip["meta"]])
        _, preds = model(clip["video"][None].to(dev))
        preds = {k: v.float().cpu() for k, v in preds.items()}
        vis_ok += int(preds["visualizer"].argmax(-1) == target["visualizer"])
        mode_ok += int(preds["mode"].argmax(-1) == target["mode"])
        tempo_err += float((preds["tempo"] - target["tempo"]).abs()) * (hi - lo)
        feat_err += float((preds["features"] - target["features"]).abs().mean())
        frame_err += float((preds["frame_features"] - target["frame_features"]).abs().mean())
    n = max(n_val_clips, 1)
    return {"visualizer_acc": vis_ok / n, "mode_acc": mode_ok / n,
            "tempo_mae_bpm": tempo_err / n, "features_mae": feat_err / n,
            "frame_features_mae": frame_err / n}


def load_or_train_evaluator(cache_dir: Path, size: int = 64, steps: int = DEFAULT_STEPS,
                            batch: int = DEFAULT_BATCH, seed: int = 0, clips: int = DEFAULT_CLIPS,
                            width: int = 8, device: str | torch.device | None = None,
                            val_clips: int = 36) -> tuple[VideoEvaluator, dict[str, Any]]:
    """The cached evaluator for this config, training it once if missing (weights on the CPU).
    The sidecar's stats include `evaluator_accuracy` on `val_clips` validation clips."""
    config = {"net": "evaluator", "version": 1, "size": size, "steps": steps, "batch": batch,
              "seed": seed, "clips": clips, "width": width}

    def train() -> tuple[nn.Module, dict[str, Any]]:
        model, stats = train_evaluator(steps, batch, size=size, seed=seed, device=device, clips=clips,
                                       width=width)
        stats["val"] = evaluator_accuracy(model, val_clips) if val_clips else {}
        return model, stats

    return load_or_train(cache_dir, "evaluator", config,
                         lambda: VideoEvaluator(size=size, width=width), train)
