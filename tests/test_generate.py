"""Long-form generation: windows, warm start, blending, streaming, every input format and bad input."""

import math
import os
import subprocess

import pytest
import torch

from synesthete.bench.generate import peak_rss_mb
from synesthete.cli import main as cli_main
from synesthete.data import make_clip
from synesthete.data.procedural import VAL_INDEX_BASE
from synesthete.config import DataConfig
from synesthete.diffusion import CosineSchedule, sample_ddim
from synesthete.diffusion.warm_start import warm_start
from synesthete.eval.seams import seam_ratio
from synesthete.infer import VideoGenerator
from synesthete.infer.render import Retimer
from synesthete.infer.windows import blend, boundary_frames, crossfade_weights, plan_windows
from synesthete.media import AudioReader, read_audio, read_av


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], check=True)


def tone(path, seconds=1.0, rate=44100, channels=2, extra=()):
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency=330:sample_rate={rate}:duration={seconds}",
           "-ac", str(channels), *extra, str(path))
    return path


def run_dir(tiny_run):
    return str(tiny_run / "runs" / "tiny")


def generate(tiny_run, tmp_path, *args, out="o.mp4"):
    return cli_main(["generate", "--run", run_dir(tiny_run), "--out", str(tmp_path / out), *args])


# --- windows and blending -----------------------------------------------------------------


@pytest.mark.parametrize("total", [1, 47, 48, 49, 88, 100, 481])
def test_windows_cover_the_song_exactly(total):
    plan = plan_windows(total, window=48, overlap=8)
    assert plan[0][0] == 0 and plan[-1][0] + plan[-1][1] == total
    assert all(n == min(48, total) for _, n in plan)
    for (s0, n0), (s1, _) in zip(plan, plan[1:]):
        assert s0 < s1 and s0 + n0 - s1 >= 8          # neighbours share at least the overlap


def test_blend_is_exact_where_windows_agree():
    w = crossfade_weights(8)
    assert torch.all(w[:-1] > w[1:]) and 0 < w.min() and w.max() < 1
    frames = torch.randn(8, 4, 2, 2)
    assert torch.allclose(blend(frames, frames), frames, atol=1e-6)
    a, b = torch.zeros(8, 1), torch.ones(8, 1)
    assert torch.allclose(blend(a, b)[:, 0], 1 - w)   # the later window fades in


def test_warm_start_lands_on_the_known_frames():
    class Zero:                                        # a denoiser that always predicts 0
        schedule = CosineSchedule()

        def __call__(self, x, t, **_):
            return torch.zeros_like(x)

    known = torch.randn(1, 3, 2, 4, 4)
    held = warm_start(Zero(), known, torch.ones(3))
    x = sample_ddim(held, torch.randn(1, 6, 2, 4, 4), 5)
    assert torch.allclose(x[:, :3], known, atol=1e-5)   # full weight: exactly the known frames
    assert x[:, 3:].abs().max() < 1e-5
    half = sample_ddim(warm_start(Zero(), known, torch.full((3,), 0.5)), torch.randn(1, 6, 2, 4, 4), 5)
    assert torch.allclose(half[:, :3], known / 2, atol=1e-5)


@pytest.mark.parametrize("fps_out", [8, 16, 24, 30])
def test_retimer_gives_the_right_number_of_frames(fps_out):
    frames = torch.arange(40, dtype=torch.uint8).reshape(40, 1, 1, 1).expand(40, 3, 2, 2)
    r = Retimer(16, fps_out)
    out = [r.push(c) for c in frames.split(7)] + [r.finish(40)]
    out = torch.cat([o for o in out if o.numel()])
    assert out.shape[0] == math.ceil(40 * fps_out / 16)
    assert torch.all(out[1:, 0, 0, 0] >= out[:-1, 0, 0, 0])   # time runs forward


def test_seam_ratio_sees_planted_jumps():
    video = make_clip(DataConfig(seconds=6.0, size=64), VAL_INDEX_BASE + 1)["video"]
    bounds = boundary_frames(plan_windows(video.shape[0], 24, 4))
    natural = seam_ratio(video, bounds)
    jumped = video.clone()
    for b in bounds:                                 # shift the picture from each boundary on
        jumped[b:] = torch.roll(jumped[b:], shifts=9, dims=-1)
    assert 0.3 < natural < 2.0 and seam_ratio(jumped, bounds) > 1.5 * natural


# --- streaming generation -----------------------------------------------------------------


def test_stream_matches_the_plan_and_is_deterministic(tiny_run):
    gen = VideoGenerator.from_run(tiny_run / "runs" / "tiny", torch.device("cpu"))
    audio = torch.randn(1, 40 * 1000 - 300) * 0.1                    # 40 frames at 16 fps / 16 kHz
    windows = []
    a = gen.generate(audio, seed=1, windows=windows)
    assert a.shape[0] == 40 and windows == plan_windows(40, gen.frames_per_window, 2)
    assert torch.equal(a, gen.generate(audio, seed=1))


