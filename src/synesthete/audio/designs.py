"""The sound designs each instrument can take (`meta["designs"]` indexes these tuples), and a
helper that fills every sound cache up front.

Adding a design to drums.py / tones.py / riser.py appends it here; keep the order stable,
since a song's design ids are drawn as indices.
"""

from synesthete.audio.drums import DRUM_DESIGNS, one_shot
from synesthete.audio.riser import RISER_DESIGNS, noise_bands
from synesthete.audio.tones import TONE_DESIGNS, note_bank

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


def warm_caches(sample_rate: int) -> None:
    """Build every cached sound for a sample rate now (~1-2 s on one core), e.g. in a DataLoader
    worker's init, so no clip pays for a first-use synthesis and clip timings stay flat."""
    for kind, designs in DRUM_DESIGNS.items():
        for name, design in designs.items():
            for key in range(12) if design.tuned else (0,):
                one_shot(kind, name, sample_rate, key)
    for instrument, designs in TONE_DESIGNS.items():
        for name in designs:
            note_bank(instrument, name, sample_rate)
    noise_bands(sample_rate)
