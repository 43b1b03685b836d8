"""Drawing primitives shared by the visualizers: cached coordinate grids and soft shapes.

Coordinates are normalised: x, y in (-1, 1) at pixel centres (y grows downward), so one
pixel is 2 / size. Grids are cached per size and returned separable where possible
(x [1, 1, W], y [1, H, 1]) so a per-frame map [T, 1, 1] costs one full-size pass. Every
edge is soft (a ramp about a pixel wide or a Lorentzian glow), so nothing aliases.

Speed: a fresh [T, H, W] tensor costs page faults that dwarf the arithmetic (measured: an
out-of-place op ~10x an in-place one at 48 x 64 x 64), so the helpers ending in `_` work in
place on their first argument, and visualizers allocate a few fields and mutate them.
Cached tensors are shared: never write into them.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
from torch import Tensor

TAU = 2.0 * math.pi


@lru_cache(maxsize=16)
def axes(size: int) -> tuple[Tensor, Tensor]:
    """Pixel-centre coordinates: x [1, 1, W], y [1, H, 1], both in (-1, 1)."""
    c = (torch.arange(size, dtype=torch.float32) + 0.5) * (2.0 / size) - 1.0
    return c.view(1, 1, size), c.view(1, size, 1)


@lru_cache(maxsize=16)
def polar(size: int) -> tuple[Tensor, Tensor]:
    """Radius and angle about the centre: r, theta [1, H, W] (theta in (-pi, pi])."""
    x, y = axes(size)
    return torch.sqrt(x * x + y * y), torch.atan2(y, x).expand(1, size, size).contiguous()


@lru_cache(maxsize=64)
def angular(size: int, n: int) -> tuple[Tensor, Tensor]:
    """cos(n theta), sin(n theta) [1, H, W]: an n-fold angular wave, turned cheaply by `wave`."""
    _, theta = polar(size)
    return torch.cos(n * theta), torch.sin(n * theta)


def per_frame(v: Tensor | float) -> Tensor:
    """[T] -> [T, 1, 1], ready to broadcast against [T, H, W] fields."""
    return torch.as_tensor(v, dtype=torch.float32).view(-1, 1, 1)


def wave(size: int, n: int, phase: Tensor) -> Tensor:
    """cos(n theta - phase) for a per-frame phase [T] -> [T, H, W], with no per-pixel trig.

    cos(a - b) = cos a cos b + sin a sin b, with cos / sin(n theta) cached per size.
    """
    c, s = angular(size, n)
    return (c * per_frame(torch.cos(phase))).addcmul_(s, per_frame(torch.sin(phase)))


def affine(size: int, angle: Tensor, scale: Tensor, dx: Tensor | float = 0.0,
           dy: Tensor | float = 0.0) -> tuple[Tensor, Tensor]:
    """Pattern coordinates seen by a turned (rad), zoomed, shifted camera: u, v [T, H, W].

    u = scale (x cos a - y sin a) + dx, v = scale (x sin a + y cos a) + dy. A larger scale
    shows more of the pattern, so content shrinks: a pulse of content size s is scale 1 / s.
    """
    x, y = axes(size)
    c, s = per_frame(torch.cos(angle) * scale), per_frame(torch.sin(angle) * scale)
    u = (x * c + per_frame(dx)) - y * s  # [T, 1, W] - [T, H, 1] -> [T, H, W]
    v = (x * s + per_frame(dy)) + y * c
    return u, v


def ramp_(x: Tensor, e0: float | Tensor, e1: float | Tensor) -> Tensor:
    """In place: 0 at e0 rising linearly to 1 at e1, clamped (either order; per-frame ok)."""
    x.sub_(e0)
    if isinstance(e0, Tensor) or isinstance(e1, Tensor):
        return x.div_(e1 - e0).clamp_(0.0, 1.0)
    return x.mul_(1.0 / (e1 - e0)).clamp_(0.0, 1.0)


def fill_(d: Tensor, px: float) -> Tensor:
    """In place: inside (d < 0) of a signed distance d, with an edge one pixel `px` wide."""
    return d.mul_(-1.0 / px).add_(0.5).clamp_(0.0, 1.0)


def glow_(d: Tensor, width: float | Tensor) -> Tensor:
    """In place: a halo 1 / (1 + (d / width)^2), soft core and long (1 / d^2) tail."""
    d = d.div_(width) if isinstance(width, Tensor) else d.mul_(1.0 / width)
    return d.square_().add_(1.0).reciprocal_()


def neon_(d: Tensor, width: float | Tensor) -> Tensor:
    """In place: a neon line 1 / (1 + (d / width)^2)^2, a crisp core and a short glow."""
    return glow_(d, width).square_()


def stripes(u: Tensor) -> Tensor:
    """Distance from u to the nearest integer, in [0, 0.5]: a field of parallel lines.

    (0.5 - stripes(u) is the distance to the nearest half-integer: the lines in between.)
    """
    a = torch.floor(u).neg_().add_(u)  # u mod 1, in [0, 1)
    return a.sub_(0.5).abs_().neg_().add_(0.5)


def contour_lines(field: Tensor, spacing: Tensor | float, width: float = 0.1) -> Tensor:
    """Neon iso-lines of `field` every `spacing`, anti-aliased like GLSL's fwidth.

    Where lines crowd closer than a few pixels, each is widened to ~a pixel and dimmed by
    the same factor, so dense regions fade to an even glow instead of a dotted moire.
    """
    f = field / spacing  # [T, H, W], in lines
    step = torch.zeros_like(f)
    step[..., :, 1:] = (f[..., :, 1:] - f[..., :, :-1]).abs_()
    step[..., 1:, :].add_((f[..., 1:, :] - f[..., :-1, :]).abs_())
    step.mul_(0.6).clamp_(min=width)  # line half-width in line units, >= ~a pixel
    lines = neon_(stripes(f), step)
    return lines.mul_(step.reciprocal_().mul_(width))


def hash2(i: Tensor, j: Tensor, seed: float) -> Tensor:
    """A stateless pseudo-random value in [0, 1) per integer cell (i, j) (the GLSL sine hash)."""
    h = torch.sin(i * 12.9898 + j * 78.233 + seed).mul_(43758.5453)
    return h.sub_(torch.floor(h))
