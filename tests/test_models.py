"""Shape, initialisation and small-learning tests for synesthete.models (tiny configs, CPU, seconds)."""

import pytest
import numpy as np
import torch
import torch.nn.functional as F

from synesthete.models import (AudioDiT, AudioEncoder, AudioToVideoNet, DiT, DiT_models, SpatialVAE,
                               VAE_DOWNSAMPLE, VAE_models, VAELoss)
from synesthete.models.vae_loss import LUMA, tile_spectra

from helpers import gen, randomize_zeroed

torch.set_num_threads(1)


def tiny_dit(**kw) -> DiT:
    args = dict(in_channels=4, patch_size=2, hidden_size=32, depth=2, num_heads=2, audio_dim=16)
    return DiT(**(args | kw))


# ----------------------------------------------------------------------------- VAE

@pytest.mark.parametrize("name", sorted(VAE_models))
def test_vae_sizes_downsample_16(name):
    vae = VAE_models[name]()
    assert vae.downsample == VAE_DOWNSAMPLE == 16
    x = torch.rand(1, 3, 32, 32, generator=gen()) * 2 - 1
    mean, logvar = vae.encode(x)
    assert mean.shape == logvar.shape == (1, 8, 2, 2)
    assert vae.decode(mean).shape == x.shape


def test_vae_shapes_and_sampling():
    vae = VAE_models["VAE-T"](latent_channels=6)
    x = torch.rand(2, 3, 128, 128, generator=gen()) * 2 - 1
    x_hat, mean, logvar = vae(x, sample=True, generator=gen(1))
    assert x_hat.shape == x.shape and mean.shape == (2, 6, 8, 8) and logvar.shape == (2, 6, 8, 8)
    again, _, _ = vae(x, sample=True, generator=gen(1))
    other, _, _ = vae(x, sample=True, generator=gen(2))
    assert torch.equal(x_hat, again) and not torch.equal(x_hat, other)
    assert torch.equal(vae(x, sample=False)[0], vae.decode(mean))


def test_vae_shortcut_paths_down_then_up_are_a_block_average():
    """DC-AE's weight-free paths: space-to-channel + averaging, then duplication + channel-to-space,
    give back each 2x2 block's mean over the channel groups, so a frame constant on 2x2 blocks
    and across the averaged channels passes through unchanged."""
    from synesthete.models.vae import ChannelToSpaceRepeat, SpaceToChannelAverage
    down, up = SpaceToChannelAverage(4, 8, 2), ChannelToSpaceRepeat(8, 4, 2)
    x = torch.rand(2, 4, 8, 8, generator=gen())
    pooled = F.avg_pool2d(x, 2)                                         # (2, 4, 4, 4)
    z = down(x)
    assert z.shape == (2, 8, 4, 4)
    # channel group k of the unshuffled map holds (channel k // 2) at two of the four offsets
    assert torch.allclose(z.reshape(2, 4, 2, 4, 4).mean(2), pooled, atol=1e-6)
    blocky = F.interpolate(pooled, scale_factor=2, mode="nearest")
    assert torch.allclose(up(down(blocky)), blocky, atol=1e-6)
    with pytest.raises(ValueError):
        SpaceToChannelAverage(4, 3, 2)


def test_vae_with_shortcuts_keeps_shapes_and_weights_and_uses_the_paths():
    x = torch.rand(2, 3, 64, 64, generator=gen()) * 2 - 1
    torch.manual_seed(0)
    plain = VAE_models["VAE-T"]()
    torch.manual_seed(0)
    short = VAE_models["VAE-T"](shortcuts=True)
    # the paths are weight-free: the same weights, the same initial values, another function
    assert sum(p.numel() for p in plain.parameters()) == sum(p.numel() for p in short.parameters())
    assert all(torch.equal(a, b) for a, b in zip(plain.parameters(), short.parameters()))
    mean, logvar = short.encode(x)
    assert mean.shape == logvar.shape == (2, 8, 4, 4) and short.decode(mean).shape == x.shape
    assert not torch.allclose(mean, plain.encode(x)[0])


