"""An exception as the one line a front end prints (`report_errors`): libraries (torchcodec, torch,
W&B) put several lines or none in their messages."""


def first_line(e: BaseException) -> str:
    """The first line of the message, or the exception's class name when it has none."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
