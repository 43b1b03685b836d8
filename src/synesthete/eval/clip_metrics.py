"""Every per-clip metric of one video against its song's ground truth, in one call.

Optical flow is computed once and shared. Set-level figures (ratios to ground truth, mode
accuracy, tempo correlation, Fréchet distance, diversity) are aggregated in eval.runner.
"""

from __future__ import annotations

import numpy as np
import torch

from synesthete.eval.av_align import av_align, flow_magnitude
from synesthete.eval.beat_sync import beat_sync, within_half_beat
from synesthete.eval.eventness import eventness_report
from synesthete.eval.pulse import pulse_stats
from synesthete.eval.quality import flicker, sharpness
from synesthete.eval.reactivity import reactivity
from synesthete.eval.semantics import mean_motion, motion_tempo, palette_temperature, tempo_matches


def clip_metrics(video: torch.Tensor, clip: dict, fps: int, sample_rate: int) -> dict[str, float]:
    """uint8 video [T, 3, H, W] scored against `clip` (audio, events, features of the song)."""
    audio, events = clip["audio"], clip["events"]
    mag = flow_magnitude(video)
    sync = beat_sync(video, events, fps, magnitude=mag, max_lag=within_half_beat(clip["meta"]["tempo"], fps))
    anchors = eventness_report(video, audio, sample_rate, fps, events, magnitude=mag)
    return {
        "av_align": av_align(video, audio, sample_rate, fps, magnitude=mag)["score"],
        "beat_f1": sync["f1"],
        "beat_precision": sync["precision"],
        "beat_recall": sync["recall"],
        "brightness_f1": sync["brightness_f1"],
        "offset_ms": sync["offset_ms"],
        "pulse_ratio": pulse_stats(video, events["kick"], fps)["ratio"],
        "visual_recall@3": anchors["visual_recall@3"],
        "visual_recall@3,1": anchors["visual_recall@3,1"],
        "eventness_agreement": anchors["av_agreement"],
        "reactivity": reactivity(video, clip["features"], magnitude=mag)["reactivity"],
        "temperature": palette_temperature(video),
        "motion": mean_motion(video, magnitude=mag),
        "tempo_accuracy": float(tempo_matches(motion_tempo(mag, fps), clip["meta"]["tempo"], fps)),
        "sharpness": sharpness(video),
        "flicker": flicker(video),
    }


def nanmean(values: list[float]) -> float:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")
