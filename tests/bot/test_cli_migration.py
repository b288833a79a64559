"""A command that opens a store made by an older Cablebot migrates it with progress on stderr
(lines when stderr is no terminal, a bar when it is); `cablebot doctor` only says it will."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import _MigrationProgress
from bot.library.store import (
    REWRITTEN_VERSION,
    SCHEMA_VERSION,
    CableStore,
    build_schema,
    register_functions,
)
from tests.bot.library.test_store_migration import _old_cables, _old_store


def _cablebot(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CABLEBOT_", "DISCORD_"))}
    env |= {"CABLEBOT_DATA_DIR": str(tmp_path), "CABLEBOT_MIRRORS": "", "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _schema(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


PAGE = Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "09ELBONIA1234.html"


@pytest.mark.parametrize(
    ("argv", "output"),
    [
        (["cites", "09ELBONIA1234"], "08STATE1234  (not stored)\n"),  # (the library's way)
        (["import", str(PAGE)], "imported 0, updated 0, skipped 1, errors 0"),  # (the target's)
    ],
)
def test_a_command_opening_an_old_store_migrates_it_with_progress_lines(
    tmp_path: Path, argv: list[str], output: str
) -> None:
    path = tmp_path / "cables.db"
    _old_store(path)
    before = _old_cables(path)
    done = _cablebot(tmp_path, *argv)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "migrating" in line]
    assert len(lines) == 1 and lines[0].startswith("migrating cables.db: 100.0%, 10 cables, ")
    assert output in done.stdout
    assert _schema(path) == SCHEMA_VERSION

    async def stored() -> dict[str, object]:
        async with await CableStore.open(path) as store:
            return {ref_id: await store.get(ref_id) for ref_id in before}

    assert asyncio.run(stored()) == before
    again = _cablebot(tmp_path, *argv)
    assert "migrating" not in again.stderr
    assert output in again.stdout


def test_the_doctor_says_an_old_store_will_migrate_and_leaves_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "cables.db"
    _old_store(path)
    before = path.read_bytes()
    done = _cablebot(tmp_path, "doctor")
    assert (done.returncode, done.stderr) == (0, ""), done.stdout
    assert f"ok: store is at schema v4, will migrate to v{SCHEMA_VERSION} on next start" in (
        done.stdout
    )
    assert "PROBLEM" not in done.stdout
    assert path.read_bytes() == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("cables.db-")]


def test_the_doctor_says_a_store_past_the_rewrite_migrates_in_place(tmp_path: Path) -> None:
    path = tmp_path / "cables.db"
    conn = sqlite3.connect(path)
    register_functions(conn)
    build_schema(conn, REWRITTEN_VERSION)
    conn.execute(f"PRAGMA user_version = {REWRITTEN_VERSION}")
    conn.close()
    done = _cablebot(tmp_path, "doctor")
    assert (done.returncode, done.stderr) == (0, ""), done.stdout
    assert (
        f"ok: store is at schema v{REWRITTEN_VERSION}, will migrate to v{SCHEMA_VERSION} on next"
        " start (in place, at once)\n"
    ) in done.stdout
    assert _schema(path) == REWRITTEN_VERSION


def test_on_a_terminal_the_migration_is_a_bar_taken_away_when_done(
    capsys: pytest.CaptureFixture[str],
) -> None:
    progress = _MigrationProgress("migrating cables.db", tty=True)
    progress(0, 1200)
    progress(500, 1200)
    progress(1200, 1200)
    progress.close()
    err = capsys.readouterr().err
    assert "migrating cables.db" in err and "1,200 cables" in err and "100%" in err
    assert "\x1b[?25h" in err  # the bar stopped: the cursor is shown again


def test_without_a_migration_nothing_is_shown_or_imported(
    capsys: pytest.CaptureFixture[str],
) -> None:
    progress = _MigrationProgress("migrating cables.db", tty=False)
    progress.close()
    assert capsys.readouterr() == ("", "")
