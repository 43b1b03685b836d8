"""Probe a VAE checkpoint's PatchCritic: can it still tell real frames from reconstructions?

    uv run python scripts/critic_probe.py --checkpoint runs/standard/vae/step_004500 --songs 6

Loads the checkpoint's training weights (VAE and critic), reconstructs every 8th frame of the
first validation songs, and prints one JSON object: the critic's mean logit on the real
frames and on their reconstructions, its hinge loss on them (2 = chance), and how far each of
its weights moved from the seeded initial ones (norm of the change / initial norm). A critic
that moved far but scores both alike has been caught up with by the decoder.
"""

import json
import sys
from pathlib import Path

import torch

from synesthete.cli import ArgumentParser, UsageError, report_errors
from synesthete.config import config_from_dict
from synesthete.data import ProceduralAVDataset
from synesthete.models.critic import critic_hinge_loss
from synesthete.train.builders import build_vae
from synesthete.train.checkpoint import load_weights, read_state


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path, required=True, help="a VAE checkpoint folder (runs/X/vae/step_N)")
    ap.add_argument("--songs", type=int, default=6)
    args = ap.parse_args()
    cfg = config_from_dict(read_state(args.checkpoint)["config"])
    if cfg.vae.adv_weight <= 0:
        raise UsageError(f"{args.checkpoint}: this VAE was trained without a critic (vae.adv_weight = 0)")
    vae = build_vae(cfg)
    vae.load_state_dict(load_weights(args.checkpoint, "model"))
    vae.eval()
    init = build_vae(cfg).critic                      # the seeded initial weights
    val = ProceduralAVDataset(cfg.data, split="val")
    x = torch.cat([val.clip(i)["video"][::8] for i in range(args.songs)]).float() / 127.5 - 1
    with torch.no_grad():
        real, fake = vae.critic(x), vae.critic(vae.decode(vae.encode(x)[0]))
        moved = {k: round(float((p - p0).norm() / p0.norm().clamp_min(1e-8)), 3)
                 for (k, p), p0 in zip(vae.critic.named_parameters(), init.parameters()) if k.endswith("weight")}
    print(json.dumps({"checkpoint": str(args.checkpoint), "frames": len(x),
                      "logit_real": round(float(real.mean()), 3), "logit_reconstruction": round(float(fake.mean()), 3),
                      "hinge_loss": round(float(critic_hinge_loss(real, fake)), 3), "weights_moved": moved}, indent=2))


if __name__ == "__main__":
    sys.exit(report_errors("critic_probe", main))
