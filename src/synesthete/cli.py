"""`synesthete` command line: a table of subcommands, each a thin call into the package.

Bad input ends with one line on stderr and exit code 2 (a traceback only with --debug).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import sys
import threading
from pathlib import Path
from typing import Callable

from synesthete import __version__, jsonout
from synesthete.config import OPTIONAL_BASELINES, Config, ConfigError, load_config
from synesthete.errors import ArgumentParser
from synesthete.eval.video_file import EVAL_VIDEO_SIDE


class UsageError(ValueError):
    """Invalid command-line input; the message is shown as one line."""


def _config(args: argparse.Namespace) -> Config:
    from synesthete.data import check_visualizers

    cfg = load_config(args.config, args.overrides)
    check_visualizers(cfg.data)
    return cfg


# --- subcommands --------------------------------------------------------------------------


def cmd_preview(args: argparse.Namespace) -> None:
    """Clips of the procedural stream as mp4 (video + audio) and PNG contact sheets."""
    from synesthete.contact_sheet import contact_sheet
    from synesthete.data import make_clip
    from synesthete.media import write_av
    from synesthete.progress import track

    if args.n < 1:
        raise UsageError(f"--n must be >= 1, got {args.n}")
    cfg = _config(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    d = cfg.data
    for k in track(range(args.n), "preview", total=args.n):
        index = args.start + k
        clip = make_clip(d, index)
        meta = clip["meta"]
        stem = out / f"clip_{index:06d}_{meta['visualizer']}"
        write_av(stem.with_suffix(".mp4"), clip["video"], d.fps, clip["audio"], d.sample_rate)
        title = (f"clip {index} · {meta['visualizer']} · {meta['tempo']:.0f} BPM · "
                 f"{meta['key_name']} {meta['mode']} · starts {meta['start']:.1f}s into song {meta['song_seed']}")
        contact_sheet(stem.with_suffix(".png"), clip["video"], clip["audio"], d.fps, d.sample_rate,
                      clip["events"], title=title)
        truth = {"meta": meta, "events": {k: v.tolist() for k, v in clip["events"].items()}}
        stem.with_suffix(".json").write_text(jsonout.dumps(truth, indent=1))
    print(f"wrote {args.n} clips (mp4 + png + json) to {out}")


def cmd_bench_data(args: argparse.Namespace) -> None:
    """Data-engine throughput; prints one JSON object."""
    from synesthete.bench.data import bench_data

    if args.clips < 1:
        raise UsageError(f"--clips must be >= 1, got {args.clips}")
    items = args.workers.split(",")
    if not all(w.strip().isdigit() and int(w) >= 1 for w in items):
        raise UsageError(f"--workers: expected counts >= 1 like 1,2, got {args.workers!r}")
    workers = tuple(int(w) for w in items)
    cfg = _config(args)

    def report(name: str, w: int, cps: float) -> None:
        print(f"{name:>12} workers={w}: {cps:6.1f} clips/s", file=sys.stderr)

    result = bench_data(cfg.data, clips=args.clips, workers=workers, on_result=report)
    print(jsonout.dumps(result, indent=2))


def _check_all(checks: list[tuple[bool, str]]) -> None:
    """Raise the first failed check's message as a UsageError (one line, exit 2)."""
    for ok, message in checks:
        if not ok:
            raise UsageError(message)


PRESET_RUNS = ("runs/quick", "runs/standard", "runs/full")
"""Where `run_pipeline.py` trains each preset when no --name is given."""


def default_run() -> str:
    """The preset run whose DiT was trained last (`runs/quick` after the pipeline on a CPU, `runs/standard`
    on a GPU or a Mac), so `generate` works after `run_pipeline.py` on any machine; `runs/quick` if none."""
    trained = [Path(r) for r in PRESET_RUNS if (Path(r) / "dit").is_dir()]
    return str(max(trained, key=lambda r: (r / "dit").stat().st_mtime)) if trained else PRESET_RUNS[0]


def _resolve_run(args: argparse.Namespace) -> None:
    """Fill in --run when it was left out (saying which run on stderr), and check that the folder exists."""
    chosen = args.run is None
    args.run = default_run() if chosen else args.run
    if not Path(args.run).is_dir():
        raise UsageError(f"no run folder {args.run} (train one with: uv run python run_pipeline.py)")
    if chosen:
        print(f"using {args.run} (the newest trained preset run; --run to choose another)", file=sys.stderr)


