"""Spectrum: mirrored equaliser bars with LED segments and glowing peak caps.

Bars grow up and down from a horizon line; low bands sit in the middle, highs at the edges.
The "spectrum" is built from the instrument envelopes, each a bump over the bands: kick and
bass low, snare/clap mid, hat high, lead at its pitch. LED segments ride with each bar's top,
so a jump in height moves texture, not just an edge. Mappings: kick -> centre bars leap;
snare/clap -> mid bars leap + flash + bars slide sideways; hat -> outer bars flick; bass
pitch -> horizon height and where the bass bump sits; lead pitch -> hue and lead bump;
tempo -> ripple speed; energy -> how many bars are lit; crash -> all bars leap.
"""

from __future__ import annotations

from typing import Any

import torch

from synesthete.visualizers.base import HIGHLIGHT, BaseVisualizer, Layers, randint, uniform
from synesthete.visualizers.draw import TAU, axes, fill_, glow_, neon_, per_frame, ramp_, stripes
from synesthete.visualizers.signals import Drive


def _bump(band: torch.Tensor, centre: torch.Tensor | float, width: float) -> torch.Tensor:
    """exp(-((band - centre) / width)^2): band [N] x centre [T] or float -> [T, N]."""
    c = torch.as_tensor(centre, dtype=torch.float32).view(-1, 1)
    return torch.exp(-(((band[None] - c) / width) ** 2))


class Spectrum(BaseVisualizer):
    name = "spectrum"

    def sample_params(self, gen: torch.Generator) -> dict[str, Any]:
        return {
            "bars": randint(gen, 10, 18),  # per side of the mirror
            "gap": uniform(gen, 0.15, 0.3),  # fraction of a bar slot left dark
            "segments": uniform(gen, 10.0, 16.0),  # LED segments per unit height
            "ripple": uniform(gen, 1.0, 3.0),  # ripple waves across the bands
            "ripple_speed": uniform(gen, 0.25, 0.5),  # waves per beat
        }

    def draw(self, d: Drive, style: dict[str, Any], size: int) -> Layers:
        px = 2.0 / size
        x, y = axes(size)  # [1, 1, W], [1, H, 1]
        n = style["bars"]
        # Bars slide sideways on snare/clap (a jolt of a third of a slot), then settle.
        slot = (x.abs() * n - per_frame(0.35 * d.snare)).view(-1, size)  # [T, W] in bar slots
        index = slot.floor().clamp_(0, n - 1)
        band = (torch.arange(n, dtype=torch.float32) + 0.5) / n  # [N] 0 = centre, 1 = edge
        # Jumps stay under ~0.15 (10 px at 128): larger ones outrun Farneback's search window.
        height = (0.14 + 0.2 * d.kick[:, None] * _bump(band, 0.0, 0.25)
                  + 0.12 * d.bass[:, None] * _bump(band, 0.25 + d.bass_lift, 0.12)
                  + 0.16 * d.snare[:, None] * _bump(band, 0.45, 0.2)
                  + 0.12 * d.hat[:, None] * _bump(band, 0.8, 0.2)
                  + 0.1 * d.lead[:, None] * _bump(band, d.lead_pitch, 0.1)
                  + 0.06 * d.chord[:, None] + 0.12 * d.crash[:, None]
                  + 0.2 * d.energy[:, None] * _bump(band, 0.3, 0.5)
                  + 0.04 * (1.0 + torch.cos(TAU * (style["ripple"] * band[None]
                                                   - style["ripple_speed"] * d.beats[:, None]))))
        # Energy lights bars from the centre out: 40% of them when quiet, all when loud.
        lit = ramp_((0.4 + 0.6 * d.energy)[:, None] - band[None], -0.5 / n, 0.5 / n)
        height = height * (0.15 + 0.85 * lit)  # [T, N]
        col_h = torch.gather(height, 1, index.long()).view(-1, 1, size)  # [T, 1, W]
        inside = slot - index - 0.5  # position across the slot, [-0.5, 0.5)
        col_mask = fill_(inside.abs_().sub_(0.5 - style["gap"] / 2) * (2.0 / n), px).view(-1, 1, size)
        horizon = per_frame(-0.6 * d.bass_lift)
        ay = (y - horizon).abs_()  # [T, H, 1] distance from the horizon
        depth = col_h - ay  # [T, H, W] how far below the bar's top
        leds = stripes(depth * style["segments"])  # LED gaps ride with the top
        bars = fill_(depth.neg(), px).mul_(col_mask)
        bars.mul_(ramp_(leds, 0.12, 0.2))
        upper = bars * ay.mul(1.6).clamp_(max=1.0)  # gradient: colour 0 at the horizon -> 1 up high
        bars -= upper
        caps = neon_(depth.sub_(0.03).abs_(), 1.5 * px).mul_(col_mask)
        haze = glow_(ay.clone(), 0.06).mul_(per_frame(0.25 + 0.4 * d.kick))  # [T, H, 1]
        bars += haze
        return [(bars, 0), (upper, 1), (caps, HIGHLIGHT)]
