"""Evaluation metrics on constructed cases with known answers, and AV-Align on one real clip."""

import math
import warnings

import numpy as np
import pytest
import torch

from synesthete.audio.features import FEATURE_INDEX, NUM_FEATURES
from synesthete.eval.av_align import audio_onset_times, av_align, flow_magnitude, video_peak_frames
from synesthete.eval.beat_sync import (
    beat_sync,
    estimate_offset,
    match_events,
    peak_frames,
)
from synesthete.eval.eventness import audio_recall, eventness_report, top_k_anchors
from synesthete.eval.quality import (
    diversity,
    flicker_ratio,
    floored_ratio,
    frechet_distance,
    psnr,
    sharpness_ratio,
    ssim,
)
from synesthete.eval.reactivity import pearson, reactivity
from synesthete.eval.semantics import mode_auc, mode_correct, palette_temperature, semantics, spearman
from synesthete.visualizers.palette import hsv_to_rgb, sample_palette

FPS, SR, T, SIZE = 16, 16000, 96, 64


pytestmark = pytest.mark.usefixtures("one_thread")


def click_frames(seed: int = 0) -> np.ndarray:
    """Irregular onsets (gaps of 6-10 frames), so no shift of a few frames lines them up again."""
    rng = np.random.default_rng(seed)
    out, k = [], 4
    while k < T - 2:
        out.append(k)
        k += int(rng.integers(6, 11))
    return np.asarray(out)


