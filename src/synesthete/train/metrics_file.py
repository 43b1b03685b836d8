"""Reading a run's metrics.jsonl (written by `train.tracker`): every number a stage logged, by step;
and a stage's latest validation figures, which its checkpoints keep too."""

from __future__ import annotations

import json
from pathlib import Path

from synesthete.train.checkpoint import CheckpointError, latest_checkpoint, read_state

Series = tuple[list[int], list[float]]


def read_metrics(path: Path) -> dict[str, dict[str, Series]]:
    """metrics.jsonl -> stage -> key -> (steps, values), in step order.

    A resumed stage logs again from its checkpoint's step, so where a step was logged twice the
    later row wins. Non-numeric values (and nulls) are left out, and so are lines that are not a
    row: a write cut short by a killed process, which the resumed run's next row is appended to.
    """
    table: dict[str, dict[str, dict[int, float]]] = {}
    for line in path.read_text(errors="replace").splitlines():
        try:
            row = json.loads(line)
            stage, step = str(row["stage"]), int(row["step"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
        keys = table.setdefault(stage, {})
        for key, value in row.items():
            if key in ("stage", "step", "time") or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            keys.setdefault(key, {})[step] = float(value)
    return {stage: {k: (sorted(v), [v[s] for s in sorted(v)]) for k, v in keys.items()}
            for stage, keys in table.items()}


def last_values(path: Path, stage: str) -> dict[str, float]:
    """The value at the latest step of every number `stage` logged ({} without a file or a row)."""
    series = read_metrics(path).get(stage, {}) if Path(path).is_file() else {}
    return {key: values[-1] for key, (_, values) in series.items()}


def last_validation(run_dir: Path, stage: str) -> dict[str, float]:
    """A stage's latest figures (`val_psnr`, ...): from the run's metrics.jsonl, or else from the stage's
    latest checkpoint, which keeps them since a stage copied from another run logged nothing here."""
    values = last_values(Path(run_dir) / "metrics.jsonl", stage)
    if any(k.startswith("val_") for k in values):
        return values
    ckpt = latest_checkpoint(Path(run_dir) / stage)
    if ckpt is None:
        return values
    try:
        kept = read_state(ckpt).get("val") or {}
    except CheckpointError:
        return values
    return {**values, **{k: float(v) for k, v in kept.items() if k != "step" and isinstance(v, (int, float))}}
