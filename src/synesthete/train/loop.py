"""The one training loop, for every model (VAE, DiT, regression baseline, evaluators).

A plain loop counted in steps (right for an endless stream), in the manner of nanoGPT: a tiny
LR function, EMA, checkpoints at intervals, validation on rank 0, DDP detected from the
environment (`torchrun`). What differs between models lives in a `Task`.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Protocol

import torch
import torch.distributed as dist
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from torch import nn

from synesthete.config import Config, TrainConfig, config_from_dict
from synesthete.device import autocast, cpu_threads_for_training, data_workers, use_bf16
from synesthete.progress import Progress
from synesthete.seeds import stable_seed
from synesthete.train.checkpoint import (
    CheckpointError,
    DamagedCheckpoint,
    check_compatible,
    list_checkpoints,
    load_optim,
    load_weights,
    read_state,
    save_checkpoint,
)
from synesthete.train.ema import EMA
from synesthete.train.tracker import Tracker


class Task(Protocol):
    """What the loop needs to know about one model's training."""

    name: str                 # stage folder name: "vae", "dit", "regression", ...
    model: nn.Module          # the module whose trainable parameters are optimised
    train_cfg: TrainConfig
    compat_keys: list[str]    # config keys a checkpoint must share with the current config
    clips_per_step: int       # for the clips/s readout
    # optional: find_unused_parameters = True when some parameters idle for part of the run (DDP)
    # optional: param_groups(model) -> AdamW parameter groups, each may carry "lr_mult" (x the schedule)

    def batches(self, start_step: int, rank: int, world: int, workers: int) -> Iterator[Any]:
        """Batches for steps start_step, start_step + 1, ...: a pure function of the step,
        rendered by `workers` DataLoader processes (0 = in this process)."""

    def loss(self, model: nn.Module, batch: Any, gen: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        """The training loss of `model` (maybe DDP-wrapped) on `batch`, and scalars to log."""

    def validate(self, ema_model: nn.Module, step: int, out_dir: Path) -> dict[str, Any]:
        """Fixed validation clips: returns {"val_loss": float, ...; "images": {name: png path}}."""

    def state_extra(self) -> dict[str, Any]:
        """Extra JSON to store in each checkpoint's state (e.g. the latent scale)."""


@dataclass
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device: torch.device) -> DistInfo:
    """Join the process group that `torchrun` describes in the environment (gloo on CPU)."""
    world = int(os.environ.get("WORLD_SIZE", 1))
    if world <= 1:
        return DistInfo()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))


def step_generator(seed: int, rank: int, step: int, device: torch.device) -> torch.Generator:
    """All randomness of a step comes from (seed, rank, step): any step can be replayed."""
    gen_device = device if device.type in ("cuda", "mps") else torch.device("cpu")
    return torch.Generator(gen_device).manual_seed(stable_seed("step", seed, rank, step))


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def _progress(console: Console, enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"), TimeRemainingColumn(),
        console=console, disable=not enabled, refresh_per_second=4,
    )