def note_unfinished(run: Path) -> None:
    """One line on stderr when the run's DiT has not finished training (a run still training, or one
    stopped early): its latest checkpoint is what samples, and it is not the finished model."""
    from synesthete.train.run_lock import holder
    from synesthete.train.run_status import stage_progress

    progress = stage_progress(run, "dit")
    if progress is None or progress["finished"] or progress["step"] is None:
        return
    why = "it is being trained now" if holder(run) else "stopped before the end: run_pipeline.py resumes it"
    print(f"note: {run}'s DiT is at step {progress['step']} of {progress['steps']} ({why}); "
          f"sampling from that checkpoint", file=sys.stderr)


def _sampling_checks(args: argparse.Namespace) -> list[tuple[bool, str]]:
    lo_hi = args.guidance_interval
    return [(args.steps is None or args.steps >= 1, f"--steps must be >= 1, got {args.steps}"),
            (args.guidance is None or args.guidance >= 0, f"--guidance must be >= 0, got {args.guidance}"),
            (lo_hi is None or 0 <= lo_hi[0] <= lo_hi[1] <= 1,
             f"--guidance-interval must be LO HI with 0 <= LO <= HI <= 1, got {lo_hi}"),
            (args.guidance_outside is None or args.guidance_outside >= 0,
             f"--guidance-outside must be >= 0, got {args.guidance_outside}"),
            (args.guidance_rescale is None or 0 <= args.guidance_rescale <= 1,
             f"--guidance-rescale must be in [0, 1], got {args.guidance_rescale}")]


def _interval_overrides(args: argparse.Namespace) -> dict:
    """sample.guidance_interval / _outside / _rescale from --guidance-interval / -outside / -rescale."""
    return {k: v for k, v in {"guidance_interval": args.guidance_interval,
                              "guidance_outside": args.guidance_outside,
                              "guidance_rescale": args.guidance_rescale}.items() if v is not None}


def _check_generate_args(args: argparse.Namespace) -> None:
    """Every number and path of `generate`, checked before any model is loaded."""
    checks = [
        *_sampling_checks(args),
        (args.overlap is None or args.overlap >= 0, f"--overlap must be >= 0, got {args.overlap}"),
        (args.fps is None or args.fps >= 1, f"--fps must be >= 1, got {args.fps}"),
        (args.size is None or (args.size >= 16 and args.size % 2 == 0),
         f"--size must be an even number >= 16, got {args.size}"),
        (args.start >= 0, f"--start must be >= 0, got {args.start}"),
        (args.duration is None or args.duration > 0, f"--duration must be > 0, got {args.duration}"),
        (args.audio is not None or args.duration is not None,
         "give --audio FILE, or --duration SECONDS for audio-free generation"),
    ]
    _check_all(checks)
    if args.visualizer is not None:
        from synesthete.visualizers import visualizer_index
        try:
            visualizer_index(args.visualizer)
        except ValueError as e:
            raise UsageError(f"--visualizer: {e}") from None
    from synesthete.media import check_mp4_target

    out = check_mp4_target(args.out)
    if args.audio is not None and out.exists() and Path(args.audio).exists() and out.samefile(args.audio):
        raise UsageError(f"--out {args.out} is the --audio file: choose another name, so the source is not overwritten")
    _resolve_run(args)


