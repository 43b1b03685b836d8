"""Music theory tables: scales, diatonic chords, progressions and pitch helpers.

Everything here is plain Python on ints: the score is tiny, only the audio is a tensor.
Degrees are 0-based scale steps (0 = tonic); they may be negative or exceed 6 (octaves).
"""

from typing import Literal

Mode = Literal["major", "minor"]

NOTE_NAMES: tuple[str, ...] = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# Natural minor keeps every chord diatonic, so a key estimator on the audio agrees with `meta`.
SCALES: dict[Mode, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
}

# Four-chord loops as scale degrees of the chord roots (I-V-vi-IV is (0, 4, 5, 3)).
PROGRESSIONS: dict[Mode, tuple[tuple[int, ...], ...]] = {
    "major": ((0, 4, 5, 3), (0, 5, 3, 4), (5, 3, 0, 4), (0, 3, 5, 4), (0, 3, 0, 4), (3, 4, 2, 5)),
    "minor": ((0, 5, 2, 6), (0, 3, 6, 2), (0, 6, 5, 6), (0, 3, 4, 0), (0, 5, 3, 4), (0, 2, 6, 5)),
}


def degree_semitones(mode: Mode, degree: int) -> int:
    """Semitones above the tonic of a (possibly multi-octave) scale degree."""
    octave, step = divmod(degree, 7)
    return SCALES[mode][step] + 12 * octave


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
    return tuple(root + degree_semitones(mode, root_degree + 2 * i) - root_semi for i in range(size))


def pitch_class(key: int, mode: Mode, degree: int) -> int:
    """Pitch class (0-11) of a scale degree in a key."""
    return (key + degree_semitones(mode, degree)) % 12
