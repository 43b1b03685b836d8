"""Kaleidoscope: a flowing interference pattern folded into n mirrored wedges.

The angle is folded into one wedge (mirrored, so edges join seamlessly) and the pattern
sin(a X + p1) + sin(b Y + p2) + sin(c (X + Y) + p3) is drawn as neon contour lines over a
soft two-tone fill. Mappings: tempo -> rotation and pattern flow; kick -> zoom pulse;
snare/clap -> turn jolt + flash; hat -> pattern shifts a notch; bass/chord/lead onsets ->
pattern phase jolt; bass pitch -> third wave's phase; lead pitch -> hue; energy -> contour
density and the third wave's strength; crash -> big zoom.
"""

from __future__ import annotations

from typing import Any

import torch

from synesthete.visualizers.base import HIGHLIGHT, BaseVisualizer, Layers, randint, sign, uniform
from synesthete.visualizers.draw import TAU, contour_lines, glow_, per_frame, polar, ramp_
from synesthete.visualizers.signals import Drive, against


class Kaleidoscope(BaseVisualizer):
    name = "kaleidoscope"

    def sample_params(self, gen: torch.Generator) -> dict[str, Any]:
        return {
            "mirrors": randint(gen, 3, 8),  # wedge pairs: 2n-fold symmetry
            "freqs": [uniform(gen, 2.0, 4.0) for _ in range(3)],  # a, b, c
            "flow": [sign(gen) * uniform(gen, 0.06, 0.15) for _ in range(3)],  # rad per beat
            "spin": sign(gen) * uniform(gen, 0.006, 0.015),  # turns per beat
            "contours": uniform(gen, 0.8, 1.2),  # lines per unit of the pattern
        }

    def draw(self, d: Drive, style: dict[str, Any], size: int) -> Layers:
        wedge = TAU / (2 * style["mirrors"])
        r, theta = polar(size)  # [1, H, W]
        jolt = against(style["spin"]) * (0.25 * wedge * d.snare + 0.04 * d.hat)  # rad
        turn = TAU * style["spin"] * d.beats + jolt
        zoom = 1.0 / (1.0 + 0.22 * d.kick + 0.3 * d.crash)  # [T]
        # Fold: angle within a wedge, mirrored every other wedge: a in [0, wedge].
        a = torch.sub(theta, per_frame(turn)).remainder_(2 * wedge).sub_(wedge).abs_()
        rz = r * per_frame(zoom)  # [T, H, W]
        fx = torch.cos(a).mul_(rz)  # folded coordinates X, Y
        fy = a.sin_().mul_(rz)
        fa, fb, fc = style["freqs"]
        fl = style["flow"]
        p1 = per_frame(fl[0] * d.beats + against(fl[0]) * 0.35 * d.hat)
        p2 = per_frame(fl[1] * d.beats + against(fl[1]) * 0.3 * d.tone)
        p3 = per_frame(fl[2] * d.beats + 4.0 * d.bass_lift)
        pat = torch.mul(fx, fa).add_(p1).sin_()
        pat += fy.mul_(fb).add_(p2).sin_()
        third = fx.add_(fy, alpha=fc / fb).mul_(fc * 0.7).add_(p3).sin_()  # fx := sin(c(X+Y))
        pat.addcmul_(third, per_frame(0.3 + 0.7 * d.energy))  # pattern in [-3, 3]
        spacing = per_frame(1.0 / (style["contours"] * (0.7 + 0.6 * d.energy)))
        lines = contour_lines(pat, spacing)
        # Two-tone: colour 0 where the pattern is low, colour 1 where it is high.
        tone = ramp_(pat, -1.5, 1.5)
        hi = lines * tone
        lines -= hi
        fill = tone.mul_(0.18)
        vignette = ramp_(rz.clone(), 1.5, 0.9)  # [T, H, W]
        for layer in (lines, hi, fill):
            layer.mul_(vignette)
        core = glow_(rz, per_frame(0.1 * zoom)).mul_(per_frame(0.2 + 0.5 * d.kick))
        return [(lines, 0), (hi, 1), (fill, 2), (core, HIGHLIGHT)]
