"""One process trains a run folder at a time.

Two `run_pipeline.py` on the same run (a second terminal, a forgotten `nohup`) would resume from
the same checkpoint, race on its temp folders and prune each other's steps. `hold_run` takes an
advisory lock on `RUN/.lock` (flock: the system frees it when the process dies, so a killed run
never leaves a stale lock) and a second process stops at once with one line naming the first;
`holder` tells `synesthete runs` which runs are being trained now.
Where flock is missing (Windows) runs go unguarded.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Iterator

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".lock"


class RunBusyError(RuntimeError):
    """Another live process holds the run folder."""


@contextlib.contextmanager
def hold_run(run_dir: Path) -> Iterator[None]:
    """Hold `run_dir` for the duration of the block, or raise RunBusyError naming the holder."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    with open(run_dir / LOCK_NAME, "a+") as f:
        if not _lock(f, run_dir):
            yield
            return
        f.truncate(0)
        f.write(f"process {os.getpid()} (since {time.strftime('%Y-%m-%d %H:%M')})")
        f.flush()
        try:
            yield
        finally:
            f.truncate(0)
            fcntl.flock(f, fcntl.LOCK_UN)


def _lock(f, run_dir: Path) -> bool:
    """Take the lock: True; False on a filesystem without locks (some network and FUSE mounts), where
    the run goes unguarded rather than not at all; RunBusyError while a live process holds it."""
    for _ in range(3):  # `holder` probing at this instant holds the lock for microseconds
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            time.sleep(0.05)
        except OSError:   # ENOLCK, EOPNOTSUPP
            return False
    f.seek(0)
    who = f.read().strip() or "another process"
    raise RunBusyError(f"{run_dir} is in use by {who}: wait for it to finish, or give this run another --name")


def holder(run_dir: Path) -> str | None:
    """Who holds `run_dir` now ("process 123 (since ...)"), or None when no live process does."""
    path = Path(run_dir) / LOCK_NAME
    if fcntl is None or not path.is_file():  # pragma: no cover - Windows
        return None
    try:
        with open(path) as f:
            try:
                fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return f.read().strip() or "another process"
            fcntl.flock(f, fcntl.LOCK_UN)
    except OSError:  # an unreadable lock file: a listing goes on without the mark
        return None
    return None
