"""Names of the per-frame ground-truth features: the contract between music and visualizers.

A clip's `features` tensor is float32 `[T, F]` with `F = len(FEATURES)`; column `i` holds
`FEATURES[i]`. Every column lies in [0, 1] so visualizers can map it without rescaling.
"""

FEATURES: tuple[str, ...] = (
    "rms",         # loudness of the mix in the frame, normalised (1 = full scale)
    "kick",        # per-instrument activation: 1 at the onset, decaying with the sound
    "snare",
    "clap",
    "hat",         # closed and open hi-hats
    "crash",       # crash cymbal / impact
    "riser",       # noise riser (builds)
    "bass",
    "chord",       # chords / pad
    "lead",        # lead / arpeggio
    "bass_pitch",  # sounding bass note, (midi - 24) / 48, held between notes
    "lead_pitch",  # sounding lead note, (midi - 48) / 48, held between notes
    "centroid",    # spectral centroid / (sample_rate / 2)
    "energy",      # section energy: intro low, build rising, drop 1, breakdown low
    "beat_phase",  # position inside the current beat, 0 -> 1
    "bar_phase",   # position inside the current bar, 0 -> 1
)

FEATURE_INDEX: dict[str, int] = {name: i for i, name in enumerate(FEATURES)}
NUM_FEATURES: int = len(FEATURES)
