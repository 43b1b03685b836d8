"""Rhythm and melody material on the 16th-note grid: grooves, fills, bass and chord rhythms, motifs.

A bar has `4 * meter` steps (16 in 4/4, 12 in 3/4). Patterns are tuples of step indices
(or (step, ...) tuples); the score (score.py) turns them into sample positions.
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Literal

KickMode = Literal["off", "downbeat", "quarters", "groove"]
SnareMode = Literal["off", "groove", "build_roll"]
HatMode = Literal["off", "quarters", "8ths", "16ths", "groove"]
BassStyle = Literal["whole", "half", "pulse8", "pulse16", "offbeat", "octaves", "syncopated"]
ChordRhythm = Literal["sustain", "halves", "quarters", "offbeat_stabs", "syncopated"]
LeadMode = Literal["off", "motif", "arp"]
FillKind = Literal["roll", "roll8", "kick_snare", "stop"]
ArpShape = Literal["up", "down", "updown"]

STEPS_PER_BEAT = 4  # the grid is 16th notes


@dataclass(frozen=True)
class Groove:
    """One drum-kit feel: steps (within a bar) of kick, snare, closed and open hats."""

    name: str
    kick: tuple[int, ...]
    snare: tuple[int, ...]
    hat: tuple[int, ...]
    open_hat: tuple[int, ...]


GROOVES: dict[int, tuple[Groove, ...]] = {
    4: (
        Groove("four_floor", (0, 4, 8, 12), (4, 12), tuple(range(16)), (2, 6, 10, 14)),
        Groove("backbeat", (0, 8, 10), (4, 12), tuple(range(0, 16, 2)), (14,)),
        Groove("breakbeat", (0, 3, 10), (4, 12), (0, 2, 4, 6, 7, 8, 10, 12, 14, 15), (6,)),
        Groove("halftime", (0, 6, 11), (8,), tuple(range(16)), (14,)),
    ),
    3: (
        Groove("waltz", (0,), (4, 8), tuple(range(0, 12, 2)), (10,)),
        Groove("six_eight", (0, 6), (6,), tuple(range(0, 12, 2)), (4,)),
        Groove("three_rock", (0, 7), (4, 8), tuple(range(12)), (2, 6, 10)),
    ),
}

# How many 16ths at the end of a section's last bar each fill takes over (at stride 1).
FILL_STEPS: dict[FillKind, int] = {"roll": 4, "roll8": 8, "kick_snare": 4, "stop": 2}

# Above this tempo a 16th lasts < 100 ms and rolls smear into one onset (measured with
# analysis.detect_onsets), so rolls and fills move to 8ths.
FAST_ROLL_TEMPO = 150

# Lead arpeggio: which chord tone (as a scale degree above the chord root) each step plays.
ARP_SHAPES: dict[ArpShape, tuple[int, ...]] = {
    "up": (0, 2, 4, 7),
    "down": (7, 4, 2, 0),
    "updown": (0, 2, 4, 7, 4, 2),
}

CHORD_TONES: tuple[int, ...] = (-3, 0, 2, 4, 7, 9)  # degrees that are chord tones near the root
MOTIF_LOW, MOTIF_HIGH = -3, 9  # motif degree range relative to the chord root


def roll_stride(tempo: int) -> int:
    """1 (16th rolls) up to FAST_ROLL_TEMPO BPM, else 2 (8ths)."""
    return 1 if tempo <= FAST_ROLL_TEMPO else 2


def fill_steps(kind: FillKind, spb: int, stride: int) -> int:
    """Steps at the end of a section's last bar that a fill takes over."""
    return min(spb, FILL_STEPS[kind] * stride)


def fill_hits(kind: FillKind, spb: int, stride: int) -> tuple[tuple[int, str, float], ...]:
    """(step, instrument, velocity) of a fill at the end of a bar; `stride` 2 turns 16ths into 8ths."""
    first = spb - fill_steps(kind, spb, stride)
    if kind == "roll":
        return tuple((first + j * stride, "snare", 0.7 + 0.1 * j) for j in range(4))
    if kind == "roll8":
        eighths = tuple((first + j * stride, "snare", 0.65 + 0.05 * j) for j in (0, 2))
        return eighths + tuple((first + (4 + j) * stride, "snare", 0.75 + 0.08 * j) for j in range(4) if
                               first + (4 + j) * stride < spb)
    if kind == "kick_snare":
        return tuple((first + j * stride, "kick" if j % 2 == 0 else "snare", 0.85 + 0.05 * j) for j in range(4))
    return ()  # "stop": everything drops out before the next section


