"""Audio in, mp4 (+ contact sheet) out: the one path both `generate` and the pipeline use.

Frames stream from the generator into the mp4 as windows finish, and the original audio
(its own sample rate and channels) is muxed alongside in step, so memory does not grow with
the song. The write is atomic: an interrupted render leaves nothing at the output path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from synesthete.contact_sheet import contact_sheet
from synesthete.infer.generate import AudioSource, TensorAudio, VideoGenerator
from synesthete.media import AVWriter

@dataclass
class RenderResult:
    frames: int                      # frames written (at the output fps)
    seconds: float                   # video duration
    windows: list = field(default_factory=list)   # (start, length) of every generation window
    video: torch.Tensor | None = None             # uint8 frames at the model fps, when kept


class Retimer:
    """Model-fps frames in, output-fps frames out: each output frame blends the two model frames
    around its timestamp linearly (identity when the rates match)."""

    def __init__(self, fps_in: int, fps_out: int):
        self.fps_in, self.fps_out = fps_in, fps_out
        self.frames = torch.zeros(0)     # received model frames from index `offset` on
        self.offset, self.next_out = 0, 0

    def _emit(self, upto: float) -> torch.Tensor:
        out = []
        while True:
            p = self.next_out * self.fps_in / self.fps_out
            i = int(p)
            if p >= upto or i - self.offset >= self.frames.shape[0]:
                break
            j = min(i + 1, self.offset + self.frames.shape[0] - 1)
            a, b = self.frames[i - self.offset].float(), self.frames[j - self.offset].float()
            out.append((a + (p - i) * (b - a)).round().to(torch.uint8))
            self.next_out += 1
        keep = max(0, int(self.next_out * self.fps_in / self.fps_out) - self.offset)
        self.frames, self.offset = self.frames[keep:], self.offset + keep
        return torch.stack(out) if out else self.frames[:0]

    def push(self, frames: torch.Tensor) -> torch.Tensor:
        if self.fps_in == self.fps_out:
            return frames
        self.frames = frames if self.frames.numel() == 0 else torch.cat([self.frames, frames])
        # an output frame needs the model frame after its timestamp, unless the song has ended
        return self._emit(upto=self.offset + self.frames.shape[0] - 1)

    def finish(self, total_in: int) -> torch.Tensor:
        """The remaining output frames for a video of `total_in` model frames."""
        if self.fps_in == self.fps_out or self.frames.numel() == 0:
            return torch.zeros(0, dtype=torch.uint8)
        total_out = -(-total_in * self.fps_out // self.fps_in)
        out = self._emit(upto=float("inf"))
        if self.next_out < total_out:   # the tail: hold the last frame
            tail = self.frames[-1:].expand(total_out - self.next_out, -1, -1, -1)
            out = torch.cat([out, tail]) if out.numel() else tail
        return out


def _resize(frames: torch.Tensor, size: int | None) -> torch.Tensor:
    if size is None or frames.shape[-1] == size:
        return frames
    x = torch.nn.functional.interpolate(frames.float(), size=(size, size), mode="bilinear", antialias=True,
                                        align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8)


def render_stream(gen: VideoGenerator, audio: AudioSource, out: Path, *, native: AudioSource | None = None,
                  native_rate: int | None = None, native_channels: int = 1, size: int | None = None,
                  fps: int | None = None, seed: int | None = None, steps: int | None = None,
                  guidance: float | None = None, sampler: str | None = None, drop_audio: bool = False,
                  overlap: int | None = None, keep_seconds: float | None = 0.0,
                  on_frames: Callable[[int], None] | None = None, visualizer: str | None = None) -> RenderResult:
    """Generate frames for the model-rate `audio` and write `out` as they come.

    `native` (with `native_rate`, `native_channels`) is the audio muxed into the mp4, the same
    span at its own quality; None writes a video-only file. `size`/`fps` resize and retime the
    output (defaults: the model's). The first `keep_seconds` of model-fps frames (None: all) are
    kept in memory and returned, for contact sheets and metrics. `visualizer`: the look to ask
    for (see VideoGenerator.sample_latents). Returns what was written.
    """
    d = gen.cfg.data
    size, fps = size or d.size, fps or d.fps
    result = RenderResult(frames=0, seconds=0.0)
    retimer = Retimer(d.fps, fps)
    kept: list[torch.Tensor] = []
    model_frames, native_written = 0, 0
    with AVWriter(out, height=size, width=size, fps=fps, sample_rate=native_rate if native else None,
                  num_channels=native_channels) as writer:

        def write(frames: torch.Tensor) -> None:
            if frames.numel():
                writer.add_frames(_resize(frames, size))
                result.frames += frames.shape[0]

        for frames in gen.stream(audio, seed=seed, steps=steps, guidance=guidance, sampler=sampler,
                                 drop_audio=drop_audio, overlap=overlap, windows=result.windows,
                                 on_frames=on_frames, visualizer=visualizer):
            model_frames += frames.shape[0]
            held = sum(k.shape[0] for k in kept)
            if keep_seconds is None or held < keep_seconds * d.fps:
                kept.append(frames if keep_seconds is None else frames[:round(keep_seconds * d.fps) - held])
            write(retimer.push(frames))
            if native is not None:   # keep the audio in step with the video written so far
                upto = model_frames * native_rate // d.fps
                samples = native.read(upto - native_written)
                native_written += samples.shape[-1]
                if samples.shape[-1]:
                    writer.add_samples(samples)
        write(retimer.finish(model_frames))
        while native is not None:    # the last partial frame's audio
            samples = native.read(native_rate)
            if samples.shape[-1] == 0:
                break
            writer.add_samples(samples)
    result.seconds = result.frames / fps
    if kept:
        result.video = torch.cat(kept)
    return result


def render_to_file(gen: VideoGenerator, audio: torch.Tensor, out: Path, *, seed: int | None = None,
                   steps: int | None = None, guidance: float | None = None, sampler: str | None = None,
                   drop_audio: bool = False, events: dict | None = None, sheet: Path | None = None,
                   title: str = "", visualizer: str | None = None) -> torch.Tensor:
    """Generate frames for in-memory `audio` [1, L] (model sample rate), write `out` (h264 + aac).

    Returns the frames (uint8 [T, 3, H, W]). With `sheet`, also saves a contact sheet PNG.
    """
    d = gen.cfg.data
    audio = audio.reshape(1, -1)
    result = render_stream(gen, TensorAudio(audio), out, native=TensorAudio(audio), native_rate=d.sample_rate,
                           seed=seed, steps=steps, guidance=guidance, sampler=sampler, drop_audio=drop_audio,
                           keep_seconds=None, visualizer=visualizer)
    if sheet is not None:
        contact_sheet(sheet, result.video, audio, d.fps, d.sample_rate, events, title=title)
    return result.video
