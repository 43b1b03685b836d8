"""Reactivity: does the picture follow the music's envelopes frame by frame?

Pearson correlation between ground-truth per-frame audio envelopes (kick, snare, rms,
lead_pitch columns of the clip's features) and per-frame visual statistics:
brightness (mean luma), motion (mean Farneback flow magnitude), saturation (mean HSV
saturation) and hue (the frame's mean chroma direction, as an offset in turns from the clip's
circular mean hue: the visualizers shift hue with lead pitch). Frame 0 is left out everywhere
(it has no motion). A constant signal correlates 0 with anything, never NaN.

Summary `reactivity` = mean over the envelopes that vary in the clip of the best |r| across
the visual statistics: each envelope may drive whichever visual channel it likes, and an
envelope that is silent in the clip (no kicks) is not held against the video. 0 when no
envelope varies.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from synesthete.audio.features import FEATURE_INDEX
from synesthete.eval.av_align import flow_magnitude, grayscale, to_uint8_frames

ENVELOPES = ("kick", "snare", "rms", "lead_pitch")
VISUAL_STATS = ("brightness", "motion", "saturation", "hue")


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of two equal-length series; 0 when either is constant (or shorter than 2)."""
    a, b = np.asarray(a, np.float64).reshape(-1), np.asarray(b, np.float64).reshape(-1)
    if len(a) < 2 or min(_spread(a), _spread(b)) == 0:
        return 0.0
    a, b = a - a.mean(), b - b.mean()
    return float(np.clip((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()), -1.0, 1.0))


def _spread(x: np.ndarray) -> float:
    """Standard deviation, with float32 round-off of a constant signal (relative 1e-6) read as 0."""
    s = float(x.std())
    return s if s > 1e-6 * max(1.0, float(np.abs(x).max())) else 0.0


def hue_offset(rgb: np.ndarray) -> np.ndarray:
    """float RGB [T, H, W, 3] -> [T] hue of each frame's mean chroma vector, in turns from the clip's mean.

    Chroma vector per pixel: (R - (G + B) / 2, sqrt(3) / 2 (G - B)), the hexagonal hue plane;
    averaging vectors weights hue by colourfulness, so dark or grey pixels barely count.
    """
    a = (rgb[..., 0] - 0.5 * (rgb[..., 1] + rgb[..., 2])).mean(axis=(1, 2))
    b = (0.5 * np.sqrt(3.0) * (rgb[..., 1] - rgb[..., 2])).mean(axis=(1, 2))
    angle = np.arctan2(b, a)
    mean = np.arctan2(b.sum(), a.sum())
    return np.angle(np.exp(1j * (angle - mean))) / (2 * np.pi)


def visual_stats(video: torch.Tensor | np.ndarray, magnitude: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """[T, 3, H, W] -> {brightness, motion, saturation, hue}: float [T] series (see module doc)."""
    rgb = to_uint8_frames(video).astype(np.float32) / 255.0  # [T, H, W, 3]
    hi, lo = rgb.max(axis=-1), rgb.min(axis=-1)
    sat = np.where(hi > 0, (hi - lo) / np.maximum(hi, 1e-8), 0.0)
    return {
        "brightness": grayscale(video).astype(np.float32).mean(axis=(1, 2)) / 255.0,
        "motion": flow_magnitude(video) if magnitude is None else np.asarray(magnitude, np.float32),
        "saturation": sat.mean(axis=(1, 2)),
        "hue": hue_offset(rgb),
    }


def reactivity(video: torch.Tensor | np.ndarray, features: torch.Tensor | np.ndarray,
               envelopes: Sequence[str] = ENVELOPES, magnitude: np.ndarray | None = None) -> dict[str, float]:
    """{"kick~motion": r, ... for every envelope x visual stat, "reactivity": summary} (see module doc).

    `features` is the clip's ground-truth float [T, F] (columns named by FEATURES).
    """
    f = features.detach().cpu().float().numpy() if isinstance(features, torch.Tensor) else np.asarray(features)
    stats = visual_stats(video, magnitude)
    out: dict[str, float] = {}
    best = []
    for env in envelopes:
        e = f[1:, FEATURE_INDEX[env]]
        rs = [pearson(e, stats[s][1:]) for s in VISUAL_STATS]
        out.update({f"{env}~{s}": r for s, r in zip(VISUAL_STATS, rs, strict=True)})
        if np.ptp(e) > 0:
            best.append(max(abs(r) for r in rs))
    out["reactivity"] = float(np.mean(best)) if best else 0.0
    return out
