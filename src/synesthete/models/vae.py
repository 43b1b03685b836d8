"""SpatialVAE: a per-frame KL-regularised autoencoder, frames [N, 3, H, W] -> latents [N, Cz, H/16, W/16].

Read top-down: the residual block, the encoder, the decoder, the VAE, then the size table.
Video is handled one frame at a time; callers fold time into the batch
(`rearrange(video, "b t c h w -> (b t) c h w")`) and unfold the latents to [B, T, Cz, h, w].

CPU speed comes from a patchify stem (a stride-p convolution, as in ViT / DC-AE) instead of
full-resolution convolutions: with p=4 no layer runs at 128x128, and the decoder mirrors it
with a PixelShuffle head (Shi et al. 2016). The decoder output is linear (no tanh): the
visualizer frames are full of exactly-black and saturated pixels, which a tanh reaches only at
infinite pre-activation (vanishing gradient, greyish blacks); a linear head reaches -1 and +1
exactly under an L1 loss. Clamp to [-1, 1] only when turning latents into pictures.

`shortcuts=True` adds DC-AE's residual autoencoding (Chen et al. 2025, "Deep Compression
Autoencoder for Efficient High-Resolution Diffusion Models", 3.2): every change of resolution or
width learns a residual over a weight-free path, space-to-channel then channel averaging going
down, channel duplication then channel-to-space going up, and the same at the latent's
projections (the encoder's mean only; its log-variance has none).
"""


import torch
import torch.nn as nn
import torch.nn.functional as F

