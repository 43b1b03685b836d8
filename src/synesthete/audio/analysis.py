"""Audio analysis in torch: log-mel, onset strength, peak picking, onset detection.

Mirrors librosa's definitions (librosa.feature.melspectrogram + power_to_db,
librosa.onset.onset_strength, librosa.util.peak_pick, librosa.onset.onset_detect) so results
compare with the literature, but runs on tensors (any device, float32) for evaluation.
"""

import math
from functools import lru_cache

import torch
import torchaudio.functional as AF
from torch import Tensor

AMIN = 1e-10  # power floor before the log (librosa's amin)
TOP_DB = 80.0  # dynamic range kept below the maximum (librosa's top_db)


def default_hop(sample_rate: int) -> int:
    """10 ms: fine enough to time onsets well inside a +-30 ms tolerance."""
    return sample_rate // 100


def default_n_fft(sample_rate: int) -> int:
    """The power of two nearest 32 ms (512 at 16 kHz): short windows keep onsets sharp."""
    return 2 ** round(math.log2(0.032 * sample_rate))


@lru_cache(maxsize=16)
def _mel_filters(sample_rate: int, n_fft: int, n_mels: int, device: str) -> Tensor:
    """Slaney-style mel filterbank [n_fft // 2 + 1, n_mels], as librosa.filters.mel."""
    fb = AF.melscale_fbanks(n_fft // 2 + 1, 0.0, sample_rate / 2, n_mels, sample_rate, norm="slaney",
                            mel_scale="slaney")
    return fb.to(device)


def log_mel(audio: Tensor, sample_rate: int, n_mels: int = 64, hop: int | None = None, n_fft: int | None = None
            ) -> Tensor:
    """Log-power mel spectrogram in dB, [..., n_mels, frames] from [..., L].

    Centred frames (frame t is centred on sample t * hop, zero padded), power 2, 10 log10 with
    ref 1 and values clipped to TOP_DB below the maximum, as librosa.power_to_db.
    """
    hop = hop or default_hop(sample_rate)
    n_fft = n_fft or default_n_fft(sample_rate)
    shape = audio.shape[:-1]
    flat = audio.reshape(-1, audio.shape[-1]).float()
    window = torch.hann_window(n_fft, device=flat.device)
    spec = torch.stft(flat, n_fft, hop, window=window, center=True, pad_mode="constant", return_complex=True)
    power = spec.real.square() + spec.imag.square()  # [B, n_fft // 2 + 1, frames]
    mel = torch.einsum("bft,fm->bmt", power, _mel_filters(sample_rate, n_fft, n_mels, str(flat.device)))
    db = 10.0 * torch.log10(mel.clamp(min=AMIN))
    db = torch.maximum(db, db.amax(dim=(-2, -1), keepdim=True) - TOP_DB)
    return db.reshape(*shape, n_mels, db.shape[-1])


def onset_strength(audio: Tensor, sample_rate: int, hop: int | None = None, n_fft: int | None = None,
                   n_mels: int = 128) -> Tensor:
    """Spectral flux onset envelope, [..., frames] from [..., L] (librosa.onset.onset_strength).

    Mean over mel bands of the positive change in log-mel from the previous frame, shifted by
    1 + n_fft // (2 hop) frames as librosa does to line peaks up with the onsets' times.
    """
    hop = hop or default_hop(sample_rate)
    n_fft = n_fft or default_n_fft(sample_rate)
    spec = log_mel(audio, sample_rate, n_mels, hop, n_fft)  # [..., M, T]
    flux = (spec[..., 1:] - spec[..., :-1]).clamp(min=0.0).mean(dim=-2)  # [..., T - 1]
    shift = 1 + n_fft // (2 * hop)
    padded = torch.nn.functional.pad(flux, (shift, 0))
    return padded[..., : spec.shape[-1]]


def pick_peaks(env: Tensor, pre_max: int, post_max: int, pre_avg: int, post_avg: int, delta: float, wait: int
               ) -> Tensor:
    """Indices of peaks in a 1-D envelope, int64 [K] (librosa.util.peak_pick).

    n is a peak if env[n] == max(env[n - pre_max : n + post_max]) and
    env[n] >= mean(env[n - pre_avg : n + post_avg]) + delta, windows clipped at the edges;
    then peaks closer than `wait` frames to the previous kept peak are dropped, greedily.
    """
    n = env.shape[-1]
    if n == 0:
        return torch.zeros(0, dtype=torch.int64)
    x = env.float()
    # Running max over [n - pre_max, n + post_max) (post_max >= 1): pad with -inf, pool, stride 1.
    padded = torch.nn.functional.pad(x[None, None], (pre_max, post_max - 1), value=-math.inf)
    local_max = torch.nn.functional.max_pool1d(padded, pre_max + post_max, stride=1)[0, 0]
    # Running mean over [n - pre_avg, n + post_avg) clipped to the signal, via a cumulative sum.
    csum = torch.cat([x.new_zeros(1), torch.cumsum(x, 0)])
    idx = torch.arange(n, device=x.device)
    lo, hi = (idx - pre_avg).clamp(min=0), (idx + post_avg).clamp(max=n)
    local_mean = (csum[hi] - csum[lo]) / (hi - lo)
    candidates = torch.nonzero((x == local_max) & (x >= local_mean + delta)).flatten().tolist()
    kept: list[int] = []
    for c in candidates:
        if not kept or c > kept[-1] + wait:
            kept.append(c)
    return torch.tensor(kept, dtype=torch.int64)


def detect_onsets(audio: Tensor, sample_rate: int, hop: int | None = None, delta: float = 0.07) -> Tensor:
    """Onset times in seconds, float32 [K], of a mono [L] or [1, L] signal (librosa.onset.onset_detect).

    The envelope is normalised to [0, 1]; librosa's tuned windows: local max over the last
    30 ms, mean over +-100 ms, at least 30 ms between onsets.
    """
    hop = hop or default_hop(sample_rate)
    env = onset_strength(audio.reshape(-1), sample_rate, hop)
    env = env - env.min()
    env = env / (env.max() + 1e-10)
    ms30, ms100 = int(0.03 * sample_rate // hop), int(0.1 * sample_rate // hop)  # librosa's frame counts
    peaks = pick_peaks(env, pre_max=ms30, post_max=1, pre_avg=ms100, post_avg=ms100 + 1, delta=delta, wait=ms30)
    return peaks.float() * hop / sample_rate
