"""Seconds of one scaled-dot-product attention at the DiT's shapes, fp32 vs bf16, forward and backward.

    uv run python scripts/attention_probe.py [--config standard] [--repeats 20]

Why it exists: on the CPU, torch 2.11's flash-attention backward in bf16 took 2-12x the fp32 time at
these shapes (a Sapphire Rapids Xeon with AMX), which made the whole bf16 DiT step slower than fp32
although its matmuls ran faster; so `models.dit.attention` computes attention in fp32 on the CPU.
Times the DiT's three attentions (spatial: frames x tokens per frame, temporal: positions x frames,
cross: a clip's tokens x its audio tokens) on random tensors; prints one JSON object of median ms.
"""

import json
import statistics
import sys

import torch
import torch.nn.functional as F

from synesthete.bench.machine import machine_info
from synesthete.bench.train import step_times
from synesthete.cli import ArgumentParser, report_errors
from synesthete.config import load_config
from synesthete.models import VAE_DOWNSAMPLE, DiT_models


def shapes(cfg) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    """(query shape, key shape) [B, heads, N, head dim] of each of the DiT's attentions in training."""
    dit = DiT_models[cfg.dit.size]()
    heads = dit.blocks[0].spatial_attn.num_heads
    e = dit.hidden_size // heads
    b, t = cfg.dit.train.batch, cfg.data.frames
    n = (cfg.data.size // VAE_DOWNSAMPLE // dit.patch_size) ** 2   # patch tokens per frame
    s = t * dit.audio_embedder.tokens_per_frame                      # audio tokens per clip
    return {"spatial": ((b * t, heads, n, e),) * 2, "temporal": ((b * n, heads, t, e),) * 2,
            "cross": ((b, heads, t * n, e), (b, heads, s, e))}


def time_ms(fn, repeats: int) -> float:
    """Median milliseconds of `fn`, timed as `bench-train` times a step (after 3 untimed calls)."""
    return round(1000 * statistics.median(step_times(fn, repeats, torch.device("cpu"), warmup=3)), 3)


def main():
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="standard", help="preset whose DiT shapes are timed")
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    cfg = load_config(args.config)
    g = torch.Generator().manual_seed(0)
    out: dict[str, dict] = {}
    for name, (qs, ks) in shapes(cfg).items():
        row: dict[str, object] = {"q": list(qs), "kv": list(ks)}
        for dtype, tag in ((torch.float32, "fp32"), (torch.bfloat16, "bf16")):
            q, k, v = (torch.randn(s, generator=g).to(dtype).requires_grad_() for s in (qs, ks, ks))
            with torch.no_grad():
                row[f"{tag}_fwd_ms"] = time_ms(lambda: F.scaled_dot_product_attention(q, k, v), args.repeats)
            row[f"{tag}_fwd_bwd_ms"] = time_ms(lambda: F.scaled_dot_product_attention(q, k, v).sum().backward(),
                                               args.repeats)
        row["bf16_over_fp32_fwd_bwd"] = round(row["bf16_fwd_bwd_ms"] / row["fp32_fwd_bwd_ms"], 2)
        out[name] = row
    print(json.dumps({"config": args.config, "threads": torch.get_num_threads(), "attention": out,
                      "machine": machine_info()}, indent=1))


if __name__ == "__main__":
    sys.exit(report_errors("attention_probe", main))
