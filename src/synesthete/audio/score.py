"""The score of a time window: every note and hit that sounds in it, in absolute samples.

Only the bars overlapping the window (plus a lookback for sounds still ringing from earlier
bars) are generated, so the cost of a clip does not depend on where in the song it starts.
Onsets are exact integers: the tempo is an integer BPM, so a 16th step lands at
round(k * 15 * sample_rate / tempo), computed in integer arithmetic.
"""

from array import array
from dataclasses import dataclass, field

import torch

from synesthete.audio.patterns import (
    ARP_SHAPES,
    STEPS_PER_BEAT,
    bass_notes,
    build_roll,
    chord_hits,
    fill_hits,
    fill_steps,
    hat_steps,
    kick_steps,
    roll_stride,
)
from synesthete.audio.plan import Section, SongPlan
from synesthete.audio.riser import MAX_RISER_SECONDS
from synesthete.audio.theory import chord_pitches, degree_semitones, pitch_class, place_in_range

PART_NAMES: tuple[str, ...] = ("kick", "snare", "clap", "hat", "open_hat", "crash", "riser", "bass", "chord", "lead")
LOOKBACK_SECONDS = 4.0  # longest sound that can ring into a window (chord bank, crash tail)

BASS_ROOT_RANGE = (31, 44)  # MIDI range of the bass root; octaves and fifths go above
CHORD_ROOT_LOW = 52  # chord roots sit in [52, 64)
LEAD_TONIC_RANGE = (54, 66)  # MIDI range of the lead's tonic
LEAD_DEGREE_RANGE = (-2, 12)  # lead notes fold into these scale degrees above that tonic
LEGATO = {"bass": 0.9, "chord": 0.9, "lead": 0.9, "arp": 0.6}  # gate length / note spacing
CRASH_EVERY = 8  # bars between crashes inside a drop
ARP_FAST_TEMPO = 130  # above this BPM the arpeggio plays 8ths instead of 16ths
HAT_ACCENT = (0.8, 0.65, 0.5)  # hat velocity on beats, other 8ths, other 16ths
HUMANIZE = 0.15  # hat velocities vary by up to this fraction, bar by bar (plan.bar_noise)


