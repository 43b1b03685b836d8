"""An exception as the one line a front end prints (`report_errors`): libraries (torchcodec, torch,
W&B) put several lines or none in their messages; and argparse's usage errors as one line too."""

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def first_line(e: BaseException) -> str:
    """The first line of the message, or the exception's class name when it has none."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


@contextmanager
def naming(path: str | Path, stand_ins: tuple[str | Path, ...] = ()) -> Iterator[None]:
    """An OSError raised inside without a file name (a full disk at a write or a flush) or naming one of
    `stand_ins` (a temp file the user never asked for) is raised again naming `path`, so its one line
    says which file could not be written."""
    try:
        yield
    except OSError as e:
        if e.filename is None or str(e.filename) in {str(s) for s in stand_ins}:
            raise OSError(e.errno, e.strerror or first_line(e), str(path)) from e
        raise


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser whose usage errors (an unknown flag, `--clips abc`, a choice not offered) are
    one line and exit code 2, as every other bad input, rather than the usage block and then the
    line; --help prints the usage as before. Subcommands' parsers are of this class too."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")
