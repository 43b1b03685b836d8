"""Drum one-shots: kick, snare, clap, closed/open hat and crash, several designs each.

A one-shot is synthesized once per (kind, design, sample_rate) and cached; a clip places
copies by overlap-add (see mix.py), so drums cost a memcpy per hit, not a synthesis.
Every one-shot starts at its onset (sample 0) with peak 1.
"""

import math
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Callable, Literal

import torch
from torch import Tensor

from synesthete.audio.dsp import attack_ramp, band_noise, exp_decay, fixed_generator, normalize_peak, sine, time_axis
from synesthete.audio.theory import tune_to_key

DrumKind = Literal["kick", "snare", "clap", "hat", "open_hat", "crash"]


@dataclass(frozen=True)
class DrumDesign:
    build: Callable[..., Tensor]  # (sample_rate, key) -> one-shot [S], peak 1
    decay: float  # seconds; the activation feature decays with this time constant
    tuned: bool = False  # pitched body tuned to the song's tonic (else `key` is ignored)


def _kick(sr: int, key: int, f_start: float, f_end: float, sweep: float, decay: float, drive: float,
          click: float, seconds: float) -> Tensor:
    """Sine with an exponential pitch drop (the 808/909 recipe) plus a noise click for the attack.

    The settled pitch is tuned to the song's tonic: an untuned 49 Hz kick alone pulled a
    chroma key estimate to G in most songs.
    """
    tuned = tune_to_key(f_end, key)
    f_start, f_end = f_start * tuned / f_end, tuned
    t = time_axis(seconds, sr)
    # phase = 2 pi * integral of f(t) = f_end + (f_start - f_end) exp(-t / sweep)
    phase = 2 * math.pi * (f_end * t + (f_start - f_end) * sweep * (1 - torch.exp(-t / sweep)))
    body = torch.sin(phase) * exp_decay(t, decay) * attack_ramp(t, 0.001)
    tick = band_noise(t.numel(), sr, 1500.0, 6000.0, "kick-click") * exp_decay(t, 0.003) * click
    return normalize_peak(torch.tanh(drive * (body + tick)))


def _snare(sr: int, key: int, tone_hz: float, tone_decay: float, low: float, high: float, noise_decay: float,
           tone_mix: float, seconds: float, name: str) -> Tensor:
    """Two-mode drum-head tone (tuned to the tonic) plus band-passed noise for the wires."""
    tone_hz = tune_to_key(tone_hz, key)
    t = time_axis(seconds, sr)
    body = (sine(tone_hz, t) + 0.5 * sine(tone_hz * 1.62, t)) * exp_decay(t, tone_decay)
    wires = band_noise(t.numel(), sr, low, high, name) * exp_decay(t, noise_decay) * 0.5
    return normalize_peak((tone_mix * body + (1 - tone_mix) * wires) * attack_ramp(t, 0.0005))


def _clap(sr: int, key: int, bursts: int, spacing: float, low: float, high: float, tail: float, seconds: float,
          name: str) -> Tensor:
    """Several hands a few ms apart (short noise bursts), then a diffuse tail."""
    t = time_axis(seconds, sr)
    env = torch.zeros_like(t)
    for i in range(bursts):
        dt = t - i * spacing
        env = env + torch.where(dt >= 0, torch.exp(-dt.clamp(min=0) / 0.004), 0.0)
    dt = t - bursts * spacing
    env = env + 0.6 * torch.where(dt >= 0, torch.exp(-dt.clamp(min=0) / tail), 0.0)
    return normalize_peak(band_noise(t.numel(), sr, low, high, name) * env)


def _hat(sr: int, key: int, style: Literal["noise", "metallic", "tick"], decay: float, seconds: float) -> Tensor:
    """Hi-hat: high noise, a cluster of inharmonic partials (808-like), or a short bright tick."""
    t = time_axis(seconds, sr)
    n = t.numel()
    if style == "noise":
        x = band_noise(n, sr, 7000.0, 16000.0, "hat-noise")
    elif style == "metallic":
        partials = torch.tensor([3120.0, 3870.0, 4520.0, 5340.0, 6080.0, 7210.0])
        partials = partials[partials < 0.45 * sr][:, None]  # [K, 1]
        metal = torch.sign(sine(partials, t[None, :])).mean(0)  # square partials ring metallic
        x = 0.5 * metal + band_noise(n, sr, 6000.0, 16000.0, "hat-metal")
        x = _highpass(x, sr, 2500.0)
    else:
        x = band_noise(n, sr, 3500.0, 16000.0, "hat-tick")
    return normalize_peak(x * exp_decay(t, decay) * attack_ramp(t, 0.0005))


def _highpass(x: Tensor, sr: int, corner: float) -> Tensor:
    """High-pass with a linear FFT-mask ramp from `corner` to `corner` + 1.5 kHz."""
    spectrum = torch.fft.rfft(x)
    freqs = torch.fft.rfftfreq(x.numel(), 1.0 / sr)
    mask = torch.clamp((freqs - corner) / 1500.0, 0.0, 1.0)
    return torch.fft.irfft(spectrum * mask, n=x.numel())


