"""The training stages of a run, each resumable and skipped once finished."""

from __future__ import annotations

from pathlib import Path

import torch
from rich.console import Console

from synesthete.config import Config
from synesthete.train.builders import build_inference_vae, load_trained, stage_checkpoint
from synesthete.train.checkpoint import latest_checkpoint, read_state
from synesthete.train.dit_task import DiTTask
from synesthete.train.loop import fit
from synesthete.train.regression_task import RegressionTask
from synesthete.train.vae_task import VAETask


def train_vae(cfg: Config, run_dir: Path, device: torch.device, console: Console | None = None) -> Path:
    return fit(VAETask(cfg, device), cfg, run_dir, device, console=console)


def train_dit(cfg: Config, run_dir: Path, device: torch.device, console: Console | None = None) -> Path:
    """Needs the finished VAE stage; reuses the latent statistics of an earlier DiT checkpoint."""
    vae, _, _ = load_trained(stage_checkpoint(run_dir, "vae"), build_inference_vae, device)
    latest = latest_checkpoint(Path(run_dir) / "dit")
    stats = None
    if latest is not None:
        state = read_state(latest)
        stats = {k: state[k] for k in ("latent_shift", "latent_scale")}
    return fit(DiTTask(cfg, vae, device, stats), cfg, run_dir, device, console=console)


def train_regression(cfg: Config, run_dir: Path, device: torch.device, console: Console | None = None) -> Path:
    return fit(RegressionTask(cfg, device), cfg, run_dir, device, console=console)


STAGES = {"vae": train_vae, "dit": train_dit, "regression": train_regression}
