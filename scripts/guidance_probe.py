"""Probe how classifier-free guidance on the visualizer label changes a labelled run's sharpness.

    uv run python scripts/guidance_probe.py --run runs/standard --songs 6 --out runs/guidance_probe

For each validation song (from song --first): the VAE's own reconstruction (the ceiling for any
latent model) and samples (20 DDIM steps, one seed) under six guidance settings; prints the
sharpness ratio to the ground truth per song and its mean, and writes contact sheets of the
first two songs.
`audio`: guidance on the audio only, the label in both passes (what `generate` does);
`joint`: the unconditional pass also drops the label, so guidance pushes toward the label's look;
`late08`: audio guidance 3 only at t <= 0.8, the unconditional (label-only) denoiser above it
(`sample.guidance_interval`), so the label lays out the picture and the audio moves it.
"""

import sys
from pathlib import Path

import torch

from synesthete.cli import ArgumentParser, UsageError, report_errors
from synesthete.contact_sheet import contact_sheet
from synesthete.data import ProceduralAVDataset
from synesthete.diffusion import cfg_denoiser, sample_ddim, to_denoiser
from synesthete.eval.quality import sharpness_ratio
from synesthete.infer.generate import VideoGenerator
from synesthete.train.dit_task import encode_video
from synesthete.visualizers import visualizer_index

SETTINGS = {  # name: (guidance scale, drop the label in the unconditional pass, give a label, [t interval, scale outside])
    "audio_cfg1": (1.0, False, True),
    "audio_cfg3": (3.0, False, True),
    "audio_cfg6": (6.0, False, True),
    "joint_cfg3": (3.0, True, True),
    "joint_cfg6": (6.0, True, True),
    "no_label_cfg3": (3.0, False, False),
    "audio_cfg3_late08": (3.0, False, True, (0.0, 0.8), 0.0),
}


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=Path("runs/standard"))
    ap.add_argument("--songs", type=int, default=6)
    ap.add_argument("--first", type=int, default=0, help="the first validation song")
    ap.add_argument("--out", type=Path, default=Path("runs/guidance_probe"))
    ap.add_argument("--settings", default=",".join(SETTINGS), help="comma-separated names (default: all)")
    args = ap.parse_args()
    unknown = [k for k in args.settings.split(",") if k not in SETTINGS]
    if unknown:
        raise UsageError(f"unknown settings {unknown} (known: {', '.join(SETTINGS)})")
    settings = {k: SETTINGS[k] for k in args.settings.split(",")}
    device = torch.device("cpu")
    gen = VideoGenerator.from_run(args.run, device)
    gen.require_labels()   # without labels, every setting but audio_cfg1/3/6 would repeat those under another name
    d = gen.cfg.data
    val = ProceduralAVDataset(d, split="val")
    denoiser = to_denoiser(gen.model.dit, gen.cfg.dit.objective)
    args.out.mkdir(parents=True, exist_ok=True)
    ratios: dict[str, list[float]] = {"vae_reconstruction": [], **{k: [] for k in settings}}
    for i in range(args.first, args.first + args.songs):
        clip = val.clip(i)
        truth = clip["video"]
        z = gen.vae.normalize_latent(encode_video(gen.vae, truth[None], device))
        ratios["vae_reconstruction"].append(sharpness_ratio(gen.decode(z)[0], truth))
        with torch.no_grad():
            cond = gen.model.audio_condition(clip["audio"][None])
            for name, (scale, drop_label, use_label, *limit) in settings.items():
                label = (torch.tensor([visualizer_index(clip["meta"]["visualizer"])])
                         if use_label and gen.takes_visualizer else None)
                null = {"label": torch.full_like(label, gen.model.dit.num_labels)} if drop_label and label is not None else {}
                guided = cfg_denoiser(denoiser, scale, uncond=null, **dict(zip(("interval", "outside"), limit)))
                noise = torch.randn(z.shape, generator=torch.Generator().manual_seed(i))
                video = gen.decode(sample_ddim(guided, noise, 20, extra_args={**cond, "label": label}))[0]
                ratios[name].append(sharpness_ratio(video, truth))
                if i < args.first + 2:
                    contact_sheet(args.out / f"{name}_{i}.png", video, clip["audio"], d.fps, d.sample_rate,
                                  clip["events"], title=f"{name} · validation song {i} · {clip['meta']['visualizer']}",
                                  rows=[("generated", video), ("truth", truth)])
    for name, values in ratios.items():
        print(f"{name:18s} sharpness ratio mean {sum(values) / len(values):.3f}  {[round(v, 3) for v in values]}")


if __name__ == "__main__":
    sys.exit(report_errors("guidance_probe", main))
