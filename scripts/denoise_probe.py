"""Probe where a run loses the picture: in the decoder, in one denoising step, or in sampling.

    uv run python scripts/denoise_probe.py --run runs/quick --songs 4

On validation songs, with the true latents z of each song (normalised, as the DiT sees them):
  decoder   PSNR of decode(z + s n) against the true frames, n ~ N(0, I), for s in NOISE: how
            gracefully the decoder treats near-miss latents (a DiT never samples z exactly)
  one_step  PSNR of the DiT's x0 prediction from z noised to level t (the song's audio and, if
            the run takes one, its visualizer label): what one denoising step recovers
  resample  PSNR after sampling the rest of the way from z noised to level t (DDIM with the
            run's steps and guidance), SDEdit-style: whether sampling keeps the picture
            that one step finds, or replaces it with the model's own (texture, say)
A PNG shows the first song, row by row. Prints one JSON object.
"""

import json
import sys
from pathlib import Path

import torch

from synesthete.cli import ArgumentParser, report_errors
from synesthete.contact_sheet import frame_grid
from synesthete.data import ProceduralAVDataset
from synesthete.diffusion import cfg_denoiser, sample_ddim, timesteps, to_denoiser
from synesthete.infer.generate import VideoGenerator
from synesthete.train.dit_task import encode_video, labels
from synesthete.train.vae_task import psnr, to_model_range

NOISE = (0.2, 0.4, 0.7)
LEVELS = (0.8, 0.5)
SHOWN_FRAMES = (4, 12, 20, 28, 36, 44)


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=Path("runs/quick"))
    ap.add_argument("--songs", type=int, default=4)
    ap.add_argument("--out", type=Path, default=None, help="PNG (default RUN/denoise_probe.png)")
    args = ap.parse_args()
    device = torch.device("cpu")
    gen = VideoGenerator.from_run(args.run, device)
    s = gen.cfg.sample
    denoiser = to_denoiser(gen.model.dit, gen.cfg.dit.objective)
    schedule = denoiser.schedule
    val = ProceduralAVDataset(gen.cfg.data, split="val")
    guided = cfg_denoiser(denoiser, s.guidance)
    scores: dict[str, float] = {}
    rows = []
    look = None                                   # the first song's visualizer, for the title

    def score(name: str, latents: torch.Tensor, truth: torch.Tensor, k: int) -> None:
        frames = gen.decode(latents)[0]                                       # uint8 [T, 3, H, W]
        scores[name] = scores.get(name, 0.0) + psnr(to_model_range(frames), to_model_range(truth)) / args.songs
        if k == 0:
            rows.append((name, frames[shown]))

    for k in range(args.songs):
        clip = val.clip(k)
        truth = clip["video"]
        shown = [i for i in SHOWN_FRAMES if i < len(truth)]
        if k == 0:
            rows.append(("truth", truth[shown]))
            look = clip["meta"]["visualizer"]
        z = gen.vae.normalize_latent(encode_video(gen.vae, truth[None], device))   # [1, T, Cz, h, w]
        noise = torch.randn(z.shape, generator=torch.Generator().manual_seed(k))
        for scale in (0.0,) + NOISE:
            score(f"decoder z+{scale}n", z + scale * noise, truth, k)
        with torch.no_grad():
            extra = gen.model.audio_condition(clip["audio"][None].to(device))
        if gen.takes_visualizer:
            extra["label"] = labels([clip["meta"]]).to(device)
        for t in LEVELS:
            tt = torch.full((1,), t)
            x_t = schedule.q_sample(z, tt, noise)
            with torch.no_grad():
                score(f"one_step t={t}", denoiser(x_t, tt, **extra), truth, k)
            ts = timesteps(s.steps, t_max=t)
            start = x_t / schedule.sigma(tt)           # sample_ddim scales its start by sigma(t_max)
            score(f"resample t={t}", sample_ddim(guided, start, ts, extra_args=extra), truth, k)
        if k == 0:
            rows.append(("sample", gen.generate(clip["audio"], visualizer=gen.label_for(clip))[shown]))
    out = args.out or args.run / "denoise_probe.png"
    frame_grid(out, rows, title=f"{args.run} · validation song 0 · {look}")
    result = {"run": str(args.run), "songs": args.songs, "psnr_db": {k: round(v, 2) for k, v in scores.items()},
              "sample": {"steps": s.steps, "guidance": s.guidance}, "png": str(out)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(report_errors("denoise_probe", main))
