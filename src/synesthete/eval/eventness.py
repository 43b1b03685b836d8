"""Eventness anchors: which seconds of a clip are "events", by audio and by picture, and do they agree?

After the anchor idea in audio-visual event localisation: score each 1-second bin by how much
happens in it, keep the top K seconds (non-maximum suppression so anchors spread out), and
ask whether the anchors find the true events. Eventness of a bin = energy / max energy plus
rise / max rise, where rise is the positive first difference of the energy (a loud second
right after a quiet one scores highest; a long loud stretch scores only at its start).
Audio energy is the RMS of the waveform in the bin; visual energy the mean optical-flow
magnitude of the frames in the bin (flow below STILL_PX read as 0, so a still video has no
anchors).

Ground-truth event seconds are the seconds holding a crash or a section start (the structural
hits: drops, new sections); a clip without any has no truth and its recalls are NaN. Recall
at K counts a truth second as found when an anchor sits on it (Delta = 0) or within +-Delta
seconds. Audio-visual agreement is the fraction of audio anchors with a visual anchor within
+-Delta. Bins are whole seconds from the clip start; a trailing part-second of at least half
a second is its own bin, a shorter one is dropped. Works for any clip of a few seconds or more
(6-30 s in the evaluation); K defaults to 3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from synesthete.eval.av_align import floor_still, flow_magnitude

TRUTH_EVENTS = ("crash", "section")


def _numpy(x: torch.Tensor | np.ndarray) -> np.ndarray:
    return x.detach().cpu().float().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def num_bins(seconds: float) -> int:
    """1-second bins in a clip of `seconds`: whole seconds, plus a last part of >= 0.5 s."""
    return int(np.floor(seconds)) + int(seconds - np.floor(seconds) >= 0.5)


def per_second(values: np.ndarray, rate: float, reduce: str = "mean") -> np.ndarray:
    """Per-sample (or per-frame) values [N] at `rate` per second -> one number per bin [S].

    reduce "mean" averages the bin, "rms" takes sqrt(mean(x^2)).
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    out = np.zeros(num_bins(len(x) / rate))
    for s in range(len(out)):
        chunk = x[round(s * rate): round((s + 1) * rate)]
        if len(chunk):
            out[s] = np.sqrt(np.mean(chunk ** 2)) if reduce == "rms" else chunk.mean()
    return out


def eventness(energy: np.ndarray) -> np.ndarray:
    """Energy per second [S] -> energy / max + rise / max rise, rise = max(0, e[s] - e[s-1])."""
    e = np.asarray(energy, dtype=np.float64)
    rise = np.concatenate([[0.0], np.maximum(np.diff(e), 0.0)])
    return (e / e.max() if e.max() > 0 else e * 0) + (rise / rise.max() if rise.max() > 0 else rise * 0)


def audio_eventness(audio: torch.Tensor | np.ndarray, sample_rate: int) -> np.ndarray:
    """Waveform [L] or [1, L] -> eventness per second [S] from RMS energy."""
    return eventness(per_second(_numpy(audio).reshape(-1), sample_rate, "rms"))


def visual_eventness(video: torch.Tensor | np.ndarray, fps: float, magnitude: np.ndarray | None = None
                     ) -> np.ndarray:
    """[T, 3, H, W] -> eventness per second [S] from mean flow magnitude (or a given per-frame motion)."""
    motion = floor_still(flow_magnitude(video) if magnitude is None else magnitude)
    return eventness(per_second(motion, fps, "mean"))


def top_k_anchors(score: np.ndarray, k: int = 3, radius: int = 1) -> np.ndarray:
    """Up to k bin indices by descending score; each pick suppresses bins within +-radius.

    Bins scoring 0 are never anchors (a silent or still clip has none); ties go to the earlier bin.
    """
    s = np.asarray(score, dtype=np.float64).copy()
    picks: list[int] = []
    while len(picks) < k and len(s) and s.max() > 0:
        i = int(np.argmax(s))
        picks.append(i)
        s[max(0, i - radius): i + radius + 1] = -np.inf
    return np.asarray(picks, dtype=np.int64)


def truth_event_seconds(events: Mapping[str, object], seconds: float,
                        names: Sequence[str] = TRUTH_EVENTS) -> np.ndarray:
    """Sorted unique floor(t) of the named onsets inside [0, seconds), int64."""
    t = [np.asarray(events[n], dtype=np.float64).reshape(-1) for n in names if n in events]
    t = np.concatenate(t) if t else np.zeros(0)
    s = np.unique(np.floor(t[(t >= 0) & (t < seconds)]).astype(np.int64))
    return s[s < num_bins(seconds)]


def recall_at(anchors: np.ndarray, truth: np.ndarray, delta: int = 0) -> float:
    """Fraction of truth seconds with an anchor within +-delta seconds; NaN without truth."""
    truth, anchors = np.asarray(truth).reshape(-1), np.asarray(anchors).reshape(-1)
    if len(truth) == 0:
        return float("nan")
    if len(anchors) == 0:
        return 0.0
    return float((np.abs(truth[:, None] - anchors[None, :]) <= delta).any(axis=1).mean())


def _recalls(side: str, anchors: np.ndarray, truth: np.ndarray, k: int, delta: int) -> dict[str, float]:
    return {f"{side}_recall@{k}": recall_at(anchors, truth, 0),
            f"{side}_recall@{k},{delta}": recall_at(anchors, truth, delta)}


def audio_recall(audio: torch.Tensor | np.ndarray, sample_rate: int, events: Mapping[str, object],
                 seconds: float, k: int = 3, radius: int = 1, delta: int = 1) -> dict[str, float]:
    """{audio_recall@K, audio_recall@K,D, truth_events}: the audio side alone. It depends on the
    song only, so an evaluation scores it once per song, not once per baseline."""
    truth = truth_event_seconds(events, seconds)
    anchors = top_k_anchors(audio_eventness(audio, sample_rate), k, radius)
    return {**_recalls("audio", anchors, truth, k, delta), "truth_events": len(truth)}


def eventness_report(video: torch.Tensor | np.ndarray, audio: torch.Tensor | np.ndarray, sample_rate: int,
                     fps: float, events: Mapping[str, object], k: int = 3, radius: int = 1, delta: int = 1,
                     magnitude: np.ndarray | None = None) -> dict[str, float]:
    """{audio_recall@K, audio_recall@K,D, visual_recall@K, visual_recall@K,D, av_agreement, truth_events}.

    Keys use the numbers, e.g. "audio_recall@3" and "audio_recall@3,1". av_agreement is the
    fraction of audio anchors with a visual anchor within +-delta s (NaN with no audio anchor).
    """
    a_anchor = top_k_anchors(audio_eventness(audio, sample_rate), k, radius)
    v_anchor = top_k_anchors(visual_eventness(video, fps, magnitude), k, radius)
    truth = truth_event_seconds(events, len(video) / fps)
    return {
        **_recalls("audio", a_anchor, truth, k, delta),
        **_recalls("visual", v_anchor, truth, k, delta),
        "av_agreement": recall_at(v_anchor, a_anchor, delta),
        "truth_events": len(truth),
    }
