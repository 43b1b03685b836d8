"""Train-once cache for the evaluation networks (Fréchet evaluator, sync scorer).

A metric is only comparable across runs if its network is the same, so each net is trained
once per config and cached: `<name>-<key>.safetensors` (weights) plus `<name>-<key>.json`
(the config, its key and the training stats), where `key` hashes the JSON config. Training is
seeded, so a missing cache rebuilds the same weights (on the same device type).
Also holds the small pieces both nets share: a pool of procedural clips rendered once, and the
video input (frames plus their change, resized) with per-frame brightness statistics.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from synesthete import atomic_file
from synesthete.config import DataConfig
from synesthete.data import make_clip
from synesthete.errors import first_line


def config_key(config: dict[str, Any]) -> str:
    """12 hex digits of sha256 over the canonical JSON of `config`."""
    blob = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def cache_paths(cache_dir: Path, name: str, config: dict[str, Any]) -> tuple[Path, Path]:
    """(weights, sidecar) paths for `name` trained with `config`."""
    stem = f"{name}-{config_key(config)}"
    return Path(cache_dir) / f"{stem}.safetensors", Path(cache_dir) / f"{stem}.json"


def load_or_train(
    cache_dir: Path,
    name: str,
    config: dict[str, Any],
    build: Callable[[], nn.Module],
    train: Callable[[], tuple[nn.Module, dict[str, Any]]],
) -> tuple[nn.Module, dict[str, Any]]:
    """Load `name` for `config` from `cache_dir`, or call `train()` once and cache its result.

    `build()` makes an untrained model of the right shape for loading. Returns (model in eval
    mode on the CPU, sidecar stats). Writes are atomic (temp file, then rename), so a killed run
    never leaves a half-written cache entry that a later run would trust.
    """
    weights, sidecar = cache_paths(cache_dir, name, config)
    if weights.exists() and sidecar.exists():
        try:
            meta = json.loads(sidecar.read_text())
            model = build()
            model.load_state_dict(load_file(weights))
            return model.eval(), meta.get("stats", {})
        except (SafetensorError, json.JSONDecodeError, RuntimeError, OSError) as e:
            # a damaged entry (a failing disk, a hand-edited file): the cache is derived, so rebuild it
            print(f"{name}: cannot read the cached {weights.name} ({first_line(e)}); training it again",
                  file=sys.stderr, flush=True)
    # minutes of silence otherwise: the evaluation's bar does not move while its nets train
    print(f"{name}: training once (minutes on a CPU), then cached in {cache_dir} for every later evaluation",
          file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    model, stats = train()
    model = model.to("cpu").eval()
    weights.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    # weights first, sidecar last: an entry counts once both exist. Another process training the same
    # net at once (two runs started together) writes the same seeded weights; the last rename wins.
    with atomic_file.replacing(weights) as tmp:
        atomic_file.save_weights(state, tmp)
    atomic_file.write_text(sidecar, json.dumps({"name": name, "key": config_key(config), "config": config,
                                                "stats": stats}, indent=1))
    print(f"{name}: trained in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return model, stats


def seeded_init(seed: int, build: Callable[[], nn.Module]) -> nn.Module:
    """build() under a forked global RNG seeded with `seed`: same seed, same initial weights,
    and the caller's RNG state is left untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def render_pool(indices: list[int], size: int, audio: bool = False) -> dict[str, Any]:
    """Render clips `indices` (dataset seed 0) at `size` px once, to reuse across steps:
    rendering costs about as much as a training step, so a pool seen a few times is cheaper
    than fresh clips each step. Returns {video uint8 [N,T,3,S,S], features [N,T,F], meta,
    audio [N,1,L] if asked}."""
    cfg = DataConfig(size=size)
    clips = [make_clip(cfg, i) for i in indices]
    pool: dict[str, Any] = {
        "video": torch.stack([c["video"] for c in clips]),
        "features": torch.stack([c["features"] for c in clips]),
        "meta": [c["meta"] for c in clips],
    }
    if audio:
        pool["audio"] = torch.stack([c["audio"] for c in clips])
    return pool


def to_net_size(frames: torch.Tensor, size: int) -> torch.Tensor:
    """Frames [N, 3, H, W] (float) -> [N, 3, size, size] as the nets see them: area-averaged down,
    bilinear up, unchanged at that size."""
    if frames.shape[-2:] == (size, size):
        return frames
    mode = "area" if frames.shape[-1] > size else "bilinear"
    return F.interpolate(frames, size=(size, size), mode=mode)


def frames_and_motion(video: torch.Tensor, size: int) -> torch.Tensor:
    """uint8/float(0-255) [B, T, 3, H, W] -> float [B, T, 6, size, size]: each frame in [0, 1]
    and 2x its difference to the previous frame (0 for the first): motion is what syncs."""
    b, t = video.shape[:2]
    x = to_net_size(video.reshape(b * t, *video.shape[2:]).float() / 255.0, size)
    x = x.reshape(b, t, 3, size, size)
    diff = torch.cat([torch.zeros_like(x[:, :1]), x[:, 1:] - x[:, :-1]], dim=1)
    return torch.cat([x, 2.0 * diff], dim=2)


FRAME_STATS = 24
"""Width of `frame_stats`: 6 channels x (mean, std) x (raw, relative to the clip)."""


def frame_stats(x: torch.Tensor) -> torch.Tensor:
    """[B, T, 6, H, W] -> [B, T, 24]: per-channel mean and std of each frame, raw and relative to
    the clip's average. Per-frame norms in a conv stack remove a frame's overall gain, which is
    exactly how loudness, snare and crash show (the renderer scales brightness by them)."""
    s = torch.cat([x.mean(dim=(3, 4)), x.std(dim=(3, 4))], dim=2)    # (B, T, 12)
    return 5.0 * torch.cat([s, s - s.mean(dim=1, keepdim=True)], dim=2)
