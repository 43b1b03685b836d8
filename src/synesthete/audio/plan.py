"""A song's plan: every random choice a song makes, drawn once from its seed.

`plan_song(seed)` fixes tempo, key, mode, meter, swing, sound designs, the section form and
what each instrument plays in each section type. Rendering (score.py) is then a pure function
of the plan and the time window, so any window of any song can be rendered on its own.
"""

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Literal, Sequence, TypeVar

import torch

from synesthete.audio.designs import DESIGNS, INSTRUMENTS
from synesthete.audio.patterns import (
    GROOVES,
    STEPS_PER_BEAT,
    ArpShape,
    BassStyle,
    ChordRhythm,
    FillKind,
    Groove,
    HatMode,
    KickMode,
    LeadMode,
    MotifNote,
    SnareMode,
    make_motif,
)
from synesthete.audio.riser import MAX_RISER_SECONDS
from synesthete.audio.theory import NOTE_NAMES, PROGRESSIONS, Mode

SectionName = Literal["intro", "verse", "build", "drop", "breakdown", "outro"]

TEMPO_RANGE = (70, 180)  # BPM, inclusive
THREE_FOUR_PROB = 0.15
SWING_PROB = 0.5
SWING_RANGE = (0.08, 0.3)  # delay of off-beat 16ths, as a fraction of a 16th
SONG_SECONDS = (120.0, 300.0)  # forms are stretched (bars x2) or cut (16 -> 8 bars) into this
BAR_NOISE = 32  # per-bar uniforms for humanizing (hat velocities)

# Section forms as (section, bars).
TEMPLATES: tuple[tuple[tuple[SectionName, int], ...], ...] = (
    (("intro", 8), ("verse", 8), ("build", 8), ("drop", 16), ("breakdown", 8), ("build", 8), ("drop", 16),
     ("outro", 8)),
    (("intro", 8), ("build", 8), ("drop", 16), ("breakdown", 8), ("build", 8), ("drop", 16), ("outro", 8)),
    (("intro", 4), ("verse", 16), ("build", 4), ("drop", 16), ("verse", 8), ("breakdown", 8), ("build", 8),
     ("drop", 16), ("outro", 8)),
    (("intro", 8), ("verse", 8), ("drop", 8), ("verse", 8), ("build", 8), ("drop", 16), ("breakdown", 4),
     ("drop", 8), ("outro", 8)),
)

# Section energy at its first and last bar (the `energy` feature ramps linearly between).
ENERGY: dict[SectionName, tuple[float, float]] = {
    "intro": (0.25, 0.35),
    "verse": (0.5, 0.55),
    "build": (0.45, 0.9),
    "drop": (1.0, 1.0),
    "breakdown": (0.3, 0.3),
    "outro": (0.35, 0.15),
}

FILLS: tuple[FillKind, ...] = ("roll", "roll8", "kick_snare", "stop")
BUILD_FILLS: tuple[FillKind | None, ...] = (None, "stop")
VERSE_LEAD_PROB = 0.6  # share of songs whose verses carry the melody (the rest save it for the drop)
DROP_CLAP_PROB = 0.7  # share of songs that layer a clap on the drop's backbeat
SUSTAINED_CHORDS = ("pad", "organ")  # chord designs that suit held chords rather than stabs
T = TypeVar("T")


@dataclass(frozen=True)
class Arrangement:
    """What each instrument plays in one section type (shared by every section of that type)."""

    kick: KickMode
    snare: SnareMode
    clap: bool  # clap layered on the snare steps
    hat: HatMode
    open_hat: bool
    bass: BassStyle | None
    chord: ChordRhythm
    lead: LeadMode
    motif: tuple[MotifNote, ...]  # the lead melody when lead == "motif"
    progression: tuple[int, ...]  # chord roots as scale degrees, one per chord_bars bars


@dataclass(frozen=True)
class Section:
    name: SectionName
    start_bar: int
    bars: int
    fill: FillKind | None  # drum fill in the last bar
    riser_bars: int  # a riser over the last riser_bars bars (0: none)


