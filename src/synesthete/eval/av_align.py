"""AV-Align (Yariv et al. 2023): do video motion peaks land on audio onsets?

Follows the paper's reference implementation (TempoTokens `av_align.py`) step by step:

- audio peaks: `librosa.onset.onset_detect` on `librosa.onset.onset_strength` of the waveform,
  in seconds. The reference loads audio with `librosa.load`, i.e. resampled to 22.05 kHz, so
  by default we resample to 22.05 kHz too (`resample_to=None` keeps the native rate).
- video peaks: Farneback optical flow between consecutive grayscale frames (pyr_scale 0.5,
  levels 3, winsize 15, iterations 3, poly_n 5, poly_sigma 1.2, flags 0), the mean flow
  magnitude per frame; the trajectory starts with flow(0 -> 1) twice (frame 0 has no
  predecessor) and its peaks are the strict local maxima `x[i-1] < x[i] > x[i+1]`, no
  height threshold, as the reference's `find_local_max_indexes`.
- matching: an audio onset at time a is matched when some video peak p (at time p / fps)
  satisfies p/fps - 1/fps < a < p/fps + 1/fps (strict, i.e. within one frame); every audio
  peak counts at most once, a video peak may serve several audio peaks (the reference loops
  over audio peaks with a `break`, no one-to-one assignment).
- score = IoU = matched / (|audio peaks| + |video peaks| - matched).

Deviations: frames come in as RGB tensors, not BGR from `cv2.VideoCapture` (we convert with
COLOR_RGB2GRAY, giving the same luma); the audio is the clip's waveform, not a decoded file
(no codec round trip); an empty union scores 0 instead of dividing by zero; a frame identical
to the one before has flow 0 (Farneback reports a constant 0.01-0.05 px on some pictures, which
no strict maximum can come from: a still video scores 0 either way).
"""

from __future__ import annotations

import cv2
import librosa
import numpy as np
import torch

FARNEBACK = {"pyr_scale": 0.5, "levels": 3, "winsize": 15, "iterations": 3, "poly_n": 5, "poly_sigma": 1.2, "flags": 0}
REFERENCE_SR = 22050  # librosa.load's default rate, which the reference analyses audio at
ONSET_N_FFT = 2048
"""The onset analysis window, librosa's default (samples at REFERENCE_SR, 93 ms), passed to it so the
two cannot drift: audio shorter than one window holds no onset librosa can find (it would warn and
answer from zero padding)."""
STILL_PX = 0.01
"""Below this mean flow (px) a frame is read as still: Farneback's round-off on nearly identical
frames. Exactly identical frames are given 0 directly, as on some pictures Farneback reports up to
0.05 px between a frame and itself (the plasma of validation song 27), the same every frame."""


def to_uint8_frames(video: torch.Tensor | np.ndarray) -> np.ndarray:
    """[T, 3, H, W] uint8, or float in [0, 1] -> numpy uint8 [T, H, W, 3] (OpenCV's layout)."""
    v = video.detach().cpu().numpy() if isinstance(video, torch.Tensor) else np.asarray(video)
    if v.dtype != np.uint8:
        v = (np.clip(v.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return np.ascontiguousarray(v.transpose(0, 2, 3, 1))


def grayscale(video: torch.Tensor | np.ndarray) -> np.ndarray:
    """[T, 3, H, W] -> uint8 [T, H, W] luma (OpenCV's RGB -> gray weights)."""
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in to_uint8_frames(video)])


def flow_magnitude(video: torch.Tensor | np.ndarray) -> np.ndarray:
    """[T, 3, H, W] -> float32 [T] mean Farneback flow magnitude (px) from frame i-1 to i; [0] = 0."""
    return gray_flow_magnitude(grayscale(video))


