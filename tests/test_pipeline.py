"""End to end on a tiny config: VAE -> DiT -> generation, the pipeline script and `generate`."""

import pytest
import torch

from synesthete.cli import main as cli_main
from synesthete.cli import sheet_title
from synesthete.config import load_config
from synesthete.infer import VideoGenerator
from synesthete.media import read_av, write_av
from synesthete.train.checkpoint import CheckpointError, read_state

from conftest import TINY, run_pipeline  # noqa: E402


def test_pipeline_writes_video_sheet_and_checkpoints(tiny_run):
    run = tiny_run / "runs" / "tiny"
    back = read_av(tiny_run / "out.mp4")
    assert back.video.shape == (8, 3, 32, 32) and back.audio is not None
    assert (tiny_run / "out.png").exists() and (run / "config.yaml").exists()
    for stage in ("vae", "dit"):
        state = read_state(run / stage / "step_000003")
        assert state["finished"] and state["config"]["data"]["size"] == 32
    assert (run / "samples" / "dit" / "step_000003_val0.png").exists()
    assert "latent_scale" in read_state(run / "dit" / "step_000003")
    assert (run / "curves.png").exists()                   # the training curves, drawn after the stages


def test_vae_validation_scores_every_visualizer(tiny_run):
    import json

    rows = [json.loads(line) for line in (tiny_run / "runs" / "tiny" / "metrics.jsonl").read_text().splitlines()]
    val = [r for r in rows if r.get("stage") == "vae" and "val_psnr" in r][-1]
    per_vis = [val["val_psnr_geometry"], val["val_psnr_tunnel"]]   # TINY's two visualizers
    assert min(per_vis) <= val["val_psnr"] <= max(per_vis)        # the pooled PSNR lies between
    ratios = [val["val_sharpness_geometry"], val["val_sharpness_tunnel"]]
    assert min(ratios) - 1e-6 <= val["val_sharpness"] <= max(ratios) + 1e-6   # a truth-weighted mean of them
    kept = read_state(tiny_run / "runs" / "tiny" / "vae" / "step_000003")["val"]   # the checkpoint keeps them too
    assert kept["step"] == val["step"] and kept["val_psnr"] == pytest.approx(val["val_psnr"])


def test_pipeline_evaluates_every_baseline(tiny_run):
    import json

    from synesthete.eval.runner import BASELINES, HEADLINE

    metrics = json.loads((tiny_run / "runs" / "tiny" / "eval" / "metrics.json").read_text())
    assert set(metrics["results"]) == set(BASELINES)          # the run trained the regression stage too
    for b in BASELINES:
        for k in ("av_align", "beat_f1", "offset_ms", "reactivity", "mode_accuracy", "sharpness_ratio",
                  "flicker_ratio", "visual_recall@3", "visual_recall@3,1", "pulse_ratio"):
            assert k in metrics["results"][b], (b, k)
    truth, static = metrics["results"]["ground_truth"], metrics["results"]["static"]
    assert truth["sharpness_ratio"] == 1.0 and static["flicker_ratio"] == 0.0 and static["av_align"] == 0.0
    assert "vae_psnr" in metrics["results"]["model"] and len(metrics["clips"]) == 2
    assert metrics["results"]["model"]["vae_sharpness_ratio"] > 0
    report = (tiny_run / "runs" / "tiny" / "eval" / "report.md").read_text()
    assert "| av_align |" in report and (tiny_run / "runs" / "tiny" / "eval" / "metrics_bars.png").exists()
    iv = metrics["intervals"]                                  # how sure the songs make the figures
    assert iv["sharpness_ratio"]["ground_truth"]["ci95"] == [1.0, 1.0]
    model = iv["sharpness_ratio"]["model"]
    assert model["value"] == pytest.approx(metrics["results"]["model"]["sharpness_ratio"])
    assert model["ci95"][0] <= model["value"] <= model["ci95"][1] and model["songs"] == 2
    assert set(iv["av_align_margin"]) == {"shuffled_audio", "null_audio", "mismatched_truth", "regression"}
    # the mismatched truth is the other song's render: its picture statistics are that song's truth's
    pc = metrics["per_clip"]
    assert [r["sharpness"] for r in pc["mismatched_truth"]] == [r["sharpness"] for r in pc["ground_truth"][::-1]]
    assert set(iv["av_align_truth_margin"]) == {"mismatched_truth"}
    assert "95% interval" in report
    looks = metrics["per_visualizer"]                          # the same songs, split by look
    assert sum(e["songs"] for e in looks.values()) == len(metrics["clips"])
    assert all(f"| {look} | " in report for look in looks)
    assert set(HEADLINE) >= {"av_align", "beat_f1"}
    audio = metrics["audio_eventness"]                         # the audio side, once per song
    assert len(audio["per_clip"]) == 2 and {"audio_recall@3", "audio_recall@3,1"} <= set(audio)
    assert audio["songs_with_events"] == sum(r["truth_events"] > 0 for r in audio["per_clip"])
    assert "Audio eventness anchors" in report
    budgets = metrics["training"]                              # what trained the model and the regression
    assert {k: (b["step"], b["clips"]) for k, b in budgets.items()} == {"model": (3, 3), "regression": (2, 2)}
    assert all(0 < b["seconds"] < 600 for b in budgets.values())
    share = budgets["regression"]["seconds"] / budgets["model"]["seconds"]
    assert (f"Training behind the learned baselines: the model's DiT 3 steps (3 clips), "
            f"{budgets['model']['seconds'] / 60:.1f} min; regression 2 steps (2 clips), "
            f"{budgets['regression']['seconds'] / 60:.1f} min: {share:.0%} of the DiT's training time") in report


