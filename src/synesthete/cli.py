"""`synesthete` command line: a table of subcommands, each a thin call into the package.

Bad input ends with one line on stderr and exit code 2 (a traceback only with --debug).
"""

from __future__ import annotations

import argparse
import json
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


def cmd_generate(args: argparse.Namespace) -> None:
    """A video for any audio file FFmpeg decodes, written as h264 + aac mp4."""
    import torch
    from rich.progress import Progress

    from synesthete.device import pick_device
    from synesthete.infer import VideoGenerator
    from synesthete.infer.render import render_to_file
    from synesthete.media import read_audio

    if args.steps is not None and args.steps < 1:
        raise UsageError(f"--steps must be >= 1, got {args.steps}")
    if args.guidance is not None and args.guidance < 0:
        raise UsageError(f"--guidance must be >= 0, got {args.guidance}")
    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: folder {out.parent} does not exist")
    run = Path(args.run)
    if not run.is_dir():
        raise UsageError(f"no run folder {run} (train one with: uv run python run_pipeline.py)")
    gen = VideoGenerator.from_run(run, pick_device(args.device))
    d = gen.cfg.data
    audio, _ = read_audio(args.audio, sample_rate=d.sample_rate)
    if not bool(torch.isfinite(audio).all()):
        raise UsageError(f"{args.audio} holds NaN or infinite samples")
    if args.max_seconds is not None:
        audio = audio[:, : int(args.max_seconds * d.sample_rate)]
    if audio.shape[-1] == 0:
        raise UsageError(f"{args.audio} holds no audio samples")
    with Progress(console=_console(), transient=True) as bar:
        task = bar.add_task("generate", total=None)
        video = render_to_file(
            gen, audio, out, seed=args.seed, steps=args.steps, guidance=args.guidance,
            sheet=out.with_suffix(".png") if args.sheet else None, title=f"generated from {args.audio}",
            on_window=lambda i, n: bar.update(task, completed=i, total=n),
        )
    print(f"wrote {out} ({video.shape[0]} frames, {video.shape[0] / d.fps:.2f} s)")


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
            p.add_argument("--audio", required=True, help="any audio (or video) file FFmpeg decodes")
            p.add_argument("--out", default="out.mp4", help="the mp4 to write")
            p.add_argument("--run", "--checkpoint", dest="run", default="runs/quick", help="a trained run folder")
            p.add_argument("--seed", type=int, default=None)
            p.add_argument("--steps", type=int, default=None, help="sampler steps (default: the run's)")
            p.add_argument("--guidance", type=float, default=None, help="CFG scale (default: the run's)")
            p.add_argument("--max-seconds", type=float, default=None, help="only the first S seconds")
            p.add_argument("--device", default="auto")
            p.add_argument("--sheet", action="store_true", help="also save a contact sheet PNG")
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
