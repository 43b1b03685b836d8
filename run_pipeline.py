"""Synesthete end to end: procedural data -> VAE -> DiT (+ regression baseline) -> output_test.mp4.

    uv run python run_pipeline.py                 # CPU: the `quick` preset; GPU/MPS: `standard`
    uv run python run_pipeline.py --preset standard
    uv run python run_pipeline.py --preset quick dit.train.steps=2000   # any config override

Each stage resumes where it stopped and is skipped once finished; outputs go to runs/<preset>/
and output_test.mp4 (+ output_test.png) in the current folder.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from synesthete.cli import ArgumentParser, report_errors
from synesthete.config import Config, ConfigError, load_config
from synesthete.data import ProceduralAVDataset, check_visualizers
from synesthete.device import pick_device
from synesthete.eval.pulse import pulse_stats
from synesthete.infer import VideoGenerator
from synesthete.infer.render import render_to_file
from synesthete.media import check_mp4_target
from synesthete.train.checkpoint import latest_checkpoint
from synesthete.train.curves import CurvesError, plot_curves
from synesthete.train.metrics_file import last_validation
from synesthete.train.run_lock import hold_run
from synesthete.train.stages import STAGES

console = Console(stderr=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default=None, help="quick, standard or full (default: quick on CPU, else standard)")
    p.add_argument("--name", default=None, help="run name (default: the preset's)")
    p.add_argument("--out", default="output_test.mp4", help="the generated video")
    p.add_argument("--stages", default="vae,dit,regression",
                   help="training stages to run, in order (regression: the MSE baseline the evaluation compares)")
    p.add_argument("--no-eval", action="store_true", help="skip the evaluation stage (synesthete eval)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.add_argument("overrides", nargs="*", metavar="key.sub=value")
    return p.parse_args(argv)


def minutes(secs: float) -> str:
    """A stage's time as the table shows it: seconds under a minute (generation, a skipped stage), else minutes."""
    return f"{secs:.0f} s" if secs < 60 else f"{secs / 60:.1f} min"


def pulse_cell(pulse: dict[str, float]) -> str:
    """`on kick / between = ratio`, or why there is none (a clip too short to hold a kick and a gap)."""
    if not all(math.isfinite(pulse[k]) for k in ("on_kick", "between", "ratio")):
        return "– (no kick with frames between in the clip)"
    return f"{pulse['on_kick']:.1f} / {pulse['between']:.1f} = {pulse['ratio']:.2f}x"


def training_curves(run_dir: Path) -> Path | None:
    """RUN/curves.png from metrics.jsonl, or None while no stage has logged anything."""
    try:
        return plot_curves(run_dir)
    except CurvesError:
        return None


def summarise(table: Table, timings: dict[str, float], total: float, run_dir: Path, curves: Path | None) -> None:
    """Rows: the time of each stage and in all, the VAE's validation PSNR (pooled, worst look) and sharpness
    ratio, and the training curves' PNG."""
    for stage, secs in timings.items():
        table.add_row(f"time · {stage}", minutes(secs))
    table.add_row("time · total", minutes(total))
    vae = last_validation(run_dir, "vae")
    psnr = vae.get("val_psnr")
    if psnr is not None:
        per_vis = {k.removeprefix("val_psnr_"): v for k, v in vae.items() if k.startswith("val_psnr_")}
        worst = f" (worst: {min(per_vis, key=per_vis.get)} {min(per_vis.values()):.2f})" if per_vis else ""
        table.add_row("VAE PSNR (validation frames)", f"{psnr:.2f} dB{worst}")
    if vae.get("val_sharpness") is not None:
        table.add_row("VAE sharpness ratio (recon / truth)", f"{vae['val_sharpness']:.2f}")
    if curves is not None:
        table.add_row("training curves", str(curves))


