"""Geometry: nested neon polygons breathing out of the centre, rotating with the beat.

The polygon radius pd = r cos(phi) / cos(pi / n) (phi = angle from the nearest edge normal)
has regular n-gons as level sets; rings are its periodic contours, two-toned by parity,
with spokes along the vertex rays.
Mappings: tempo -> rotation and inward ring flow; kick -> scale pulse; snare/clap -> turn
jolt + flash; hat -> rings step outward; bass/chord/lead onsets -> small turn; bass pitch ->
height of the centre; lead pitch -> hue; energy -> how many rings are lit; crash -> big pulse.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from synesthete.visualizers.base import HIGHLIGHT, BaseVisualizer, Layers, randint, sign, uniform
from synesthete.visualizers.draw import TAU, axes, glow_, neon_, per_frame, ramp_, stripes
from synesthete.visualizers.signals import Drive, against


class Geometry(BaseVisualizer):
    name = "geometry"

    def sample_params(self, gen: torch.Generator) -> dict[str, Any]:
        return {
            "sides": randint(gen, 3, 8),
            "density": uniform(gen, 4.0, 6.0),  # rings per unit radius
            "spin": sign(gen) * uniform(gen, 0.006, 0.015),  # turns per beat
            "flow": uniform(gen, 0.04, 0.1),  # rings drifting inward per beat
            "width": uniform(gen, 0.09, 0.13),  # line half-width, in ring spacings
        }

    def draw(self, d: Drive, style: dict[str, Any], size: int) -> Layers:
        px = 2.0 / size
        n, density = style["sides"], style["density"]
        sector = TAU / n
        x, y = axes(size)
        dy = y + per_frame(d.bass_lift)  # higher bass note, higher centre
        r = (x * x + dy * dy).sqrt_()  # [T, H, W]
        theta = torch.atan2(dy, x)
        jolt = against(style["spin"]) * (0.15 * d.snare + 0.04 * d.tone)  # rad
        turn = TAU * style["spin"] * d.beats + jolt
        scale = 1.0 + 0.2 * d.kick + 0.3 * d.crash  # content size
        # pd: polygon radius of each pixel, in units of the (pulsing) content size.
        phi = theta.sub_(per_frame(turn)).remainder_(sector).sub_(sector / 2)  # from edge normal
        spoke = torch.abs(phi).neg_().add_(sector / 2).mul_(r)  # distance to the vertex rays
        pd = phi.cos_().mul_(r).mul_(per_frame(1.0 / (math.cos(math.pi / n) * scale)))  # [T, H, W]
        u = pd * density  # ring index
        u += per_frame(style["flow"] * d.beats - 0.5 * d.hat)  # rings flow inward, hats push out
        line_w = (px * density / scale).clamp(min=style["width"])  # [T], at least a pixel
        rings = neon_(stripes(u), per_frame(line_w)).mul_(per_frame(style["width"] / line_w))
        parity = torch.floor(u).remainder_(2.0)  # alternate rings take the second colour
        odd = rings * parity
        rings -= odd
        panels = parity.mul_(0.14)  # dim fill between every other pair of rings
        spokes = neon_(spoke, 1.5 * px).mul_(0.7)
        # Energy lights rings out to radius 0.35 (quiet) .. 1.0 (loud), fading at the edge.
        reach = per_frame(0.35 + 0.65 * d.energy)
        fade = ramp_(pd.clone(), reach, reach - 0.25)
        rings.mul_(fade)
        odd.mul_(fade)
        panels.mul_(fade)
        spokes.mul_(fade)
        core = glow_(pd, 0.12).mul_(per_frame(0.3 + 0.7 * d.kick))
        return [(rings, 0), (odd, 1), (panels, 2), (spokes, 3), (core, HIGHLIGHT)]