def test_vae_latent_normalisation_round_trip():
    vae = SpatialVAE(channels=(8, 16), patch_size=8, latent_channels=4)
    vae.set_latent_stats(torch.tensor([0.5, -1.0, 0.0, 2.0]), torch.tensor([2.0, 0.5, 1.0, 3.0]))
    z = torch.randn(3, 5, 4, 8, 8, generator=gen())        # [B, T, Cz, h, w] broadcasts too
    assert torch.allclose(vae.denormalize_latent(vae.normalize_latent(z)), z, atol=1e-6)
    assert "latent_scale" in vae.state_dict()


def test_vae_loss_parts_and_sharpness():
    loss_fn = VAELoss()
    x = torch.rand(2, 3, 64, 64, generator=gen()) * 2 - 1
    mean, logvar = torch.randn(2, 8, 4, 4, generator=gen(1)), torch.zeros(2, 8, 4, 4)
    loss, parts = loss_fn(x, x, mean, logvar)
    assert set(parts) == {"rec", "grad", "pyramid", "kl"}
    assert all(torch.isfinite(v) for v in parts.values()) and torch.isfinite(loss)
    grad, pyr = loss_fn.sharpness(x, x)
    assert grad == 0 and pyr == 0
    blurred = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    grad_b, pyr_b = loss_fn.sharpness(blurred, x)
    assert grad_b > 0.05 and pyr_b > 0.05
    assert loss_fn(blurred, x, mean, logvar)[0] > loss
    assert parts["kl"] > 0 and loss_fn(x, x, torch.zeros_like(mean), logvar)[1]["kl"] == 0


def test_spectral_loss_penalises_a_blur_more_than_a_misplaced_line():
    """The tile-spectrum term is what the pixel terms are not: nearly blind to where a thin line
    sits in its tile, not blind to the line being smeared away."""
    x = -torch.ones(1, 3, 64, 64)
    x[..., 5::11] = 1.0                                             # thin vertical lines
    k = torch.tensor([1.0, 2.0, 1.0]) / 4
    blurred = F.conv2d(F.pad(x, (1, 1, 0, 0), mode="replicate"), k.view(1, 1, 1, 3).expand(3, 1, 1, 3), groups=3)
    shifted = torch.roll(x, 1, dims=-1)                             # the same lines, one pixel off
    loss_fn = VAELoss(spectral_weight=1.0)
    assert (shifted - x).abs().mean() > 1.5 * (blurred - x).abs().mean()    # pixels prefer the blur
    assert loss_fn.spectral(blurred, x) > 2 * loss_fn.spectral(shifted, x)  # the spectra do not
    assert loss_fn.spectral(x, x) == 0
    # one 16 px tile against torch's own FFT of the windowed luma
    w = torch.hann_window(16, periodic=False)
    tile = (x * LUMA).sum(1)[0, :16, :16] * (w[:, None] * w[None, :])
    assert torch.allclose(tile_spectra((x * LUMA).sum(1, keepdim=True), 16)[0, 0, 0, 0],
                          torch.fft.rfft2(tile, norm="ortho").abs(), atol=1e-3)
    # in the loss, with a finite gradient where the reconstruction has no detail at all
    x_hat = torch.zeros(1, 3, 64, 64, requires_grad=True)
    mean, logvar = torch.zeros(1, 8, 4, 4), torch.zeros(1, 8, 4, 4)
    loss, parts = loss_fn(x_hat, x, mean, logvar)
    loss.backward()
    assert "spectral" in parts and parts["spectral"] > 0 and torch.isfinite(x_hat.grad).all()
    assert "spectral" not in VAELoss()(x, x, mean, logvar)[1]
    with pytest.raises(ValueError, match="at least 16 px"):
        loss_fn.spectral(x[..., :8, :8], x[..., :8, :8])


def _vae_task(adv_weight: float, adv_start: int = 32, critic_width: int = 16, **vae):
    import dataclasses

    from synesthete.config import Config
    from synesthete.train.vae_task import VAETask

    cfg = Config()
    cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, size=32),
                              vae=dataclasses.replace(cfg.vae, crop=None, reuse=16, adv_weight=adv_weight,
                                                      adv_start=adv_start, critic_width=critic_width, **vae))
    return VAETask(cfg, torch.device("cpu"))


