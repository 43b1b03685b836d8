"""Typed configuration: dataclasses are the single source of truth, YAML and `key.sub=value`
overrides only fill them, and every value is validated at load time with one line naming the key.

A preset file (`config/quick.yaml`, ...) lists only what it changes from the dataclass defaults;
`config/default.yaml` spells the defaults out (a test keeps the two equal).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


class ConfigError(ValueError):
    """A config value is invalid; the message names the key."""


def _require(cond: bool, key: str, why: str) -> None:
    if not cond:
        raise ConfigError(f"{key}: {why}")


@dataclass
class DataConfig:
    """The clip spec and the procedural stream."""

    sample_rate: int = 16000
    """Audio samples per second; must be a multiple of `fps`."""
    fps: int = 16
    """Video frames per second."""
    seconds: float = 3.0
    """Clip length (one generation window)."""
    size: int = 128
    """Frame height and width in pixels."""
    seed: int = 0
    """Dataset seed: a clip is a pure function of (seed, clip index)."""
    visualizers: list[str] = field(default_factory=lambda: ["all"])
    """Visualizer names to draw from, or ["all"]."""
    epoch_size: int | None = None
    """Clips per epoch, for progress bars and logs; None = endless stream."""
    val_clips: int = 8
    """Size of the fixed validation set (its indices are never drawn for training)."""

    def __post_init__(self) -> None:
        _require(self.sample_rate > 0, "data.sample_rate", f"must be > 0, got {self.sample_rate}")
        _require(self.fps > 0, "data.fps", f"must be > 0, got {self.fps}")
        _require(
            self.sample_rate % self.fps == 0,
            "data.sample_rate",
            f"must be a multiple of data.fps ({self.sample_rate} % {self.fps} != 0)",
        )
        _require(self.seconds > 0, "data.seconds", f"must be > 0, got {self.seconds}")
        _require(self.seconds * self.fps >= 1, "data.seconds",   # 0.8 of a frame rounded up to one, then failed
                 f"must hold at least one video frame (>= 1 / data.fps = {1 / self.fps:g} s), got {self.seconds}")
        _require(self.size >= 16, "data.size", f"must be >= 16, got {self.size}")
        _require(self.size % 16 == 0, "data.size", f"must be a multiple of 16, got {self.size}")
        _require(self.seed >= 0, "data.seed", f"must be >= 0, got {self.seed}")
        _require(len(self.visualizers) > 0, "data.visualizers", "must name at least one visualizer")
        _require(
            self.epoch_size is None or self.epoch_size > 0,
            "data.epoch_size",
            f"must be > 0 or null, got {self.epoch_size}",
        )
        _require(self.val_clips >= 0, "data.val_clips", f"must be >= 0, got {self.val_clips}")

    @property
    def frames(self) -> int:
        """Video frames per clip."""
        return round(self.seconds * self.fps)

    @property
    def samples_per_frame(self) -> int:
        return self.sample_rate // self.fps

    @property
    def samples(self) -> int:
        """Audio samples per clip: exactly `frames * samples_per_frame`."""
        return self.frames * self.samples_per_frame


@dataclass
class TrainConfig:
    """One stage of training (the same loop trains every model)."""

    steps: int = 1000
    """Optimiser steps for this stage; raising it later resumes and trains on."""
    batch: int = 8
    """Clips per step and rank."""
    lr: float = 3e-4
    """Peak learning rate (AdamW), reached after warm-up, cosine-decayed to 10%."""
    warmup_steps: int = 100
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    """Global gradient-norm clip."""
    ema_decay: float = 0.999
    """EMA of the weights: what validation and generation use."""
    bf16: bool | None = False
    """bf16 autocast on CUDA / CPU; null = auto (`device.use_bf16`: on a CPU with native bf16
    only, where the VAE measured 1.3-1.9x faster at the same PSNR; README, Benchmarks). The DiT's
    step is 1.1-1.3x faster in bf16 there too (its attention kept fp32), but it defaults to fp32:
    on 96 `standard` songs its beat F1 was 0.007 lower in bf16. MPS stays float32."""
    log_every: int = 10
    val_every: int = 500
    """Steps between validations (samples + contact sheets) when data.epoch_size is null;
    with epochs, validation comes at each epoch end instead."""
    ckpt_every: int = 500
    max_bad_steps: int = 5
    """Non-finite losses in a row before rolling back to the last checkpoint at half the LR."""
    workers: int | None = None
    """DataLoader worker processes rendering clips beside training; null = auto
    (`device.data_workers`: 0 on the CPU, 1 on MPS/CUDA). On the CPU a worker takes a core from
    training: the regression baseline, which renders 2 clips per 0.6 s step, trained at 1.8
    clips/s with one worker and 3.0 without (`standard`, 30 steps, the same loss to the digit)."""

    def __post_init__(self) -> None:
        for key in ("steps", "batch", "log_every", "val_every", "ckpt_every", "max_bad_steps"):
            _require(getattr(self, key) > 0, key, f"must be > 0, got {getattr(self, key)}")
        _require(self.lr > 0, "lr", f"must be > 0, got {self.lr}")
        _require(self.warmup_steps >= 0, "warmup_steps", f"must be >= 0, got {self.warmup_steps}")
        _require(self.grad_clip > 0, "grad_clip", f"must be > 0, got {self.grad_clip}")
        _require(0 <= self.ema_decay < 1, "ema_decay", f"must be in [0, 1), got {self.ema_decay}")
        _require(self.workers is None or self.workers >= 0, "workers", f"must be >= 0 or null, got {self.workers}")


@dataclass
class VAEConfig:
    """The spatial VAE ("the eye"): frames [3, 128, 128] <-> latents [Cz, 8, 8]."""

    size: Literal["VAE-T", "VAE-S", "VAE-B"] = "VAE-T"
    """Named size (widths/depths) from synesthete.models.vae.VAE_models."""
    latent_channels: int = 8
    """Cz: latent channels per 8x8 position (chosen by measurement: README, Models; docs/experiments.md)."""
    shortcuts: bool = False
    """DC-AE's residual autoencoding (`models/vae.py`): each down/up-sampling layer and the latent's
    projections learn a residual over a weight-free space-to-channel path (docs/experiments.md, The VAE)."""
    kl_weight: float = 1e-4
    """beta of the KL term: small, so latents stay informative but bounded."""
    adv_weight: float = 0.0
    """Weight of the adversarial term (a PatchGAN critic, `models/critic.py`); 0 = no critic.
    It trades PSNR for sharper reconstructions (README, Models and training)."""
    adv_start: int = 0
    """Training step from which the critic and the adversarial term run (checked per rendered
    batch, so in multiples of `reuse`): the decoder first learns to reconstruct."""
    critic_width: int = 16
    """Channels of the critic's first layer, doubled at each of its three layers. On standard,
    16 sharpened as much as 32 at about a quarter of the critic's cost (docs/experiments.md, The VAE)."""
    critic_lr_mult: float = 1.0
    """The critic's learning rate as a multiple of the VAE's (the two time-scale rule, Heusel et
    al. 2017: a critic that learns faster keeps pushing a decoder that has learned to fool it)."""
    mse_weight: float = 1.0
    """Squared error: what PSNR measures (measured: +1.5 dB at 300 steps over L1 alone)."""
    l1_weight: float = 1.0
    grad_weight: float = 0.5
    """L1 on image gradients: the sharpness-preserving term."""
    pyramid_weight: float = 0.5
    """L1 on Laplacian-pyramid bands: sharpness at several scales."""
    spectral_weight: float = 0.0
    """L1 between the magnitudes of tile-wise Fourier spectra (16 and 32 px tiles): penalises
    lost fine detail wherever in a tile it would sit, so unlike the pixel terms it does not
    reward a blur (`models/vae_loss.py`; docs/experiments.md, The VAE). 0 = off."""
    frames_per_clip: int = 1
    """Frames drawn from each clip of a batch (batch frames = train.batch x this). Frames of one
    clip are alike, so a step learns from how many clips it sees, not how many frames: on quick
    at equal compute, 16 clips x 1 frame (2400 steps) gave 24.8 dB, 8 x 2 24.2, 8 x 4 (1200
    steps) 22.8, 4 x 4 (2400 steps) 22.3 (docs/experiments.md, The VAE; all on 64 px crops)."""
    crop: int | None = 96
    """Train on random crops this size (the VAE is fully convolutional, so it runs on whole
    frames after); null = whole frames. On quick at 2200 steps (val PSNR / wall time): 64 px x
    16 clips 24.34 dB / 243 s, 80 x 12 25.40 / 199 s, 96 x 8 25.49 / 214 s, 96 x 12 26.14 /
    248 s, 112 x 6 25.25 / 178 s, 128 x 4 23.44 / 170 s (docs/experiments.md, The VAE). Likely why: a 64 px
    crop is a 4 x 4 latent grid, mostly border."""
    reuse: int = 16
    """Steps that draw their frames from each rendered batch of clips (another frame and crop
    each step): a step uses a few of a clip's 48 frames, so rendering would dominate it."""
    train: TrainConfig = field(default_factory=lambda: TrainConfig(steps=1500, batch=12, lr=1e-3, bf16=None))
    """workers auto: with `reuse`, rendering is a small part of a step, so on the CPU it trains on every
    core. bf16 auto: on a CPU with native bf16 a VAE step is 1.3-1.9x faster at the same PSNR."""

    def __post_init__(self) -> None:
        _require(self.latent_channels > 0, "latent_channels", f"must be > 0, got {self.latent_channels}")
        _require(self.kl_weight >= 0, "kl_weight", f"must be >= 0, got {self.kl_weight}")
        _require(self.adv_weight >= 0, "adv_weight", f"must be >= 0, got {self.adv_weight}")
        _require(self.spectral_weight >= 0, "spectral_weight", f"must be >= 0, got {self.spectral_weight}")
        _require(self.adv_start >= 0, "adv_start", f"must be >= 0, got {self.adv_start}")
        _require(self.critic_width >= 4, "critic_width", f"must be >= 4, got {self.critic_width}")
        _require(self.critic_lr_mult > 0, "critic_lr_mult", f"must be > 0, got {self.critic_lr_mult}")
        _require(self.frames_per_clip > 0, "frames_per_clip", f"must be > 0, got {self.frames_per_clip}")
        _require(self.reuse >= 1, "reuse", f"must be >= 1, got {self.reuse}")
        _require(self.crop is None or (self.crop >= 16 and self.crop % 16 == 0), "crop",
                 f"must be null or a multiple of 16, got {self.crop}")


