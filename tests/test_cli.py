"""The command line itself: every --help prints its usage (argparse %-formats help strings, so one stray
'%' breaks it), the scripts' too; bad numbers and unwritable outputs are one line and exit 2 before any
work, and so is a script pointed at a missing run; `generate` finds the run the pipeline trained."""

import json
import os
import runpy
import signal
import sys
import time
from pathlib import Path

import pytest
import torch

from synesthete.cli import COMMANDS, UsageError, default_run, main as cli_main, report_errors

from conftest import run_pipeline  # noqa: E402

SUBCOMMANDS = sorted(COMMANDS)
SCRIPTS = sorted((Path(__file__).parent.parent / "scripts").glob("*.py"))


def run_script(path: Path, *argv: str, monkeypatch) -> int:
    """A script run as `python path argv...`, in this process: its exit code."""
    monkeypatch.setattr(sys, "argv", [str(path), *argv])
    threads = torch.get_num_threads()               # listen_audio sets one thread before its main
    try:
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as e:
        return e.code or 0
    finally:
        torch.set_num_threads(threads)
    return 0


@pytest.mark.parametrize("argv", [["--help"], *([name, "--help"] for name in SUBCOMMANDS)], ids=lambda a: " ".join(a))
def test_help_prints_usage(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli_main(argv)
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: synesthete")
    for name in SUBCOMMANDS if argv == ["--help"] else []:
        assert name in out


def test_version(capsys):
    import synesthete

    with pytest.raises(SystemExit) as exit_:
        cli_main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out == f"synesthete {synesthete.__version__}\n"


def test_pipeline_help_prints_usage(capsys):
    with pytest.raises(SystemExit) as exit_:
        run_pipeline.main(["--help"])
    assert exit_.value.code == 0
    assert "--preset" in capsys.readouterr().out


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_help_prints_usage(script, monkeypatch, capsys):
    assert run_script(script, "--help", monkeypatch=monkeypatch) == 0
    assert capsys.readouterr().out.startswith(f"usage: {script.name}")


def _one_line_usage_error(err: str, *progs: str) -> None:
    """One line from one of `progs` (the top parser or the subcommand's, whichever argparse asks)."""
    err = err.strip()
    assert any(err.startswith(f"{p}: error: ") and err.endswith(f"(see {p} --help)") for p in progs), err
    assert "\n" not in err and "usage:" not in err


@pytest.mark.parametrize("argv, prog", [([], "synesthete"), (["eval", "--clips", "abc"], "synesthete eval"),
                                        (["eval", "--baselines", "bogus"], "synesthete eval"),
                                        *(([name, "--no-such-flag"], f"synesthete {name}") for name in SUBCOMMANDS)],
                         ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_a_usage_error_is_one_line(argv, prog, capsys):
    """argparse's own errors too, not the usage block and then the line."""
    with pytest.raises(SystemExit) as exit_:
        cli_main(argv)
    assert exit_.value.code == 2
    _one_line_usage_error(capsys.readouterr().err, prog, "synesthete")   # an unknown flag is the top parser's


def test_a_usage_error_is_one_line_in_the_pipeline_and_the_scripts(monkeypatch, capsys):
    with pytest.raises(SystemExit) as exit_:
        run_pipeline.main(["--preset", "quick", "--no-such-flag"])
    assert exit_.value.code == 2
    _one_line_usage_error(capsys.readouterr().err, Path(sys.argv[0]).name)   # its prog: run_pipeline.py when run
    for script in SCRIPTS:
        assert run_script(script, "--no-such-flag", monkeypatch=monkeypatch) == 2
        _one_line_usage_error(capsys.readouterr().err, script.name)


@pytest.mark.parametrize("name", ["denoise_probe", "guidance_probe", "label_probe"])
def test_script_on_a_missing_run_is_one_line(name, tmp_path, monkeypatch, capsys):
    script = next(p for p in SCRIPTS if p.stem == name)
    assert run_script(script, "--run", str(tmp_path / "nowhere"), monkeypatch=monkeypatch) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{name}: error: no dit checkpoint") and "\n" not in err


@pytest.mark.parametrize("name", ["guidance_probe", "label_probe"])
def test_label_probes_refuse_a_run_without_labels(name, tiny_run, monkeypatch, capsys):
    script = next(p for p in SCRIPTS if p.stem == name)
    assert run_script(script, "--run", str(tiny_run / "runs" / "tiny"), monkeypatch=monkeypatch) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{name}: error: ") and "takes no visualizer label" in err and "\n" not in err


def test_report_errors(monkeypatch, capsys):
    """Bad input is one line and 2, Ctrl-C one line and 130, anything else a real traceback; debug re-raises."""
    def fail(exc):
        def f():
            raise exc
        return f
    assert report_errors("tool", fail(UsageError("bad --x")), debug=False) == 2
    assert capsys.readouterr().err == "tool: error: bad --x\n"
    assert report_errors("tool", fail(KeyboardInterrupt()), debug=False, interrupted="stopped") == 130
    assert capsys.readouterr().err == "tool: stopped\n"
    assert report_errors("tool", fail(RuntimeError("odd")), debug=False, also=(RuntimeError,)) == 2
    assert capsys.readouterr().err == "tool: error: odd\n"
    before = signal.getsignal(signal.SIGTERM)

    cleaned = []

    def terminated():                                            # `kill`, `timeout`: unwinds as Ctrl-C does
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)
        finally:                                                 # the clean-up is not cut short by a repeat
            os.kill(os.getpid(), signal.SIGTERM)                 # (`uv run` forwarding `timeout`'s signal)
            cleaned.append(True)
    assert report_errors("tool", terminated, debug=False, interrupted="stopped") == 130
    assert capsys.readouterr().err == "tool: stopped\n" and cleaned == [True]
    assert signal.getsignal(signal.SIGTERM) is before
    with pytest.raises(ZeroDivisionError):                       # a bug is not bad input
        report_errors("tool", fail(ZeroDivisionError()), debug=False)
    monkeypatch.setenv("SYNESTHETE_DEBUG", "1")
    with pytest.raises(UsageError):
        report_errors("tool", fail(UsageError("bad --x")))
    assert report_errors("tool", lambda: None) == 0


@pytest.mark.parametrize("argv, text", [
    (["bench-data", "--workers", "abc"], "--workers: expected counts >= 1"),
    (["bench-data", "--workers", "1,0"], "--workers: expected counts >= 1"),
    (["bench-data", "--clips", "0"], "--clips must be >= 1"),
    (["bench-train", "--repeats", "0"], "--repeats must be >= 1"),
    (["bench-generate", "--threads", "0"], "--threads must be >= 1"),
    (["bench-generate", "--settings", "ddim:x"], "--settings: expected sampler:steps"),
])
def test_bench_bad_numbers_are_one_line(argv, text, capsys):
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and text in err


def test_a_reader_that_closed_the_pipe_ends_it_quietly(tmp_path):
    """`synesthete runs | head -1`: exit 141 as a tool killed by SIGPIPE, no `[Errno 32] Broken pipe` line."""
    import subprocess

    p = subprocess.Popen([sys.executable, "-m", "synesthete.cli", "runs", "--root", str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()                         # before the child (seconds to import torch) prints a line
    assert p.wait(timeout=120) == 141 and p.stderr.read() == b""


def test_a_file_where_an_output_folder_goes_is_one_line(tmp_path, monkeypatch, capsys):
    """An operating system's refusal reads `path: reason`, not Python's `[Errno 20] ...` traceback."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    for a_file in (tmp_path / "a_file", tmp_path / "runs" / "a_file"):
        a_file.write_text("not a folder")
    assert cli_main(["preview", "--n", "1", "--out", "a_file/preview"]) == 2
    assert capsys.readouterr().err == "synesthete preview: error: a_file/preview: Not a directory\n"
    assert run_pipeline.main(["--name", "a_file", "--stages", "vae"]) == 2
    assert capsys.readouterr().err == ("run_pipeline: error: name: runs/a_file is a file, not a run folder: "
                                       "give the run another --name\n")
    assert cli_main(["generate", "--duration", "1", "--out", "a_file/x.mp4"]) == 2
    assert capsys.readouterr().err == ("synesthete generate: error: cannot write a_file/x.mp4: "
                                       "folder a_file is a file, not a folder\n")


@pytest.mark.parametrize("argv", [
    ["eval", "--run", "runs/x", "--guidance", "inf"],
    ["generate", "--duration", "1", "--guidance-rescale", "nan"],
    ["generate", "--duration", "inf"],
])
def test_a_float_flag_refuses_inf_and_nan(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli_main(argv)
    assert e.value.code == 2 and "not a finite number" in capsys.readouterr().err


@pytest.mark.parametrize("out, text", [
    ("o.avi", "the output must be an .mp4 file"),
    ("no/such/dir/o.mp4", "does not exist"),
    ("a_folder.mp4", "it is a folder"),
])
def test_pipeline_refuses_an_unwritable_output_before_training(out, text, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_folder.mp4").mkdir()
    assert run_pipeline.main(["--name", "never", "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and text in err
    assert not (tmp_path / "runs").exists()


def test_generate_defaults_to_the_newest_trained_preset_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert default_run() == "runs/quick"                       # nothing trained: the CPU preset's folder
    assert cli_main(["generate", "--duration", "1"]) == 2
    assert capsys.readouterr().err == ("synesthete generate: error: no run folder runs/quick "
                                       "(train one with: uv run python run_pipeline.py)\n")
    for name, age in (("quick", 100), ("standard", 10)):       # standard trained after quick (a GPU or a Mac)
        (tmp_path / "runs" / name / "dit").mkdir(parents=True)
        os.utime(tmp_path / "runs" / name / "dit", (1e9 - age, 1e9 - age))
    (tmp_path / "runs" / "full").mkdir()                       # a preset folder without a DiT is not a candidate
    assert default_run() == "runs/standard"
    os.utime(tmp_path / "runs" / "quick" / "dit", (1e9, 1e9))
    assert default_run() == "runs/quick"


def test_chance_probe_scores_the_truth_a_mismatched_render_and_chance(monkeypatch, capsys):
    script = next(p for p in SCRIPTS if p.stem == "chance_probe")
    assert run_script(script, "--songs", "2", "--seconds", "3", monkeypatch=monkeypatch) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["songs"] == [0, 1] and out["seconds"] == 3.0
    agreement = out["av_agreement"]
    assert set(agreement) >= {"truth", "mismatched", "random"} and 0 < agreement["random"] <= 1
    assert agreement["truth_above_mismatched"].endswith("of 2")


def test_regression_budget_reproduces_the_evaluation_of_the_regression_baseline(tiny_run, monkeypatch, capsys):
    """Its last checkpoint scores what `eval --run` scored for the regression baseline, song by song."""
    run = tiny_run / "runs" / "tiny"
    script = next(p for p in SCRIPTS if p.stem == "regression_budget")
    assert run_script(script, "--run", str(run), "--against", str(run / "eval"), monkeypatch=monkeypatch) == 0
    out = json.loads(capsys.readouterr().out)
    metrics = json.loads((run / "eval" / "metrics.json").read_text())
    last = out["checkpoints"][-1]
    assert out["songs"] == [0, len(metrics["clips"]) - 1] and last["step"] == 2 and last["clips_seen"] == 2
    assert last["train_seconds"] == pytest.approx(metrics["training"]["regression"]["seconds"])
    for m in ("av_align", "beat_f1", "reactivity"):
        assert last[m] == pytest.approx(metrics["results"]["regression"][m], nan_ok=True)
        assert last["model_minus_regression"][m]["value"] == pytest.approx(
            metrics["results"]["model"][m] - metrics["results"]["regression"][m], nan_ok=True)
    assert last["sharpness_ratio"] == pytest.approx(metrics["results"]["regression"]["sharpness_ratio"])


def test_regression_budget_refuses_songs_its_reference_did_not_score(tiny_run, tmp_path, monkeypatch, capsys):
    script = next(p for p in SCRIPTS if p.stem == "regression_budget")
    run = tiny_run / "runs" / "tiny"
    assert run_script(script, "--run", str(run), "--against", str(run / "eval"), "--first", "5",
                      monkeypatch=monkeypatch) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("regression_budget: error: --against scored songs 0..1") and "\n" not in err
    assert run_script(script, "--run", str(tmp_path), monkeypatch=monkeypatch) == 2
    assert capsys.readouterr().err.startswith("regression_budget: error: no regression checkpoint")
    assert run_script(script, "--run", str(run), "--songs", "0", monkeypatch=monkeypatch) == 2
    assert capsys.readouterr().err == "regression_budget: error: --songs must be at least 1 and --first at least 0\n"
