"""Audio in, mp4 (+ contact sheet) out: the one path both `generate` and the pipeline use."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch

from synesthete.contact_sheet import contact_sheet
from synesthete.infer.generate import VideoGenerator
from synesthete.media import write_av


def render_to_file(gen: VideoGenerator, audio: torch.Tensor, out: Path, *, seed: int | None = None,
                   steps: int | None = None, guidance: float | None = None, sampler: str | None = None,
                   drop_audio: bool = False, events: dict | None = None, sheet: Path | None = None,
                   title: str = "", on_window: Callable[[int, int], None] | None = None) -> torch.Tensor:
    """Generate frames for `audio` [1, L] (model sample rate), write `out` (h264 + aac) atomically.

    Returns the frames (uint8 [T, 3, H, W]). With `sheet`, also saves a contact sheet PNG.
    """
    d = gen.cfg.data
    video = gen.generate(audio, seed=seed, steps=steps, guidance=guidance, sampler=sampler,
                         drop_audio=drop_audio, on_window=on_window)
    write_av(out, video, d.fps, audio.reshape(1, -1)[:, : video.shape[0] * d.samples_per_frame], d.sample_rate)
    if sheet is not None:
        contact_sheet(sheet, video, audio.reshape(1, -1), d.fps, d.sample_rate, events, title=title)
    return video
