"""How the regression baseline's sync grows with its training budget: every kept checkpoint of a
run's `regression/` stage scored on the same validation songs as `synesthete eval`.

    uv run python scripts/regression_budget.py --run runs/std_reg2k --against runs/std_reg2k/eval16

Issue 4 asks for the baseline "trained with the same budget" as the DiT; the presets give it a
seventh to a tenth. This shows what the short stage costs it: AV-Align, beat F1, reactivity and
the sharpness ratio per checkpoint (its step, the clips it has seen, its seconds of training),
and with `--against` (a metrics.json of `eval --run` on the same songs) the model minus each
checkpoint with a 95% paired bootstrap interval over the songs. Prints JSON.
"""

import dataclasses
import sys
from pathlib import Path

import torch

from synesthete import jsonout
from synesthete.cli import ArgumentParser, UsageError, report_errors
from synesthete.data import VAL_INDEX_BASE, make_clip
from synesthete.eval.clip_metrics import clip_metrics, nanmean
from synesthete.eval.compare import load_metrics
from synesthete.eval.quality import floored_ratio, sharpness
from synesthete.eval.runner import regression_video
from synesthete.eval.uncertainty import paired_bootstrap
from synesthete.train.builders import build_regression, load_trained
from synesthete.train.checkpoint import list_checkpoints, training_budget

METRICS = ("av_align", "beat_f1", "reactivity")


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a run folder with a trained regression/ stage")
    ap.add_argument("--songs", type=int, default=None, help="validation songs (default: --against's, else 8)")
    ap.add_argument("--first", type=int, default=None, help="the first validation song (default: --against's, else 0)")
    ap.add_argument("--seconds", type=float, default=None, help="excerpt length (default: --against's, else the run's eval.seconds)")
    ap.add_argument("--against", default=None, help="an eval of the same run's model on the same songs (metrics.json, its folder or a run)")
    args = ap.parse_args()
    if (args.songs is not None and args.songs < 1) or (args.first is not None and args.first < 0):
        raise UsageError("--songs must be at least 1 and --first at least 0")
    if args.seconds is not None and not args.seconds > 0:
        raise UsageError(f"--seconds must be positive, not {args.seconds}")

    ckpts = list_checkpoints(args.run / "regression")
    if not ckpts:
        raise UsageError(f"no regression checkpoint in {args.run} (train it: run_pipeline.py --stages regression)")
    model_rows, songs, seconds = None, None, None
    if args.against is not None:
        ref = load_metrics(args.against)
        model_rows = ref["per_clip"]["model"]
        songs = [c["index"] - VAL_INDEX_BASE for c in ref["clips"]]
        seconds = ref["seconds"]
    first = args.first if args.first is not None else (songs[0] if songs else 0)
    n = args.songs if args.songs is not None else (len(songs) if songs else 8)
    wanted = list(range(first, first + n))
    if songs is not None:
        if not set(wanted) <= set(songs):
            raise UsageError(f"--against scored songs {songs[0]}..{songs[-1]}; songs {first}..{first + n - 1} asked")
        model_rows = [model_rows[songs.index(k)] for k in wanted]
    if args.seconds is not None and seconds is not None and args.seconds != seconds:
        raise UsageError(f"--against scored {seconds} s excerpts, not {args.seconds}")

    device = torch.device("cpu")
    nets = [(c, *load_trained(c, build_regression, device)) for c in ckpts]
    cfg = nets[-1][2]
    d = dataclasses.replace(cfg.data, seconds=next(x for x in (args.seconds, seconds, cfg.eval.seconds) if x is not None))
    rows = {c.name: [] for c, *_ in nets}
    truth_sharp = []
    for k in wanted:
        clip = make_clip(d, VAL_INDEX_BASE + k)
        truth_sharp.append(sharpness(clip["video"]))
        for c, net, _, _ in nets:
            video = regression_video(net, clip["audio"], device)[: clip["video"].shape[0]]
            rows[c.name].append(clip_metrics(video, clip, d.fps, d.sample_rate))

    out = []
    for c, _, _, state in nets:
        r = rows[c.name]
        budget = training_budget(state)   # seconds None from checkpoints made before the loop kept them
        entry = {"checkpoint": c.name, "step": budget["step"], "clips_seen": budget["clips"],
                 "train_seconds": budget["seconds"],
                 **{m: nanmean([x[m] for x in r]) for m in METRICS},
                 "sharpness_ratio": floored_ratio(nanmean([x["sharpness"] for x in r]), nanmean(truth_sharp))}
        if model_rows is not None:
            entry["model_minus_regression"] = {
                m: paired_bootstrap([x[m] for x in model_rows], [x[m] for x in r]) for m in METRICS}
        out.append(entry)
    result = {"run": str(args.run), "songs": [wanted[0], wanted[-1]], "seconds": d.seconds, "checkpoints": out}
    if model_rows is not None:
        result["model"] = {m: nanmean([x[m] for x in model_rows]) for m in METRICS}
    print(jsonout.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(report_errors("regression_budget", main))
