"""The evaluation split by visualizer: which looks the model follows, and which the metric can judge.

A pooled figure hides that the looks differ: on `metaballs` and `particles` songs the
visualizer's own motion peaks sit barely above chance (ground truth - mismatched truth near 0),
so no model imitating it can show a margin there, while `strobe` and `kaleidoscope` songs
separate by 0.2. Means per look, from metrics.json's `per_clip` rows and `clips`.
"""

from __future__ import annotations

import math

from synesthete.eval.clip_metrics import nanmean
from synesthete.eval.quality import floored_ratio

COLUMNS = (
    ("av_align", "ground_truth", None, "AV-Align truth"),
    ("av_align", "model", None, "AV-Align model"),
    ("av_align", "ground_truth", "mismatched_truth", "truth - mismatched"),
    ("av_align", "model", "shuffled_audio", "model - shuffled"),
    ("av_align", "model", "null_audio", "model - null"),
    ("beat_f1", "model", None, "beat F1 model"),
    ("visualizer_accuracy", "model", None, "look named, model"),
)
"""(metric, baseline, minus baseline or None, column title) of the markdown table."""


def by_visualizer(per_clip: dict[str, list[dict]], clips: list[dict]) -> dict[str, dict]:
    """{visualizer: {"songs": n, "<metric>": {baseline: mean}, "sharpness_ratio": {baseline: ratio}}}.

    The sharpness ratio is, as in the pooled results, a ratio of the look's means.
    """
    looks = sorted({c["visualizer"] for c in clips})
    out: dict[str, dict] = {}
    for look in looks:
        rows = [i for i, c in enumerate(clips) if c["visualizer"] == look]
        entry: dict = {"songs": len(rows)}
        for metric in ("av_align", "beat_f1", "visualizer_accuracy"):   # the last only with the learned nets
            entry[metric] = {b: nanmean([per_clip[b][i][metric] for i in rows]) for b in per_clip
                             if per_clip[b] and metric in per_clip[b][0]}
        truth_sharp = nanmean([per_clip["ground_truth"][i]["sharpness"] for i in rows])
        entry["sharpness_ratio"] = {b: floored_ratio(nanmean([per_clip[b][i]["sharpness"] for i in rows]), truth_sharp)
                                    for b in per_clip if per_clip[b]}
        out[look] = entry
    return out


def _cell(entry: dict, metric: str, baseline: str, minus: str | None) -> str:
    v = entry[metric].get(baseline, float("nan"))
    if minus is not None:
        v = v - entry[metric].get(minus, float("nan"))
    return "–" if not math.isfinite(v) else (f"{v:+.3f}" if minus is not None else f"{v:.3f}")


def by_visualizer_table(per_look: dict[str, dict]) -> str:
    """Markdown: one row per visualizer; columns whose baseline this evaluation lacks are left out."""
    first = next(iter(per_look.values()), None)
    if first is None:
        return ""
    cols = [c for c in COLUMNS if c[1] in first[c[0]] and (c[2] is None or c[2] in first[c[0]])]
    rows = ["| visualizer | songs | " + " | ".join(c[3] for c in cols) + " | sharpness ratio |",
            "|---" * (len(cols) + 3) + "|"]
    for look, e in per_look.items():
        sharp = e["sharpness_ratio"].get("model", float("nan"))
        rows.append(f"| {look} | {e['songs']} | " + " | ".join(_cell(e, *c[:3]) for c in cols)
                    + f" | {sharp:.2f} |")
    return "\n".join(rows)