def test_finished_stages_are_skipped(tiny_run, monkeypatch, capsys):
    import os

    monkeypatch.chdir(tiny_run)
    before = os.path.getmtime(tiny_run / "runs" / "tiny" / "dit" / "step_000003" / "state.json")
    assert run_pipeline.main(["--name", "tiny", "--out", "again.mp4", *TINY]) == 0
    assert os.path.getmtime(tiny_run / "runs" / "tiny" / "dit" / "step_000003" / "state.json") == before
    log = capsys.readouterr().err                # as in a log file: the console is no terminal, 80 columns
    assert "time · vae" in log and " 0 s " in log  # a skipped stage reads in seconds, not "0.0 min"
    assert "training curves" in log and "curves.png" in log
    header = next(line for line in log.splitlines() if line.startswith("| metric |"))
    assert header.rstrip().endswith("| static |")  # the headline table's rows are never wrapped


def test_the_beat_pulse_row_says_why_a_clip_has_none():
    nan = float("nan")
    assert run_pipeline.pulse_cell({"on_kick": 12.0, "between": 4.0, "ratio": 3.0}) == "12.0 / 4.0 = 3.00x"
    assert run_pipeline.pulse_cell({"on_kick": nan, "between": nan, "ratio": nan}) == \
        "– (no kick with frames between in the clip)"      # not "nan / nan = nanx"