def _crash(sr: int, key: int, style: Literal["wash", "metallic", "impact"], decay: float, seconds: float) -> Tensor:
    """Crash cymbal: a long noise wash, a bank of inharmonic partials, or a cinematic impact."""
    t = time_axis(seconds, sr)
    n = t.numel()
    if style == "wash":
        x = band_noise(n, sr, 3000.0, 16000.0, "crash-wash") * exp_decay(t, decay)
    elif style == "metallic":
        g = fixed_generator("crash-partials")
        freqs = (2000.0 + 5000.0 * torch.rand(24, 1, generator=g)).clamp(max=0.45 * sr)  # [24, 1]
        decays = decay * (0.6 + 0.8 * torch.rand(24, 1, generator=g))
        partials = (sine(freqs, t[None, :]) * torch.exp(-t[None, :] / decays)).mean(0)
        x = 2.0 * partials + band_noise(n, sr, 4000.0, 16000.0, "crash-metal") * exp_decay(t, decay * 0.7)
    else:
        boom = sine(55.0, t) * exp_decay(t, 0.35)
        rumble = band_noise(n, sr, 80.0, 900.0, "crash-rumble") * exp_decay(t, 0.5)
        air = band_noise(n, sr, 3000.0, 16000.0, "crash-air") * exp_decay(t, decay)
        x = boom + 0.6 * rumble + 0.5 * air
    return normalize_peak(x * attack_ramp(t, 0.002))


DRUM_DESIGNS: dict[DrumKind, dict[str, DrumDesign]] = {
    "kick": {
        "808": DrumDesign(partial(_kick, f_start=120.0, f_end=48.0, sweep=0.04, decay=0.45, drive=1.5,
                                  click=0.25, seconds=0.9), decay=0.45, tuned=True),
        "punchy": DrumDesign(partial(_kick, f_start=180.0, f_end=55.0, sweep=0.015, decay=0.16, drive=2.0,
                                     click=0.4, seconds=0.5), decay=0.16, tuned=True),
        "distorted": DrumDesign(partial(_kick, f_start=220.0, f_end=52.0, sweep=0.025, decay=0.15, drive=2.5,
                                        click=0.3, seconds=0.6), decay=0.15, tuned=True),
    },
    "snare": {
        "acoustic": DrumDesign(partial(_snare, tone_hz=190.0, tone_decay=0.05, low=1000.0, high=8000.0,
                                       noise_decay=0.13, tone_mix=0.45, seconds=0.45, name="snare-acoustic"),
                               decay=0.13, tuned=True),
        "tight": DrumDesign(partial(_snare, tone_hz=240.0, tone_decay=0.03, low=2000.0, high=9000.0,
                                    noise_decay=0.06, tone_mix=0.3, seconds=0.25, name="snare-tight"),
                            decay=0.06, tuned=True),
        "808": DrumDesign(partial(_snare, tone_hz=238.0, tone_decay=0.09, low=1500.0, high=8000.0,
                                  noise_decay=0.1, tone_mix=0.55, seconds=0.4, name="snare-808"),
                          decay=0.1, tuned=True),
    },
    "clap": {
        "classic": DrumDesign(partial(_clap, bursts=3, spacing=0.010, low=800.0, high=4000.0, tail=0.12,
                                      seconds=0.5, name="clap-classic"), decay=0.12),
        "tight": DrumDesign(partial(_clap, bursts=2, spacing=0.006, low=1200.0, high=6000.0, tail=0.06,
                                    seconds=0.3, name="clap-tight"), decay=0.06),
        "room": DrumDesign(partial(_clap, bursts=4, spacing=0.012, low=600.0, high=3000.0, tail=0.3,
                                   seconds=0.9, name="clap-room"), decay=0.3),
    },
    "hat": {
        "noise": DrumDesign(partial(_hat, style="noise", decay=0.035, seconds=0.2), decay=0.035),
        "metallic": DrumDesign(partial(_hat, style="metallic", decay=0.04, seconds=0.2), decay=0.04),
        "tick": DrumDesign(partial(_hat, style="tick", decay=0.015, seconds=0.1), decay=0.015),
    },
    "open_hat": {
        "noise": DrumDesign(partial(_hat, style="noise", decay=0.25, seconds=0.9), decay=0.25),
        "metallic": DrumDesign(partial(_hat, style="metallic", decay=0.3, seconds=1.0), decay=0.3),
        "tick": DrumDesign(partial(_hat, style="tick", decay=0.12, seconds=0.5), decay=0.12),
    },
    "crash": {
        "wash": DrumDesign(partial(_crash, style="wash", decay=0.9, seconds=3.0), decay=0.9),
        "metallic": DrumDesign(partial(_crash, style="metallic", decay=1.1, seconds=3.0), decay=1.1),
        "impact": DrumDesign(partial(_crash, style="impact", decay=0.8, seconds=3.0), decay=0.8),
    },
}


FADE_FRACTION = 0.25  # a half-cosine fade over the last quarter: cutting a ringing tail clicks,
# and a click is a (false) onset


def one_shot(kind: DrumKind, design: str, sample_rate: int, key: int) -> Tensor:
    """The one-shot [S] of a drum design at a sample rate, tuned to `key` if the design is tuned."""
    return _one_shot(kind, design, sample_rate, key if DRUM_DESIGNS[kind][design].tuned else 0)


@lru_cache(maxsize=None)
def _one_shot(kind: DrumKind, design: str, sample_rate: int, key: int) -> Tensor:
    """Built on first use, then cached: drums cost a memcpy per hit."""
    x = DRUM_DESIGNS[kind][design].build(sample_rate, key).to(torch.float32)
    n = round(FADE_FRACTION * x.numel())
    fade = 0.5 + 0.5 * torch.cos(torch.linspace(0.0, math.pi, n))
    return torch.cat([x[:-n], x[-n:] * fade]).contiguous()
