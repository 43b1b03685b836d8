"""The infinite procedural dataset: music + an audio-reactive visualizer video, with exact truth.

A clip is a pure function of (dataset seed, clip index): the index picks a song, a window in
it, a visualizer and a style. Training indices count up from 0; validation indices live in
their own range (from VAL_INDEX_BASE) that training never reaches.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import torch
from torch.utils.data import IterableDataset, get_worker_info

from synesthete.audio import plan_song, render_clip, warm_caches
from synesthete.config import ConfigError, DataConfig
from synesthete.seeds import stable_seed
from synesthete.visualizers import REGISTRY, get_visualizer

VAL_INDEX_BASE = 1 << 40
"""Validation clip i has index VAL_INDEX_BASE + i; training draws indices below it."""


def check_visualizers(cfg: DataConfig) -> list[str]:
    """The visualizer names a config draws from; unknown names are a ConfigError naming the key."""
    if cfg.visualizers == ["all"]:
        return sorted(REGISTRY)
    for name in cfg.visualizers:
        if name not in REGISTRY:
            raise ConfigError(
                f"data.visualizers: unknown visualizer {name!r} (known: all, {', '.join(sorted(REGISTRY))})"
            )
    return list(cfg.visualizers)


def clip_seed(dataset_seed: int, index: int) -> int:
    """A 63-bit seed from (dataset seed, index), stable across machines and Python versions."""
    return stable_seed("synesthete", dataset_seed, index)


def make_clip(cfg: DataConfig, index: int, visualizers: list[str] | None = None) -> dict[str, Any]:
    """Render clip `index` of the stream: the same bytes every time.

    Returns {audio float32 [1, L], video uint8 [T, 3, H, W], events {name: seconds},
    features float32 [T, F], meta {...}}.
    """
    names = visualizers if visualizers is not None else check_visualizers(cfg)
    gen = torch.Generator().manual_seed(clip_seed(cfg.seed, index))
    song_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
    # Windows start on a frame boundary anywhere in the song, so every section is seen.
    last_frame = max(0, int((plan_song(song_seed).duration - cfg.seconds) * cfg.fps))
    start = int(torch.randint(0, last_frame + 1, (1,), generator=gen)) / cfg.fps
    vis_name = names[int(torch.randint(0, len(names), (1,), generator=gen))]

    music = render_clip(song_seed, start, cfg.seconds, cfg.sample_rate, cfg.fps)
    vis = get_visualizer(vis_name)
    style = vis.sample_style(gen, music.meta["mode"], music.meta["tempo"])
    video = vis.render(music.features, style, cfg.size, cfg.fps, t0=start, tempo=music.meta["tempo"])
    meta = dict(music.meta, seed=cfg.seed, index=index, visualizer=vis_name, style=style)
    return {
        "audio": music.audio,
        "video": video,
        "events": music.events,
        "features": music.features,
        "meta": meta,
    }


def warm_worker(worker_id: int, sample_rate: int) -> None:
    """DataLoader `worker_init_fn` (use functools.partial): fill the sound caches up front so
    no clip pays for first-use synthesis (picklable, for spawn-based workers on macOS)."""
    warm_caches(sample_rate)


def _shard() -> tuple[int, int]:
    """(this shard's id, number of shards) over DataLoader workers x distributed ranks."""
    rank, world = 0, 1
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    else:  # torchrun sets these before the process group exists
        rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    info = get_worker_info()
    wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
    return rank * nw + wid, world * nw


class ProceduralAVDataset(IterableDataset):
    """Endless (or `epoch_size`-long) stream of procedural clips, sharded by worker and rank.

    Shard s of S yields indices start + s, start + s + S, ...: N workers x M ranks never
    yield the same clip, and the union over shards is every index exactly once.
    """

    def __init__(self, cfg: DataConfig, split: str = "train", start_index: int = 0):
        if split not in ("train", "val"):
            raise ValueError(f"split must be 'train' or 'val', got {split!r}")
        self.cfg = cfg
        self.split = split
        self.visualizers = check_visualizers(cfg)
        self.start_index = start_index
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """With `epoch_size`, epoch e covers train indices [e * epoch_size, (e + 1) * epoch_size)."""
        self.epoch = epoch

    def indices(self) -> range:
        if self.split == "val":
            return range(VAL_INDEX_BASE, VAL_INDEX_BASE + self.cfg.val_clips)
        if self.cfg.epoch_size is not None:
            begin = self.epoch * self.cfg.epoch_size
            return range(max(begin, self.start_index), begin + self.cfg.epoch_size)
        return range(self.start_index, VAL_INDEX_BASE)

    def __len__(self) -> int:
        if self.split == "train" and self.cfg.epoch_size is None:
            raise TypeError("an endless stream has no length (set data.epoch_size)")
        return len(self.indices())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        shard, shards = _shard()
        for index in self.indices()[shard::shards]:
            yield make_clip(self.cfg, index, self.visualizers)

    def clip(self, i: int) -> dict[str, Any]:
        """The i-th clip of this split (validation clip i, or training index i)."""
        base = VAL_INDEX_BASE if self.split == "val" else 0
        return make_clip(self.cfg, base + i, self.visualizers)


def collate_clips(batch: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack tensors ([B, ...]); events and meta stay per-clip lists (their lengths differ)."""
    return {
        "audio": torch.stack([b["audio"] for b in batch]),
        "video": torch.stack([b["video"] for b in batch]),
        "features": torch.stack([b["features"] for b in batch]),
        "events": [b["events"] for b in batch],
        "meta": [b["meta"] for b in batch],
    }
