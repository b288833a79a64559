"""bot.logs: one line a record on stderr, tracebacks in the rotating file, nothing left behind."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.logs import log_file, start_logging, stop_logging

log = logging.getLogger("cablebot.test")


@pytest.mark.logs_errors
def test_stderr_gets_one_line_and_the_file_the_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    path = tmp_path / "logs" / "cablebot.log"
    assert start_logging(path) == path == log_file()
    log.info("quiet on stderr")
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        log.exception("it broke")
    stop_logging()
    assert (list(root.handlers), root.level) == before and log_file() is None
    err = capsys.readouterr().err
    assert err.endswith(" ERROR cablebot.test: it broke (ValueError: bad thing)\n")
    assert err.count("\n") == 1
    text = path.read_text(encoding="utf-8")
    assert "INFO cablebot.test: quiet on stderr" in text
    assert "Traceback (most recent call last):" in text and "ValueError: bad\nthing" in text


def test_an_unwritable_log_is_one_warning_and_stderr_still_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("")
    assert start_logging(tmp_path / "file" / "cablebot.log") is None
    log.warning("still shown")
    stop_logging()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"cablebot: warning: cannot write the log {tmp_path}/file/")
    assert lines[1].endswith("WARNING cablebot.test: still shown") and len(lines) == 2
