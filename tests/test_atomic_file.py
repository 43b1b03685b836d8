"""Whole-file writes: an error leaves the previous file, and two writers of one file (two runs
training the shared evaluation nets at once) both finish."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from synesthete import atomic_file
from synesthete.eval import nets_cache


def test_an_error_while_writing_leaves_the_previous_file_and_no_temp(tmp_path):
    path = atomic_file.write_text(tmp_path / "metrics.json", "old")
    with pytest.raises(RuntimeError), atomic_file.replacing(path) as tmp:
        tmp.write_text("half of the new")
        raise RuntimeError("killed")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_two_processes_caching_the_same_net_at_once_both_finish(tmp_path, monkeypatch):
    """Two runs started together both train a missing evaluation net. Before, both wrote one temp
    name, so the one that renamed second found its temp gone: FileNotFoundError after minutes of
    training. Here the other process runs start to end between this one's weights and its rename."""
    def build():
        return nn.Linear(2, 2)

    def train():
        return nets_cache.seeded_init(0, build), {"steps": 3}

    real_save = atomic_file.save_weights

    def save_then_the_other_process_runs(state, path):
        real_save(state, path)
        monkeypatch.setattr(atomic_file, "save_weights", real_save)
        nets_cache.load_or_train(tmp_path, "net", {"a": 1}, build, train)

    monkeypatch.setattr(atomic_file, "save_weights", save_then_the_other_process_runs)
    _, stats = nets_cache.load_or_train(tmp_path, "net", {"a": 1}, build, train)
    weights, sidecar = nets_cache.cache_paths(tmp_path, "net", {"a": 1})
    assert stats == {"steps": 3}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([weights.name, sidecar.name])   # no temp left
    model, _ = nets_cache.load_or_train(tmp_path, "net", {"a": 1}, build, lambda: 1 / 0)   # cached: not retrained
    assert model.weight.shape == (2, 2)


def test_weights_are_readable_as_every_other_file_the_run_writes(tmp_path):
    """safetensors >= 0.8.1 creates its files owner-only (safetensors#782): a lab sharing runs/
    could read a run's config and metrics but not its checkpoints."""
    import os

    from synesthete.train.checkpoint import save_checkpoint

    old = os.umask(0o022)
    try:
        ckpt = save_checkpoint(tmp_path / "vae", 1, {"w": torch.ones(2)}, {"config": {}}, ema={"w": torch.ones(2)})
        nets_cache.load_or_train(tmp_path / "nets", "net", {"a": 1}, lambda: nn.Linear(2, 2),
                                 lambda: (nn.Linear(2, 2), {}))
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in [*ckpt.iterdir(), *(tmp_path / "nets").iterdir()]}
    assert set(modes.values()) == {0o644}, modes
