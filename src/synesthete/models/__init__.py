"""nn.Modules only: the VAE and its loss, the audio encoder, the DiT, the regression baseline."""

from synesthete.models.audio_encoder import AudioEncoder
from synesthete.models.av_dit import AudioDiT
from synesthete.models.dit import DiT, DiT_models
from synesthete.models.regression import AudioToVideoNet
from synesthete.models.vae import SpatialVAE, VAE_models
from synesthete.models.vae_loss import VAELoss

__all__ = ["AudioDiT", "AudioEncoder", "AudioToVideoNet", "DiT", "DiT_models", "SpatialVAE",
           "VAELoss", "VAE_models"]
