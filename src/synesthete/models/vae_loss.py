"""VAELoss: pixel reconstruction + a sharpness term from local pieces + beta * KL.

No learned perceptual network (no downloaded weights). Sharpness comes from two local terms
that a plain L1/L2 under-weights: the L1 between finite-difference image gradients (edges) and
the L1 between Laplacian-pyramid bands (Burt & Adelson 1983; used as a loss by Bojanowski et
al. 2018), which weights fine detail at every scale. Both are exactly zero for identical images.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def image_gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward differences of x [N, C, H, W]: (dx [N, C, H, W-1], dy [N, C, H-1, W])."""
    return x[..., :, 1:] - x[..., :, :-1], x[..., 1:, :] - x[..., :-1, :]


def laplacian_pyramid(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Band-pass images [x - up(down(x)), ...] plus the last low-pass residual; 2x2 average pooling."""
    bands = []
    for _ in range(levels - 1):
        low = F.avg_pool2d(x, 2)
        bands.append(x - F.interpolate(low, scale_factor=2, mode="nearest"))
        x = low
    return bands + [x]


def kl_divergence(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, 1)) per latent element, averaged (Kingma & Welling 2014, App. B)."""
    return 0.5 * (mean.square() + logvar.exp() - 1.0 - logvar).mean()


class VAELoss(nn.Module):
    """loss = l1*|x̂-x| + mse*(x̂-x)² + grad*|∇x̂-∇x| + pyramid*mean_l |L_l(x̂)-L_l(x)| + beta*KL.

    All terms are means over elements, so the weights do not depend on resolution or batch.
    KL is per latent element; with 8x8x8 latents against 128x128x3 pixels, beta ~1e-4..1e-3
    keeps latents near unit scale without blurring (LDM's 1e-6 is for summed losses).
    forward(x_hat, x, mean, logvar) -> (loss, {"rec", "grad", "pyramid", "kl"}) (parts detached).
    """

    def __init__(self, l1_weight: float = 1.0, mse_weight: float = 0.0, grad_weight: float = 1.0,
                 pyramid_weight: float = 1.0, pyramid_levels: int = 4, beta: float = 1e-4):
        super().__init__()
        self.l1_weight, self.mse_weight = l1_weight, mse_weight
        self.grad_weight, self.pyramid_weight = grad_weight, pyramid_weight
        self.pyramid_levels, self.beta = pyramid_levels, beta

    def sharpness(self, x_hat: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(gradient L1, Laplacian-pyramid L1); both zero iff the images agree in detail."""
        (dxh, dyh), (dx, dy) = image_gradients(x_hat), image_gradients(x)
        grad = 0.5 * ((dxh - dx).abs().mean() + (dyh - dy).abs().mean())
        # Band-pass levels only, equally weighted (per-pixel means): the low-pass residual is
        # what the pixel loss already covers; blur shows up in the fine bands.
        bands = zip(laplacian_pyramid(x_hat, self.pyramid_levels)[:-1], laplacian_pyramid(x, self.pyramid_levels)[:-1])
        pyr = sum((a - b).abs().mean() for a, b in bands) / (self.pyramid_levels - 1)
        return grad, pyr

    def forward(self, x_hat: torch.Tensor, x: torch.Tensor, mean: torch.Tensor,
                logvar: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        x_hat, x = x_hat.float(), x.float()      # losses in float32 even under autocast
        diff = x_hat - x
        rec = self.l1_weight * diff.abs().mean() + self.mse_weight * diff.square().mean()
        grad, pyr = self.sharpness(x_hat, x)
        kl = kl_divergence(mean.float(), logvar.float())
        loss = rec + self.grad_weight * grad + self.pyramid_weight * pyr + self.beta * kl
        parts = {"rec": rec, "grad": grad, "pyramid": pyr, "kl": kl}
        return loss, {k: v.detach() for k, v in parts.items()}