class _Trainer:
    """Mutable state of one fit() call: model, optimiser, EMA, and where the stream is."""

    def __init__(self, task: Task, cfg: Config, run_dir: Path, device: torch.device, info: DistInfo):
        self.task, self.cfg, self.device, self.info = task, cfg, device, info
        self.tcfg = task.train_cfg
        self.bf16 = use_bf16(self.tcfg.bf16, device)   # train.bf16 null (auto) resolved for this machine
        self.stage_dir = Path(run_dir) / task.name
        self.model = task.model.to(device)
        groups = getattr(task, "param_groups", None)
        params = groups(self.model) if groups else [p for p in self.model.parameters() if p.requires_grad]
        self.opt = torch.optim.AdamW(params, lr=self.tcfg.lr, betas=(0.9, 0.99),
                                     weight_decay=self.tcfg.weight_decay)
        self.ema = EMA(self.model, self.tcfg.ema_decay)
        self.step = 0
        self.lr_scale = 1.0
        self.best = math.inf
        self.last_val: dict[str, float] = {}   # the latest validation's figures, "step" included
        # seconds of training behind the weights (validation and checkpoints included), carried across
        # resumes: a baseline's budget in the evaluation; None from a checkpoint made before it was kept
        self.seconds_before: float | None = 0.0
        self.clock = time.perf_counter()

    def train_seconds(self) -> float | None:
        return None if self.seconds_before is None else self.seconds_before + time.perf_counter() - self.clock

    def state(self) -> dict[str, Any]:
        return {
            "stage": self.task.name,
            "config": self.cfg.to_dict(),
            "config_hash": self.cfg.hash(),
            "data_position": {"next_step": self.step, "clips_per_step": self.task.clips_per_step,
                              "world": self.info.world},
            "lr_scale": self.lr_scale,
            "best_val_loss": None if math.isinf(self.best) else self.best,
            "val": self.last_val,
            "finished": self.step >= self.tcfg.steps,
            "train_seconds": self.train_seconds(),
            "bf16": self.bf16,
            **self.task.state_extra(),
        }

    def save(self, name: str | None = None) -> Path:
        return save_checkpoint(
            self.stage_dir, self.step, self.model.state_dict(), self.state(),
            ema=self.ema.state_dict(), optim=self.opt.state_dict(), name=name,
        )

    def restore(self, ckpt: Path) -> None:
        state = read_state(ckpt)
        # through the dataclasses, so a key added since the checkpoint was made reads as its default
        saved = config_from_dict(state["config"]).to_dict()
        check_compatible(ckpt, saved, self.cfg.to_dict(), self.task.compat_keys)
        self.model.load_state_dict(load_weights(ckpt, "model"))
        self.ema.load_state_dict(load_weights(ckpt, "ema"))
        optim = load_optim(ckpt)
        if optim is not None:
            try:
                self.opt.load_state_dict(optim)
            except ValueError as e:   # e.g. a critic given its own learning rate since (param groups)
                raise CheckpointError(f"the optimizer state in {ckpt} does not fit this run: {e}") from None
        self.step = int(state["step"])
        self.lr_scale = float(state.get("lr_scale", 1.0))
        best = state.get("best_val_loss")
        self.best = math.inf if best is None else float(best)
        self.last_val = dict(state.get("val") or {})
        self.seconds_before, self.clock = state.get("train_seconds"), time.perf_counter()


def _restore_newest_readable(tr: _Trainer, console: Console | None) -> Path | None:
    """Restore the stage's newest checkpoint that reads, or None when it has none. A damaged one (an
    interrupted copy, a failing disk) is named and passed over, and training replaces it when it
    reaches its step again; an incompatible config still stops the run."""
    found = list_checkpoints(tr.stage_dir)
    for ckpt in reversed(found):
        try:
            tr.restore(ckpt)
            return ckpt
        except DamagedCheckpoint as e:
            if console is not None:
                console.print(f"[yellow]{tr.task.name}: {e}; resuming from the checkpoint before it[/yellow]")
    if found:
        raise DamagedCheckpoint(f"every checkpoint in {tr.stage_dir} is damaged: move the folder aside "
                                f"to train the stage anew")
    return None


