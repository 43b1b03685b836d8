"""`synesthete bench-data`: procedural clips per second per core, per visualizer."""

from __future__ import annotations

import dataclasses
import functools
import statistics
import time
from typing import Callable

from torch.utils.data import DataLoader

from synesthete.bench.machine import machine_info
from synesthete.config import DataConfig
from synesthete.data import ProceduralAVDataset, check_visualizers
from synesthete.data.procedural import warm_worker


def _throughput(cfg: DataConfig, workers: int, clips: int, warmup: int) -> float:
    """Clips/s of a DataLoader with `workers` processes, timed after `warmup` clips arrived."""
    loader = DataLoader(ProceduralAVDataset(cfg), batch_size=None, num_workers=workers,
                        worker_init_fn=functools.partial(warm_worker, sample_rate=cfg.sample_rate))
    it = iter(loader)
    for _ in range(warmup * workers):
        next(it)
    t0 = time.perf_counter()
    for _ in range(clips):
        next(it)
    elapsed = time.perf_counter() - t0
    del it
    return clips / elapsed


def bench_data(
    cfg: DataConfig,
    clips: int = 48,
    workers: tuple[int, ...] = (1, 2),
    on_result: Callable[[str, int, float], None] | None = None,
) -> dict:
    """Per visualizer and worker count: clips/s, clips/s per core and frames/s per core."""
    per_vis: dict[str, dict] = {}
    for name in check_visualizers(cfg):
        one = dataclasses.replace(cfg, visualizers=[name], epoch_size=None)
        per_vis[name] = {}
        for w in workers:
            cps = _throughput(one, w, clips, warmup=4)
            per_core = cps / w
            per_vis[name][f"workers_{w}"] = {
                "clips_per_s": round(cps, 2),
                "clips_per_s_per_core": round(per_core, 2),
                "frames_per_s_per_core": round(per_core * cfg.frames, 1),
            }
            if on_result is not None:
                on_result(name, w, cps)
    key = f"workers_{workers[0]}"
    return {
        "benchmark": "bench-data",
        "median_clips_per_s_per_core": round(
            statistics.median(v[key]["clips_per_s_per_core"] for v in per_vis.values()), 2
        ),
        "headline_workers": workers[0],
        "clip": {"seconds": cfg.seconds, "frames": cfg.frames, "size": cfg.size,
                 "samples": cfg.samples, "sample_rate": cfg.sample_rate, "fps": cfg.fps},
        "clips_timed": clips,
        "per_visualizer": per_vis,
        "machine": machine_info(),
    }
