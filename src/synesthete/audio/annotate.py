"""Per-frame ground truth `[T, F]` (see features.py) for a rendered window.

Activations, pitches, energy and phases are computed analytically at frame rate from the
score (exact, and far cheaper than analysing audio); only `rms` and `centroid` read the
audio. Frame i covers absolute samples [start + i * hop, start + (i + 1) * hop).
"""

import math
from functools import lru_cache

import torch
from torch import Tensor

from synesthete.audio.drums import DRUM_DESIGNS
from synesthete.audio.features import FEATURES
from synesthete.audio.plan import ENERGY, SongPlan
from synesthete.audio.score import BASS_ROOT_RANGE, LEAD_TONIC_RANGE, LOOKBACK_SECONDS, Score, list_tensor
from synesthete.audio.theory import place_in_range
from synesthete.audio.tones import BANK_SECONDS, TONE_DESIGNS

# Activation columns and the score parts feeding each (open hats count as hats).
ACTIVATIONS: dict[str, tuple[str, ...]] = {
    "kick": ("kick",), "snare": ("snare",), "clap": ("clap",), "hat": ("hat", "open_hat"), "crash": ("crash",),
    "bass": ("bass",), "chord": ("chord",), "lead": ("lead",),
}
FADE_TAUS = 5.0  # an activation is treated as gone 5 time constants after it starts decaying
NEVER = 1e6  # seconds: the gate of a one-shot (it only decays)
BASS_PITCH = (24.0, 48.0)  # bass_pitch = (midi - 24) / 48
LEAD_PITCH = (48.0, 48.0)  # lead_pitch = (midi - 48) / 48
HOLD_SECONDS = LOOKBACK_SECONDS  # a pitch is "held" this long after its note starts


@lru_cache(maxsize=8)
def _hann(n: int) -> Tensor:
    return torch.hann_window(n)


def _envelopes(plan: SongPlan, score: Score, start: int, frames: int, hop: int, sr: int) -> Tensor:
    """Activation per instrument, [len(ACTIVATIONS), T]: velocity at the onset frame, then the
    sound's own envelope (decay to sustain while the gate is on, release after it).

    Each event only touches the K frames after its onset ([N, K], not [N, T]), so the cost
    stays linear for 10-minute clips; the max over overlapping events is one scatter_reduce.
    """
    onsets, velocity, gate, shapes, counts = [], [], [], [], []
    for row, name in enumerate(ACTIVATIONS):
        for part_name in ACTIVATIONS[name]:
            part = score.parts[part_name]
            if name in TONE_DESIGNS:
                spec = TONE_DESIGNS[name][plan.design(name)]  # type: ignore[index]
                longest = BANK_SECONDS[name] - spec.release  # type: ignore[index]
                gate += [min(n / sr, longest) for n in part.length]
                shapes.append((row, spec.decay, spec.sustain, spec.release / 3))
            else:
                decay = DRUM_DESIGNS[part_name][plan.design(name)].decay  # type: ignore[index]
                gate += [NEVER] * len(part.onset)
                shapes.append((row, decay, 0.0, decay))
            onsets += part.onset
            velocity += part.velocity
            counts.append(len(part.onset))
    out = torch.zeros(len(ACTIVATIONS) * (frames + 2))
    if onsets:
        per_event = torch.tensor(shapes).repeat_interleave(torch.tensor(counts), dim=0)  # [N, 4]
        row, decay, sustain, release = (per_event[:, j : j + 1] for j in range(4))  # [N, 1] each
        level0 = list_tensor(velocity + gate).view(2, -1)[:, :, None]
        vel, gate_t = level0[0], level0[1]
        rel = list_tensor(onsets, torch.int64) - start  # [N] samples from window start
        # Frames an event can still be audible in: gate (capped by the decay if s=0), then release.
        extent = torch.where(sustain > 0, gate_t, torch.minimum(gate_t, FADE_TAUS * decay)) + FADE_TAUS * release
        k = math.ceil(extent.max().item() * sr / hop) + 2
        frame = torch.div(rel, hop, rounding_mode="floor")[:, None] + torch.arange(k)  # [N, K]
        dt = (frame * hop - rel[:, None]).clamp(min=0).float() / sr  # seconds since onset at frame start
        held = sustain + (1 - sustain) * torch.exp(-torch.minimum(dt, gate_t) / decay)
        level = vel * held * torch.exp(-(dt - gate_t).clamp(min=0) / release)
        slot = row.long() * (frames + 2) + frame.clamp(-1, frames) + 1  # off-window frames -> dump slots
        out.scatter_reduce_(0, slot.flatten(), level.flatten(), reduce="amax")
    return out.view(len(ACTIVATIONS), frames + 2)[:, 1:-1]


def _riser(score: Score, start: int, frames: int, hop: int) -> Tensor:
    """Riser activation: its progress 0 -> 1 while it plays, [T]."""
    part = score.parts["riser"]
    fs = torch.arange(frames) * hop + start  # [T] absolute frame starts
    out = torch.zeros(frames)
    for onset, velocity, duration in zip(part.onset, part.velocity, part.length):
        playing = (fs + hop > onset) & (fs < onset + duration)
        out = torch.maximum(out, torch.where(playing, velocity * ((fs - onset).clamp(min=0) / duration), 0.0))
    return out


