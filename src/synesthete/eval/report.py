"""metrics.json -> report.md: the headline table, a bar chart per metric, onset/motion timelines.

`evaluate_and_report` is the one entry both `synesthete eval` and run_pipeline.py call.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from synesthete import atomic_file, jsonout  # noqa: E402
from synesthete.eval.av_align import audio_onset_times, flow_magnitude, video_peak_frames  # noqa: E402
from synesthete.eval.breakdown import by_visualizer, by_visualizer_table  # noqa: E402
from synesthete.eval.runner import HEADLINE, evaluate_run  # noqa: E402
from synesthete.eval.uncertainty import intervals_table, summary_line  # noqa: E402

ORDER = ("av_align", "beat_f1", "brightness_f1", "offset_ms", "pulse_ratio", "reactivity",
         "visual_recall@3", "visual_recall@3,1", "eventness_agreement", "mode_accuracy", "mode_auc", "tempo_accuracy",
         "tempo_motion_spearman", "sharpness_ratio", "flicker_ratio", "frechet_distance", "visualizer_accuracy",
         "sync_offset_accuracy", "sync_confidence", "diversity", "vae_psnr", "vae_ssim", "vae_sharpness_ratio")


def fmt(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{v:.3f}" if abs(v) < 100 else f"{v:.1f}"


def headline_table(metrics: dict, keys=HEADLINE) -> str:
    """Markdown table: one row per metric, one column per baseline."""
    baselines = metrics["baselines"]
    rows = ["| metric | " + " | ".join(baselines) + " |", "|---" * (len(baselines) + 1) + "|"]
    for k in keys:
        if any(k in metrics["results"][b] for b in baselines):
            rows.append(f"| {k} | " + " | ".join(fmt(metrics["results"][b].get(k)) for b in baselines) + " |")
    return "\n".join(rows)


def headline(metrics: dict) -> str:
    """What the pipeline and `synesthete eval` print: the headline table and the model's intervals."""
    return headline_table(metrics) + "\n" + summary_line(metrics["intervals"])


