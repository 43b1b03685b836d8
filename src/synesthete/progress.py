"""rich progress bars that still report when stderr is a file or a pipe.

rich draws a live bar only on a terminal; written to a log (`nohup`, CI, `2> run.log`) it shows
nothing until the bar stops, so a 20-minute stage looks hung. There this `Progress` leaves rich's
display off and prints a plain line instead, every `log_every` seconds and when a task finishes;
on a terminal it is rich's own bar.
"""

from __future__ import annotations

import time
from datetime import timedelta

from rich import get_console
from rich import progress as rich_progress
from rich.text import Text


def _clock(seconds: float | None) -> str:
    return "?" if seconds is None else str(timedelta(seconds=round(seconds)))


def _amount(x: float) -> str:
    """Steps as integers; a fraction (generate's seconds of a short clip) with one decimal, not rounded to 0."""
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


class SecondsColumn(rich_progress.ProgressColumn):
    """`1.5/3.0 s` on a bar counting seconds (generate), or `1.5 s` while the total is unknown: audio
    whose header holds no duration, as a FLAC written to a pipe."""

    def render(self, task: rich_progress.Task) -> Text:
        total = "" if task.total is None else f"/{task.total:.1f}"
        return Text(f"{task.completed:.1f}{total} s")


class Progress(rich_progress.Progress):
    def __init__(self, *columns, log_every: float = 30.0, disable: bool = False, **kwargs):
        console = kwargs.get("console") or get_console()
        self.log_lines = not disable and not console.is_terminal
        super().__init__(*columns, disable=disable or self.log_lines, **kwargs)   # lines or rich's bar, not both
        self.log_every = log_every
        self._last_line: dict[rich_progress.TaskID, float] = {}
        self._finished: set[rich_progress.TaskID] = set()

    def update(self, task_id: rich_progress.TaskID, **kwargs) -> None:
        super().update(task_id, **kwargs)
        self._log(task_id)

    def advance(self, task_id: rich_progress.TaskID, advance: float = 1) -> None:
        super().advance(task_id, advance)
        self._log(task_id)

    def line(self, task: rich_progress.Task) -> str:
        """`vae 600/2200 (27%) · loss 0.1044 · 120.9 clips/s · 0:01:05 elapsed, 0:02:55 left`."""
        done = _amount(task.completed) + (f"/{_amount(task.total)} ({task.percentage:.0f}%)" if task.total else "")
        fields = [str(v) for v in task.fields.values() if str(v)]
        left = "" if task.finished else f", {_clock(task.time_remaining)} left"
        return " · ".join([f"{task.description} {done}", *fields, f"{_clock(task.elapsed)} elapsed{left}"])

    def _log(self, task_id: rich_progress.TaskID) -> None:
        if not self.log_lines or task_id in self._finished:
            return
        task, now = self._tasks[task_id], time.monotonic()
        last = self._last_line.setdefault(task_id, now)   # the clock starts at the task's first update
        if task.finished:
            self._finished.add(task_id)                   # its last line, once
        elif now - last < self.log_every:
            return
        self._last_line[task_id] = now
        self.console.print(self.line(task), markup=False, highlight=False, soft_wrap=True)


def track(sequence, description: str, total: float | None = None):
    """rich's `track` through this Progress, on stderr (stdout may be JSON): a bar on a terminal that
    goes when the loop ends, plain lines in a log."""
    from rich.console import Console

    # not rich's Progress.track: its updater thread stops at once when the display is off (a log)
    with Progress(*Progress.get_default_columns(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        for value in sequence:
            yield value
            bar.advance(task)
