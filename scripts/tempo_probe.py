"""How often `eval --video`'s `tempo_bpm` (librosa's estimate) finds the song's true tempo, on
validation songs whose tempo is known.

    uv run python scripts/tempo_probe.py --songs 48 --seconds 8

Counts songs within 4% of the true tempo, at a metrical multiple of it (1/2, 2, 1/3, 3, 2/3 or
3/2, within 4%: the usual error of tempo estimators, the beat counted at another level), and
neither. Prints JSON.
"""

import json
import sys

import librosa
import numpy as np

from synesthete.cli import ArgumentParser, report_errors
from synesthete.config import DataConfig
from synesthete.data import VAL_INDEX_BASE, make_clip

MULTIPLES = (0.5, 2.0, 1 / 3, 3.0, 2 / 3, 1.5)


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--songs", type=int, default=48)
    ap.add_argument("--seconds", type=float, default=8.0)
    args = ap.parse_args()
    cfg = DataConfig(seconds=args.seconds)
    counts = {"within_4pct": 0, "metrical_multiple": 0, "other": 0}
    for i in range(args.first, args.first + args.songs):
        clip = make_clip(cfg, VAL_INDEX_BASE + i)
        estimate = float(librosa.feature.tempo(y=clip["audio"].numpy().reshape(-1), sr=cfg.sample_rate)[0])
        ratio = estimate / float(clip["meta"]["tempo"])
        if abs(ratio - 1) < 0.04:
            counts["within_4pct"] += 1
        elif np.min(np.abs(ratio - np.array(MULTIPLES))) < 0.04:
            counts["metrical_multiple"] += 1
        else:
            counts["other"] += 1
    print(json.dumps({"songs": [args.first, args.first + args.songs - 1], "seconds": args.seconds, **counts}))


if __name__ == "__main__":
    sys.exit(report_errors("tempo_probe", main))