@dataclass
class DiTConfig:
    """The audio-conditioned Diffusion Transformer ("the brain") and its audio encoder."""

    size: Literal["DiT-T/1", "DiT-T/2", "DiT-S/1", "DiT-S/2", "DiT-B/1", "DiT-B/2"] = "DiT-T/2"
    """Named size from synesthete.models.dit.DiT_models (/p = patch size on the 8x8 latent)."""
    audio_dim: int = 128
    """Width of the audio tokens (one per video frame)."""
    audio_chroma: bool = False
    """Also feed the audio encoder 12 chroma bins (pitch classes, from a 2048-point STFT) beside
    the log-mel: 64 mel bands are wider than a semitone below ~1 kHz, so the mel alone hardly
    shows a song's key and mode, which set its palette."""
    audio_key: bool = False
    """Also give the DiT's adaLN condition the window's key evidence: the correlations of its mean
    chroma with the 24 Krumhansl-Kessler key profiles (the Krumhansl-Schmuckler key finder: its
    largest names the mode of 70% of 3 s validation windows, `scripts/key_probe.py`), through a
    layer at the label's scale. Major keys draw warm palettes, minor ones cool palettes: a direct
    path from the audio's mode to the colours, which the +-6-frame conv stack cannot average over a
    window. Measured: no palette gain that held up, on 32 `quick` songs (AV-Align lower) or 96
    `standard` ones (sync kept); off (docs/experiments.md, the key's path to the palette)."""
    objective: Literal["eps", "v", "flow"] = "flow"
    """What the network predicts (chosen by measurement: README, Models; docs/experiments.md)."""
    cond_drop: float = 0.1
    """Probability of training on the learned null audio (classifier-free guidance)."""
    visualizer_label: bool = False
    """Also condition on which visualizer drew the clip (a learned embedding per visualizer plus
    a null one, dropped with probability cond_drop): the audio does not say which visualizer a
    clip uses, so without it the DiT must learn a nine-way mixture. `generate --visualizer`."""
    label_layout: bool = False
    """With visualizer_label: also a learned spatial map per label, added to every frame's patch
    tokens (zeros at first). The label's adaLN embedding scales and shifts channels only, while a
    look is mostly a layout (a tunnel's centre, the spectrum's bars): this is a direct path from
    the label to where things are."""
    t_shift: float = 1.0
    """Training noise levels t = s u / (1 + (s - 1) u), u ~ U(0, 1) (SD3's timestep shift,
    Esser et al. 2024): s > 1 trains more at high noise, where sampling sets the global look."""
    self_cond: bool = False
    """Self-conditioning (Chen et al. 2022, "Analog Bits"): the DiT also sees its own previous
    estimate of the clean latents, from the sampler's last step (in training, from a gradient-free
    pass on half the steps), so each step refines a picture instead of starting over. The
    validation loss scores its first-step path (no estimate yet)."""
    reuse: int = 2
    """Steps that train on each rendered + VAE-encoded batch (with fresh noise each time)."""
    train: TrainConfig = field(default_factory=lambda: TrainConfig(steps=3000, batch=4, lr=3e-4))
    """workers auto: the DiT renders little per step, so on the CPU it trains on every core."""

    def __post_init__(self) -> None:
        _require(self.audio_dim > 0, "audio_dim", f"must be > 0, got {self.audio_dim}")
        _require(0 <= self.cond_drop < 1, "cond_drop", f"must be in [0, 1), got {self.cond_drop}")
        _require(self.reuse >= 1, "reuse", f"must be >= 1, got {self.reuse}")
        _require(self.t_shift > 0, "t_shift", f"must be > 0, got {self.t_shift}")
        _require(not self.label_layout or self.visualizer_label, "label_layout",
                 "needs dit.visualizer_label: true (a layout per visualizer label)")


