"""Build each model from a config, and rebuild trained ones from their checkpoints.

A checkpoint's state.json carries the config that made it, so loading needs no YAML. Initial
weights are a pure function of (data.seed, model), as every step's randomness is of (data.seed,
rank, step): two runs of one config train alike, and two configs compared start from the same draw.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch

from synesthete.config import Config, config_from_dict
from synesthete.models import (VAE_DOWNSAMPLE, AudioDiT, AudioEncoder, AudioToVideoNet, DiT_models, SpatialVAE,
                               VAE_models, VAELoss)
from synesthete.models.audio_encoder import KEY_INPUTS
from synesthete.seeds import stable_seed
from synesthete.train.checkpoint import CheckpointError, latest_checkpoint, load_weights, read_state
from synesthete.visualizers import VISUALIZER_NAMES


@contextlib.contextmanager
def seeded_init(seed: int, model: str):
    """Draw initial weights from a CPU RNG seeded by (seed, model); the global RNG is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(stable_seed("init", seed, model))
        yield


def build_vae(cfg: Config, with_critic: bool = True) -> SpatialVAE:
    """The VAE to train: with its PatchCritic when the config has an adversarial term."""
    with seeded_init(cfg.data.seed, "vae"):
        return VAE_models[cfg.vae.size](latent_channels=cfg.vae.latent_channels,
                                        critic=with_critic and cfg.vae.adv_weight > 0,
                                        critic_width=cfg.vae.critic_width, shortcuts=cfg.vae.shortcuts)


def build_vae_loss(cfg: Config) -> VAELoss:
    """The VAE's loss with the config's weights (training and `bench-train` time the same one)."""
    v = cfg.vae
    return VAELoss(l1_weight=v.l1_weight, mse_weight=v.mse_weight, grad_weight=v.grad_weight,
                   pyramid_weight=v.pyramid_weight, beta=v.kl_weight, spectral_weight=v.spectral_weight)


def build_inference_vae(cfg: Config) -> SpatialVAE:
    """The VAE that encodes and decodes: no critic, whatever it was trained with (its weights are
    skipped at load), so a run loads under any `vae.critic_width`."""
    return build_vae(cfg, with_critic=False)


def build_denoiser(cfg: Config) -> AudioDiT:
    """Audio encoder + DiT, trained together."""
    d = cfg.data
    labels = len(VISUALIZER_NAMES) if cfg.dit.visualizer_label else 0
    with seeded_init(d.seed, "dit"):
        encoder = AudioEncoder(sample_rate=d.sample_rate, fps=d.fps, dim=cfg.dit.audio_dim,
                               chroma=cfg.dit.audio_chroma, key=cfg.dit.audio_key)
        dit = DiT_models[cfg.dit.size](in_channels=cfg.vae.latent_channels, audio_dim=cfg.dit.audio_dim,
                                       num_labels=labels, self_cond=cfg.dit.self_cond,
                                       label_layout=d.size // VAE_DOWNSAMPLE if cfg.dit.label_layout else 0,
                                       key_inputs=KEY_INPUTS if cfg.dit.audio_key else 0)
        return AudioDiT(encoder, dit)


def build_regression(cfg: Config) -> AudioToVideoNet:
    d = cfg.data
    with seeded_init(d.seed, "regression"):
        return AudioToVideoNet(sample_rate=d.sample_rate, fps=d.fps, frame_size=d.size,
                               dim=cfg.regression.dim, depth=cfg.regression.depth)


def stage_checkpoint(run_dir: Path, stage: str) -> Path:
    """The finished checkpoint of a stage (its latest step), or a one-line error."""
    ckpt = latest_checkpoint(Path(run_dir) / stage)
    if ckpt is None:
        raise CheckpointError(f"no {stage} checkpoint in {run_dir} (train it first: run_pipeline.py)")
    return ckpt


def load_trained(ckpt: Path, build, device: torch.device, which: str = "ema") -> tuple[torch.nn.Module, Config, dict]:
    """Rebuild the model a checkpoint holds with its own config; returns (model.eval(), config, state)."""
    state = read_state(ckpt)
    cfg = config_from_dict(state["config"])
    model = build(cfg)
    try:
        model.load_state_dict(load_weights(ckpt, which))
    except RuntimeError as e:
        # PyTorch's first line is a header ("Error(s) in loading state_dict for X:"); the next names the key
        lines = [line.strip() for line in str(e).strip().splitlines()]
        first = lines[1] if len(lines) > 1 and lines[0].endswith(":") else lines[0]
        raise CheckpointError(f"checkpoint {ckpt} does not fit its model: {first}") from None
    return model.to(device).eval().requires_grad_(False), cfg, state
