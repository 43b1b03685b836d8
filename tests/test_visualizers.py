"""Visualizers: the contract (shapes, determinism, windowing) and the audio -> video mappings."""

import json

import pytest
import torch

from synesthete.audio.features import FEATURE_INDEX, NUM_FEATURES
from synesthete.visualizers import REGISTRY, get_visualizer
from synesthete.visualizers.synthetic import beat_grid

NAMES = sorted(REGISTRY)
ACTIVATIONS = ("kick", "snare", "clap", "hat", "crash", "riser", "bass", "chord", "lead")


pytestmark = pytest.mark.usefixtures("one_thread")


def style_of(name: str, seed: int = 0, mode: str = "minor", tempo: float = 120.0) -> dict:
    return get_visualizer(name).sample_style(torch.Generator().manual_seed(seed), mode, tempo)


def frame_diff(video: torch.Tensor) -> torch.Tensor:
    """Mean absolute change of each frame from the previous one: [T] (entry 0 is 0)."""
    v = video.float()
    d = torch.zeros(v.shape[0])
    d[1:] = (v[1:] - v[:-1]).abs().mean(dim=(1, 2, 3))
    return d


def onset_ratio(diff: torch.Tensor, onsets: list[int]) -> float:
    """Mean frame change at onset frames over the mean at every other frame (frame 0 excluded)."""
    on = torch.zeros_like(diff, dtype=torch.bool)
    on[onsets] = True
    on[0] = False
    off = ~on
    off[0] = False
    return float(diff[on].mean() / diff[off].mean())


def only(columns: dict[str, list[int]], frames: int = 48, fps: int = 16, decay_s: float = 0.12
         ) -> torch.Tensor:
    """Features with just the named activations firing at the given frames, mid energy."""
    f = torch.zeros(frames, NUM_FEATURES)
    t = torch.arange(frames) / fps
    for name, starts in columns.items():
        for s in starts:
            env = torch.where(t >= s / fps, torch.exp(-(t - s / fps) / decay_s), torch.zeros(()))
            f[:, FEATURE_INDEX[name]] = torch.maximum(f[:, FEATURE_INDEX[name]], env)
    f[:, FEATURE_INDEX["rms"]] = 0.3
    f[:, FEATURE_INDEX["energy"]] = 0.7
    f[:, FEATURE_INDEX["bass_pitch"]] = 0.4
    f[:, FEATURE_INDEX["lead_pitch"]] = 0.5
    f[:, FEATURE_INDEX["beat_phase"]] = torch.frac(t * 2.0)
    return f


def test_registry_has_eight_distinct_visualizers():
    assert len(REGISTRY) >= 8
    for name, vis in REGISTRY.items():
        assert vis.name == name
        assert get_visualizer(name) is vis
    with pytest.raises(ValueError, match="unknown visualizer 'nope'.*tunnel"):
        get_visualizer("nope")


@pytest.mark.parametrize("name", NAMES)
def test_style_is_json_and_seeded(name):
    a, b = style_of(name, 3), style_of(name, 3)
    assert a == b
    assert json.loads(json.dumps(a)) == a
    assert style_of(name, 4) != a


@pytest.mark.parametrize("size,fps", [(64, 16), (128, 24), (256, 8)])
def test_shape_dtype_any_size_and_fps(size, fps):
    feats, _ = beat_grid(6, fps)
    for name in NAMES:
        video = get_visualizer(name).render(feats, style_of(name), size, fps)
        assert video.shape == (6, 3, size, size) and video.dtype == torch.uint8, name
        assert video.float().std() > 5, f"{name} renders a flat image"


def test_bad_features_are_a_clear_error():
    with pytest.raises(ValueError, match=f"features must be \\[T, {NUM_FEATURES}\\]"):
        get_visualizer("tunnel").render(torch.zeros(4, 3), style_of("tunnel"), 64, 16)


@pytest.mark.parametrize("name", NAMES)
def test_deterministic(name):
    feats, _ = beat_grid(16, 16, seed=1)
    vis, style = get_visualizer(name), style_of(name, 1)
    assert torch.equal(vis.render(feats, style, 64, 16), vis.render(feats, style, 64, 16))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fps,split,tempo", [(16, 48, 120.0), (24, 40, 128.0)])
def test_windows_continue_the_long_render(name, fps, split, tempo):
    """Frames [0, split) at t0=0 and [split, 96) at t0=split/fps equal one 96-frame pass."""
    feats, _ = beat_grid(96, fps, tempo, seed=2)
    vis, style = get_visualizer(name), style_of(name, 2)
    whole = vis.render(feats, style, 64, fps, t0=0.0, tempo=tempo)
    parts = torch.cat([vis.render(feats[:split], style, 64, fps, t0=0.0, tempo=tempo),
                       vis.render(feats[split:], style, 64, fps, t0=split / fps, tempo=tempo)])
    assert (whole.int() - parts.int()).abs().max() <= 1  # up to float rounding of t


@pytest.mark.parametrize("name", NAMES)
def test_kicks_move_the_picture(name):
    feats, onsets = beat_grid(64, 16, seed=3)
    diff = frame_diff(get_visualizer(name).render(feats, style_of(name, 3), 64, 16))
    assert onset_ratio(diff, onsets["kick"]) > 1.3


def test_reaction_check_can_fail():
    """With the onsets removed (activations zeroed, pitches and loudness held), the ratio is ~1."""
    feats, onsets = beat_grid(64, 16, seed=3)
    for col in ACTIVATIONS:
        feats[:, FEATURE_INDEX[col]] = 0.0
    for col in ("bass_pitch", "lead_pitch", "rms"):
        feats[:, FEATURE_INDEX[col]] = 0.5
    for name in NAMES:
        diff = frame_diff(get_visualizer(name).render(feats, style_of(name, 3), 64, 16))
        assert onset_ratio(diff, onsets["kick"]) < 1.3, name


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("column", ["snare", "clap", "hat", "bass", "lead"])
def test_other_onsets_move_the_picture_too(name, column):
    frames = [6, 17, 29, 40]
    feats = only({column: frames})
    diff = frame_diff(get_visualizer(name).render(feats, style_of(name, 5), 64, 16))
    assert onset_ratio(diff, frames) > 1.3, f"{name}: {column}"


@pytest.mark.parametrize("name", NAMES)
def test_major_is_warm_minor_is_cool(name):
    feats, _ = beat_grid(8, 16, seed=4)
    vis = get_visualizer(name)

    def warmth(mode: str) -> float:
        v = torch.stack([vis.render(feats, style_of(name, s, mode), 64, 16).float() for s in range(4)])
        return float((v[:, :, 0] - v[:, :, 2]).mean())  # mean R - B

    assert warmth("major") > 0 > warmth("minor")


@pytest.mark.parametrize("name", NAMES)
def test_faster_tempo_moves_faster(name):
    feats = only({})  # no onsets: only the steady drift and spin remain
    vis, style = get_visualizer(name), style_of(name, 6)
    slow = frame_diff(vis.render(feats, style, 64, 16, tempo=80.0))[1:].mean()
    fast = frame_diff(vis.render(feats, style, 64, 16, tempo=160.0))[1:].mean()
    assert fast > 1.3 * slow