def click_track(frames: np.ndarray) -> np.ndarray:
    """A 1 kHz click 0.2 frames into each onset frame, on faint noise: float32 [L]."""
    rng = np.random.default_rng(1)
    audio = 1e-4 * rng.standard_normal(T * SR // FPS).astype(np.float32)
    n = np.arange(int(0.02 * SR))
    click = 0.8 * np.sin(2 * np.pi * 1000 * n / SR) * np.exp(-n / (0.004 * SR))
    for f in frames:
        start = int((f + 0.2) / FPS * SR)
        audio[start:start + len(n)] += click.astype(np.float32)
    return audio


def jumping_square(frames: np.ndarray, shift: int = 0) -> torch.Tensor:
    """A textured square that jumps to a new place (and flashes) on each onset frame + shift."""
    rng = np.random.default_rng(2)
    tex = rng.integers(0, 200, (16, 16, 3)).astype(np.float32)
    hits = set((frames + shift).tolist())
    video = np.full((T, SIZE, SIZE, 3), 20.0, np.float32)
    pos, flash = 0, 0.0
    for t in range(T):
        if t in hits:
            pos, flash = pos + 1, 50.0
        x, y = 4 + (pos * 13) % 40, 6 + (pos * 29) % 40
        video[t, y:y + 16, x:x + 16] = tex + flash
        flash *= 0.5
    return torch.from_numpy(np.clip(video, 0, 255).astype(np.uint8)).permute(0, 3, 1, 2)


@pytest.fixture(scope="module")
def clicks():
    frames = click_frames()
    return frames, click_track(frames), {"kick": (frames + 0.2) / FPS}


def test_synced_video_scores_high(clicks):
    frames, audio, events = clicks
    video = jumping_square(frames)
    assert list(video_peak_frames(flow_magnitude(video))) == list(frames)
    a = av_align(video, audio, SR, FPS)
    assert a["score"] > 0.7 and a["audio_peaks"] == len(frames)
    b = beat_sync(video, events, FPS)
    assert b["f1"] > 0.7 and b["brightness_f1"] > 0.7
    assert b["offset_ms"] == 0.0


def test_shifted_video_scores_low(clicks):
    frames, audio, events = clicks
    video = jumping_square(frames, shift=4)
    assert av_align(video, audio, SR, FPS)["score"] < 0.3
    b = beat_sync(video, events, FPS)
    assert b["f1"] < 0.3
    assert b["offset_ms"] == pytest.approx(4 * 1000 / FPS)  # the picture is 4 frames late


def test_static_video_scores_zero(clicks):
    frames, audio, events = clicks
    static = jumping_square(frames)[:1].repeat(T, 1, 1, 1)
    assert av_align(static, audio, SR, FPS)["score"] == 0.0
    b = beat_sync(static, events, FPS)
    assert b["f1"] == 0.0 and b["peaks"] == 0 and math.isnan(b["offset_ms"])


def test_the_truths_own_render_is_in_sync_at_a_tempo_whose_half_beat_is_whole_frames():
    """At 120 bpm and 16 fps half a beat is exactly 4 frames, where the tunnel's motion on the offbeats
    matched as well as on the kicks: `eval --run` searched +-4 and scored the truth 250 ms late."""
    from synesthete.config import DataConfig
    from synesthete.data import VAL_INDEX_BASE, make_clip
    from synesthete.eval.beat_sync import within_half_beat
    from synesthete.eval.clip_metrics import clip_metrics

    assert [within_half_beat(t, 16) for t in (120, 111, 132, 180, 60)] == [3, 4, 3, 2, 7]
    cfg = DataConfig(seconds=6.0, visualizers=["geometry", "tunnel", "particles", "rings"])   # `quick`'s
    clip = make_clip(cfg, VAL_INDEX_BASE + 3)
    assert clip["meta"]["tempo"] == 120 and clip["meta"]["visualizer"] == "tunnel"
    scores = clip_metrics(clip["video"], clip, cfg.fps, cfg.sample_rate)
    assert scores["offset_ms"] == 0.0
    assert scores["tempo_accuracy"] == 1.0                  # it moves at the song's pace


def test_onset_offset_finds_music_renders_in_sync_and_a_known_shift():
    """`eval --video` has only detected onsets, one every 2-4 frames in a song (hats, notes), and a
    lag of one spacing matches about as well as none. A plain +-6 frame search put the visualizer's
    own in-sync render of validation songs 0-7 within a frame of 0 on 2 of them."""
    from synesthete.config import DataConfig
    from synesthete.data import VAL_INDEX_BASE, make_clip
    from synesthete.eval.av_align import audio_onsets
    from synesthete.eval.beat_sync import onset_offset
    from synesthete.eval.sync_scorer import shift_video

    cfg = DataConfig(seconds=8.0)
    hits = {0: 0, 2: 0}
    for i in range(8):
        clip = make_clip(cfg, VAL_INDEX_BASE + i)
        times, strengths = audio_onsets(clip["audio"], cfg.sample_rate)
        for shift in hits:
            ms, window = onset_offset(flow_magnitude(shift_video(clip["video"], shift)), times, strengths, cfg.fps)
            hits[shift] += abs(ms - shift * 62.5) <= 62.5
            assert 1 <= window <= 6
    assert hits[0] >= 7 and hits[2] >= 6, hits


def test_onset_offset_takes_a_lag_past_its_window_that_lines_up_clearly_better(clicks):
    """Irregular onsets 6-10 frames apart (a window of 3), the picture 4 frames late: a clear match."""
    from synesthete.eval.beat_sync import onset_offset

    frames, audio, _ = clicks
    times = frames / FPS + 0.01
    motion = flow_magnitude(jumping_square(frames, shift=4))
    assert onset_offset(motion, times, np.ones(len(times)), FPS) == (250.0, 3)
    assert onset_offset(motion, times, np.ones(len(times)), FPS, max_lag=3)[0] != 250.0


@pytest.mark.parametrize("shift", [3, -2])
def test_estimate_offset_recovers_shift(shift):
    frames = click_frames(seed=3)
    signal = np.zeros(T)
    for f in frames:  # a decaying response to each onset, moved by `shift` frames, plus noise
        for k, amp in enumerate((1.0, 0.5, 0.25)):
            if 0 <= f + shift + k < T:
                signal[f + shift + k] += amp
    signal += 0.05 * np.random.default_rng(4).standard_normal(T)
    assert estimate_offset(signal, frames, FPS, max_lag=6) == pytest.approx(shift * 1000 / FPS)


def test_peaks_and_one_to_one_matching():
    assert list(peak_frames(np.array([0, 1, 0, 2, 2, 0, 0.05, 0, 3]))) == [1, 3, 8]  # 0.05 < 10 % of max
    # two events next to one peak: only one of them is matched
    assert match_events(np.array([10]), np.array([9, 11]), tol=1) == [(9, 10)]


def test_eventness_finds_planted_loud_seconds():
    seconds, loud = 10, (3, 7)
    rng = np.random.default_rng(5)
    audio = 0.01 * rng.standard_normal(seconds * SR).astype(np.float32)
    for s in loud:
        audio[s * SR:(s + 1) * SR] *= 40.0
    motion = np.full(seconds * FPS, 0.2, np.float32)
    for s in loud:
        motion[s * FPS:(s + 1) * FPS] = 3.0
    video = torch.zeros(seconds * FPS, 3, 8, 8, dtype=torch.uint8)  # only its length is used
    events = {"crash": [3.1, 7.4], "section": [7.0]}
    r = eventness_report(video, audio, SR, FPS, events, k=2, radius=1, delta=1, magnitude=motion)
    assert r["audio_recall@2"] == 1.0 and r["visual_recall@2"] == 1.0 and r["av_agreement"] == 1.0
    assert r["truth_events"] == 2
    alone = audio_recall(audio, SR, events, seconds, k=2)      # the audio side alone agrees
    assert alone == {k: r[k] for k in ("audio_recall@2", "audio_recall@2,1", "truth_events")}
    quiet = audio_recall(audio[: 3 * SR], SR, events, 3, k=2)  # the loud seconds cut off: no truth
    assert quiet["truth_events"] == 0 and math.isnan(quiet["audio_recall@2"])
    assert list(top_k_anchors(np.array([0.0, 5, 4, 0, 3, 0]), k=3, radius=1)) == [1, 4]  # 2 is suppressed


def test_reactivity_follows_kick():
    frames = click_frames()
    kick = np.zeros(T, np.float32)
    for f in frames:
        kick[f:f + 6] = 0.6 ** np.arange(min(6, T - f))
    feats = np.zeros((T, NUM_FEATURES), np.float32)
    feats[:, FEATURE_INDEX["kick"]] = kick
    video = torch.from_numpy(20 + 200 * kick).to(torch.uint8)[:, None, None, None].expand(T, 3, 16, 16)
    r = reactivity(video, feats)
    assert r["kick~brightness"] > 0.99 and r["reactivity"] > 0.99
    static = reactivity(video[:1].expand(T, 3, 16, 16), feats)
    assert static["reactivity"] == 0.0 and static["kick~brightness"] == 0.0
    assert pearson(np.ones(10), np.arange(10)) == 0.0


def test_semantics_reads_mode_and_tempo():
    def flat(rgb):
        return torch.tensor(rgb, dtype=torch.float32)[None, :, None, None].expand(4, 3, 8, 8)

    for mode in ("major", "minor"):  # the visualizers' palettes have the expected temperature
        gen = torch.Generator().manual_seed(0)
        for _ in range(20):
            rgb = hsv_to_rgb(torch.tensor(sample_palette(gen, mode)))
            assert (palette_temperature(rgb[:, :, None, None].expand(4, 3, 8, 8)) > 0) == (mode == "major")
    clips = [(flat([0.9, 0.4, 0.1]), {"mode": "major", "tempo": 120}),
             (flat([0.1, 0.4, 0.9]), {"mode": "minor", "tempo": 90}),
             (flat([0.1, 0.4, 0.9]), {"mode": "major", "tempo": 100})]
    assert semantics(clips)["mode_accuracy"] == pytest.approx(2 / 3)
    assert semantics(clips)["mode_auc"] == pytest.approx(0.75)   # the warm major above the minor, the cool one tied
    # a picture cool for every song but less cool for the major ones: accuracy a coin's, the ranking perfect
    temps, modes = [-0.05, -0.04, -0.20, -0.30], ["major", "ionian", "minor", "dorian"]
    assert mode_correct(temps[0], modes[0]) is False and mode_auc(temps, modes) == 1.0
    assert mode_auc(temps[::-1], modes) == 0.0 and mode_auc([0.0] * 4, modes) == 0.5
    assert np.isnan(mode_auc(temps[:2], modes[:2]))                  # one mode only: nothing to rank
    assert spearman(np.array([1, 2, 3, 4]), np.array([10, 20, 25, 100])) == pytest.approx(1.0)


def test_psnr_ssim():
    rng = np.random.default_rng(6)
    img = torch.from_numpy(rng.random((2, 3, 32, 32), dtype=np.float32))
    assert ssim(img, img) == pytest.approx(1.0, abs=1e-5)
    assert psnr(img, img) == pytest.approx(100.0)
    noisy = (img + 0.2 * torch.from_numpy(rng.standard_normal(img.shape).astype(np.float32))).clamp(0, 1)
    assert ssim(img, noisy) < 0.9
    # flat images a, b: no variance, so SSIM = (2ab + C1) / (a^2 + b^2 + C1); MSE 0.01 -> 20 dB
    a, b = torch.full((1, 3, 16, 16), 0.5), torch.full((1, 3, 16, 16), 0.4)
    assert ssim(a, b) == pytest.approx((2 * 0.2 + 1e-4) / (0.25 + 0.16 + 1e-4), rel=1e-4)
    assert psnr(a, b) == pytest.approx(20.0, abs=1e-3)


def test_sharpness_flicker_diversity():
    video = jumping_square(click_frames())
    blurred = torch.nn.functional.avg_pool2d(video.float(), 5, stride=1, padding=2).to(torch.uint8)
    assert sharpness_ratio(blurred, video) < 1.0
    assert sharpness_ratio(video, video) == pytest.approx(1.0)
    assert flicker_ratio(video, video) == pytest.approx(1.0)
    assert flicker_ratio(video[:1].repeat(T, 1, 1, 1), video) == 0.0
    assert diversity([video, video]) == 0.0 and diversity([video, blurred]) > 0.0
    # a still truth has no flicker: the ratio to it stays finite
    assert math.isfinite(flicker_ratio(video, video[:1].repeat(T, 1, 1, 1)))


def test_floored_ratio_floats_arrays_and_zero():
    assert floored_ratio(1.0, 4.0) == 0.25 and isinstance(floored_ratio(1.0, 4.0), float)
    assert floored_ratio(1.0, 0.0) == pytest.approx(1e12)
    assert math.isnan(floored_ratio(float("nan"), 2.0)) and math.isnan(floored_ratio(1.0, float("nan")))
    np.testing.assert_allclose(floored_ratio(np.array([1.0, 2.0]), np.array([2.0, 0.0])), [0.5, 2e12])


def test_frechet_distance():
    feats = np.random.default_rng(7).standard_normal((200, 8))
    assert frechet_distance(feats, feats) == pytest.approx(0.0, abs=1e-8)
    shift = np.full(8, 0.5)  # same covariance, so the distance is |shift|^2
    assert frechet_distance(feats, feats + shift) == pytest.approx(float(shift @ shift), rel=1e-6)
    assert frechet_distance(feats, 2 * feats) > 0.0


def test_ground_truth_clip_beats_static():
    from synesthete.config import DataConfig
    from synesthete.data import make_clip
    from synesthete.data.procedural import VAL_INDEX_BASE

    clip = make_clip(DataConfig(seconds=6.0), VAL_INDEX_BASE + 0)
    video, audio = clip["video"], clip["audio"]
    truth = av_align(video, audio, SR, FPS)["score"]
    static = av_align(video[:1].repeat(len(video), 1, 1, 1), audio, SR, FPS)["score"]
    assert static == 0.0 and truth > 0.3


def test_paired_bootstrap_intervals():
    from synesthete.eval.uncertainty import intervals, paired_bootstrap

    rng = np.random.default_rng(0)
    base = rng.uniform(0.3, 0.7, 8)                       # songs differ a lot from each other
    better = base + 0.1 + rng.normal(0, 0.01, 8)          # a small margin, consistent on every song
    paired = paired_bootstrap(better, base)
    assert paired["value"] == pytest.approx(0.1, abs=0.01) and paired["ci95"][0] > 0.08
    # unpaired, the songs' spread would swamp the margin: the pairing is what makes it sure
    shuffled = paired_bootstrap(better, rng.permutation(base))
    assert shuffled["ci95"][1] - shuffled["ci95"][0] > 5 * (paired["ci95"][1] - paired["ci95"][0])
    assert paired_bootstrap(better, base) == paired                 # deterministic
    ratio = paired_bootstrap(2 * base, base, ratio=True)
    assert ratio["value"] == pytest.approx(2.0) and ratio["ci95"] == pytest.approx([2.0, 2.0])
    nan = paired_bootstrap([1.0, float("nan"), 3.0], [0.0, 1.0, 1.0])
    assert nan["songs"] == 2 and nan["value"] == pytest.approx(1.5)
    assert paired_bootstrap([], [])["songs"] == 0

    row = lambda a, s: {"av_align": a, "beat_f1": a, "sharpness": s}  # noqa: E731
    per_clip = {"ground_truth": [row(0.6, 100.0), row(0.7, 200.0)], "model": [row(0.5, 50.0), row(0.7, 100.0)],
                "shuffled_audio": [row(0.2, 50.0), row(0.3, 100.0)]}
    iv = intervals(per_clip)
    assert iv["sharpness_ratio"]["model"]["value"] == pytest.approx(150 / 300)
    assert "mode_auc" not in iv                                     # no modes given
    assert iv["av_align_to_truth"]["model"]["value"] == pytest.approx(1.2 / 1.3)
    assert iv["av_align_margin"]["shuffled_audio"]["value"] == pytest.approx(0.35)
    assert "null_audio" not in iv["av_align_margin"] and "ground_truth" not in iv["av_align_to_truth"]
    assert "av_align_truth_margin" not in iv                    # no mismatched truth scored
    per_clip["mismatched_truth"] = [row(0.4, 80.0), row(0.4, 90.0)]
    iv = intervals(per_clip)
    assert iv["av_align_truth_margin"]["mismatched_truth"]["value"] == pytest.approx(0.25)   # truth 0.65 - 0.4
    assert iv["av_align_margin"]["mismatched_truth"]["value"] == pytest.approx(0.2)          # model 0.6 - 0.4
    assert "reactivity_truth_margin" not in iv              # not scored in these rows (an older evaluation)
    for r in per_clip["ground_truth"] + per_clip["mismatched_truth"]:
        r["reactivity"] = 0.7                                 # a metric at chance on these songs
    assert intervals(per_clip)["reactivity_truth_margin"]["mismatched_truth"]["ci95"] == [0.0, 0.0]


def test_mode_auc_over_resamples_and_its_interval():
    from synesthete.eval.semantics import auc, is_major
    from synesthete.eval.uncertainty import bootstrap, intervals

    rng = np.random.default_rng(1)
    temps, modes = rng.normal(size=(50, 10)), ["major", "minor"] * 5
    rows = auc(temps, np.broadcast_to(is_major(modes), temps.shape))
    assert rows.shape == (50,) and rows == pytest.approx([mode_auc(t, modes) for t in temps])
    assert np.isnan(auc(temps[:2], np.ones((2, 10), bool))).all()      # one kind only: undefined
    # four songs: an eighth of the resamples draw a single mode; they are left out, not a NaN interval
    r = bootstrap(auc, [0.3, 0.2, -0.1, -0.4], [1.0, 1.0, 0.0, 0.0])
    assert r["value"] == 1.0 and r["ci95"] == [1.0, 1.0]
    assert np.isnan(bootstrap(lambda x: x.mean(-1) * np.nan, [1.0, 2.0])["ci95"]).all()

    row = lambda t: {"av_align": 0.5, "beat_f1": 0.5, "sharpness": 1.0, "temperature": t}  # noqa: E731
    songs = [{"mode": m} for m in ("major", "minor", "major", "minor")]
    per_clip = {"ground_truth": [row(t) for t in (0.5, -0.5, 0.4, -0.3)],
                "model": [row(t) for t in (-0.1, -0.2, -0.1, -0.1)]}   # cool; one minor cooler, one tied
    iv = intervals(per_clip, songs)["mode_auc"]
    assert iv["ground_truth"]["value"] == 1.0 and iv["model"]["value"] == 0.75
    assert "mode_auc" not in intervals(per_clip, [{"mode": "major"}] * 4)


def test_by_visualizer_splits_the_songs_by_look():
    from synesthete.eval.breakdown import by_visualizer, by_visualizer_table

    row = lambda a, s: {"av_align": a, "beat_f1": a, "sharpness": s}  # noqa: E731
    clips = [{"visualizer": "strobe"}, {"visualizer": "tunnel"}, {"visualizer": "strobe"}]
    per_clip = {"ground_truth": [row(0.6, 100.0), row(0.8, 20.0), row(0.8, 300.0)],
                "model": [row(0.5, 50.0), row(0.7, 40.0), row(0.9, 150.0)],
                "shuffled_audio": [row(0.2, 50.0), row(0.6, 40.0), row(0.4, 150.0)],
                "mismatched_truth": [row(0.3, 20.0), row(0.8, 100.0), row(0.3, 300.0)]}
    looks = by_visualizer(per_clip, clips)
    assert list(looks) == ["strobe", "tunnel"] and looks["strobe"]["songs"] == 2
    assert looks["strobe"]["av_align"]["model"] == pytest.approx(0.7)
    assert looks["tunnel"]["av_align"]["shuffled_audio"] == pytest.approx(0.6)
    assert looks["strobe"]["sharpness_ratio"]["model"] == pytest.approx(200 / 400)   # a ratio of the look's means
    assert looks["tunnel"]["sharpness_ratio"]["model"] == pytest.approx(2.0)
    table = by_visualizer_table(looks)
    assert "| strobe | 2 | 0.700 | 0.700 | +0.400 | +0.400 |" in table      # truth - mismatched, model - shuffled
    assert "| tunnel | 1 | 0.800 | 0.700 | +0.000 | +0.100 |" in table
    assert "model - null" not in table                                        # no null audio scored here


def _strict_json(text: str):
    """Parse as RFC 8259 JSON: NaN / Infinity are refused, as JavaScript's JSON.parse would."""
    import json

    def refuse(token):
        raise ValueError(f"not JSON: {token}")
    return json.loads(text, parse_constant=refuse)


def test_eval_video_cli_scores_any_mp4_as_strict_json(clicks, tmp_path, capsys, monkeypatch):
    """`synesthete eval --video`: a synced mp4 scores high, the same 4 frames late low, a silent
    track gives null (not NaN) where there is nothing to score, a video without audio is one line,
    said before the sync scorer is loaded (or trained, minutes). The learned sync scorer's figures
    come with it (an untrained stand-in here: its accuracy is tested in test_eval_nets.py), and not
    with --no-nets."""
    from synesthete.cli import main as cli_main
    from synesthete.eval import sync_scorer as ss
    from synesthete.media import write_av

    loaded = []

    def stand_in(cache_dir, device=None):
        loaded.append(cache_dir)
        return ss.SyncScorer(), {"val": {"acc_1": 0.5}}

    monkeypatch.setattr(ss, "load_or_train_sync_scorer", stand_in)

    frames, audio, _ = clicks
    track = torch.from_numpy(audio)[None]
    write_av(tmp_path / "synced.mp4", jumping_square(frames), FPS, track, SR)
    write_av(tmp_path / "late.mp4", jumping_square(frames, shift=4), FPS, track, SR)
    write_av(tmp_path / "mute.mp4", jumping_square(frames), FPS)
    write_av(tmp_path / "silent.mp4", jumping_square(frames), FPS, torch.zeros_like(track), SR)
    scores = {}
    for name in ("synced", "late", "silent"):
        assert cli_main(["eval", "--video", str(tmp_path / f"{name}.mp4")]) == 0
        scores[name] = _strict_json(capsys.readouterr().out)
    # h264 adds a few small motion peaks of its own (0.67 here against 1.0 on the raw frames)
    assert scores["synced"]["av_align"] > 0.5 and scores["late"]["av_align"] < 0.2
    assert scores["synced"]["onset_f1"] == 1.0 and scores["late"]["onset_f1"] == 0.0
    assert scores["synced"]["fps"] == FPS and scores["synced"]["frames"] == T
    assert scores["synced"]["frame_size"] == [SIZE, SIZE]             # under 256 px: read as it is
    assert scores["synced"]["audio_onsets"] == len(frames)
    assert scores["synced"]["offset_ms"] == 0.0 and scores["late"]["offset_ms"] == 4 * 1000 / FPS   # 4 frames late
    silent = scores["silent"]
    assert silent["audio_onsets"] == 0 and silent["onset_f1"] is None and silent["tempo_bpm"] is None
    assert scores["synced"]["motion_tempo_bpm"] > 0      # the square moves (at the clicks' irregular pace)
    learned = scores["synced"]["sync_scorer"]
    assert learned["frames"] == T and learned["fps"] == 16 and learned["val_offset_accuracy_1"] == 0.5
    assert abs(learned["offset_frames"]) <= 6 and learned["offset_ms"] == learned["offset_frames"] * 62.5
    assert learned["confidence"] >= 0 and str(loaded[0]) == "runs/eval_nets"
    assert cli_main(["eval", "--video", str(tmp_path / "synced.mp4"), "--no-nets"]) == 0
    assert "sync_scorer" not in _strict_json(capsys.readouterr().out) and len(loaded) == 3
    assert cli_main(["eval", "--video", str(tmp_path / "mute.mp4")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no audio track" in err and "\n" not in err
    assert len(loaded) == 3                             # a file it cannot score never waits on the scorer


def test_eval_video_reads_large_frames_at_256_px(tmp_path, capsys):
    """Farneback's window is fixed in pixels: an HD video is scored at 256 px on its short side."""
    from synesthete.cli import main as cli_main
    from synesthete.media import write_av

    video = torch.randint(0, 255, (16, 3, 288, 512), generator=torch.Generator().manual_seed(0)).to(torch.uint8)
    write_av(tmp_path / "hd.mp4", video, FPS, 0.1 * torch.randn(1, SR, generator=torch.Generator().manual_seed(1)), SR)
    assert cli_main(["eval", "--video", str(tmp_path / "hd.mp4"), "--no-nets"]) == 0
    assert _strict_json(capsys.readouterr().out)["frame_size"] == [256, 455]


def test_eval_video_reads_a_chunk_at_a_time_with_the_figures_of_the_whole(clicks, tmp_path, monkeypatch):
    """`eval --video` reduces each chunk of frames as it is decoded (bounded memory): any chunk size
    gives the figures of the metrics run on the whole decoded video, the sync scorer's included."""
    from synesthete.eval import sync_scorer as ss
    from synesthete.eval import video_file
    from synesthete.media import read_av, write_av

    frames, audio, _ = clicks
    write_av(tmp_path / "synced.mp4", jumping_square(frames), FPS, torch.from_numpy(audio)[None], SR)
    scorer = (ss.SyncScorer(), {"val": {"acc_1": 0.5}})
    runs = []
    for chunk in (T, 7, 1):                                              # frames per chunk
        monkeypatch.setattr(video_file, "CHUNK_BYTES", chunk * 3 * SIZE * SIZE)
        runs.append(video_file.eval_video(tmp_path / "synced.mp4", load_scorer=lambda: scorer))
    assert runs[0] == runs[1] == runs[2]
    whole = read_av(tmp_path / "synced.mp4")
    wave = whole.audio.mean(0, keepdim=True)
    assert runs[0]["av_align"] == av_align(whole.video, wave, whole.sample_rate, FPS)["score"] > 0.5
    assert runs[0]["onset_f1"] == beat_sync(whole.video, audio_onset_times(wave, whole.sample_rate), FPS)["f1"] == 1.0
    direct = ss.score_any_video(scorer[0], whole.video, FPS, wave, whole.sample_rate)
    assert runs[0]["sync_scorer"]["offset_frames"] == direct["offset_frames"]
    assert runs[0]["sync_scorer"]["confidence"] == pytest.approx(direct["confidence"])


def test_eval_video_reads_a_variable_frame_rate_video_at_its_nominal_rate(clicks, tmp_path):
    """A recording that drops frames 40-51 (FFmpeg's select, kept variable-rate) is read at 16 fps with
    the last frame held through the gap, so every frame keeps its time: in sync, as its source. Read as
    stored (84 frames taken as 14 fps) the frames after the gap came early: onset F1 0.43, offset 71 ms."""
    import subprocess

    from synesthete.eval.video_file import eval_video
    from synesthete.media import VideoReader, read_av, write_av

    frames, audio, _ = clicks
    write_av(tmp_path / "synced.mp4", jumping_square(frames), FPS, torch.from_numpy(audio)[None], SR)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(tmp_path / "synced.mp4"), "-vf",
                    r"select=not(between(n\,40\,51))", "-fps_mode", "vfr", "-c:a", "copy",
                    str(tmp_path / "dropped.mp4")], check=True)
    reader = VideoReader(tmp_path / "dropped.mp4")
    assert (reader.fps, len(reader)) == (FPS, T)
    video, source = reader.read_all(), read_av(tmp_path / "synced.mp4").video
    assert torch.equal(torch.cat(list(reader.chunks(7))), video)
    assert all(torch.equal(video[i], video[39]) for i in range(40, 52))          # held through the gap
    kept = [*range(40), *range(52, T)]
    assert (video[kept].float() - source[kept].float()).abs().mean() < 3         # the rest at its own time
    scores = eval_video(tmp_path / "dropped.mp4")
    assert scores["fps"] == FPS and scores["frames"] == T
    assert scores["offset_ms"] == 0.0 and scores["onset_precision"] == 1.0
    assert scores["onset_recall"] == 11 / 12                                     # the click at frame 45 was dropped


def test_eval_video_lines_up_streams_that_start_apart(clicks, tmp_path, capsys):
    """A stream-copied edit that starts the picture 250 ms (4 frames) after the sound, or the sound
    after the picture, is played that way: scored as the same shift rendered into the frames, where
    reading both streams from their first sample scored it in sync. Audio that ends before the first
    frame is one line."""
    import subprocess

    from synesthete.cli import main as cli_main
    from synesthete.eval.video_file import eval_video
    from synesthete.media import write_av

    frames, audio, _ = clicks
    track = torch.from_numpy(audio)[None]
    write_av(tmp_path / "synced.mp4", jumping_square(frames), FPS, track, SR)
    write_av(tmp_path / "late.mp4", jumping_square(frames, shift=4), FPS, track, SR)

    def copy(out, offset, delayed):           # input `delayed` (0 video, 1 audio) starts `offset` s later
        inputs = [["-itsoffset", str(offset)] if i == delayed else [] for i in (0, 1)]
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *inputs[0], "-i", str(tmp_path / "synced.mp4"),
                        *inputs[1], "-i", str(tmp_path / "synced.mp4"), "-map", "0:v", "-map", "1:a", "-c", "copy",
                        str(tmp_path / out)], check=True)
    copy("video_late.mp4", 0.25, 0)
    copy("audio_late.mp4", 0.25, 1)
    copy("video_after_audio.mp4", 10.0, 0)
    synced, late = eval_video(tmp_path / "synced.mp4"), eval_video(tmp_path / "late.mp4")
    video_late, audio_late = eval_video(tmp_path / "video_late.mp4"), eval_video(tmp_path / "audio_late.mp4")
    assert synced["audio_start_ms"] == 0.0 and synced["offset_ms"] == 0.0
    assert video_late["audio_start_ms"] == -250.0
    assert video_late["offset_ms"] == late["offset_ms"] == 250.0                 # the picture 4 frames late
    assert video_late["onset_f1"] == late["onset_f1"] == 0.0
    assert audio_late["audio_start_ms"] > 0                                      # 250, less AAC's priming
    assert audio_late["offset_ms"] == -250.0 and audio_late["onset_f1"] == 0.0   # the picture 4 frames early
    assert cli_main(["eval", "--video", str(tmp_path / "video_after_audio.mp4"), "--no-nets"]) == 2
    err = capsys.readouterr().err.strip()
    assert "audio track ends before its first video frame" in err and "\n" not in err


