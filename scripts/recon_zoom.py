"""Zoom in on what a VAE checkpoint keeps: the centres of validation frames, truth | reconstruction.

The contact sheets are too small to show fine detail; this crops the central 64 x 64 pixels of
two validation frames per look, enlarges them 4x (nearest neighbour) and prints each look's
sharpness (Laplacian variance, eval/quality.py) of the truth and of the reconstruction, and
how noisy the encoder's posterior is next to the spread of its means (`latents`: if the
posterior's std were a sizeable part of it, the KL term would be blurring what the decoder learns).

    uv run python scripts/recon_zoom.py --checkpoint runs/X/vae/step_006000 --out zoom.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

from synesthete.cli import ArgumentParser, UsageError, report_errors
from synesthete.eval.quality import sharpness
from synesthete.train.builders import build_inference_vae, load_trained
from synesthete.train.vae_task import VAETask, reconstruct, to_model_range, to_uint8

FINEST = ("metaballs", "particles", "spectrum", "tunnel")
"""The looks with the finest detail, shown first: where a VAE loses the most."""


def default_looks(drawn: list[str], n: int = 4) -> list[str]:
    """Up to n of the looks a run draws, the finest-detailed first."""
    return ([v for v in FINEST if v in drawn] + [v for v in drawn if v not in FINEST])[:n]


@torch.no_grad()
def posterior_spread(vae, frames: torch.Tensor) -> dict[str, float]:
    """Mean over channels of the encoder means' std across frames and positions, and of the posterior's std."""
    mean, logvar = vae.encode(frames)
    return {"mean_std": round(float(mean.std(dim=(0, 2, 3)).mean()), 3),
            "posterior_std": round(float((0.5 * logvar).exp().mean()), 4)}


def main() -> None:
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True, help="a VAE checkpoint folder, e.g. runs/X/vae/step_006000")
    p.add_argument("--out", default="recon_zoom.png")
    p.add_argument("--looks", nargs="+", default=None,
                   help=f"visualizers to show (default: four the run draws, first of {' '.join(FINEST)})")
    args = p.parse_args()

    vae, cfg, _ = load_trained(Path(args.checkpoint), build_inference_vae, torch.device("cpu"))
    val = VAETask(cfg, torch.device("cpu")).validation_frames()
    rows, report = [], {}
    for name in args.looks or default_looks(sorted(val)):
        if name not in val:
            raise UsageError(f"no validation frames of {name!r} (this run draws {sorted(val)})")
        truth = val[name][[3, 12]]                                  # two songs' frames of this look
        recon = to_uint8(reconstruct(vae, to_model_range(truth)))
        report[name] = {"truth_sharpness": round(sharpness(truth), 1), "recon_sharpness": round(sharpness(recon), 1)}
        c = truth.shape[-1] // 4
        for a, b in zip(truth, recon):
            a, b = (v.permute(1, 2, 0).numpy()[c:-c, c:-c] for v in (a, b))
            rows.append(np.concatenate([a, b], axis=1))
    latents = posterior_spread(vae, torch.cat([to_model_range(v) for v in val.values()]))
    img = cv2.resize(np.concatenate(rows), None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(args.out, img[..., ::-1])
    print(json.dumps({"checkpoint": args.checkpoint, "out": args.out, "looks": report, "latents": latents}, indent=1))


if __name__ == "__main__":
    sys.exit(report_errors("recon_zoom", main))
