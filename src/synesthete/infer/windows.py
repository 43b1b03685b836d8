"""Long-form generation as overlapping windows: where windows go and how overlaps are blended.

A song of any length is cut into windows of the training clip length that overlap by a few
frames. Each window warm-starts from the frames it shares with the previous one (see
`diffusion.warm_start`) and the shared frames are then cross-faded with a raised-cosine (Hann)
ramp whose two weights sum to 1, so where two windows agree the blend returns them exactly.
"""

from __future__ import annotations

import math

import torch


def next_window_start(start: int, window: int, overlap: int, total: int | None) -> int:
    """Start of the window after one at `start`: `window - overlap` frames later, pulled back so the
    last window ends on the last frame (it then overlaps more), never earlier than start + 1.

    `total` is the song length in frames once known (None while the audio is still streaming).
    """
    step = start + max(1, window - overlap)
    if total is not None and step + window > total:
        step = max(start + 1, total - window)
    return step


def plan_windows(total: int, window: int, overlap: int) -> list[tuple[int, int]]:
    """(start, length) of every window for a `total`-frame song; together they cover it exactly."""
    if total <= window:
        return [(0, total)]
    plan, start = [(0, window)], 0
    while start + window < total:
        start = next_window_start(start, window, overlap, total)
        plan.append((start, window))
    return plan


def crossfade_weights(n: int) -> torch.Tensor:
    """[n] weights of the *earlier* window across n shared frames: a Hann half-period from ~1 to ~0
    (endpoints excluded, so both windows always contribute); the later window gets 1 - w."""
    j = torch.arange(1, n + 1, dtype=torch.float32)
    return 0.5 * (1 + torch.cos(math.pi * j / (n + 1)))


def blend(previous: torch.Tensor, current: torch.Tensor) -> torch.Tensor:
    """Hann cross-fade of two windows' versions of the same n frames (frame axis first): [n, ...]."""
    w = crossfade_weights(previous.shape[0]).to(previous.device, previous.dtype)
    w = w.reshape(-1, *([1] * (previous.ndim - 1)))
    return w * previous + (1 - w) * current


def boundary_frames(plan: list[tuple[int, int]]) -> list[int]:
    """Frames i whose change from frame i-1 crosses a window seam: the first and the one-past-last
    shared frame of every overlap (where one window starts and the other stops contributing)."""
    out = set()
    for (s0, n0), (s1, _) in zip(plan, plan[1:]):
        out.update({s1, s0 + n0})
    return sorted(i for i in out if i > 0)