def test_vae_critic_runs_from_adv_start_and_only_its_own_loss_trains_it():
    assert _vae_task(0.0).model.critic is None                          # off by default: no extra weights
    convs = [m for m in _vae_task(0.5, critic_width=8).model.critic.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 16, 32, 1]            # vae.critic_width, doubled per layer
    video = (torch.rand(2, 2, 3, 32, 32, generator=gen()) * 255).to(torch.uint8)
    grads = {}
    for w in (0.5, 5.0):
        task = _vae_task(w)
        model = task.model
        assert model.critic(torch.zeros(2, 3, 32, 32)).shape == (2, 1, 4, 4)   # logits at stride 8
        loss, parts = task.loss(model, {"video": video, "step": 1}, gen(1))      # training step 16 < 32
        assert "critic" not in parts
        loss, parts = task.loss(model, {"video": video, "step": 2}, gen(1))      # step 32: on
        assert {"critic", "adv"} <= set(parts) and 0 < parts["critic"] < 4
        loss.backward()
        grads[w] = ([p.grad.clone() for p in model.critic.parameters()],
                    [p.grad.clone() for p in model.decoder.parameters()])
    # the adversarial weight scales the decoder's term only; the critic learns from its hinge loss
    assert all(torch.allclose(a, b) for a, b in zip(grads[0.5][0], grads[5.0][0]))
    assert not all(torch.allclose(a, b) for a, b in zip(grads[0.5][1], grads[5.0][1]))


def test_the_critic_learns_at_its_own_rate_in_the_loop(tmp_path):
    import dataclasses

    from synesthete.train.checkpoint import CheckpointError, latest_checkpoint, load_optim
    from synesthete.train.loop import fit

    task = _vae_task(0.5, adv_start=0, critic_width=4, critic_lr_mult=4.0,
                     train=dataclasses.replace(_vae_task(0.0).train_cfg, steps=2, batch=2, val_every=2,
                                               ckpt_every=2, warmup_steps=0, lr=1e-3))
    plain = _vae_task(0.5)
    assert not isinstance(plain.param_groups(plain.model)[0], dict)    # x1: one plain group
    fit(task, task.cfg, tmp_path, torch.device("cpu"), progress=False)
    vae_group, critic_group = load_optim(latest_checkpoint(tmp_path / "vae"))["param_groups"]
    assert len(critic_group["params"]) == len(list(task.model.critic.parameters()))
    assert critic_group["lr"] == pytest.approx(4 * vae_group["lr"]) and vae_group["lr"] > 0
    again = _vae_task(0.5, adv_start=0, critic_width=4,                  # resumed with one group
                      train=dataclasses.replace(task.train_cfg, steps=4))
    with pytest.raises(CheckpointError, match="optimizer state in .* does not fit this run"):
        fit(again, again.cfg, tmp_path, torch.device("cpu"), progress=False)


def test_bench_train_times_the_vae_with_its_critic_when_one_is_configured():
    from synesthete.bench.train import bench_train
    from synesthete.config import load_config

    tiny = ["data.size=32", "data.seconds=0.5", "vae.crop=null", "vae.train.batch=1", "dit.train.batch=1"]
    assert "vae_critic" not in bench_train(load_config(None, tiny), torch.device("cpu"), repeats=1)["results"]["fp32"]
    cfg = load_config(None, [*tiny, "vae.adv_weight=0.1", "vae.critic_width=4"])
    for r in bench_train(cfg, torch.device("cpu"), repeats=1)["results"].values():
        assert r["vae_critic"]["critic_width"] == 4 and r["vae_critic"]["s_per_step"] > 0


def _toy_frames(n: int, size: int) -> torch.Tensor:
    """n frames with a bright disc at different places over a colour ramp, in [-1, 1]."""
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    frames = []
    for i in range(n):
        cx, cy = 0.6 * torch.cos(torch.tensor(i * 0.8)), 0.6 * torch.sin(torch.tensor(i * 0.8))
        disc = (((xx - cx) ** 2 + (yy - cy) ** 2) < 0.1).float()
        frames.append(torch.stack([disc * 2 - 1, xx * 0.5, disc - 0.5 * (yy > 0).float()]))
    return torch.stack(frames)


