"""Datasets: the infinite procedural stream (later: manifests of real files)."""

from synesthete.data.procedural import (
    VAL_INDEX_BASE,
    ProceduralAVDataset,
    check_visualizers,
    collate_clips,
    make_clip,
)

__all__ = ["VAL_INDEX_BASE", "ProceduralAVDataset", "check_visualizers", "collate_clips", "make_clip"]