def test_incompatible_config_is_one_line(tiny_run, monkeypatch, capsys):
    monkeypatch.chdir(tiny_run)
    config_before = (tiny_run / "runs" / "tiny" / "config.yaml").read_text()
    rc = run_pipeline.main(["--name", "tiny", "--out", "x.mp4", *TINY, "vae.latent_channels=4"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert rc == 2 and "incompatible config: vae.latent_channels (8 in checkpoint vs 4 now)" in err
    assert not (tiny_run / "x.mp4").exists()
    assert (tiny_run / "runs" / "tiny" / "config.yaml").read_text() == config_before  # the run's, kept


def test_a_run_another_live_process_holds_is_one_line_and_left_alone(tiny_run, monkeypatch, capsys):
    """A second run_pipeline.py on a run folder in use stops at once, naming the holder and writing
    nothing (not even its config); the lock dies with the process that held it."""
    import subprocess
    import sys

    from synesthete.train.run_lock import hold_run

    monkeypatch.chdir(tiny_run)
    run_dir = tiny_run / "runs" / "tiny"
    config_before = (run_dir / "config.yaml").read_text()
    hold = "import sys, time\nfrom synesthete.train.run_lock import hold_run\n" \
           "with hold_run(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(120)"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(run_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        rc = run_pipeline.main(["--name", "tiny", "--out", "busy.mp4", *TINY, "dit.train.steps=5"])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1
        assert f"runs/tiny is in use by process {holder.pid} (since " in err[0] and "another --name" in err[0]
        assert (run_dir / "config.yaml").read_text() == config_before
        assert not (tiny_run / "busy.mp4").exists() and not (run_dir / "dit" / "step_000005").exists()
    finally:
        holder.kill()
        holder.wait()
    with hold_run(run_dir):   # killed, not finished: the system freed its lock
        pass


def test_another_torchrun_rank_trains_beside_the_holder_and_writes_nothing_else(tiny_run, monkeypatch):
    """Under torchrun, ranks other than 0 join the training stages only: rank 0 holds the run and is
    the one process to render the video and evaluate."""
    from synesthete.train.run_lock import hold_run

    monkeypatch.chdir(tiny_run)
    monkeypatch.setenv("RANK", "1")
    run_dir = tiny_run / "runs" / "tiny"
    before = sorted(p.relative_to(run_dir) for p in run_dir.rglob("*"))
    with hold_run(run_dir):      # rank 0, busy with the run
        assert run_pipeline.main(["--name", "tiny", "--out", "rank1.mp4", *TINY]) == 0
    assert not (tiny_run / "rank1.mp4").exists()
    assert sorted(p.relative_to(run_dir) for p in run_dir.rglob("*")) == before


def test_generation_is_deterministic_and_the_right_length(tiny_run):
    gen = VideoGenerator.from_run(tiny_run / "runs" / "tiny", torch.device("cpu"))
    audio = torch.randn(1, 16000 + 300) * 0.1                         # 1.02 s at 16 kHz, 16 fps
    a = gen.generate(audio, seed=3)
    b = gen.generate(audio, seed=3)
    c = gen.generate(audio, seed=4)
    assert a.shape == (17, 3, 32, 32) and a.dtype == torch.uint8     # ceil(16300 / 1000) frames
    assert torch.equal(a, b) and not torch.equal(a, c)
    silent = gen.generate(audio, seed=3, drop_audio=True)
    assert silent.shape == a.shape


def test_a_self_conditioned_dit_gets_its_previous_estimate_at_every_step_but_the_first(tiny_run):
    from dataclasses import replace

    from synesthete.train.builders import build_denoiser

    gen = VideoGenerator.from_run(tiny_run / "runs" / "tiny", torch.device("cpu"))
    cfg = replace(gen.cfg, dit=replace(gen.cfg.dit, self_cond=True))
    gen.model = build_denoiser(cfg).eval()
    seen = []
    gen.model.dit.register_forward_pre_hook(lambda m, args, kwargs: seen.append(kwargs.get("x_self_cond")),
                                            with_kwargs=True)
    video = gen.generate(torch.randn(1, 16000) * 0.1, seed=3, steps=3)
    windows = [seen[i:i + 3] for i in range(0, len(seen), 3)]     # 3 sampler steps per window
    assert video.shape[0] == 16 and len(seen) % 3 == 0 and len(windows) >= 2
    for first, *later in windows:                                    # each window starts afresh
        assert first is None and all(s is not None and s.shape[0] == 2 for s in later)   # guided: 2 halves


def test_generate_cli(tiny_run, tmp_path, capsys, monkeypatch):
    src = tmp_path / "song.mp4"
    t = torch.arange(24000) / 16000
    write_av(src, torch.zeros(24, 3, 32, 32, dtype=torch.uint8), 16, (0.3 * torch.sin(2 * torch.pi * 220 * t))[None], 16000)
    out = tmp_path / "gen.mp4"
    rc = cli_main(["generate", "--audio", str(src), "--run", str(tiny_run / "runs" / "tiny"), "--out", str(out),
                   "--steps", "2", "--sheet"])
    assert rc == 0 and out.exists() and out.with_suffix(".png").exists()
    back = read_av(out)
    assert back.video.shape[0] >= 24 and back.audio is not None
    (tmp_path / "runs").mkdir()                                 # no --run: the newest trained preset run,
    (tmp_path / "runs" / "standard").symlink_to(tiny_run / "runs" / "tiny")   # as after the pipeline on a Mac
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert cli_main(["generate", "--duration", "1", "--out", "free.mp4", "--steps", "2"]) == 0
    assert "using runs/standard" in capsys.readouterr().err and (tmp_path / "free.mp4").exists()


def test_generate_sheet_title_names_the_seconds_it_shows():
    assert sheet_title("song.mp3", 0.0, 14.0) == "generated from song.mp3 (first 14 s)"
    assert sheet_title("song.mp3", 3.0, 14.0) == "generated from song.mp3 (seconds 3-17)"
    assert sheet_title(None, 3.0, 2.5) == "generated from no audio (first 2.5 s)"


@pytest.mark.parametrize("args, text", [
    (["--audio", "missing.wav"], "no such file"),
    (["--steps", "0"], "--steps must be >= 1"),
    (["--run", "nowhere"], "no run folder"),
    (["--guidance-rescale", "1.5"], "--guidance-rescale must be in [0, 1]"),
])
def test_generate_bad_input(tiny_run, tmp_path, capsys, args, text):
    src = tmp_path / "a.mp4"
    write_av(src, torch.zeros(4, 3, 32, 32, dtype=torch.uint8), 16, torch.zeros(1, 4000), 16000)
    base = {"--audio": str(src), "--run": str(tiny_run / "runs" / "tiny"), "--out": str(tmp_path / "o.mp4")}
    for k, v in zip(args[::2], args[1::2]):
        base[k] = v if k != "--audio" else str(tmp_path / v)
    argv = ["generate"] + [x for kv in base.items() for x in kv]
    assert cli_main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert text in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "o.mp4").exists()


def test_presets_load():
    for name in ("quick", "standard", "full"):
        cfg = load_config(name)
        assert cfg.preset == name and cfg.name == name


def test_missing_checkpoint_is_clear(tmp_path):
    with pytest.raises(CheckpointError, match="no dit checkpoint"):
        VideoGenerator.from_run(tmp_path, torch.device("cpu"))


def test_eval_cli_scores_chosen_songs_with_chosen_guidance(tiny_run, tmp_path, capsys):
    import json

    from synesthete.data import VAL_INDEX_BASE

    out = tmp_path / "g0"
    rc = cli_main(["eval", "--run", str(tiny_run / "runs" / "tiny"), "--clips", "1", "--first", "3",
                   "--guidance", "0", "--steps", "2", "--no-nets", "--out", str(out)])
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert [c["index"] for c in metrics["clips"]] == [VAL_INDEX_BASE + 3]
    assert metrics["config"]["sample"]["guidance"] == 0 and metrics["config"]["sample"]["steps"] == 2
    assert "mismatched_truth" not in metrics["baselines"]      # one song has no other song to mismatch
    # guidance 0 is the unconditional path: the model draws what it draws without audio, same seed
    assert metrics["per_clip"]["model"] == metrics["per_clip"]["null_audio"]
    assert "guidance 0" in (out / "report.md").read_text()


def test_eval_guidance_interval_reaches_the_sampler(tiny_run, tmp_path):
    """Guidance 3 limited to t in [0, 0.1], where 2 DDIM steps (t = 1, 0.5) never land, and the
    unconditional denoiser elsewhere: the model's videos are the null-audio ones, recorded as such."""
    import json

    out = tmp_path / "gi"
    rc = cli_main(["eval", "--run", str(tiny_run / "runs" / "tiny"), "--clips", "1", "--first", "3",
                   "--guidance", "3", "--steps", "2", "--guidance-interval", "0", "0.1",
                   "--guidance-outside", "0", "--no-nets", "--out", str(out)])
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["sample"]["guidance_interval"] == [0.0, 0.1]
    assert metrics["per_clip"]["model"] == metrics["per_clip"]["null_audio"]
    assert "guidance 3 for t in [0, 0.1], 0 elsewhere" in (out / "report.md").read_text()


def test_eval_guidance_rescale_reaches_the_sampler(tiny_run, tmp_path):
    """--guidance-rescale is recorded and changes the guided videos, not the unguided null-audio ones."""
    import json

    run, scored = str(tiny_run / "runs" / "tiny"), {}
    for phi in ("0", "1"):
        out = tmp_path / f"r{phi}"
        assert cli_main(["eval", "--run", run, "--clips", "1", "--first", "3", "--guidance", "8", "--steps", "2",
                         "--guidance-rescale", phi, "--no-nets", "--out", str(out)]) == 0
        scored[phi] = json.loads((out / "metrics.json").read_text())
    assert scored["1"]["config"]["sample"]["guidance_rescale"] == 1.0
    assert "guidance 8, rescaled by 1" in (tmp_path / "r1" / "report.md").read_text()
    assert scored["1"]["per_clip"]["null_audio"] == scored["0"]["per_clip"]["null_audio"]
    assert scored["1"]["per_clip"]["model"] != scored["0"]["per_clip"]["model"]


def test_eval_scores_only_the_baselines_asked_for(tiny_run, tmp_path):
    """--baselines keeps ground_truth and model and drops the rest unsampled; the model's own figures
    do not depend on which others were scored, so `compare` pairs a short evaluation with a full one."""
    import json

    from synesthete.eval.compare import compare, load_metrics

    run, scored = str(tiny_run / "runs" / "tiny"), {}
    for name, extra in (("all", []), ("some", ["--baselines", "null_audio", "static"]), ("none", ["--baselines"])):
        out = tmp_path / name
        assert cli_main(["eval", "--run", run, "--clips", "2", "--steps", "2", "--no-nets", "--out", str(out),
                         *extra]) == 0
        scored[name] = json.loads((out / "metrics.json").read_text())
    assert scored["some"]["baselines"] == ["ground_truth", "model", "null_audio", "static"]
    assert scored["none"]["baselines"] == ["ground_truth", "model"]
    assert scored["none"]["options"]["baselines"] == []
    for name in ("some", "none"):
        for b in scored[name]["baselines"]:
            assert scored[name]["per_clip"][b] == scored["all"]["per_clip"][b]
    rows = {r["statistic"] for r in compare(load_metrics(tmp_path / "none"), load_metrics(tmp_path / "all"))["rows"]}
    assert "model av_align" in rows and not any("shuffled" in r for r in rows)     # no margin without the baseline


def test_eval_counts_the_visualizer_the_evaluator_names(tiny_run, monkeypatch):
    """With the learned nets, each clip's visualizer_accuracy is 1 where the evaluator names the
    song's visualizer; it reaches results, the split by look and `compare`."""
    from synesthete.eval import runner
    from synesthete.eval.compare import compare

    class Nets:   # the trained nets' interface; this one calls every video `tunnel`
        def __init__(self, cache_dir, device):
            pass

        def read(self, video):
            return torch.full((1, 4), float(video.float().mean())), "tunnel"

        def sync(self, video, audio, fps, sample_rate):
            return {"offset_frames": 0, "offset_ms": 0.0, "confidence": 1.0}

        def describe(self):
            return {}

    monkeypatch.setattr(runner, "_Nets", Nets)
    m = runner.evaluate_run(tiny_run / "runs" / "tiny", torch.device("cpu"), overrides={"nets": True, "clips": 3})
    looks = [c["visualizer"] for c in m["clips"]]
    assert set(looks) == {"geometry", "tunnel"}                   # TINY's two, so the count can be wrong
    expected = [float(v == "tunnel") for v in looks]
    for b in m["baselines"]:
        assert [r["visualizer_accuracy"] for r in m["per_clip"][b]] == expected
        assert m["results"][b]["visualizer_accuracy"] == pytest.approx(sum(expected) / 3)
    assert m["per_visualizer"]["tunnel"]["visualizer_accuracy"]["model"] == 1.0
    assert m["per_visualizer"]["geometry"]["visualizer_accuracy"]["model"] == 0.0
    row = {r["statistic"]: r for r in compare(m, m)["rows"]}["model visualizer_accuracy"]
    assert row["difference"] == 0.0 and row["a"] == pytest.approx(sum(expected) / 3)


@pytest.mark.parametrize("args, text", [
    (["--first", "-1"], "--first must be >= 0"),
    (["--guidance", "-2"], "--guidance must be >= 0"),
    (["--steps", "0"], "--steps must be >= 1"),
    (["--guidance-interval", "0.8", "0.2"], "--guidance-interval must be LO HI"),
    (["--guidance-outside", "-1"], "--guidance-outside must be >= 0"),
    (["--guidance-rescale", "-0.5"], "--guidance-rescale must be in [0, 1]"),
    (["--max-side", "128", "--audio", "x.wav"], "--audio, --max-side cannot go with --run (it applies to --video only)"),
])
def test_eval_bad_input(tiny_run, capsys, args, text):
    assert cli_main(["eval", "--run", str(tiny_run / "runs" / "tiny"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert text in err and "\n" not in err and "Traceback" not in err


@pytest.mark.parametrize("args, text", [
    (["--max-side", "-1"], "--max-side must be >= 0"),
    (["--clips", "4"], "--clips cannot go with --video (it applies to --run only)"),
    (["--first", "0", "--guidance-rescale", "0.5"], "--first, --guidance-rescale cannot go with --video"),
    (["--baselines", "static"], "--baselines cannot go with --video (it applies to --run only)"),
])
def test_eval_video_bad_input(tmp_path, capsys, args, text):
    """A flag of the other mode is refused, not silently ignored; checked before the file is read."""
    assert cli_main(["eval", "--video", str(tmp_path / "x.mp4"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert text in err and "\n" not in err and "Traceback" not in err


def test_a_config_key_added_since_the_checkpoint_reads_as_its_default(tiny_run, monkeypatch):
    import json

    monkeypatch.chdir(tiny_run)
    state = tiny_run / "runs" / "tiny" / "dit" / "step_000003" / "state.json"
    saved = state.read_text()
    older = json.loads(saved)
    del older["config"]["dit"]["audio_chroma"]                 # as written before the key existed
    state.write_text(json.dumps(older))
    try:
        assert run_pipeline.main(["--name", "tiny", "--out", "older.mp4", *TINY]) == 0
    finally:
        state.write_text(saved)
