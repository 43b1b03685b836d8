"""Colour: HSV -> RGB in torch, key-dependent palettes, lead-pitch hue shift.

Minor keys draw cool hues (cyan, blue, purple), major keys warm ones (magenta, red, orange,
yellow), so a clip's key is readable from its colours. Hues are in turns (0..1). The
lead-pitch shift (at most +-HUE_SPAN / 2) is small enough to keep every hue in its family.
"""

from __future__ import annotations

import torch
from torch import Tensor

WARM_HUES = (-0.12, 0.14)  # pink/magenta (0.88) through red and orange to yellow
COOL_HUES = (0.48, 0.73)  # cyan through blue to violet
HUE_SPAN = 0.1  # lead pitch 0 -> -0.05 turns, 1 -> +0.05 turns
MINOR_MODES = frozenset({"minor", "aeolian", "dorian", "phrygian", "locrian"})


def is_minor(mode: str) -> bool:
    return mode.lower() in MINOR_MODES


def _uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen))


def sample_palette(gen: torch.Generator, mode: str, n: int = 4) -> list[list[float]]:
    """`n` vivid HSV colours [[h, s, v], ...] from the key's hue family.

    Hues are spread evenly (with jitter) over a random sub-arc of the family, ordered, so
    colour 0 and colour n-1 contrast most: analogous palettes look designed, uniform random
    picks look like test patterns.
    """
    lo, hi = COOL_HUES if is_minor(mode) else WARM_HUES
    spread = _uniform(gen, 0.35, 0.9) * (hi - lo)
    start = _uniform(gen, lo, hi - spread)
    hues = [start + spread * (i + _uniform(gen, -0.25, 0.25)) / (n - 1) for i in range(n)]
    hues = [min(max(h, lo), hi) for h in hues]
    if float(torch.rand((), generator=gen)) < 0.5:
        hues.reverse()
    return [[round(h % 1.0, 4), round(_uniform(gen, 0.6, 1.0), 4), round(_uniform(gen, 0.85, 1.0), 4)]
            for h in hues]


def sample_background(gen: torch.Generator, palette: list[list[float]]) -> list[float]:
    """A near-black HSV tinted by the palette's first hue (dark backgrounds make content glow)."""
    return [palette[0][0], round(_uniform(gen, 0.5, 0.9), 4), round(_uniform(gen, 0.04, 0.09), 4)]


def hsv_to_rgb(hsv: Tensor) -> Tensor:
    """[..., 3] HSV (hue in turns, wraps) -> [..., 3] RGB in [0, 1].

    f(n) = v - v s clamp(min(k, 4 - k), 0, 1), k = (n + 6 h) mod 6, n = 5, 3, 1 for R, G, B.
    """
    h, s, v = hsv[..., 0:1], hsv[..., 1:2], hsv[..., 2:3]
    n = torch.tensor([5.0, 3.0, 1.0], dtype=hsv.dtype, device=hsv.device)
    k = torch.remainder(n + 6.0 * h, 6.0)
    return v - v * s * torch.minimum(k, 4.0 - k).clamp(0.0, 1.0)


def frame_colors(palette: list[list[float]], lead_pitch: Tensor) -> Tensor:
    """Palette HSV [K, 3] shifted in hue by the lead pitch [T] -> RGB [T, K, 3]."""
    hsv = torch.tensor(palette, dtype=torch.float32)[None].repeat(lead_pitch.shape[0], 1, 1)
    hsv[..., 0] += (lead_pitch[:, None] - 0.5) * HUE_SPAN
    return hsv_to_rgb(hsv)