def test_audio_reader_chunks_equal_the_whole(tmp_path):
    src = tone(tmp_path / "a.mp3", seconds=3.0)
    whole, _ = read_audio(src, sample_rate=16000)
    reader = AudioReader(src, sample_rate=16000, mono=True, chunk_seconds=0.7)
    parts = iter(lambda: reader.read(5000), None)
    got = torch.cat([p for p, _ in zip(parts, range(100)) if p.shape[-1]], dim=-1)
    assert torch.equal(got, whole)
    span = AudioReader(src, start=1.0, duration=0.5).read(10**6)
    assert span.shape == (2, 22050)


@pytest.mark.parametrize("ext, extra", [
    ("wav", ()), ("flac", ()), ("ogg", ("-c:a", "libvorbis")), ("mp3", ()), ("m4a", ("-c:a", "aac")),
])
def test_every_audio_format(tiny_run, tmp_path, ext, extra):
    src = tone(tmp_path / f"in.{ext}", seconds=1.3, extra=extra)
    assert generate(tiny_run, tmp_path, "--audio", str(src)) == 0
    back = read_av(tmp_path / "o.mp4")
    samples = read_audio(src, sample_rate=16000)[0].shape[-1]
    assert back.video.shape[0] == math.ceil(samples / 1000)          # to the frame
    assert back.audio is not None and back.sample_rate == 44100 and back.audio.shape[0] == 2


def test_audio_track_of_a_video_file(tiny_run, tmp_path):
    src = tmp_path / "clip.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=25:duration=1", "-f", "lavfi",
           "-i", "sine=frequency=220:duration=1", "-shortest", str(src))
    assert generate(tiny_run, tmp_path, "--audio", str(src)) == 0
    samples = read_audio(src, sample_rate=16000)[0].shape[-1]
    assert read_av(tmp_path / "o.mp4").video.shape[0] == math.ceil(samples / 1000)


def test_audio_whose_header_has_no_duration(tiny_run, tmp_path, monkeypatch):
    """A FLAC written to a pipe holds no length in its header: on a terminal the bar counts seconds
    without a total (its column had formatted the missing total and raised), and the video is whole."""
    src = tmp_path / "piped.flac"
    with open(src, "wb") as f:
        subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=330:duration=1.3",
                        "-f", "flac", "-"], stdout=f, check=True)
    assert AudioReader(src).duration_hint is None
    monkeypatch.setenv("TTY_COMPATIBLE", "1")                   # rich draws its bar as on a terminal
    assert generate(tiny_run, tmp_path, "--audio", str(src)) == 0
    assert read_av(tmp_path / "o.mp4").video.shape[0] == math.ceil(1.3 * 16)


def test_twenty_seconds_exact_frames_and_both_streams(tiny_run, tmp_path):
    src = tone(tmp_path / "song.wav", seconds=20.03, rate=22050, channels=1)
    assert generate(tiny_run, tmp_path, "--audio", str(src), "--steps", "1") == 0
    back = read_av(tmp_path / "o.mp4")
    assert back.video.shape[0] == math.ceil(20.03 * 16) and back.audio is not None
    assert abs(back.audio.shape[-1] / back.sample_rate - 20.03) < 0.05


def test_six_channels_48k_silence_and_a_tenth_of_a_second(tiny_run, tmp_path):
    six = tone(tmp_path / "six.wav", seconds=1.0, rate=48000, channels=6)
    assert generate(tiny_run, tmp_path, "--audio", str(six), out="six.mp4") == 0
    back = read_av(tmp_path / "six.mp4")
    assert back.audio.shape[0] == 6 and back.sample_rate == 48000 and back.video.shape[0] == 16
    silent = tmp_path / "silent.wav"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "0.1", str(silent))
    assert generate(tiny_run, tmp_path, "--audio", str(silent), out="short.mp4") == 0
    assert read_av(tmp_path / "short.mp4").video.shape[0] == 2


def test_audio_free_span_size_and_fps(tiny_run, tmp_path):
    assert generate(tiny_run, tmp_path, "--duration", "2", "--size", "48", "--fps", "24") == 0
    back = read_av(tmp_path / "o.mp4")
    assert back.video.shape == (48, 3, 48, 48) and back.audio is None and back.fps == 24
    src = tone(tmp_path / "long.wav", seconds=5.0)
    assert generate(tiny_run, tmp_path, "--audio", str(src), "--start", "1", "--duration", "2.5", out="cut.mp4") == 0
    assert read_av(tmp_path / "cut.mp4").video.shape[0] == 40