@dataclass
class RegressionConfig:
    """The regression baseline (AudioToVideoNet, MSE): the "grey sludge" reference."""

    dim: int = 128
    depth: int = 2
    train: TrainConfig = field(default_factory=lambda: TrainConfig(steps=500, batch=4, lr=1e-3))


@dataclass
class SampleConfig:
    """How videos are generated from a trained DiT."""

    sampler: Literal["ddim", "euler"] = "ddim"
    """ddim (any objective) or euler (flow objective)."""
    steps: int = 20
    guidance: float = 3.0
    """Classifier-free guidance scale: 0 = unconditional, 1 = plain conditional."""
    guidance_interval: list[float] = field(default_factory=lambda: [0.0, 1.0])
    """[lo, hi]: guide only at noise levels lo <= t <= hi (t = 1 is pure noise); [0, 1] = every step."""
    guidance_outside: float = 1.0
    """The scale at the steps outside guidance_interval (1 = plain conditional, 0 = unconditional)."""
    guidance_rescale: float = 0.0
    """phi in [0, 1]: scale the guided x0 estimate back to the conditional one's std, mixed in by phi
    (Lin et al. 2024; tames the over-exposure of large guidance). 0 = off."""
    seed: int = 0
    overlap: int = 8
    """Frames shared by neighbouring windows in long-form generation (warm start + Hann cross-fade)."""

    def __post_init__(self) -> None:
        _require(self.steps >= 1, "sample.steps", f"must be >= 1, got {self.steps}")
        _require(self.guidance >= 0, "sample.guidance", f"must be >= 0, got {self.guidance}")
        _require(len(self.guidance_interval) == 2 and 0 <= self.guidance_interval[0] <= self.guidance_interval[1] <= 1,
                 "sample.guidance_interval", f"must be [lo, hi] with 0 <= lo <= hi <= 1, got {self.guidance_interval}")
        _require(self.guidance_outside >= 0, "sample.guidance_outside", f"must be >= 0, got {self.guidance_outside}")
        _require(0 <= self.guidance_rescale <= 1, "sample.guidance_rescale",
                 f"must be in [0, 1], got {self.guidance_rescale}")
        _require(self.overlap >= 0, "sample.overlap", f"must be >= 0, got {self.overlap}")


