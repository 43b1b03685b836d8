"""Whether `torch.compile` makes a training step cheaper on this machine: eager vs compiled.

    uv run python scripts/compile_probe.py [--config standard] [--model vae|dit] [--steps 30]

Times one optimiser step (forward, loss, backward, AdamW) of the configured VAE (its loss
included) or audio encoder + DiT on fixed random tensors of the training shapes, first eagerly and
then under `torch.compile` (inductor), in one process; prints one JSON object with the first
compiled step (compilation included) and the median and fastest of `steps` timed steps each.
Speed does not depend on the weights, so no run is needed.
"""

import argparse
import json
import statistics
import time

import torch

from synesthete.config import load_config
from synesthete.diffusion import training_loss
from synesthete.train.builders import build_denoiser, build_vae, build_vae_loss


def make_step(cfg, model_name: str, compiled: bool):
    """A closure running one training step of a fresh model, eager or compiled."""
    g = torch.Generator().manual_seed(0)
    if model_name == "vae":
        vae, loss_fn = build_vae(cfg, with_critic=False), build_vae_loss(cfg)
        opt = torch.optim.AdamW(vae.parameters(), 1e-4)
        crop = cfg.vae.crop or cfg.data.size
        x = torch.rand(cfg.vae.train.batch * cfg.vae.frames_per_clip, 3, crop, crop, generator=g) * 2 - 1
        fwd, loss = (torch.compile(vae), torch.compile(loss_fn)) if compiled else (vae, loss_fn)

        def step():
            x_hat, mean, logvar = fwd(x)
            total, _ = loss(x_hat, x, mean, logvar)
            opt.zero_grad(set_to_none=True)
            total.backward()
            opt.step()
        return step
    dit = build_denoiser(cfg)
    opt = torch.optim.AdamW(dit.parameters(), 1e-4)
    d, b = cfg.data, cfg.dit.train.batch
    lat = torch.randn(b, d.frames, cfg.vae.latent_channels, d.size // 16, d.size // 16, generator=g)
    audio = torch.randn(b, 1, d.samples, generator=g) * 0.1
    model = torch.compile(dit) if compiled else dit

    def step():
        total = training_loss(model, lat, cfg.dit.objective, {"audio": audio}, torch.Generator().manual_seed(1),
                              p_uncond=cfg.dit.cond_drop)
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
    return step


def time_step(step, steps: int) -> dict:
    t0 = time.perf_counter()
    step()
    first = time.perf_counter() - t0
    for _ in range(2):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return {"first_s": round(first, 2), "median_s": round(statistics.median(times), 4), "min_s": round(min(times), 4)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="standard", help="preset name or YAML path")
    ap.add_argument("--model", choices=("vae", "dit"), default="vae")
    ap.add_argument("--steps", type=int, default=30, help="timed steps after 3 untimed ones")
    args = ap.parse_args()
    cfg = load_config(args.config)
    result = {"config": args.config, "model": args.model, "threads": torch.get_num_threads(), "torch": torch.__version__}
    for mode in ("eager", "compiled"):
        result[mode] = time_step(make_step(cfg, args.model, mode == "compiled"), args.steps)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
