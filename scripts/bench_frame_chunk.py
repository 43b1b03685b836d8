"""How many frames one VAE encode/decode call should take (`device.frame_chunk`).

    uv run python scripts/bench_frame_chunk.py [--frames 192] [--repeats 4]

Encodes and decodes `frames` random 128 px frames with an untrained VAE-T in chunks of each
size, interleaved, `repeats` times; prints one JSON object: {"encode": {chunk: median s}, "decode": ...}.
Speed does not depend on the weights, so no run is needed.
"""

import json
import statistics
import sys
import time

import torch

from synesthete.cli import ArgumentParser, report_errors
from synesthete.models import VAE_models

CHUNKS = (96, 64, 32, 16, 8)


def main():
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=192, help="frames per clip batch (4 clips x 48 frames)")
    ap.add_argument("--repeats", type=int, default=4)
    args = ap.parse_args()
    torch.manual_seed(0)
    vae = VAE_models["VAE-T"](latent_channels=8).eval()
    x = torch.rand(args.frames, 3, 128, 128) * 2 - 1
    z = torch.randn(args.frames, 8, 8, 8)
    times: dict[str, dict[int, list[float]]] = {"encode": {}, "decode": {}}
    with torch.no_grad():
        for _ in range(args.repeats):
            for chunk in CHUNKS:
                for name, fn, data in (("encode", lambda f: vae.encode(f)[0], x), ("decode", vae.decode, z)):
                    t = time.perf_counter()
                    torch.cat([fn(c) for c in data.split(chunk)])
                    times[name].setdefault(chunk, []).append(time.perf_counter() - t)
    print(json.dumps({"frames": args.frames, "threads": torch.get_num_threads(),
                      **{k: {c: round(statistics.median(v), 3) for c, v in d.items()} for k, d in times.items()}},
                     indent=1))


if __name__ == "__main__":
    sys.exit(report_errors("bench_frame_chunk", main))
