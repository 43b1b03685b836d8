"""Training the regression baseline (AudioToVideoNet) with plain MSE: the "grey sludge" reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from synesthete.config import Config
from synesthete.contact_sheet import contact_sheet
from synesthete.data import ProceduralAVDataset
from synesthete.data.batches import step_batches
from synesthete.train.builders import build_regression
from synesthete.train.vae_task import to_model_range, to_uint8


class RegressionTask:
    name = "regression"

    def __init__(self, cfg: Config, device: torch.device):
        self.cfg, self.device = cfg, device
        self.model = build_regression(cfg)
        self.train_cfg = cfg.regression.train
        self.compat_keys = ["regression.dim", "regression.depth", "data.sample_rate", "data.fps", "data.size"]
        self.clips_per_step = self.train_cfg.batch
        self._val: list[dict] | None = None

    def batches(self, start_step: int, rank: int, world: int, workers: int) -> Iterator[Any]:
        return step_batches(self.cfg.data, self.train_cfg.batch, start_step, rank, world, workers)

    def loss(self, model: nn.Module, batch: dict[str, Any], gen: torch.Generator) -> tuple[torch.Tensor, dict]:
        target = to_model_range(batch["video"].to(self.device))
        pred = model(batch["audio"].to(self.device))
        return F.mse_loss(pred.float(), target), {}

    @torch.no_grad()
    def validate(self, ema_model: nn.Module, step: int, out_dir: Path) -> dict[str, Any]:
        if self._val is None:
            val = ProceduralAVDataset(self.cfg.data, split="val")
            self._val = [val.clip(i) for i in range(min(2, max(1, self.cfg.data.val_clips)))]
        audio = torch.stack([c["audio"] for c in self._val]).to(self.device)
        target = to_model_range(torch.stack([c["video"] for c in self._val]).to(self.device))
        pred = ema_model(audio)
        out_dir.mkdir(parents=True, exist_ok=True)
        d, clip = self.cfg.data, self._val[0]
        video = to_uint8(pred[0]).cpu()
        sheet = contact_sheet(out_dir / f"step_{step:06d}_val0.png", video, clip["audio"], d.fps, d.sample_rate,
                              clip["events"], title=f"regression baseline step {step}",
                              rows=[("regression", video), ("truth", clip["video"])])
        return {"val_loss": float(F.mse_loss(pred, target)), "images": {"val0": sheet}}

    def state_extra(self) -> dict[str, Any]:
        return {}
