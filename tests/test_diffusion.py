"""Tests for synesthete.diffusion: schedule math, objectives, samplers, guidance, a tiny training run."""

import math

import pytest
import torch

from synesthete.diffusion import (CosineSchedule, FlowSchedule, SelfConditioned, cfg_denoiser, default_schedule,
                                  sample_ddim, sample_euler_flow, timesteps, to_denoiser, training_loss)
from synesthete.config import ConfigError, load_config
from synesthete.diffusion.objectives import training_target
from synesthete.models import DiT

from helpers import gen, randomize_zeroed

torch.set_num_threads(1)
SCHEDULES = {"cosine": CosineSchedule(), "flow": FlowSchedule()}


# ----------------------------------------------------------------------------- schedule

def test_cosine_schedule_shape():
    sch = CosineSchedule()
    t = torch.linspace(0, 1, 101)
    alpha, sigma = sch.alpha_sigma(t)
    assert alpha.dtype == torch.float32
    assert torch.allclose(alpha**2 + sigma**2, torch.ones_like(t), atol=1e-6)
    assert alpha[0] == 1 and sigma[0] == 0 and alpha[-1] > 0 and sigma[-1] > 0.999
    assert (alpha[1:] <= alpha[:-1]).all() and (sch.logsnr(t[1:])[1:] < sch.logsnr(t[1:])[:-1]).all()
    # Nichol & Dhariwal eq. 17 at t = 0.5
    f = lambda u: math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2
    assert sch.alpha_bar(torch.tensor(0.5)).item() == pytest.approx(f(0.5) / f(0.0), rel=1e-5)


@pytest.mark.parametrize("name", SCHEDULES)
def test_q_sample_statistics(name):
    sch = SCHEDULES[name]
    x0 = torch.full((4, 50_000), 0.7)
    t = torch.tensor([0.0, 0.2, 0.5, 0.9])
    x_t = sch.q_sample(x0, t, torch.randn(x0.shape, generator=gen()))
    alpha, sigma = sch.alpha_sigma(t)
    assert torch.allclose(x_t.mean(1), alpha * 0.7, atol=0.02)
    assert torch.allclose(x_t.std(1), sigma, atol=0.02)
    assert torch.equal(x_t[0], x0[0])                                     # t = 0 is the data


def test_parameterisation_round_trips():
    cos, flow = CosineSchedule(), FlowSchedule()
    x0, eps = torch.randn(2, 3, 4, 4, generator=gen(0)), torch.randn(2, 3, 4, 4, generator=gen(1))
    t = torch.tensor([0.3, 0.8])
    x_t = cos.q_sample(x0, t, eps)
    assert torch.allclose(cos.x0_from_eps(x_t, t, eps), x0, atol=1e-5)
    assert torch.allclose(cos.eps_from_x0(x_t, t, x0), eps, atol=1e-5)
    v = cos.v_from_x0_eps(x0, eps, t)
    assert torch.allclose(cos.x0_from_v(x_t, t, v), x0, atol=1e-5)
    assert torch.allclose(cos.eps_from_v(x_t, t, v), eps, atol=1e-5)
    x_t = flow.q_sample(x0, t, eps)
    u = flow.velocity_from_x0_eps(x0, eps)
    assert torch.allclose(flow.x0_from_velocity(x_t, t, u), x0, atol=1e-5)
    assert torch.allclose(flow.eps_from_velocity(x_t, t, u), eps, atol=1e-5)
    # the velocity is the time derivative of the path
    dt = 1e-2
    fd = (flow.q_sample(x0, t + dt, eps) - flow.q_sample(x0, t - dt, eps)) / (2 * dt)
    assert torch.allclose(fd, u, atol=1e-4)


# ----------------------------------------------------------------------------- objectives

@pytest.mark.parametrize("objective", ["eps", "v", "flow"])
def test_denoiser_from_oracle_backbone_returns_x0(objective):
    sch = default_schedule(objective)
    x0, eps = torch.randn(3, 2, 4, generator=gen(0)), torch.randn(3, 2, 4, generator=gen(1))
    t = torch.tensor([0.1, 0.5, 0.9])
    target = training_target(objective, sch, x0, eps, t)
    denoiser = to_denoiser(lambda x, t: target, objective)
    assert torch.allclose(denoiser(sch.q_sample(x0, t, eps), t), x0, atol=1e-4)