def test_tiny_vae_overfits_8_frames():
    torch.manual_seed(0)
    vae = SpatialVAE(channels=(16, 32, 32), patch_size=4, latent_channels=8)
    loss_fn = VAELoss(beta=1e-6)
    x = _toy_frames(8, 64)
    opt = torch.optim.Adam(vae.parameters(), lr=3e-3)
    losses = []
    for step in range(100):
        x_hat, mean, logvar = vae(x, generator=gen(step))
        loss, _ = loss_fn(x_hat, x, mean, logvar)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) / 5 < losses[0] / 5, (losses[0], losses[-5:])


# ----------------------------------------------------------------------------- audio encoder

@pytest.mark.parametrize("seconds_frames", [1, 7, 48, 100])
@pytest.mark.parametrize("tokens_per_frame", [1, 2])
def test_audio_encoder_tokens_aligned_to_frames(seconds_frames, tokens_per_frame):
    enc = AudioEncoder(dim=32, tokens_per_frame=tokens_per_frame)
    L = seconds_frames * 1000
    audio = torch.rand(2, 1, L, generator=gen()) * 2 - 1
    assert enc.log_mel(audio).shape == (2, 64, seconds_frames * 4)
    tokens, pooled = enc(audio)
    assert tokens.shape == (2, seconds_frames * tokens_per_frame, 32) and pooled.shape == (2, 32)


def test_audio_encoder_rejects_partial_frames():
    with pytest.raises(AssertionError):
        AudioEncoder(dim=32)(torch.zeros(1, 1, 1500))


def test_audio_encoder_is_local_and_float32_mel():
    enc = AudioEncoder(dim=32)
    audio = torch.rand(1, 1, 48000, generator=gen()) * 2 - 1
    bumped = audio.clone()
    bumped[..., 10_000:11_000] = torch.rand(1000, generator=gen(1)) * 2 - 1    # frame 10 only
    with torch.no_grad():
        a, b = enc(audio)[0], enc(bumped)[0]
    change = (a - b).abs().amax(dim=-1)[0]                                     # [T]
    assert change[10] > 1e-3
    assert change[:3].max() < 1e-5 and change[18:].max() < 1e-5             # outside the receptive field
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert enc.log_mel(audio).dtype == torch.float32


def test_audio_encoder_chroma_names_the_pitch_class():
    import librosa

    enc = AudioEncoder(dim=32, chroma=True)
    t = torch.arange(16000) / 16000
    a3 = (0.5 * torch.sin(2 * torch.pi * 220.0 * t)).reshape(1, 1, -1)       # the note A3
    c = enc.chroma(a3)
    assert c.shape == (1, 12, 64) and enc.features(a3).shape == (1, 76, 64)   # on the log-mel's columns
    mid = c[0, :, 32]
    assert mid.argmax() == 9 and mid[9] == 1.0                                 # pitch classes from C: A is 9
    ref = librosa.feature.chroma_stft(y=a3.flatten().numpy(), sr=16000, n_fft=2048, hop_length=250, center=False)
    assert np.abs(ref[:, 20] - mid.numpy()).max() < 0.05                      # librosa's chroma, same frame
    assert enc.chroma(torch.zeros(1, 1, 16000)).abs().max() < 1e-3             # silence stays near 0
    tokens, _ = enc(a3)
    assert tokens.shape == (1, 16, 32)


def _chords(chords: list[tuple[float, ...]], seconds_each: float = 0.75) -> torch.Tensor:
    """Sine triads one after another, [1, 1, L] at 16 kHz."""
    t = torch.arange(int(16000 * seconds_each)) / 16000
    parts = [sum(torch.sin(2 * torch.pi * 440.0 * 2 ** ((m - 69) / 12) * t) for m in chord) / 3 for chord in chords]
    return torch.cat(parts).reshape(1, 1, -1)


