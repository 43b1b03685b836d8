"""The procedural dataset: determinism, sharding, shapes, ranges, validation split, preview."""

import dataclasses
import json

import pytest
import torch
from torch.utils.data import DataLoader

from synesthete.audio.features import NUM_FEATURES
from synesthete.cli import main
from synesthete.config import DataConfig
from synesthete.data import VAL_INDEX_BASE, ProceduralAVDataset, collate_clips, make_clip
from synesthete.data.procedural import _shard
from synesthete.media import read_av

SMALL = DataConfig(size=32, seconds=1.0, epoch_size=12, val_clips=3)


def _ids(dataset, workers=0):
    loader = DataLoader(dataset, batch_size=None, num_workers=workers)
    return [c["meta"]["index"] for c in loader]


def test_clip_contract():
    cfg = DataConfig()
    clip = make_clip(cfg, 7)
    assert clip["audio"].shape == (1, 48000) and clip["audio"].dtype == torch.float32
    assert clip["audio"].abs().max() <= 1.0
    assert clip["video"].shape == (48, 3, 128, 128) and clip["video"].dtype == torch.uint8
    assert clip["features"].shape == (48, NUM_FEATURES) and clip["features"].dtype == torch.float32
    assert clip["features"].min() >= 0 and clip["features"].max() <= 1
    for name in ("kick", "snare", "hat", "beat", "downbeat"):
        times = clip["events"][name]
        assert torch.all(times[1:] >= times[:-1]) and (times.numel() == 0 or (times.min() >= 0 and times.max() < 3.0))
    meta = clip["meta"]
    for key in ("seed", "index", "tempo", "key", "mode", "visualizer", "style"):
        assert key in meta
    json.dumps(meta)  # metadata is plain data


def test_clip_is_a_pure_function_of_seed_and_index():
    a, b = make_clip(SMALL, 3), make_clip(SMALL, 3)
    assert torch.equal(a["audio"], b["audio"]) and torch.equal(a["video"], b["video"])
    assert a["meta"] == b["meta"]
    c = make_clip(dataclasses.replace(SMALL, seed=1), 3)
    assert not torch.equal(a["audio"], c["audio"])


def test_same_bytes_across_worker_counts():
    one = {c["meta"]["index"]: c for c in DataLoader(ProceduralAVDataset(SMALL), batch_size=None)}
    two = {c["meta"]["index"]: c for c in DataLoader(ProceduralAVDataset(SMALL), batch_size=None, num_workers=2)}
    assert sorted(one) == sorted(two) == list(range(12))
    for i in one:
        assert torch.equal(one[i]["video"], two[i]["video"]) and torch.equal(one[i]["audio"], two[i]["audio"])


def test_sharding_over_workers_and_ranks_never_repeats(monkeypatch):
    seen = []
    for rank in range(3):
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("WORLD_SIZE", "3")
        ids = _ids(ProceduralAVDataset(SMALL), workers=2)
        assert len(ids) == len(set(ids))
        seen += ids
    assert sorted(seen) == list(range(12))  # 2 workers x 3 ranks cover the epoch exactly once


def test_shard_ids(monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert _shard() == (1, 2)


def test_validation_never_overlaps_training():
    val = ProceduralAVDataset(SMALL, split="val")
    assert list(val.indices()) == [VAL_INDEX_BASE, VAL_INDEX_BASE + 1, VAL_INDEX_BASE + 2]
    endless = ProceduralAVDataset(dataclasses.replace(SMALL, epoch_size=None))
    assert endless.indices().stop == VAL_INDEX_BASE
    assert torch.equal(val.clip(1)["video"], make_clip(SMALL, VAL_INDEX_BASE + 1)["video"])


def test_epochs_and_resume_position():
    ds = ProceduralAVDataset(SMALL)
    assert len(ds) == 12
    ds.set_epoch(2)
    assert list(ds.indices()) == list(range(24, 36))
    resumed = ProceduralAVDataset(dataclasses.replace(SMALL, epoch_size=None), start_index=5)
    assert next(iter(resumed))["meta"]["index"] == 5


def test_collate_batches():
    batch = collate_clips([make_clip(SMALL, i) for i in range(3)])
    assert batch["video"].shape == (3, 16, 3, 32, 32) and batch["audio"].shape == (3, 1, 16000)
    assert len(batch["events"]) == 3 and len(batch["meta"]) == 3


def test_styles_and_visualizers_vary():
    clips = [make_clip(DataConfig(size=32, seconds=0.5), i) for i in range(24)]
    assert len({c["meta"]["visualizer"] for c in clips}) >= 5
    assert len({round(c["meta"]["tempo"]) for c in clips}) >= 10
    assert {c["meta"]["mode"] for c in clips} == {"major", "minor"}


def test_preview_writes_playable_clips(tmp_path, capsys):
    rc = main(["preview", "--n", "2", "--out", str(tmp_path), "data.size=64"])
    assert rc == 0
    mp4s = sorted(tmp_path.glob("*.mp4"))
    assert len(mp4s) == 2 and len(list(tmp_path.glob("*.png"))) == 2 and len(list(tmp_path.glob("*.json"))) == 2
    back = read_av(mp4s[0])
    assert back.video.shape == (48, 3, 64, 64)
    assert abs(back.audio.shape[1] - 48000) <= 1024


@pytest.mark.parametrize("argv, text", [
    (["preview", "data.fps=0"], "data.fps: must be > 0"),
    (["preview", "data.visualizers=[nope]"], "unknown visualizer 'nope'"),
    (["preview", "--n", "0"], "--n must be >= 1"),
])
def test_bad_cli_input_is_one_line(argv, text, capsys, tmp_path):
    assert main(argv + ["--out", str(tmp_path / "p")] if argv[0] == "preview" else argv) == 2
    err = capsys.readouterr().err.strip()
    assert text in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "p").exists()


def test_step_batches_are_in_step_order_and_resumable():
    from synesthete.data.batches import step_batches

    cfg = DataConfig(size=32, seconds=0.5)
    it = step_batches(cfg, batch=2, start_step=3, rank=1, world=2, workers=2)
    got = [next(it) for _ in range(3)]
    assert [b["step"] for b in got] == [3, 4, 5]
    assert [m["index"] for m in got[0]["meta"]] == [14, 15]  # (3 * 2 + 1) * 2
    again = next(step_batches(cfg, batch=2, start_step=4, rank=1, world=2, workers=0))
    assert torch.equal(again["video"], got[1]["video"])


def test_reused_batches_resume_mid_group():
    from synesthete.data.batches import reused

    def source(start_group):  # stands in for step_batches(..., start_step // reuse, ...)
        return iter(range(start_group, 100))

    whole = list(zip(range(12), reused(source(0), 3, 0)))
    assert [b for _, b in whole] == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    for start in (4, 5, 6):  # a run resumed at any step sees what the uninterrupted one saw
        resumed = reused(source(start // 3), 3, start)
        assert [next(resumed) for _ in range(12 - start)] == [b for s, b in whole if s >= start]
