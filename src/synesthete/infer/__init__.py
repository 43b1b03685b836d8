"""Generation: trained VAE + audio-conditioned DiT -> video frames, windowed."""

from synesthete.infer.generate import VideoGenerator

__all__ = ["VideoGenerator"]