def test_training_loss_is_seeded_and_exact_for_an_oracle():
    x0 = torch.zeros(8, 3, 4)                         # data = 0  =>  x_t = sigma * eps
    sch = CosineSchedule()
    oracle = lambda x, t: x / sch.sigma(t).clamp_min(1e-3).view(-1, 1, 1)
    assert training_loss(oracle, x0, "eps", generator=gen(0)) < 1e-6
    zero = lambda x, t: torch.zeros_like(x)
    a, b = training_loss(zero, x0, "eps", generator=gen(3)), training_loss(zero, x0, "eps", generator=gen(3))
    assert a == b and a != training_loss(zero, x0, "eps", generator=gen(4))
    with pytest.raises(ValueError):
        training_loss(zero, x0, "x0")


def test_training_loss_at_given_times_noises_and_asks_at_those_times():
    """The validation loss on a fixed t grid: x_t, the target and the model's t agree."""
    x0, t = torch.randn(3, 2, 4, generator=gen(0)), torch.tensor([0.1, 0.5, 0.9])
    sch = default_schedule("flow")
    seen = {}
    def oracle(x, t_model):       # recovers the target from x_t, exact only if x_t was noised at t
        seen["t"] = t_model
        eps = (x - sch.alpha(t).view(-1, 1, 1) * x0) / sch.sigma(t).view(-1, 1, 1)
        return training_target("flow", sch, x0, eps, t)
    assert training_loss(oracle, x0, "flow", generator=gen(5), t=t) < 1e-8
    assert torch.equal(seen["t"], t)


def test_training_loss_t_shift_draws_more_high_noise():
    """t_shift s maps u ~ U(0, 1) to s u / (1 + (s - 1) u): s = 1 is uniform, s = 3 puts a quarter
    of the draws above t = 0.9 (u > 0.75) where uniform puts a tenth."""
    seen = {}
    def model_fn(x, t):
        seen["t"] = t
        return torch.zeros_like(x)
    x0 = torch.zeros(4000, 2)
    training_loss(model_fn, x0, "flow", generator=gen(0))
    uniform = seen["t"]
    training_loss(model_fn, x0, "flow", generator=gen(0), t_shift=1.0)
    assert torch.equal(seen["t"], uniform)
    training_loss(model_fn, x0, "flow", generator=gen(0), t_shift=3.0)
    assert torch.allclose(seen["t"], 3 * uniform / (1 + 2 * uniform))
    assert abs((uniform > 0.9).float().mean().item() - 0.10) < 0.02
    assert abs((seen["t"] > 0.9).float().mean().item() - 0.25) < 0.03


def test_training_loss_condition_dropout():
    seen = {}
    def model_fn(x, t, drop_audio=None):
        seen["drop"] = drop_audio
        return torch.zeros_like(x)
    training_loss(model_fn, torch.zeros(4000, 2), "v", generator=gen(0), p_uncond=0.25)
    assert seen["drop"].dtype == torch.bool and abs(seen["drop"].float().mean().item() - 0.25) < 0.03
    forced = torch.ones(4000, dtype=torch.bool)
    training_loss(model_fn, torch.zeros(4000, 2), "v", {"drop_audio": forced}, generator=gen(0), p_uncond=0.25)
    assert seen["drop"].all()


def test_training_loss_self_cond_feeds_a_gradient_free_estimate_on_half_the_steps():
    calls = []
    def model_fn(x, t, x_self_cond=None):
        calls.append((x_self_cond, torch.is_grad_enabled()))
        return x * w
    w = torch.ones((), requires_grad=True)
    x0 = torch.randn(3, 2, generator=gen(0))
    used = 0
    for seed in range(40):
        calls.clear()
        loss = training_loss(model_fn, x0, "flow", generator=gen(seed), self_cond=True)
        loss.backward()
        if len(calls) == 2:                      # estimate first (no gradient), then the trained pass with it
            (first, grad_first), (given, grad_given) = calls
            assert first is None and not grad_first and grad_given
            assert given is not None and not given.requires_grad and given.shape == x0.shape
            used += 1
        else:
            assert calls == [(None, True)]
    assert 10 < used < 30                        # a fair coin per step
    calls.clear()
    training_loss(model_fn, x0, "flow", generator=gen(0))
    assert calls == [(None, True)]               # off: one pass, no x_self_cond argument at all


