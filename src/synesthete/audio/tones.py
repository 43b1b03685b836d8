"""Pitched instruments (bass, chord, lead): a cached bank of one note per MIDI pitch.

A bank is [P, M]: row p is MIDI note `PITCH_RANGE[instrument][0] + p` held for M samples,
its attack/decay envelope baked in. All P notes are synthesized together in one batch the
first time a (instrument, design, sample_rate) is used. A clip then copies slices of rows and
applies a linear release at each note-off (mix.py), so a note costs a memcpy, not a synthesis.
"""

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import torch
from torch import Tensor

from synesthete.audio.dsp import NYQUIST_MARGIN, WAVETABLE_SIZE, attack_ramp, normalize_peak, table_lookup, wavetable

ToneInstrument = Literal["bass", "chord", "lead"]
Wave = Literal["saw", "square", "fm", "additive"]

# MIDI [low, high) per instrument; the score folds notes into these ranges by octaves.
PITCH_RANGE: dict[ToneInstrument, tuple[int, int]] = {"bass": (28, 57), "chord": (48, 80), "lead": (48, 90)}
# Longest note a bank can play (seconds); a held note is cut to this minus its release.
BANK_SECONDS: dict[ToneInstrument, float] = {"bass": 2.5, "chord": 4.0, "lead": 2.0}


@dataclass(frozen=True)
class ToneDesign:
    """One timbre: a waveform recipe and its amplitude envelope (attack, decay to sustain, release)."""

    wave: Wave
    attack: float  # seconds to full level
    decay: float  # seconds, time constant from 1 down to `sustain`
    sustain: float  # level held while the note is on, 0..1
    release: float  # seconds of linear fade after note-off
    cutoff: tuple[float, float] = (3000.0, 3000.0)  # saw/square low-pass, Hz: (at onset, settled)
    cutoff_decay: float = 0.2  # seconds, filter-envelope time constant
    detune_cents: float = 0.0  # saw/square: two voices at +-detune, averaged
    fm: tuple[float, float, float] = (1.0, 0.0, 0.0)  # fm: (ratio, index at onset, settled index)
    partials: tuple[float, ...] = (1.0,)  # additive: amplitude of harmonic 1, 2, 3, ...
    vibrato: float = 0.0  # fractional pitch depth (0.003 = 5 cents) at VIBRATO_HZ


VIBRATO_HZ = 5.5
FM_INDEX_DECAY = 0.15  # seconds: FM brightness falls from its onset index to the settled one
LOUDNESS_RMS = 0.45  # every design's notes have this RMS over their first LOUDNESS_SECONDS
LOUDNESS_SECONDS = 0.5


TONE_DESIGNS: dict[ToneInstrument, dict[str, ToneDesign]] = {
    "bass": {
        "saw": ToneDesign("saw", 0.004, 0.3, 0.6, 0.04, cutoff=(1800.0, 350.0), cutoff_decay=0.12),
        "square": ToneDesign("square", 0.004, 0.4, 0.7, 0.04, cutoff=(1400.0, 500.0), cutoff_decay=0.2),
        "fm": ToneDesign("fm", 0.003, 0.5, 0.5, 0.05, fm=(1.0, 2.5, 0.7)),
        "sub": ToneDesign("additive", 0.005, 0.8, 0.8, 0.05, partials=(1.0, 0.35, 0.1)),
    },
    "chord": {
        "pad": ToneDesign("saw", 0.25, 1.5, 0.8, 0.35, cutoff=(2200.0, 1200.0), cutoff_decay=0.8, detune_cents=8.0),
        "pluck": ToneDesign("saw", 0.002, 0.35, 0.0, 0.1, cutoff=(4000.0, 500.0), cutoff_decay=0.08),
        "epiano": ToneDesign("fm", 0.002, 1.2, 0.15, 0.2, fm=(1.0, 1.8, 0.3)),
        "organ": ToneDesign("additive", 0.01, 1.0, 1.0, 0.08, partials=(1.0, 0.6, 0.4, 0.25, 0.0, 0.15), vibrato=0.002),
    },
    "lead": {
        "square": ToneDesign("square", 0.005, 0.3, 0.7, 0.05, cutoff=(3000.0, 1500.0), vibrato=0.003),
        "saw": ToneDesign("saw", 0.005, 0.4, 0.7, 0.06, cutoff=(5000.0, 2500.0), detune_cents=10.0),
        "bell": ToneDesign("fm", 0.002, 0.6, 0.0, 0.15, fm=(3.5, 3.0, 0.5)),
        "flute": ToneDesign("additive", 0.03, 1.0, 0.9, 0.08, partials=(1.0, 0.2, 0.08), vibrato=0.004),
    },
}


