"""Render songs to WAV (and a spectrogram + feature PNG) to listen to and eyeball the engine.

    uv run python scripts/listen_audio.py --seeds 0 1 2 --start 0 --seconds 30 --out runs/listen
"""

import json
import sys
import wave
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from synesthete.audio import FEATURES, render_clip
from synesthete.audio.analysis import log_mel
from synesthete.cli import ArgumentParser, finite_float, report_errors


def _write_wav(path: Path, audio: torch.Tensor, sample_rate: int) -> None:
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(sample_rate)
        f.writeframes((audio.clamp(-1, 1).numpy() * 32767).astype(np.int16).tobytes())


def _plot(clip, sample_rate: int, fps: int, path: Path) -> None:
    mel = log_mel(clip.audio[0], sample_rate).numpy()
    seconds = clip.audio.shape[-1] / sample_rate
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(min(40, 4 + seconds), 9), sharex=True)
    ax0.imshow(mel, origin="lower", aspect="auto", extent=(0, seconds, 0, mel.shape[0]), cmap="magma")
    for name, color in (("kick", "cyan"), ("snare", "lime"), ("crash", "white"), ("section", "red")):
        for t in clip.events[name].tolist():
            ax0.axvline(t, color=color, lw=0.6, alpha=0.7, ymax=0.15 if name != "section" else 1.0)
    ax1.imshow(clip.features.T.numpy(), origin="lower", aspect="auto", extent=(0, seconds, 0, len(FEATURES)),
               cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    ax1.set_yticks(np.arange(len(FEATURES)) + 0.5, FEATURES)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main() -> None:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--start", type=finite_float, default=0.0)
    parser.add_argument("--seconds", type=finite_float, default=30.0)
    parser.add_argument("--sample-rate", type=int, default=16000)
    parser.add_argument("--fps", type=int, default=16)
    parser.add_argument("--out", type=Path, default=Path("runs/listen"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        clip = render_clip(seed, args.start, args.seconds, args.sample_rate, args.fps)
        stem = args.out / f"song{seed:05d}_{args.start:g}s"
        _write_wav(stem.with_suffix(".wav"), clip.audio[0], args.sample_rate)
        _plot(clip, args.sample_rate, args.fps, stem.with_suffix(".png"))
        stem.with_suffix(".json").write_text(json.dumps(clip.meta, indent=1))
        print(stem, json.dumps({k: clip.meta[k] for k in ("tempo", "key_name", "mode", "meter", "designs")}))


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(report_errors("listen_audio", main))
