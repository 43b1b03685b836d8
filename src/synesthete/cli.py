"""`synesthete` command line: a table of subcommands, each a thin call into the package.

Bad input ends with one line on stderr and exit code 2 (a traceback only with --debug).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Callable

from synesthete.config import Config, ConfigError, load_config


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
    from rich.progress import track

    from synesthete.contact_sheet import contact_sheet
    from synesthete.data import make_clip
    from synesthete.media import write_av

    if args.n < 1:
        raise UsageError(f"--n must be >= 1, got {args.n}")
    cfg = _config(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    d = cfg.data
    for k in track(range(args.n), description="preview", console=_console()):
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
        stem.with_suffix(".json").write_text(json.dumps(truth, indent=1))
    print(f"wrote {args.n} clips (mp4 + png + json) to {out}")


def cmd_bench_data(args: argparse.Namespace) -> None:
    """Data-engine throughput; prints one JSON object."""
    from synesthete.bench.data import bench_data

    if args.clips < 1:
        raise UsageError(f"--clips must be >= 1, got {args.clips}")
    cfg = _config(args)
    workers = tuple(int(w) for w in args.workers.split(","))

    def report(name: str, w: int, cps: float) -> None:
        print(f"{name:>12} workers={w}: {cps:6.1f} clips/s", file=sys.stderr)

    result = bench_data(cfg.data, clips=args.clips, workers=workers, on_result=report)
    print(json.dumps(result, indent=2))


def _check_generate_args(args: argparse.Namespace) -> None:
    """Every number and path of `generate`, checked before any model is loaded."""
    checks = [
        (args.steps is None or args.steps >= 1, f"--steps must be >= 1, got {args.steps}"),
        (args.guidance is None or args.guidance >= 0, f"--guidance must be >= 0, got {args.guidance}"),
        (args.overlap is None or args.overlap >= 0, f"--overlap must be >= 0, got {args.overlap}"),
        (args.fps is None or args.fps >= 1, f"--fps must be >= 1, got {args.fps}"),
        (args.size is None or (args.size >= 16 and args.size % 2 == 0),
         f"--size must be an even number >= 16, got {args.size}"),
        (args.start >= 0, f"--start must be >= 0, got {args.start}"),
        (args.duration is None or args.duration > 0, f"--duration must be > 0, got {args.duration}"),
        (args.audio is not None or args.duration is not None,
         "give --audio FILE, or --duration SECONDS for audio-free generation"),
    ]
    for ok, message in checks:
        if not ok:
            raise UsageError(message)
    out = Path(args.out)
    if out.suffix.lower() != ".mp4":
        raise UsageError(f"--out must name an .mp4 file, got {out}")
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: folder {out.parent} does not exist")
    if out.is_dir():
        raise UsageError(f"cannot write {out}: it is a folder")
    if not os.access(out.parent, os.W_OK):
        raise UsageError(f"cannot write {out}: folder {out.parent} is not writable")
    if not Path(args.run).is_dir():
        raise UsageError(f"no run folder {args.run} (train one with: uv run python run_pipeline.py)")


def cmd_generate(args: argparse.Namespace) -> None:
    """A video for any audio (or video) file FFmpeg decodes, any length: h264 + the original audio in an mp4.

    Long audio streams through overlapping windows (warm start + Hann cross-fade), so memory
    stays flat; without --audio, --duration gives audio-free generation (the null embedding).
    """
    import time

    import torch
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from synesthete.device import pick_device
    from synesthete.infer import VideoGenerator
    from synesthete.infer.generate import Silence
    from synesthete.infer.render import render_stream
    from synesthete.media import AudioReader

    _check_generate_args(args)
    gen = VideoGenerator.from_run(Path(args.run), pick_device(args.device))
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
    columns = [TextColumn("generate"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
               TextColumn("{task.fields[rtf]}"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn()]
    t0 = time.perf_counter()
    with Progress(*columns, console=_console(), transient=True) as bar:
        task = bar.add_task("generate", total=seconds, rtf="")

        def advance(frames: int) -> None:
            done = bar.tasks[0].completed + frames / d.fps
            rtf = done / max(time.perf_counter() - t0, 1e-9)
            bar.update(task, completed=done, total=max(seconds or 0.0, done), rtf=f"{rtf:.2f}x real time")

        result = render_stream(gen, source, out, **mux, size=args.size, fps=fps, seed=args.seed,
                               steps=args.steps, guidance=args.guidance, sampler=args.sampler,
                               drop_audio=args.audio is None, overlap=args.overlap,
                               keep_seconds=30.0 if args.sheet else 0.0, on_frames=advance)
    wall = time.perf_counter() - t0
    if args.sheet:
        from synesthete.contact_sheet import contact_sheet
        from synesthete.media import read_audio

        n = result.video.shape[0] * d.samples_per_frame
        audio = read_audio(out, sample_rate=d.sample_rate)[0][:, :n] if args.audio else torch.zeros(1, n)
        contact_sheet(out.with_suffix(".png"), result.video, audio, d.fps, d.sample_rate,
                      title=f"generated from {args.audio or 'no audio'} (first {result.video.shape[0] / d.fps:.0f} s)")
    print(f"wrote {out} ({result.frames} frames at {fps} fps, {result.seconds:.2f} s; "
          f"{result.seconds / wall:.2f}x real time)")


def cmd_bench_train(args: argparse.Namespace) -> None:
    """Training throughput of the VAE and DiT, fp32 vs bf16; prints one JSON object."""
    from synesthete.bench.train import bench_train
    from synesthete.device import pick_device

    cfg = _config(args)
    print(json.dumps(bench_train(cfg, pick_device(cfg.device), repeats=args.repeats), indent=2))


# --- the table ----------------------------------------------------------------------------


def _console():
    from rich.console import Console

    return Console(stderr=True)


def _add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=None, help="preset name (quick, standard, full) or a YAML path")
    p.add_argument("overrides", nargs="*", metavar="key.sub=value", help="config overrides, e.g. data.size=64")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synesthete", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    commands: dict[str, tuple[Callable, str]] = {
        "preview": (cmd_preview, "render procedural clips to mp4 + contact sheets"),
        "bench-data": (cmd_bench_data, "measure data-engine throughput (JSON)"),
        "bench-train": (cmd_bench_train, "measure VAE and DiT training throughput, fp32 vs bf16 (JSON)"),
        "generate": (cmd_generate, "generate a video for an audio file with a trained run"),
    }
    for name, (fn, help_) in commands.items():
        p = sub.add_parser(name, help=help_, description=fn.__doc__)
        p.set_defaults(func=fn)
        if name != "generate":
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
            p.add_argument("--run", "--checkpoint", dest="run", default="runs/quick", help="a trained run folder")
            p.add_argument("--seed", type=int, default=None)
            p.add_argument("--steps", type=int, default=None, help="sampler steps (default: the run's)")
            p.add_argument("--guidance", type=float, default=None, help="CFG scale (default: the run's)")
            p.add_argument("--sampler", choices=["ddim", "euler"], default=None, help="default: the run's")
            p.add_argument("--overlap", type=int, default=None, help="frames shared by neighbouring windows")
            p.add_argument("--size", type=int, default=None, help="output frame size in pixels (default: the model's)")
            p.add_argument("--fps", type=int, default=None, help="output frame rate (default: the model's)")
            p.add_argument("--start", type=float, default=0.0, help="start S seconds into the audio")
            p.add_argument("--duration", type=float, default=None,
                           help="only D seconds; without --audio, audio-free generation of D seconds")
            p.add_argument("--device", default="auto")
            p.add_argument("--sheet", action="store_true", help="also save a contact sheet PNG (first 30 s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    from synesthete.media import MediaError
    from synesthete.train.checkpoint import CheckpointError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (ConfigError, UsageError, MediaError, CheckpointError, FileNotFoundError) as e:
        if args.debug:
            raise
        print(f"synesthete {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"synesthete {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
