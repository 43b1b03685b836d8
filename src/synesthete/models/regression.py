"""AudioToVideoNet: the regression baseline, audio [B, 1, L] -> frames [B, T, 3, H, W] in [-1, 1].

AudioEncoder -> temporal transformer over the per-frame tokens -> a per-frame conv decoder
(the VAE's Decoder, fed a learned 8x8 map per token). Trained with MSE by the trainer; being a
regression to the mean it predicts the average frame for each sound, which is what the
diffusion model must beat.
"""

import torch
import torch.nn as nn
from einops import rearrange

from synesthete.models.audio_encoder import AudioEncoder
from synesthete.models.dit import temporal_pos_embed
from synesthete.models.vae import Decoder


class AudioToVideoNet(nn.Module):
    def __init__(self, sample_rate: int = 16000, fps: int = 16, frame_size: int = 128,
                 dim: int = 128, depth: int = 2, num_heads: int = 4, latent_channels: int = 16,
                 decoder_channels: tuple[int, ...] = (32, 64, 128), patch_size: int = 4,
                 mels_per_frame: int = 4):
        super().__init__()
        decoder_channels = tuple(decoder_channels)
        self.grid = frame_size // (patch_size * 2 ** (len(decoder_channels) - 1))   # 8 for 128
        self.latent_channels = latent_channels
        self.audio_encoder = AudioEncoder(sample_rate, fps, mels_per_frame=mels_per_frame, dim=dim)
        layer = nn.TransformerEncoderLayer(dim, num_heads, 4 * dim, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.to_map = nn.Linear(dim, latent_channels * self.grid**2)
        self.decoder = Decoder(3, latent_channels, decoder_channels, patch_size, num_res_blocks=1)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        B = audio.shape[0]
        tokens, _ = self.audio_encoder(audio)                                # (B, T, D)
        tokens = tokens + temporal_pos_embed(tokens.shape[1], tokens.shape[2], tokens.device).to(tokens.dtype)
        tokens = self.transformer(tokens)                                    # (B, T, D)
        z = rearrange(self.to_map(tokens), "b t (c h w) -> (b t) c h w",
                      c=self.latent_channels, h=self.grid)                   # (B*T, Cl, g, g)
        frames = torch.tanh(self.decoder(z))                                 # (B*T, 3, H, W)
        return rearrange(frames, "(b t) c h w -> b t c h w", b=B)            # (B, T, 3, H, W)
