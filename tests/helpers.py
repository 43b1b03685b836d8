"""Small helpers shared by the model and diffusion tests."""

import torch


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@torch.no_grad()
def randomize_zeroed(model: torch.nn.Module, seed: int = 0, std: float = 0.05):
    """Stand-in for a trained model: give every exactly-zero parameter small random values
    (adaLN-zero and zero-initialised heads start with every output at 0)."""
    g = gen(seed)
    for p in model.parameters():
        if p.abs().max() == 0:
            p.copy_(torch.randn(p.shape, generator=g) * std)
