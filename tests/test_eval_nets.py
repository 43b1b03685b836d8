"""The evaluation networks learn what they claim, from test-sized runs (~20 s each on one core),
and the train-once cache trains once, reloads the same weights, and is seeded."""

from __future__ import annotations

import json
from typing import Iterator

import pytest
import torch

from synesthete.config import DataConfig
from synesthete.data import VAL_INDEX_BASE, make_clip
from synesthete.eval import evaluator as ev
from synesthete.eval import sync_scorer as ss
from synesthete.eval.nets_cache import cache_paths


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """Test-sized budgets are set for one core (the machine is shared)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def evaluator() -> ev.VideoEvaluator:
    # Measured: visualizer 0.78, mode 1.00 on 72 validation clips (21 s on one core).
    model, _ = ev.train_evaluator(steps=200, batch=12, size=32, clips=360, seed=0, device="cpu")
    return model


@pytest.fixture(scope="module")
def scorer() -> ss.SyncScorer:
    # Measured: 1.00 within +-1 frame on 36 validation clips x 5 shifts (26 s on one core).
    model, _ = ss.train_sync_scorer(steps=80, batch=16, size=32, clips=160, seed=0, device="cpu")
    return model


def test_evaluator_learns_the_content(evaluator: ev.VideoEvaluator) -> None:
    acc = ev.evaluator_accuracy(evaluator, n_val_clips=36)
    assert acc["visualizer_acc"] >= 0.5, acc  # chance is 1/9
    assert acc["mode_acc"] >= 0.75, acc


def test_video_features_any_size(evaluator: ev.VideoEvaluator) -> None:
    small = make_clip(DataConfig(size=32), VAL_INDEX_BASE)["video"]
    big = make_clip(DataConfig(size=64), VAL_INDEX_BASE)["video"]
    feats = ev.video_features(evaluator, torch.stack([small, small]))
    assert feats.shape == (2, evaluator.dim) and feats.dtype == torch.float32
    assert torch.isfinite(feats).all()
    assert torch.equal(feats[0], feats[1])
    assert ev.video_features(evaluator, big[None]).shape == (1, evaluator.dim)


def test_read_video_names_the_visualizer_as_the_accuracy_counts_it(evaluator: ev.VideoEvaluator) -> None:
    """`visualizer_accuracy` in an evaluation is this name against the song's visualizer."""
    clips = [make_clip(DataConfig(size=32), VAL_INDEX_BASE + i) for i in range(12)]
    named = [ev.read_video(evaluator, c["video"]) for c in clips]
    assert all(name in ev.VISUALIZERS for _, name in named)
    right = sum(name == c["meta"]["visualizer"] for (_, name), c in zip(named, clips))
    assert right / 12 == ev.evaluator_accuracy(evaluator, n_val_clips=12)["visualizer_acc"]
    assert right >= 6                                                # chance is 12 / 9
    feats = ev.video_features(evaluator, torch.stack([c["video"] for c in clips[:2]]))
    assert torch.allclose(torch.cat([f for f, _ in named[:2]]), feats, atol=1e-5)


def test_shift_video_delays_frames() -> None:
    video = torch.arange(6, dtype=torch.uint8).reshape(6, 1, 1, 1).expand(6, 3, 2, 2)
    assert ss.shift_video(video, 2)[:, 0, 0, 0].tolist() == [0, 0, 0, 1, 2, 3]
    assert ss.shift_video(video, -2)[:, 0, 0, 0].tolist() == [2, 3, 4, 5, 5, 5]


def test_sync_scorer_finds_offsets(scorer: ss.SyncScorer) -> None:
    acc = ss.offset_accuracy(scorer, n_clips=36, shifts=(-4, -2, 0, 2, 4))
    assert acc["acc_1"] >= 0.8, acc
    clip = make_clip(DataConfig(size=32), VAL_INDEX_BASE + 3)
    late = ss.predict_offset(scorer, ss.shift_video(clip["video"], 3), clip["audio"], 16, 16000)
    assert abs(late["offset_frames"] - 3) <= 1, late
    assert late["offset_ms"] == pytest.approx(late["offset_frames"] * 62.5)
    assert late["confidence"] > 0 and late["min_dist"] >= 0
    assert len(late["dists"]) == 2 * ss.MAX_SHIFT + 1


