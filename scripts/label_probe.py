"""Probe how much a labelled run's DiT uses the visualizer label.

    uv run python scripts/label_probe.py --run runs/standard --songs 8

On validation songs, the DiT's training loss (fixed noise, a fixed grid of noise levels) with
each song's true label, with a wrong label (the true one shifted by a third of the labels) and
with the null label. A model that draws each visualizer's look scores clearly lower with the
true label; equal losses mean the label is ignored. Also, for the first song, the mean RGB of
the decoded x0 prediction from pure noise (t = 1, where sampling starts and the global look is
set) under every label, beside the true frames' mean RGB. Prints one JSON object.
"""

import json
import sys
from pathlib import Path

import torch

from synesthete.cli import ArgumentParser, report_errors
from synesthete.data import ProceduralAVDataset
from synesthete.diffusion import to_denoiser
from synesthete.infer.generate import VideoGenerator
from synesthete.train.dit_task import encode_video, grid_loss, labels

NOISE_LEVELS = (0.3, 0.5, 0.7, 0.9)


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=Path("runs/standard"))
    ap.add_argument("--songs", type=int, default=8)
    args = ap.parse_args()
    device = torch.device("cpu")
    gen = VideoGenerator.from_run(args.run, device)
    gen.require_labels()
    val = ProceduralAVDataset(gen.cfg.data, split="val")
    clips = [val.clip(i) for i in range(args.songs)]
    latents = gen.vae.normalize_latent(encode_video(gen.vae, torch.stack([c["video"] for c in clips]), device))
    audio = torch.stack([c["audio"] for c in clips]).to(device)
    n = gen.model.dit.num_labels
    true = labels([c["meta"] for c in clips]).to(device)
    cases = {"true_label": true, "wrong_label": (true + max(1, n // 3)) % n, "null_label": torch.full_like(true, n)}
    out = {"run": str(args.run), "songs": args.songs, "noise_levels": list(NOISE_LEVELS)}
    for name, label in cases.items():
        out[name] = grid_loss(gen.model, latents, gen.cfg.dit.objective, {"audio": audio, "label": label}, NOISE_LEVELS)
    if gen.cfg.dit.objective == "flow":   # t = 1 is pure noise only under the flow schedule
        denoiser = to_denoiser(gen.model.dit, gen.cfg.dit.objective)
        noise = torch.randn(latents[:1].shape, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            cond = gen.model.audio_condition(audio[:1])
            x0 = {k: denoiser(noise, torch.ones(1), **cond, label=torch.tensor([k], device=device))
                  for k in range(n + 1)}
        rgb = lambda frames: [round(float(c), 1) for c in frames.float().mean(dim=(0, 2, 3))]
        out["t1_x0_mean_rgb"] = {("null" if k == n else str(k)): rgb(gen.decode(z)[0]) for k, z in x0.items()}
        out["truth_mean_rgb"] = {"label": int(true[0]), "rgb": rgb(clips[0]["video"])}
    out["wrong_minus_true"] = out["wrong_label"] - out["true_label"]
    out["relative_gap"] = out["wrong_minus_true"] / out["true_label"]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    sys.exit(report_errors("label_probe", main))
