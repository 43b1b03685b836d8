"""Metaballs: glowing liquid blobs that merge and split, ringed by topographic contours.

The field F = sum_i R_i^2 / |p - c_i|^2 is drawn as a soft fill where F > 1, a bright rim
at F = 1, contour rings inside (texture that moves with the blobs) and its own 1/d^2 falloff
as the halo. Blobs orbit on Lissajous paths. Mappings: tempo -> orbit speed; kick -> blobs
swell; snare/clap -> blobs fling outward + flash; hat -> blobs jitter (alternating);
bass/chord/lead onsets -> orbit turn jolt; bass pitch -> height of the cluster; lead pitch
-> hue; energy -> number of blobs (2 .. 6); crash -> big swell.
"""

from __future__ import annotations

from typing import Any

import torch

from synesthete.visualizers.base import HIGHLIGHT, BaseVisualizer, Layers, uniform
from synesthete.visualizers.draw import TAU, axes, contour_lines, neon_, per_frame, ramp_
from synesthete.visualizers.signals import Drive

MAX_BLOBS = 6


class Metaballs(BaseVisualizer):
    name = "metaballs"

    def sample_params(self, gen: torch.Generator) -> dict[str, Any]:
        return {
            "radii": [uniform(gen, 0.09, 0.15) for _ in range(MAX_BLOBS)],
            "orbits": [[uniform(gen, 0.3, 0.65), uniform(gen, 0.25, 0.55)] for _ in range(MAX_BLOBS)],
            # Lissajous frequencies (turns per beat) and phases, x and y.
            "speeds": [[uniform(gen, -0.1, 0.1), uniform(gen, -0.1, 0.1)] for _ in range(MAX_BLOBS)],
            "phases": [[uniform(gen, 0.0, TAU), uniform(gen, 0.0, TAU)] for _ in range(MAX_BLOBS)],
            "contours": uniform(gen, 4.0, 6.0),  # rings per blob radius
        }

    def draw(self, d: Drive, style: dict[str, Any], size: int) -> Layers:
        x, y = axes(size)
        count = 2.0 + (MAX_BLOBS - 2) * d.energy  # [T]
        spread = 1.0 + 0.25 * d.snare
        turn = 0.25 * d.tone
        cy0 = -d.bass_lift  # higher bass note, higher cluster
        field = torch.zeros(d.frames, size, size)
        q = torch.empty(d.frames, size, size)
        for i in range(MAX_BLOBS):
            lit = ramp_(count - i, 0.0, 1.0)
            if not bool((lit > 0).any()):
                continue
            (ax, ay), (sx, sy), (px_, py_) = style["orbits"][i], style["speeds"][i], style["phases"][i]
            ox = ax * torch.sin(TAU * sx * d.beats + px_) * spread
            oy = ay * torch.cos(TAU * sy * d.beats + py_) * spread
            jitter = (0.03 if i % 2 == 0 else -0.03) * d.hat
            cx = ox * torch.cos(turn) - oy * torch.sin(turn) + jitter
            cy = ox * torch.sin(turn) + oy * torch.cos(turn) + cy0 - jitter
            r2 = (style["radii"][i] * (1.0 + 0.2 * d.kick + 0.25 * d.crash) * lit) ** 2
            dx, dy = x - per_frame(cx), y - per_frame(cy)  # [T, 1, W], [T, H, 1]
            torch.add(dx * dx, dy * dy, out=q).add_(1e-3).reciprocal_().mul_(per_frame(r2))
            field += q
        halo = field.clamp(max=1.0).mul_(0.35)  # the field's own falloff is the glow
        inside = ramp_(field.clone(), 0.9, 1.1)
        rim = neon_(torch.sub(field, 1.0), 0.12)
        # F^(-1/2) is distance / radius for a lone blob: its contours are evenly spaced rings.
        reach = torch.rsqrt(field)
        rings = contour_lines(reach, 1.0 / style["contours"]).mul_(inside).mul_(0.8)
        deep = ramp_(reach, 1.0, 0.3)  # fill shades from colour 0 (edge) to colour 1 (core)
        fill = inside.mul_(0.22)
        core = fill * deep
        fill -= core
        return [(fill, 0), (core, 1), (rings, 2), (halo, 0), (rim, HIGHLIGHT)]
