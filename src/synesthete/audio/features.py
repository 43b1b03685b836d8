"""Names of the per-frame ground-truth features: the contract between music and visualizers.

A clip's `features` tensor is float32 `[T, F]` with `F = len(FEATURES)`; column `i` holds
`FEATURES[i]`. Every column lies in [0, 1] so visualizers can map it without rescaling.
"""

FEATURES: tuple[str, ...] = (
    "rms",         # loudness of the mix in the frame: RMS * sqrt(2) (1 = full-scale sine)
    "kick",        # per-instrument activation: the hit's velocity in its onset frame, then
    "snare",       #   decaying with the sound's own envelope (notes: held while the key is
    "clap",        #   down, released after); the max over overlapping hits
    "hat",         # closed and open hi-hats
    "crash",       # crash cymbal / impact
    "riser",       # noise riser: its progress 0 -> 1 while it plays (peaks into a drop)
    "bass",
    "chord",       # chords / pad
    "lead",        # lead / arpeggio
    "bass_pitch",  # latest bass note, (midi - 24) / 48, held between notes (4 s, then the chord root)
    "lead_pitch",  # latest lead note, (midi - 48) / 48, held the same way
    "centroid",    # spectral centroid of the frame / (sample_rate / 2)
    "energy",      # section energy: intro low, build rising, drop 1, breakdown low
    "beat_phase",  # position inside the current beat, 0 -> 1 (0 on the beat)
    "bar_phase",   # position inside the current bar, 0 -> 1 (0 on the downbeat)
)

FEATURE_INDEX: dict[str, int] = {name: i for i, name in enumerate(FEATURES)}
NUM_FEATURES: int = len(FEATURES)
