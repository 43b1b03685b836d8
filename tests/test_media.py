"""Media: mp4 round trip through torchcodec, atomic writes."""

import os

import pytest
import torch
from torchcodec.encoders import AudioEncoder

from synesthete.media import AVWriter, MediaError, VideoReader, read_audio, read_av, write_av


def _clip(frames=48, size=64, samples=48000):
    # a moving colour gradient: content h264 keeps well, so decoding can be checked closely
    y = torch.linspace(0, 1, size)[:, None]
    x = torch.linspace(0, 1, size)[None, :]
    f = torch.arange(frames)[:, None, None, None] / frames
    rgb = torch.stack([x.expand(size, size), y.expand(size, size), (x + y) / 2])[None]
    video = ((rgb + f) % 1.0 * 255).to(torch.uint8)
    t = torch.arange(samples) / 16000
    audio = (0.5 * torch.sin(2 * torch.pi * 440 * t))[None]
    return video, audio


def test_round_trip_has_both_streams(tmp_path):
    video, audio = _clip()
    path = write_av(tmp_path / "x.mp4", video, 16, audio, 16000)
    back = read_av(path)
    assert back.video.shape == (48, 3, 64, 64) and back.video.dtype == torch.uint8
    assert back.fps == 16
    assert back.sample_rate == 16000 and back.audio.shape[0] == 1
    assert abs(back.audio.shape[1] - 48000) <= 1024
    # h264 at crf 18 keeps a noise frame recognisable
    err = (back.video.float() - video.float()).abs().mean()
    assert err < 6
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"


def test_read_av_can_shrink_large_frames_as_it_decodes(tmp_path):
    """max_short_side: a 64 x 96 video read at 32 on its short side keeps its aspect and its picture;
    one already small enough is read as it is."""
    video, audio = _clip(frames=8, size=96)
    wide = video[:, :, 16:80, :]                                          # [8, 3, 64, 96]
    path = write_av(tmp_path / "wide.mp4", wide, 16, audio[:, :8000], 16000)
    small = read_av(path, max_short_side=32)
    assert small.video.shape == (8, 3, 32, 48) and small.fps == 16 and small.audio is not None
    shrunk = torch.nn.functional.interpolate(wide.float(), size=(32, 48), mode="area")
    assert (small.video.float() - shrunk).abs().mean() < 6
    assert read_av(path, max_short_side=64).video.shape == (8, 3, 64, 96)


def test_video_reader_streams_every_frame_once_in_chunks(tmp_path):
    """VideoReader (eval --video) knows fps, size and length before decoding, and its chunks are the
    frames read_av returns whole, shrunk the same way; a file without video is one clear error."""
    video, audio = _clip(frames=10, size=96)
    path = write_av(tmp_path / "x.mp4", video[:, :, 16:80, :], 16, audio[:, :10000], 16000)
    reader = VideoReader(path, max_short_side=32)
    assert (len(reader), reader.fps, reader.size) == (10, 16.0, (32, 48))
    chunks = list(reader.chunks(4))
    assert [c.shape[0] for c in chunks] == [4, 4, 2]
    assert torch.equal(torch.cat(chunks), read_av(path, max_short_side=32).video)
    wav = tmp_path / "tone.wav"
    AudioEncoder(audio, sample_rate=16000).to_file(str(wav))
    with pytest.raises(MediaError, match="has no video stream"):
        VideoReader(wav)
    import matplotlib.pyplot as plt

    plt.imsave(tmp_path / "still.png", video[0].permute(1, 2, 0).numpy())
    with pytest.raises(MediaError, match=r"still.png: it has no timed frames \(a still image\?\)$"):
        VideoReader(tmp_path / "still.png")


def test_failed_write_leaves_nothing(tmp_path):
    video, audio = _clip(frames=4)
    target = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError):
        with AVWriter(target, height=64, width=64, fps=16, sample_rate=16000) as w:
            w.add_frames(video)
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_a_frame_size_ffmpeg_refuses_is_a_clear_error_and_leaves_nothing(tmp_path):
    with pytest.raises(MediaError, match=r"cannot write .*out.mp4: FFmpeg cannot encode 100000x100000 h264 "
                                         r"at 16 fps \(avcodec_open2 failed"):
        with AVWriter(tmp_path / "out.mp4", height=100000, width=100000, fps=16):
            pass
    assert list(tmp_path.iterdir()) == []


def test_a_second_interrupt_during_close_still_leaves_nothing(tmp_path):
    video, _ = _clip(frames=4)
    with pytest.raises(KeyboardInterrupt):
        with AVWriter(tmp_path / "out.mp4", height=64, width=64, fps=16) as w:
            w.add_frames(video)
            real_close = w._encoder.close

            def close():                      # Ctrl-C again while the encoder flushes
                real_close()
                raise KeyboardInterrupt
            w._encoder.close = close
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_is_a_clear_error(tmp_path):
    video, _ = _clip(frames=2)
    with pytest.raises(MediaError, match="does not exist"):
        write_av(tmp_path / "missing" / "x.mp4", video, 16)


def test_read_audio_resamples_and_downmixes(tmp_path):
    t = torch.arange(48000) / 48000
    stereo = torch.stack([torch.sin(2 * torch.pi * 220 * t), torch.sin(2 * torch.pi * 330 * t)]) * 0.3
    video = torch.zeros(16, 3, 32, 32, dtype=torch.uint8)
    path = write_av(tmp_path / "s.mp4", video, 16, stereo, 48000)
    audio, sr = read_audio(path, sample_rate=16000)
    assert sr == 16000 and audio.shape[0] == 1 and abs(audio.shape[1] - 16000) <= 1024


def test_bad_audio_files(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "text.wav"
    text.write_text("this is not audio\n" * 20)
    with pytest.raises(MediaError, match="no such file"):
        read_audio(tmp_path / "missing.wav")
    with pytest.raises(MediaError, match="is a folder"):
        read_audio(tmp_path)
    with pytest.raises(MediaError, match="empty"):
        read_audio(empty)
    with pytest.raises(MediaError, match="cannot decode") as info:
        read_audio(text)
    assert ".cpp" not in str(info.value)             # FFmpeg's words, not torchcodec's source location
