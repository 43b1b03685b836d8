"""`synesthete runs`: the overview of a folder of runs, read from their files alone."""

import json

import pytest
import yaml

from synesthete.cli import main as cli_main
from synesthete.train.run_status import list_runs, run_status, runs_table


def _checkpoint(run, stage, step, steps, finished, seconds=None):
    ckpt = run / stage / f"step_{step:06d}"
    ckpt.mkdir(parents=True)
    state = {"step": step, "stage": stage, "finished": finished, "config": {stage: {"train": {"steps": steps}}}}
    if seconds is not None:                       # checkpoints from before train_seconds lack it
        state["train_seconds"] = seconds
    (ckpt / "state.json").write_text(json.dumps(state))


def _metrics_json(folder, songs, model, shuffled, null, truth=0.6, sample=None):
    folder.mkdir(parents=True)
    results = {"ground_truth": {"av_align": truth, "beat_f1": 0.7}, "model": {"av_align": model, "beat_f1": 0.65,
                                                                               "sharpness_ratio": 0.5},
               "shuffled_audio": {"av_align": shuffled}, "null_audio": {"av_align": null}}
    (folder / "metrics.json").write_text(json.dumps({"run": str(folder.parent), "results": results, "per_clip": {},
                                                     "clips": [{}] * songs, "fps": 16, "seconds": 8.0,
                                                     "config": {"sample": sample or {}}}))


