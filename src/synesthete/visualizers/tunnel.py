"""Tunnel: a neon-gridded tube flying toward a vanishing point (the demoscene classic).

Depth u = k / r and angle v = theta M / 2 pi index the tube wall; grid lines and a dim
checker of panels give optical flow texture everywhere. Mappings: tempo -> flight speed and
spin; kick -> the tube recoils toward the vanishing point, then surges back with the flight
(a sidechain pump); snare/clap -> twist jolt + flash; hat -> small recoil; bass/chord/lead
onsets -> spin jolt; bass pitch -> vanishing point left/right; lead pitch -> hue; energy ->
deeper view and extra half-rings; crash -> big recoil.
"""

from __future__ import annotations

from typing import Any

import torch

from synesthete.visualizers.base import HIGHLIGHT, BaseVisualizer, Layers, randint, sign, uniform
from synesthete.visualizers.draw import TAU, axes, glow_, neon_, per_frame, ramp_, stripes
from synesthete.visualizers.signals import Drive, against


class Tunnel(BaseVisualizer):
    name = "tunnel"

    def sample_params(self, gen: torch.Generator) -> dict[str, Any]:
        return {
            "segments": 2 * randint(gen, 4, 8),  # wall lines around the tube
            "depth_scale": uniform(gen, 0.7, 1.1),  # k in u = k / r: ring spacing
            "speed": uniform(gen, 0.04, 0.08),  # rings passed per beat
            "spin": sign(gen) * uniform(gen, 0.005, 0.012),  # turns per beat
            "twist": uniform(gen, -0.15, 0.15),  # spiral: turns of a segment per ring
            "width": uniform(gen, 0.03, 0.05),  # line half-width, in ring units
        }

    def draw(self, d: Drive, style: dict[str, Any], size: int) -> Layers:
        px = 2.0 / size
        x, y = axes(size)
        k, m, w = style["depth_scale"], style["segments"], style["width"]
        dx = x - per_frame(d.bass_lift)  # [T, 1, W]
        dy = y - per_frame(0.05 * torch.sin(d.beats * (TAU / 8)))  # [T, H, 1]
        r = (dx * dx + dy * dy).sqrt_()  # [T, H, W]
        zoom = per_frame(k / (1.0 + 0.2 * d.kick + 0.3 * d.crash))  # recoil: rings pull in
        u = torch.add(r, 0.02).reciprocal_().mul_(zoom)  # depth, in rings
        u += per_frame(style["speed"] * d.beats - 0.15 * d.hat)
        jolt = against(style["spin"]) * (0.025 * d.snare + 0.01 * d.tone)  # turns
        turn = per_frame((style["spin"] * d.beats + jolt) * m)
        v = torch.atan2(dy, dx).mul_(m / TAU).add_(turn).add_(u, alpha=style["twist"])  # around
        # Lines are w wide in (u, v) units; where a pixel spans more than that (near the
        # vanishing point), widen them to a pixel and dim by the same factor: no moire.
        du = (r * r).reciprocal_().mul_(px * k).add_(w)  # [T, H, W]
        dv = torch.reciprocal(r).mul_(px * m / TAU).add_(w)
        ring_d = stripes(u)
        half = neon_(torch.rsub(ring_d, 0.5), du)  # energy -> extra half-rings
        rings = neon_(ring_d, du).mul_(du.reciprocal_().mul_(w))
        walls = neon_(stripes(v), dv).mul_(dv.reciprocal_().mul_(w))
        panel = torch.floor(u).add_(torch.floor(v)).remainder_(2.0)  # checker of dim panels
        # Fog: the far end (small r) fades out; high energy sees deeper.
        fog = ramp_(r * per_frame(1.6 - 0.8 * d.energy), 0.03, 0.45).square_()
        rings.mul_(fog)
        walls.mul_(fog)
        half.mul_(fog).mul_(du.mul_(per_frame(0.6 * d.energy)))  # du is now the dimming
        panel.mul_(fog).mul_(0.12)
        core = glow_(r, 0.12).mul_(per_frame(0.35 + 0.6 * d.kick))
        return [(rings, 0), (walls, 2), (half, 1), (panel, 3), (core, HIGHLIGHT)]
