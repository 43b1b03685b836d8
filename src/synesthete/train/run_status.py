"""What each run folder holds: how far each stage trained, its VAE's PSNR, its evaluation's headline.

`synesthete runs` prints it for a folder of runs: the overview of a set of ablations, read from
the files alone (checkpoint states, metrics.jsonl, eval metrics.json), without loading a model.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from synesthete.config import SampleConfig
from synesthete.eval.compare import CompareError, load_metrics
from synesthete.train.checkpoint import CheckpointError, latest_checkpoint, read_state, training_budget
from synesthete.train.metrics_file import last_validation
from synesthete.train.run_lock import holder

STAGE_NAMES = ("vae", "dit", "regression")


def stage_progress(run_dir: Path, stage: str) -> dict[str, Any] | None:
    """{"step", "steps", "finished", "minutes"} of a stage's latest checkpoint (minutes of training behind
    its weights, resumes included; None for checkpoints from before they were kept); None without one."""
    ckpt = latest_checkpoint(Path(run_dir) / stage)
    if ckpt is None:
        return None
    try:
        state = read_state(ckpt)
    except CheckpointError:
        return {"step": None, "steps": None, "finished": False, "damaged": True}
    steps = state.get("config", {}).get(stage, {}).get("train", {}).get("steps")
    seconds = training_budget(state)["seconds"]
    return {"step": state.get("step"), "steps": steps, "finished": bool(state.get("finished")),
            "minutes": None if seconds is None else seconds / 60}


def _read_eval(path: Path) -> dict | None:
    """An evaluation's metrics.json as `synesthete compare` reads it; None if it is not one."""
    try:
        return load_metrics(path)
    except (CompareError, FileNotFoundError):
        return None


def sampling_changes(metrics: dict, run_sample: dict) -> list[str]:
    """How an evaluation sampled unlike its run's config, as overrides (`sample.guidance=4.5`, ...)."""
    used = metrics.get("config", {}).get("sample") or {}
    return [f"sample.{k}={json.dumps(v, separators=(',', ':'))}" for k, v in used.items()
            if k in run_sample and v != run_sample[k]]


def eval_headline(path: Path, metrics: dict, run_sample: dict | None = None) -> dict[str, Any]:
    """The figures the targets are held to, from one evaluation's metrics.json; `sampling` lists how it
    sampled unlike `run_sample` (the run's `sample` config), [] for the run's own way."""
    results = metrics["results"]

    def get(baseline: str, key: str) -> float | None:
        value = results.get(baseline, {}).get(key)
        return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None

    def margin(baseline: str) -> float | None:
        model, other = get("model", "av_align"), get(baseline, "av_align")
        return None if model is None or other is None else model - other

    return {
        "folder": path.parent.name, "songs": len(metrics.get("clips", [])),
        "sampling": sampling_changes(metrics, run_sample or {}),
        "av_align": get("model", "av_align"), "av_align_truth": get("ground_truth", "av_align"),
        "beat_f1": get("model", "beat_f1"), "beat_f1_truth": get("ground_truth", "beat_f1"),
        "margin_shuffled": margin("shuffled_audio"), "margin_null": margin("null_audio"),
        "sharpness_ratio": get("model", "sharpness_ratio"),
    }


def best_eval(run_dir: Path, run_sample: dict) -> dict[str, Any] | None:
    """The run's evaluation with the most songs (`eval/`, `eval16/`, ...); on a tie one sampled the run's
    own way (not a `--guidance` sweep's), then the newest."""
    found = [eval_headline(p, m, run_sample) | {"mtime": p.stat().st_mtime}
             for p in Path(run_dir).glob("*/metrics.json") if (m := _read_eval(p)) is not None]
    if not found:
        return None
    best = max(found, key=lambda e: (e["songs"], not e["sampling"], e["mtime"]))
    return {k: v for k, v in best.items() if k != "mtime"}


def is_run(folder: Path) -> bool:
    """A folder run_pipeline.py made: its config.yaml or a stage's checkpoint (not `eval_nets/`, nor a
    run's `samples/`, whose `vae/` and `dit/` hold pictures)."""
    return folder.is_dir() and ((folder / "config.yaml").is_file()
                                or any(latest_checkpoint(folder / s) is not None for s in STAGE_NAMES))


def run_status(run_dir: Path) -> dict[str, Any]:
    run_dir = Path(run_dir)
    try:
        cfg = yaml.safe_load((run_dir / "config.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        cfg = {}
    cfg = cfg if isinstance(cfg, dict) else {}
    run_sample = dataclasses.asdict(SampleConfig()) | (cfg.get("sample") if isinstance(cfg.get("sample"), dict) else {})
    files = [run_dir / "config.yaml", run_dir / "metrics.jsonl", *run_dir.glob("*/metrics.json")]
    updated = max((f.stat().st_mtime for f in files if f.is_file()), default=run_dir.stat().st_mtime)
    return {
        "run": str(run_dir), "preset": cfg.get("preset"), "in_use_by": holder(run_dir),
        "updated": datetime.fromtimestamp(updated, timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "stages": {s: stage_progress(run_dir, s) for s in STAGE_NAMES},
        "vae_psnr": last_validation(run_dir, "vae").get("val_psnr"),
        "eval": best_eval(run_dir, run_sample),
    }


def list_runs(root: Path) -> list[dict[str, Any]]:
    """Every run under `root`, the most recently updated first; `root` alone when it is a run itself."""
    if is_run(Path(root)):
        return [run_status(Path(root))]
    runs = [run_status(d) for d in Path(root).iterdir() if is_run(d)]
    return sorted(runs, key=lambda r: r["updated"], reverse=True)


def _stage_cell(progress: dict | None) -> str:
    if progress is None:
        return "–"
    if progress.get("damaged"):
        return "damaged"
    cell = f"{progress['step']} ✓" if progress["finished"] else f"{progress['step']}/{progress['steps']}"
    minutes = progress.get("minutes")
    return cell if minutes is None else f"{cell} · {minutes:.1f} min"


def _num(value: float | None, fmt: str = ".3f") -> str:
    return "–" if value is None else format(value, fmt)


def runs_table(runs: list[dict[str, Any]]) -> str:
    """Markdown: a row per run, its stages' steps (✓ = finished) and minutes of training, VAE PSNR and
    evaluation headline."""
    rows = ["| run | preset | vae | dit | regression | VAE dB | eval (songs) | AV-Align (truth) "
            "| beat F1 (truth) | - shuffled | - null | sharpness | updated (UTC) |",
            "|---" * 13 + "|"]
    for r in runs:
        e = r["eval"] or {}
        scored = f"{e['folder']} ({'; '.join([str(e['songs']), *e['sampling']])})" if e else "–"
        rows.append(" | ".join([
            f"| {Path(r['run']).name}{' (training now)' if r.get('in_use_by') else ''}", r["preset"] or "–",
            *(_stage_cell(r["stages"][s]) for s in STAGE_NAMES),
            _num(r["vae_psnr"], ".2f"), scored,
            f"{_num(e.get('av_align'))} ({_num(e.get('av_align_truth'))})" if e else "–",
            f"{_num(e.get('beat_f1'))} ({_num(e.get('beat_f1_truth'))})" if e else "–",
            _num(e.get("margin_shuffled"), "+.3f"), _num(e.get("margin_null"), "+.3f"),
            _num(e.get("sharpness_ratio"), ".2f"), f"{r['updated']} |",
        ]))
    return "\n".join(rows)
