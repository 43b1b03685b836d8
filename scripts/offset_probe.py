"""How well `eval --video`'s two offsets find a known shift: the visualizer's own in-sync render of
validation songs, moved by s frames (+ = picture late), as `eval --video` would score it.

    uv run python scripts/offset_probe.py --first 24 --songs 48

For each shift, on how many songs each offset lands within one frame of the truth: `offset_ms`
against librosa onsets as `eval --video` reports it (`beat_sync.onset_offset`: the stronger half
of the onsets, within half their spacing unless a larger lag lines up clearly better), the same
with a plain +-6 frame search over every onset (the rule before), and the learned sync scorer's
(`sync_scorer.offset_ms`, trained once and cached in runs/eval_nets). Prints JSON.
"""

import json
import sys

from pathlib import Path

from synesthete.cli import ArgumentParser, report_errors
from synesthete.config import DataConfig
from synesthete.data import VAL_INDEX_BASE, make_clip
from synesthete.eval.av_align import audio_onsets, floor_still, flow_magnitude
from synesthete.eval.beat_sync import estimate_offset, onset_frames, onset_offset
from synesthete.eval.sync_scorer import load_or_train_sync_scorer, score_any_video, shift_video

SHIFTS = (-4, -2, -1, 0, 1, 2, 3, 4)


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--first", type=int, default=24, help="first validation song (0-23 chose the rule)")
    ap.add_argument("--songs", type=int, default=48)
    ap.add_argument("--seconds", type=float, default=8.0)
    args = ap.parse_args()
    cfg = DataConfig(seconds=args.seconds)
    scorer, _ = load_or_train_sync_scorer(Path("runs/eval_nets"))
    hits = {rule: dict.fromkeys(SHIFTS, 0) for rule in ("offset_ms", "all_onsets_6_frames", "sync_scorer")}
    for i in range(args.first, args.first + args.songs):
        clip = make_clip(cfg, VAL_INDEX_BASE + i)
        times, strengths = audio_onsets(clip["audio"], cfg.sample_rate)
        for s in SHIFTS:
            video = shift_video(clip["video"], s)      # the edge frame held: no motion there
            motion = flow_magnitude(video)
            found = {
                "offset_ms": onset_offset(motion, times, strengths, cfg.fps)[0],
                "all_onsets_6_frames": estimate_offset(floor_still(motion), onset_frames(times, cfg.fps, len(motion)),
                                                       cfg.fps, 6),
                "sync_scorer": score_any_video(scorer, video, cfg.fps, clip["audio"], cfg.sample_rate)["offset_ms"],
            }
            for rule, ms in found.items():
                hits[rule][s] += bool(abs(ms - 1000.0 * s / cfg.fps) <= 1000.0 / cfg.fps)
    print(json.dumps({"songs": [args.first, args.first + args.songs - 1], "seconds": args.seconds,
                      "within_one_frame_by_shift": hits}, indent=1))


if __name__ == "__main__":
    sys.exit(report_errors("offset_probe", main))
