"""Rings: concentric oscilloscope rings, each wobbling with its own harmonic like a waveform.

Ring k sits where r = R_k + A_k cos(m_k theta - phi_k): a circle bent by an m_k-fold wave,
drawn as a glowing line. Hats add a fine high-harmonic ripple to every ring. Mappings:
tempo -> ring rotation; kick -> rings expand; snare/clap -> rings jump sideways and twist
(against their spin) + wobble grows + flash; hat -> ripple, rings shiver in and out
(alternating); bass/chord/lead onsets ->
wobble grows; bass pitch -> height of the centre; lead pitch -> hue; energy -> number of
rings; crash -> big expansion.
"""

from __future__ import annotations

from typing import Any

import torch

from synesthete.visualizers.base import HIGHLIGHT, BaseVisualizer, Layers, randint, sign, uniform
from synesthete.visualizers.draw import TAU, axes, glow_, per_frame, ramp_
from synesthete.visualizers.signals import Drive, against

MAX_RINGS = 6


class Rings(BaseVisualizer):
    name = "rings"

    def sample_params(self, gen: torch.Generator) -> dict[str, Any]:
        return {
            "harmonics": [randint(gen, 2, 7) for _ in range(MAX_RINGS)],  # m_k
            "spins": [sign(gen) * uniform(gen, 0.01, 0.03) for _ in range(MAX_RINGS)],  # turns/beat
            "inner": uniform(gen, 0.12, 0.2),  # radius of ring 0
            "gap": uniform(gen, 0.1, 0.14),  # radial step between rings
            "wobble": uniform(gen, 0.02, 0.045),  # resting wave amplitude
            "ripple": randint(gen, 11, 17),  # hat ripple harmonic
        }

    def draw(self, d: Drive, style: dict[str, Any], size: int) -> Layers:
        px = 2.0 / size
        x, y = axes(size)
        dx = x - per_frame(0.06 * d.snare)
        dy = y + per_frame(d.bass_lift)  # higher bass note, higher centre
        r = (dx * dx + dy * dy).sqrt_()  # [T, H, W]
        theta = torch.atan2(dy, dx)  # [T, H, W]
        scale = 1.0 + 0.12 * d.kick + 0.2 * d.crash  # [T]
        # Hat ripple, shared by all rings: 0.03 * hat * cos(j theta - spin).
        ripple = torch.mul(theta, style["ripple"]).sub_(per_frame(TAU * 0.5 * d.beats)).cos_()
        ripple.mul_(per_frame(0.03 * d.hat))
        # Energy lights rings from the inside out: 2 when quiet, all 6 when loud.
        count = 2.0 + (MAX_RINGS - 2) * d.energy
        width = max(0.01, 0.7 * px)
        layers: Layers = []
        for k, (m, spin) in enumerate(zip(style["harmonics"], style["spins"])):
            lit = ramp_(count - k, 0.0, 1.0)  # [T]
            if not bool((lit > 0).any()):
                continue
            alt = 1.0 if k % 2 == 0 else -1.0
            twist = against(spin) * 0.15 * d.snare
            phase = m * (TAU * spin * d.beats + twist)
            amp = style["wobble"] + 0.02 * d.snare + 0.015 * d.tone
            radius = (style["inner"] + k * style["gap"]) * scale + alt * 0.025 * d.hat
            dist = torch.mul(theta, m).sub_(per_frame(phase)).cos_().mul_(per_frame(-amp))
            dist.add_(r).sub_(per_frame(radius)).sub_(ripple)
            line = glow_(dist, width).mul_(per_frame(lit * (0.9 - 0.06 * k)))
            layers.append((line, k % 4))
        core = glow_(r, per_frame(0.06 * scale)).mul_(per_frame(0.3 + 0.6 * d.kick))
        layers.append((core, HIGHLIGHT))
        return layers