def test_scorer_frames_pick_the_nearest_frame_at_any_rate_in_any_chunks():
    """The sync scorer's 16 fps frames of a 24 fps video: frame j is source frame round(1.5 j), the
    same however the video arrives, floor(T x 16 / 24) of them."""
    from synesthete.eval.sync_scorer import ScorerFrames, SyncScorer

    model = SyncScorer(size=8)
    video = torch.arange(25, dtype=torch.uint8)[:, None, None, None].expand(25, 3, 8, 8)   # frame i is all i
    picked = []
    for chunk in (25, 4, 1):
        frames = ScorerFrames(24.0, model)
        for i in range(0, 25, chunk):
            frames.add(video[i:i + chunk])
        picked.append(frames.frames()[:, 0, 0, 0].tolist())
    assert picked[0] == picked[1] == picked[2] == [0, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 23]
    slow = ScorerFrames(8.0, model)            # 5 frames at 8 fps: each twice, the last time rounded past the end
    slow.add(video[:5])
    assert slow.frames()[:, 0, 0, 0].tolist() == [0, 1, 1, 2, 2, 3, 3, 4, 4, 4]


def test_json_output_writes_null_for_nan():
    from synesthete import jsonout

    value = {"a": float("nan"), "b": [np.float32(1.5), np.float64(np.inf)], "c": np.int64(3),
             "d": torch.tensor([1.0, float("nan")]), "e": None, "f": True, "g": "x"}
    assert _strict_json(jsonout.dumps(value)) == {"a": None, "b": [1.5, None], "c": 3, "d": [1.0, None],
                                                  "e": None, "f": True, "g": "x"}


