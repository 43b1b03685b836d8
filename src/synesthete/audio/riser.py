"""Noise risers: the swell of filtered noise that leads into a drop.

A riser can last several bars, so it is never built whole: `riser_segment` computes only the
samples that fall inside the clip window, from a cached set of noise bands indexed by time
since the riser's onset. The filter sweep is a crossfade low band -> mid -> high.
"""

import math
from functools import lru_cache
from typing import Literal

import torch
from torch import Tensor

from synesthete.audio.dsp import band_noise

RiserDesign = Literal["noise_sweep", "pitch_sweep", "swell"]
RISER_DESIGNS: tuple[RiserDesign, ...] = ("noise_sweep", "pitch_sweep", "swell")
MAX_RISER_SECONDS = 8.0  # the score never plans a longer riser
BANDS_HZ: tuple[tuple[float, float], ...] = ((300.0, 1500.0), (1200.0, 4000.0), (3500.0, 16000.0))
CHIRP_HZ = (150.0, 2000.0)  # pitch_sweep: exponential sine glide from -> to


@lru_cache(maxsize=None)
def noise_bands(sample_rate: int) -> Tensor:
    """[3, N] unit-std noise in the low, mid and high bands, N covers MAX_RISER_SECONDS."""
    n = math.ceil(MAX_RISER_SECONDS * sample_rate) + 1
    return torch.stack([band_noise(n, sample_rate, lo, hi, f"riser-{i}") for i, (lo, hi) in enumerate(BANDS_HZ)])


def riser_segment(design: RiserDesign, duration: int, first: int, last: int, sample_rate: int) -> Tensor:
    """Samples [first, last) of a riser `duration` samples long, counted from its onset, [last - first].

    Progress p = k / duration goes 0 -> 1; loudness grows like p^2 so the peak lands on the drop.
    """
    bands = noise_bands(sample_rate)[:, first:last]  # [3, n]
    k = torch.arange(first, last, dtype=torch.float32)
    p = k / duration
    if design == "swell":  # reverse-cymbal feel: only the top band, exponential swell
        return bands[2] * torch.exp(5.0 * (p - 1.0)) * p
    # Triangular crossfade weights centred on each band: [3, n].
    centre = torch.arange(3, dtype=torch.float32)[:, None]
    weights = torch.clamp(1.0 - (p[None, :] * 2.0 - centre).abs(), min=0.0)
    out = (weights * bands).sum(0) * p * p
    if design == "pitch_sweep":
        f0, f1 = CHIRP_HZ
        seconds = duration / sample_rate
        rate = math.log(f1 / f0)
        # phase of an exponential chirp f(p) = f0 (f1/f0)^p: integral over t = p * seconds
        cycles = f0 * seconds * (torch.exp(rate * p) - 1.0) / rate
        out = 0.6 * out + 0.8 * torch.sin(2 * math.pi * (cycles - torch.floor(cycles))) * p * p
    return out
