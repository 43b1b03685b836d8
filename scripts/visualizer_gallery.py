"""Gallery and motion check for the visualizers on synthetic beat-grid features.

Saves a PNG (rows = visualizers, columns = consecutive frames around a kick) and prints, per
visualizer, the mean Farneback optical-flow magnitude at onset frames vs other frames and an
AV-Align-style score: strict local maxima of the per-frame flow magnitude (AV-Align's video
peaks) matched one-to-one to onset frames within +-1 frame, IoU = m / (n_onset + n_peak - m).

    uv run python scripts/visualizer_gallery.py --out runs/gallery/visualizers.png
    uv run python scripts/visualizer_gallery.py --bench   # ms per 48-frame 128 px render
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

plt.style.use("dark_background")
import numpy as np
import torch

from synesthete.visualizers import REGISTRY, get_visualizer
from synesthete.visualizers.synthetic import beat_grid


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
    """One-to-one matches within `tolerance` frames over the union of onsets and peaks."""
    used: set[int] = set()
    matches = 0
    for o in onsets:
        for p in video_peaks:
            if p not in used and abs(p - o) <= tolerance:
                used.add(p)
                matches += 1
                break
    return matches / max(len(onsets) + len(video_peaks) - matches, 1)


def bench(names: list[str], size: int, fps: int, frames: int = 48, repeats: int = 20) -> None:
    """Median render time of a default clip (48 frames) on one thread, per visualizer."""
    feats, _ = beat_grid(frames, fps)
    for name in names:
        vis = get_visualizer(name)
        style = vis.sample_style(torch.Generator().manual_seed(0), "minor", 120.0)
        for _ in range(3):
            vis.render(feats, style, size, fps)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            vis.render(feats, style, size, fps)
            times.append(time.perf_counter() - start)
        times.sort()
        print(f"{name:14s} {frames}x{size}px: median {times[repeats // 2] * 1e3:5.1f} ms, "
              f"best {times[0] * 1e3:5.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs/gallery/visualizers.png")
    ap.add_argument("--names", nargs="*", default=sorted(REGISTRY))
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--fps", type=int, default=16)
    ap.add_argument("--tempo", type=float, default=120.0)
    ap.add_argument("--frames", type=int, default=96)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--energy", type=float, default=0.8)
    ap.add_argument("--first", type=int, default=14, help="first frame shown")
    ap.add_argument("--bench", action="store_true", help="only time renders (48 frames, 1 thread)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.bench:
        bench(args.names, args.size, args.fps)
        return

    feats, onsets = beat_grid(args.frames, args.fps, args.tempo, seed=args.seed, energy=args.energy)
    onset_frames = [i for i in onsets["any"] if i > 0]
    shown = list(range(args.first, args.first + 8))
    fig, axs = plt.subplots(len(args.names), 8, figsize=(16, 2.1 * len(args.names)), squeeze=False)
    print(f"{'visualizer':14s} {'mode':6s} {'ms':>6s} {'flow@on':>8s} {'other':>7s} {'ratio':>6s} "
          f"{'kick':>5s} {'snare':>5s} {'hat':>5s} {'peaks':>5s} {'score':>6s}")
    for row, name in enumerate(args.names):
        vis = get_visualizer(name)
        mode = "major" if row % 2 == 0 else "minor"
        style = vis.sample_style(torch.Generator().manual_seed(args.seed * 1000 + row), mode, args.tempo)
        start = time.perf_counter()
        video = vis.render(feats, style, args.size, args.fps, tempo=args.tempo)
        ms = (time.perf_counter() - start) * 1e3
        mags = flow_magnitudes(video.numpy())
        other = [i for i in range(1, args.frames) if i not in set(onset_frames)]
        on, off = mags[onset_frames].mean(), mags[other].mean()
        solo_hats = [i for i in onsets["hat"] if i not in onsets["kick"]]  # snares sit on kicks
        per = {k: mags[[i for i in v if i > 0]].mean() / off
               for k, v in (("kick", onsets["kick"]), ("snare", onsets["snare"]), ("hat", solo_hats))}
        pk = peaks(mags)
        score = align_iou(onset_frames, pk)
        print(f"{name:14s} {mode:6s} {ms:6.1f} {on:8.3f} {off:7.3f} {on / off:6.2f} "
              f"{per['kick']:5.2f} {per['snare']:5.2f} {per['hat']:5.2f} {len(pk):5d} {score:6.2f}")
        for col, i in enumerate(shown):
            ax = axs[row, col]
            ax.imshow(video[i].permute(1, 2, 0).numpy())
            ax.set_xticks([])
            ax.set_yticks([])
            tags = [k for k in ("kick", "snare", "hat") if i in onsets[k]]
            ax.set_title(f"{i} {' '.join(tags)}", fontsize=8)
            if col == 0:
                ax.set_ylabel(f"{name}\n{mode}", fontsize=9)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=80, facecolor="black")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
