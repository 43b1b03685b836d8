"""Whole-file writes: a reader never sees half a file, and two processes writing the same file
(two evaluations of one run, two runs training the shared evaluation nets at once) each finish
whole, the last one winning, instead of one renaming the other's temp file away."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from synesthete.errors import naming


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Yield a temp path beside `path`, private to this call; rename it onto `path` when the block
    ends without error, remove it otherwise. The temp keeps `path`'s suffix (matplotlib picks the
    format from it) and starts with a dot, so listings pass over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}-{secrets.token_hex(4)}{path.suffix}")
    try:
        with naming(path, stand_ins=(tmp,)):   # a full disk: no file name (PIL), or the temp's
            yield tmp
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> Path:
    """`path.write_text(text)`, whole or not at all."""
    with replacing(path) as tmp:
        tmp.write_text(text)
    return Path(path)
