"""Crash reports that carry no vault data.

An unhandled exception is a bug. Of it we keep only what a developer needs to find the
place: the exception's type and, for each frame, the file, the line number and the function
name. Never the message (it may quote a title, a name or a passphrase), never a variable,
never the source line. No time stamp either: the report must not say when the app was used.

The report replaces any earlier one, as ``crash-report.txt`` (mode 0600) in the user's
state directory (mode 0700).
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from types import TracebackType

from securesubmit import __version__

REPORT_NAME = "crash-report.txt"
MAX_CHAIN = 5
MAX_FRAMES = 60


def default_crash_dir() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("securesubmit", appauthor=False))


def short_path(filename: str) -> str:
    """A source path without the user's home or install location (they may name the user)."""
    if filename.startswith("<"):
        return filename
    parts = Path(filename).parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            return "/".join(parts[parts.index(marker) + 1 :])
    if "securesubmit" in parts:
        index = len(parts) - 1 - parts[::-1].index("securesubmit")
        return "/".join(parts[index:])
    return "/".join(parts[-2:])


def _type_name(error: BaseException) -> str:
    kind = type(error)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def _frames(tb: TracebackType | None) -> list[str]:
    lines = []
    while tb is not None:
        code = tb.tb_frame.f_code
        lines.append(f"  {short_path(code.co_filename)}:{tb.tb_lineno} in {code.co_name}")
        tb = tb.tb_next
    if len(lines) > MAX_FRAMES:
        skipped = len(lines) - MAX_FRAMES
        half = MAX_FRAMES // 2
        lines = [*lines[:half], f"  ... {skipped} frames ...", *lines[-half:]]
    return lines


def unwrap(error: BaseException) -> BaseException:
    """The real error inside Textual's worker wrapper, if any."""
    inner = getattr(error, "error", None)
    if type(error).__name__ == "WorkerFailed" and isinstance(inner, BaseException):
        return inner
    return error


def describe(error: BaseException) -> list[str]:
    """Types and frames only, innermost last, for the error and what it came from."""
    chain: list[tuple[str, BaseException]] = []
    current: BaseException | None = unwrap(error)
    heading = "Error"
    while current is not None and len(chain) < MAX_CHAIN:
        chain.append((heading, current))
        if current.__cause__ is not None:
            heading, current = "It was caused by", current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            heading, current = "It happened while handling", current.__context__
        else:
            current = None
    lines: list[str] = []
    for heading, item in chain:
        lines.append(f"{heading}: {_type_name(item)} (message withheld)")
        lines.extend(_frames(item.__traceback__))
        if isinstance(item, BaseExceptionGroup):
            for sub in item.exceptions[:MAX_CHAIN]:
                lines.append(f"  contains: {_type_name(sub)}")
                lines.extend("  " + line for line in _frames(sub.__traceback__))
        lines.append("")
    return lines


def render_report(error: BaseException) -> str:
    header = [
        "SecureSubmit crash report",
        f"version: {__version__}",
        f"python: {platform.python_version()} on {sys.platform}",
        "This report holds no message text, no variable values and no vault data.",
        "Frames are listed outermost first, as in a Python traceback.",
        "",
    ]
    return "\n".join(header + describe(error))


def write_crash_report(error: BaseException, directory: Path | None = None) -> Path:
    """Write the scrubbed report; returns its path. Raises OSError if it cannot be written."""
    directory = Path(directory) if directory is not None else default_crash_dir()
    if not directory.is_dir():
        directory.mkdir(parents=True, mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)
    path = directory / REPORT_NAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, render_report(error).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return path
