"""How sure an evaluation is: paired bootstrap intervals over its validation songs.

With 4-8 songs, a difference of 0.05 AV-Align between two baselines can be chance. Every
baseline is scored on the same songs, so two baselines are compared song by song: the songs
are resampled with replacement, the statistic (a difference of means, or a ratio of means) is
recomputed on each resample, and its 2.5th and 97.5th percentiles bound a 95% interval (the
paired percentile bootstrap, Efron & Tibshirani 1993). Deterministic: a fixed seed.

The intervals cover what the targets are stated in: the model's AV-Align and beat F1 as
ratios to the ground truth's, its margins over shuffled and null audio, and every baseline's
sharpness ratio; and, per sync metric, the ground truth's margin over its mismatched render:
whether the metric can tell sync from chance on these songs at all. A lower bound above the
target (or above 0 for a margin) is a result that these songs support; an interval that
straddles it is not decided by them.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from synesthete.eval.quality import floored_ratio
from synesthete.eval.semantics import auc, is_major

RESAMPLES = 2000
SEED = 0

RATIO_TO_TRUTH = ("av_align", "beat_f1")
"""Metrics whose targets are stated as a fraction of the ground truth's (issue 4)."""
MARGINS = {"av_align": ("shuffled_audio", "null_audio", "mismatched_truth", "regression"),
           "beat_f1": ("shuffled_audio", "null_audio", "mismatched_truth")}
"""model - baseline, per metric."""
TRUTH_MARGINS = ("av_align", "beat_f1", "brightness_f1", "reactivity", "tempo_accuracy", "visual_recall@3",
                 "eventness_agreement")
"""ground truth - mismatched truth: how far a real visualizer sits above the metric's chance level
on these songs, the most a model that imitates it can be expected to reach over shuffled audio. An
interval that reaches 0 says the metric cannot tell sync from chance here (the eventness agreement
on 8 s excerpts, README). Evaluations from before a metric existed leave it out."""


def bootstrap(stat, *columns, resamples: int = RESAMPLES, seed: int = SEED) -> dict:
    """{"value", "ci95": [lo, hi], "songs"} of `stat(*columns)`, the songs resampled together.

    columns: one value per song each, paired (song i in all); songs where any is NaN are left out.
    stat: maps arrays [..., songs] to [...] (e.g. a difference of means along the last axis). A
    resample it leaves undefined (NaN: an AUC of songs all in one mode) is left out of the interval.
    """
    cols = [np.asarray(c, dtype=np.float64) for c in columns]
    keep = np.logical_and.reduce([np.isfinite(c) for c in cols])
    cols = [c[keep] for c in cols]
    n = int(keep.sum())
    if n == 0:
        return {"value": float("nan"), "ci95": [float("nan"), float("nan")], "songs": 0}
    idx = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    with warnings.catch_warnings():                      # every resample undefined: a NaN interval
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanpercentile(stat(*(c[idx] for c in cols)), [2.5, 97.5])
    return {"value": float(stat(*cols)), "ci95": [float(lo), float(hi)], "songs": n}


def mean_difference(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """mean(x) - mean(y) along the last axis (the songs): a margin."""
    return x.mean(-1) - y.mean(-1)


def mean_ratio(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """mean(x) / mean(y) along the last axis, the denominator floored: a ratio to the truth."""
    return floored_ratio(x.mean(-1), y.mean(-1))


def paired_bootstrap(a, b, ratio: bool = False, resamples: int = RESAMPLES, seed: int = SEED) -> dict:
    """`bootstrap` of mean(a) - mean(b), or mean(a) / mean(b) with `ratio`."""
    return bootstrap(mean_ratio if ratio else mean_difference, a, b, resamples=resamples, seed=seed)


def intervals(per_clip: dict[str, list[dict]], clips: Sequence[dict] | None = None) -> dict[str, dict[str, dict]]:
    """The evaluation's 95% intervals: {name: {baseline: paired_bootstrap(...)}}.

    per_clip: metrics.json's `per_clip` ({baseline: [clip_metrics row per song]}, ground truth included).
    clips: metrics.json's `clips` (each song's "mode"): adds every baseline's `mode_auc` where the
    songs have both modes.
    """
    col = {b: {k: [row[k] for row in rows] for k in rows[0]} for b, rows in per_clip.items() if rows}
    truth = col["ground_truth"]
    out: dict[str, dict[str, dict]] = {}
    out["sharpness_ratio"] = {b: paired_bootstrap(c["sharpness"], truth["sharpness"], ratio=True)
                              for b, c in col.items()}
    for k in RATIO_TO_TRUTH:
        out[f"{k}_to_truth"] = {b: paired_bootstrap(c[k], truth[k], ratio=True)
                                for b, c in col.items() if b != "ground_truth"}
    for k, others in MARGINS.items():
        out[f"{k}_margin"] = {b: paired_bootstrap(col["model"][k], col[b][k]) for b in others if b in col}
    modes = [c.get("mode") for c in clips or []]
    major = is_major(modes) if modes and None not in modes and "temperature" in truth else np.zeros(0, bool)
    if 0 < major.sum() < len(major):                     # songs of both modes to rank
        out["mode_auc"] = {b: bootstrap(auc, c["temperature"], major.astype(np.float64)) for b, c in col.items()}
    if "mismatched_truth" in col:
        for k in (k for k in TRUTH_MARGINS if k in truth):
            out[f"{k}_truth_margin"] = {"mismatched_truth": paired_bootstrap(truth[k], col["mismatched_truth"][k])}
    return out


def intervals_table(iv: dict[str, dict[str, dict]]) -> str:
    """Markdown: one row per (statistic, baseline), value and its 95% interval."""
    rows = ["| statistic | baseline | value | 95% interval |", "|---|---|---|---|"]
    for name, by_baseline in iv.items():
        what = (name.replace("_truth_margin", ", ground truth minus").replace("_margin", ", model minus")
                .replace("_to_truth", " / ground truth's"))
        for b, r in by_baseline.items():
            lo, hi = r["ci95"]
            rows.append(f"| {what} | {b} | {r['value']:.3f} | [{lo:.3f}, {hi:.3f}] |")
    return "\n".join(rows)


def summary_line(iv: dict[str, dict[str, dict]]) -> str:
    """The model's figures against issue 4's targets, and the truth's own margin over chance, on one line."""
    parts = []
    for name, b, label in (("av_align_to_truth", "model", "AV-Align / truth"),
                           ("beat_f1_to_truth", "model", "beat F1 / truth"),
                           ("av_align_margin", "shuffled_audio", "AV-Align - shuffled"),
                           ("av_align_margin", "null_audio", "AV-Align - null"),
                           ("av_align_truth_margin", "mismatched_truth", "AV-Align, truth - mismatched truth"),
                           ("sharpness_ratio", "model", "sharpness ratio")):
        r = iv.get(name, {}).get(b)
        if r is not None:
            parts.append(f"{label} {r['value']:.2f} [{r['ci95'][0]:.2f}, {r['ci95'][1]:.2f}]")
    return "95% intervals over the songs: " + "; ".join(parts)