from synesthete.models.critic import PatchCritic


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(32, channels // 4), channels, eps=1e-6)


class ResBlock(nn.Module):
    """x + conv3x3(SiLU(GN(conv3x3(SiLU(GN(x)))))) at constant width (Ho et al. 2020)."""

    def __init__(self, channels: int):
        super().__init__()
        self.block = nn.Sequential(
            _norm(channels), nn.SiLU(), nn.Conv2d(channels, channels, 3, padding=1),
            _norm(channels), nn.SiLU(), nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class SpaceToChannelAverage(nn.Module):
    """[N, C, H, W] -> [N, C_out, H/f, W/f]: pixel-unshuffle by f, then the mean of each group of
    C f^2 / C_out neighbouring channels (DC-AE's weight-free down path; f = 1 averages channels)."""

    def __init__(self, in_channels: int, out_channels: int, factor: int):
        super().__init__()
        if in_channels * factor**2 % out_channels:
            raise ValueError(f"{in_channels} channels x {factor}^2 do not split into {out_channels} groups")
        self.out_channels, self.factor = out_channels, factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pixel_unshuffle(x, self.factor)
        N, C, H, W = x.shape
        return x.reshape(N, self.out_channels, C // self.out_channels, H, W).mean(dim=2)


class ChannelToSpaceRepeat(nn.Module):
    """[N, C, h, w] -> [N, C_out, h f, w f]: each channel repeated C_out f^2 / C times, then
    pixel-shuffled by f (DC-AE's weight-free up path; f = 1 duplicates channels)."""

    def __init__(self, in_channels: int, out_channels: int, factor: int):
        super().__init__()
        if out_channels * factor**2 % in_channels:
            raise ValueError(f"{out_channels} channels x {factor}^2 are no multiple of {in_channels}")
        self.repeats, self.factor = out_channels * factor**2 // in_channels, factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.repeat_interleave(self.repeats, dim=1)
        return F.pixel_shuffle(x, self.factor)


class Shortcut(nn.Module):
    """layer(x) + path(x): a learned change of shape as a residual over a weight-free one."""

    def __init__(self, layer: nn.Module, path: nn.Module):
        super().__init__()
        self.layer, self.path = layer, path

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x) + self.path(x)


class Encoder(nn.Module):
    """Frames [N, 3, H, W] -> (mean, logvar), each [N, Cz, H/f, W/f] with f = patch_size * 2**(levels-1)."""

    def __init__(self, in_channels: int, latent_channels: int, channels: tuple[int, ...],
                 patch_size: int, num_res_blocks: int, shortcuts: bool = False):
        super().__init__()
        self.stem = nn.Conv2d(in_channels, channels[0], patch_size, stride=patch_size)
        layers: list[nn.Module] = []
        for i, ch in enumerate(channels):
            if i > 0:  # 2x down; the width changes here, at the lower resolution
                down = nn.Conv2d(channels[i - 1], ch, 3, stride=2, padding=1)
                layers.append(Shortcut(down, SpaceToChannelAverage(channels[i - 1], ch, 2)) if shortcuts else down)
            layers += [ResBlock(ch) for _ in range(num_res_blocks)]
        self.blocks = nn.Sequential(*layers)
        self.out = nn.Sequential(_norm(channels[-1]), nn.SiLU(),
                                 nn.Conv2d(channels[-1], 2 * latent_channels, 3, padding=1))
        self.mean_path = SpaceToChannelAverage(channels[-1], latent_channels, 1) if shortcuts else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.stem(x)                          # (N, C0, H/p, W/p)
        h = self.blocks(h)                        # (N, C_last, h, w)
        mean, logvar = self.out(h).chunk(2, dim=1)  # 2 x (N, Cz, h, w)
        if self.mean_path is not None:
            mean = mean + self.mean_path(h)
        return mean, logvar


class Decoder(nn.Module):
    """Latents [N, Cz, h, w] -> frames [N, out_channels, h*f, w*f]; linear output (see module doc)."""

    def __init__(self, out_channels: int, latent_channels: int, channels: tuple[int, ...],
                 patch_size: int, num_res_blocks: int, shortcuts: bool = False):
        super().__init__()
        rev = tuple(reversed(channels))
        self.stem = nn.Conv2d(latent_channels, rev[0], 3, padding=1)
        if shortcuts:
            self.stem = Shortcut(self.stem, ChannelToSpaceRepeat(latent_channels, rev[0], 1))
        layers: list[nn.Module] = []
        for i, ch in enumerate(rev):
            if i > 0:  # 2x up; the conv after it narrows straight to the next width
                up = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(rev[i - 1], ch, 3, padding=1))
                # without shortcuts, unpacked: the state-dict names of checkpoints made before the option
                layers += [Shortcut(up, ChannelToSpaceRepeat(rev[i - 1], ch, 2))] if shortcuts else list(up)
            layers += [ResBlock(ch) for _ in range(num_res_blocks)]
        self.blocks = nn.Sequential(*layers)
        self.out = nn.Sequential(_norm(rev[-1]), nn.SiLU(),
                                 nn.Conv2d(rev[-1], out_channels * patch_size**2, 3, padding=1),
                                 nn.PixelShuffle(patch_size))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.stem(z)       # (N, C_last, h, w)
        h = self.blocks(h)     # (N, C0, H/p, W/p)
        return self.out(h)     # (N, 3, H, W)


def _skip_critic_weights(module, state_dict, prefix, *_):
    """Drop a training checkpoint's critic weights before a critic-less VAE loads it."""
    for key in [k for k in state_dict if k.startswith(prefix + "critic.")]:
        del state_dict[key]


class SpatialVAE(nn.Module):
    """KL-regularised autoencoder (Kingma & Welling 2014; the LDM first stage, Rombach et al. 2022).

    `latent_shift` / `latent_scale` are buffers (saved with the weights) that the trainer fills
    after fitting (`set_latent_stats`) so the diffusion model sees unit-variance latents:
    `normalize_latent(z) = (z - shift) / scale` — the per-channel form of LDM's 0.18215.
    With `critic=True` it carries a `PatchCritic` for the adversarial term (`vae.adv_weight`):
    trained in the same optimiser step and saved in the same checkpoint, unused by encode/decode.
    A VAE built without one loads such a checkpoint and skips the critic's weights (inference).
    """

    def __init__(self, in_channels: int = 3, latent_channels: int = 8,
                 channels: tuple[int, ...] = (64, 128, 128), patch_size: int = 4,
                 num_res_blocks: int = 1, critic: bool = False, critic_width: int = 16,
                 shortcuts: bool = False):
        super().__init__()
        channels = tuple(channels)
        self.latent_channels = latent_channels
        self.downsample = patch_size * 2 ** (len(channels) - 1)
        self.encoder = Encoder(in_channels, latent_channels, channels, patch_size, num_res_blocks, shortcuts)
        self.decoder = Decoder(in_channels, latent_channels, channels, patch_size, num_res_blocks, shortcuts)
        self.register_buffer("latent_shift", torch.zeros(latent_channels, 1, 1))
        self.register_buffer("latent_scale", torch.ones(latent_channels, 1, 1))
        self.initialize_weights()
        widths = (critic_width, 2 * critic_width, 4 * critic_width)
        self.critic = PatchCritic(in_channels, widths) if critic else None
        if not critic:
            self.register_load_state_dict_pre_hook(_skip_critic_weights)

    def initialize_weights(self):
        # Zero the last conv of every residual branch so each ResBlock starts as its skip path
        # (Goyal et al. 2017); the encoder's logvar starts near 0 and the decoder's head small.
        for m in self.modules():
            if isinstance(m, ResBlock):
                nn.init.zeros_(m.block[-1].weight)
                nn.init.zeros_(m.block[-1].bias)
        nn.init.zeros_(self.encoder.out[-1].bias)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x [N, 3, H, W] in [-1, 1] -> (mean, logvar) [N, Cz, H/16, W/16]; logvar clamped to [-30, 20]."""
        mean, logvar = self.encoder(x)
        return mean, logvar.clamp(-30.0, 20.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, Cz, h, w] (raw, not normalised) -> x_hat [N, 3, 16h, 16w], unclamped."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor, sample: bool = True,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean, logvar = self.encode(x)                                  # (N, Cz, h, w) x 2
        z = mean
        if sample:                                                     # reparameterisation trick
            noise = torch.randn(mean.shape, generator=generator, dtype=mean.dtype,
                                device=generator.device if generator is not None else mean.device)
            z = mean + torch.exp(0.5 * logvar) * noise.to(mean.device)
        return self.decode(z), mean, logvar                            # (N, 3, H, W), ...

    # Latent normalisation for the diffusion model -------------------------------------------

    @torch.no_grad()
    def set_latent_stats(self, mean: torch.Tensor, std: torch.Tensor):
        """mean, std: [Cz] per-channel statistics of encoder means over training frames."""
        self.latent_shift.copy_(mean.reshape(-1, 1, 1))
        self.latent_scale.copy_(std.reshape(-1, 1, 1).clamp_min(1e-6))

    def normalize_latent(self, z: torch.Tensor) -> torch.Tensor:
        """Raw latent [..., Cz, h, w] -> unit-variance latent for the DiT."""
        return (z - self.latent_shift) / self.latent_scale

    def denormalize_latent(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.latent_scale + self.latent_shift


#################################################################################
#                                  VAE Configs                                  #
#################################################################################
# All downsample VAE_DOWNSAMPLE x (128 -> 8). VAE-T: ~15-min CPU runs. VAE-S: wider, two blocks per
# level. VAE-B: patch 2, one more level.

VAE_DOWNSAMPLE = 16
"""Every VAE size's frame-to-latent factor (test_vae_sizes_downsample_16): what sizes the DiT's token
grid before a VAE is built."""

def VAE_T(**kwargs):
    return SpatialVAE(channels=(32, 64, 128), patch_size=4, num_res_blocks=1, **kwargs)

def VAE_S(**kwargs):
    return SpatialVAE(channels=(64, 128, 256), patch_size=4, num_res_blocks=2, **kwargs)

def VAE_B(**kwargs):
    return SpatialVAE(channels=(64, 128, 256, 256), patch_size=2, num_res_blocks=2, **kwargs)


VAE_models = {"VAE-T": VAE_T, "VAE-S": VAE_S, "VAE-B": VAE_B}