def test_a_still_picture_has_no_motion_and_no_event_anchors():
    """Farneback reports a constant 0.011 px between this plasma frame and itself, above STILL_PX:
    every second then tied as an "event", and a still video found the crash and agreed with the audio."""
    from synesthete.config import DataConfig
    from synesthete.data import VAL_INDEX_BASE, make_clip

    clip = make_clip(DataConfig(seconds=2.0), VAL_INDEX_BASE + 27)
    still = clip["video"][:1].repeat(32, 1, 1, 1)
    assert not flow_magnitude(still).any()
    r = eventness_report(still, clip["audio"], DataConfig().sample_rate, 16, {"crash": [0.5]})
    assert r["audio_recall@3,1"] == 1.0        # the audio side is unchanged: it finds the crash
    assert r["visual_recall@3,1"] == 0.0 and r["av_agreement"] == 0.0


def test_motion_tempo_finds_the_pace_a_picture_pulses_at():
    """Per clip, does the picture move at the song's pace? Its motion read as an onset envelope."""
    from synesthete.eval.semantics import motion_tempo, tempo_matches

    for tempo in (96, 120, 132, 150):
        pulses = np.round(np.arange(0, 128, 60 * FPS / tempo)).astype(int)
        motion = np.full(128, 0.5, np.float32)
        motion[pulses] = 3.0
        estimate = motion_tempo(motion, FPS)
        assert tempo_matches(estimate, tempo, FPS), (tempo, estimate)
        assert not tempo_matches(estimate, tempo * 4 / 3, FPS), (tempo, estimate)
    # half or double is the same pace at another metrical level; a beat period of 8 frames is 120 bpm
    assert tempo_matches(60.0, 120, FPS) and tempo_matches(240.0, 120, FPS) and not tempo_matches(90.0, 120, FPS)
    still = motion_tempo(np.zeros(128, np.float32), FPS)      # librosa alone would answer its prior, 120
    assert math.isnan(still) and not tempo_matches(still, 120, FPS)


