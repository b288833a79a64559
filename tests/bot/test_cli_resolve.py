"""`cablebot resolve TEXT --requests-only`: the chat grammar checked from outside."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture(autouse=True)
def _own_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The store and the log of these runs live in tmp_path, with no other setting around."""
    for key in [k for k in os.environ if k.upper().startswith("CABLEBOT_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CABLEBOT_DATA_DIR", str(tmp_path))


def _resolve(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["resolve", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_lists_requests_and_problems(capsys: pytest.CaptureFixture[str]) -> None:
    text = "see 08mexico2498 ¶5-7, `09STATE1`, <10ROME5> and ¶0 of 09STATE120288"
    code, out, err = _resolve(capsys, text, "--requests-only", "--json")
    assert code == 0 and err == ""
    assert json.loads(out) == [
        {"ref_id": "08MEXICO2498", "paragraphs": [5, 6, 7]},
        {"ref_id": "09STATE120288", "paragraphs": [], "problem": "¶0 is not a paragraph number"},
    ]


def test_json_of_a_message_without_references(capsys: pytest.CaptureFixture[str]) -> None:
    assert _resolve(capsys, "meet at 10am", "--requests-only", "--json") == (0, "[]\n", "")


def test_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _resolve(capsys, "08MEXICO2498 ¶5,7 and 09STATE120288", "--requests-only")
    assert code == 0
    assert out.splitlines() == ["08MEXICO2498: 5,7", "09STATE120288: whole cable"]
    _, out, _ = _resolve(capsys, "nothing here", "--requests-only")
    assert out == "no cable reference found\n"


def test_the_cut_is_reported_and_follows_settings(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CABLEBOT_MAX_REQUESTS", "2")
    code, out, err = _resolve(capsys, "09STATE1 09STATE2 09STATE3", "--requests-only", "--json")
    assert code == 0
    assert [row["ref_id"] for row in json.loads(out)] == ["09STATE1", "09STATE2"]
    assert "first 2 references" in err


def test_a_bad_setting_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CABLEBOT_MAX_REQUESTS", "lots")
    code, out, err = _resolve(capsys, "08MEXICO2498", "--requests-only")
    assert code == 1 and out == ""
    assert (
        err
        == "cablebot: error: CABLEBOT_MAX_REQUESTS='lots': must be a whole number from 1 to 10\n"
    )


def test_the_console_command_prints_json() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "resolve", "¶3 of 08MEXICO2498", "--requests-only", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(done.stdout) == [{"ref_id": "08MEXICO2498", "paragraphs": [3]}]
