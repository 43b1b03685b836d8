"""`synesthete bench-generate`: real-time factor of long-form generation, with its sync quality.

For one validation song (default 30 s) and each sampler setting, the whole path runs as
`generate` runs it (audio encoder, DiT windows with warm start, VAE decode, h264 + aac encode
to a temporary mp4) and is timed; the same video is scored for sync (AV-Align, beat-sync F1)
and seams, so a faster setting never silently buys speed with quality. The ground-truth render
of the song is scored alongside as the reference. Peak memory for a short and a long input is
measured in fresh processes (`generate` on a synthetic song), the streaming claim in numbers.
"""

from __future__ import annotations

import dataclasses
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch

from synesthete.bench.machine import machine_info
from synesthete.data import make_clip
from synesthete.data.procedural import VAL_INDEX_BASE
from synesthete.eval.clip_metrics import clip_metrics
from synesthete.eval.quality import floored_ratio
from synesthete.eval.seams import seam_ratio
from synesthete.infer.generate import TensorAudio, VideoGenerator
from synesthete.infer.render import render_stream
from synesthete.infer.windows import boundary_frames


SYNC_KEYS = ("av_align", "beat_f1", "offset_ms", "pulse_ratio")


def sync_scores(video: torch.Tensor, clip: dict, fps: int, sample_rate: int, boundaries: list[int]) -> dict:
    """The sync figures of one video of the song (eval.clip_metrics) and its seam ratio."""
    scores = clip_metrics(video, clip, fps, sample_rate)
    return {**{k: scores[k] for k in SYNC_KEYS}, "seam_ratio": seam_ratio(video, boundaries)}


def peak_rss_mb(argv: list[str]) -> float:
    """Peak resident memory (MB) of `synesthete <argv>` in a fresh process."""
    code = ("import resource, sys; from synesthete.cli import main; rc = main(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"generate failed: {out.stderr.strip().splitlines()[-1:]}")
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def memory_scaling(run: Path, audio: torch.Tensor, sample_rate: int, seconds: tuple[float, float]) -> dict:
    """Peak RSS of `generate --steps 1` for a short and a long song (the song's audio looped)."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for s in seconds:
            n = round(s * sample_rate)
            song = audio.reshape(-1).repeat(-(-n // audio.shape[-1]))[:n].contiguous()
            wav = Path(tmp) / f"song_{s:g}.wav"
            subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "f32le", "-ar", str(sample_rate), "-ac", "1",
                            "-i", "-", str(wav)], input=song.numpy().tobytes(), check=True)
            out[f"peak_rss_mb_{s:g}s"] = peak_rss_mb(["generate", "--run", str(run), "--audio", str(wav),
                                                      "--steps", "1", "--out", str(Path(tmp) / "o.mp4")])
    short, long = (out[f"peak_rss_mb_{s:g}s"] for s in seconds)
    out["ratio"] = long / short
    return out


def bench_generate(run: Path, device: torch.device, seconds: float = 30.0,
                   settings: list[tuple[str, int]] = (("ddim", 10), ("ddim", 20), ("ddim", 50)),
                   memory: tuple[float, float] | None = (30.0, 600.0),
                   on_result: Callable[[str, dict], None] | None = None) -> dict:
    gen = VideoGenerator.from_run(run, device)
    d, s = gen.cfg.data, gen.cfg.sample
    clip = make_clip(dataclasses.replace(d, seconds=seconds), VAL_INDEX_BASE)
    audio = clip["audio"]
    results: dict[str, dict] = {}
    windows: list = []
    gen.generate(audio[:, : d.frames * d.samples_per_frame], steps=2)    # warm-up, untimed
    with tempfile.TemporaryDirectory() as tmp:
        for sampler, steps in settings:
            t0 = time.perf_counter()
            r = render_stream(gen, TensorAudio(audio), Path(tmp) / "bench.mp4", native=TensorAudio(audio),
                              native_rate=d.sample_rate, sampler=sampler, steps=steps, keep_seconds=None,
                              visualizer=gen.label_for(clip))
            wall = time.perf_counter() - t0
            windows = r.windows
            row = {"realtime_factor": r.seconds / wall, "seconds_per_window": wall / len(r.windows),
                   **sync_scores(r.video, clip, d.fps, d.sample_rate, boundary_frames(r.windows))}
            results[f"{sampler}_{steps}"] = row
            if on_result is not None:
                on_result(f"{sampler}_{steps}", row)
    truth = sync_scores(clip["video"][: r.video.shape[0]], clip, d.fps, d.sample_rate, boundary_frames(windows))
    default = f"{s.sampler}_{s.steps}"
    reference = results.get(f"{s.sampler}_50")
    if reference:
        for row in results.values():
            row["av_align_vs_50_steps"] = floored_ratio(row["av_align"], reference["av_align"])
    out = {
        "realtime_factor": results[default]["realtime_factor"] if default in results else None,
        "default_setting": default,
        "guidance": s.guidance,
        "overlap": s.overlap,
        "seconds": seconds,
        "fps": d.fps,
        "size": d.size,
        "device": str(device),
        "settings": results,
        "ground_truth": truth,
        "run": str(run),
        "song": {"index": VAL_INDEX_BASE, "tempo": clip["meta"]["tempo"], "visualizer": clip["meta"]["visualizer"]},
        "machine": machine_info(),
    }
    if memory:
        out["memory"] = memory_scaling(run, audio, d.sample_rate, memory)
    out["bench_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out
