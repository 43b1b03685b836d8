"""Audio-reactive visualizers: features [T, F] + style + time -> frames uint8 [T, 3, H, W].

Each visualizer is a pure, vectorised function of the per-frame features, a style drawn per
clip, and the frame times; see `base.py` for the shared colour and brightness mappings.
"""

from synesthete.visualizers.base import BaseVisualizer, Visualizer
from synesthete.visualizers.geometry import Geometry
from synesthete.visualizers.kaleidoscope import Kaleidoscope
from synesthete.visualizers.metaballs import Metaballs
from synesthete.visualizers.particles import Particles
from synesthete.visualizers.plasma import Plasma
from synesthete.visualizers.rings import Rings
from synesthete.visualizers.spectrum import Spectrum
from synesthete.visualizers.strobe import Strobe
from synesthete.visualizers.tunnel import Tunnel

REGISTRY: dict[str, Visualizer] = {
    v.name: v
    for v in (Geometry(), Kaleidoscope(), Metaballs(), Particles(), Plasma(), Rings(), Spectrum(), Strobe(),
              Tunnel())
}


VISUALIZER_NAMES: tuple[str, ...] = tuple(sorted(REGISTRY))
"""Fixed order of the visualizers for label embeddings; index len(VISUALIZER_NAMES) = none given."""


def visualizer_index(name: str | None) -> int:
    """A visualizer's label index (the null label for None); a ValueError lists the known names."""
    if name is None:
        return len(VISUALIZER_NAMES)
    get_visualizer(name)
    return VISUALIZER_NAMES.index(name)


def get_visualizer(name: str) -> Visualizer:
    """The registered visualizer `name`; a ValueError lists the known names."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown visualizer {name!r} (known: {', '.join(sorted(REGISTRY))})") from None


__all__ = ["REGISTRY", "VISUALIZER_NAMES", "BaseVisualizer", "Visualizer", "get_visualizer", "visualizer_index"]
