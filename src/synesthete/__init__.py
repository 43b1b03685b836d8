"""Synesthete: procedural audio-visual data and audio-to-video generative models."""

__version__ = "0.1.0"
