"""What `dit.reuse` amortises: the seconds to render and VAE-encode one DiT training batch.

    uv run python scripts/reuse_probe.py [--config standard] [--batches 20] [--reuse 2 4]

Renders `batches` training batches of the config's DiT batch size and encodes each with the
config's VAE (untrained: speed does not depend on the weights), in process on torch's threads, as
a CPU training stage does; prints one JSON object: the median seconds per batch for each part, and for each `--reuse`
the minutes the DiT stage spends on them (steps / reuse batches), the rest of the stage being the
training steps themselves. The first batch (warm-up) is not counted.
"""

import json
import statistics
import sys
import time

import torch

from synesthete.cli import ArgumentParser, report_errors
from synesthete.config import load_config
from synesthete.data.batches import step_batches
from synesthete.train.builders import build_inference_vae
from synesthete.train.dit_task import encode_video


def main():
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="standard", help="preset name or YAML path")
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--reuse", type=int, nargs="+", default=[2, 4], help="steps per rendered batch to cost")
    args = ap.parse_args()
    if args.batches < 1 or min(args.reuse) < 1:
        ap.error("--batches and --reuse must be at least 1")
    cfg = load_config(args.config)
    vae = build_inference_vae(cfg).eval()
    cpu = torch.device("cpu")
    source = step_batches(cfg.data, cfg.dit.train.batch, start_step=0, workers=0)
    render, encode = [], []
    for i in range(args.batches + 1):
        t0 = time.perf_counter()
        batch = next(source)
        t1 = time.perf_counter()
        encode_video(vae, batch["video"], cpu)
        t2 = time.perf_counter()
        if i:
            render.append(t1 - t0)
            encode.append(t2 - t1)
    render_s, encode_s = statistics.median(render), statistics.median(encode)
    steps = cfg.dit.train.steps
    print(json.dumps({
        "config": args.config, "clips_per_batch": cfg.dit.train.batch, "threads": torch.get_num_threads(),
        "render_s": round(render_s, 3), "encode_s": round(encode_s, 3),
        "dit_stage_minutes_rendering_and_encoding": {
            r: round(-(-steps // r) * (render_s + encode_s) / 60, 1) for r in args.reuse},
    }, indent=1))


if __name__ == "__main__":
    sys.exit(report_errors("reuse_probe", main))