@dataclass(frozen=True)
class SongPlan:
    seed: int
    tempo: int  # BPM (an integer, so the step grid is exact in integer samples)
    key: int  # tonic pitch class, 0 = C
    mode: Mode
    meter: int  # beats per bar: 4 or 3
    swing: float  # off-beat 16ths delayed by this fraction of a 16th
    designs: dict[str, int]  # instrument -> index into DESIGNS[instrument]
    groove: Groove
    chord_bars: int  # bars per chord
    chord_size: int  # 3 = triads, 4 = sevenths
    arp: ArpShape
    sections: tuple[Section, ...]
    arrangement: dict[SectionName, Arrangement]
    bar_noise: torch.Tensor  # [bars, BAR_NOISE] uniforms, row b % bars humanizes bar b

    @property
    def steps_per_bar(self) -> int:
        return STEPS_PER_BEAT * self.meter

    @property
    def bars(self) -> int:
        """Bars in one pass of the form; rendering past it loops the form."""
        return self.sections[-1].start_bar + self.sections[-1].bars

    @property
    def bar_seconds(self) -> float:
        return self.meter * 60.0 / self.tempo

    @property
    def duration(self) -> float:
        """Nominal song length in seconds."""
        return self.bars * self.bar_seconds

    def design(self, instrument: str) -> str:
        return DESIGNS[instrument][self.designs[instrument]]

    def section_at(self, bar: int) -> tuple[Section, int]:
        """The section playing at absolute bar `bar` (looping the form) and the bar index inside it."""
        local = bar % self.bars
        section = self.sections[bisect_right([s.start_bar for s in self.sections], local) - 1]
        return section, local - section.start_bar

    def meta(self) -> dict:
        """JSON-serialisable song-level facts for AudioClip.meta."""
        return {
            "song_seed": self.seed,
            "tempo": self.tempo,
            "key": self.key,
            "key_name": NOTE_NAMES[self.key],
            "mode": self.mode,
            "meter": self.meter,
            "swing": self.swing,
            "designs": dict(self.designs),
            "groove": self.groove.name,
            "duration": self.duration,
        }


def _pick(draw: Callable[[], float], options: Sequence[T]) -> T:
    return options[min(int(draw() * len(options)), len(options) - 1)]


def _fit_length(form: tuple[tuple[SectionName, int], ...], bar_seconds: float
                ) -> tuple[tuple[SectionName, int], ...]:
    """Stretch a fast song's form (every section x2) or cut a slow one's (16-bar sections -> 8)."""
    seconds = sum(bars for _, bars in form) * bar_seconds
    if seconds < SONG_SECONDS[0]:
        return tuple((name, 2 * bars) for name, bars in form)
    if seconds > SONG_SECONDS[1]:
        return tuple((name, 8 if bars == 16 else bars) for name, bars in form)
    return form


def _sections(draw: Callable[[], float], bar_seconds: float) -> tuple[Section, ...]:
    form = _fit_length(_pick(draw, TEMPLATES), bar_seconds)
    sections: list[Section] = []
    start = 0
    for j, (name, bars) in enumerate(form):
        following = form[(j + 1) % len(form)][0]
        riser = 0
        if following == "drop":  # longest of 4/2/1 bars that fits the section and the riser table
            wanted = _pick(draw, (2, 4)) if name == "build" else _pick(draw, (1, 2))
            riser = next((n for n in (4, 2, 1) if n <= min(wanted, bars) and n * bar_seconds <= MAX_RISER_SECONDS), 0)
        fills = BUILD_FILLS if name == "build" else FILLS  # a build already rolls into what follows
        sections.append(Section(name, start, bars, _pick(draw, fills), riser))
        start += bars
    return tuple(sections)


