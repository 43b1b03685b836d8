"""Picture quality against the ground truth: fidelity (PSNR, SSIM), sharpness, flicker, diversity, FD.

Videos are [T, 3, H, W] (or image batches [N, 3, H, W]), uint8 or float in [0, 1]. The
ratios compare a generated video with its ground truth: sharpness_ratio < 1 means blurrier,
flicker_ratio > 1 means jumpier than the truth. `frechet_distance` takes features from an
evaluator network (not here) and compares their Gaussians.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from synesthete.eval.av_align import grayscale

SSIM_K1, SSIM_K2 = 0.01, 0.03  # Wang et al. 2004 stabilising constants (data range 1)
MAX_PSNR_DB = 100.0  # identical frames: MSE floored at 1e-10
RATIO_FLOOR = 1e-12  # the least denominator of a ratio to the truth (a still truth has no flicker)


def floored_ratio(num, den):
    """num / den with den floored at RATIO_FLOOR: every ratio to the truth in the evaluation.

    Floats give a float; arrays (a bootstrap's resampled means) divide elementwise. NaN stays NaN.
    """
    r = np.asarray(num, dtype=np.float64) / np.maximum(np.asarray(den, dtype=np.float64), RATIO_FLOOR)
    return float(r) if r.ndim == 0 else r


def to_unit(video: torch.Tensor | np.ndarray) -> torch.Tensor:
    """uint8 -> float32 / 255; float -> float32 as is (assumed already in [0, 1])."""
    v = video if isinstance(video, torch.Tensor) else torch.from_numpy(np.asarray(video))
    return v.float() / 255.0 if v.dtype == torch.uint8 else v.float()


def psnr(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """Mean over frames of 10 log10(1 / MSE) on [0, 1] pixels (per frame, capped at MAX_PSNR_DB)."""
    x, y = to_unit(a), to_unit(b)
    if x.dim() == 3:
        x, y = x[None], y[None]
    mse = (x - y).square().flatten(1).mean(1).clamp(min=10 ** (-MAX_PSNR_DB / 10))
    return float((-10.0 * torch.log10(mse)).mean())


def gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Normalised 1-D Gaussian [size]."""
    x = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    w = torch.exp(-x.square() / (2 * sigma * sigma))
    return w / w.sum()


def _blur(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Separable valid-mode Gaussian filter of [N, C, H, W], per channel."""
    c = x.shape[1]
    x = F.conv2d(x, w.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(x, w.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def ssim_map(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray, size: int = 11, sigma: float = 1.5
             ) -> torch.Tensor:
    """SSIM per frame, [N] (Wang et al. 2004): Gaussian window 11 / sigma 1.5, valid positions only,
    C1 = (0.01)^2, C2 = (0.03)^2 for [0, 1] pixels, averaged over positions and channels.
    The window shrinks to the image size for images smaller than 11 px."""
    x, y = to_unit(a), to_unit(b)
    if x.dim() == 3:
        x, y = x[None], y[None]
    w = gaussian_window(min(size, x.shape[-1], x.shape[-2]), sigma).to(x.device)
    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2
    mx, my = _blur(x, w), _blur(y, w)
    sxx = _blur(x * x, w) - mx * mx
    syy = _blur(y * y, w) - my * my
    sxy = _blur(x * y, w) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return s.flatten(1).mean(1)


def ssim(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """Mean SSIM over frames (see `ssim_map`): 1 for identical videos."""
    return float(ssim_map(a, b).mean())


def sharpness(video: torch.Tensor | np.ndarray) -> float:
    """Mean over frames of the variance of the Laplacian of the grayscale frame (0-255 units;
    float input is quantised to uint8 first)."""
    return float(np.mean([cv2.Laplacian(g, cv2.CV_64F).var() for g in grayscale(video)]))


def sharpness_ratio(gen: torch.Tensor | np.ndarray, truth: torch.Tensor | np.ndarray) -> float:
    """sharpness(gen) / sharpness(truth): < 1 blurrier than the truth."""
    return floored_ratio(sharpness(gen), sharpness(truth))


def flicker(video: torch.Tensor | np.ndarray) -> float:
    """Mean |frame_i - frame_{i-1}| over pixels and frames 1..T-1, [0, 1] units."""
    v = to_unit(video)
    return float((v[1:] - v[:-1]).abs().mean()) if len(v) > 1 else 0.0


def flicker_ratio(gen: torch.Tensor | np.ndarray, truth: torch.Tensor | np.ndarray) -> float:
    """flicker(gen) / flicker(truth): > 1 jumpier than the truth."""
    return floored_ratio(flicker(gen), flicker(truth))


def diversity(videos: Sequence[torch.Tensor | np.ndarray]) -> float:
    """Mean pairwise per-pixel L1 ([0, 1] units) between videos of the same audio, different seeds.

    0 = every seed gives the same video; NaN with fewer than two videos.
    """
    vs = [to_unit(v) for v in videos]
    if len(vs) < 2:
        return float("nan")
    return float(np.mean([float((a - b).abs().mean()) for a, b in combinations(vs, 2)]))


def frechet_distance(feats_a: torch.Tensor | np.ndarray, feats_b: torch.Tensor | np.ndarray) -> float:
    """Frechet distance of Gaussians fitted to two feature sets [N, D] (FID/FVD's formula):
    |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2), in float64.

    Both square roots are of symmetric PSD matrices, taken by eigen-decomposition with
    negative round-off eigenvalues clipped to 0 (no scipy sqrtm and no complex parts to drop).
    """
    a = np.asarray(feats_a.detach().cpu() if isinstance(feats_a, torch.Tensor) else feats_a, dtype=np.float64)
    b = np.asarray(feats_b.detach().cpu() if isinstance(feats_b, torch.Tensor) else feats_b, dtype=np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"frechet_distance needs >= 2 samples per set, got {len(a)} and {len(b)}")
    mu = a.mean(0) - b.mean(0)
    sa, sb = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root_a = _psd_sqrt(sa)
    inner = root_a @ sb @ root_a
    cross = np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0.0, None)).sum()
    return float(max(mu @ mu + np.trace(sa) + np.trace(sb) - 2.0 * cross, 0.0))


def _psd_sqrt(m: np.ndarray) -> np.ndarray:
    """Square root of a symmetric PSD matrix by eigen-decomposition."""
    vals, vecs = np.linalg.eigh((m + m.T) / 2)
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T