def bar_charts(metrics: dict, path: Path) -> Path:
    keys = [k for k in ORDER if any(k in metrics["results"][b] for b in metrics["baselines"])]
    cols = 4
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.6 * rows), squeeze=False)
    colours = plt.cm.tab10(np.arange(len(metrics["baselines"])))
    for ax, k in zip(axes.flat, keys):
        vals = [metrics["results"][b].get(k, float("nan")) for b in metrics["baselines"]]
        ax.bar(range(len(vals)), [0 if v is None or not math.isfinite(v) else v for v in vals], color=colours)
        ax.set_title(k, fontsize=9)
        ax.set_xticks(range(len(vals)), metrics["baselines"], rotation=35, ha="right", fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
    for ax in axes.flat[len(keys):]:
        ax.axis("off")
    fig.tight_layout()
    return atomic_file.save_figure(fig, path, dpi=90)


def timeline(path: Path, audio: torch.Tensor, sample_rate: int, fps: int, videos: dict[str, torch.Tensor],
             events: dict, title: str) -> Path:
    """Audio onsets (librosa) and annotated kicks/snares vs each video's motion and its peaks."""
    fig, axes = plt.subplots(len(videos), 1, figsize=(12, 1.8 * len(videos)), sharex=True, squeeze=False)
    onsets = audio_onset_times(audio, sample_rate)
    for ax, (name, video) in zip(axes[:, 0], videos.items()):
        mag = flow_magnitude(video)
        t = np.arange(len(mag)) / fps
        ax.plot(t, mag, lw=1, color="k")
        peaks = video_peak_frames(mag)
        ax.plot(peaks / fps, mag[peaks], "o", ms=3, color="tab:red", label="motion peaks")
        for o in onsets:
            ax.axvline(o, color="tab:blue", alpha=0.35, lw=1)
        for k in np.asarray(events.get("kick", [])):
            ax.axvline(float(k), color="tab:green", alpha=0.5, lw=1, ls="--")
        ax.set_ylabel(name, fontsize=8)
    axes[0, 0].set_title(f"{title} · blue: audio onsets (librosa) · green dashed: annotated kicks · "
                         "black: optical-flow motion, red: its peaks", fontsize=8)
    axes[-1, 0].set_xlabel("seconds")
    fig.tight_layout()
    return atomic_file.save_figure(fig, path, dpi=90)


def _sampling(s: dict) -> str:
    lo, hi = s.get("guidance_interval", [0.0, 1.0])
    limited = "" if (lo, hi) == (0.0, 1.0) else f" for t in [{lo:g}, {hi:g}], {s['guidance_outside']:g} elsewhere"
    rescaled = f", rescaled by {s['guidance_rescale']:g}" if s.get("guidance_rescale") else ""
    return f"sampled with {s['steps']} {s['sampler']} steps at guidance {s['guidance']:g}{limited}{rescaled}"


def _audio_eventness_line(a: dict | None) -> list[str]:
    """The audio side of the eventness anchors, one line: the same song audio under every baseline."""
    if not a:
        return []
    if not a["songs_with_events"]:
        return ["Audio eventness anchors: no song has a crash or section start in its excerpt.", ""]
    return [f"Audio eventness anchors (the song's audio, the same under every baseline), over the "
            f"{a['songs_with_events']} songs with a crash or section start: recall@3 {fmt(a['audio_recall@3'])}, "
            f"recall@3,1 {fmt(a['audio_recall@3,1'])} (`audio_eventness` in metrics.json; the visual side "
            "is in the table).", ""]


def _training_line(budgets: dict | None) -> list[str]:
    """What trained the learned baselines, one line: the regression baseline's budget beside the DiT's."""
    if not budgets:
        return []

    def said(name: str, b: dict) -> str:
        clips = "" if b["clips"] is None else f" ({b['clips']} clips)"
        took = "" if b["seconds"] is None else f", {b['seconds'] / 60:.1f} min"
        return f"{name} {b['step']} steps{clips}{took}"

    parts = [said("the model's DiT" if k == "model" else k, b) for k, b in budgets.items()]
    model, reg = budgets.get("model"), budgets.get("regression")
    if model and reg and model["seconds"] and reg["seconds"] is not None:
        parts[-1] += f": {reg['seconds'] / model['seconds']:.0%} of the DiT's training time"
    return ["Training behind the learned baselines: " + "; ".join(parts) + " (`training` in metrics.json).", ""]


def write_report(out_dir: Path, metrics: dict, timelines: list[Path]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_file.write_text(out_dir / "metrics.json", jsonout.dumps(metrics, indent=1))
    bars = bar_charts(metrics, out_dir / "metrics_bars.png")
    lines = [
        f"# Evaluation of {metrics['run']}",
        "",
        f"{len(metrics['clips'])} validation songs (from song {metrics['options']['first']}) x "
        f"{metrics['seconds']:g} s at {metrics['fps']} fps; {_sampling(metrics['config']['sample'])}; "
        "each baseline is scored against the song's ground truth. All figures: `metrics.json`.",
        "",
        *_training_line(metrics.get("training")),
        headline_table(metrics, [k for k in ORDER]),
        "",
        *_audio_eventness_line(metrics.get("audio_eventness")),
        f"How sure these songs make the figures: 95% paired bootstrap intervals over the "
        f"{len(metrics['clips'])} songs (`eval/uncertainty.py`; `intervals` in metrics.json).",
        "",
        intervals_table(metrics["intervals"]),
        "",
        "By visualizer (means over each look's songs; `per_visualizer` in metrics.json). With a few "
        "songs per look these say where to look, not how the looks differ: a look's figures move "
        "with the songs it drew as much as with the look.",
        "",
        by_visualizer_table(metrics.get("per_visualizer") or by_visualizer(metrics["per_clip"], metrics["clips"])),
        "",
        f"![metrics]({bars.name})",
        "",
        *[f"![timeline]({p.name})" for p in timelines],
        "",
    ]
    path = out_dir / "report.md"
    atomic_file.write_text(path, "\n".join(lines))
    return path


def evaluate_and_report(run: Path, device: torch.device, out: Path | None = None, overrides: dict | None = None,
                        console=None, sample: dict | None = None) -> tuple[dict, Path]:
    """Evaluate a run with a progress bar, plot timelines of the first two songs, write the report."""
    from synesthete.progress import Progress

    out = Path(out) if out is not None else Path(run) / "eval"
    plots: list[Path] = []

    def plot(i: int, clip: dict, videos: dict, data) -> None:
        if i < 2:
            out.mkdir(parents=True, exist_ok=True)
            m = clip["meta"]
            plots.append(timeline(out / f"timeline_{i}.png", clip["audio"], data.sample_rate, data.fps,
                                  {k: videos[k] for k in ("ground_truth", "model", "shuffled_audio") if k in videos},
                                  clip["events"], f"validation song {i}: {m['tempo']:.0f} BPM, {m['visualizer']}"))

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("eval", total=None)
        metrics = evaluate_run(Path(run), device, overrides, sample, on_videos=plot,
                               on_clip=lambda i, n: bar.update(task, completed=i, total=n))
    return metrics, write_report(out, metrics, plots)
