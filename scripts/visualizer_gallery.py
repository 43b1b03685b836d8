"""Gallery and motion check for the visualizers.

(a) Renders every visualizer on synthetic beat-grid features (kick each beat, snare on 2
and 4, hats on 8ths, bass and lead notes) and saves a PNG: rows = visualizers, columns =
consecutive frames around a kick. (b) Prints, per visualizer, the mean Farneback optical-flow
magnitude at onset frames vs other frames, and an AV-Align-style score: strict local maxima
of the per-frame flow magnitude (AV-Align's video peaks) matched one-to-one to onset frames
within +-1 frame, IoU = m / (n_onset + n_peak - m). With --songs N it also scores real
clips from the music engine the way AV-Align does (librosa onsets of the audio at 22.05 kHz
against flow peaks, +-1 frame). --bench times 48-frame renders on one thread.

    uv run python scripts/visualizer_gallery.py                  # PNG + synthetic scores
    uv run python scripts/visualizer_gallery.py --songs 12       # + AV-Align on real clips, vs chance
    uv run python scripts/visualizer_gallery.py --bench          # ms per 48 x 128 px render
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from synesthete.cli import ArgumentParser, finite_float, report_errors
from synesthete.visualizers import REGISTRY, get_visualizer  # noqa: E402
from synesthete.visualizers.synthetic import beat_grid  # noqa: E402


def flow_magnitudes(frames: np.ndarray) -> np.ndarray:
    """uint8 [T, 3, H, W] -> mean Farneback flow magnitude [T] (frame i-1 -> i; [0] copies [1])."""
    gray = [cv2.cvtColor(np.ascontiguousarray(f.transpose(1, 2, 0)), cv2.COLOR_RGB2GRAY) for f in frames]
    mags = [0.0]
    for a, b in zip(gray[:-1], gray[1:]):
        flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)  # AV-Align's settings
        mags.append(float(cv2.magnitude(flow[..., 0], flow[..., 1]).mean()))
    mags[0] = mags[1]
    return np.asarray(mags)


def peaks(x: np.ndarray, floor: float = 0.1) -> list[int]:
    """Strict local maxima at or above `floor` (AV-Align's video peak rule)."""
    return [i for i in range(1, len(x) - 1) if x[i - 1] < x[i] > x[i + 1] and x[i] >= floor]


def align_iou(onsets: list[int], video_peaks: list[int], tolerance: int = 1) -> float:
    """Onset frames matched one-to-one to peaks within `tolerance` frames, over their union."""
    used: set[int] = set()
    for o in onsets:
        for p in video_peaks:
            if p not in used and abs(p - o) <= tolerance:
                used.add(p)
                break
    return len(used) / max(len(onsets) + len(video_peaks) - len(used), 1)


def av_align(audio_onsets: np.ndarray, video_peaks: list[int], fps: int) -> float:
    """AV-Align's IoU: an audio onset (s) matches if a peak lies strictly within 1 / fps of it."""
    hits = sum(any(abs(a - p / fps) < 1.0 / fps for p in video_peaks) for a in audio_onsets)
    return hits / max(len(audio_onsets) + len(video_peaks) - hits, 1)


def style_for(name: str, seed: int, mode: str, tempo: float) -> dict:
    return get_visualizer(name).sample_style(torch.Generator().manual_seed(seed), mode, tempo)


def synthetic_report(args: argparse.Namespace) -> None:
    """Flow at onsets vs elsewhere, AV-Align-style score, and the PNG grid."""
    feats, onsets = beat_grid(args.frames, args.fps, args.tempo, seed=args.seed, energy=args.energy)
    onset_frames = [i for i in onsets["any"] if i > 0]
    other = [i for i in range(1, args.frames) if i not in set(onset_frames)]
    solo_hats = [i for i in onsets["hat"] if i not in onsets["kick"]]  # snares sit on kicks
    shown = list(range(args.first, args.first + 8))
    with plt.style.context("dark_background"):
        fig, axs = plt.subplots(len(args.names), 8, figsize=(16, 2.1 * len(args.names)), squeeze=False)
    print(f"synthetic beat grid: {args.tempo:.0f} BPM, {args.fps} fps, {args.frames} frames, "
          f"{len(onset_frames)} onsets; flow = mean Farneback magnitude (px)")
    print(f"{'visualizer':13s} {'mode':5s} {'flow@on':>7s} {'other':>6s} {'ratio':>5s} "
          f"{'kick':>5s} {'snare':>5s} {'hat':>5s} {'peaks':>5s} {'score':>5s}")
    for row, name in enumerate(args.names):
        mode = "major" if row % 2 == 0 else "minor"
        video = get_visualizer(name).render(feats, style_for(name, args.seed * 1000 + row, mode, args.tempo),
                                            args.size, args.fps, tempo=args.tempo)
        mags = flow_magnitudes(video.numpy())
        off = mags[other].mean()
        rel = {k: mags[[i for i in v if i > 0]].mean() / off
               for k, v in (("kick", onsets["kick"]), ("snare", onsets["snare"]), ("hat", solo_hats))}
        pk = peaks(mags)
        print(f"{name:13s} {mode:5s} {mags[onset_frames].mean():7.2f} {off:6.2f} "
              f"{mags[onset_frames].mean() / off:5.2f} {rel['kick']:5.2f} {rel['snare']:5.2f} "
              f"{rel['hat']:5.2f} {len(pk):5d} {align_iou(onset_frames, pk):5.2f}")
        for col, i in enumerate(shown):
            ax = axs[row, col]
            ax.imshow(video[i].permute(1, 2, 0).numpy())
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{i} {' '.join(k for k in ('kick', 'snare', 'hat') if i in onsets[k])}", fontsize=8)
            if col == 0:
                ax.set_ylabel(f"{name}\n{mode}", fontsize=9)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    print(f"wrote {out}")


def audio_report(args: argparse.Namespace) -> None:
    """AV-Align of every visualizer on real music-engine clips (8 s windows of songs 1..N), and how
    far it sits above chance: the same renders scored against the next song's audio (mismatched),
    with the motion peaks and audio onsets per second that set that chance level. Scored with the
    evaluation's own AV-Align (`eval/av_align.py`)."""
    from synesthete.audio import render_clip
    from synesthete.eval.av_align import av_align as eval_av_align
    from synesthete.eval.av_align import flow_magnitude

    sr, seconds = 16000, 8.0
    audios, mags = [], {name: [] for name in args.names}
    for song in range(1, args.songs + 1):
        start = 10.0 + 7.0 * (song % 5)
        clip = render_clip(song, start, seconds, sr, args.fps)
        audios.append(clip.audio)
        tempo, mode = clip.meta["tempo"], clip.meta["mode"]
        for k, name in enumerate(args.names):
            video = get_visualizer(name).render(clip.features, style_for(name, 10 * song + k, mode, tempo),
                                                args.size, args.fps, t0=start, tempo=tempo)
            mags[name].append(flow_magnitude(video))
    n = len(audios)
    score = lambda name, i, j: eval_av_align(None, audios[j], sr, args.fps, magnitude=mags[name][i])  # noqa: E731
    print(f"AV-Align on {n} real clips ({seconds:.0f} s each); mismatched = a render scored against the next "
          f"song's audio")
    truth_all, mism_all = [], []
    for name in args.names:
        truth = [score(name, i, i) for i in range(n)]
        mism = [score(name, i, (i + 1) % n) for i in range(n)] if n > 1 else truth
        t, m = np.mean([r["score"] for r in truth]), np.mean([r["score"] for r in mism])
        truth_all.append(t)
        mism_all.append(m)
        print(f"  {name:13s} truth {t:.3f}  mismatched {m:.3f}  margin {t - m:+.3f}  motion peaks "
              f"{np.mean([r['video_peaks'] for r in truth]) / seconds:.2f}/s  audio onsets "
              f"{np.mean([r['audio_peaks'] for r in truth]) / seconds:.2f}/s")
    print(f"  {'mean':13s} truth {np.mean(truth_all):.3f}  mismatched {np.mean(mism_all):.3f}  "
          f"margin {np.mean(truth_all) - np.mean(mism_all):+.3f}")


def bench(args: argparse.Namespace, frames: int = 48, repeats: int = 20) -> None:
    """Median render time of a default clip (48 frames) on one thread, per visualizer."""
    feats, _ = beat_grid(frames, args.fps)
    for name in args.names:
        vis, style = get_visualizer(name), style_for(name, 0, "minor", 120.0)
        for _ in range(3):
            vis.render(feats, style, args.size, args.fps)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            vis.render(feats, style, args.size, args.fps)
            times.append(time.perf_counter() - start)
        times.sort()
        print(f"{name:13s} {frames} x {args.size} px: median {times[repeats // 2] * 1e3:5.1f} ms, "
              f"best {times[0] * 1e3:5.1f} ms")


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs/gallery/visualizers.png")
    ap.add_argument("--names", nargs="*", default=sorted(REGISTRY))
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--fps", type=int, default=16)
    ap.add_argument("--tempo", type=finite_float, default=120.0)
    ap.add_argument("--frames", type=int, default=96)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--energy", type=finite_float, default=0.8)
    ap.add_argument("--first", type=int, default=14, help="first frame shown")
    ap.add_argument("--songs", type=int, default=0, help="also score AV-Align on this many real clips")
    ap.add_argument("--bench", action="store_true", help="only time renders (48 frames, 1 thread)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.bench:
        bench(args)
        return
    synthetic_report(args)
    if args.songs:
        audio_report(args)


if __name__ == "__main__":
    sys.exit(report_errors("visualizer_gallery", main))
