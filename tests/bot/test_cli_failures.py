"""No traceback reaches a CLI user: bad settings, unknown ones, Ctrl-C, SIGTERM, surprises."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import parsers.refs
from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "tests" / "fixtures" / "pages" / "09ELBONIA1234.html"

COMMANDS = [
    ["resolve", "08MEXICO2498"],
    ["resolve", "08MEXICO2498", "--requests-only"],
    ["import", str(PAGE)],
    ["setup"],
    ["chat"],
    ["run"],
    ["sync"],
]
"""Every subcommand that loads the settings."""

BAD = [
    ("CABLEBOT_MAX_REQUESTS", "abc", "must be a whole number from 1 to 10"),
    ("CABLEBOT_TOTAL_TIMEOUT", "0", "must be a number above 0"),
    ("CABLEBOT_IMPORT_BATCH", "0", "must be a whole number from 1 to 10000"),
    ("CABLEBOT_MESSAGE_CONTENT", "maybe", "must be true or false"),
    (
        "CABLEBOT_MIRRORS",
        "ftp://m/{ref_id}",
        "template 'ftp://m/{ref_id}' is not an http:// or https:// URL",
    ),
    (
        "CABLEBOT_MIRRORS",
        "https://m/{year}.html",
        "template 'https://m/{year}.html' lacks {ref_id}",
    ),
]
"""One bad value of each kind: a number that is not one, out of range, a boolean, templates."""


@pytest.fixture(autouse=True)
def _no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process runs see only the settings their test sets."""
    for key in [k for k in os.environ if k.upper().startswith("CABLEBOT_")]:
        monkeypatch.delenv(key)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CABLEBOT_")}
    return env | {"CABLEBOT_DATA_DIR": str(tmp_path), "DISCORD_TOKEN": "a.b.c"} | extra


def _cablebot(tmp_path: Path, argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        env=_env(tmp_path, **env),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_every_settings_loading_command_stops_on_each_kind_of_bad_setting(tmp_path: Path) -> None:
    cases = [(argv, bad) for argv in COMMANDS for bad in BAD]
    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(lambda c: _cablebot(tmp_path, c[0], **{c[1][0]: c[1][1]}), cases))
    for (argv, (name, value, rule)), result in zip(cases, done, strict=True):
        assert result.returncode == 1, (argv, name, result.stderr)
        assert result.stderr == f"cablebot: error: {name}={value!r}: {rule}\n", argv
        assert result.stdout == ""
    assert not (tmp_path / "cables.db").exists()  # stopped before touching anything


def test_parse_and_help_do_not_load_the_settings(tmp_path: Path) -> None:
    bad = {"CABLEBOT_MAX_REQUESTS": "abc"}
    parsed = _cablebot(tmp_path, ["parse", str(PAGE)], **bad)
    assert parsed.returncode == 0 and parsed.stderr == ""
    assert "Reference ID: 09ELBONIA1234" in parsed.stdout
    helped = _cablebot(tmp_path, ["--help"], **bad)
    assert helped.returncode == 0 and "sync" in helped.stdout and helped.stderr == ""


def test_an_unknown_variable_is_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CABLEBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CABLEBOT_MAX_REQUEST", "1")
    assert main(["resolve", "09STATE1 09STATE2", "--requests-only"]) == 0
    out, err = capsys.readouterr()
    assert out == "09STATE1: whole cable\n09STATE2: whole cable\n"  # the typo changed nothing
    assert err == (
        "cablebot: warning: unknown setting CABLEBOT_MAX_REQUEST in the environment is ignored "
        "(did you mean CABLEBOT_MAX_REQUESTS?)\n"
    )


def test_an_unexpected_error_is_one_line_pointing_at_the_logged_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the grammar fell over")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CABLEBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(parsers.refs, "find_requests", broken)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    assert main(["resolve", "08MEXICO2498", "--requests-only"]) == 1
    log = tmp_path / "cablebot.log"
    assert capsys.readouterr().err == (
        "cablebot: error: unexpected RuntimeError: the grammar fell over "
        f"(the traceback is in {log})\n"
    )
    text = log.read_text(encoding="utf-8")
    assert "ERROR cablebot: cablebot resolve failed\nTraceback (most recent call last):" in text
    assert text.rstrip().endswith("RuntimeError: the grammar fell over")
    # main() leaves the root logger as it found it: no handler on a closed stream.
    assert (root.handlers, root.level) == (handlers, level)


def _chat(tmp_path: Path, argv: list[str]) -> subprocess.Popen[str]:
    """A chat (or a command running one) that has answered one message."""
    chat = subprocess.Popen(
        argv,
        env=_env(tmp_path, CABLEBOT_MIRRORS=""),
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    assert chat.stdin is not None and chat.stdout is not None
    chat.stdin.write("good morning\n")
    chat.stdin.flush()
    assert chat.stdout.readline()  # it answered: it is now waiting for the next line
    return chat


@pytest.mark.parametrize(
    ("signal_number", "status", "stderr"), [(signal.SIGINT, 130, "\n"), (signal.SIGTERM, 0, "")]
)
def test_chat_stops_at_the_first_ctrl_c_or_sigterm(
    tmp_path: Path, signal_number: int, status: int, stderr: str
) -> None:
    chat = _chat(tmp_path, [sys.executable, "-m", "bot", "chat"])
    os.killpg(chat.pid, signal_number)  # one press: the whole foreground group gets it
    _, err = chat.communicate(timeout=60)
    assert (chat.returncode, err) == (status, stderr)


def test_dev_py_leaves_ctrl_c_to_the_child(tmp_path: Path) -> None:
    launcher = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); import dev; "
        "sys.exit(dev.call([sys.executable, '-m', 'bot', 'chat']))"
    )
    dev = _chat(tmp_path, [sys.executable, "-c", launcher])
    os.killpg(dev.pid, signal.SIGINT)
    _, err = dev.communicate(timeout=60)
    assert (dev.returncode, err) == (130, "\n")


@pytest.mark.slow
def test_import_stops_at_the_first_ctrl_c(tmp_path: Path) -> None:
    dump = tmp_path / "cables.csv"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "make_dump.py"), "3000", "-o", str(dump)],
        check=True,
        capture_output=True,
    )
    # the import stops itself after its third batch (the workers are busy parsing on): Ctrl-C
    # then reaches the whole process group, as a terminal sends it, and the import goes on
    marker = tmp_path / "third-batch"
    env = _env(
        tmp_path,
        CABLEBOT_IMPORT_BATCH="10",
        CABLEBOT_IMPORT_WORKERS="2",
        TEST_CABLEBOT_STOP_AFTER_BATCH=f"3:{marker}",
    )
    importing = subprocess.Popen(
        [sys.executable, "-m", "bot", "import", str(dump)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    while not marker.exists():
        assert importing.poll() is None, importing.communicate()
    os.killpg(importing.pid, signal.SIGINT)
    os.killpg(importing.pid, signal.SIGCONT)
    _, err = importing.communicate(timeout=120)
    assert importing.returncode == 130
    assert err == "\ninterrupted: run the same command again to resume\n"