def build_roll(spb: int, bar: int, bars: int, stride: int) -> tuple[tuple[int, float], ...]:
    """Snare (step, velocity) in bar `bar` of a build: quarters, 8ths, then 16ths (or 8ths if stride 2)."""
    progress = bar / bars
    every = 4 if progress < 0.5 else 2 if progress < 0.75 else stride
    return tuple((s, 0.6 + 0.4 * (bar * spb + s) / (bars * spb)) for s in range(0, spb, every))


def hat_steps(mode: HatMode, groove: Groove, spb: int) -> tuple[int, ...]:
    if mode == "off":
        return ()
    if mode == "groove":
        return groove.hat
    every = {"quarters": 4, "8ths": 2, "16ths": 1}[mode]
    return tuple(range(0, spb, every))


def kick_steps(mode: KickMode, groove: Groove, spb: int) -> tuple[int, ...]:
    if mode == "off":
        return ()
    if mode == "downbeat":
        return (0,)
    if mode == "quarters":
        return tuple(range(0, spb, STEPS_PER_BEAT))
    return groove.kick


ROOT, FIFTH, OCTAVE = 0, 4, 7  # bass notes as scale steps above the chord root


@lru_cache(maxsize=None)
def bass_notes(style: BassStyle, spb: int) -> tuple[tuple[int, int, int], ...]:
    """(step, scale steps above the chord root, length in steps) of one bar of bass."""
    if style == "whole":
        return ((0, ROOT, spb),)
    if style == "half":
        return ((0, ROOT, spb // 2), (spb // 2, ROOT, spb // 2))
    if style == "pulse8":
        return tuple((s, ROOT, 2) for s in range(0, spb, 2))
    if style == "pulse16":
        return tuple((s, ROOT, 1) for s in range(spb))
    if style == "offbeat":
        return tuple((s, ROOT, 2) for s in range(2, spb, 4))
    if style == "octaves":
        return tuple((s, OCTAVE * ((s // 2) % 2), 2) for s in range(0, spb, 2))
    if spb == 16:  # syncopated
        return ((0, ROOT, 3), (3, ROOT, 3), (6, FIFTH, 2), (10, ROOT, 2), (12, OCTAVE, 2), (14, FIFTH, 2))
    return ((0, ROOT, 3), (3, ROOT, 3), (6, FIFTH, 2), (8, ROOT, 2), (10, OCTAVE, 2))


@lru_cache(maxsize=None)
def chord_hits(rhythm: ChordRhythm, spb: int, chord_bars: int) -> tuple[tuple[int, int], ...]:
    """(step, length in steps) of the chord hits in one bar ("sustain" holds for chord_bars)."""
    if rhythm == "sustain":
        return ((0, spb * chord_bars),)
    if rhythm == "halves":
        return ((0, spb // 2), (spb // 2, spb // 2))
    if rhythm == "quarters":
        return tuple((s, 3) for s in range(0, spb, 4))
    if rhythm == "offbeat_stabs":
        return tuple((s, 1) for s in range(2, spb, 4))
    if spb == 16:  # syncopated
        return ((0, 2), (3, 2), (6, 2), (10, 2), (12, 3))
    return ((0, 2), (3, 2), (6, 3), (10, 2))


MotifNote = tuple[int, int, int]  # (step within the motif, degree above the chord root, length in steps)


def make_motif(draw: Callable[[], float], spb: int, density: float, max_len: int) -> tuple[MotifNote, ...]:
    """A 3-bar melody (call, continuation, answer) played as bars A B A C over a 4-bar phrase.

    Degrees are relative to each bar's chord root, so the tune follows the harmony; strong
    beats land on chord tones, weak steps move by step, and the answer ends on the root.
    """
    onsets: list[tuple[int, int]] = []
    degree = 0
    for bar in range(3):
        for s in range(spb):
            weight = 1.0 if s == 0 else 0.7 if s % 4 == 0 else 0.4 if s % 2 == 0 else 0.1
            if not (s == 0 and bar == 0) and draw() >= density * weight:
                continue
            if s % 4 == 0:
                target = degree + int(draw() * 5) - 2
                degree = min(CHORD_TONES, key=lambda d: abs(d - target))
            else:
                degree = max(MOTIF_LOW, min(MOTIF_HIGH, degree + (-2, -1, 1, 2)[int(draw() * 4)]))
            onsets.append((bar * spb + s, degree))
    # Resolve: the answer bar's last note moves to the root (or its octave).
    if onsets and onsets[-1][0] >= 2 * spb:
        onsets[-1] = (onsets[-1][0], 0 if onsets[-1][1] < 4 else 7)
    notes = []
    for j, (step, deg) in enumerate(onsets):
        bar_end = (step // spb + 1) * spb
        nxt = onsets[j + 1][0] if j + 1 < len(onsets) else bar_end
        notes.append((step, deg, max(1, min(min(nxt, bar_end) - step, max_len))))
    return tuple(notes)
