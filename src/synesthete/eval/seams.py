"""Are there seams where generation windows meet? Frame change across boundaries vs inside windows.

A long video is stitched from overlapping windows; a visible seam is a jump in the picture at
the frames where one window starts or stops contributing. The seam ratio is the mean frame
change at those frames over the mean change everywhere else: 1 means boundaries look like any
other frame. Music moves the picture too, so the same ratio on the ground-truth render of the
song (which has no windows) is the reference.
"""

from __future__ import annotations

import torch

from synesthete.eval.pulse import frame_change


def seam_ratio(video: torch.Tensor, boundaries: list[int]) -> float:
    """Mean frame change at `boundaries` (frame i vs i-1) / mean change at all other frames."""
    change = frame_change(video)
    at = torch.zeros(change.shape[0], dtype=torch.bool)
    idx = torch.as_tensor([b for b in boundaries if 0 < b < change.shape[0]], dtype=torch.long)
    if idx.numel() == 0:
        return float("nan")
    at[idx] = True
    rest = ~at
    rest[0] = False
    if not rest.any():
        return float("nan")
    return float(change[at].mean() / change[rest].mean().clamp_min(1e-6))
