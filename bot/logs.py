"""Logging for the `cablebot` commands: one line per record on stderr, all of it in a log file.

Tracebacks go to the rotating log file only; stderr shows each record on one line.
"""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MAX_BYTES = 5_000_000
BACKUPS = 3

_handlers: list[logging.Handler] = []
_saved_level: int | None = None
_log_file: Path | None = None


class OneLineFormatter(logging.Formatter):
    """A record on one line: an exception is named, its traceback left to the log file."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            line += f" ({type(exc).__name__}: {exc})" if str(exc) else f" ({type(exc).__name__})"
        return line.replace("\n", " ")


def start_logging(log_file: Path, *, stderr_level: int = logging.WARNING) -> Path | None:
    """Log INFO and above to `log_file` (rotated) and `stderr_level` and above to stderr.

    Returns the log file, or None (after one warning on stderr) when it cannot be written.
    Undone by `stop_logging`.
    """
    global _saved_level, _log_file
    stop_logging()
    root = logging.getLogger()
    _saved_level = root.level
    root.setLevel(logging.INFO)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(stderr_level)
    stderr.setFormatter(OneLineFormatter(FORMAT, "%H:%M:%S"))
    _handlers.append(stderr)
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            log_file, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        reason = exc.strerror or exc
        print(f"cablebot: warning: cannot write the log {log_file}: {reason}", file=sys.stderr)
    else:
        handler.setFormatter(logging.Formatter(FORMAT))
        _handlers.append(handler)
        _log_file = log_file
    for h in _handlers:
        root.addHandler(h)
    return _log_file


def stop_logging() -> None:
    """Remove and close the handlers `start_logging` added, and restore the root level."""
    global _saved_level, _log_file
    root = logging.getLogger()
    for handler in _handlers:
        root.removeHandler(handler)
        handler.close()
    _handlers.clear()
    if _saved_level is not None:
        root.setLevel(_saved_level)
    _saved_level = _log_file = None


def log_file() -> Path | None:
    """The file records go to, when logging was started and the file is writable."""
    return _log_file


def log_traceback(message: str, exc: BaseException, default: Path) -> Path | None:
    """Write `message` and the traceback of `exc` to the log file only, not to stderr.

    Without a log file (logging not started, or its file not writable), `default` is tried.
    Returns the file written, or None when none could be.
    """
    record = logging.getLogger("cablebot").makeRecord(
        "cablebot", logging.ERROR, __file__, 0, message, (), (type(exc), exc, exc.__traceback__)
    )
    handler = next((h for h in _handlers if isinstance(h, RotatingFileHandler)), None)
    if handler is not None and _log_file is not None:
        handler.handle(record)
        return _log_file
    try:
        default.parent.mkdir(parents=True, exist_ok=True)
        fallback = RotatingFileHandler(default, maxBytes=MAX_BYTES, backupCount=BACKUPS)
    except OSError:
        return None
    fallback.setFormatter(logging.Formatter(FORMAT))
    fallback.handle(record)
    fallback.close()
    return default
