"""Per-frame drive signals: named feature columns and the clock in seconds and in beats.

Everything a visualizer moves by is a pure function of one feature row and the frame time
t = t0 + i / fps, never of earlier frames, so consecutive windows of a long song join
seamlessly (frame i of a window rendered alone equals the same frame rendered in one pass).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from synesthete.audio.features import FEATURE_INDEX, NUM_FEATURES


def against(rate: float) -> float:
    """The sign opposite a steady drift `rate` (+1.0 or -1.0), for jolts.

    A jolt that pushes against the drift returns *with* it, so after an onset the flow
    magnitude decays monotonically. A jolt along the drift returns against it: the two
    cancel, then the drift grows back, and that rise makes spurious optical-flow peaks.
    """
    return -1.0 if rate >= 0 else 1.0


ONSET_COLUMNS = ("kick", "snare", "clap", "hat", "crash", "bass", "chord", "lead")


@dataclass
class Drive:
    """What moves a frame: envelopes [T] in [0, 1], seconds `t` [T], beats `beats` [T].

    Steady motion (drift, spin) runs on `beats` = t * tempo / 60 at a constant rate, so its
    speed is proportional to tempo. (An ease that surges on each beat was tried: its fastest
    frame is the one *after* the beat, which moves the optical-flow peak off the onset.)

    Onset envelopes are square-rooted: an activation e^(-t / tau) becomes e^(-t / 2 tau), so
    a jolt lands in one frame and eases back at half the speed, and optical flow peaks on
    the onset frame rather than smearing over the decay.
    """

    t: Tensor
    beats: Tensor
    rms: Tensor
    kick: Tensor
    snare: Tensor  # snare and clap together: both "flash + jolt"
    hat: Tensor
    crash: Tensor
    riser: Tensor
    bass: Tensor
    chord: Tensor
    lead: Tensor
    tone: Tensor  # strongest of the pitched onsets (bass, chord, lead)
    bass_pitch: Tensor
    lead_pitch: Tensor
    energy: Tensor

    @property
    def frames(self) -> int:
        return self.t.shape[0]

    @property
    def bass_lift(self) -> Tensor:
        """Bass pitch as a signed offset [T]: 0.15 per octave about a mid bass note (midi 38),
        clamped to +-0.25; songs keep their bass within a few semitones, so the raw column
        (1/48 per semitone) would barely move anything."""
        return ((self.bass_pitch - 0.3) * 0.6).clamp_(-0.25, 0.25)

    @classmethod
    def from_features(cls, features: Tensor, fps: int, t0: float, tempo: float) -> "Drive":
        """Split features [T, F] into named columns and build the clocks."""
        if features.ndim != 2 or features.shape[1] != NUM_FEATURES:
            raise ValueError(f"features must be [T, {NUM_FEATURES}], got {tuple(features.shape)}")
        f = features.detach().to("cpu", torch.float32)  # renders run on the CPU
        col = {name: f[:, i] for name, i in FEATURE_INDEX.items()}
        for name in ONSET_COLUMNS:
            col[name] = col[name].clamp(min=0.0).sqrt()
        t = t0 + torch.arange(f.shape[0], dtype=torch.float32) / fps
        return cls(
            t=t,
            beats=t * (tempo / 60.0),
            rms=col["rms"],
            kick=col["kick"],
            snare=torch.maximum(col["snare"], col["clap"]),
            hat=col["hat"],
            crash=col["crash"],
            riser=col["riser"],
            bass=col["bass"],
            chord=col["chord"],
            lead=col["lead"],
            tone=torch.maximum(torch.maximum(col["bass"], col["chord"]), col["lead"]),
            bass_pitch=col["bass_pitch"],
            lead_pitch=col["lead_pitch"],
            energy=col["energy"],
        )
