"""The procedural music engine: contract, determinism, windowing, musical sense, analysis."""

import json
import math

import librosa
import numpy as np
import pytest
import torch

from synesthete.audio import DESIGNS, FEATURE_INDEX, FEATURES, INSTRUMENTS, NUM_FEATURES, plan_song, render_clip
from synesthete.audio.analysis import detect_onsets, log_mel, onset_strength, pick_peaks
from synesthete.audio.drums import DRUM_DESIGNS, one_shot
from synesthete.audio.score import LOOKBACK_SECONDS, score_window
from synesthete.audio.theory import SCALES
from synesthete.audio.tones import BANK_SECONDS

SR, FPS = 16000, 16
EVENT_NAMES = ("kick", "snare", "clap", "hat", "open_hat", "crash", "riser", "bass", "chord", "lead", "beat",
               "downbeat", "section")
META_KEYS = ("song_seed", "start", "tempo", "key", "key_name", "mode", "meter", "swing", "designs", "sections")
TOLERANCE = 0.03  # seconds: an onset "matches" within +-30 ms


def _drop_start(seed: int) -> float:
    plan = plan_song(seed)
    return next(s.start_bar for s in plan.sections if s.name == "drop") * plan.bar_seconds


def _matched(reference: torch.Tensor, estimate: torch.Tensor) -> torch.Tensor:
    """For each reference time, whether some estimate lies within TOLERANCE, bool [len(reference)]."""
    if len(reference) == 0 or len(estimate) == 0:
        return torch.zeros(len(reference), dtype=torch.bool)
    return (reference[:, None] - estimate[None, :]).abs().amin(1) <= TOLERANCE


# ---- contract -------------------------------------------------------------------------------