OPTIONAL_BASELINES = ("shuffled_audio", "null_audio", "mismatched_truth", "regression", "static")
"""`eval.baselines`' choices, in the order the evaluation lists them (eval/runner.py has the whole list)."""


@dataclass
class EvalConfig:
    """What `synesthete eval` (and the pipeline's last stage) scores."""

    clips: int = 8
    """Validation songs scored per baseline."""
    first: int = 0
    """The first validation song scored: songs first .. first + clips - 1 (tune on one set, report on another)."""
    seconds: float = 8.0
    """Length of each song excerpt (longer than a window, so long-form generation is scored)."""
    nets: bool = True
    """Also the learned metrics (Fréchet distance, sync scorer): two small nets trained once and cached."""
    nets_dir: str = "runs/eval_nets"
    """Where those nets are cached (shared by every run)."""
    baselines: list[Literal[OPTIONAL_BASELINES]] = field(default_factory=lambda: list(OPTIONAL_BASELINES))
    """The baselines scored beside the ground truth and the model (always both). Fewer is faster: an
    ablation judged model against model by `synesthete compare` needs none of them (the margins need
    shuffled_audio / null_audio); the model is a third of the sampling with all three DiT baselines."""

    def __post_init__(self) -> None:
        _require(self.clips >= 1, "eval.clips", f"must be >= 1, got {self.clips}")
        _require(self.first >= 0, "eval.first", f"must be >= 0, got {self.first}")
        _require(self.seconds > 0, "eval.seconds", f"must be > 0, got {self.seconds}")


