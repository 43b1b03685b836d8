"""Shared fixtures: one tiny trained run (VAE + DiT) for the pipeline and generation tests."""

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import run_pipeline  # noqa: E402

TINY = [
    "data.size=32", "data.seconds=0.5", "data.val_clips=1", "data.visualizers=[geometry, tunnel]",
    "vae.crop=null", "vae.frames_per_clip=4",
    "vae.train.steps=3", "vae.train.batch=1", "vae.train.workers=0", "vae.train.warmup_steps=1",
    "dit.train.steps=3", "dit.train.batch=1", "dit.train.workers=0", "dit.train.warmup_steps=1",
    "regression.train.steps=2", "regression.train.batch=1", "regression.train.workers=0",
    "regression.train.warmup_steps=1",
    "sample.steps=2", "sample.overlap=2", "eval.clips=2", "eval.seconds=1.0", "eval.nets=false",
]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One tiny pipeline run shared by the tests (about 20 s on a 2-core CPU); runs/tiny inside."""
    cwd = tmp_path_factory.mktemp("pipeline")
    old = Path.cwd()
    os.chdir(cwd)
    try:
        rc = run_pipeline.main(["--name", "tiny", "--out", "out.mp4", *TINY])
    finally:
        os.chdir(old)
    assert rc == 0
    return cwd


@pytest.fixture(scope="module")
def one_thread():
    """Small per-op work (renders, metrics): extra intra-op threads only contend (10x slower on a
    busy box). Use with `pytestmark = pytest.mark.usefixtures("one_thread")`."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
