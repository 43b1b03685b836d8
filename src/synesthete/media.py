"""Reading and writing audio/video with torchcodec: the one media module.

Writes are atomic (a temporary file beside the target, renamed at the end), so an interrupted
write never leaves a half-written file at the path the user named.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torchcodec.decoders import AudioDecoder, VideoDecoder
from torchcodec.encoders import Encoder
from torchcodec.transforms import Resize

from synesthete.atomic_file import file_mode
from synesthete.errors import first_line


class MediaError(RuntimeError):
    """A file could not be read or written; the message says which and why."""


def _even(n: int) -> int:
    return n + (n % 2)


def check_mp4_target(path: str | Path) -> Path:
    """`path` as a Path, or a MediaError unless an mp4 can be written there: an .mp4 name, not a folder,
    in an existing writable folder. Front ends call it before any work, so a typo costs no training."""
    path = Path(path)
    if path.suffix.lower() != ".mp4":
        raise MediaError(f"cannot write {path}: the output must be an .mp4 file")
    if not path.parent.is_dir():
        what = "is a file, not a folder" if path.parent.exists() else "does not exist"
        raise MediaError(f"cannot write {path}: folder {path.parent} {what}")
    if not os.access(path.parent, os.W_OK):
        raise MediaError(f"cannot write {path}: folder {path.parent} is not writable")
    if path.is_dir():
        raise MediaError(f"cannot write {path}: it is a folder")
    return path


class AVWriter:
    """Streaming mp4 writer (h264 yuv420p + aac): add frames and samples as they are made.

    Use as a context manager; on success the temporary file is renamed to `path`, on any
    exception it is removed and `path` is left untouched.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        height: int,
        width: int,
        fps: int,
        sample_rate: int | None = None,
        num_channels: int = 1,
        crf: int = 18,
    ):
        self.path = check_mp4_target(path)
        if height % 2 or width % 2:
            raise MediaError(f"h264 yuv420p needs even frame sizes, got {width}x{height}")
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".mp4", dir=self.path.parent)
        except OSError as e:
            raise MediaError(f"cannot write {self.path}: {e.strerror}") from None
        os.close(fd)
        self._tmp = Path(tmp)
        self._size = f"{width}x{height} h264 at {fps} fps"
        self._encoder = Encoder()
        self._video = self._encoder.add_video(
            height=height, width=width, frame_rate=fps, device="cpu",
            codec="libx264", pixel_format="yuv420p", crf=crf,
        )
        self._audio = (
            self._encoder.add_audio(sample_rate=sample_rate, num_channels=num_channels)
            if sample_rate is not None
            else None
        )
        self._open = False

    def __enter__(self) -> "AVWriter":
        try:
            self._encoder.open_file(self._tmp)
        except RuntimeError as e:  # FFmpeg refuses the stream, e.g. a frame size beyond h264's
            self._tmp.unlink(missing_ok=True)
            raise MediaError(f"cannot write {self.path}: FFmpeg cannot encode {self._size} "
                             f"({_reason(e)})") from None
        self._open = True
        return self

    def add_frames(self, frames: torch.Tensor) -> None:
        """frames: uint8 [N, 3, H, W]."""
        with self._refusals():
            self._video.add_frames(frames.detach().to("cpu", torch.uint8).contiguous())

    def add_samples(self, samples: torch.Tensor) -> None:
        """samples: float [C, N] in [-1, 1]."""
        if self._audio is None:
            raise MediaError("this writer has no audio stream")
        with self._refusals():
            self._audio.add_samples(samples.detach().to("cpu", torch.float32).clamp(-1, 1).contiguous())

    @contextlib.contextmanager
    def _refusals(self):
        """FFmpeg failing to write (a full disk) as a MediaError naming the output, not torchcodec's
        RuntimeError with its C++ source location."""
        try:
            yield
        except RuntimeError as e:
            raise MediaError(f"cannot write {self.path}: {_reason(e)}") from e

    def __exit__(self, exc_type, exc, tb) -> None:
        done = False
        try:   # the temp file goes unless renamed, even when a second Ctrl-C breaks into close()
            try:
                if self._open:
                    with self._refusals():
                        self._encoder.close()
            except Exception:
                if exc_type is None:
                    raise
                return
            if exc_type is None:
                os.chmod(self._tmp, file_mode())             # mkstemp makes it owner-only
                os.replace(self._tmp, self.path)
                done = True
        finally:
            if not done:
                self._tmp.unlink(missing_ok=True)


