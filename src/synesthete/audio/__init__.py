"""Procedural music: seeded songs rendered window by window, with exact ground truth.

    clip = render_clip(song_seed=7, start=60.0, seconds=3.0)
    clip.audio     # [1, 48000] float32, peak < 1
    clip.events    # {"kick": seconds, ..., "beat", "downbeat", "section"}
    clip.features  # [48, NUM_FEATURES] in [0, 1], columns named in FEATURES
"""

from synesthete.audio.designs import DESIGNS, INSTRUMENTS, warm_caches
from synesthete.audio.features import FEATURE_INDEX, FEATURES, NUM_FEATURES
from synesthete.audio.plan import SongPlan, plan_song
from synesthete.audio.render import AudioClip, render_clip

__all__ = [
    "AudioClip",
    "DESIGNS",
    "FEATURES",
    "FEATURE_INDEX",
    "INSTRUMENTS",
    "NUM_FEATURES",
    "SongPlan",
    "plan_song",
    "render_clip",
    "warm_caches",
]