def test_memory_does_not_grow_with_length(tiny_run, tmp_path):
    """Loose check (the benchmark measures it properly): 8x longer audio-free video, similar peak RSS."""
    peaks = [peak_rss_mb(["generate", "--run", run_dir(tiny_run), "--duration", seconds, "--steps", "1",
                          "--out", str(tmp_path / f"m{seconds}.mp4")]) for seconds in ("5", "40")]
    assert peaks[1] < 1.15 * peaks[0], peaks


# --- bad input ----------------------------------------------------------------------------


def _bad_files(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.wav").write_text("this is not audio\n" * 20)
    ogg = tone(tmp_path / "full.ogg", seconds=3.0, extra=("-c:a", "libvorbis"))
    (tmp_path / "truncated.ogg").write_bytes(ogg.read_bytes()[:300])
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=16:duration=1", str(tmp_path / "mute.mp4"))
    raw = torch.zeros(16000)
    raw[5000] = float("nan")
    (tmp_path / "nan.f32").write_bytes(raw.numpy().tobytes())
    ffmpeg("-f", "f32le", "-ar", "16000", "-ac", "1", "-i", str(tmp_path / "nan.f32"), "-c:a", "pcm_f32le",
           str(tmp_path / "nan.wav"))
    raw[5000] = float("inf")
    (tmp_path / "inf.f32").write_bytes(raw.numpy().tobytes())
    ffmpeg("-f", "f32le", "-ar", "16000", "-ac", "1", "-i", str(tmp_path / "inf.f32"), "-c:a", "pcm_f32le",
           str(tmp_path / "inf.wav"))
    tone(tmp_path / "ok.wav", seconds=1.0)


@pytest.mark.parametrize("args, text", [
    (["--audio", "missing.wav"], "no such file"),
    (["--audio", "empty.wav"], "is empty"),
    (["--audio", "text.wav"], "cannot decode audio from"),
    (["--audio", "truncated.ogg"], "truncated.ogg"),
    (["--audio", "mute.mp4"], "mute.mp4: it has no audio stream"),
    (["--audio", "nan.wav"], "NaN or infinite"),
    (["--audio", "inf.wav"], "NaN or infinite"),
    (["--audio", "ok.wav", "--out", "no/such/dir/o.mp4"], "does not exist"),
    (["--audio", "ok.wav", "--out", "o.avi"], ".mp4"),
    (["--audio", "ok.wav", "--run", "nowhere"], "no run folder"),
    (["--audio", "ok.wav", "--steps", "-3"], "--steps must be >= 1"),
    (["--audio", "ok.wav", "--fps", "0"], "--fps must be >= 1"),
    (["--audio", "ok.wav", "--guidance-interval", "0.9", "0.1"], "--guidance-interval must be LO HI"),
    (["--audio", "ok.wav", "--size", "15"], "--size must be an even number"),
    (["--audio", "ok.wav", "--duration", "-1"], "--duration must be > 0"),
    (["--audio", "ok.wav", "--start", "9"], "holds no audio samples after 9"),
    ([], "give --audio FILE, or --duration"),
])
def test_bad_input_is_one_line_and_leaves_nothing(tiny_run, tmp_path, capsys, args, text):
    _bad_files(tmp_path)
    args = [str(tmp_path / a) if a.endswith((".wav", ".ogg", ".mp4", ".avi")) else a for a in args]
    before = set(os.listdir(tmp_path))
    run = [] if "--run" in args else ["--run", run_dir(tiny_run)]
    out = [] if "--out" in args else ["--out", str(tmp_path / "o.mp4")]
    assert cli_main(["generate", *run, *out, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert text in err and "\n" not in err and "Traceback" not in err
    assert set(os.listdir(tmp_path)) == before          # no output, no temporary file left


def test_output_over_its_own_audio_is_refused(tiny_run, tmp_path, capsys):
    """--out naming the --audio file (also by another path) would replace the user's source: refused, untouched."""
    song = tmp_path / "song.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=16:duration=1", "-f", "lavfi", "-i",
           "sine=frequency=220:duration=1", "-shortest", str(song))
    before = song.read_bytes()
    other_path = tmp_path / "." / "song.mp4"
    assert cli_main(["generate", "--run", run_dir(tiny_run), "--audio", str(song), "--out", str(other_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "is the --audio file" in err and "\n" not in err
    assert song.read_bytes() == before and os.listdir(tmp_path) == ["song.mp4"]


def test_guidance_interval_reaches_generate(tiny_run, tmp_path):
    """Guidance 3 only at t <= 0.1, which 2 steps (t = 1, 0.5) never reach, and the unconditional
    denoiser elsewhere, draws exactly what guidance 0 draws; guidance 3 everywhere does not."""
    from synesthete.media import read_av

    src = str(tone(tmp_path / "ok.wav"))
    common = ["--audio", src, "--steps", "2", "--seed", "1"]
    assert generate(tiny_run, tmp_path, *common, "--guidance", "0", out="g0.mp4") == 0
    assert generate(tiny_run, tmp_path, *common, "--guidance", "3", "--guidance-interval", "0", "0.1",
                    "--guidance-outside", "0", out="limited.mp4") == 0
    assert generate(tiny_run, tmp_path, *common, "--guidance", "3", out="g3.mp4") == 0
    g0, limited, g3 = (read_av(tmp_path / n).video for n in ("g0.mp4", "limited.mp4", "g3.mp4"))
    assert torch.equal(g0, limited) and not torch.equal(g0, g3)


@pytest.mark.parametrize("target", ["folder.mp4", "/proc/o.mp4", "locked/o.mp4"])
def test_unwritable_output(tiny_run, tmp_path, capsys, target):
    (tmp_path / "folder.mp4").mkdir()
    (tmp_path / "locked").mkdir(mode=0o500)      # unwritable, except for root: then /proc covers it
    src = tone(tmp_path / "ok.wav")
    rc = cli_main(["generate", "--run", run_dir(tiny_run), "--audio", str(src), "--out", str(tmp_path / target)])
    err = capsys.readouterr().err.strip()
    if target.startswith("locked") and os.geteuid() == 0:
        assert rc == 0
        return
    assert rc == 2 and "cannot write" in err and "\n" not in err


@pytest.mark.parametrize("name, message", [("nope", "unknown visualizer"), ("tunnel", "visualizer_label")])
def test_visualizer_flag_errors_are_one_line(tiny_run, tmp_path, capsys, name, message):
    """An unknown name, or a name for a run trained without labels: one line, no output."""
    rc = generate(tiny_run, tmp_path, "--duration", "0.5", "--visualizer", name)
    err = capsys.readouterr().err.strip()
    assert rc == 2 and message in err and "\n" not in err and not (tmp_path / "o.mp4").exists()


def test_visualizer_labels_train_and_steer_generation(tiny_run, tmp_path, capsys):
    """dit.visualizer_label: the DiT trains with labels and `--visualizer` changes what it draws."""
    import shutil

    from synesthete.config import load_config
    from synesthete.device import pick_device
    from synesthete.train.stages import train_dit
    from conftest import TINY

    run = tmp_path / "labelled"
    run.mkdir()
    shutil.copytree(tiny_run / "runs" / "tiny" / "vae", run / "vae")
    cfg = load_config(None, [*TINY, "dit.visualizer_label=true"])
    train_dit(cfg, run, pick_device("cpu"))
    gen = VideoGenerator.from_run(run, pick_device("cpu"))
    assert gen.takes_visualizer and gen.label_for({"meta": {"visualizer": "rings"}}) == "rings"
    audio, noise = torch.zeros(1, 1, 8 * 1000), torch.randn(1, 8, 8, 2, 2, generator=torch.Generator().manual_seed(0))
    a, b = (gen.sample_latents(audio, noise, 2, 3.0, visualizer=v) for v in ("geometry", "tunnel"))
    assert not torch.equal(a, b)
    assert torch.equal(gen.sample_latents(audio, noise, 2, 3.0), gen.sample_latents(audio, noise, 2, 3.0))
    rc = cli_main(["generate", "--run", str(run), "--duration", "0.5", "--visualizer", "tunnel",
                   "--out", str(tmp_path / "v.mp4")])
    assert rc == 0 and (tmp_path / "v.mp4").exists(), capsys.readouterr().err


def test_incompatible_run_is_one_line(tiny_run, tmp_path, capsys):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(tiny_run / "runs" / "tiny", bad)
    for state in bad.glob("dit/step_*/state.json"):
        state.write_text(state.read_text().replace('"latent_channels": 8', '"latent_channels": 4'))
    src = tone(tmp_path / "ok.wav")
    rc = cli_main(["generate", "--run", str(bad), "--audio", str(src), "--out", str(tmp_path / "o.mp4")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err and not (tmp_path / "o.mp4").exists()


def test_decode_hands_the_vae_latents_on_its_device():
    """The sampler keeps finished latents on the CPU; decoding must move them to the VAE's device
    (on CUDA this mix-up stopped every generation: found on an H100, docs/experiments.md, "`standard` on a GPU")."""
    seen = []

    class RecordingVAE:
        def denormalize_latent(self, z):
            seen.append(z.device.type)
            return z

        def decode(self, z):
            seen.append(z.device.type)
            return torch.zeros(z.shape[0], 3, 8, 8)

    gen = VideoGenerator(RecordingVAE(), model=None, cfg=None, device=torch.device("meta"))
    frames = gen.decode(torch.zeros(1, 3, 4, 2, 2))
    assert frames.shape == (1, 3, 3, 8, 8) and frames.device.type == "cpu"
    assert seen and set(seen) == {"meta"}
