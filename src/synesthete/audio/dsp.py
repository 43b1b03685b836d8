"""Small signal-building helpers shared by the drum and tone synthesizers.

All float32. These run once per (instrument, design, sample_rate) when a cache is filled,
never per clip, so they favour clarity over speed.
"""

import math
import zlib

import torch
from torch import Tensor

NYQUIST_MARGIN = 0.45  # keep partials below 0.45 * sample_rate: no aliasing, some headroom


def time_axis(seconds: float, sample_rate: int) -> Tensor:
    """Sample times in seconds, [n] with n = round(seconds * sample_rate)."""
    return torch.arange(round(seconds * sample_rate), dtype=torch.float32) / sample_rate


def fixed_generator(name: str) -> torch.Generator:
    """A generator seeded from a name (crc32: stable across processes, unlike hash())."""
    return torch.Generator().manual_seed(zlib.crc32(name.encode()))


def band_noise(n: int, sample_rate: int, low: float, high: float, name: str) -> Tensor:
    """Deterministic white noise band-limited to [low, high] Hz by an FFT mask, unit std, [n]."""
    white = torch.randn(n, generator=fixed_generator(name))
    spectrum = torch.fft.rfft(white)
    freqs = torch.fft.rfftfreq(n, 1.0 / sample_rate)
    low = min(low, 0.35 * sample_rate)  # keep some band at low sample rates
    # Soft shoulders (a quarter octave) avoid ringing from a brick-wall mask.
    rise = torch.clamp((torch.log2(freqs.clamp(min=1.0) / low) + 0.25) / 0.25, 0.0, 1.0)
    fall = torch.clamp((0.25 - torch.log2(freqs.clamp(min=1.0) / high)) / 0.25, 0.0, 1.0)
    out = torch.fft.irfft(spectrum * rise * fall, n=n)
    return out / out.std().clamp(min=1e-8)


def exp_decay(t: Tensor, seconds: float) -> Tensor:
    """exp(-t / seconds): the decay every percussive envelope here uses."""
    return torch.exp(-t / seconds)


def attack_ramp(t: Tensor, seconds: float) -> Tensor:
    """Linear fade-in over `seconds` (a few ms stops clicks; longer makes pads swell)."""
    return torch.clamp(t / seconds, max=1.0)


def sine(freq_hz: float | Tensor, t: Tensor) -> Tensor:
    """sin(2 pi f t), with the cycle count wrapped before the sin for float32 accuracy."""
    cycles = freq_hz * t
    return torch.sin(2 * math.pi * (cycles - torch.floor(cycles)))


WAVETABLE_SIZE = 2048  # samples per cycle; linear lookup error < 1% for 100+ harmonics


def wavetable(amplitudes: Tensor) -> Tensor:
    """One cycle of sum_h amplitudes[:, h-1] * sin(2 pi h n / N) per row, [P, N + 1] from [P, H].

    Built with one inverse FFT; the extra last sample repeats the first so lookups can
    interpolate across the wrap without a modulo.
    """
    size = WAVETABLE_SIZE
    spectrum = torch.zeros(amplitudes.shape[0], size // 2 + 1, dtype=torch.complex64)
    spectrum[:, 1 : amplitudes.shape[1] + 1] = -0.5j * size * amplitudes  # irfft -> sum of sines
    table = torch.fft.irfft(spectrum, n=size)
    return torch.cat([table, table[:, :1]], dim=1)


def table_lookup(tables: list[Tensor], cycles: Tensor) -> list[Tensor]:
    """Read each [P, N + 1] table at phase `cycles` in [0, 1), [P, M], linearly interpolated."""
    pos = cycles * WAVETABLE_SIZE
    index = pos.long().clamp(max=WAVETABLE_SIZE - 1)
    frac = pos - index
    out = []
    for table in tables:
        left = torch.gather(table, 1, index)
        right = torch.gather(table, 1, index + 1)
        out.append(left + (right - left) * frac)
    return out


def normalize_peak(x: Tensor, dim: int = -1) -> Tensor:
    """Scale so the peak magnitude along `dim` is 1 (silent rows stay silent)."""
    return x / x.abs().amax(dim=dim, keepdim=True).clamp(min=1e-8)
