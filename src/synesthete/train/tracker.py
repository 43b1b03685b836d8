"""Experiment tracking: metrics.jsonl always, W&B only when the user has configured it.

`mode: auto` goes online only when W&B credentials exist (WANDB_API_KEY or a netrc entry),
otherwise stays disabled; tests and CI never touch the network.
"""

from __future__ import annotations

import netrc
import os
import time
from pathlib import Path
from typing import Any

from synesthete import jsonout
from synesthete.config import ConfigError
from synesthete.errors import first_line, naming


def _wandb_configured() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def resolve_wandb_mode(mode: str) -> str:
    """auto -> online if configured (and not under pytest/CI), else disabled."""
    if mode != "auto":
        return mode
    if os.environ.get("PYTEST_CURRENT_TEST") or os.environ.get("CI"):
        return "disabled"
    return "online" if _wandb_configured() else "disabled"


class Tracker:
    """Appends every log to `metrics.jsonl`; mirrors to W&B when enabled (rank 0 only)."""

    def __init__(self, run_dir: Path, stage: str, config: dict, mode: str = "auto",
                 project: str = "synesthete", enabled: bool = True):
        self.path = Path(run_dir) / "metrics.jsonl"
        self.stage = stage
        self.enabled = enabled
        self._wandb = None
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        mode = resolve_wandb_mode(mode)
        if enabled and mode != "disabled":
            import wandb  # imported only when used

            try:
                self._wandb = wandb.init(project=project, name=f"{Path(run_dir).name}-{stage}", config=config,
                                         mode=mode, dir=str(run_dir), reinit=True)
            except wandb.errors.Error as e:   # e.g. online without an API key: before any step is lost
                raise ConfigError(f"wandb.mode: W&B cannot start {mode}: {first_line(e)} "
                                  f"(or track to metrics.jsonl only with wandb.mode=disabled)") from None

    def log(self, step: int, values: dict[str, Any]) -> None:
        if not self.enabled:
            return
        # wall-clock seconds (Unix time) on every row: stage durations and step rates come from
        # the file alone, as in W&B's _timestamp
        row = {"stage": self.stage, "step": step, "time": round(time.time(), 3), **values}
        with naming(self.path), self.path.open("a") as f:
            f.write(jsonout.dumps(row) + "\n")
        if self._wandb is not None:
            self._wandb.log({f"{self.stage}/{k}": v for k, v in values.items()}, step=step)

    def log_images(self, step: int, images: dict[str, Path]) -> None:
        if self._wandb is not None:
            import wandb

            self._wandb.log({f"{self.stage}/{k}": wandb.Image(str(p)) for k, p in images.items()}, step=step)

    def finish(self) -> None:
        if self._wandb is not None:
            self._wandb.finish()
            self._wandb = None