def cmd_generate(args: argparse.Namespace) -> None:
    """A video for any audio (or video) file FFmpeg decodes, any length: h264 + the original audio in an mp4.

    Long audio streams through overlapping windows (warm start + Hann cross-fade), so memory
    stays flat; without --audio, --duration gives audio-free generation (the null embedding).
    """
    import time

    import torch
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from synesthete.device import pick_device
    from synesthete.infer import VideoGenerator
    from synesthete.infer.generate import Silence
    from synesthete.infer.render import render_stream
    from synesthete.media import AudioReader
    from synesthete.progress import Progress, SecondsColumn

    _check_generate_args(args)
    gen = VideoGenerator.from_run(Path(args.run), pick_device(args.device))
    note_unfinished(Path(args.run))
    gen.resample(**_interval_overrides(args))
    gen.visualizer_label(args.visualizer)   # a run trained without labels: one line, before any output
    d = gen.cfg.data
    if args.audio is not None:
        source = AudioReader(args.audio, sample_rate=d.sample_rate, mono=True, start=args.start,
                             duration=args.duration)
        if source.peek(d.samples_per_frame).shape[-1] == 0:
            raise UsageError(f"{args.audio} holds no audio samples" + (f" after {args.start} s" if args.start else ""))
        native = AudioReader(args.audio, start=args.start, duration=args.duration)
        seconds = source.duration_hint
        mux = dict(native=native, native_rate=native.sample_rate, native_channels=native.num_channels)
    else:
        source, seconds, mux = Silence(round(args.duration * d.sample_rate)), args.duration, {}
    out = Path(args.out)
    fps = args.fps or d.fps
    columns = [TextColumn("generate"), BarColumn(), SecondsColumn(),
               TextColumn("{task.fields[rtf]}"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn()]
    t0 = time.perf_counter()
    with Progress(*columns, console=_console(), transient=True) as bar:
        task = bar.add_task("generate", total=seconds, rtf="")

        def advance(frames: int) -> None:
            done = bar.tasks[0].completed + frames / d.fps
            rtf = done / max(time.perf_counter() - t0, 1e-9)
            total = None if seconds is None else max(seconds, done)     # None: a header without a duration
            bar.update(task, completed=done, total=total, rtf=f"{rtf:.2f}x real time")

        result = render_stream(gen, source, out, **mux, size=args.size, fps=fps, seed=args.seed,
                               steps=args.steps, guidance=args.guidance, sampler=args.sampler,
                               drop_audio=args.audio is None, overlap=args.overlap,
                               keep_seconds=30.0 if args.sheet else 0.0, on_frames=advance,
                               visualizer=args.visualizer)
        bar.update(task, total=bar.tasks[0].completed)     # done, where the header's length was off or missing
    wall = time.perf_counter() - t0
    if args.sheet:
        from synesthete.contact_sheet import contact_sheet
        from synesthete.media import read_audio

        n = result.video.shape[0] * d.samples_per_frame
        audio = read_audio(out, sample_rate=d.sample_rate)[0][:, :n] if args.audio else torch.zeros(1, n)
        contact_sheet(out.with_suffix(".png"), result.video, audio, d.fps, d.sample_rate,
                      title=sheet_title(args.audio, args.start, result.video.shape[0] / d.fps))
    print(f"wrote {out} ({result.frames} frames at {fps} fps, {result.seconds:.2f} s; "
          f"{result.seconds / wall:.2f}x real time)")


def sheet_title(audio: str | None, start: float | None, seconds: float) -> str:
    """The generate contact sheet's title: which audio, and which of its seconds (the axis starts at 0)."""
    span = f"seconds {start:g}-{start + seconds:g}" if audio and start else f"first {seconds:g} s"
    return f"generated from {audio or 'no audio'} ({span})"


def cmd_bench_train(args: argparse.Namespace) -> None:
    """Training throughput of the VAE and DiT, fp32 vs bf16; prints one JSON object."""
    from synesthete.bench.train import bench_train
    from synesthete.device import pick_device

    if args.repeats < 1:
        raise UsageError(f"--repeats must be >= 1, got {args.repeats}")
    cfg = _config(args)
    print(jsonout.dumps(bench_train(cfg, pick_device(cfg.device), repeats=args.repeats), indent=2))


def cmd_bench_generate(args: argparse.Namespace) -> None:
    """Real-time factor of long-form generation per sampler setting, with sync metrics and memory (JSON)."""
    import torch

    from synesthete.bench.generate import bench_generate
    from synesthete.device import pick_device

    if args.seconds <= 0:
        raise UsageError(f"--seconds must be > 0, got {args.seconds}")
    if args.threads < 1:
        raise UsageError(f"--threads must be >= 1, got {args.threads}")
    settings = []
    for item in args.settings.split(","):
        sampler, _, steps = item.partition(":")
        if sampler not in ("ddim", "euler") or not steps.isdigit() or int(steps) < 1:
            raise UsageError(f"--settings: expected sampler:steps like ddim:20, got {item!r}")
        settings.append((sampler, int(steps)))
    _resolve_run(args)
    torch.set_num_threads(args.threads)

    def report(name: str, row: dict) -> None:
        print(f"{name:>9}: {row['realtime_factor']:.2f}x real time, AV-Align {row['av_align']:.3f}, "
              f"seam ratio {row['seam_ratio']:.2f}", file=sys.stderr)

    memory = None if args.no_memory else (args.seconds, 600.0)
    result = bench_generate(Path(args.run), pick_device(args.device), seconds=args.seconds, settings=settings,
                            memory=memory, on_result=report)
    result["threads"] = args.threads
    print(jsonout.dumps(result, indent=2))


def cmd_eval(args: argparse.Namespace) -> None:
    """Sync, fidelity and quality metrics: every baseline of a run (metrics.json + report.md),
    or the sync metrics of any video with audio (JSON on stdout)."""
    if (args.run is None) == (args.video is None):
        raise UsageError("give either --run RUN or --video FILE.mp4")
    mode, other = ("--video", EVAL_RUN_ONLY) if args.video is not None else ("--run", EVAL_VIDEO_ONLY)
    misplaced = [f"--{k.replace('_', '-')}" for k in other if getattr(args, k) is not None]
    if misplaced:
        raise UsageError(f"{', '.join(misplaced)} cannot go with {mode} "
                         f"(it applies to {'--run' if mode == '--video' else '--video'} only)")
    if args.video is not None:
        _check_all([(args.max_side is None or args.max_side >= 0, f"--max-side must be >= 0, got {args.max_side}")])
        print(jsonout.dumps(_eval_video(args), indent=2))
        return
    from synesthete.device import pick_device
    from synesthete.eval.report import evaluate_and_report, headline

    _check_all([
        (args.clips is None or args.clips >= 1, f"--clips must be >= 1, got {args.clips}"),
        (args.seconds is None or args.seconds > 0, f"--seconds must be > 0, got {args.seconds}"),
        (args.first is None or args.first >= 0, f"--first must be >= 0, got {args.first}"),
        *_sampling_checks(args),
    ])
    _resolve_run(args)
    run = Path(args.run)
    note_unfinished(run)
    overrides = {k: v for k, v in {"clips": args.clips, "first": args.first, "seconds": args.seconds,
                                   "nets_dir": args.nets_dir, "nets": args.nets,
                                   "baselines": args.baselines}.items() if v is not None}
    sample = {k: v for k, v in {"guidance": args.guidance, "steps": args.steps}.items() if v is not None}
    sample.update(_interval_overrides(args))
    metrics, report = evaluate_and_report(run, pick_device(args.device), args.out, overrides, _console(), sample)
    print(headline(metrics))
    print(f"wrote {report.parent / 'metrics.json'} and {report}")


def cmd_compare(args: argparse.Namespace) -> None:
    """Two evaluations of the same songs, model against model, song by song: each statistic for A
    and B, A - B and its 95% paired bootstrap interval (a markdown table, or JSON with --json)."""
    from synesthete.eval.compare import CompareError, compare, comparison_table, load_metrics

    try:
        result = compare(load_metrics(args.a), load_metrics(args.b), names=(args.a, args.b))
    except CompareError as e:
        raise UsageError(str(e)) from e
    print(jsonout.dumps(result, indent=1) if args.json else comparison_table(result))


def cmd_pool(args: argparse.Namespace) -> None:
    """Evaluations of one run on different songs (`eval --first`), pooled: the 95% intervals and
    the split by visualizer over all their songs (markdown, or JSON with --json); one evaluation
    alone: its own, recomputed by the current code."""
    from synesthete.eval.breakdown import by_visualizer_table
    from synesthete.eval.compare import CompareError, load_metrics
    from synesthete.eval.pool import pool
    from synesthete.eval.uncertainty import intervals_table, summary_line

    try:
        pooled = pool([load_metrics(e) for e in args.evals], names=args.evals)
    except CompareError as e:
        raise UsageError(str(e)) from e
    if args.json:
        print(jsonout.dumps({k: v for k, v in pooled.items() if k != "per_clip"}, indent=1))
        return
    print(f"{', '.join(pooled['runs'])}: {pooled['songs']} songs from {', '.join(pooled['parts'])}\n")
    print(intervals_table(pooled["intervals"]) + "\n")
    print(by_visualizer_table(pooled["per_visualizer"]) + "\n")
    print(summary_line(pooled["intervals"]))


def cmd_curves(args: argparse.Namespace) -> None:
    """A run's training curves from its metrics.jsonl as one PNG (loss, validation, PSNR by look,
    throughput, a row per stage): W&B's charts without W&B. run_pipeline.py draws it after training."""
    from synesthete.train.curves import CurvesError, plot_curves

    try:
        print(f"wrote {plot_curves(args.run, args.out)}")
    except CurvesError as e:
        raise UsageError(str(e)) from e


def cmd_runs(args: argparse.Namespace) -> None:
    """Every run under a folder, newest first: how far each stage trained (a checkmark once finished),
    the VAE's validation PSNR and the headline of its largest evaluation (markdown, or JSON with --json)."""
    from synesthete.train.run_status import list_runs, runs_table

    root = Path(args.root)
    if not root.is_dir():
        raise UsageError(f"no runs folder {root} (train one with: uv run python run_pipeline.py)")
    runs = list_runs(root)
    if args.json:
        print(jsonout.dumps(runs, indent=1))
    elif runs:
        print(runs_table(runs))
    else:
        print(f"no runs in {root} yet (train one with: uv run python run_pipeline.py)")


EVAL_VIDEO_ONLY = ("audio", "max_side")
EVAL_RUN_ONLY = ("clips", "seconds", "first", "guidance", "steps", "out", "guidance_interval", "guidance_outside",
                 "guidance_rescale", "baselines")
"""`eval`'s flags that only one of its two modes reads: given to the other they are refused, not ignored."""


def _eval_video(args: argparse.Namespace) -> dict:
    """`eval --video`: the sync metrics of any video with audio, and the learned sync scorer's offset
    and confidence (trained once if not cached) unless --no-nets."""
    from synesthete.eval.video_file import eval_video

    load_scorer = None
    if args.nets is not False:
        from synesthete.config import EvalConfig
        from synesthete.device import pick_device
        from synesthete.eval.sync_scorer import load_or_train_sync_scorer

        def load_scorer():
            return load_or_train_sync_scorer(Path(args.nets_dir or EvalConfig().nets_dir), device=pick_device(args.device))
    return eval_video(args.video, args.audio, EVAL_VIDEO_SIDE if args.max_side is None else args.max_side, load_scorer)


# --- the table ----------------------------------------------------------------------------


def _console():
    from rich.console import Console

    return Console(stderr=True)


def _add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=None, help="preset name (quick, standard, full) or a YAML path")
    p.add_argument("overrides", nargs="*", metavar="key.sub=value", help="config overrides, e.g. data.size=64")


