"""How often the audio encoder's key finder (`dit.audio_key`) names the mode of validation songs,
at the DiT's window length and at others, for each STFT size.

    uv run python scripts/key_probe.py --songs 200 --seconds 3

The Krumhansl-Schmuckler key finder: a window's mean chroma against the 24 Krumhansl-Kessler key
profiles, the largest correlation naming the key. A major key draws a warm palette and a minor one a
cool palette, so its mode accuracy is about the most a DiT that reads the palette off it can score on
`mode_accuracy` from one window. Prints JSON: the mode and the key right, per STFT size.
"""

import json
import sys

import librosa
import torch
import torchaudio

from synesthete.cli import ArgumentParser, report_errors
from synesthete.config import DataConfig
from synesthete.data import VAL_INDEX_BASE, make_clip
from synesthete.models.audio_encoder import KEY_FFT, AudioEncoder, key_profiles


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--songs", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=3.0, help="window length (the DiT's: 48 frames = 3 s)")
    args = ap.parse_args()
    cfg = DataConfig(seconds=args.seconds, size=32)            # the picture is not used: render it small
    encoder = AudioEncoder(sample_rate=cfg.sample_rate, fps=cfg.fps, key=True)
    profiles, ffts = key_profiles(), (2048, 4096, KEY_FFT)
    specs = {n: (torchaudio.transforms.Spectrogram(n_fft=n, hop_length=cfg.sample_rate // cfg.fps, power=2.0),
                 torch.from_numpy(librosa.filters.chroma(sr=cfg.sample_rate, n_fft=n))) for n in ffts}
    mode_right = dict.fromkeys(ffts, 0)
    key_right = dict.fromkeys(ffts, 0)
    encoder_right = 0
    for i in range(args.first, args.first + args.songs):
        clip = make_clip(cfg, VAL_INDEX_BASE + i)
        audio, meta = clip["audio"], clip["meta"]
        minor = meta["mode"] == "minor"
        for n, (spec, fb) in specs.items():
            c = fb @ spec(audio[0])
            c = (c / c.amax(dim=0, keepdim=True).clamp_min(1e-4)).mean(dim=1)
            best = int((profiles @ (c - c.mean())).argmax())
            mode_right[n] += (best >= 12) == minor
            key_right[n] += (best >= 12) == minor and best % 12 == int(meta["key"])
        encoder_right += (int(encoder.key_correlations(audio[None]).argmax()) >= 12) == minor
    n = args.songs
    print(json.dumps({"songs": [args.first, args.first + n - 1], "seconds": args.seconds,
                      "mode_accuracy": {str(k): round(v / n, 3) for k, v in mode_right.items()},
                      "key_accuracy": {str(k): round(v / n, 3) for k, v in key_right.items()},
                      "encoder_mode_accuracy": round(encoder_right / n, 3), "encoder_fft": KEY_FFT}))


if __name__ == "__main__":
    sys.exit(report_errors("key_probe", main))