def test_score_any_video_takes_any_size_and_frame_rate(scorer: ss.SyncScorer) -> None:
    """At the scorer's own rate and size it is predict_offset; a 64 px video at 32 fps (each frame
    twice) played 3 frames late is found 3 frames late, in the scorer's 16 fps frames."""
    clip = make_clip(DataConfig(size=32), VAL_INDEX_BASE + 3)
    same = ss.score_any_video(scorer, clip["video"], 16.0, clip["audio"], 16000)
    direct = ss.predict_offset(scorer, clip["video"], clip["audio"], 16, 16000)
    assert same["frames"] == 48 and same["fps"] == 16
    assert same["offset_frames"] == direct["offset_frames"] and same["confidence"] == pytest.approx(direct["confidence"])
    big = make_clip(DataConfig(size=64), VAL_INDEX_BASE + 3)
    late = ss.shift_video(big["video"], 3).repeat_interleave(2, dim=0)          # [96, 3, 64, 64] at 32 fps
    r = ss.score_any_video(scorer, late, 32.0, big["audio"], 16000, chunk=20)
    assert r["frames"] == 48 and abs(r["offset_frames"] - 3) <= 1, r
    assert ss.score_any_video(scorer, late[:24], 32.0, big["audio"], 16000) is None   # 12 frames: too short


def test_sync_scorer_is_surer_of_the_right_audio(scorer: ss.SyncScorer) -> None:
    cfg = DataConfig(size=32)
    a, b = make_clip(cfg, VAL_INDEX_BASE + 1), make_clip(cfg, VAL_INDEX_BASE + 2)
    right = ss.predict_offset(scorer, a["video"], a["audio"], 16, 16000)
    wrong = ss.predict_offset(scorer, a["video"], b["audio"], 16, 16000)
    assert right["confidence"] > wrong["confidence"] and right["min_dist"] < wrong["min_dist"]


def test_evaluator_cache_trains_once(tmp_path, monkeypatch, capsys) -> None:
    kw = dict(size=32, steps=3, batch=2, clips=4, seed=0, device="cpu", val_clips=0)
    model, stats = ev.load_or_train_evaluator(tmp_path, **kw)
    err = capsys.readouterr().err                  # minutes of training are announced, not silent
    assert f"evaluator: training once (minutes on a CPU), then cached in {tmp_path}" in err and "trained in" in err
    sidecar = json.loads(next(tmp_path.glob("evaluator-*.json")).read_text())
    weights, _ = cache_paths(tmp_path, "evaluator", sidecar["config"])
    assert weights.exists() and sidecar["stats"]["steps"] == 3 == stats["steps"]

    def boom(*a, **k):
        raise AssertionError("a cached net was retrained")

    monkeypatch.setattr(ev, "train_evaluator", boom)
    again, stats2 = ev.load_or_train_evaluator(tmp_path, **kw)
    assert stats2 == stats and capsys.readouterr().err == ""
    for (k, v), (k2, v2) in zip(model.state_dict().items(), again.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)


def test_training_is_seeded() -> None:
    def weights(train, seed: int) -> dict[str, torch.Tensor]:
        return train(steps=2, batch=2, size=32, clips=4, seed=seed, device="cpu")[0].state_dict()

    for train in (ev.train_evaluator, ss.train_sync_scorer):
        a, b, c = weights(train, 0), weights(train, 0), weights(train, 1)
        assert all(torch.equal(a[k], b[k]) for k in a)
        assert not all(torch.equal(a[k], c[k]) for k in a)


def test_sync_scorer_cache(tmp_path) -> None:
    kw = dict(size=32, steps=2, batch=2, clips=4, seed=0, device="cpu", val_clips=0)
    model, _ = ss.load_or_train_sync_scorer(tmp_path, **kw)
    again, _ = ss.load_or_train_sync_scorer(tmp_path, **kw)
    assert len(list(tmp_path.glob("sync_scorer-*.safetensors"))) == 1
    assert all(torch.equal(v, again.state_dict()[k]) for k, v in model.state_dict().items())


def test_a_damaged_cache_entry_is_trained_again(tmp_path, capsys) -> None:
    """The cache is derived data: a truncated weights file (a failing disk) is said and rebuilt,
    where it raised safetensors' traceback before."""
    from torch import nn

    from synesthete.eval.nets_cache import load_or_train

    trained = []

    def train():
        trained.append(1)
        return nn.Linear(2, 2), {"steps": 1}

    load_or_train(tmp_path, "net", {"a": 1}, lambda: nn.Linear(2, 2), train)
    weights, _ = cache_paths(tmp_path, "net", {"a": 1})
    weights.write_bytes(weights.read_bytes()[:100])
    capsys.readouterr()
    _, stats = load_or_train(tmp_path, "net", {"a": 1}, lambda: nn.Linear(2, 2), train)
    assert stats == {"steps": 1} and len(trained) == 2
    assert f"net: cannot read the cached {weights.name} (" in capsys.readouterr().err
    load_or_train(tmp_path, "net", {"a": 1}, lambda: nn.Linear(2, 2), train)   # whole again: loaded
    assert len(trained) == 2
