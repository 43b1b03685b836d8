"""Synthetic beat-grid features for tests and the gallery: exact onsets, no audio needed.

A kick on every beat, snare on 2 and 4, hats on 8ths, a bass note every two beats, a chord
every four and a lead note on every third 8th; each an activation of 1 in the frame its
onset falls in, decaying exponentially after (the feature contract's shape), with random
held pitches and steady section energy.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from synesthete.audio.features import FEATURE_INDEX, NUM_FEATURES

# Decay time constants (s), close to what the music engine's annotations show for its sounds.
DECAY_S = {"kick": 0.4, "snare": 0.12, "hat": 0.06, "bass": 0.5, "lead": 0.3, "chord": 1.0}


def _grid(n_eighths: int) -> dict[str, list[int]]:
    """Which 8th notes (by index) each instrument plays."""
    k = range(n_eighths)
    return {"kick": [i for i in k if i % 2 == 0], "snare": [i for i in k if i % 4 == 2],
            "hat": list(k), "bass": [i for i in k if i % 4 == 0], "chord": [i for i in k if i % 8 == 0],
            "lead": [i for i in k if i % 3 == 1]}


def beat_grid(frames: int, fps: int = 16, tempo: float = 120.0, seed: int = 0, t0: float = 0.0,
              energy: float = 0.8) -> tuple[Tensor, dict[str, list[int]]]:
    """Features float32 [frames, F] and onset frame indices per instrument (and "any").

    An onset at s seconds lights frame floor((s - t0) fps), the frame it sounds in.
    """
    gen = torch.Generator().manual_seed(seed)
    t = t0 + torch.arange(frames, dtype=torch.float32) / fps  # [T] frame start times
    eighth = 30.0 / tempo
    grid = _grid(int((t0 + frames / fps) / eighth) + 1)
    f = torch.zeros(frames, NUM_FEATURES)
    onsets: dict[str, list[int]] = {}
    for name, hits in grid.items():
        col, idx = f[:, FEATURE_INDEX[name]], []
        for s in (k * eighth for k in hits):
            i = math.floor((s - t0) * fps + 1e-4)
            if i >= frames:
                continue
            after = torch.arange(frames) >= i
            col.copy_(torch.maximum(col, after * torch.exp(-(t - s).clamp(min=0) / DECAY_S[name])))
            if i >= 0:
                idx.append(i)
        onsets[name] = idx
    for name, hits, lo in (("bass_pitch", grid["bass"], 0.2), ("lead_pitch", grid["lead"], 0.25)):
        col = f[:, FEATURE_INDEX[name]]
        col.fill_(0.5)
        for k in hits:  # the note holds until the next one
            col[max(math.floor((k * eighth - t0) * fps + 1e-4), 0):] = lo + 0.5 * float(torch.rand((), generator=gen))
    c = FEATURE_INDEX
    loud = 0.2 + 0.4 * f[:, c["kick"]] + 0.2 * f[:, c["snare"]] + 0.1 * f[:, c["bass"]]
    f[:, c["rms"]] = loud.clamp(0, 1)
    f[:, c["centroid"]] = 0.2 + 0.3 * f[:, c["hat"]]
    f[:, c["energy"]] = energy
    f[:, c["beat_phase"]] = torch.frac(t * tempo / 60.0)
    f[:, c["bar_phase"]] = torch.frac(t * tempo / 240.0)
    onsets["any"] = sorted({i for v in onsets.values() for i in v})
    return f, onsets