def test_eval_video_reads_no_tempo_from_a_second(clicks, tmp_path, capsys):
    """From 1 s librosa's tempo is mostly its prior's answer; `eval --video` says null, not a number."""
    from synesthete.cli import main as cli_main
    from synesthete.media import write_av

    frames, audio, _ = clicks
    for seconds in (1, 6):
        n = seconds * FPS
        track = torch.from_numpy(audio[: n * SR // FPS])[None]
        write_av(tmp_path / f"{seconds}.mp4", jumping_square(frames)[:n], FPS, track, SR)
        assert cli_main(["eval", "--video", str(tmp_path / f"{seconds}.mp4"), "--no-nets"]) == 0
        out = _strict_json(capsys.readouterr().out)
        assert (out["tempo_bpm"] is None, out["motion_tempo_bpm"] is None) == (seconds == 1,) * 2, out


def test_audio_shorter_than_an_onset_window_has_no_onsets_and_no_warning(clicks):
    """Under librosa's 2048-sample window (93 ms at 22.05 kHz) it warns and answers from its zero
    padding; a video's frame or two of audio has no onsets instead, and nothing on stderr."""
    _, audio, _ = clicks
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(audio_onset_times(audio[: SR // FPS], SR)) == 0           # one frame, 62.5 ms
        assert len(audio_onset_times(audio[: int(0.09 * SR)], SR)) == 0     # 90 ms, just under
    assert len(audio_onset_times(audio, SR)) > 0
