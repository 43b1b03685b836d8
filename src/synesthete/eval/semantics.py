"""Semantics: does the picture carry the song's mood (key mode) and pace (tempo)?

The visualizers (`visualizers/palette.py`) draw major-key palettes from warm hues (magenta
through red and orange to yellow, where R > B) and minor-key palettes from cool ones (cyan
through blue to violet, where B > R), and scale their steady motion with tempo. So:

- palette temperature = mean (R - B) over all pixels and frames, in [-1, 1]; the clip reads as
  major when it is > 0. Checked on the ground truth: on 40 validation clips (3 s) the rule is
  right for every clip (accuracy 1.0, |R - B| >= 0.035): the lead-pitch hue shift
  (+-0.05 turns) keeps hues inside their family, the near-black background is tinted by the
  palette's first hue, and flashes are palette-tinted white.
- motion speed = mean optical-flow magnitude; across clips it is compared with tempo by
  Spearman (and Pearson) correlation. It is a weak signal even on the ground truth (Spearman
  0.07 over those 40 clips), because the visualizer and the section's energy change the amount
  of motion far more than tempo does. On validation songs 0-63 (8 s) it is 0.025 for the truth
  and 0.023 for a mismatched render: across songs it measures nothing at our song counts.
- motion tempo = librosa's tempo estimate on the per-frame flow magnitude above its median,
  read as an onset envelope; a clip's tempo is right when its beat period is within half a
  frame of the song's beat period, or of half or double it (the metrical level is ambiguous
  for the picture as for any tempo estimator; `tempo_accuracy`). This asks per clip whether the
  picture moves at the song's pace. On validation songs 0-63, 8 s (`scripts/chance_probe.py`):
  right for the truth on 54 of 64, for a mismatched render on 15; 30 s: 27 / 10 of 32.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import librosa
import numpy as np
import torch

from synesthete.eval.av_align import flow_magnitude, to_uint8_frames
from synesthete.eval.reactivity import pearson
from synesthete.visualizers.palette import is_minor


def palette_temperature(video: torch.Tensor | np.ndarray) -> float:
    """[T, 3, H, W] -> mean (R - B) in [-1, 1]: > 0 warm, < 0 cool."""
    rgb = to_uint8_frames(video)
    return float((rgb[..., 0].astype(np.float32) - rgb[..., 2].astype(np.float32)).mean() / 255.0)


def mean_motion(video: torch.Tensor | np.ndarray, magnitude: np.ndarray | None = None) -> float:
    """Mean Farneback flow magnitude (px per frame) over frames 1..T-1."""
    m = flow_magnitude(video) if magnitude is None else np.asarray(magnitude)
    return float(np.mean(m[1:])) if len(m) > 1 else 0.0


MIN_TEMPO_SECONDS = 2.0
"""A tempo read from less has too few beats to stand on: librosa's estimate of the audio's tempo
is within 4% on 20 of 48 validation songs from 1 s (its prior near 120 bpm answering; off
otherwise on 20), 30 from 2 s, 34 from 4 s (`scripts/tempo_probe.py --seconds S`). `eval --video`
gives no tempo for a shorter video."""


def motion_tempo(magnitude: np.ndarray, fps: float) -> float:
    """Per-frame flow magnitude [T] -> the picture's tempo in bpm; NaN for a still picture (librosa
    would answer its prior's 120 bpm for an empty envelope)."""
    m = np.asarray(magnitude, dtype=np.float64)
    envelope = np.maximum(m - np.median(m), 0.0) if len(m) else m
    if not envelope.any():
        return float("nan")
    return float(librosa.feature.tempo(onset_envelope=envelope, sr=fps, hop_length=1)[0])


def tempo_matches(estimate: float, tempo: float, fps: float) -> bool:
    """Is the estimate's beat period within half a frame of the song's, of half or of double it?
    (At 16 fps the estimate moves in whole frames of period: 120 bpm is 8 frames, 137 is 7.)"""
    if not np.isfinite(estimate) or estimate <= 0:
        return False
    period = 60.0 * fps / estimate
    return any(abs(period - 60.0 * fps / (tempo * k)) <= 0.5 for k in (1.0, 0.5, 2.0))


