"""Synthetic beat-grid features for tests and the gallery: exact onsets, no audio needed.

A kick on every beat, snare on 2 and 4, hats on 8ths, a bass note every two beats and a
lead note on some 8ths, each an activation of 1 at its onset decaying exponentially (the
feature contract's shape), random held pitches, steady section energy.
"""

from __future__ import annotations

import torch
from torch import Tensor

from synesthete.audio.features import FEATURE_INDEX, NUM_FEATURES

DECAY_S = {"kick": 0.15, "snare": 0.12, "hat": 0.05, "bass": 0.3, "lead": 0.2, "chord": 0.8}


def beat_grid(frames: int, fps: int = 16, tempo: float = 120.0, seed: int = 0, t0: float = 0.0,
              energy: float = 0.8, hats: bool = True, snares: bool = True
              ) -> tuple[Tensor, dict[str, list[int]]]:
    """Features float32 [frames, F] and onset frame indices per instrument (and "any").

    Onsets sit on the 8th-note grid; an onset at time s lights the first frame at or after s.
    """
    gen = torch.Generator().manual_seed(seed)
    t = t0 + torch.arange(frames, dtype=torch.float32) / fps  # [T]
    eighth = 30.0 / tempo
    n8 = int((t0 + frames / fps) / eighth) + 1
    times: dict[str, list[float]] = {k: [] for k in DECAY_S}
    bass_notes, lead_notes = [], []
    for k in range(n8):
        s = k * eighth
        if k % 2 == 0:
            times["kick"].append(s)
            if snares and (k // 2) % 2 == 1:
                times["snare"].append(s)
        if hats:
            times["hat"].append(s)
        if k % 4 == 0:
            times["bass"].append(s)
            bass_notes.append((s, float(torch.rand((), generator=gen)) * 0.5 + 0.2))
        if k % 8 == 0:
            times["chord"].append(s)
        if k % 3 == 1:
            times["lead"].append(s)
            lead_notes.append((s, float(torch.rand((), generator=gen)) * 0.5 + 0.25))
    f = torch.zeros(frames, NUM_FEATURES)
    onsets: dict[str, list[int]] = {}
    eps = 1e-4
    for name, starts in times.items():
        col = torch.zeros(frames)
        idx = []
        for s in starts:
            dt = t - s
            col = torch.maximum(col, torch.where(dt >= -eps, torch.exp(-dt.clamp(min=0) / DECAY_S[name]), 0.0))
            i = int(torch.nonzero(dt >= -eps)[0]) if bool((dt >= -eps).any()) else frames
            if 0 <= i < frames and dt[i] < 1.0 / fps - eps:
                idx.append(i)
        f[:, FEATURE_INDEX[name]] = col
        onsets[name] = idx
    for name, notes in (("bass_pitch", bass_notes), ("lead_pitch", lead_notes)):
        col = torch.full((frames,), 0.5)
        for s, p in notes:
            col = torch.where(t >= s - eps, p, col)
        f[:, FEATURE_INDEX[name]] = col
    c = FEATURE_INDEX
    f[:, c["rms"]] = (0.2 + 0.4 * f[:, c["kick"]] + 0.2 * f[:, c["snare"]] + 0.1 * f[:, c["bass"]]).clamp(0, 1)
    f[:, c["centroid"]] = 0.2 + 0.3 * f[:, c["hat"]]
    f[:, c["energy"]] = energy
    f[:, c["beat_phase"]] = torch.frac(t * tempo / 60.0)
    f[:, c["bar_phase"]] = torch.frac(t * tempo / 240.0)
    onsets["any"] = sorted({i for v in onsets.values() for i in v})
    return f, onsets