def test_self_conditioned_sampler_hands_each_step_the_previous_estimate():
    seen = []
    def denoiser(x, t, drop=None, x_self_cond=None):
        seen.append(None if x_self_cond is None else x_self_cond.clone())
        return torch.full_like(x, float(t[0]))   # a different "estimate" at every step
    denoiser.schedule = FlowSchedule()
    sample_euler_flow(SelfConditioned(denoiser), torch.randn(2, 3, generator=gen(1)), 4)
    assert seen[0] is None                       # the first step has none (the model sees zeros)
    for i, prev in enumerate(seen[1:]):
        assert torch.equal(prev, torch.full((2, 3), 1.0 - 0.25 * i))
    seen.clear()                                 # outside guidance: both halves of its batch get the same
    sample_euler_flow(SelfConditioned(cfg_denoiser(denoiser, 3.0, drop_key="drop")),
                      torch.randn(2, 3, generator=gen(1)), 2)
    assert seen[0] is None and seen[1].shape == (4, 3) and torch.equal(seen[1][:2], seen[1][2:])


# ----------------------------------------------------------------------------- samplers

def test_timesteps():
    ts = timesteps(10)
    assert ts.shape == (11,) and ts[0] == 1 and ts[-1] == 0 and (ts[1:] < ts[:-1]).all()


@pytest.mark.parametrize("objective", ["v", "flow"])
@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_ddim_with_true_x0_returns_x0_exactly(objective, eta):
    x0 = torch.randn(2, 3, 4, 4, generator=gen(0))
    denoiser = to_denoiser(lambda x, t: x, objective)          # schedule for the sampler
    steps_seen = []
    out = sample_ddim(lambda x, t: x0, torch.randn(x0.shape, generator=gen(1)), 7,
                      schedule=denoiser.schedule, eta=eta, generator=gen(2),
                      callback=lambda d: steps_seen.append(d["i"]))
    assert torch.equal(out, x0) and steps_seen == list(range(7))


def test_euler_flow_with_true_x0_returns_x0():
    x0 = torch.randn(2, 3, 4, 4, generator=gen(0))
    out = sample_euler_flow(lambda x, t: x0, torch.randn(x0.shape, generator=gen(1)), 5)
    assert torch.allclose(out, x0, atol=1e-5)


def _gaussian_denoiser(schedule, mu: float, s: float):
    """The exact E[x0 | x_t] for data x0 ~ N(mu, s^2): mu + alpha s^2 (x_t - alpha mu) / (alpha^2 s^2 + sigma^2)."""
    def denoiser(x, t):
        alpha, sigma = schedule._coefs(t, x)
        return mu + alpha * s**2 * (x - alpha * mu) / (alpha**2 * s**2 + sigma**2)
    denoiser.schedule = schedule
    return denoiser


@pytest.mark.parametrize("sampler,schedule", [(sample_ddim, CosineSchedule()), (sample_ddim, FlowSchedule()),
                                              (sample_euler_flow, FlowSchedule())])
def test_samplers_recover_a_gaussian(sampler, schedule):
    mu, s = 1.5, 0.4
    out = sampler(_gaussian_denoiser(schedule, mu, s), torch.randn(20_000, 1, generator=gen(0)), 50)
    assert out.mean().item() == pytest.approx(mu, abs=0.02)
    assert out.std().item() == pytest.approx(s, rel=0.05)


def test_ddim_eta1_is_stochastic_and_seeded():
    den = _gaussian_denoiser(CosineSchedule(), 0.0, 1.0)
    noise = torch.randn(16, 4, generator=gen(0))
    a = sample_ddim(den, noise, 10, eta=1.0, generator=gen(5))
    b = sample_ddim(den, noise, 10, eta=1.0, generator=gen(5))
    c = sample_ddim(den, noise, 10, eta=1.0, generator=gen(6))
    assert torch.equal(a, b) and not torch.allclose(a, c)
    assert torch.equal(sample_ddim(den, noise, 10), sample_ddim(den, noise, 10))