def run(args: argparse.Namespace) -> None:
    overrides = list(args.overrides)
    device_override = next((o.split("=", 1)[1] for o in overrides if o.startswith("device=")), "auto")
    device = pick_device(device_override)
    preset = args.preset or ("quick" if device.type == "cpu" else "standard")
    cfg = load_config(preset, overrides + ([f"name={args.name}"] if args.name else []))
    check_visualizers(cfg.data)
    stages = [s for s in args.stages.split(",") if s]
    for s in stages:
        if s not in STAGES:
            raise ConfigError(f"--stages: unknown stage {s!r} (known: {', '.join(STAGES)})")
    out = check_mp4_target(args.out)

    run_dir = Path("runs") / cfg.name
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"name: {run_dir} is a file, not a run folder: give the run another --name")
    run_dir.mkdir(parents=True, exist_ok=True)
    if os.environ.get("RANK", "0") != "0":
        # another rank under torchrun: it trains beside rank 0, which holds the run, writes its files,
        # renders the video and evaluates (each a one-process job)
        train_stages(cfg, run_dir, device, stages)
        return
    with hold_run(run_dir):
        if not (run_dir / "config.yaml").exists():
            write_config(cfg, run_dir)
        console.rule(f"[bold]Synesthete · preset {preset} · {device.type} · run {run_dir}")
        train_and_render(cfg, run_dir, device, stages, out, evaluate_after=not args.no_eval)


def write_config(cfg: Config, run_dir: Path) -> None:
    """RUN/config.yaml, what `synesthete runs` reads a run's preset and sampling from."""
    (run_dir / "config.yaml").write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))


def train_stages(cfg: Config, run_dir: Path, device, stages: list[str]) -> dict[str, float]:
    """Each training stage in order (skipped once finished, resumed if interrupted); its seconds."""
    timings: dict[str, float] = {}
    for stage in stages:
        t0 = time.perf_counter()
        STAGES[stage](cfg, run_dir, device, console=console)
        timings[stage] = time.perf_counter() - t0
    return timings


def train_and_render(cfg: Config, run_dir: Path, device, stages: list[str], out: Path, evaluate_after: bool) -> None:
    """The stages in order, then output_test.mp4 from validation song 0 and (evaluate_after) the evaluation."""
    t_all = time.perf_counter()
    timings = train_stages(cfg, run_dir, device, stages)
    write_config(cfg, run_dir)   # only now: a config the run's checkpoints refuse leaves the old one

    table = Table(title=f"Synesthete run {run_dir}")
    table.add_column("what")
    table.add_column("value", justify="right")
    curves = training_curves(run_dir)
    if latest_checkpoint(run_dir / "dit") is None:
        # e.g. `--stages vae`: nothing to generate from yet, so the run ends with its stages
        summarise(table, timings, time.perf_counter() - t_all, run_dir, curves)
        console.print(table)
        console.print("[dim]no DiT checkpoint yet: stopping before generation and evaluation[/dim]")
        return

    # --- generate output_test.mp4 from a validation song -----------------------------------
    t0 = time.perf_counter()
    gen = VideoGenerator.from_run(run_dir, device)
    clip = ProceduralAVDataset(cfg.data, split="val").clip(0)
    meta = clip["meta"]
    video = render_to_file(
        gen, clip["audio"], out, events=clip["events"], sheet=out.with_suffix(".png"),
        title=f"generated · validation song 0 · {meta['tempo']:.0f} BPM {meta['key_name']} {meta['mode']}",
        visualizer=gen.label_for(clip),
    )
    timings["generate"] = time.perf_counter() - t0
    summarise(table, timings, time.perf_counter() - t_all, run_dir, curves)

    fps = cfg.data.fps
    model_pulse = pulse_stats(video, clip["events"]["kick"], fps)
    truth_pulse = pulse_stats(clip["video"], clip["events"]["kick"], fps)
    table.add_row("beat pulse · generated (change on kick / between)", pulse_cell(model_pulse))
    table.add_row("beat pulse · ground truth", pulse_cell(truth_pulse))
    table.add_row("video", str(out))
    table.add_row("contact sheet", str(out.with_suffix(".png")))
    console.print(table)

    if evaluate_after:
        evaluate(run_dir, device)
        console.print(f"total with evaluation: {minutes(time.perf_counter() - t_all)}")


def evaluate(run_dir: Path, device) -> None:
    """The last stage: every baseline scored on validation songs -> RUN/eval/{metrics.json, report.md}."""
    from synesthete.eval.report import evaluate_and_report, headline

    t0 = time.perf_counter()
    metrics, report = evaluate_and_report(run_dir, device, console=console)
    console.print(headline(metrics), soft_wrap=True, markup=False)   # a markdown table: never wrapped
    console.print(f"evaluation: {minutes(time.perf_counter() - t0)} -> {report}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return report_errors("run_pipeline", lambda: run(args), debug=args.debug, also=(RuntimeError,),
                         interrupted="interrupted (run it again to resume)")


if __name__ == "__main__":
    sys.exit(main())
