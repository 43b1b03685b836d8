"""Strobe: a tilted LED wall of rounded cells, lit by waves from the centre, sparking on hats.

The camera looks at a square lattice through a turning, zooming, sliding view; each cell is
a soft rounded square whose brightness follows a diamond wave travelling outward with the
beat, and hats light random cells white. Mappings: tempo -> wave speed and lattice drift;
kick -> zoom pulse; snare/clap -> lattice slides a third of a cell + flash; hat -> random
cells spark + small turn; bass/chord/lead onsets -> turn jolt; bass pitch -> vertical
lattice offset; lead pitch -> hue; energy -> finer lattice (more cells); crash -> big zoom.
"""

from __future__ import annotations

from typing import Any

import torch

from synesthete.visualizers.base import HIGHLIGHT, BaseVisualizer, Layers, sign, uniform
from synesthete.visualizers.draw import TAU, affine, hash2, neon_, per_frame, ramp_
from synesthete.visualizers.signals import Drive, against


class Strobe(BaseVisualizer):
    name = "strobe"

    def sample_params(self, gen: torch.Generator) -> dict[str, Any]:
        return {
            "cells": uniform(gen, 3.5, 5.5),  # cells per unit length
            "angle": uniform(gen, 0.0, TAU / 4),  # lattice tilt
            "spin": sign(gen) * uniform(gen, 0.003, 0.01),  # turns per beat
            "drift": sign(gen) * uniform(gen, 0.04, 0.1),  # cells per beat
            "fill": uniform(gen, 0.55, 0.8),  # cell size as a fraction of the pitch
            "wave": uniform(gen, 0.5, 1.0),  # wave speed, radians per beat
            "seed": uniform(gen, 0.0, 100.0),  # sparkle hash seed
        }

    def draw(self, d: Drive, style: dict[str, Any], size: int) -> Layers:
        px = 2.0 / size
        cells = style["cells"] * (0.8 + 0.4 * d.energy) / (1.0 + 0.15 * d.kick + 0.2 * d.crash)
        angle = (style["angle"] + TAU * style["spin"] * d.beats
                 + against(style["spin"]) * (0.05 * d.hat + 0.06 * d.tone))
        slide = style["drift"] * d.beats + against(style["drift"]) * 0.33 * d.snare
        u, v = affine(size, angle, cells, dx=slide, dy=3.0 * d.bass_lift)  # [T, H, W] in cells
        iu, iv = torch.floor(u), torch.floor(v)
        # Hats light a fresh random set of cells every 8th note. (The 1/pi offset keeps the
        # switch off frame boundaries, where float rounding of t could flip it between windows.)
        eighth = torch.floor(2.0 * d.beats + 1.0 / torch.pi).view(-1, 1, 1)
        spark = hash2(iu, iv, style["seed"] + 7.31 * eighth)
        spark = ramp_(spark, per_frame(1.0 - 0.35 * d.hat), 1.0).mul_(per_frame(d.hat))
        ring = iu.add_(0.5).abs_().add_(iv.add_(0.5).abs_())  # diamond distance, in cells
        lit = ring.mul_(0.9).sub_(per_frame(style["wave"] * TAU * d.beats)).cos_().mul_(0.5).add_(0.5)
        # Rounded-square cells: Chebyshev distance from the cell centre, soft one-pixel edge.
        edge = torch.maximum(u.sub_(torch.floor(u)).sub_(0.5).abs_(), v.sub_(torch.floor(v)).sub_(0.5).abs_())
        grout = neon_(torch.rsub(edge, 0.5), per_frame(0.7 * px * cells)).mul_(0.25)
        cell = edge.sub_(style["fill"] / 2).div_(per_frame(px * cells)).neg_().add_(0.5).clamp_(0.0, 1.0)
        dim = cell * 0.18
        bright = cell.mul_(lit)
        spark.mul_(dim).mul_(5.0)
        return [(bright, 0), (dim, 1), (grout, 2), (spark, HIGHLIGHT)]
