"""Training curves from metrics.jsonl: reading (resumed runs, cut-short writes), smoothing, the PNG."""

import json

import matplotlib.image as mpimg
import pytest

from synesthete.cli import main as cli_main
from synesthete.train.curves import CurvesError, per_look, plot_curves, smooth
from synesthete.train.metrics_file import last_values, read_metrics


def _write(path, rows, tail=""):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + tail)


def _rows():
    """A VAE logged to step 30 with validations, resumed from step 20 (steps 20-30 logged twice),
    a DiT and a regression stage."""
    rows = []
    for step in (10, 20, 30):
        rows.append({"stage": "vae", "step": step, "time": 1.0 * step, "loss": 1.0 / step, "rec": 0.5 / step,
                     "clips_per_s": 100.0, "lr": 1e-3})
    rows.append({"stage": "vae", "step": 30, "time": 31.0, "val_loss": 0.1, "val_psnr": 20.0, "val_sharpness": 0.3,
                 "val_psnr_tunnel": 21.0, "val_psnr_geometry": 19.0, "val_sharpness_tunnel": 0.4})
    rows += [{"stage": "vae", "step": 30, "time": 40.0, "loss": 0.02, "clips_per_s": 90.0},   # resumed
             {"stage": "vae", "step": 40, "time": 50.0, "loss": 0.01, "clips_per_s": 95.0},
             {"stage": "vae", "step": 40, "time": 51.0, "val_loss": 0.08, "val_psnr": 22.0, "val_sharpness": 0.5,
              "val_psnr_tunnel": 23.0, "val_psnr_geometry": 21.0, "val_sharpness_tunnel": 0.6}]
    for step in (10, 20):
        rows.append({"stage": "dit", "step": step, "time": 60.0 + step, "loss": 1.5 - step / 100, "clips_per_s": 6.0})
    rows.append({"stage": "dit", "step": 20, "time": 85.0, "val_loss": 0.9, "val_pulse_ratio": 2.5,
                 "val_pulse_ratio_truth": 3.2, "note": "text", "missing": None})
    rows.append({"stage": "regression", "step": 5, "time": 90.0, "loss": 0.2, "clips_per_s": 1.5})
    return rows


def test_read_metrics_takes_the_latest_row_of_a_step_and_skips_what_is_not_a_row(tmp_path):
    path = tmp_path / "metrics.jsonl"
    # a killed process left half a row, and the resumed run appended its next row to it
    _write(path, _rows(), tail='{"stage": "vae", "st' + json.dumps({"stage": "vae", "step": 50, "loss": 9.0}) + "\n")
    m = read_metrics(path)
    assert list(m) == ["vae", "dit", "regression"]
    assert m["vae"]["loss"] == ([10, 20, 30, 40], [0.1, 0.05, 0.02, 0.01])   # step 30 from the resumed run
    assert m["vae"]["val_psnr"] == ([30, 40], [20.0, 22.0])
    assert "note" not in m["dit"] and "missing" not in m["dit"] and "time" not in m["dit"]
    assert m["dit"]["val_pulse_ratio"] == ([20], [2.5])


def test_smooth_starts_at_the_data_and_keeps_a_constant():
    assert smooth([4.0, 4.0, 4.0]) == pytest.approx([4.0, 4.0, 4.0])
    out = smooth([0.0, 10.0])
    assert out[0] == 0.0 and 0.0 < out[1] < 10.0


def test_per_look_tells_one_visualizer_from_a_pooled_figure():
    assert per_look("val_psnr_tunnel") and per_look("val_sharpness_geometry")
    assert not per_look("val_psnr") and not per_look("val_pulse_ratio_truth")


def test_plot_curves_draws_a_row_per_stage(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    _write(run / "metrics.jsonl", _rows())
    out = plot_curves(run)
    assert out == run / "curves.png"
    height, width = mpimg.imread(out).shape[:2]
    assert width > height > 0                              # three rows of four panels, wider than tall
    assert sorted(p.name for p in run.iterdir()) == ["curves.png", "metrics.jsonl"]   # no temporary left
    other = plot_curves(run, tmp_path / "sub" / "c.png")
    assert other.exists()


@pytest.mark.parametrize("setup, text", [
    (None, "no run folder"),
    ("folder", "no metrics.jsonl in"),
    ("empty", "holds no metrics rows"),
])
def test_curves_bad_input_is_one_line(tmp_path, capsys, setup, text):
    run = tmp_path / "run"
    if setup:
        run.mkdir()
    if setup == "empty":
        (run / "metrics.jsonl").write_text('{"stage": "vae", "st\n')
    with pytest.raises(CurvesError, match=text):
        plot_curves(run)
    assert cli_main(["curves", "--run", str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("synesthete curves: error: ") and text in err[0]
    assert not (run / "curves.png").exists()


def test_curves_cli_writes_the_png(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    _write(run / "metrics.jsonl", _rows())
    assert cli_main(["curves", "--run", str(run), "--out", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "c.png").exists() and str(tmp_path / "c.png") in capsys.readouterr().out


def test_last_values_reads_the_latest_step_past_a_cut_short_row(tmp_path):
    """What the pipeline's summary reads (it used to stop on such a row after a whole training run)."""
    path = tmp_path / "metrics.jsonl"
    _write(path, _rows(), tail='{"stage": "vae", "step": 4')
    last = last_values(path, "vae")
    assert last["val_psnr"] == 22.0 and last["loss"] == 0.01 and last["val_psnr_tunnel"] == 23.0
    assert last_values(path, "full") == {} and last_values(tmp_path / "none.jsonl", "vae") == {}
