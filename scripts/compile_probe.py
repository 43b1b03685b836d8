"""Whether `torch.compile` makes a training step cheaper on this machine: eager vs compiled.

    uv run python scripts/compile_probe.py [--config standard] [--model vae|dit] [--steps 30]

Times the training steps `synesthete bench-train` times (`bench.train.training_steps`: forward,
loss, backward, AdamW of the configured VAE or audio encoder + DiT on fixed random tensors of the
training shapes, fp32), first eagerly and then under `torch.compile` (inductor), in one process;
prints one JSON object with the first compiled step (compilation included) and the median and
fastest of `steps` timed steps each.
Speed does not depend on the weights, so no run is needed.
"""

import json
import statistics
import sys
import time

import torch

from synesthete.bench.train import step_times, training_steps
from synesthete.cli import ArgumentParser, report_errors
from synesthete.config import load_config


def time_step(step, steps: int, device: torch.device) -> dict:
    """The first call (compilation included) apart, then the median and fastest of `steps` more."""
    t0 = time.perf_counter()
    step()
    first = time.perf_counter() - t0
    times = step_times(step, steps, device)
    return {"first_s": round(first, 2), "median_s": round(statistics.median(times), 4), "min_s": round(min(times), 4)}


def main():
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="standard", help="preset name or YAML path")
    ap.add_argument("--model", choices=("vae", "dit"), default="vae")
    ap.add_argument("--steps", type=int, default=30, help="timed steps after 3 untimed ones")
    args = ap.parse_args()
    cfg = load_config(args.config)
    device = torch.device("cpu")
    result = {"config": args.config, "model": args.model, "threads": torch.get_num_threads(), "torch": torch.__version__}
    for mode, wrap in (("eager", lambda m: m), ("compiled", torch.compile)):
        steps = training_steps(cfg, device, wrap=wrap)      # the steps `synesthete bench-train` times
        result[mode] = time_step(steps.vae if args.model == "vae" else steps.dit, args.steps, device)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    sys.exit(report_errors("compile_probe", main))
