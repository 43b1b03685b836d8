"""Plasma: a domain-warped interference field drawn as glowing topographic contours.

Coordinates are turned and zoomed per frame, warped twice (u += w sin(v + p1); v += w
sin(u + p2)), and the field sin(0.7 (u + v) + p3) + sin(v - p4) is drawn as neon contour
lines over a two-tone fill: the flowing-liquid look of plasma, with lines for optical flow
to follow. Mappings: tempo -> flow and rotation speed; kick -> zoom pulse; snare/clap ->
warp jolt + flash; hat -> small drift jolt; bass/chord/lead onsets -> phase jolt; bass
pitch -> pattern position; lead pitch -> hue; energy -> contour density and warp strength.
"""

from __future__ import annotations

from typing import Any

import torch

from synesthete.visualizers.base import HIGHLIGHT, BaseVisualizer, Layers, sign, uniform
from synesthete.visualizers.draw import TAU, affine, contour_lines, per_frame, ramp_
from synesthete.visualizers.signals import Drive, against


class Plasma(BaseVisualizer):
    name = "plasma"

    def sample_params(self, gen: torch.Generator) -> dict[str, Any]:
        return {
            "freq": uniform(gen, 2.0, 3.5),  # pattern radians per unit
            "warp": uniform(gen, 0.6, 1.2),
            "flow": [sign(gen) * uniform(gen, 0.05, 0.15) for _ in range(4)],  # rad per beat
            "spin": sign(gen) * uniform(gen, 0.005, 0.015),  # turns per beat
            "contours": uniform(gen, 1.2, 1.8),  # lines per unit of the field
            "angle": uniform(gen, 0.0, TAU),  # orientation of the pattern
            "phases": [uniform(gen, 0.0, TAU) for _ in range(4)],
        }

    def draw(self, d: Drive, style: dict[str, Any], size: int) -> Layers:
        fl, ph = style["flow"], style["phases"]
        scale = style["freq"] / (1.0 + 0.15 * d.kick + 0.2 * d.crash)
        u, v = affine(size, style["angle"] + TAU * style["spin"] * d.beats, scale,
                      dx=0.3 * d.hat, dy=0.05 * d.beats + 1.5 * d.bass_lift)  # [T, H, W] each
        warp = per_frame(style["warp"] * (0.6 + 0.4 * d.energy))
        w1 = torch.add(v, per_frame(ph[0] + fl[0] * d.beats + against(fl[0]) * 0.5 * d.snare)).sin_()
        u.addcmul_(w1, warp)
        w2 = torch.add(u, per_frame(ph[1] + fl[1] * d.beats + against(fl[1]) * 0.3 * d.tone)).sin_()
        v.addcmul_(w2, warp)
        field = torch.add(u, v).mul_(0.7).add_(per_frame(ph[2] + fl[2] * d.beats)).sin_()
        field += v.sub_(per_frame(ph[3] + fl[3] * d.beats)).sin_()  # field in [-2, 2]
        spacing = per_frame(1.0 / (style["contours"] * (0.7 + 0.6 * d.energy)))
        lines = contour_lines(field, spacing)
        tone = ramp_(field, -1.5, 1.5)  # two-tone: colour 0 low, colour 1 high
        hi = lines * tone
        lines -= hi
        hot = ramp_(tone.clone(), 0.85, 1.0).square_().mul_(0.35)  # peaks glow white-hot
        fill = tone.square_().mul_(0.15)
        return [(lines, 0), (hi, 1), (fill, 2), (hot, HIGHLIGHT)]