@pytest.fixture
def runs(tmp_path):
    """`done`: every stage finished, a VAE validated twice (resumed), two evaluations;
    `half`: the DiT at step 40 of 100, no evaluation; `eval_nets`: a cache, not a run."""
    root = tmp_path / "runs"
    done = root / "done"
    done.mkdir(parents=True)
    (done / "config.yaml").write_text(yaml.safe_dump({"name": "done", "preset": "quick"}))
    for stage, steps in (("vae", 30), ("dit", 20), ("regression", 10)):
        _checkpoint(done, stage, steps, steps, True)
    rows = [{"stage": "vae", "step": 20, "val_psnr": 24.0}, {"stage": "vae", "step": 30, "val_psnr": 25.5},
            {"stage": "dit", "step": 20, "val_loss": 0.9}]
    (done / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    _metrics_json(done / "eval", 4, 0.50, 0.30, 0.40)
    _metrics_json(done / "eval16", 16, 0.48, 0.33, 0.35)      # more songs: the one shown
    _metrics_json(done / "eval16_gi", 16, 0.47, 0.30, 0.30,   # as many, newer, but sampled another way
                  sample={"guidance": 3.0, "guidance_interval": [0.0, 0.8], "guidance_outside": 0.0})
    half = root / "half"
    half.mkdir()
    (half / "config.yaml").write_text(yaml.safe_dump({"name": "half", "preset": "standard"}))
    _checkpoint(half, "vae", 60, 60, True)
    _checkpoint(half, "dit", 40, 100, False, seconds=126.0)
    (root / "eval_nets" / "evaluator").mkdir(parents=True)
    (root / "notes.txt").write_text("not a run")
    return root


def test_run_status_reads_stages_vae_and_the_largest_evaluation(runs):
    s = run_status(runs / "done")
    assert s["preset"] == "quick" and s["vae_psnr"] == 25.5
    assert s["stages"]["dit"] == {"step": 20, "steps": 20, "finished": True, "minutes": None}
    e = s["eval"]
    assert e["folder"] == "eval16" and e["songs"] == 16 and e["sampling"] == []
    assert e["margin_shuffled"] == pytest.approx(0.15) and e["margin_null"] == pytest.approx(0.13)
    half = run_status(runs / "half")
    assert half["stages"]["dit"] == {"step": 40, "steps": 100, "finished": False, "minutes": 2.1}
    assert half["stages"]["regression"] is None and half["eval"] is None and half["vae_psnr"] is None


def test_list_runs_skips_what_is_not_a_run(runs):
    (runs / "done" / "samples" / "vae").mkdir(parents=True)        # pictures, not checkpoints
    (runs / "copied").mkdir()                                        # a stage copied in, no config yet
    _checkpoint(runs / "copied", "vae", 30, 30, True)
    assert sorted(r["run"].rsplit("/", 1)[-1] for r in list_runs(runs)) == ["copied", "done", "half"]
    assert [r["run"].rsplit("/", 1)[-1] for r in list_runs(runs / "done")] == ["done"]   # a run, given itself


def test_runs_table_shows_progress_and_headline(runs):
    table = runs_table([run_status(runs / "done"), run_status(runs / "half")])
    done, half = table.splitlines()[2:]
    assert "| done | quick | 30 ✓ | 20 ✓ | 10 ✓ | 25.50 | eval16 (16) | 0.480 (0.600) |" in done
    assert "| +0.150 | +0.130 | 0.50 |" in done
    assert "| half | standard | 60 ✓ | 40/100 · 2.1 min | – | – | – |" in half


def test_a_run_being_trained_is_marked(runs):
    import os

    from synesthete.train.run_lock import hold_run

    with hold_run(runs / "half"):
        s = run_status(runs / "half")
        assert s["in_use_by"].startswith(f"process {os.getpid()} (since ")
        assert "| half (training now) | standard |" in runs_table([s])
    assert run_status(runs / "half")["in_use_by"] is None                 # released
    assert run_status(runs / "done")["in_use_by"] is None                 # never held: no .lock


def test_a_filesystem_without_locks_trains_unguarded(runs, monkeypatch):
    """Some network and FUSE mounts refuse flock: the run goes on rather than not at all."""
    import errno

    from synesthete.train import run_lock

    def no_locks(f, op):
        raise OSError(errno.ENOLCK, "No locks available")
    monkeypatch.setattr(run_lock.fcntl, "flock", no_locks)
    entered = []
    with run_lock.hold_run(runs / "half"):
        entered.append(True)
    assert entered == [True] and run_lock.holder(runs / "half") is None


def test_generate_and_eval_note_a_dit_that_has_not_finished(runs, capsys):
    from synesthete.cli import note_unfinished
    from synesthete.train.run_lock import hold_run

    note_unfinished(runs / "done")
    assert capsys.readouterr().err == ""                                   # finished: nothing to say
    note_unfinished(runs / "half")
    assert capsys.readouterr().err == (f"note: {runs / 'half'}'s DiT is at step 40 of 100 (stopped before the "
                                       f"end: run_pipeline.py resumes it); sampling from that checkpoint\n")
    with hold_run(runs / "half"):
        note_unfinished(runs / "half")
    assert "(it is being trained now)" in capsys.readouterr().err


def test_a_damaged_checkpoint_is_named_not_fatal(runs):
    (runs / "half" / "dit" / "step_000040" / "state.json").write_text("{not json")
    assert "| damaged |" in runs_table([run_status(runs / "half")])


def test_runs_cli(runs, tmp_path, capsys):
    assert cli_main(["runs", "--root", str(runs)]) == 0
    assert "| done | quick |" in capsys.readouterr().out
    assert cli_main(["runs", "--root", str(runs), "--json"]) == 0
    assert {r["preset"] for r in json.loads(capsys.readouterr().out)} == {"quick", "standard"}
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli_main(["runs", "--root", str(empty)]) == 0 and "no runs in" in capsys.readouterr().out
    assert cli_main(["runs", "--root", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("synesthete runs: error: no runs folder")


def test_an_evaluation_sampled_another_way_says_how(runs):
    """Alone, the guidance-interval evaluation is shown, with its sampling named as config overrides."""
    import shutil

    shutil.rmtree(runs / "done" / "eval16")
    e = run_status(runs / "done")["eval"]
    assert e["folder"] == "eval16_gi"
    assert e["sampling"] == ["sample.guidance_interval=[0.0,0.8]", "sample.guidance_outside=0.0"]
    assert "| eval16_gi (16; sample.guidance_interval=[0.0,0.8]; sample.guidance_outside=0.0) |" in runs_table(
        [run_status(runs / "done")])


def test_a_copied_vae_tells_its_psnr_from_its_checkpoint(runs):
    """A stage copied from another run logged nothing in this run's metrics.jsonl: its checkpoint keeps the figures."""
    state_file = runs / "half" / "vae" / "step_000060" / "state.json"
    state = json.loads(state_file.read_text())
    state_file.write_text(json.dumps({**state, "val": {"step": 60, "val_psnr": 23.25, "val_loss": 0.01}}))
    assert run_status(runs / "half")["vae_psnr"] == 23.25
    assert run_status(runs / "done")["vae_psnr"] == 25.5       # this run's own log comes first
