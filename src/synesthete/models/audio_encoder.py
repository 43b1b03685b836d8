"""AudioEncoder: waveform [B, 1, L] -> frame-aligned tokens [B, T*k_out, D] and a clip embedding [B, D].

Log-mel with `mels_per_frame` (k) columns per video frame, column j centred on sample
(j + 1/2) * hop with hop = sample_rate // fps // k, so frame t owns columns t*k .. t*k+k-1
exactly; optionally 12 chroma rows on the same columns (pitch classes, which mel bands are too
wide to resolve at low frequencies; their 2048-point window adds about a frame of context each
side). A non-causal 1D conv stack (dilated residual blocks, WaveNet-style dilations) gives
every column a receptive field of several frames each side; a strided conv then pools each
frame's k columns to k_out tokens. Any L that is a multiple of the frame hop works.
With `key`, `key_correlations` also gives the window's key evidence: its mean chroma's
correlation with the 24 Krumhansl-Kessler key profiles. Mode (which sets the palette) is a property
of the whole window, which a stack that sees +-6 frames cannot average by itself.
"""

import librosa
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchaudio

# Krumhansl & Kessler (1982): probe-tone ratings of the 12 pitch classes above a major / minor
# tonic, the profiles of the Krumhansl-Schmuckler key finder.
KK_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
KK_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
# The key's STFT: on 3 s windows of 200 validation songs the largest correlation names the mode
# of 65% of them with 2048 points, 71% / 70.5% with 4096 / 8192, and the key itself of 37 / 46 / 49%
# (`scripts/key_probe.py --songs 200`): 8192 points resolve the bass notes.
KEY_FFT = 8192
KEY_INPUTS = 24   # correlations: 12 major keys, then 12 minor


def key_profiles() -> torch.Tensor:
    """[KEY_INPUTS, 12]: the KK profiles rolled to every tonic (rows 0-11 major on C..B, 12-23 minor),
    centred and scaled to unit norm, so a row times a centred unit chroma is a correlation."""
    rows = torch.stack([torch.roll(torch.tensor(p), k) for p in (KK_MAJOR, KK_MINOR) for k in range(12)])
    rows = rows - rows.mean(dim=1, keepdim=True)
    return rows / rows.norm(dim=1, keepdim=True)


def chroma_filterbank(sample_rate: int, n_fft: int) -> torch.Tensor:
    """librosa's pitch-class filterbank [12, n_fft // 2 + 1], float32."""
    return torch.from_numpy(librosa.filters.chroma(sr=sample_rate, n_fft=n_fft))


