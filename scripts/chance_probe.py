"""Whether the song-structure metrics tell the visualizer's own renders from chance at an excerpt length.

The renders of validation songs scored as `eval --run` scores them, against chance.

    uv run python scripts/chance_probe.py --songs 64 --seconds 8
    uv run python scripts/chance_probe.py --songs 32 --seconds 30

Scores each song's render (`truth`) and the next song's render against this song (`mismatched`,
the mismatched_truth baseline's chance level) on the eventness anchors (`visual_recall@3`,
`visual_recall@3,1`, `av_agreement`), adding random anchors (`random`: the same top-3 picks with
non-maximum suppression over random per-second scores, 200 seeded draws per song), and on the
pace: `tempo_accuracy` (the picture's motion tempo is the song's, half or double) and
`tempo_motion_spearman` (mean motion against tempo across the songs). Recalls count only songs
with a crash or a section start in the excerpt (how many: `songs_with_events`). Prints JSON: the
mean of each figure, and on how many songs truth beats mismatched.
"""

import json
import sys

import numpy as np

from synesthete.cli import ArgumentParser, report_errors
from synesthete.config import DataConfig
from synesthete.data import VAL_INDEX_BASE, make_clip
from synesthete.eval.av_align import flow_magnitude
from synesthete.eval.eventness import (audio_eventness, eventness_report, num_bins, recall_at, top_k_anchors,
                                       truth_event_seconds)
from synesthete.eval.semantics import motion_tempo, spearman, tempo_matches

FIGURES = ("visual_recall@3", "visual_recall@3,1", "av_agreement")
DRAWS = 200


def random_anchors(rng: np.random.Generator, seconds: float) -> np.ndarray:
    return top_k_anchors(rng.random(num_bins(seconds)), 3, 1)


def chance(rng: np.random.Generator, clip: dict, sample_rate: int, seconds: float) -> dict[str, float]:
    """The expected figures of random anchors on this song."""
    truth = truth_event_seconds(clip["events"], seconds)
    audio = top_k_anchors(audio_eventness(clip["audio"], sample_rate), 3, 1)
    draws = [random_anchors(rng, seconds) for _ in range(DRAWS)]
    return {"visual_recall@3": float(np.mean([recall_at(a, truth, 0) for a in draws])),
            "visual_recall@3,1": float(np.mean([recall_at(a, truth, 1) for a in draws])),
            "av_agreement": float(np.mean([recall_at(a, audio, 1) for a in draws]))}


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--songs", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=8.0)
    args = ap.parse_args()
    if args.songs < 1 or args.seconds <= 0:
        ap.error("--songs must be at least 1 and --seconds above 0")
    cfg = DataConfig(seconds=args.seconds)
    rng = np.random.default_rng(0)
    rows: dict[str, list[dict]] = {"truth": [], "mismatched": [], "random": []}
    tempos, motions = [], {"truth": [], "mismatched": []}
    clip = make_clip(cfg, VAL_INDEX_BASE + args.first)
    for i in range(args.first, args.first + args.songs):
        nxt = make_clip(cfg, VAL_INDEX_BASE + i + 1)
        tempos.append(float(clip["meta"]["tempo"]))
        for name, video in (("truth", clip["video"]), ("mismatched", nxt["video"])):
            mag = flow_magnitude(video)
            row = eventness_report(video, clip["audio"], cfg.sample_rate, cfg.fps, clip["events"], magnitude=mag)
            row["tempo_accuracy"] = float(tempo_matches(motion_tempo(mag, cfg.fps), tempos[-1], cfg.fps))
            rows[name].append(row)
            motions[name].append(float(mag[1:].mean()))
        rows["random"].append(chance(rng, clip, cfg.sample_rate, args.seconds))
        clip = nxt

    def mean(values) -> float | None:
        v = np.asarray(values, dtype=np.float64)
        return round(float(np.nanmean(v)), 3) if np.isfinite(v).any() else None

    audio_rows = rows["truth"]   # the audio side is the song's: the same in every row of a song
    out = {"songs": [args.first, args.first + args.songs - 1], "seconds": args.seconds,
           "songs_with_events": int(sum(r["truth_events"] > 0 for r in audio_rows)),
           "audio_recall@3": mean([r["audio_recall@3"] for r in audio_rows]),
           "audio_recall@3,1": mean([r["audio_recall@3,1"] for r in audio_rows])}
    for fig in FIGURES:
        out[fig] = {name: mean([r[fig] for r in rs]) for name, rs in rows.items()}
        t, m = (np.array([r[fig] for r in rows[n]], dtype=np.float64) for n in ("truth", "mismatched"))
        both = np.isfinite(t) & np.isfinite(m)
        out[fig]["truth_above_mismatched"] = f"{int((t[both] > m[both]).sum())} of {int(both.sum())}"
        out[fig]["truth_below_mismatched"] = f"{int((t[both] < m[both]).sum())} of {int(both.sum())}"
    out["tempo_accuracy"] = {name: mean([r["tempo_accuracy"] for r in rows[name]]) for name in ("truth", "mismatched")}
    out["tempo_motion_spearman"] = {name: round(spearman(np.array(tempos), np.array(m)), 3)
                                    for name, m in motions.items()}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    sys.exit(report_errors("chance_probe", main))