# ----------------------------------------------------------------------------- guidance + a tiny DiT

def tiny_dit(num_labels: int = 0, unzeroed: bool = False) -> DiT:
    """A tiny DiT; `unzeroed` stands in for training (adaLN-zero starts with every output at 0)."""
    torch.manual_seed(0)
    model = DiT(in_channels=2, patch_size=2, hidden_size=32, depth=1, num_heads=2, audio_dim=8,
                num_labels=num_labels)
    if unzeroed:
        randomize_zeroed(model, seed=1)
    return model


def test_cfg_scales():
    den = to_denoiser(tiny_dit(unzeroed=True), "v")
    g = gen(2)
    x, t, audio = torch.randn(3, 4, 2, 4, 4, generator=g), torch.rand(3, generator=g), torch.randn(3, 4, 8, generator=g)
    with torch.no_grad():
        cond = den(x, t, audio=audio)
        uncond = den(x, t, audio=audio, drop_audio=torch.ones(3, dtype=torch.bool))
        assert torch.equal(cfg_denoiser(den, 1.0)(x, t, audio=audio), cond)
        assert torch.equal(cfg_denoiser(den, 0.0)(x, t, audio=audio), uncond)
        guided = cfg_denoiser(den, 3.0)(x, t, audio=audio)          # one batched pass of 2B
        assert torch.allclose(guided, uncond + 3.0 * (cond - uncond), atol=1e-5)
        assert not torch.allclose(cond, uncond, atol=1e-4)
        assert cfg_denoiser(den, 3.0).schedule is den.schedule


def test_cfg_interval_guides_only_inside_it():
    """Inside [lo, hi] the full scale; outside it `outside` (1 = conditional, 0 = unconditional)."""
    den = to_denoiser(tiny_dit(unzeroed=True), "flow")
    g = gen(3)
    x, audio = torch.randn(2, 4, 2, 4, 4, generator=g), torch.randn(2, 4, 8, generator=g)
    drop = torch.ones(2, dtype=torch.bool)
    with torch.no_grad():
        for t_value, expect_guided in ((0.9, False), (0.5, True), (0.3, True), (0.2, False)):
            t = torch.full((2,), t_value)
            cond, uncond = den(x, t, audio=audio), den(x, t, audio=audio, drop_audio=drop)
            for outside, plain in ((1.0, cond), (0.0, uncond)):
                out = cfg_denoiser(den, 3.0, interval=(0.3, 0.5), outside=outside)(x, t, audio=audio)
                want = uncond + 3.0 * (cond - uncond) if expect_guided else plain
                assert torch.allclose(out, want, atol=1e-5), (t_value, outside)
        # the sampler's float32 times: the 5th of 20 DDIM steps is at t = 0.8 (0.80000001), inside [0, 0.8]
        t = timesteps(20)[4].expand(2)
        cond, uncond = den(x, t, audio=audio), den(x, t, audio=audio, drop_audio=drop)
        out = cfg_denoiser(den, 3.0, interval=(0.0, 0.8), outside=0.0)(x, t, audio=audio)
        assert torch.allclose(out, uncond + 3.0 * (cond - uncond), atol=1e-5)


def test_cfg_rescale_brings_the_guided_estimate_to_the_conditional_std():
    """phi = 1: the guided x0 scaled to the conditional one's std per sample; phi mixes; 0 is plain guidance.
    A scale of 30, as the tiny DiT heeds its audio little."""
    den = to_denoiser(tiny_dit(unzeroed=True), "flow")
    g = gen(4)
    x, t, audio = torch.randn(2, 4, 2, 4, 4, generator=g), torch.full((2,), 0.7), torch.randn(2, 4, 8, generator=g)
    with torch.no_grad():
        cond = den(x, t, audio=audio)
        uncond = den(x, t, audio=audio, drop_audio=torch.ones(2, dtype=torch.bool))
        guided = uncond + 30.0 * (cond - uncond)
        std = lambda v: v.flatten(1).std(dim=1)  # noqa: E731
        assert not torch.allclose(std(guided), std(cond), rtol=0.05)   # guidance inflates it
        full = cfg_denoiser(den, 30.0, rescale=1.0)(x, t, audio=audio)
        assert torch.allclose(std(full), std(cond), rtol=1e-4)
        assert torch.allclose(full, guided * (std(cond) / std(guided)).view(2, 1, 1, 1, 1), atol=1e-4)
        half = cfg_denoiser(den, 30.0, rescale=0.5)(x, t, audio=audio)
        assert torch.allclose(half, 0.5 * full + 0.5 * guided, atol=1e-5)
        assert torch.allclose(cfg_denoiser(den, 30.0, rescale=0.0)(x, t, audio=audio), guided, atol=1e-5)
        assert torch.equal(cfg_denoiser(den, 1.0, rescale=1.0)(x, t, audio=audio), cond)   # nothing to rescale
    with pytest.raises(ConfigError, match="sample.guidance_rescale"):
        load_config("quick", ["sample.guidance_rescale=1.5"])