def write_av(
    path: str | Path,
    video: torch.Tensor,
    fps: int,
    audio: torch.Tensor | None = None,
    sample_rate: int | None = None,
    crf: int = 18,
) -> Path:
    """Write uint8 video [T, 3, H, W] and optional float audio [C, L] to an mp4, atomically."""
    if video.ndim != 4 or video.shape[1] != 3:
        raise MediaError(f"video must be [T, 3, H, W], got {tuple(video.shape)}")
    _, _, h, w = video.shape
    with AVWriter(
        path, height=h, width=w, fps=fps,
        sample_rate=sample_rate if audio is not None else None,
        num_channels=audio.shape[0] if audio is not None else 1, crf=crf,
    ) as writer:
        writer.add_frames(video)
        if audio is not None:
            writer.add_samples(audio)
    return Path(path)


@dataclass
class AVClip:
    video: torch.Tensor | None  # uint8 [T, 3, H, W], or None without a video stream
    fps: float | None
    audio: torch.Tensor | None  # float32 [C, L], or None without an audio stream
    sample_rate: int | None


def _existing_file(path: str | Path) -> Path:
    """`path` as a Path, or a MediaError when it is missing or empty."""
    path = Path(path)
    if path.is_dir():
        raise MediaError(f"{path} is a folder, not a media file")
    if not path.is_file():
        raise MediaError(f"no such file: {path}")
    if path.stat().st_size == 0:
        raise MediaError(f"{path} is empty")
    return path


def read_audio(path: str | Path, sample_rate: int | None = None, mono: bool = True) -> tuple[torch.Tensor, int]:
    """Decode the audio track of any file FFmpeg reads -> (float32 [C, L], sample_rate).

    Resamples to `sample_rate` when given and downmixes to one channel when `mono`.
    """
    samples = _all_audio_samples(path, sample_rate, mono)
    return samples.data.to(torch.float32), int(samples.sample_rate)


def _all_audio_samples(path: str | Path, sample_rate: int | None, mono: bool):
    """torchcodec's AudioSamples of the whole track (data, sample_rate and the first sample's time)."""
    path = _existing_file(path)
    try:
        decoder = AudioDecoder(str(path), sample_rate=sample_rate, num_channels=1 if mono else None)
        return decoder.get_all_samples()
    except Exception as e:  # torchcodec raises RuntimeError/ValueError with FFmpeg's words
        raise MediaError(f"cannot decode audio from {path}: {_reason(e)}") from None


def read_audio_on_clock(path: str | Path, clock_start: float, mono: bool = True) -> tuple[torch.Tensor, int, float]:
    """The audio track lined up with a clock that starts at `clock_start` seconds of the file's own
    timeline (its first video frame's time, `VideoReader.begin`), as a player lines the streams up:
    silence before a track that starts later, cut before `clock_start` for one that starts earlier.
    -> (float32 [C, L], sample_rate, seconds the track starts after `clock_start`, negative = before);
    L is 0 for a track that ends before `clock_start`."""
    samples = _all_audio_samples(path, None, mono)
    wave, sr = samples.data.to(torch.float32), int(samples.sample_rate)
    late = float(samples.pts_seconds) - clock_start
    shift = round(late * sr)
    if shift > 0:
        wave = torch.cat([wave.new_zeros(wave.shape[0], shift), wave], dim=1)
    elif shift < 0:
        wave = wave[:, -shift:]
    return wave, sr, late


