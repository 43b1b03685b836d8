"""Two evaluations of the same songs, compared song by song: is run A's model really better than B's?

An ablation (a new input, another objective) changes a model's AV-Align by a few hundredths, less
than the spread between songs. Both evaluations score the same validation songs, so the
difference is taken per song and the songs resampled together (`uncertainty.bootstrap`): a 95%
interval that excludes 0 is a difference these songs support. The runs' own ground truths must
agree too, or the songs were not the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from synesthete.eval.semantics import auc, is_major, mode_correct
from synesthete.eval.uncertainty import bootstrap, mean_difference, mean_ratio


class CompareError(ValueError):
    """The two evaluations cannot be compared song by song; the message says why."""


def load_metrics(path: str | Path) -> dict:
    """metrics.json, given as the file, its eval folder or a run folder (RUN/eval/metrics.json)."""
    p = Path(path)
    for candidate in (p, p / "metrics.json", p / "eval" / "metrics.json"):
        if candidate.is_file():
            try:
                m = json.loads(candidate.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise CompareError(f"{candidate} is not JSON ({e})") from e
            missing = [k for k in ("run", "results", "per_clip", "clips", "fps", "seconds", "config")
                       if not isinstance(m, dict) or k not in m]
            if missing:
                raise CompareError(f"{candidate} is not a synesthete eval metrics.json (no {', '.join(missing)})")
            # a metric with nothing to score is written as null (jsonout); in memory it is NaN again
            nan = float("nan")
            m["per_clip"] = {b: [{k: nan if v is None else v for k, v in row.items()} for row in rows]
                             for b, rows in m["per_clip"].items()}
            m["results"] = {b: {k: nan if v is None else v for k, v in r.items()} for b, r in m["results"].items()}
            return m
    raise FileNotFoundError(f"no metrics.json at {p} (make one with: uv run synesthete eval --run RUN)")


def _column(m: dict, baseline: str, key: str) -> np.ndarray:
    return np.asarray([r[key] for r in m["per_clip"][baseline]], dtype=np.float64)


def _mode_correct(m: dict, baseline: str) -> np.ndarray:
    return np.asarray([float(mode_correct(r["temperature"], c["mode"]))
                       for r, c in zip(m["per_clip"][baseline], m["clips"], strict=True)])


def _major(m: dict) -> np.ndarray:
    return is_major([c["mode"] for c in m["clips"]]).astype(np.float64)


def _mean(x):
    return x.mean(-1)


def _statistics(m: dict) -> dict[str, tuple]:
    """{name: (reduce over songs, per-song columns)} for one evaluation's model."""
    out = {f"model {k}": (_mean, [_column(m, "model", k)]) for k in ("av_align", "beat_f1", "reactivity")}
    for other in ("shuffled_audio", "null_audio"):
        if other in m["per_clip"]:
            out[f"av_align, model - {other}"] = (mean_difference, [_column(m, "model", "av_align"),
                                                                   _column(m, other, "av_align")])
    out["model mode_accuracy"] = (_mean, [_mode_correct(m, "model")])
    major = _major(m)
    if 0 < major.sum() < len(major):                                 # songs of both modes to rank
        out["model mode_auc"] = (auc, [_column(m, "model", "temperature"), major])
    if all("tempo_accuracy" in r for r in m["per_clip"]["model"]):   # scored since tempo_accuracy exists
        out["model tempo_accuracy"] = (_mean, [_column(m, "model", "tempo_accuracy")])
    out["model sharpness_ratio"] = (mean_ratio, [_column(m, "model", "sharpness"), _column(m, "ground_truth", "sharpness")])
    if all("visualizer_accuracy" in r for r in m["per_clip"]["model"]):   # scored with the learned nets
        out["model visualizer_accuracy"] = (_mean, [_column(m, "model", "visualizer_accuracy")])
    return out


def _check_same_songs(a: dict, b: dict) -> None:
    ia, ib = [c["index"] for c in a["clips"]], [c["index"] for c in b["clips"]]
    if ia != ib:
        first = lambda m: m.get("options", {}).get("first", "?")  # noqa: E731
        raise CompareError(f"the evaluations scored different songs ({len(ia)} from validation song {first(a)} vs "
                           f"{len(ib)} from {first(b)}); evaluate both with the same --clips and --first")
    if (a["fps"], a["seconds"]) != (b["fps"], b["seconds"]):
        raise CompareError(f"the evaluations differ in fps/seconds: {a['fps']}/{a['seconds']} vs "
                           f"{b['fps']}/{b['seconds']}")
    if not np.allclose(_column(a, "ground_truth", "av_align"), _column(b, "ground_truth", "av_align"),
                       equal_nan=True):
        raise CompareError("the same song indices have different ground truths (another data config or seed)")


def compare(a: dict, b: dict, names: tuple[str, str] | None = None) -> dict:
    """{"a", "b", "songs", "rows": [{"statistic", "a", "b", "difference", "ci95", "songs"}]}: A's model minus B's.

    names: how to call A and B (default: their runs). A and B are each reduced over the songs that every column of both has a value for, so A - B is
    exactly their difference.
    """
    _check_same_songs(a, b)
    sa, sb = _statistics(a), _statistics(b)
    rows = []
    for name in [n for n in sa if n in sb]:
        (reduce, cols_a), (_, cols_b) = sa[name], sb[name]
        k = len(cols_a)
        r = bootstrap(lambda *c: reduce(*c[:k]) - reduce(*c[k:]), *cols_a, *cols_b)
        keep = np.logical_and.reduce([np.isfinite(c) for c in cols_a + cols_b])
        rows.append({"statistic": name, "a": float(reduce(*(c[keep] for c in cols_a))),
                     "b": float(reduce(*(c[keep] for c in cols_b))), "difference": r["value"],
                     "ci95": r["ci95"], "songs": r["songs"]})
    name_a, name_b = names if names is not None else (a["run"], b["run"])
    return {"a": name_a, "b": name_b, "songs": len(a["clips"]), "rows": rows}


def comparison_table(c: dict) -> str:
    """Markdown: A, B, A - B and its 95% interval per statistic."""
    lines = [f"A = {c['a']}, B = {c['b']}; {c['songs']} songs, paired bootstrap over them.", "",
             "| statistic | A | B | A - B | 95% interval |", "|---|---|---|---|---|"]
    for r in c["rows"]:
        lo, hi = r["ci95"]
        lines.append(f"| {r['statistic']} | {r['a']:.3f} | {r['b']:.3f} | {r['difference']:+.3f} | "
                     f"[{lo:+.3f}, {hi:+.3f}] |")
    return "\n".join(lines)
