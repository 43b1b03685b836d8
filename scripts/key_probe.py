"""How often the audio encoder's key finder (`dit.audio_key`) names the mode of validation songs,
for each STFT size; with `--eval`, whether an evaluation's pictures follow the finder.

    uv run python scripts/key_probe.py --songs 200 --seconds 3
    uv run python scripts/key_probe.py --eval runs/quick/eval16/metrics.json

The Krumhansl-Schmuckler key finder: a window's mean chroma against the 24 Krumhansl-Kessler key
profiles, the largest correlation naming the key. A major key draws a warm palette and a minor one a
cool palette, so its mode accuracy on the DiT's 3 s windows bounds what a DiT reading the palette off
it can score on `mode_accuracy`. With `--eval`: per song of that evaluation, the finder's mode
evidence (largest major minus largest minor correlation, mean over the DiT's windows of the clip)
against each baseline's palette temperature, as the share of songs the finder gets right, the
temperature's AUC by the true mode and by the finder's, and their Spearman correlation. A DiT that
uses the key evidence follows the finder, right or wrong. Prints JSON.
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from synesthete.cli import ArgumentParser, UsageError, report_errors
from synesthete.config import DataConfig
from synesthete.data import VAL_INDEX_BASE, make_clip
from synesthete.eval.semantics import auc
from synesthete.infer.windows import plan_windows
from synesthete.models.audio_encoder import KEY_FFT, AudioEncoder

FFTS = (2048, 4096, KEY_FFT)


def mode_evidence(encoder: AudioEncoder, audio: torch.Tensor, frame: int, frames: int, overlap: int) -> float:
    """audio [1, L] -> mean over long-form generation's windows (`plan_windows`) of (largest major -
    largest minor key correlation): > 0 reads as major."""
    plan = plan_windows(audio.shape[-1] // frame, frames, overlap)
    c = encoder.key_correlations(torch.stack([audio[:, s * frame:(s + n) * frame] for s, n in plan]))
    return float((c[:, :12].amax(dim=1) - c[:, 12:].amax(dim=1)).mean())


def score_eval(path: Path, encoder: AudioEncoder) -> dict:
    m = json.loads(path.read_text())
    run = m["config"]
    cfg = DataConfig(seconds=m["seconds"], size=32)             # the picture is not used: render it small
    frames = round(run["data"]["seconds"] * cfg.fps)                          # the run's windows
    evidence, major = [], []
    for c in m["clips"]:
        clip = make_clip(cfg, c["index"])
        evidence.append(mode_evidence(encoder, clip["audio"], cfg.sample_rate // cfg.fps, frames,
                                      run["sample"]["overlap"]))
        major.append(clip["meta"]["mode"] != "minor")
    ev, major = np.array(evidence), np.array(major)
    out = {"eval": str(path), "songs": len(ev), "finder_right": round(float(np.mean((ev > 0) == major)), 3)}
    for name, rows in m["per_clip"].items():
        t = np.array([r["temperature"] for r in rows], dtype=float)
        out[name] = {"auc_true_mode": round(float(auc(t, major)), 3), "auc_finder_mode": round(float(auc(t, ev > 0)), 3),
                     "spearman_evidence": round(float(spearmanr(t, ev)[0]), 3)}
    return out


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--songs", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=3.0, help="window length (the DiT's: 48 frames = 3 s)")
    ap.add_argument("--eval", type=Path, help="an evaluation's metrics.json: do its pictures follow the finder?")
    args = ap.parse_args()
    cfg = DataConfig(seconds=args.seconds, size=32)

    def finder(n_fft: int) -> AudioEncoder:
        return AudioEncoder(sample_rate=cfg.sample_rate, fps=cfg.fps, key=True, key_fft=n_fft)

    if args.eval is not None:   # the encoder's own finder only
        if not args.eval.is_file():
            raise UsageError(f"{args.eval}: no such metrics.json")
        print(json.dumps(score_eval(args.eval, finder(KEY_FFT))))
        return
    finders = {n: finder(n) for n in FFTS}
    mode_right = dict.fromkeys(FFTS, 0)
    key_right = dict.fromkeys(FFTS, 0)
    for i in range(args.first, args.first + args.songs):
        clip = make_clip(cfg, VAL_INDEX_BASE + i)
        minor = clip["meta"]["mode"] == "minor"
        for n, finder in finders.items():
            best = int(finder.key_correlations(clip["audio"][None]).argmax())
            mode_right[n] += (best >= 12) == minor
            key_right[n] += (best >= 12) == minor and best % 12 == int(clip["meta"]["key"])
    n = args.songs
    print(json.dumps({"songs": [args.first, args.first + n - 1], "seconds": args.seconds, "encoder_fft": KEY_FFT,
                      "mode_accuracy": {str(k): round(v / n, 3) for k, v in mode_right.items()},
                      "key_accuracy": {str(k): round(v / n, 3) for k, v in key_right.items()}}))


if __name__ == "__main__":
    sys.exit(report_errors("key_probe", main))