COMMANDS: dict[str, tuple[Callable, str]] = {
    "preview": (cmd_preview, "render procedural clips to mp4 + contact sheets"),
    "bench-data": (cmd_bench_data, "measure data-engine throughput (JSON)"),
    "bench-train": (cmd_bench_train, "measure VAE and DiT training throughput, fp32 vs bf16 (JSON)"),
    "generate": (cmd_generate, "generate a video for an audio file with a trained run"),
    "eval": (cmd_eval, "score a run's baselines (metrics.json + report.md) or any video's sync (JSON)"),
    "compare": (cmd_compare, "compare two evaluations of the same songs, model against model (95%% intervals)"),
    "pool": (cmd_pool, "pool evaluations of one run on different songs into one (95%% intervals, by visualizer; "
                       "one alone: its intervals recomputed)"),
    "curves": (cmd_curves, "draw a run's training curves from its metrics.jsonl (PNG)"),
    "runs": (cmd_runs, "list the runs in a folder: stages trained, VAE PSNR, evaluation headline"),
    "bench-generate": (cmd_bench_generate, "measure generation speed (real-time factor) with its sync metrics (JSON)"),
}
"""Subcommand -> (function, one-line help). argparse %-formats help strings: write a percent sign as %%."""


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="synesthete", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="version", version=f"synesthete {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    for name, (fn, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=fn.__doc__)
        p.set_defaults(func=fn)
        if name not in ("generate", "bench-generate", "eval", "compare", "pool", "curves", "runs"):
            _add_config_args(p)
        if name == "preview":
            p.add_argument("--n", type=int, default=4, help="number of clips")
            p.add_argument("--out", default="preview", help="output folder")
            p.add_argument("--start", type=int, default=0, help="first clip index")
        if name == "bench-data":
            p.add_argument("--clips", type=int, default=48, help="clips timed per setting")
            p.add_argument("--workers", default="1,2", help="comma-separated worker counts")
        if name == "bench-train":
            p.add_argument("--repeats", type=int, default=5, help="timed steps per setting (median)")
        if name == "generate":
            p.add_argument("--audio", default=None, help="any audio (or video) file FFmpeg decodes")
            p.add_argument("--out", default="out.mp4", help="the mp4 to write")
            p.add_argument("--run", "--checkpoint", dest="run", default=None,
                           help="a trained run folder (default: the newest of runs/quick, runs/standard, runs/full)")
            p.add_argument("--seed", type=int, default=None)
            p.add_argument("--steps", type=int, default=None, help="sampler steps (default: the run's)")
            p.add_argument("--guidance", type=finite_float, default=None, help="CFG scale (default: the run's)")
            p.add_argument("--sampler", choices=["ddim", "euler"], default=None, help="default: the run's")
            p.add_argument("--overlap", type=int, default=None, help="frames shared by neighbouring windows (at most half a window)")
            p.add_argument("--size", type=int, default=None, help="output frame size in pixels (default: the model's)")
            p.add_argument("--fps", type=int, default=None, help="output frame rate (default: the model's)")
            p.add_argument("--start", type=finite_float, default=0.0, help="start S seconds into the audio")
            p.add_argument("--duration", type=finite_float, default=None,
                           help="only D seconds; without --audio, audio-free generation of D seconds")
            p.add_argument("--device", default="auto")
            p.add_argument("--sheet", action="store_true", help="also save a contact sheet PNG (first 30 s)")
            p.add_argument("--visualizer", default=None,
                           help="the look to draw (runs trained with dit.visualizer_label; default: the model's choice)")
        if name in ("generate", "eval"):
            p.add_argument("--guidance-interval", type=finite_float, nargs=2, metavar=("LO", "HI"), default=None,
                           help="guide only at noise levels LO <= t <= HI, t = 1 pure noise "
                                "(default: the run's sample.guidance_interval)")
            p.add_argument("--guidance-outside", type=finite_float, default=None, metavar="W",
                           help="the scale at the other steps: 1 conditional, 0 unconditional "
                                "(default: the run's sample.guidance_outside)")
            p.add_argument("--guidance-rescale", type=finite_float, default=None, metavar="PHI",
                           help="scale the guided estimate back to the conditional one's std, mixed in by PHI "
                                "in [0, 1] (tames blown-out frames at large guidance; default: the run's "
                                "sample.guidance_rescale)")
        if name == "eval":
            p.add_argument("--run", default=None, help="a trained run folder: score every baseline")
            p.add_argument("--video", default=None, help="any mp4: print its sync metrics as JSON")
            p.add_argument("--audio", default=None, help="with --video: score against this audio instead")
            p.add_argument("--max-side", type=int, default=None, metavar="PX",
                           help="with --video: read larger frames at PX on their short side, as optical flow "
                                f"is tuned for small frames (default {EVAL_VIDEO_SIDE}; 0 = as they are)")
            p.add_argument("--clips", type=int, default=None, help="validation songs (default: the run's eval.clips)")
            p.add_argument("--seconds", type=finite_float, default=None, help="length of each song excerpt (eval.seconds)")
            p.add_argument("--first", type=int, default=None,
                           help="the first validation song: score songs FIRST .. FIRST+CLIPS-1 (default 0)")
            p.add_argument("--guidance", type=finite_float, default=None, help="CFG scale of every generated baseline "
                           "(default: the run's sample.guidance)")
            p.add_argument("--steps", type=int, default=None, help="sampler steps (default: the run's sample.steps)")
            p.add_argument("--out", default=None, help="report folder (default: RUN/eval)")
            p.add_argument("--nets", action=argparse.BooleanOptionalAction, default=None,
                           help="the learned metrics (Frechet distance, sync scorer; default: the run's eval.nets)")
            p.add_argument("--nets-dir", default=None, help="cache folder of the evaluator and sync-scorer nets")
            p.add_argument("--baselines", nargs="*", default=None, choices=OPTIONAL_BASELINES, metavar="NAME",
                           help="score only these beside ground_truth and model (faster; none at all: "
                                f"--baselines alone); of {', '.join(OPTIONAL_BASELINES)} (default: the run's "
                                "eval.baselines, all)")
            p.add_argument("--device", default="auto")
        if name == "compare":
            p.add_argument("a", help="evaluation A: a metrics.json, its eval folder or a run folder")
            p.add_argument("b", help="evaluation B, of the same songs")
            p.add_argument("--json", action="store_true", help="print JSON instead of a table")
        if name == "pool":
            p.add_argument("evals", nargs="+", help="evaluations (metrics.json files, eval folders or run folders)")
            p.add_argument("--json", action="store_true", help="print JSON instead of tables")
        if name == "curves":
            p.add_argument("--run", required=True, help="a run folder (its metrics.jsonl)")
            p.add_argument("--out", default=None, help="the PNG to write (default: RUN/curves.png)")
        if name == "runs":
            p.add_argument("--root", default="runs", help="the folder of runs (default: runs)")
            p.add_argument("--json", action="store_true", help="print JSON instead of a table")
        if name == "bench-generate":
            p.add_argument("--run", default=None,
                           help="a trained run folder (default: the newest of runs/quick, runs/standard, runs/full)")
            p.add_argument("--seconds", type=finite_float, default=30.0, help="length of the validation song")
            p.add_argument("--settings", default="ddim:10,ddim:20,ddim:50", help="sampler:steps, comma-separated")
            p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
            p.add_argument("--device", default="auto")
            p.add_argument("--no-memory", action="store_true", help="skip the 600 s peak-memory measurement")
    return parser


