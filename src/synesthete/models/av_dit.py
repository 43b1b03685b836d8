"""AudioDiT: the AudioEncoder and the DiT as one denoiser over raw audio.

forward(x, t, audio [B, 1, L], drop_audio, target, label) = dit(x, t, audio_encoder(audio).tokens, ...).
The DiT itself takes tokens under the same keyword (`audio`), so a sampler can be handed
either this module with waveforms, or the bare DiT with tokens encoded once per clip.
"""

import torch
import torch.nn as nn

from synesthete.models.audio_encoder import AudioEncoder
from synesthete.models.dit import DiT


class AudioDiT(nn.Module):
    def __init__(self, audio_encoder: AudioEncoder, dit: DiT):
        super().__init__()
        assert audio_encoder.dim == dit.audio_embedder.context_proj.in_features, "audio dim mismatch"
        assert audio_encoder.tokens_per_frame == dit.audio_embedder.tokens_per_frame, "tokens per frame mismatch"
        self.audio_encoder, self.dit = audio_encoder, dit

    def forward(self, x: torch.Tensor, t: torch.Tensor, audio: torch.Tensor,
                drop_audio: torch.Tensor | None = None, target: torch.Tensor | None = None,
                label: torch.Tensor | None = None, x_self_cond: torch.Tensor | None = None) -> torch.Tensor:
        tokens, _ = self.audio_encoder(audio)                  # (B, T*k, Da)
        return self.dit(x, t, tokens, drop_audio, target, label, x_self_cond)  # (B, T, Cz, h, w)