def _arrangements(draw: Callable[[], float], mode: Mode, spb: int, chord_design: str
                  ) -> dict[SectionName, Arrangement]:
    """What plays in each section type: sparse intro, grooving verse, rolling build, full drop."""
    main, alt = _pick(draw, PROGRESSIONS[mode]), _pick(draw, PROGRESSIONS[mode])
    held = chord_design in SUSTAINED_CHORDS
    rhythms: tuple[ChordRhythm, ...] = ("sustain", "halves") if held else ("quarters", "offbeat_stabs", "syncopated")
    return {
        "intro": Arrangement(
            kick=_pick(draw, ("off", "downbeat")), snare="off", clap=False, hat="8ths", open_hat=False,
            bass=_pick(draw, (None, "whole")), chord="sustain", lead="off", motif=(), progression=main),
        "verse": Arrangement(
            kick="groove", snare="groove", clap=False, hat="8ths", open_hat=False,
            bass=_pick(draw, ("half", "pulse8", "whole")), chord="halves" if held else _pick(draw, rhythms),
            lead="motif" if draw() < VERSE_LEAD_PROB else "off", motif=make_motif(draw, spb, 0.45, 4),
            progression=main),
        "build": Arrangement(
            kick="quarters", snare="build_roll", clap=False, hat="16ths", open_hat=False, bass="pulse8",
            chord="halves" if held else "quarters", lead="arp", motif=(), progression=main),
        "drop": Arrangement(
            kick="groove", snare="groove", clap=draw() < DROP_CLAP_PROB, hat=_pick(draw, ("16ths", "groove")),
            open_hat=True, bass=_pick(draw, ("pulse8", "offbeat", "octaves", "syncopated")),
            chord=_pick(draw, rhythms), lead="motif", motif=make_motif(draw, spb, 0.75, 4), progression=main),
        "breakdown": Arrangement(
            kick="off", snare="off", clap=False, hat=_pick(draw, ("off", "quarters")), open_hat=False,
            bass=_pick(draw, (None, "whole")), chord="sustain", lead="motif", motif=make_motif(draw, spb, 0.3, 8),
            progression=alt),
        "outro": Arrangement(
            kick="groove", snare="off", clap=False, hat="8ths", open_hat=False, bass="whole", chord="sustain",
            lead="off", motif=(), progression=main),
    }


@lru_cache(maxsize=64)
def plan_song(song_seed: int) -> SongPlan:
    """Draw a song's plan from a torch.Generator seeded with `song_seed` (no global RNG)."""
    g = torch.Generator().manual_seed(song_seed)
    draw = iter(torch.rand(1024, generator=g).tolist()).__next__  # one draw, consumed in order
    lo, hi = TEMPO_RANGE
    tempo = lo + min(int(draw() * (hi - lo + 1)), hi - lo)
    key = min(int(draw() * 12), 11)
    mode: Mode = _pick(draw, ("major", "minor"))
    meter = 3 if draw() < THREE_FOUR_PROB else 4
    swing = 0.0 if draw() < SWING_PROB else round(SWING_RANGE[0] + (SWING_RANGE[1] - SWING_RANGE[0]) * draw(), 3)
    designs = {name: min(int(draw() * len(DESIGNS[name])), len(DESIGNS[name]) - 1) for name in INSTRUMENTS}
    groove = _pick(draw, GROOVES[meter])
    bar_seconds = meter * 60.0 / tempo
    chord_bars = 2 if bar_seconds < 2.0 and draw() < 0.5 else 1
    chord_size = _pick(draw, (3, 3, 4))
    arp: ArpShape = _pick(draw, ("up", "down", "updown"))
    sections = _sections(draw, bar_seconds)
    arrangement = _arrangements(draw, mode, STEPS_PER_BEAT * meter, DESIGNS["chord"][designs["chord"]])
    bars = sections[-1].start_bar + sections[-1].bars
    return SongPlan(song_seed, tempo, key, mode, meter, swing, designs, groove, chord_bars, chord_size, arp,
                    sections, arrangement, torch.rand(bars, BAR_NOISE, generator=g))