def test_audio_encoder_key_names_major_and_minor_and_reaches_every_token():
    enc = AudioEncoder(dim=32, key=True)
    c_major = _chords([(60, 64, 67), (65, 69, 72), (67, 71, 74), (60, 64, 67)])    # C  F  G  C
    a_minor = _chords([(57, 60, 64), (62, 65, 69), (64, 68, 71), (57, 60, 64)])    # Am Dm E  Am (harmonic G#)
    corr = enc.key_correlations(torch.cat([c_major, a_minor]))
    assert corr.shape == (2, 24) and corr.abs().max() <= 1.0 + 1e-5
    assert corr[0].argmax() == 0 and corr[1].argmax() == 12 + 9                   # C major; A minor
    assert enc.key_correlations(torch.zeros(1, 1, 48000)).abs().max() < 1e-6       # silence: no key
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert enc.key_correlations(c_major).dtype == torch.float32


def test_dit_key_input_reaches_the_output_and_is_dropped_with_the_audio():
    torch.manual_seed(0)
    dit = DiT_models["DiT-T/2"](in_channels=4, audio_dim=32, key_inputs=24)
    with torch.no_grad():
        randomize_zeroed(dit)                 # past adaLN-zero's identity start, so the condition shows
    x, t, audio = torch.randn(2, 3, 4, 8, 8), torch.full((2,), 0.5), torch.randn(2, 3, 32)
    key, other = torch.randn(2, 24), torch.randn(2, 24)
    drop = torch.tensor([False, True])
    with torch.no_grad():
        a, b = dit(x, t, audio, drop, key=key), dit(x, t, audio, drop, key=other)
    assert (a[0] - b[0]).abs().max() > 1e-4                                        # the key conditions
    assert torch.equal(a[1], b[1])                                                 # not under null audio
    model = AudioDiT(AudioEncoder(dim=32, key=True), dit)
    wave = torch.randn(2, 1, 3000)                                                 # 3 frames at 16 fps
    cond = model.audio_condition(wave)
    assert set(cond) == {"audio", "key"} and cond["key"].shape == (2, 24)
    with torch.no_grad():                                       # what generation hands the bare DiT
        assert torch.allclose(model(x, t, wave), dit(x, t, **cond))


# ----------------------------------------------------------------------------- DiT

def dit_inputs(B=2, T=6, C=4, hw=8, S=None, Da=16, seed=0):
    g = gen(seed)
    return (torch.randn(B, T, C, hw, hw, generator=g), torch.rand(B, generator=g),
            torch.randn(B, S or T, Da, generator=g))


@pytest.mark.parametrize("patch_size", [1, 2])
@pytest.mark.parametrize("k", [1, 2])
def test_dit_output_shape(patch_size, k):
    model = tiny_dit(patch_size=patch_size, audio_tokens_per_frame=k)
    x, t, a = dit_inputs(T=5, S=5 * k)
    assert model(x, t, a).shape == x.shape
    with pytest.raises(AssertionError):
        model(x, t, a[:, :-1])


def test_dit_adaln_zero_init_is_identity():
    model = tiny_dit()
    x, t, a = dit_inputs()
    assert torch.equal(model(x, t, a), torch.zeros_like(x))          # zeroed final layer
    h = torch.randn(2, 6, 16, 32, generator=gen(1))
    c, ctx = torch.randn(2, 6, 32, generator=gen(2)), torch.randn(2, 6, 32, generator=gen(3))
    for block in model.blocks:
        assert torch.equal(block(h, c, ctx), h)                      # adaLN-zero gates


def test_dit_depends_on_audio_and_null_path_ignores_it():
    model = tiny_dit()
    randomize_zeroed(model)
    x, t, a = dit_inputs()
    a2 = torch.randn(a.shape, generator=gen(9))
    with torch.no_grad():
        assert (model(x, t, a) - model(x, t, a2)).abs().max() > 1e-3
        drop = torch.tensor([True, False])
        y1, y2 = model(x, t, a, drop_audio=drop), model(x, t, a2, drop_audio=drop)
        assert torch.allclose(y1[0], y2[0], atol=1e-6) and not torch.allclose(y1[1], y2[1], atol=1e-4)
        # the target embedding is an input too
        assert not torch.allclose(model(x, t, a, target=torch.ones(2, dtype=torch.long)), model(x, t, a))