class ChannelNorm(nn.LayerNorm):
    """LayerNorm over channels of [B, C, L], per time step. Unlike GroupNorm it pools no
    statistics over time, so a token depends only on audio inside its receptive field (not on
    the clip's length or loudness elsewhere): windows of a long song encode like the whole."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


class ConvBlock1d(nn.Module):
    """x + proj(SiLU(conv_k(SiLU(norm(x))))) with dilation d: residual, length-preserving, non-causal."""

    def __init__(self, dim: int, kernel_size: int, dilation: int):
        super().__init__()
        self.norm = ChannelNorm(dim)
        self.conv = nn.Conv1d(dim, dim, kernel_size, dilation=dilation,
                              padding=dilation * (kernel_size - 1) // 2)
        self.proj = nn.Conv1d(dim, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.proj(F.silu(self.conv(F.silu(self.norm(x)))))


class AudioEncoder(nn.Module):
    """Receptive field of the mel-rate stack, in columns: 1 + (kernel_size-1) * sum(dilations).
    Defaults (k=4, kernel 3, dilations 1,2,4,8) -> 31 columns = +-3.75 frames, then two
    frame-rate blocks (kernel 3) add +-2 frames: about +-6 frames (0.37 s) each side, and
    nothing beyond (all norms are per time step): tokens more than ~6 frames inside a window
    match those of the whole clip.
    Tokens: [B, T*tokens_per_frame, dim]; pooled: their mean over time, [B, dim].
    """

    # Measured: log(mel power + 1e-5) of [-1, 1] audio spans -11.5 (silence) to ~+11 (a
    # full-scale sine); dividing by 10 puts it in about [-1.2, 1.2].
    LOG_MEL_SCALE = 10.0

    def __init__(self, sample_rate: int = 16000, fps: int = 16, n_mels: int = 64,
                 mels_per_frame: int = 4, tokens_per_frame: int = 1, dim: int = 128,
                 kernel_size: int = 3, dilations: tuple[int, ...] = (1, 2, 4, 8),
                 frame_blocks: int = 2, n_fft: int = 1024, chroma: bool = False, chroma_fft: int = 2048,
                 key: bool = False, key_fft: int = KEY_FFT):
        super().__init__()
        assert sample_rate % (fps * mels_per_frame) == 0, "hop must be a whole number of samples"
        assert mels_per_frame % tokens_per_frame == 0, "tokens_per_frame must divide mels_per_frame"
        self.frame_hop = sample_rate // fps                       # samples per video frame
        self.hop = self.frame_hop // mels_per_frame               # samples per mel column
        self.n_fft, self.mels_per_frame, self.tokens_per_frame = n_fft, mels_per_frame, tokens_per_frame
        self.dim = dim
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=self.hop, n_mels=n_mels,
            center=False, power=2.0)
        self.chroma_fft = chroma_fft if chroma else None
        if chroma:   # librosa's pitch-class filterbank [12, chroma_fft // 2 + 1], a fixed float32 buffer
            self.spec = torchaudio.transforms.Spectrogram(n_fft=chroma_fft, hop_length=self.hop, center=False, power=2.0)
            self.register_buffer("chroma_fb", chroma_filterbank(sample_rate, chroma_fft), persistent=False)
        if key:   # one column per video frame: only the window's mean is used
            self.key_fft = key_fft
            self.key_spec = torchaudio.transforms.Spectrogram(n_fft=key_fft, hop_length=self.frame_hop,
                                                              center=False, power=2.0)
            self.register_buffer("key_fb", chroma_filterbank(sample_rate, key_fft), persistent=False)
            self.register_buffer("key_profiles", key_profiles(), persistent=False)
        self.stem = nn.Conv1d(n_mels + (12 if chroma else 0), dim, 3, padding=1)
        self.mel_blocks = nn.Sequential(*[ConvBlock1d(dim, kernel_size, d) for d in dilations])
        stride = mels_per_frame // tokens_per_frame
        self.pool = nn.Conv1d(dim, dim, stride, stride=stride)     # k columns -> k_out tokens
        self.frame_blocks = nn.Sequential(*[ConvBlock1d(dim, 3, 1) for _ in range(frame_blocks)])
        self.norm = nn.LayerNorm(dim)

    def log_mel(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, 1, L] -> normalised log-mel [B, n_mels, L // hop], always computed in float32."""
        assert audio.shape[-1] % self.frame_hop == 0, f"L={audio.shape[-1]} is not a multiple of {self.frame_hop}"
        with torch.autocast(device_type=audio.device.type, enabled=False):
            x = audio.float().squeeze(1)                            # (B, L)
            # Pad (n_fft - hop)/2 each side with center=False: column j spans
            # [j*hop - pad, j*hop - pad + n_fft), centred on (j + 1/2) * hop; L // hop columns.
            mel = self.mel(self._pad(x, self.n_fft))                # (B, n_mels, L // hop)
            return torch.log(mel + 1e-5) / self.LOG_MEL_SCALE

    def _pad(self, x: torch.Tensor, n_fft: int) -> torch.Tensor:
        left = (n_fft - self.hop) // 2
        return F.pad(x, (left, n_fft - self.hop - left))

    def chroma(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, 1, L] -> chroma [B, 12, L // hop] in [0, 1], each column scaled by its largest
        bin (as librosa.feature.chroma_stft), on the log-mel's columns; silence stays near 0."""
        return self._chroma(audio, self.spec, self.chroma_fb, self.chroma_fft)

    def _chroma(self, audio: torch.Tensor, spec: nn.Module, fb: torch.Tensor, n_fft: int) -> torch.Tensor:
        """audio [B, 1, L] -> [B, 12, L // spec's hop], float32, columns scaled by their largest bin."""
        with torch.autocast(device_type=audio.device.type, enabled=False):
            power = spec(self._pad(audio.float().squeeze(1), n_fft))                  # (B, F, L // hop)
            c = torch.einsum("cf,bft->bct", fb, power)
            return c / c.amax(dim=1, keepdim=True).clamp_min(1e-4)

    def key_correlations(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, 1, L] -> [B, KEY_INPUTS]: the correlation of the window's mean chroma (`key_fft`-point
        STFT, columns scaled by their largest bin) with each KK key profile; the largest names the key
        (Krumhansl-Schmuckler), rows 12-23 the minor ones. Silence, with no pitch, gives zeros."""
        c = self._chroma(audio, self.key_spec, self.key_fb, self.key_fft).mean(dim=2)   # (B, 12), float32
        c = c - c.mean(dim=1, keepdim=True)
        return (c @ self.key_profiles.T) / c.norm(dim=1, keepdim=True).clamp_min(1e-4)

    def features(self, audio: torch.Tensor) -> torch.Tensor:
        """What the conv stack reads: the log-mel, with the chroma rows below it when enabled."""
        x = self.log_mel(audio)
        return x if self.chroma_fft is None else torch.cat([x, self.chroma(audio)], dim=1)

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """audio [B, 1, L] -> (tokens [B, T*k_out, D], pooled [B, D]) with T = L // frame_hop."""
        x = self.features(audio)                  # (B, n_mels [+ 12], T*k)
        x = self.stem(x)                          # (B, D, T*k)
        x = self.mel_blocks(x)                    # (B, D, T*k)
        x = self.pool(x)                          # (B, D, T*k_out)
        x = self.frame_blocks(x)                  # (B, D, T*k_out)
        tokens = self.norm(x.transpose(1, 2))     # (B, T*k_out, D)
        # Pooled = plain mean: parameter-free, so a consumer that uses only the tokens (the DiT
        # pools its own) leaves no unused parameters to trip DDP.
        return tokens, tokens.mean(dim=1)          # (B, T*k_out, D), (B, D)