def test_guidance_interval_config_is_checked():
    with pytest.raises(ConfigError, match="sample.guidance_interval"):
        load_config("quick", ["sample.guidance_interval=[0.8, 0.2]"])
    with pytest.raises(ConfigError, match="sample.guidance_interval"):
        load_config("quick", ["sample.guidance_interval=[0.5]"])
    assert load_config("quick", ["sample.guidance_interval=[0, 0.7]"]).sample.guidance_interval == [0.0, 0.7]


def test_cfg_can_null_further_conditions():
    """`uncond` nulls the visualizer label too in the unconditional half (joint guidance)."""
    den = to_denoiser(tiny_dit(num_labels=3, unzeroed=True), "flow")
    g = gen(2)
    x, t, audio = torch.randn(2, 4, 2, 4, 4, generator=g), torch.rand(2, generator=g), torch.randn(2, 4, 8, generator=g)
    label, null = torch.tensor([0, 2]), torch.tensor([3, 3])
    drop = torch.ones(2, dtype=torch.bool)
    with torch.no_grad():
        cond = den(x, t, audio=audio, label=label)
        uncond = den(x, t, audio=audio, label=null, drop_audio=drop)
        assert not torch.allclose(uncond, den(x, t, audio=audio, label=label, drop_audio=drop), atol=1e-4)
        joint = cfg_denoiser(den, 3.0, uncond={"label": null})
        assert torch.allclose(joint(x, t, audio=audio, label=label), uncond + 3.0 * (cond - uncond), atol=1e-5)
        assert torch.equal(cfg_denoiser(den, 0.0, uncond={"label": null})(x, t, audio=audio, label=label), uncond)


def _two_mode_batch(B: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Latents [B, 4, 2, 4, 4] = +pattern or -pattern; the audio says which (its sign)."""
    sign = torch.randint(0, 2, (B,), generator=g).float() * 2 - 1
    pattern = torch.linspace(-1, 1, 2 * 4 * 4).view(1, 2, 4, 4).expand(4, 2, 4, 4)
    x0 = sign.view(B, 1, 1, 1, 1) * pattern
    audio = sign.view(B, 1, 1).expand(B, 4, 8) + 0.1 * torch.randn(B, 4, 8, generator=g)
    return x0, audio


@pytest.mark.parametrize("objective", ["v", "flow"])
def test_tiny_dit_learns_two_modes(objective):
    model = tiny_dit()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    x_eval, a_eval = _two_mode_batch(64, gen(100))
    def eval_loss():
        with torch.no_grad():
            return training_loss(model, x_eval, objective, {"audio": a_eval}, generator=gen(101)).item()
    before = eval_loss()
    g = gen(0)
    for step in range(300):
        x0, audio = _two_mode_batch(16, g)
        loss = training_loss(model, x0, objective, {"audio": audio}, generator=g, p_uncond=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = eval_loss()
    assert after < 0.5 * before, (before, after)
    # and the conditional sampler lands on the mode the audio names
    den = to_denoiser(model, objective)
    noise = torch.randn(x_eval[:8].shape, generator=gen(7))
    with torch.no_grad():
        out = sample_ddim(cfg_denoiser(den, 1.0), noise, 20, {"audio": a_eval[:8]})
    sign = torch.sign((out * x_eval[:8]).flatten(1).sum(1))
    assert (sign > 0).all()