def test_dit_visualizer_label_conditions_and_none_is_the_null_label():
    model = tiny_dit(num_labels=3)
    randomize_zeroed(model)
    x, t, a = dit_inputs()
    label = lambda *i: torch.tensor(i)
    with torch.no_grad():
        assert (model(x, t, a, label=label(0, 1)) - model(x, t, a, label=label(2, 2))).abs().max() > 1e-3
        assert torch.equal(model(x, t, a), model(x, t, a, label=label(3, 3)))   # index 3 = none given
    assert tiny_dit().label_embedder is None                                    # off by default


def test_dit_label_layout_starts_as_the_model_without_it_and_then_places_each_label():
    from synesthete.config import load_config
    from synesthete.train.builders import build_denoiser

    base = ["data.size=32", "dit.visualizer_label=true"]
    plain, layout = (build_denoiser(load_config(None, base + extra)).dit for extra in ([], ["dit.label_layout=true"]))
    assert layout.label_layout.shape == (10, layout.hidden_size, 1, 1)   # 9 labels + null; 2x2 latent, patch 2
    assert all(torch.equal(p, layout.state_dict()[k]) for k, p in plain.state_dict().items())   # no RNG drawn
    model = tiny_dit(num_labels=3, label_layout=8)                       # a 4 x 4 map per label
    randomize_zeroed(model)
    x, t, a = dit_inputs()
    with torch.no_grad():
        model.label_embedder.weight.zero_()                              # only the layout tells labels apart
        assert (model(x, t, a, label=torch.tensor([0, 0])) - model(x, t, a, label=torch.tensor([1, 1]))).abs().max() > 1e-3
        big = torch.randn(1, 6, 4, 16, 16, generator=gen(5))             # another grid: the map is resized
        assert model(big, t[:1], a[:1], label=torch.tensor([2])).shape == big.shape
    with pytest.raises(Exception, match="label_layout: needs dit.visualizer_label"):
        load_config(None, ["dit.label_layout=true"])


def test_dit_self_cond_sees_its_previous_estimate_and_none_is_zeros():
    model = tiny_dit(self_cond=True)
    randomize_zeroed(model)
    x, t, a = dit_inputs()
    with torch.no_grad():
        assert torch.equal(model(x, t, a), model(x, t, a, x_self_cond=torch.zeros_like(x)))
        assert (model(x, t, a, x_self_cond=torch.randn(x.shape, generator=gen(4))) - model(x, t, a)).abs().max() > 1e-3
    assert model.x_embedder.in_channels == 2 * x.shape[2] and tiny_dit().x_embedder.in_channels == x.shape[2]


def test_dit_label_embeddings_start_at_unit_scale():
    """N(0, 1) rows, so labels differ in the adaLN input from step 0 (at DiT's N(0, 0.02) they
    were ~1% of the timestep embedding and stayed small for thousands of steps)."""
    dit = DiT_models["DiT-T/2"](in_channels=8, audio_dim=32, num_labels=9)
    norms = dit.label_embedder.weight.norm(dim=1)                       # (10,): 9 labels + null
    assert norms.min() > 0.5 * dit.hidden_size ** 0.5


def test_dit_per_frame_conditioning_is_local():
    """The adaLN path gives frame t its own audio: changing frame 10's audio moves frame 10 most."""
    model = tiny_dit()
    randomize_zeroed(model, std=0.1)
    x, t, a = dit_inputs(B=1, T=48)
    bumped = a.clone()
    bumped[:, 10] = torch.randn(16, generator=gen(5)) * 3
    with torch.no_grad():
        change = (model(x, t, a) - model(x, t, bumped)).abs().mean(dim=(0, 2, 3, 4))   # [T]
    assert change[10] > 3 * change[40] and change[10] == change.max()


def test_dit_bf16_autocast_runs():
    model = tiny_dit()
    randomize_zeroed(model)
    x, t, a = dit_inputs()
    with torch.autocast("cpu", dtype=torch.bfloat16), torch.no_grad():
        y = model(x, t, a)
    assert y.shape == x.shape and torch.isfinite(y.float()).all()


