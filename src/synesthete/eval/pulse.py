"""Does the picture pulse on the beat? Frame-difference energy at kick frames vs between them.

The simplest honest sync check: if a video moves with the kick, the mean absolute change from
frame i-1 to frame i is larger when a kick lands in frame i than elsewhere.
"""

from __future__ import annotations

import torch


def frame_change(video: torch.Tensor) -> torch.Tensor:
    """uint8/float [T, 3, H, W] -> [T] mean |frame_i - frame_{i-1}| (0 for the first frame), 0-255 scale."""
    v = video.float()
    diff = (v[1:] - v[:-1]).abs().mean(dim=(1, 2, 3))
    return torch.cat([diff.new_zeros(1), diff])


def kick_frames(kick_times: torch.Tensor, fps: int, num_frames: int) -> torch.Tensor:
    """Boolean [T]: frames in which an annotated kick lands."""
    mask = torch.zeros(num_frames, dtype=torch.bool)
    idx = (torch.as_tensor(kick_times, dtype=torch.float32) * fps).floor().long()
    idx = idx[(idx >= 1) & (idx < num_frames)]  # frame 0 has no predecessor to differ from
    mask[idx] = True
    return mask


def pulse_stats(video: torch.Tensor, kick_times: torch.Tensor, fps: int) -> dict[str, float]:
    """{on_kick, between, ratio}: mean frame change at kick frames, elsewhere, and their ratio."""
    change = frame_change(video)
    on = kick_frames(kick_times, fps, change.shape[0])
    off = ~on
    off[0] = False
    if not on.any() or not off.any():
        return {"on_kick": float("nan"), "between": float("nan"), "ratio": float("nan")}
    a, b = float(change[on].mean()), float(change[off].mean())
    return {"on_kick": a, "between": b, "ratio": a / max(b, 1e-6)}