def gray_flow_magnitude(gray: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """`flow_magnitude` of uint8 luma frames [T, H, W]. [0] is 0, or the flow from `previous` (the
    frame before them), so a long video can be scored a chunk at a time with the same figures.
    A frame identical to the one before it has moved 0 px, whatever Farneback would report."""
    mags = np.zeros(len(gray), dtype=np.float32)
    for i in range(len(gray)):
        before = gray[i - 1] if i else previous
        if before is not None and not np.array_equal(before, gray[i]):
            flow = cv2.calcOpticalFlowFarneback(before, gray[i], None, **FARNEBACK)
            mags[i] = cv2.magnitude(flow[..., 0], flow[..., 1]).mean()
    return mags


def floor_still(magnitude: np.ndarray, still: float = STILL_PX) -> np.ndarray:
    """Flow magnitudes below `still` (round-off of identical frames) set to 0, for peak pickers
    with a relative threshold that would otherwise find peaks in the noise of a still video."""
    m = np.asarray(magnitude, dtype=np.float32)
    return np.where(m < still, 0.0, m).astype(np.float32)


def audio_onsets(audio: torch.Tensor | np.ndarray, sample_rate: int,
                 resample_to: int | None = REFERENCE_SR) -> tuple[np.ndarray, np.ndarray]:
    """Waveform [L] or [1, L] -> (onset times in seconds, the onset-strength envelope at each),
    librosa defaults, as the reference; none from audio shorter than one analysis window."""
    y = audio.detach().cpu().float().numpy() if isinstance(audio, torch.Tensor) else np.asarray(audio, np.float32)
    y = y.reshape(-1).astype(np.float32)
    sr = sample_rate
    if resample_to is not None and resample_to != sample_rate:
        y, sr = librosa.resample(y, orig_sr=sample_rate, target_sr=resample_to), resample_to
    if len(y) < ONSET_N_FFT:
        return np.zeros(0), np.zeros(0, np.float32)
    env = librosa.onset.onset_strength(y=y, sr=sr, n_fft=ONSET_N_FFT)
    idx = librosa.onset.onset_detect(onset_envelope=env, sr=sr)
    return librosa.frames_to_time(idx, sr=sr), env[idx]


def audio_onset_times(audio: torch.Tensor | np.ndarray, sample_rate: int,
                      resample_to: int | None = REFERENCE_SR) -> np.ndarray:
    """Waveform [L] or [1, L] -> onset times in seconds (librosa defaults, as the reference)."""
    return audio_onsets(audio, sample_rate, resample_to)[0]


def audio_onset_frames(audio: torch.Tensor | np.ndarray, sample_rate: int, fps: float,
                       resample_to: int | None = REFERENCE_SR) -> np.ndarray:
    """Onsets as video frame indices floor(t * fps), int64 (the frame showing time t)."""
    return np.floor(audio_onset_times(audio, sample_rate, resample_to) * fps).astype(np.int64)


def video_peak_frames(magnitude: np.ndarray) -> np.ndarray:
    """Strict local maxima of a per-frame flow trajectory, int64 frame indices.

    magnitude[0] is taken as magnitude[1] (the reference's trajectory repeats flow(0 -> 1)),
    so frame 1 is never a peak; the first and last frames never are either.
    """
    x = np.asarray(magnitude, dtype=np.float64).copy()
    if len(x) < 3:
        return np.zeros(0, dtype=np.int64)
    x[0] = x[1]
    mid = x[1:-1]
    return (np.nonzero((x[:-2] < mid) & (mid > x[2:]))[0] + 1).astype(np.int64)


def count_matches(audio_times: np.ndarray, peak_frames: np.ndarray, fps: float) -> int:
    """Audio onsets with a video peak strictly within one frame period (reference's intersection)."""
    if len(audio_times) == 0 or len(peak_frames) == 0:
        return 0
    dist = np.abs(np.asarray(audio_times)[:, None] - np.asarray(peak_frames)[None, :] / fps)
    return int((dist < 1.0 / fps).any(axis=1).sum())


def av_align(video: torch.Tensor | np.ndarray, audio: torch.Tensor | np.ndarray, sample_rate: int,
             fps: float, magnitude: np.ndarray | None = None, resample_to: int | None = REFERENCE_SR,
             onsets: np.ndarray | None = None) -> dict[str, float]:
    """{score, audio_peaks, video_peaks, matched, fps}: AV-Align IoU and the counts behind it.

    `magnitude` (from `flow_magnitude`) and `onsets` (from `audio_onset_times`) may be passed to skip
    recomputing the flow and the onsets.
    """
    mags = flow_magnitude(video) if magnitude is None else magnitude
    audio_times = audio_onset_times(audio, sample_rate, resample_to) if onsets is None else onsets
    peaks = video_peak_frames(mags)
    matched = count_matches(audio_times, peaks, fps)
    union = len(audio_times) + len(peaks) - matched
    return {"score": matched / union if union > 0 else 0.0, "audio_peaks": len(audio_times),
            "video_peaks": len(peaks), "matched": matched, "fps": float(fps)}
