"""PatchCritic: a small PatchGAN discriminator for the VAE's optional adversarial term.

L1/L2 decoders return the blurred mean of what a latent leaves uncertain; a critic that scores
local patches as real or reconstructed pushes the decoder toward crisp edges instead (the
PatchGAN of Isola et al. 2017, used on the LDM autoencoders with a hinge loss). Three stride-2
convolutions: each logit sees a ~46 px patch, so it judges texture and edges, not layout.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call


class PatchCritic(nn.Module):
    """Frames [N, 3, H, W] in [-1, 1] -> real/fake logits [N, 1, H/8, W/8]."""

    def __init__(self, in_channels: int = 3, channels: tuple[int, ...] = (16, 32, 64)):
        super().__init__()
        layers: list[nn.Module] = []
        prev = in_channels
        for i, ch in enumerate(channels):
            layers.append(nn.Conv2d(prev, ch, 4, stride=2, padding=1))
            if i > 0:
                layers.append(nn.GroupNorm(min(32, ch // 4), ch))
            layers.append(nn.LeakyReLU(0.2))
            prev = ch
        layers.append(nn.Conv2d(prev, 1, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def critic_hinge_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The critic's hinge loss (Lim & Ye 2017): 2 at chance, 0 when it separates by a margin of 1."""
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def generator_adv_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The decoder's non-saturating hinge term: raise the critic's score of reconstructions."""
    return -fake_logits.mean()


def adversarial_terms(critic: PatchCritic, x: torch.Tensor, x_hat: torch.Tensor, weight: float
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(what to add to the VAE's loss, critic loss, decoder term) for one step that trains both.

    The critic's hinge loss sees detached reconstructions; the decoder's term, scaled by
    `weight`, goes through the critic with its weights detached, so each loss reaches only its
    own network's weights.
    """
    d_loss = critic_hinge_loss(critic(x), critic(x_hat.detach()))
    frozen = {k: p.detach() for k, p in critic.named_parameters()}
    g_loss = generator_adv_loss(functional_call(critic, frozen, (x_hat,)))
    return d_loss + weight * g_loss, d_loss, g_loss