def _cycles(f0: Tensor, t: Tensor, vibrato: float) -> Tensor:
    """Oscillator cycles elapsed, [P, M], wrapped to [0, 1) for float32 accuracy."""
    cycles = f0 * t
    if vibrato > 0:
        # integral of f0 * vibrato * sin(2 pi v t) dt
        cycles = cycles + f0 * vibrato * (1 - torch.cos(2 * math.pi * VIBRATO_HZ * t)) / (2 * math.pi * VIBRATO_HZ)
    return cycles - torch.floor(cycles)


def _filtered_harmonics(f0: Tensor, t: Tensor, design: ToneDesign, sr: int) -> Tensor:
    """Band-limited saw or square through a 2-pole low-pass whose cutoff glides (filter envelope).

    The glide is a crossfade of two static spectra (bright -> settled) with time constant
    cutoff_decay, so each voice is two wavetable reads instead of a per-sample filter.
    """
    limit = NYQUIST_MARGIN * sr
    num = min(int(limit / f0.min().item()), WAVETABLE_SIZE // 2 - 1)
    h = torch.arange(1, num + 1, dtype=torch.float32)[None, :]  # [1, H]
    base = 1.0 / h if design.wave == "saw" else (h % 2 == 1) / h  # saw: 1/h, square: odd 1/h
    audible = (h * f0 < limit).float()  # [P, H]
    tables = [wavetable(base * audible / torch.sqrt(1 + (h * f0 / cut) ** 4)) for cut in design.cutoff]
    glide = torch.exp(-t / design.cutoff_decay)  # [1, M]
    detunes = (-design.detune_cents, design.detune_cents) if design.detune_cents else (0.0,)
    out = torch.zeros(f0.shape[0], t.shape[-1])
    for cents in detunes:
        bright, settled = table_lookup(tables, _cycles(f0 * 2 ** (cents / 1200), t, design.vibrato))
        out += settled + (bright - settled) * glide
    return out / len(detunes)


def _fm(f0: Tensor, t: Tensor, design: ToneDesign) -> Tensor:
    """Two-operator FM (Chowning 1973): sin(w t + I(t) sin(r w t)), index decaying to its floor."""
    ratio, start, floor = design.fm
    index = floor + (start - floor) * torch.exp(-t / FM_INDEX_DECAY)
    modulator = torch.sin(2 * math.pi * _cycles(f0 * ratio, t, 0.0))
    return torch.sin(2 * math.pi * _cycles(f0, t, design.vibrato) + index * modulator)


def _additive(f0: Tensor, t: Tensor, design: ToneDesign, sr: int) -> Tensor:
    """A few harmonics at fixed levels (organ drawbars, sub bass, flute)."""
    h = torch.arange(1, len(design.partials) + 1, dtype=torch.float32)[None, :]  # [1, H]
    amps = torch.tensor(design.partials)[None, :] * (h * f0 < NYQUIST_MARGIN * sr)  # [P, H]
    (out,) = table_lookup([wavetable(amps)], _cycles(f0, t, design.vibrato))
    return out


@lru_cache(maxsize=None)
def note_bank(instrument: ToneInstrument, design: str, sample_rate: int) -> Tensor:
    """Cached [P, M] bank of notes (equal loudness per design) for an instrument design at a sample rate."""
    spec = TONE_DESIGNS[instrument][design]
    low, high = PITCH_RANGE[instrument]
    f0 = 440.0 * 2 ** ((torch.arange(low, high, dtype=torch.float32)[:, None] - 69) / 12)  # [P, 1]
    t = torch.arange(round(BANK_SECONDS[instrument] * sample_rate), dtype=torch.float32)[None, :] / sample_rate
    if spec.wave in ("saw", "square"):
        x = _filtered_harmonics(f0, t, spec, sample_rate)
    elif spec.wave == "fm":
        x = _fm(f0, t, spec)
    else:
        x = _additive(f0, t, spec, sample_rate)
    env = attack_ramp(t, spec.attack) * (spec.sustain + (1 - spec.sustain) * torch.exp(-t / spec.decay))
    x = normalize_peak(x * env)
    # Equal loudness across designs: mean RMS over the first LOUDNESS_SECONDS set to LOUDNESS_RMS.
    head = x[:, : round(LOUDNESS_SECONDS * sample_rate)]
    return (x * (LOUDNESS_RMS / head.pow(2).mean(1).sqrt().mean())).contiguous()


@lru_cache(maxsize=None)
def release_ramp(samples: int) -> Tensor:
    """Linear fade 1 -> 0 over `samples`, [samples], applied after each note-off."""
    return 1.0 - torch.arange(samples, dtype=torch.float32) / samples


def release_samples(instrument: ToneInstrument, design: str, sample_rate: int) -> int:
    return max(1, round(TONE_DESIGNS[instrument][design].release * sample_rate))
