"""Progress written to a file or a pipe: plain lines instead of a bar that shows only at the end."""

import io

import pytest
from rich.console import Console

from synesthete.progress import Progress


def _run(console: Console, log_every: float, transient: bool = True) -> None:
    with Progress(console=console, log_every=log_every, transient=transient) as bar:
        task = bar.add_task("vae", total=4, info="")
        for step in range(1, 5):
            bar.update(task, completed=step, info=f"loss {1 / step:.2f}")


def test_a_log_gets_a_line_per_interval_and_one_when_done():
    log = io.StringIO()
    _run(Console(file=log, force_terminal=False, width=40), log_every=0.0)   # narrow: lines must not wrap
    lines = [line for line in log.getvalue().splitlines() if line.startswith("vae ")]
    assert [line.split(" · ")[0] for line in lines] == ["vae 1/4 (25%)", "vae 2/4 (50%)", "vae 3/4 (75%)",
                                                         "vae 4/4 (100%)"]
    assert "loss 0.33" in lines[2] and "left" in lines[2]
    assert "left" not in lines[3] and "elapsed" in lines[3]


def test_a_log_line_shows_the_seconds_of_a_short_clip():
    """generate counts seconds: 0.5 of a 1 s clip is 0.5/1, not 0/1 (nor 0/0 for a shorter one)."""
    log = io.StringIO()
    with Progress(console=Console(file=log, force_terminal=False, width=200), log_every=0.0) as bar:
        task = bar.add_task("generate", total=0.75)
        bar.update(task, completed=0.5)
        bar.update(task, completed=0.75)
    assert [line.split(" · ")[0] for line in log.getvalue().splitlines()] == ["generate 0.5/0.8 (67%)",
                                                                               "generate 0.8/0.8 (100%)"]


def test_a_long_interval_leaves_only_the_finished_line():
    log = io.StringIO()
    _run(Console(file=log, force_terminal=False, width=200), log_every=3600.0)
    assert [line.split(" · ")[0] for line in log.getvalue().splitlines() if line.startswith("vae ")] == ["vae 4/4 (100%)"]


@pytest.mark.parametrize("transient", [True, False])
def test_a_log_gets_our_lines_and_nothing_of_rich(transient):
    log = io.StringIO()
    _run(Console(file=log, force_terminal=False, width=200), log_every=3600.0, transient=transient)
    assert log.getvalue().splitlines() == [log.getvalue().splitlines()[0]]       # no stray blank line
    assert log.getvalue().startswith("vae 4/4 (100%) · loss 0.25 · ")            # nor rich's final bar


def test_a_log_line_on_a_failed_stage_is_none():
    log = io.StringIO()
    with pytest.raises(RuntimeError):
        with Progress(console=Console(file=log, force_terminal=False), transient=True) as bar:
            bar.add_task("eval", total=None)
            raise RuntimeError("boom")
    assert log.getvalue() == ""                     # the error line that follows is the only one


def test_a_terminal_gets_rich_bar_and_no_plain_lines():
    log = io.StringIO()
    _run(Console(file=log, force_terminal=True, width=200), log_every=0.0)
    assert " · 0:00:00 elapsed" not in log.getvalue()


def test_a_sampler_with_progress_reports_in_a_log(capsys):
    """The samplers' `progress=True` goes through the same Progress: in a log, a line when sampling ends."""
    import torch

    from synesthete.diffusion import sample_euler_flow

    x = sample_euler_flow(lambda x, t: torch.zeros_like(x), torch.ones(1, 2), 3, progress=True)
    assert torch.allclose(x, torch.zeros(1, 2))
    captured = capsys.readouterr()
    assert captured.out == "" and "Euler (flow) 3/3 (100%)" in captured.err


def test_a_slow_loop_under_track_reports_in_a_log(capsys):
    """track's finished line does not depend on the loop outrunning a thread (rich's own track stops
    updating at once when its display is off, so a slow loop in a log ended with no line)."""
    import time

    from synesthete.progress import track

    for _ in track(range(3), "preview", total=3):
        time.sleep(0.15)
    assert "preview 3/3 (100%)" in capsys.readouterr().err
