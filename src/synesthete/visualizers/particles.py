"""Particles: shells of glowing sparks orbiting a hot core, each burst outward by its instrument.

Shell k is N_k sparks on a circle: an angular wave cos(N theta - phase) (no per-pixel trig)
times a radial neon band. An onset throws the shell outward and stretches its sparks into
streaks; the decay pulls it back. Mappings: tempo -> orbit speed; kick -> inner shell burst
+ core pulse; snare/clap -> second shell burst + flash; hat -> sparkle shell flicks out;
bass/chord/lead onsets -> fourth shell burst; bass pitch -> where that shell's sparks sit
on their orbit; lead pitch -> hue; energy -> outer shells fade in (more sparks); crash ->
every shell bursts.
"""

from __future__ import annotations

from typing import Any

import torch

from synesthete.visualizers.base import HIGHLIGHT, BaseVisualizer, Layers, randint, sign, uniform
from synesthete.visualizers.draw import TAU, glow_, neon_, per_frame, polar, ramp_, wave
from synesthete.visualizers.signals import Drive

# Per shell: driving envelope, burst distance, energy needed to show (0 = always), colour.
SHELLS = (("kick", 0.13, 0.0, 0), ("snare", 0.11, 0.0, 1), ("hat", 0.06, 0.0, HIGHLIGHT),
          ("tone", 0.09, 0.3, 2), ("ambient", 0.0, 0.55, 3))


class Particles(BaseVisualizer):
    name = "particles"

    def sample_params(self, gen: torch.Generator) -> dict[str, Any]:
        radii = sorted(uniform(gen, 0.18, 0.85) for _ in SHELLS)
        return {
            "counts": [randint(gen, 6, 20) for _ in SHELLS],  # sparks per shell
            "radii": radii,  # resting radius per shell
            "spins": [sign(gen) * uniform(gen, 0.01, 0.04) for _ in SHELLS],  # turns per beat
            "spark": uniform(gen, 0.025, 0.04),  # spark radius
        }

    def draw(self, d: Drive, style: dict[str, Any], size: int) -> Layers:
        px = 2.0 / size
        r, _ = polar(size)
        layers: Layers = []
        for (signal, throw, need, colour), n, rest, spin in zip(
                SHELLS, style["counts"], style["radii"], style["spins"]):
            env = getattr(d, signal) if signal != "ambient" else torch.zeros_like(d.t)
            weight = ramp_(d.energy.clone(), need - 0.15, need) if need else torch.ones_like(d.t)
            turn = TAU * spin * d.beats + (2.0 * d.bass_lift if signal == "tone" else 0.0)
            radius = rest + throw * env + 0.1 * d.crash  # [T]
            spark = max(style["spark"], 1.2 * px)
            # Angular profile: 1 at each spark's centre, 0 beyond its angular half-width.
            half_angle = (spark / radius).clamp(max=torch.pi / n)
            edge = per_frame(torch.cos(n * half_angle))
            dots = ramp_(wave(size, n, n * turn), edge, 1.0).square_()
            # Radial profile: a neon band, stretched into a streak while the shell flies.
            band = neon_(torch.sub(r, per_frame(radius)), per_frame(spark * (1.0 + 0.8 * env)))
            dots.mul_(band).mul_(per_frame(weight * (0.8 + 0.4 * env)))
            layers.append((dots, colour))
        core = glow_(r.expand(d.frames, -1, -1).clone(), per_frame(0.08 + 0.06 * d.kick))
        core.mul_(per_frame(0.4 + 0.6 * d.kick))
        layers.append((core, HIGHLIGHT))
        return layers
