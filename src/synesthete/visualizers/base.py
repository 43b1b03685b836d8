"""The visualizer interface and the plumbing every visualizer shares.

A subclass supplies `sample_params` (its own style knobs) and `draw`, which returns glowing
intensity layers; the base turns features into a `Drive`, colours the layers with the
palette (hue shifted by lead pitch, brightness by loudness, flashes on snare/clap and crash)
and composes them additively over a dark background into uint8 frames.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import Tensor

from synesthete.visualizers.palette import frame_colors, hsv_to_rgb, sample_background, sample_palette
from synesthete.visualizers.signals import Drive

Layers = list[tuple[Tensor, int]]
"""(intensity [T, H, W] >= 0, colour index): indices 0..3 are the palette, 4 is HIGHLIGHT."""
HIGHLIGHT = 4
RENDER_SCALE = 0.5
"""Draw at this fraction of the output size (never below 64 px) and upsample bilinearly:
4x fewer pixels to shade; the glow style has no detail that a 2x upsample loses."""


@runtime_checkable
class Visualizer(Protocol):
    """What the data engine codes against."""

    name: str

    def sample_style(self, gen: torch.Generator, mode: str, tempo: float) -> dict[str, Any]: ...

    def render(self, features: Tensor, style: dict[str, Any], size: int, fps: int,
               t0: float = 0.0, tempo: float = 120.0) -> Tensor: ...


def uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    """One float in [lo, hi) from `gen`, rounded so styles stay short in JSON."""
    return round(lo + (hi - lo) * float(torch.rand((), generator=gen)), 4)


def randint(gen: torch.Generator, lo: int, hi: int) -> int:
    """One int in [lo, hi] from `gen`."""
    return int(torch.randint(lo, hi + 1, (), generator=gen))


def sign(gen: torch.Generator) -> float:
    return 1.0 if float(torch.rand((), generator=gen)) < 0.5 else -1.0


class BaseVisualizer:
    """Shared sample_style / render; subclasses set `name` and implement the two hooks."""

    name: str = ""

    def sample_params(self, gen: torch.Generator) -> dict[str, Any]:
        """This visualizer's style knobs (counts, speeds, shapes): JSON-serialisable."""
        return {}

    def draw(self, d: Drive, style: dict[str, Any], size: int) -> Layers:
        """Intensity layers for frames [T, H, W]; a pure function of `d`, style and size."""
        raise NotImplementedError

    def sample_style(self, gen: torch.Generator, mode: str, tempo: float) -> dict[str, Any]:
        """Palette from the key's family (tempo enters at render time, as motion speed)."""
        palette = sample_palette(gen, mode)
        style: dict[str, Any] = {"visualizer": self.name, "mode": mode, "palette": palette,
                                 "background": sample_background(gen, palette)}
        style.update(self.sample_params(gen))
        return style

    def render(self, features: Tensor, style: dict[str, Any], size: int, fps: int,
               t0: float = 0.0, tempo: float = 120.0) -> Tensor:
        """features float [T, F] in [0, 1] -> frames uint8 [T, 3, size, size]."""
        d = Drive.from_features(features, fps, t0, tempo)
        colors = frame_colors(style["palette"], d.lead_pitch)  # [T, 4, 3]
        hot = colors.mean(1, keepdim=True).mul_(0.35).add_(0.65)  # near-white, palette-tinted
        colors = torch.cat([colors, hot], 1)  # [T, 5, 3]
        # Loudness -> brightness; snare/clap and crash flash the whole frame; risers build light.
        gain = 0.55 + 0.75 * d.rms.sqrt() + 0.35 * d.snare + 0.35 * d.crash + 0.3 * d.riser  # [T]
        colors = colors * gain[:, None, None]
        bg = hsv_to_rgb(torch.tensor(style["background"], dtype=torch.float32))  # [3]
        bg = bg[None] * (1.0 + 1.5 * d.snare + 1.5 * d.crash + 2.0 * d.riser)[:, None]  # [T, 3]
        work = max(min(size, 64), int(size * RENDER_SCALE))
        frames = compose(self.draw(d, style, work), colors, bg)  # [T, 3, work, work]
        if work != size:
            frames = F.interpolate(frames, size=(size, size), mode="bilinear", align_corners=False)
        return frames


def compose(layers: Layers, colors: Tensor, bg: Tensor) -> Tensor:
    """Additive glow: bg [T, 3] + sum_k layer_k [T, H, W] x colour [T, 3] -> uint8 [T, 3, H, W]."""
    first, k = layers[0]
    out = first.unsqueeze(1) * colors[:, k, :, None, None]  # [T, 3, H, W]
    out += bg[:, :, None, None]
    for layer, k in layers[1:]:
        out.addcmul_(layer.unsqueeze(1), colors[:, k, :, None, None])
    return out.clamp_(0.0, 1.0).mul_(255.0).add_(0.5).to(torch.uint8)
