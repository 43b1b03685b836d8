"""Every command's --help prints its usage: argparse %-formats help strings, so one stray '%' breaks it."""

import pytest

from synesthete.cli import COMMANDS, main as cli_main

from conftest import run_pipeline  # noqa: E402

SUBCOMMANDS = sorted(COMMANDS)


@pytest.mark.parametrize("argv", [["--help"], *([name, "--help"] for name in SUBCOMMANDS)], ids=lambda a: " ".join(a))
def test_help_prints_usage(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli_main(argv)
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: synesthete")
    for name in SUBCOMMANDS if argv == ["--help"] else []:
        assert name in out


def test_pipeline_help_prints_usage(capsys):
    with pytest.raises(SystemExit) as exit_:
        run_pipeline.main(["--help"])
    assert exit_.value.code == 0
    assert "--preset" in capsys.readouterr().out