def test_cpu_attention_runs_in_fp32_under_bf16_autocast():
    """bf16 inputs or a bf16 autocast on the CPU: the attention is the fp32 one, cast to the input dtype
    (torch 2.11's CPU bf16 flash-attention backward is 2-12x slower: scripts/attention_probe.py)."""
    from synesthete.models.dit import attention
    g = gen(0)
    q, k, v = (torch.randn(3, 2, 5, 8, generator=g) for _ in range(3))
    ref = F.scaled_dot_product_attention(q, k, v)
    assert torch.equal(attention(q, k, v), ref)                          # fp32: the same kernel and numbers
    qb, kb, vb = q.bfloat16(), k.bfloat16(), v.bfloat16()
    out = attention(qb, kb, vb)
    assert out.dtype == torch.bfloat16
    assert torch.equal(out, F.scaled_dot_product_attention(qb.float(), kb.float(), vb.float()).bfloat16())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        inside = attention(q, k, v)
        plain = F.scaled_dot_product_attention(q, k, v)                  # autocast's own choice: bf16
    assert inside.dtype == torch.float32 and torch.equal(inside, ref) and plain.dtype == torch.bfloat16


def test_dit_size_table():
    assert set(DiT_models) == {"DiT-B/1", "DiT-B/2", "DiT-S/1", "DiT-S/2", "DiT-T/1", "DiT-T/2"}
    model = DiT_models["DiT-T/2"](in_channels=8)
    x, t, a = dit_inputs(B=1, T=3, C=8, Da=128)
    assert model(x, t, a).shape == x.shape


def test_audio_dit_wrapper():
    enc, dit = AudioEncoder(dim=16), tiny_dit()
    model = AudioDiT(enc, dit)
    x, t, _ = dit_inputs(T=4)
    audio = torch.rand(2, 1, 4000, generator=gen()) * 2 - 1
    assert model(x, t, audio, drop_audio=torch.tensor([False, True])).shape == x.shape
    with pytest.raises(AssertionError):
        AudioDiT(AudioEncoder(dim=32), dit)


# ----------------------------------------------------------------------------- regression baseline

def test_regression_baseline_shape():
    model = AudioToVideoNet(frame_size=64, dim=32, depth=1, num_heads=2, latent_channels=4,
                            decoder_channels=(8, 16, 16))
    audio = torch.rand(2, 1, 5000, generator=gen()) * 2 - 1
    frames = model(audio)
    assert frames.shape == (2, 5, 3, 64, 64) and frames.abs().max() <= 1
    frames.square().mean().backward()


def test_every_parameter_gets_a_gradient():
    """DDP without find_unused_parameters needs every parameter in the graph, with or without drop_audio."""
    model = AudioDiT(AudioEncoder(dim=16), tiny_dit())
    randomize_zeroed(model)
    x, t, _ = dit_inputs(T=4)
    audio = torch.rand(2, 1, 4000, generator=gen()) * 2 - 1
    model(x, t, audio).square().mean().backward()
    assert [n for n, p in model.named_parameters() if p.grad is None] == []


def test_clip_encoding_and_decoding_do_not_depend_on_the_chunk_size():
    """encode_video / reconstruct split clips into device.frame_chunk() frames per call: frames
    are independent (GroupNorm is per frame), so the result must equal one call on all of them."""
    from synesthete.device import frame_chunk
    from synesthete.train.dit_task import encode_video
    from synesthete.train.vae_task import reconstruct, to_model_range

    vae = VAE_models["VAE-T"]().eval()
    randomize_zeroed(vae)
    cpu = torch.device("cpu")
    n = frame_chunk(cpu) + 3                                     # more than one chunk
    video = torch.randint(0, 256, (1, n, 3, 32, 32), generator=gen(), dtype=torch.uint8)
    x = to_model_range(video[0])
    with torch.no_grad():
        mean = vae.encode(x)[0]
        assert torch.allclose(encode_video(vae, video, cpu)[0], mean, atol=1e-5)
        assert torch.allclose(reconstruct(vae, x), vae.decode(mean), atol=1e-5)
