"""Music theory tables: scales, diatonic chords, progressions and pitch helpers.

Everything here is plain Python on ints: the score is tiny, only the audio is a tensor.
Degrees are 0-based scale steps (0 = tonic); they may be negative or exceed 6 (octaves).
"""

import math
from typing import Literal

Mode = Literal["major", "minor"]

NOTE_NAMES: tuple[str, ...] = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# Natural minor keeps every chord diatonic, so a key estimator on the audio agrees with `meta`.
SCALES: dict[Mode, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
}

# Four-chord loops as scale degrees of the chord roots (I-V-vi-IV is (0, 4, 5, 3)). Every loop
# starts on the tonic and minor loops lean on V: loops that avoid the tonic (IV-V-iii-vi) left
# a key estimator on the notes themselves right in only ~half the songs.
PROGRESSIONS: dict[Mode, tuple[tuple[int, ...], ...]] = {
    "major": ((0, 4, 5, 3), (0, 5, 3, 4), (0, 3, 4, 0), (0, 3, 5, 4), (0, 1, 4, 0), (0, 3, 0, 4)),
    "minor": ((0, 5, 6, 0), (0, 3, 4, 0), (0, 5, 3, 4), (0, 6, 5, 4), (0, 3, 6, 4), (0, 2, 3, 4)),
}
DOMINANT = 4  # scale degree of the dominant chord
LEADING_TONE = 6  # in minor, raised a semitone over the dominant (harmonic minor)


def degree_semitones(mode: Mode, degree: int, chord_root: int = 0) -> int:
    """Semitones above the tonic of a (possibly multi-octave) scale degree.

    Over a dominant chord in minor the 7th degree is raised (harmonic minor): V is major and
    the leading tone is what tells a minor key from its relative major.
    """
    octave, step = divmod(degree, 7)
    raised = mode == "minor" and step == LEADING_TONE and chord_root % 7 == DOMINANT
    return SCALES[mode][step] + 12 * octave + raised


def place_in_range(midi: int, low: int, high: int) -> int:
    """Shift `midi` by octaves into [low, high) (high - low must be >= 12)."""
    while midi < low:
        midi += 12
    while midi >= high:
        midi -= 12
    return midi


def chord_pitches(key: int, mode: Mode, root_degree: int, size: int, low: int) -> tuple[int, ...]:
    """MIDI notes of a diatonic chord stacked in thirds, root placed in [low, low + 12).

    size 3 is a triad, 4 adds the seventh.
    """
    root_semi = degree_semitones(mode, root_degree)
    root = place_in_range(key + root_semi, low, low + 12)
    return tuple(root + degree_semitones(mode, root_degree + 2 * i, root_degree) - root_semi for i in range(size))


def tune_to_key(hz: float, key: int) -> float:
    """The frequency of pitch class `key` nearest to `hz` (at most half an octave away)."""
    midi = 69 + 12 * math.log2(hz / 440.0)
    target = midi + ((key - midi + 6) % 12 - 6)
    return 440.0 * 2 ** ((target - 69) / 12)


def pitch_class(key: int, mode: Mode, degree: int) -> int:
    """Pitch class (0-11) of a scale degree in a key."""
    return (key + degree_semitones(mode, degree)) % 12