def fit(task: Task, cfg: Config, run_dir: Path, device: torch.device,
        progress: bool = True, console: Console | None = None) -> Path:
    """Train `task` to `task.train_cfg.steps`, resuming from the stage's latest checkpoint.

    Returns the final checkpoint folder. A stage that already finished returns at once.
    """
    console = console or Console(stderr=True)
    info = init_distributed(device)
    tr = _Trainer(task, cfg, run_dir, device, info)
    tcfg = tr.tcfg
    latest = _restore_newest_readable(tr, console if info.main else None)
    if latest is not None:
        if tr.step >= tcfg.steps:
            return latest
        if info.main:
            console.print(f"[dim]{task.name}: resuming from {latest} (step {tr.step})[/dim]")
    if info.main and tr.bf16 and tcfg.bf16 is None:
        console.print(f"[dim]{task.name}: bf16 autocast (train.bf16 auto: this CPU computes bf16 natively)[/dim]")

    model: nn.Module = tr.model
    if info.world > 1:
        model = nn.parallel.DistributedDataParallel(
            tr.model, device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=getattr(task, "find_unused_parameters", False),
        )
    tracker = Tracker(Path(run_dir), task.name, cfg.to_dict(), cfg.wandb.mode, cfg.wandb.project,
                      enabled=info.main)
    trainable = [p for p in tr.model.parameters() if p.requires_grad]
    # Validation comes at each epoch end when the stream has epochs, else every val_every steps.
    val_every = tcfg.val_every
    if cfg.data.epoch_size is not None:
        val_every = max(1, cfg.data.epoch_size // (task.clips_per_step * info.world))
    workers = data_workers(tcfg.workers, device)
    batches = task.batches(tr.step, info.rank, info.world, workers)
    bad_in_a_row = 0
    t_last, steps_since = time.perf_counter(), 0
    loss_avg: float | None = None
    final: Path | None = None
    tr.model.train()
    with cpu_threads_for_training(device, workers), _progress(console, progress and info.main) as bar:
        bar_task = bar.add_task(task.name, total=tcfg.steps, completed=tr.step, info="")
        while tr.step < tcfg.steps:
            batch = next(batches)
            lr = lr_at(tr.step, tcfg) * tr.lr_scale
            for group in tr.opt.param_groups:
                group["lr"] = lr * group.get("lr_mult", 1.0)
            gen = step_generator(cfg.data.seed, info.rank, tr.step, device)
            with autocast(device, tr.bf16):
                loss, logs = task.loss(model, batch, gen)
            if not torch.isfinite(loss):
                bad_in_a_row += 1
                warnings.warn(f"{task.name}: non-finite loss at step {tr.step}; step skipped")
                tr.opt.zero_grad(set_to_none=True)
                if bad_in_a_row >= tcfg.max_bad_steps:
                    spent = tr.train_seconds()   # the undone steps were paid for: a baseline's budget keeps them
                    if _restore_newest_readable(tr, console if info.main else None) is None:
                        raise FloatingPointError(
                            f"{task.name}: {bad_in_a_row} non-finite losses in a row and no checkpoint to roll back to"
                        )
                    tr.seconds_before, tr.clock = spent, time.perf_counter()
                    tr.lr_scale *= 0.5
                    warnings.warn(f"{task.name}: rolled back to step {tr.step}, learning rate x{tr.lr_scale:g}")
                    batches = task.batches(tr.step, info.rank, info.world, workers)
                    bad_in_a_row = 0
                else:
                    tr.step += 1
                continue
            bad_in_a_row = 0
            tr.opt.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(trainable, tcfg.grad_clip)
            tr.opt.step()
            tr.ema.update(tr.model, tr.step)
            tr.step += 1
            steps_since += 1
            value = float(loss.detach())
            loss_avg = value if loss_avg is None else 0.9 * loss_avg + 0.1 * value

            if tr.step % tcfg.log_every == 0 or tr.step == tcfg.steps:
                now = time.perf_counter()
                clips_s = steps_since * task.clips_per_step * info.world / max(now - t_last, 1e-9)
                t_last, steps_since = now, 0
                tracker.log(tr.step, {"loss": value, "lr": lr, "grad_norm": float(grad_norm),
                                      "clips_per_s": clips_s, **logs})
                bar.update(bar_task, completed=tr.step,
                           info=f"loss {loss_avg:.4f} · {clips_s:.1f} clips/s")
            else:
                bar.update(bar_task, completed=tr.step)

            end = tr.step == tcfg.steps
            if tr.step % val_every == 0 or end:
                if info.main:
                    tr.model.eval()
                    result = task.validate(tr.ema.model, tr.step, Path(run_dir) / "samples" / task.name)
                    tr.model.train()
                    images = result.pop("images", {})
                    logged = {f"val_{k}" if not k.startswith("val_") else k: v for k, v in result.items()}
                    tracker.log(tr.step, logged)
                    # kept in the checkpoints too, so a stage copied into another run still tells its scores
                    tr.last_val = {"step": tr.step, **{k: float(v) for k, v in logged.items()
                                                       if isinstance(v, (int, float)) and math.isfinite(v)}}
                    tracker.log_images(tr.step, images)
                    val_loss = result.get("val_loss")
                    if val_loss is not None and val_loss < tr.best:
                        tr.best = float(val_loss)
                        tr.save(name="best")
            if tr.step % tcfg.ckpt_every == 0 or end:
                if info.main:
                    final = tr.save()
                if info.world > 1:
                    dist.barrier()
    tracker.finish()
    return final if final is not None else tr.stage_dir / f"step_{tr.step:06d}"