def list_tensor(values: list, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A 1-D tensor from a Python list via array.array: ~6x faster than torch.tensor(list)."""
    if not values:
        return torch.zeros(0, dtype=dtype)
    code = {torch.float32: "f", torch.int64: "q"}[dtype]
    return torch.frombuffer(array(code, values), dtype=dtype)


@dataclass
class Part:
    """One instrument's notes, sorted by onset. length is the gate in samples (0 for drums)."""

    onset: list[int] = field(default_factory=list)
    velocity: list[float] = field(default_factory=list)
    length: list[int] = field(default_factory=list)
    pitch: list[tuple[int, ...]] = field(default_factory=list)

    def add(self, onset: int, velocity: float, length: int = 0, pitch: tuple[int, ...] = ()) -> None:
        self.onset.append(onset)
        self.velocity.append(velocity)
        self.length.append(length)
        self.pitch.append(pitch)


@dataclass
class Score:
    """A window's events and timelines, all in absolute samples."""

    first_bar: int  # absolute index of the first generated bar
    parts: dict[str, Part]
    beats: list[int]
    downbeats: list[int]
    section_starts: list[int]
    bar_starts: list[int]  # start of each generated bar, plus the end of the last one
    bar_roots: list[int]  # harmony root pitch class of each generated bar


@dataclass(frozen=True)
class Grid:
    """Sample positions of the 16th-note grid of a song at a sample rate."""

    tempo: int
    sample_rate: int
    steps_per_bar: int
    swing_samples: int

    def step(self, k: int) -> int:
        """Absolute sample of 16th step k: round(k * 15 * sr / tempo), odd steps swung late."""
        pos = (30 * k * self.sample_rate + self.tempo) // (2 * self.tempo)
        return pos + self.swing_samples if k % 2 else pos

    def bar_start(self, bar: int) -> int:
        return self.step(bar * self.steps_per_bar)

    def bar_at(self, sample: int) -> int:
        """The bar containing absolute sample `sample` (>= 0)."""
        bar = sample * self.tempo // (15 * self.sample_rate * self.steps_per_bar)
        while self.bar_start(bar + 1) <= sample:
            bar += 1
        while bar > 0 and self.bar_start(bar) > sample:
            bar -= 1
        return bar


def make_grid(plan: SongPlan, sample_rate: int) -> Grid:
    step_samples = 15 * sample_rate / plan.tempo
    return Grid(plan.tempo, sample_rate, plan.steps_per_bar, round(plan.swing * step_samples))


def _riser(plan: SongPlan, grid: Grid, bar: int, section: Section, index: int, score: Score) -> None:
    if section.riser_bars and index == section.bars - section.riser_bars:
        onset = grid.bar_start(bar)
        score.parts["riser"].add(onset, 1.0, grid.bar_start(bar + section.riser_bars) - onset)


def _drums(plan: SongPlan, grid: Grid, bar: int, section: Section, index: int, score: Score) -> None:
    arr = plan.arrangement[section.name]
    spb, k0, parts = grid.steps_per_bar, bar * grid.steps_per_bar, score.parts
    fill = section.fill if index == section.bars - 1 else None
    stride = roll_stride(plan.tempo)
    fill_from = spb - fill_steps(fill, spb, stride) if fill else spb
    if section.name == "drop" and index % CRASH_EVERY == 0 or section.name == "outro" and index == 0:
        parts["crash"].add(grid.step(k0), 1.0)
    hits: list[tuple[int, str, float]] = [(s, "kick", 1.0 if s == 0 else 0.9)
                                          for s in kick_steps(arr.kick, plan.groove, spb) if s < fill_from]
    if arr.snare == "groove":
        hits += [(s, "snare", 0.95) for s in plan.groove.snare if s < fill_from]
        if arr.clap:
            hits += [(s, "clap", 0.9) for s in plan.groove.snare if s < fill_from]
    elif arr.snare == "build_roll":
        hits += [(s, "snare", v) for s, v in build_roll(spb, index, section.bars, stride) if s < fill_from]
    if fill:
        hits += list(fill_hits(fill, spb, stride))
    for s, name, velocity in sorted(hits):
        parts[name].add(grid.step(k0 + s), min(velocity, 1.0))
    hat_end = fill_from if fill == "stop" else spb
    noise = plan.bar_noise[bar % plan.bars].tolist()
    opens = set(plan.groove.open_hat) if arr.open_hat else set()
    for s in hat_steps(arr.hat, plan.groove, spb):
        if s >= hat_end:
            break
        accent = HAT_ACCENT[0 if s % STEPS_PER_BEAT == 0 else 1 if s % 2 == 0 else 2]
        velocity = accent * (1.0 - HUMANIZE * noise[s % len(noise)])
        parts["open_hat" if s in opens else "hat"].add(grid.step(k0 + s), velocity)


def _tones(plan: SongPlan, grid: Grid, bar: int, section: Section, index: int, score: Score) -> None:
    arr = plan.arrangement[section.name]
    spb, k0, parts = grid.steps_per_bar, bar * grid.steps_per_bar, score.parts
    degree = arr.progression[(index // plan.chord_bars) % len(arr.progression)]
    root_pc = pitch_class(plan.key, plan.mode, degree)
    score.bar_roots.append(root_pc)
    stop = section.fill == "stop" and index == section.bars - 1
    end = spb - fill_steps("stop", spb, roll_stride(plan.tempo)) if stop else spb

    def span(s: int, steps: int) -> int:
        return grid.step(k0 + s + steps) - grid.step(k0 + s)

    if arr.bass is not None:
        root = place_in_range(root_pc, *BASS_ROOT_RANGE)
        base = degree_semitones(plan.mode, degree)
        for s, above, steps in bass_notes(arr.bass, spb):
            if s < end:
                midi = root + degree_semitones(plan.mode, degree + above, degree) - base
                parts["bass"].add(grid.step(k0 + s), 1.0 if s == 0 else 0.85,
                                  round(span(s, steps) * LEGATO["bass"]), (midi,))
    chord = chord_pitches(plan.key, plan.mode, degree, plan.chord_size, CHORD_ROOT_LOW)
    sustain = arr.chord == "sustain"
    if not sustain or index % plan.chord_bars == 0:
        for s, steps in chord_hits(arr.chord, spb, plan.chord_bars):
            if s < end:
                parts["chord"].add(grid.step(k0 + s), 0.8, round(span(s, steps) * LEGATO["chord"]), chord)
    tonic = place_in_range(plan.key, *LEAD_TONIC_RANGE)
    low, high = LEAD_DEGREE_RANGE

    def lead_pitch(rel: int) -> tuple[int, ...]:
        d = degree + rel
        while d >= high:  # fold into range by octaves
            d -= 7
        while d < low:
            d += 7
        return (tonic + degree_semitones(plan.mode, d, degree),)

    if arr.lead == "motif":
        bar_in_motif = (0, 1, 0, 2)[index % 4]  # phrase A B A answer
        for step, rel, steps in arr.motif:
            s = step - bar_in_motif * spb
            if 0 <= s < spb:
                parts["lead"].add(grid.step(k0 + s), 0.95 if s == 0 else 0.85,
                                  round(span(s, steps) * LEGATO["lead"]), lead_pitch(rel))
    elif arr.lead == "arp":
        rate = 1 if plan.tempo <= ARP_FAST_TEMPO else 2
        shape = ARP_SHAPES[plan.arp]
        for s in range(0, end, rate):
            tone = shape[((index * spb + s) // rate) % len(shape)]
            parts["lead"].add(grid.step(k0 + s), 0.8 if s % STEPS_PER_BEAT == 0 else 0.65,
                              round(span(s, rate) * LEGATO["arp"]), lead_pitch(tone))


def score_window(plan: SongPlan, start: int, end: int, sample_rate: int) -> Score:
    """All events sounding in absolute samples [start, end) (onsets may precede `start`)."""
    grid = make_grid(plan, sample_rate)
    first = grid.bar_at(max(0, start - round(LOOKBACK_SECONDS * sample_rate)))
    score = Score(first, {name: Part() for name in PART_NAMES}, [], [], [], [], [])
    last = grid.bar_at(max(0, end - 1))
    # Risers can be longer than the lookback: scan further back for those alone.
    for bar in range(grid.bar_at(max(0, start - round(MAX_RISER_SECONDS * sample_rate))), first):
        _riser(plan, grid, bar, *plan.section_at(bar), score)
    for bar in range(first, last + 1):
        section, index = plan.section_at(bar)
        bar_start = grid.bar_start(bar)
        score.bar_starts.append(bar_start)
        score.downbeats.append(bar_start)
        score.beats += [grid.step(bar * grid.steps_per_bar + s) for s in range(0, grid.steps_per_bar, STEPS_PER_BEAT)]
        if index == 0:
            score.section_starts.append(bar_start)
        _riser(plan, grid, bar, section, index, score)
        _drums(plan, grid, bar, section, index, score)
        _tones(plan, grid, bar, section, index, score)
    score.bar_starts.append(grid.bar_start(last + 1))
    return score
