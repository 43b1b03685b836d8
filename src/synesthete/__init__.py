"""Synesthete: procedural audio-visual data and audio-to-video generative models."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("synesthete")   # pyproject.toml's, the one place it is written
except PackageNotFoundError:              # a source tree on sys.path without `uv sync`
    __version__ = "unknown"
