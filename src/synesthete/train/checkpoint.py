"""Checkpoints: safetensors weights + a JSON state, written atomically, last 3 kept plus the best.

Layout of a stage folder (e.g. runs/quick/dit/):
    step_000500/  model.safetensors  ema.safetensors  optim.pt  state.json
    best/         (the same files, for the lowest validation loss so far)
`state.json` carries the step, the full config, its hash and the data position, so a model can
be rebuilt without the YAML. Loading never unpickles code (safetensors; optim.pt with
weights_only=True).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from synesthete.atomic_file import save_weights
from synesthete.config import config_diff
from synesthete.errors import first_line

STEP_DIR = re.compile(r"^step_(\d{6,})$")


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable or was made with an incompatible config."""


class DamagedCheckpoint(CheckpointError):
    """A checkpoint's files are missing or cannot be read (an interrupted copy, a failing disk): unlike
    an incompatible config, a reason to resume from the checkpoint before it."""


def _contiguous(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu").contiguous() for k, v in state.items()}


def save_checkpoint(
    stage_dir: Path,
    step: int,
    model: dict[str, torch.Tensor],
    state: dict[str, Any],
    ema: dict[str, torch.Tensor] | None = None,
    optim: dict[str, Any] | None = None,
    keep: int = 3,
    name: str | None = None,
) -> Path:
    """Write `step_XXXXXX/` (or `name/`) atomically: a temp folder, then one rename."""
    stage_dir = Path(stage_dir)
    stage_dir.mkdir(parents=True, exist_ok=True)
    final = stage_dir / (name or f"step_{step:06d}")
    tmp = stage_dir / f".{final.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        save_weights(_contiguous(model), tmp / "model.safetensors")
        if ema is not None:
            save_weights(_contiguous(ema), tmp / "ema.safetensors")
        if optim is not None:
            torch.save(optim, tmp / "optim.pt")
        (tmp / "state.json").write_text(json.dumps({"step": step, **state}, indent=1))
    except (OSError, RuntimeError) as e:
        # a full disk (torch.save raises a RuntimeError of its own); the checkpoints before stay
        shutil.rmtree(tmp, ignore_errors=True)
        reason = e.strerror if isinstance(e, OSError) and e.strerror else first_line(e)
        raise CheckpointError(f"cannot write checkpoint {final}: {reason}") from e
    old = stage_dir / f".{final.name}.old"
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    if name is None:
        for stale in list_checkpoints(stage_dir)[:-keep]:
            shutil.rmtree(stale, ignore_errors=True)
    return final


def list_checkpoints(stage_dir: Path) -> list[Path]:
    """step_* folders, oldest first."""
    stage_dir = Path(stage_dir)
    if not stage_dir.is_dir():
        return []
    found = [p for p in stage_dir.iterdir() if p.is_dir() and STEP_DIR.match(p.name)]
    return sorted(found, key=lambda p: int(STEP_DIR.match(p.name).group(1)))


def latest_checkpoint(stage_dir: Path) -> Path | None:
    found = list_checkpoints(stage_dir)
    return found[-1] if found else None


def read_state(ckpt: Path) -> dict[str, Any]:
    path = Path(ckpt) / "state.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DamagedCheckpoint(f"no checkpoint at {ckpt} (missing state.json)") from None
    except json.JSONDecodeError:
        raise DamagedCheckpoint(f"checkpoint {ckpt} is damaged (state.json is not JSON)") from None


def training_budget(state: dict[str, Any]) -> dict[str, Any]:
    """{"step", "clips", "seconds"} of training behind a checkpoint's weights, from its state: the
    clips seen over every rank (None without a data position) and the loop's `train_seconds` (None
    from checkpoints made before it kept them)."""
    pos, step = state.get("data_position") or {}, state.get("step")
    per_step = pos.get("clips_per_step")
    return {"step": step, "seconds": state.get("train_seconds"),
            "clips": None if per_step is None or step is None else step * per_step * pos.get("world", 1)}


def load_weights(ckpt: Path, which: str = "ema") -> dict[str, torch.Tensor]:
    """`ema` (what samples use; falls back to `model` when a stage keeps no EMA) or `model`."""
    ckpt = Path(ckpt)
    path = ckpt / f"{which}.safetensors"
    if which == "ema" and not path.exists():
        path = ckpt / "model.safetensors"
    if not path.exists():
        raise DamagedCheckpoint(f"no weights at {path}")
    try:
        return load_file(path)
    except Exception as e:
        raise DamagedCheckpoint(f"cannot read {path}: {e}") from None


def load_optim(ckpt: Path) -> dict[str, Any] | None:
    path = Path(ckpt) / "optim.pt"
    if not path.exists():
        return None
    try:
        return torch.load(path, weights_only=True)
    except Exception as e:
        raise DamagedCheckpoint(f"cannot read {path}: {first_line(e)}") from None


def check_compatible(ckpt: Path, saved: dict[str, Any], current: dict[str, Any], keys: list[str]) -> None:
    """Raise one line naming every config key under `keys` whose value differs."""
    def pick(d: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in keys:
            node: Any = d
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            out[key] = node
        return out

    a, b = pick(saved), pick(current)
    diff = config_diff(a, b)
    if diff:
        shown = ", ".join(f"{k} ({_get(a, k)!r} in checkpoint vs {_get(b, k)!r} now)" for k in diff[:4])
        more = f" and {len(diff) - 4} more" if len(diff) > 4 else ""
        raise CheckpointError(f"checkpoint {ckpt} was made with an incompatible config: {shown}{more}")


def _get(d: dict[str, Any], dotted: str) -> Any:
    # keys of the picked dict are themselves dotted ("vae"), then nested below
    for top in sorted(d, key=len, reverse=True):
        if dotted == top:
            return d[top]
        if dotted.startswith(top + "."):
            node: Any = d[top]
            for part in dotted[len(top) + 1:].split("."):
                node = node.get(part) if isinstance(node, dict) else None
            return node
    return None
