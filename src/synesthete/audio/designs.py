"""The sound designs each instrument can take; `meta["designs"]` indexes into these tuples.

Adding a design to drums.py / tones.py / riser.py appends it here; keep the order stable,
since a song's design ids are drawn as indices.
"""

from synesthete.audio.drums import DRUM_DESIGNS
from synesthete.audio.riser import RISER_DESIGNS
from synesthete.audio.tones import TONE_DESIGNS

INSTRUMENTS: tuple[str, ...] = ("kick", "snare", "clap", "hat", "crash", "riser", "bass", "chord", "lead")

DESIGNS: dict[str, tuple[str, ...]] = {
    "kick": tuple(DRUM_DESIGNS["kick"]),
    "snare": tuple(DRUM_DESIGNS["snare"]),
    "clap": tuple(DRUM_DESIGNS["clap"]),
    "hat": tuple(DRUM_DESIGNS["hat"]),  # open hats use the same design name
    "crash": tuple(DRUM_DESIGNS["crash"]),
    "riser": RISER_DESIGNS,
    "bass": tuple(TONE_DESIGNS["bass"]),
    "chord": tuple(TONE_DESIGNS["chord"]),
    "lead": tuple(TONE_DESIGNS["lead"]),
}
