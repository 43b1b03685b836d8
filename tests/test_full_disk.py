"""A disk that refuses more bytes (full, or a quota) mid-write: one line naming the file, exit 2, no
temp file left, nothing saved before lost. Each case runs in a subprocess whose file-size limit
(RLIMIT_FSIZE, SIGXFSZ ignored) makes the operating system refuse the write as a full disk would
(EFBIG rather than ENOSPC): safetensors, torchcodec and PIL each report it in their own way."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT, TINY

resource = pytest.importorskip("resource")


def limited(cwd, max_bytes: int, code: str, *args: str) -> subprocess.CompletedProcess:
    """Run `code` (with sys.argv[1:] = args) in a Python whose files may not grow past `max_bytes`."""
    prelude = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
               f"resource.setrlimit(resource.RLIMIT_FSIZE, ({max_bytes}, {max_bytes})); ")
    return subprocess.run([sys.executable, "-c", prelude + code, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def hidden_temps(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*") if p.name != ".lock")


def test_a_checkpoint_the_disk_refuses_is_one_line_and_leaves_no_temp(tmp_path):
    # 150 kB: the validation PNGs fit, the VAE's weights do not
    run = limited(tmp_path, 150_000, f"import runpy; sys.argv[0] = {str(ROOT / 'run_pipeline.py')!r}; "
                  "runpy.run_path(sys.argv[0], run_name='__main__')",
                  "--name", "t", "--stages", "vae", *TINY)
    assert run.returncode == 2, run.stderr
    err = run.stderr.strip().splitlines()[-1]
    assert err.startswith("run_pipeline: error: cannot write checkpoint runs/t/vae/") and "File too large" in err
    assert "Traceback" not in run.stderr
    assert hidden_temps(tmp_path / "runs" / "t") == []


def test_a_video_or_sheet_the_disk_refuses_is_one_line_and_leaves_no_temp(tiny_run, tmp_path):
    gen = "from synesthete.cli import main; sys.exit(main(sys.argv[1:]))"
    args = ("generate", "--run", str(tiny_run / "runs" / "tiny"), "--duration", "1", "--out", "o.mp4", "--sheet")
    run = limited(tmp_path, 1000, gen, *args)               # the mp4 does not fit
    assert run.returncode == 2 and "Traceback" not in run.stderr
    last = run.stderr.strip().splitlines()[-1]            # after the progress bar's plain line
    assert last == "synesthete generate: error: cannot write o.mp4: Error in av_write_trailer: File too large"
    assert list(tmp_path.iterdir()) == []
    run = limited(tmp_path, 30_000, gen, *args)             # the mp4 fits, its contact sheet does not
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1] == "synesthete generate: error: o.png: File too large"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.mp4"]   # whole: written and renamed first