def finite_float(text: str) -> float:
    """argparse type: a float that is a number (`inf` and `nan` would pass float() and spoil a run)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _one_line(e: BaseException) -> str:
    """The message; for an operating system error `path: reason` ("out/x: Not a directory") rather
    than Python's `[Errno 20] Not a directory: 'out/x'`."""
    if isinstance(e, OSError) and e.strerror and e.filename is not None:
        return f"{e.filename}: {e.strerror}"
    return str(e)


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM raises KeyboardInterrupt while the block runs (Python's default would end the process
    without unwinding, leaving a half-written temp file); a repeat is ignored so the clean-up can finish
    (`timeout` signals the whole process group, and `uv run` forwards the same signal again); the
    previous handler comes back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def report_errors(prog: str, func: Callable[[], object], *, debug: bool | None = None,
                  also: tuple[type[BaseException], ...] = (), interrupted: str = "interrupted") -> int:
    """Run func; bad input (a config, usage, media or checkpoint error, a file or folder that cannot be
    read or written, or `also`) ends as one line `prog: error: ...` on stderr and exit code 2, Ctrl-C
    as one line and 130, and so does SIGTERM (`kill`, `timeout`, a job scheduler), so that partial
    files are cleaned up as on Ctrl-C. A reader that closed the pipe ends it quietly with 141.

    The one place front ends (`synesthete`, run_pipeline.py, the scripts) turn errors into lines.
    With debug (default: the environment variable SYNESTHETE_DEBUG is set) the traceback shows.
    """
    import os

    from synesthete.media import MediaError
    from synesthete.train.checkpoint import CheckpointError

    debug = bool(os.environ.get("SYNESTHETE_DEBUG")) if debug is None else debug
    try:
        with _sigterm_as_interrupt():
            func()
    except BrokenPipeError:   # `synesthete runs | head`: the reader has all it wanted; quiet, as `yes | head`
        with contextlib.suppress(OSError, ValueError):   # no second error at exit's flush
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (ConfigError, UsageError, MediaError, CheckpointError, OSError, *also) as e:
        if debug:
            raise
        print(f"{prog}: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"{prog}: {interrupted}", file=sys.stderr)
        return 130
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return report_errors(f"synesthete {args.command}", lambda: args.func(args), debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