def mode_correct(temperature: float, mode: str) -> bool:
    """Major (and other non-minor modes) should be warm (> 0), minor cool (<= 0)."""
    return (temperature <= 0.0) == is_minor(mode)


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 with ties given their average rank (for Spearman)."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    r = np.empty(len(x))
    r[order] = np.arange(len(x), dtype=np.float64)
    for v in np.unique(x):
        tie = x == v
        r[tie] = r[tie].mean()
    return r


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation; 0 when either side is constant."""
    return pearson(ranks(a), ranks(b))


def auc(scores, positive) -> np.ndarray:
    """Mann-Whitney AUC along the last axis: the chance that a positive item scores above a negative
    one, ties counted half; NaN in a row without both kinds. Leading axes are kept, so a bootstrap's
    resamples [R, songs] are scored at once (in blocks of rows: memory O(block x songs^2))."""
    s, pos = np.asarray(scores, dtype=np.float64), np.asarray(positive, dtype=bool)
    lead, n = s.shape[:-1], s.shape[-1]
    if n == 0:
        return np.full(lead, np.nan)
    s, pos = s.reshape(-1, n), pos.reshape(-1, n)
    out = np.empty(len(s))
    for i in range(0, len(s), 256):
        b, p = s[i:i + 256], pos[i:i + 256]
        wins = 0.5 + 0.5 * np.sign(b[:, :, None] - b[:, None, :])         # (rows, n, n): i above j
        pairs = p[:, :, None] & ~p[:, None, :]                             # i positive, j negative
        with np.errstate(invalid="ignore", divide="ignore"):
            out[i:i + 256] = (wins * pairs).sum((1, 2)) / (p.sum(1) * (~p).sum(1))
    return out.reshape(lead)


def mode_auc(temperatures: Sequence[float], modes: Sequence[str]) -> float:
    """The chance that a major song's picture is warmer than a minor song's (ties half), over every
    pair: 1 when palette temperature ranks the songs by mode, 0.5 when it carries no mode at all.
    Unlike `mode_accuracy` it asks nothing of the sign, so a picture that is cool for every song but
    less cool for the major ones scores above 0.5. NaN without songs of both modes."""
    return float(auc(temperatures, is_major(modes)))


def is_major(modes: Sequence[str]) -> np.ndarray:
    """[songs] bool: major (and other non-minor modes), the side `mode_auc` expects warmer."""
    return np.array([not is_minor(m) for m in modes], dtype=bool)


def semantics_from_stats(temperatures: Sequence[float], modes: Sequence[str], motions: Sequence[float],
                         tempos: Sequence[float]) -> dict[str, float]:
    """Per-clip stats -> {mode_accuracy, mode_auc, tempo_motion_spearman, tempo_motion_pearson, clips}."""
    correct = [mode_correct(t, m) for t, m in zip(temperatures, modes, strict=True)]
    return {"mode_accuracy": float(np.mean(correct)) if correct else float("nan"),
            "mode_auc": mode_auc(temperatures, modes),
            "tempo_motion_spearman": spearman(np.asarray(tempos), np.asarray(motions)),
            "tempo_motion_pearson": pearson(np.asarray(tempos), np.asarray(motions)),
            "clips": len(correct)}


def semantics(clips: Sequence[tuple[torch.Tensor | np.ndarray, Mapping[str, object]]]) -> dict[str, float]:
    """[(video [T, 3, H, W], meta with 'mode' and 'tempo'), ...] -> `semantics_from_stats` of them."""
    return semantics_from_stats([palette_temperature(v) for v, _ in clips], [str(m["mode"]) for _, m in clips],
                                [mean_motion(v) for v, _ in clips], [float(m["tempo"]) for _, m in clips])
