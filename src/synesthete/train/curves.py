"""A run's training curves as one PNG, from its metrics.jsonl: what W&B shows, without W&B.

One row per stage (vae, dit, regression, ...), against the step: the training loss (raw and
smoothed; for the VAE also its reconstruction term, since the critic's hinge loss joins the total
halfway), the validation figures (PSNR or validation loss, with sharpness or beat pulse on a
second axis), the validation PSNR of each look where the stage logged it, and the throughput.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from synesthete import atomic_file  # noqa: E402
from synesthete.train.metrics_file import Series, read_metrics  # noqa: E402
from synesthete.visualizers import VISUALIZER_NAMES  # noqa: E402

TRAIN_KEYS = ("loss", "rec")
"""Training-loss keys drawn in the first panel (`rec`: the VAE's reconstruction term)."""

PRIMARY_VAL = ("val_psnr", "val_loss")
"""The validation figure for the left axis, the first one a stage logged; the others go on the
right axis (the VAE's validation loss is left out: its PSNR says the same)."""

LOOK_PREFIX = "val_psnr_"


def per_look(key: str) -> bool:
    """A figure of one visualizer (`val_psnr_tunnel`, `val_sharpness_tunnel`), not a pooled one."""
    return any(key.endswith("_" + name) for name in VISUALIZER_NAMES)


class CurvesError(ValueError):
    """A run without usable metrics; the message is one line."""


def smooth(values: list[float], weight: float = 0.9) -> list[float]:
    """Exponential moving average, debiased as TensorBoard's smoothing (so it starts at the data)."""
    out, avg = [], 0.0
    for i, v in enumerate(values, start=1):
        avg = weight * avg + (1 - weight) * v
        out.append(avg / (1 - weight**i))
    return out


def _loss_panel(ax, series: dict[str, Series]) -> None:
    for key, colour in zip(TRAIN_KEYS, ("C0", "C1")):
        if key not in series:
            continue
        steps, values = series[key]
        ax.plot(steps, values, color=colour, alpha=0.2, lw=0.8)
        ax.plot(steps, smooth(values), color=colour, lw=1.5, label=key)
    if all(v > 0 for key in TRAIN_KEYS if key in series for v in series[key][1]):
        ax.set_yscale("log")
    ax.set_title("training loss")
    ax.legend(fontsize=7)


def _validation_panel(ax, series: dict[str, Series]) -> None:
    primary = next((k for k in PRIMARY_VAL if k in series), None)
    others = [k for k in series if k.startswith("val_") and k not in PRIMARY_VAL and not per_look(k)]
    if primary is None and not others:
        ax.set_axis_off()
        return
    if primary is not None:
        ax.plot(*series[primary], "o-", color="C2", label=primary)
        ax.set_ylabel(primary, color="C2")
    if others:
        twin = ax.twinx()
        for key, colour in zip(others, ("C3", "C4", "C5", "C6")):
            twin.plot(*series[key], "s--", color=colour, ms=4, label=key)
        twin.legend(fontsize=7)
    ax.set_title("validation")


def _looks_panel(ax, series: dict[str, Series]) -> bool:
    looks = sorted(k for k in series if k.startswith(LOOK_PREFIX) and per_look(k))
    if not looks:
        return False
    for i, key in enumerate(looks):
        ax.plot(*series[key], "o-", ms=3, lw=1, color=plt.cm.tab10(i % 10), label=key.removeprefix(LOOK_PREFIX))
    ax.set_title("validation PSNR by look (dB)")
    ax.legend(fontsize=6, ncol=2)
    return True


def _throughput_panel(ax, series: dict[str, Series]) -> None:
    if "clips_per_s" not in series:
        ax.set_axis_off()
        return
    steps, values = series["clips_per_s"]
    ax.plot(steps, values, color="C7", alpha=0.3, lw=0.8)
    ax.plot(steps, smooth(values), color="C7", lw=1.5)
    ax.set_ylim(bottom=0)
    ax.set_title("throughput (clips/s)")


def plot_curves(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Draw RUN/metrics.jsonl to `out` (default RUN/curves.png), written atomically; returns the path."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CurvesError(f"no run folder {run_dir} (train one with: uv run python run_pipeline.py)")
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        raise CurvesError(f"no metrics.jsonl in {run_dir}: no stage of this run has trained yet")
    metrics = read_metrics(path)
    if not metrics:
        raise CurvesError(f"{path} holds no metrics rows: no stage of this run has logged yet")
    out = Path(out) if out is not None else run_dir / "curves.png"

    fig, axes = plt.subplots(len(metrics), 4, figsize=(17, 3.2 * len(metrics)), squeeze=False)
    for row, (stage, series) in zip(axes, metrics.items()):
        _loss_panel(row[0], series)
        _validation_panel(row[1], series)
        if not _looks_panel(row[2], series):
            row[2].set_axis_off()
        _throughput_panel(row[3], series)
        row[0].set_ylabel(stage, fontsize=13, fontweight="bold")
        for ax in row:
            ax.set_xlabel("step", fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle(f"training curves · {run_dir}", fontsize=12)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    return atomic_file.save_figure(fig, out, dpi=80)