@dataclass
class WandbConfig:
    """Weights & Biases: online only when the user has configured it."""

    mode: Literal["auto", "online", "offline", "disabled"] = "auto"
    """auto = online when credentials exist (never under pytest or CI), else disabled."""
    project: str = "synesthete"


@dataclass
class Config:
    """Everything a run needs; saved in every run directory and checkpoint."""

    name: str = "default"
    """Run name: outputs go to runs/<name>/."""
    preset: Literal["default", "quick", "standard", "full", "custom"] = "default"
    """Which preset file this came from (informational)."""
    device: str = "auto"
    """auto (MPS, then CUDA, then CPU), or cpu / cuda / cuda:N / mps."""
    data: DataConfig = field(default_factory=DataConfig)
    vae: VAEConfig = field(default_factory=VAEConfig)
    dit: DiTConfig = field(default_factory=DiTConfig)
    regression: RegressionConfig = field(default_factory=RegressionConfig)
    sample: SampleConfig = field(default_factory=SampleConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    wandb: WandbConfig = field(default_factory=WandbConfig)

    def __post_init__(self) -> None:
        _require(bool(self.name), "name", "must not be empty")
        # one folder under runs/: a `/`, `..` or absolute path would write outside it
        _require(re.fullmatch(r"[\w.-]+", self.name) is not None and self.name not in (".", ".."), "name",
                 f"{self.name!r} must be one folder name (letters, digits, '.', '-', '_'), as outputs go to runs/<name>/")
        _require(
            self.device == "auto" or self.device.split(":")[0] in ("cpu", "cuda", "mps"),
            "device",
            f"must be auto, cpu, cuda, cuda:N or mps, got {self.device!r}",
        )
        grid, patch = self.data.size // 16, int(self.dit.size.split("/")[1])
        _require(grid % patch == 0, "data.size",
                 f"{self.data.size} px is a {grid}x{grid} latent grid, which {self.dit.size}'s {patch}x{patch} "
                 f"patches do not tile: use a multiple of {16 * patch} px or a /1 DiT size")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def hash(self) -> str:
        """A short stable hash of the whole config (for checkpoints and caches)."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


# --- building dataclasses from plain data, with type checks -------------------------------


def _check_type(value: Any, tp: Any, key: str) -> Any:
    """Return `value` coerced to `tp` (int -> float only), or raise ConfigError naming `key`."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin is Literal:
        _require(value in typing.get_args(tp), key, f"must be one of {list(typing.get_args(tp))}, got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None:
            _require(type(None) in args, key, "must not be null")
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _check_type(value, arg, key)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"{key}: invalid value {value!r}")
    if origin is list:
        _require(isinstance(value, list), key, f"must be a list, got {value!r}")
        (item,) = typing.get_args(tp)
        return [_check_type(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(tp):
        _require(isinstance(value, dict), key, f"must be a mapping, got {value!r}")
        return _build(tp, value, key)
    if tp is bool:
        _require(isinstance(value, bool), key, f"must be true or false, got {value!r}")
        return value
    if tp is int:
        _require(isinstance(value, int) and not isinstance(value, bool), key, f"must be an integer, got {value!r}")
        return value
    if tp is float:
        _require(
            isinstance(value, (int, float)) and not isinstance(value, bool), key, f"must be a number, got {value!r}"
        )
        _require(math.isfinite(value), key, f"must be a finite number, got {value!r}")
        return float(value)
    if tp is str:
        _require(isinstance(value, str), key, f"must be a string, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported type {tp}")


def _build(cls: type, values: dict[str, Any], prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    defaults = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for k, v in values.items():
        key = f"{prefix}.{k}" if prefix else k
        _require(k in names, key, f"unknown key (known: {', '.join(sorted(names))})")
        if dataclasses.is_dataclass(hints[k]) and isinstance(v, dict) and defaults[k].default_factory is not dataclasses.MISSING:
            # a partial section fills in over this field's own defaults (e.g. vae.train's lr)
            v = _merge(dataclasses.asdict(defaults[k].default_factory()), v)
        kwargs[k] = _check_type(v, hints[k], key)
    try:
        return cls(**kwargs)
    except ConfigError as e:
        if prefix and not str(e).startswith(prefix + "."):
            raise ConfigError(f"{prefix}.{e}") from None
        raise


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def parse_override(text: str) -> dict[str, Any]:
    """`data.fps=8` -> {"data": {"fps": 8}}; the value is parsed as YAML (numbers, lists, null)."""
    _require("=" in text, text, "an override must look like key.sub=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    _require(bool(key), text, "an override needs a key before '='")
    value = yaml.safe_load(raw) if raw.strip() else ""
    out: dict[str, Any] = value
    for part in reversed(key.split(".")):
        out = {part: out}
    return out


def resolve_preset(name_or_path: str | Path) -> Path:
    """A preset name (`quick`) or a path to a YAML file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml"):
        _require(p.is_file(), "config", f"no such file: {p}")
        return p
    p = CONFIG_DIR / f"{name_or_path}.yaml"
    known = sorted(q.stem for q in CONFIG_DIR.glob("*.yaml"))
    _require(p.is_file(), "config", f"unknown preset {name_or_path!r} (known: {', '.join(known)})")
    return p


def load_config(preset: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Dataclass defaults <- preset YAML <- `key.sub=value` overrides, validated."""
    values: dict[str, Any] = {}
    if preset is not None:
        path = resolve_preset(preset)
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"config: {path} is not valid YAML ({e.__class__.__name__})") from None
        _require(isinstance(loaded, dict), "config", f"{path} must hold a mapping")
        values = loaded
    for text in overrides:
        values = _merge(values, parse_override(text))
    return _build(Config, values)


def config_from_dict(values: dict[str, Any]) -> Config:
    """Rebuild a Config saved with `Config.to_dict()` (e.g. from a checkpoint)."""
    return _build(Config, values)


def config_diff(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
    """Keys whose values differ between two config dicts, as dotted names."""
    out = []
    for k in sorted(set(a) | set(b)):
        key = f"{prefix}.{k}" if prefix else k
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += config_diff(va, vb, key)
        elif va != vb:
            out.append(key)
    return out