def _held_pitch(onsets: list[int], pitches: list[tuple[int, ...]], fallback: Tensor, start: int, frames: int,
                hop: int, sr: int, offset: float, span: float) -> Tensor:
    """Most recent note started before each frame's end (within the hold time), else `fallback`, [T]."""
    frame_end = torch.arange(1, frames + 1) * hop + start  # [T]
    midi = fallback.float()
    if onsets:
        on = list_tensor(onsets, torch.int64)
        last = torch.searchsorted(on, frame_end) - 1  # latest onset < frame end
        idx = last.clamp(min=0)
        valid = (last >= 0) & (on[idx] >= frame_end - round(HOLD_SECONDS * sr))
        midi = torch.where(valid, list_tensor([float(p[0]) for p in pitches])[idx], midi)
    return ((midi - offset) / span).clamp(0.0, 1.0)


def frame_features(plan: SongPlan, score: Score, audio: Tensor, start: int, sample_rate: int, fps: int) -> Tensor:
    """Ground-truth features [T, F] for the window starting at absolute sample `start`."""
    hop = sample_rate // fps
    frames = audio.shape[-1] // hop
    cols: dict[str, Tensor] = {}
    # rms: 1 = full-scale sine.
    chunks = audio[: frames * hop].view(frames, hop)
    cols["rms"] = (chunks.pow(2).mean(1).sqrt() * math.sqrt(2)).clamp(max=1.0)
    # Spectral centroid of each frame: Hann window over exactly the frame's samples, zero-padded
    # to a power of two (a 1024-point FFT is 3x faster than a 1000-point one).
    n_fft = 1 << (hop - 1).bit_length()
    mag = torch.fft.rfft(chunks * _hann(hop), n=n_fft).abs()  # [T, n_fft // 2 + 1]
    freqs = torch.arange(mag.shape[1], dtype=torch.float32) / n_fft  # fraction of the sample rate
    cols["centroid"] = ((mag @ freqs) / mag.sum(1).clamp(min=1e-8) * 2).clamp(0.0, 1.0)
    acts = _envelopes(plan, score, start, frames, hop, sample_rate)
    for row, name in enumerate(ACTIVATIONS):
        cols[name] = acts[row].clamp(0.0, 1.0)
    cols["riser"] = _riser(score, start, frames, hop).clamp(0.0, 1.0)
    # Harmony root per frame, from the bar each frame starts in.
    frame_start = torch.arange(frames) * hop + start
    bar = torch.searchsorted(torch.tensor(score.bar_starts), frame_start, right=True) - 1  # [T] generated-bar idx
    roots = torch.tensor(score.bar_roots)[bar.clamp(0, len(score.bar_roots) - 1)]
    bass_fallback = torch.tensor([place_in_range(r, *BASS_ROOT_RANGE) for r in range(12)])[roots]
    lead_fallback = torch.tensor([place_in_range(r, *LEAD_TONIC_RANGE) for r in range(12)])[roots]
    bass, lead = score.parts["bass"], score.parts["lead"]
    cols["bass_pitch"] = _held_pitch(bass.onset, bass.pitch, bass_fallback, start, frames, hop, sample_rate,
                                     *BASS_PITCH)
    cols["lead_pitch"] = _held_pitch(lead.onset, lead.pitch, lead_fallback, start, frames, hop, sample_rate,
                                     *LEAD_PITCH)
    cols["energy"] = _energy(plan, score, frame_start, bar)
    # Phases in exact integers: a beat is 60 * sr / tempo samples, so (sample * tempo) mod (60 sr).
    scaled = frame_start * plan.tempo  # int64
    cols["beat_phase"] = (scaled % (60 * sample_rate)).float() / (60 * sample_rate)
    cols["bar_phase"] = (scaled % (60 * sample_rate * plan.meter)).float() / (60 * sample_rate * plan.meter)
    return torch.stack([cols[name] for name in FEATURES], dim=1)


def _energy(plan: SongPlan, score: Score, frame_start: Tensor, bar: Tensor) -> Tensor:
    """Section energy ramped linearly from ENERGY[name][0] to [1] across each section, [T]."""
    first_bar = score.first_bar
    begin, slope = [], []
    for j in range(len(score.bar_roots)):
        section, index = plan.section_at(first_bar + j)
        low, high = ENERGY[section.name]
        begin.append(low + (high - low) * index / section.bars)
        slope.append((high - low) / section.bars)
    bar = bar.clamp(0, len(begin) - 1)
    starts = torch.tensor(score.bar_starts)
    frac = (frame_start - starts[bar]).float() / (starts[bar + 1] - starts[bar]).float()
    return (torch.tensor(begin)[bar] + torch.tensor(slope)[bar] * frac).clamp(0.0, 1.0)
