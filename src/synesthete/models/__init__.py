"""nn.Modules only: the VAE, its loss and optional critic, the audio encoder, the DiT, the regression baseline."""

from synesthete.models.audio_encoder import AudioEncoder
from synesthete.models.av_dit import AudioDiT
from synesthete.models.critic import PatchCritic
from synesthete.models.dit import DiT, DiT_models
from synesthete.models.regression import AudioToVideoNet
from synesthete.models.vae import VAE_DOWNSAMPLE, SpatialVAE, VAE_models
from synesthete.models.vae_loss import VAELoss

__all__ = ["AudioDiT", "AudioEncoder", "AudioToVideoNet", "DiT", "DiT_models", "PatchCritic", "SpatialVAE",
           "VAELoss", "VAE_DOWNSAMPLE", "VAE_models"]
