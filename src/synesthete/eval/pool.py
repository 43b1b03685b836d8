"""Evaluations of one run on different songs, pooled into one: more songs, narrower intervals.

Scoring 48 songs takes most of an hour on a laptop CPU; `synesthete eval --first K` scores them in
parts (on other machines or days), and this joins the parts' per-song rows and recomputes what is
computed from them: the 95% intervals and the split by visualizer. Set-level figures (the
Fréchet distance, the sync scorer's accuracy) need the videos and are not pooled. One evaluation
alone gets the same: its intervals computed by the code of today, for one scored before a statistic
(e.g. `mode_auc`'s interval) existed.
"""

from __future__ import annotations

from synesthete.config import ConfigError, config_diff, config_from_dict
from synesthete.eval.breakdown import by_visualizer
from synesthete.eval.compare import CompareError
from synesthete.eval.uncertainty import intervals


def _run_config(part: dict) -> dict:
    """The config a part was scored with, less `eval` (which songs: may differ), with keys added since
    read as their defaults: a new key's default is the behaviour from before it (as for checkpoints),
    so an evaluation from before `dit.self_cond` existed pools with one that records it as false."""
    try:
        config = config_from_dict(part["config"]).to_dict()
    except ConfigError:                      # a key since removed: compare what was written
        config = dict(part["config"])
    config.pop("eval", None)
    return config


def pool(parts: list[dict], names: list[str] | None = None) -> dict:
    """{"runs", "parts", "songs", "clips", "per_clip", "intervals", "per_visualizer"} of the joined parts.

    The parts must come from the same run config (sampling included) at the same fps and length,
    with no song scored twice.
    """
    if not parts:
        raise CompareError("give at least one evaluation to pool")
    names = names if names is not None else [p["run"] for p in parts]
    first = parts[0]
    for name, p in zip(names[1:], parts[1:], strict=True):
        diff = config_diff(_run_config(p), _run_config(first))
        if diff:
            raise CompareError(f"{name} comes from another config than {names[0]} (differs in: {', '.join(diff)})")
        if (p["fps"], p["seconds"]) != (first["fps"], first["seconds"]):
            raise CompareError(f"{name} was scored at {p['fps']} fps x {p['seconds']} s, "
                               f"{names[0]} at {first['fps']} fps x {first['seconds']} s")
    seen: set[int] = set()
    for name, p in zip(names, parts, strict=True):
        indices = {c["index"] for c in p["clips"]}
        if indices & seen:
            raise CompareError(f"{name} scores songs that another part scored too; pool disjoint --first ranges")
        seen |= indices
    baselines = [b for b in first["per_clip"] if all(b in p["per_clip"] for p in parts)]
    per_clip = {b: [row for p in parts for row in p["per_clip"][b]] for b in baselines}
    # a metric one part lacks (e.g. visualizer_accuracy, scored with the learned nets only) is left out
    shared = set.intersection(*(set(row) for rows in per_clip.values() for row in rows))
    per_clip = {b: [{k: v for k, v in row.items() if k in shared} for row in rows] for b, rows in per_clip.items()}
    clips = [c for p in parts for c in p["clips"]]
    return {"runs": sorted({p["run"] for p in parts}), "parts": names, "songs": len(clips), "clips": clips,
            "per_clip": per_clip, "intervals": intervals(per_clip, clips), "per_visualizer": by_visualizer(per_clip, clips)}