@pytest.mark.parametrize("sample_rate,fps,seconds", [(16000, 16, 3.0), (22050, 15, 2.5), (8000, 25, 1.3)])
def test_clip_shapes_dtypes_ranges(sample_rate, fps, seconds):
    clip = render_clip(11, 40.0, seconds, sample_rate, fps)
    length = round(seconds * sample_rate)
    assert clip.audio.shape == (1, length) and clip.audio.dtype == torch.float32
    assert clip.audio.abs().max() <= 1.0 and clip.audio.abs().max() > 0.05
    assert clip.features.shape == (length // (sample_rate // fps), NUM_FEATURES)
    assert clip.features.dtype == torch.float32
    assert clip.features.min() >= 0.0 and clip.features.max() <= 1.0
    assert set(clip.events) == set(EVENT_NAMES)
    for name, times in clip.events.items():
        assert times.dtype == torch.float32 and times.ndim == 1, name
        assert bool((times[1:] >= times[:-1]).all()), name
        assert bool(((times >= 0) & (times < seconds)).all()), name
    assert set(META_KEYS) <= set(clip.meta)
    json.dumps(clip.meta)  # serialisable
    assert clip.meta["sections"] and all(s["start"] < seconds and s["end"] > 0 for s in clip.meta["sections"])


def test_default_clip_is_48000_samples_48_frames():
    clip = render_clip(0, 0.0, 3.0)
    assert clip.audio.shape == (1, 48000) and clip.features.shape == (48, NUM_FEATURES)
    assert FEATURES[FEATURE_INDEX["bar_phase"]] == "bar_phase"


def test_determinism():
    a, b = render_clip(5, 12.5, 3.0), render_clip(5, 12.5, 3.0)
    assert a.audio.numpy().tobytes() == b.audio.numpy().tobytes()
    assert a.features.numpy().tobytes() == b.features.numpy().tobytes()
    assert all(torch.equal(a.events[k], b.events[k]) for k in EVENT_NAMES) and a.meta == b.meta
    c = render_clip(6, 12.5, 3.0)
    assert not torch.equal(a.audio, c.audio)


def test_no_global_rng_use():
    torch.manual_seed(0)
    before = torch.rand(1)
    torch.manual_seed(0)
    render_clip(123, 5.0, 1.0)
    assert torch.equal(torch.rand(1), before)


def test_song_parameters_over_many_seeds():
    plans = [plan_song(seed) for seed in range(300)]
    assert all(70 <= p.tempo <= 180 and 0 <= p.key <= 11 for p in plans)
    assert {p.mode for p in plans} == {"major", "minor"}
    three = sum(p.meter == 3 for p in plans) / len(plans)
    assert {p.meter for p in plans} == {3, 4} and 0.05 < three < 0.3
    assert all(p.swing == 0 or 0.05 <= p.swing <= 0.35 for p in plans) and any(p.swing > 0 for p in plans)
    for name in INSTRUMENTS:  # every design of every instrument gets used
        assert len(DESIGNS[name]) >= 3
        assert {p.designs[name] for p in plans} == set(range(len(DESIGNS[name]))), name
    durations = [p.duration for p in plans]
    assert 90 < min(durations) and max(durations) < 360  # around three minutes
    assert len({tuple(s.name for s in p.sections) for p in plans}) > 2


# ---- windowing ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [2, 9])
def test_adjacent_windows_concatenate(seed):
    t0 = _drop_start(seed) - 4.0  # across a build -> drop boundary: riser, crash, fills
    whole = render_clip(seed, t0, 6.0)
    left, right = render_clip(seed, t0, 3.0), render_clip(seed, t0 + 3.0, 3.0)
    assert torch.allclose(torch.cat([left.audio, right.audio], 1), whole.audio, atol=1e-6)
    assert torch.allclose(torch.cat([left.features, right.features]), whole.features, atol=1e-5)
    for name in EVENT_NAMES:
        joined = torch.cat([left.events[name], right.events[name] + 3.0])
        assert torch.allclose(joined, whole.events[name], atol=1e-4), name


def test_long_render_and_loop():
    plan = plan_song(4)
    clip = render_clip(4, 0.0, 600.0)  # 10 minutes: several passes of the form
    assert clip.audio.shape == (1, 600 * SR) and clip.audio.abs().max() <= 1.0
    names = [s["name"] for s in clip.meta["sections"]]
    assert names[: len(plan.sections)] == names[len(plan.sections) : 2 * len(plan.sections)]
    far = render_clip(4, 431.25, 3.0)  # a window deep into the loop renders on its own, identically
    assert torch.allclose(far.audio[0], clip.audio[0, round(431.25 * SR) : round(434.25 * SR)], atol=1e-6)


def test_window_cost_does_not_depend_on_start():
    plan = plan_song(8)
    early, late = score_window(plan, 0, 3 * SR, SR), score_window(plan, 400 * SR, 403 * SR, SR)
    bars = math.ceil((3.0 + LOOKBACK_SECONDS) / plan.bar_seconds) + 2
    assert len(late.bar_roots) <= bars and len(early.bar_roots) <= bars


def test_lookback_covers_every_sound():
    longest = max(one_shot(k, d, SR, 0).shape[0] for k, ds in DRUM_DESIGNS.items() for d in ds) / SR
    assert max(longest, *BANK_SECONDS.values()) <= LOOKBACK_SECONDS


# ---- the music ------------------------------------------------------------------------------


def test_kicks_and_snares_are_detectable():
    """Every annotated kick/snare has a detected onset within 30 ms, and detections are real."""
    ref_total = ref_hit = est_total = est_hit = 0
    for seed in range(10):
        start = _drop_start(seed) - 6.0  # build, riser and fill into the drop
        clip = render_clip(seed, start, 12.0)
        inner = lambda t: t[(t > 0.05) & (t < 11.95)]  # noqa: E731 - edges lack context
        estimate = inner(detect_onsets(clip.audio, SR))
        drums = inner(torch.cat([clip.events["kick"], clip.events["snare"]]))
        everything = torch.cat([clip.events[k] for k in EVENT_NAMES[:10]])
        ref_total += len(drums)
        ref_hit += int(_matched(drums, estimate).sum())
        est_total += len(estimate)
        est_hit += int(_matched(estimate, everything).sum())
    assert ref_total > 150
    assert ref_hit / ref_total >= 0.9, f"recall {ref_hit}/{ref_total}"
    assert est_hit / est_total >= 0.9, f"precision {est_hit}/{est_total}"


def test_sections_change_energy_and_patterns():
    seed = 2
    plan = plan_song(seed)
    clip = render_clip(seed, 0.0, plan.duration)
    energy = clip.features[:, FEATURE_INDEX["energy"]]
    assert energy.max() - energy.min() > 0.5 and len(torch.unique((energy * 20).round())) >= 4
    names = {s["name"] for s in clip.meta["sections"]}
    assert {"intro", "build", "drop", "outro"} <= names and len(clip.meta["sections"]) >= 6
    # Drum density per section type differs (drop busier than intro / breakdown).
    def rate(name: str, kind: str) -> float:
        spans = [(s["start"], s["end"]) for s in clip.meta["sections"] if s["name"] == name]
        times = clip.events[kind]
        return sum(int(((times >= a) & (times < b)).sum()) for a, b in spans) / sum(b - a for a, b in spans)

    assert rate("drop", "kick") > rate("intro", "kick")
    assert rate("drop", "snare") > rate("intro", "snare")
    # Every drop opens with a crash on its downbeat, right where a riser ends.
    crashes, risers = clip.events["crash"], clip.events["riser"]
    riser_level = clip.features[:, FEATURE_INDEX["riser"]]
    for s in clip.meta["sections"]:
        if s["name"] == "drop":
            assert (crashes - s["start"]).abs().min() < 1e-3
            assert bool((risers < s["start"]).any())
            frame = round(s["start"] * FPS)
            assert riser_level[frame - 2] > 0.8 and riser_level[frame + 1] == 0.0


def test_notes_stay_in_key_and_bass_follows_chords():
    for seed in range(20):
        plan = plan_song(seed)
        score = score_window(plan, 20 * SR, 60 * SR, SR)
        scale = {(plan.key + s) % 12 for s in SCALES[plan.mode]}
        if plan.mode == "minor":
            scale.add((plan.key + 11) % 12)  # the leading tone over V
        pitches = [p for name in ("bass", "chord", "lead") for note in score.parts[name].pitch for p in note]
        assert pitches and {p % 12 for p in pitches} <= scale, seed
        # The bass's first note of each bar is the chord root.
        bass, roots, bars = score.parts["bass"], score.bar_roots, score.bar_starts
        for onset, (midi,) in zip(bass.onset, bass.pitch):
            if onset in bars[:-1]:
                assert midi % 12 == roots[bars.index(onset)]


def test_audio_key_is_recoverable():
    """A chroma key finder (Krumhansl-Kessler profiles) hears the annotated key in the mix."""
    major = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
    minor = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
    tonic = exact = 0
    for seed in range(10):
        plan = plan_song(seed)
        audio = render_clip(seed, _drop_start(seed), 10.0).audio[0].numpy()
        chroma = librosa.feature.chroma_stft(y=audio, sr=SR, n_fft=4096).mean(1)
        _, key, mode = max((np.corrcoef(np.roll(profile, k), chroma)[0, 1], k, m)
                           for m, profile in (("major", major), ("minor", minor)) for k in range(12))
        tonic += key == plan.key
        exact += key == plan.key and mode == plan.mode
    assert tonic >= 9 and exact >= 7, (tonic, exact)


def test_features_follow_the_score():
    clip = render_clip(3, _drop_start(3), 6.0)
    f = clip.features
    for name in ("kick", "snare", "bass"):
        frames = (clip.events[name] * FPS).long()
        assert bool((f[frames, FEATURE_INDEX[name]] > 0.5).all()), name
    beats = (clip.events["beat"] * SR).long()
    assert bool(((beats % (SR // FPS)) < (SR // FPS)).all())
    phase = f[:, FEATURE_INDEX["beat_phase"]]
    wraps = torch.nonzero(phase[1:] < phase[:-1]).flatten() + 1  # frames where a new beat starts
    assert len(wraps) == len(clip.events["beat"][clip.events["beat"] >= 1.0 / FPS])
    assert 0.0 < f[:, FEATURE_INDEX["centroid"]].mean() < 0.5 and f[:, FEATURE_INDEX["rms"]].max() > 0.2


# ---- analysis vs librosa --------------------------------------------------------------------


def test_analysis_matches_librosa():
    y = render_clip(7, 30.0, 4.0).audio[0]
    yn = y.numpy()
    ref_mel = librosa.power_to_db(librosa.feature.melspectrogram(y=yn, sr=SR, n_fft=512, hop_length=160, n_mels=64))
    assert np.abs(log_mel(y, SR, n_mels=64, hop=160, n_fft=512).numpy() - ref_mel).max() < 1e-2
    for hop, n_fft in ((512, 2048), (160, 512)):
        ours = onset_strength(y, SR, hop=hop, n_fft=n_fft).numpy()
        ref = librosa.onset.onset_strength(y=yn, sr=SR, hop_length=hop, n_fft=n_fft)
        assert ours.shape == ref.shape and np.abs(ours - ref).max() < 1e-3 * ref.max()
    ref_env = librosa.onset.onset_strength(y=yn, sr=SR, hop_length=160, n_fft=512)
    ref_frames = librosa.onset.onset_detect(onset_envelope=ref_env, sr=SR, hop_length=160)
    env = torch.from_numpy(ref_env)
    env = (env - env.min()) / (env.max() - env.min())
    assert pick_peaks(env, 3, 1, 10, 11, 0.07, 3).tolist() == ref_frames.tolist()
    ours = detect_onsets(y, SR)
    assert len(ours) == len(ref_frames) and torch.allclose(ours, torch.from_numpy(ref_frames * 0.01).float())
