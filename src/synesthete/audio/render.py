"""`render_clip`: one window of one song -> waveform, event times, per-frame features, meta.

The window [start, start + seconds) is rendered on its own (plus tails of earlier notes), so a
clip at minute 2 costs what a clip at second 0 costs, and adjacent windows concatenate to the
longer window up to float error. Past the song's nominal duration the form loops.
"""

from dataclasses import dataclass

import torch

from synesthete.audio.annotate import frame_features
from synesthete.audio.mix import render_audio
from synesthete.audio.plan import SongPlan, plan_song
from synesthete.audio.score import Score, list_tensor, make_grid, score_window

# Event lists of an AudioClip, and the score parts (or timelines) that feed each.
EVENT_SOURCES: dict[str, tuple[str, ...]] = {
    "kick": ("kick",), "snare": ("snare",), "clap": ("clap",), "hat": ("hat", "open_hat"),
    "open_hat": ("open_hat",), "crash": ("crash",), "riser": ("riser",), "bass": ("bass",), "chord": ("chord",),
    "lead": ("lead",), "beat": (), "downbeat": (), "section": (),
}


@dataclass
class AudioClip:
    audio: torch.Tensor  # float32 [1, L], L = round(seconds * sample_rate), peak < 1
    events: dict[str, torch.Tensor]  # name -> sorted float32 onset seconds from clip start, in [0, seconds)
    features: torch.Tensor  # float32 [T, F], T = L // (sample_rate // fps), all in [0, 1]
    meta: dict  # JSON-serialisable song and clip facts (see render_clip)


def _events(score: Score, start: int, length: int, sample_rate: int) -> dict[str, torch.Tensor]:
    timelines = {"beat": score.beats, "downbeat": score.downbeats, "section": score.section_starts}
    events = {}
    for name, sources in EVENT_SOURCES.items():
        onsets = timelines[name] if not sources else [o for src in sources for o in score.parts[src].onset]
        picked = sorted(o - start for o in onsets if start <= o < start + length)
        events[name] = list_tensor(picked, torch.int64).float() / sample_rate
    return events


def _sections(plan: SongPlan, start: int, length: int, sample_rate: int) -> list[dict]:
    """Sections overlapping the window, times in seconds relative to the window start."""
    grid = make_grid(plan, sample_rate)
    bar = grid.bar_at(start)
    section, index = plan.section_at(bar)
    bar -= index
    out = []
    while grid.bar_start(bar) < start + length:
        section, _ = plan.section_at(bar)
        begin, end = grid.bar_start(bar), grid.bar_start(bar + section.bars)
        out.append({"name": section.name, "start": (begin - start) / sample_rate, "end": (end - start) / sample_rate})
        bar += section.bars
    return out


def render_clip(song_seed: int, start: float, seconds: float, sample_rate: int = 16000, fps: int = 16) -> AudioClip:
    """Render seconds [start, start + seconds) of song `song_seed` (deterministic in all arguments).

    meta: song_seed, start, tempo (BPM), key (0-11), key_name, mode, meter (4 or 3), swing,
    designs (instrument -> design id, see designs.DESIGNS), groove, duration (nominal song
    seconds), sections ([{"name", "start", "end"}] overlapping the clip, relative seconds).
    """
    if start < 0 or seconds <= 0 or sample_rate % fps:
        raise ValueError(f"need start >= 0, seconds > 0, sample_rate % fps == 0; got {start}, {seconds}, "
                         f"{sample_rate}, {fps}")
    plan = plan_song(song_seed)
    first, length = round(start * sample_rate), round(seconds * sample_rate)
    score = score_window(plan, first, first + length, sample_rate)
    audio = render_audio(plan, score, first, length, sample_rate)
    features = frame_features(plan, score, audio, first, sample_rate, fps)
    meta = plan.meta() | {"start": start, "sections": _sections(plan, first, length, sample_rate)}
    return AudioClip(audio[None, :], _events(score, first, length, sample_rate), features, meta)
