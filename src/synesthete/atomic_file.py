"""Whole-file writes: a reader never sees half a file, and two processes writing the same file
(two evaluations of one run, two runs training the shared evaluation nets at once) each finish
whole, the last one winning, instead of one renaming the other's temp file away."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from synesthete.errors import first_line, naming


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


def save_figure(fig, path: str | Path, **savefig_kw) -> Path:
    """`fig.savefig(path)` whole or not at all, and the figure closed either way (pyplot keeps every
    figure it made open until closed)."""
    import matplotlib.pyplot as plt

    try:
        with replacing(path) as tmp:
            fig.savefig(tmp, **savefig_kw)
    finally:
        plt.close(fig)
    return Path(path)


def file_mode() -> int:
    """The mode open() gives a new file under this process's umask (0o644 under 022), for files that
    writers create owner-only: tempfile.mkstemp, and safetensors since 0.8.1 (safetensors#782), which
    would leave a run's weights unreadable to the rest of a lab sharing its runs/ folder."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def save_weights(state: dict, path: str | Path) -> None:
    """safetensors' save_file, with the file's mode as open() would have made it (`file_mode`); a
    refused write (a full disk) is an OSError naming `path` with safetensors' words, as open()'s is."""
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    try:
        save_file(state, path)
    except SafetensorError as e:
        raise OSError(None, first_line(e), str(path)) from e
    os.chmod(path, file_mode())


def write_text(path: str | Path, text: str) -> Path:
    """`path.write_text(text)`, whole or not at all."""
    with replacing(path) as tmp:
        tmp.write_text(text)
    return Path(path)
