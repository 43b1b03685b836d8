"""AudioDiT: the AudioEncoder and the DiT as one denoiser over raw audio.

forward(x, t, audio [B, 1, L], drop_audio, target, label) = dit(x, t, audio_encoder(audio).tokens, ...).
The DiT itself takes tokens under the same keyword (`audio`), so a sampler can be handed
either this module with waveforms, or the bare DiT with `audio_condition(audio)` encoded once per
clip (the tokens, and the key evidence for a DiT that takes it).
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
        cond = self.audio_condition(audio)
        return self.dit(x, t, cond["audio"], drop_audio, target, label, x_self_cond, cond.get("key"))

    def audio_condition(self, audio: torch.Tensor) -> dict[str, torch.Tensor]:
        """audio [B, 1, L] -> the bare DiT's audio keywords: {"audio": tokens [B, T*k, Da]}, plus
        "key" [B, 24] (the window's key correlations) when the DiT takes them."""
        tokens, _ = self.audio_encoder(audio)                  # (B, T*k, Da)
        if self.dit.key_embedder is None:
            return {"audio": tokens}
        return {"audio": tokens, "key": self.audio_encoder.key_correlations(audio)}
