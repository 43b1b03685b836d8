"""`synesthete eval --video`: the sync metrics of any video file with audio.

The frames are read a chunk at a time and reduced at once to what the metrics need (the
Farneback flow magnitude and mean luma of each frame, and the sync scorer's small frames), so
memory does not grow with the video's length: a 92 s 1080p video took 3.5 GB read whole, 1.2 GB
this way, of which 1.1 GB is the libraries and the sync scorer (README, Evaluation)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

EVAL_VIDEO_SIDE = 256
"""Larger frames are read at this short side (`--max-side`). Farneback's window and pyramid are fixed
in pixels, so large frames lose the motion: a 128 px clip scored AV-Align 0.36, scaled up and read
whole 0.40 at 256 px, 0.35 at 512 px and 0.18 at 1080p (README, Evaluation)."""

CHUNK_BYTES = 1 << 25
"""Frames decoded at a time: as many as fit in 32 MB (96 frames of 256 x 455, 5 of 1920 x 1080)."""


def eval_video(video: str | Path, audio: str | Path | None = None, max_side: int = EVAL_VIDEO_SIDE,
               load_scorer: Callable[[], tuple] | None = None) -> dict:
    """AV-Align, onset-sync F1 and offset of a video against its own (or the given) audio track, and,
    with `load_scorer` returning (SyncScorer, its stats), e.g. `load_or_train_sync_scorer`, the learned
    sync scorer's offset and confidence. Raises MediaError for a file without the streams it needs,
    before `load_scorer` is called: training the scorer takes minutes, a bad file a second."""
    import librosa
    import numpy as np

    from synesthete.eval.av_align import audio_onsets, av_align, gray_flow_magnitude, grayscale
    from synesthete.eval.beat_sync import beat_sync_signals, luma_increase, onset_offset
    from synesthete.eval.semantics import MIN_TEMPO_SECONDS, motion_tempo
    from synesthete.eval.sync_scorer import ScorerFrames
    from synesthete.media import MediaError, VideoReader, read_audio, read_audio_on_clock

    reader = VideoReader(video, max_side or None)
    if len(reader) == 0:
        raise MediaError(f"{video} has no video frames")
    audio_start = None                          # a separate audio file starts with the first frame
    if audio is not None:
        wave, sr = read_audio(audio)
    else:
        try:
            wave, sr, audio_start = read_audio_on_clock(video, reader.begin, mono=False)
        except MediaError:
            raise MediaError(f"{video} has no audio track (give one with --audio)") from None
        if wave.shape[1] == 0:
            raise MediaError(f"{video}: its audio track ends before its first video frame")
        wave = wave.mean(0, keepdim=True)
    fps = reader.fps
    scorer = load_scorer() if load_scorer is not None else None
    picked = ScorerFrames(fps, scorer[0]) if scorer is not None else None
    motion, luma, previous = [], [], None
    for chunk in reader.chunks(max(1, CHUNK_BYTES // (3 * reader.size[0] * reader.size[1]))):
        gray = grayscale(chunk)
        motion.append(gray_flow_magnitude(gray, previous))
        luma.append(gray.astype(np.float32).mean(axis=(1, 2)))
        previous = gray[-1]
        if picked is not None:
            picked.add(chunk)
    mag = np.concatenate(motion) if motion else np.zeros(0, np.float32)
    onsets, strengths = audio_onsets(wave, sr)
    offset_ms, window = onset_offset(mag, onsets, strengths, fps)
    sync = beat_sync_signals(mag, luma_increase(np.concatenate(luma) if luma else np.zeros(0, np.float32)),
                             onsets, fps)
    timed = len(mag) / fps >= MIN_TEMPO_SECONDS      # long enough to read a tempo from
    out = {
        "av_align": av_align(None, wave, sr, fps, magnitude=mag, onsets=onsets)["score"],
        "onset_f1": sync["f1"],
        "onset_precision": sync["precision"],
        "onset_recall": sync["recall"],
        # against the stronger onsets, preferring half their spacing (beat_sync.onset_offset): past
        # that a lag is hard to tell from none by onsets alone; sync_scorer.offset_ms covers +-6 frames
        "offset_ms": offset_ms,
        "offset_window_ms": window * 1000.0 / fps,
        "fps": fps,
        "frames": len(mag),
        "frame_size": list(reader.size),
        "seconds": len(mag) / fps,
        # by the container's timestamps, lined up before scoring as a player does (null with --audio)
        "audio_start_ms": None if audio_start is None else round(1000 * audio_start, 3),
        "audio_onsets": int(len(onsets)),
        # librosa's tempo prior answers 120 bpm for silence: no onsets, no tempo
        "tempo_bpm": float(librosa.feature.tempo(y=wave.reshape(-1).numpy(), sr=sr)[0])
        if len(onsets) and timed else None,
        # the picture's own tempo from its motion (semantics.motion_tempo; null when still): the
        # song's, half or double it, when the picture moves at the song's pace
        "motion_tempo_bpm": motion_tempo(mag, fps) if timed else None,
        "note": "onset_f1 scores motion peaks against librosa onsets (no ground truth for an arbitrary video)",
    }
    if scorer is not None:
        out["sync_scorer"] = _learned_sync(scorer, picked, wave, sr)
    return out


def _learned_sync(scorer: tuple, picked, wave, sample_rate: int) -> dict | None:
    """The sync scorer's offset (positive = picture late) and confidence, with its own offset accuracy
    on validation clips, so a reader knows how far to trust it."""
    from synesthete.eval.sync_scorer import score_scorer_frames

    model, stats = scorer
    scored = score_scorer_frames(model, picked, wave, sample_rate)
    if scored is None:
        return None
    scored.pop("dists")
    return {**scored, "val_offset_accuracy_1": stats.get("val", {}).get("acc_1"),
            "note": "trained on procedural visualizer clips; LSE-C confidence (higher = surer), "
                    "LSE-D min_dist (lower = closer)"}