class AudioReader:
    """Sequential, chunked decoding of a file's audio: bounded memory for hours of sound.

    `read(n)` returns the next n samples (fewer at the end, then empty) as float32 [C, n],
    resampled to `sample_rate` and downmixed to mono when asked. The timeline starts at the
    first decoded sample, so two readers of one file (model rate and native rate) stay aligned.
    `start`/`duration` (seconds) cut a span. NaN or infinite samples are a MediaError.
    """

    def __init__(self, path: str | Path, sample_rate: int | None = None, mono: bool = False,
                 start: float = 0.0, duration: float | None = None, chunk_seconds: float = 20.0):
        path = _existing_file(path)
        try:
            self._decoder = AudioDecoder(str(path), sample_rate=sample_rate, num_channels=1 if mono else None)
        except Exception as e:
            raise MediaError(f"cannot decode audio from {path}: {_reason(e)}") from None
        meta = self._decoder.metadata
        self.path = path
        self.sample_rate = int(sample_rate or meta.sample_rate)
        self.num_channels = 1 if mono else int(meta.num_channels)
        begin = meta.begin_stream_seconds or 0.0
        header = meta.duration_seconds
        self.duration_hint = None if header is None else max(0.0, header - start)
        if duration is not None:
            self.duration_hint = duration if self.duration_hint is None else min(duration, self.duration_hint)
        self._pos = begin + start                        # next decode position, seconds
        self._end = None if duration is None else begin + start + duration
        self._left = None if duration is None else round(duration * self.sample_rate)
        self._chunk = chunk_seconds
        self._buf = torch.zeros(self.num_channels, 0)
        self._done = False

    def _decode_next(self) -> None:
        stop = self._pos + self._chunk if self._end is None else min(self._pos + self._chunk, self._end)
        if stop <= self._pos:
            self._done = True
            return
        try:
            data = self._decoder.get_samples_played_in_range(self._pos, stop).data
        except RuntimeError as e:
            if "No audio frames were decoded" in str(e):   # past the end of the stream
                self._done = True
                return
            raise MediaError(f"cannot decode audio from {self.path}: {_reason(e)}") from None
        if not bool(torch.isfinite(data).all()):
            raise MediaError(f"{self.path} holds NaN or infinite samples")
        self._pos = stop
        if data.shape[-1] == 0:
            self._done = True
        self._buf = torch.cat([self._buf, data.to(torch.float32)], dim=-1)

    def peek(self, n: int) -> torch.Tensor:
        """The next (up to) n samples without consuming them (to check a file before writing)."""
        if self._left is not None:
            n = min(n, self._left)
        while self._buf.shape[-1] < n and not self._done:
            self._decode_next()
        return self._buf[:, :n]

    def read(self, n: int) -> torch.Tensor:
        """The next (up to) n samples, float32 [C, <= n]."""
        out = self.peek(n)
        self._buf = self._buf[:, out.shape[-1]:]
        if self._left is not None:
            self._left -= out.shape[-1]
        return out


def _reason(e: Exception) -> str:
    """A decoder's message in a user's words: the common cases named, else its first line
    without the C++ source location torchcodec puts in front of FFmpeg's words."""
    text = str(e).strip()
    for kind in ("audio", "video"):
        if f"best {kind} stream is unknown" in text:
            return f"it has no {kind} stream"
    if "maximum pts value in seconds is unknown" in text:      # a PNG or JPEG: one frame, no timeline
        return "it has no timed frames (a still image?)"
    if "Could not open input file" in text:
        return "permission denied" if "Permission denied" in text else "FFmpeg cannot read it as audio or video"
    return re.sub(r"^.*?\.cpp:\d+, ", "", first_line(e))


