"""Training batches as a pure function of the step: what makes a resumed run exact.

Step k on rank r of R holds clips with indices (k * R + r) * B ... (k * R + r) * B + B - 1.
DataLoader workers render different steps in parallel; DataLoader returns them in step order.
"""

from __future__ import annotations

import functools
from typing import Any, Iterator

from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from synesthete.config import DataConfig
from synesthete.data.procedural import check_visualizers, collate_clips, make_clip, warm_worker


class StepBatches(IterableDataset):
    """Yields the collated batch of every step from `start_step` on, endlessly."""

    def __init__(self, cfg: DataConfig, batch: int, start_step: int = 0, rank: int = 0, world: int = 1):
        self.cfg, self.batch, self.start_step, self.rank, self.world = cfg, batch, start_step, rank, world
        self.visualizers = check_visualizers(cfg)

    def clip_indices(self, step: int) -> range:
        first = (step * self.world + self.rank) * self.batch
        return range(first, first + self.batch)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
        step = self.start_step + wid
        while True:
            batch = collate_clips([make_clip(self.cfg, i, self.visualizers) for i in self.clip_indices(step)])
            batch["step"] = step
            yield batch
            step += nw


def step_batches(cfg: DataConfig, batch: int, start_step: int, rank: int = 0, world: int = 1,
                 workers: int = 1) -> Iterator[dict[str, Any]]:
    """An iterator over the batches of steps start_step, start_step + 1, ... in order."""
    source = StepBatches(cfg, batch, start_step, rank, world)
    if workers == 0:
        return iter(source)
    return iter(DataLoader(source, batch_size=None, num_workers=workers, prefetch_factor=2,
                           worker_init_fn=functools.partial(warm_worker, sample_rate=cfg.sample_rate)))


def reused(source: Iterator[Any], reuse: int, start_step: int) -> Iterator[Any]:
    """Each item of `source` for `reuse` consecutive training steps, starting at `start_step`.

    `source` must begin at rendered batch `start_step // reuse` (see `step_batches`); a run
    resumed mid-group repeats its first item only for the steps left in that group, so the
    batch at every step is the one an uninterrupted run would have seen.
    """
    skip = start_step % reuse
    for item in source:
        for _ in range(reuse - skip):
            yield item
        skip = 0