class VideoReader:
    """A video stream read a chunk of frames at a time (`eval --video`), so a long video costs memory
    for one chunk only. With `max_short_side`, larger frames are shrunk as they are decoded (bilinear,
    antialiased, aspect kept). `fps`, `size` (H, W as read) and `len` are known before any frame.

    A variable-frame-rate video (a phone or screen recording that drops frames) is read at its
    nominal rate, each frame time showing the frame on screen then, as FFmpeg's `-r` would: the
    metrics take frame i to be at i / fps, which a stalled stretch would otherwise shift.

    `begin` is the first frame's time on the file's own timeline, where its audio's is measured too
    (`read_audio_on_clock`): most files start both at 0, but a stream-copied edit can start either later."""

    def __init__(self, path: str | Path, max_short_side: int | None = None) -> None:
        self.path = _existing_file(path)
        try:
            meta = VideoDecoder(str(self.path), seek_mode="approximate").metadata   # the header only: no scan
            h, w = meta.height, meta.width
            transforms = None
            if max_short_side is not None and min(h, w) > max_short_side:
                scale = max_short_side / min(h, w)
                h, w = max(1, round(h * scale)), max(1, round(w * scale))
                transforms = [Resize((h, w))]
            self._decoder = VideoDecoder(str(self.path), transforms=transforms)
        except Exception as e:
            raise MediaError(f"cannot decode video from {self.path}: {_reason(e)}") from None
        self.size = (h, w)
        meta, frames = self._decoder.metadata, len(self._decoder)
        self.fps, self._frames, self.begin = float(meta.average_fps), frames, 0.0
        self.variable_rate = False
        if frames:
            first = self._decoder.get_frames_in_range(0, min(frames, 16))
            self.begin = float(first.pts_seconds[0])
            period = float(first.duration_seconds.median())
            nominal = 1.0 / period if period > 0 else self.fps       # a container without durations: as stored
            if abs(nominal - self.fps) > 1e-3 * nominal:                 # frames missing: variable rate
                self.variable_rate = True
                self.fps = nominal
                self._frames = max(1, round((float(meta.end_stream_seconds) - self.begin) * nominal))

    def __len__(self) -> int:
        return self._frames

    def chunks(self, n: int = 64) -> Iterator[torch.Tensor]:
        """uint8 [<= n, 3, H, W] chunks, in order, covering every frame once (at a variable rate, the
        frame on screen at each of the nominal rate's frame times)."""
        total = len(self._decoder)
        if not self.variable_rate:                                   # the frames as stored
            for start in range(0, total, n):
                yield self._decoder.get_frames_in_range(start, min(start + n, total)).data
            return
        k, held = 0, None                                            # the next output frame, the last source frame
        for start in range(0, total, n):
            batch = self._decoder.get_frames_in_range(start, min(start + n, total))
            frames, pts = batch.data, batch.pts_seconds.double()
            if held is not None:
                frames, pts = torch.cat([held, frames]), torch.cat([pts.new_tensor([float("-inf")]), pts])
            # the output frames whose time (the middle of its period) comes before this chunk's last frame
            end = self._frames if start + n >= total else min(self._frames, int(
                (float(pts[-1]) - self.begin) * self.fps + 0.5))
            if end > k:
                times = self.begin + (torch.arange(k, end, dtype=torch.float64) + 0.5) / self.fps
                yield frames[(torch.searchsorted(pts, times, right=True) - 1).clamp(min=0)]
                k = end
            held = frames[-1:]

    def read_all(self) -> torch.Tensor:
        """Every frame, uint8 [T, 3, H, W]."""
        chunks = list(self.chunks(max(len(self), 1)))
        return torch.cat(chunks) if chunks else torch.zeros(0, 3, *self.size, dtype=torch.uint8)


def read_av(path: str | Path, max_short_side: int | None = None) -> AVClip:
    """Decode all frames and all audio of a file (for tests and short clips; `VideoReader` streams).
    With `max_short_side`, larger frames are shrunk as they are decoded."""
    path = _existing_file(path)
    video = fps = None
    try:
        reader = VideoReader(path, max_short_side)
        video, fps = reader.read_all(), reader.fps
    except MediaError:
        pass
    try:
        audio, sr = read_audio(path, mono=False)
    except MediaError:
        audio = sr = None
    if video is None and audio is None:
        raise MediaError(f"cannot decode {path}: no audio or video stream")
    return AVClip(video=video, fps=fps, audio=audio, sample_rate=sr)
