"""`cablebot import`: dumps and page folders, error rows, idempotence, and the kill -9 test."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.library.importer import import_path, run_import
from bot.library.store import CableStore, register_functions
from parsers.models import NotACableError
from parsers.page import parse_any
from tests.benches import load_bench
from tests.bot.library.helpers import site_page

ROOT = Path(__file__).resolve().parents[3]


make_dump = load_bench("make_dump")


def snapshot(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every content table, in key order, plus an FTS check and a search."""
    conn = sqlite3.connect(path)
    register_functions(conn)
    conn.execute("INSERT INTO cables_fts (cables_fts) VALUES ('integrity-check')")
    tables = {
        "cables": "SELECT * FROM cables ORDER BY ref_id",
        "tags": "SELECT * FROM tags ORDER BY tag, ref_id",
        "refs": "SELECT * FROM refs ORDER BY src, pos",
        "imports": "SELECT * FROM imports",
        "search": "SELECT rowid FROM cables_fts WHERE cables_fts MATCH 'cartel' ORDER BY rowid",
    }
    rows = {name: conn.execute(sql).fetchall() for name, sql in tables.items()}
    conn.close()
    return rows


def record_writes(path: Path) -> None:
    """Triggers that log every insert, update and delete into a `writes` table, on every table
    of the store (the full-text index's own tables too) but the import checkpoints."""
    conn = sqlite3.connect(path)
    tables = [
        name
        for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        if name != "imports" and not name.startswith("sqlite_") and "VIRTUAL" not in sql
    ]
    assert {"cables", "cables_fts_data", "cables_fts_idx"} <= set(tables)
    conn.execute("CREATE TABLE writes (name TEXT, op TEXT)")
    for name in tables:
        for op in ("INSERT", "UPDATE", "DELETE"):
            conn.execute(
                f"CREATE TRIGGER written_{name}_{op} AFTER {op} ON {name}"
                f" BEGIN INSERT INTO writes VALUES ('{name}', '{op}'); END"
            )
    conn.commit()
    conn.close()


def writes(path: Path) -> list[tuple[str, str, int]]:
    """What the triggers of `record_writes` saw: (table, operation, count)."""
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT name, op, count(*) FROM writes GROUP BY name, op ORDER BY name, op"
        ).fetchall()


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dump") / "cables.csv"
    make_dump.write_dump(path, 240, seed=7, malformed=2)
    return path


async def test_dump_import_counts_errors_and_is_idempotent(dump: Path, tmp_path: Path) -> None:
    errors: list[str] = []
    db = tmp_path / "c.db"
    async with await CableStore.open(db) as store:
        first = await import_path(store, dump, batch_size=50, on_error=errors.append)
        assert (first.imported, first.updated, first.skipped, first.errors) == (238, 0, 0, 2)
        assert len(errors) == 2 and all("row " in e for e in errors)
        stats = await store.stats()
        assert stats.cables == 238
        assert stats.references > 0 and stats.paragraphs >= 238
        before = snapshot(db)
        record_writes(db)
        second = await import_path(store, dump, batch_size=64)
        assert (second.imported, second.updated, second.skipped, second.errors) == (0, 0, 238, 2)
        assert writes(db) == []  # unchanged cables are not rewritten, not even in place
        assert snapshot(db) == before
        changed = await import_path(store, _revised(dump, tmp_path / "revised.csv"))
        assert (changed.updated, changed.skipped) == (1, 237)
    assert snapshot(db) != before
    assert ("cables", "UPDATE", 1) in writes(db)  # the triggers do see writes
    assert before["imports"] == []


def _revised(dump: Path, path: Path) -> Path:
    """`dump` with one cable's subject changed."""
    text = dump.read_text(encoding="utf-8")
    path.write_text(text.replace("SUBJECT: ", "SUBJECT: REVISED ", 1), encoding="utf-8")
    return path


async def test_a_changed_dump_updates_only_what_changed(tmp_path: Path) -> None:
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    make_dump.write_dump(old, 30, seed=3)
    rows = old.read_text(encoding="utf-8").split('\n"')
    rows[4] = rows[4].replace("SUBJECT: ", "SUBJECT: REVISED ", 1)
    new.write_text('\n"'.join(rows), encoding="utf-8")
    async with await CableStore.open(tmp_path / "c.db") as store:
        await import_path(store, old)
        again = await import_path(store, new)
        assert (again.imported, again.updated, again.skipped) == (0, 1, 29)
        assert len(await store.search("revised")) == 1


def _pages(folder: Path) -> Path:
    folder.mkdir()
    for ref_id in ("10ATLANTIS17", "09ATLANTIS5"):
        (folder / f"{ref_id}.html").write_text(site_page(ref_id), encoding="utf-8")
    (folder / "README.txt").write_text("These are saved pages.\n", encoding="utf-8")
    (folder / "image.png").write_bytes(b"\x89PNG")
    return folder


async def test_page_folder_import(tmp_path: Path) -> None:
    folder = _pages(tmp_path / "pages")
    errors: list[str] = []
    async with await CableStore.open(tmp_path / "c.db") as store:
        first = await import_path(store, folder, on_error=errors.append)
        assert (first.imported, first.errors) == (2, 1)
        assert errors[0].startswith("README.txt:")
        assert await store.cited_by("09ATLANTIS5") == ["10ATLANTIS17"]
        second = await import_path(store, folder)
        assert (second.imported, second.skipped, second.errors) == (0, 2, 1)


async def test_a_single_saved_page_is_imported_as_a_page(tmp_path: Path) -> None:
    page = Path(__file__).resolve().parents[2] / "fixtures" / "pages" / "09ELBONIA1234.txt"
    async with await CableStore.open(tmp_path / "c.db") as store:
        summary = await import_path(store, page)
        assert (summary.imported, summary.errors) == (1, 0)
        cable = await store.get("09ELBONIA1234")
        assert cable is not None and cable.paragraphs


async def test_real_corpus_pages_import(corpus_pages: Path, tmp_path: Path) -> None:
    errors: list[str] = []
    async with await CableStore.open(tmp_path / "c.db") as store:
        summary = await import_path(store, corpus_pages, on_error=errors.append)
        pages = len(list(corpus_pages.glob("*.html")))
        assert summary.imported + summary.skipped + summary.updated + summary.errors == pages
        assert summary.imported >= pages * 0.98, errors[:5]
        stats = await store.stats()
        assert stats.cables == summary.imported
        assert stats.references > 0
        assert await store.search("Calderon")
    # no bigger than the text it holds (issue 13): header and body of every cable stored
    text = 0
    for page in corpus_pages.glob("*.html"):
        with contextlib.suppress(NotACableError):
            cable = parse_any(page.read_text(encoding="utf-8", errors="replace"))
            text += len(cable.header.encode()) + len(cable.body.encode())
    size = sum(p.stat().st_size for p in tmp_path.glob("c.db*") if p.is_file())
    assert size <= text, f"store {size:,} bytes for {text:,} bytes of text"


def test_cli_import_prints_a_summary_and_numbered_errors(
    dump: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CABLEBOT_STORE_PATH", str(tmp_path / "c.db"))
    assert main(["import", str(dump)]) == 1  # malformed rows: non-zero exit
    out, err = capsys.readouterr()
    assert "imported 238, updated 0, skipped 0, errors 2" in out
    assert err.count("error: cables.csv: row ") == 2
    assert "rows/s" in err  # quiet progress lines when not on a terminal
    assert main(["import", str(tmp_path / "missing.csv")]) == 1
    assert "no such file" in capsys.readouterr().err


def _children(pid: int) -> list[int]:
    """Process IDs of the children of `pid` (Linux /proc; empty elsewhere)."""
    found = Path(f"/proc/{pid}/task").glob("*/children")
    return [int(child) for path in found for child in path.read_text().split()]


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_kill_9_then_resume_equals_a_clean_import(tmp_path: Path, workers: str) -> None:
    """Killed with kill -9 right after its third committed batch (the import stops itself there
    and says how far it got), the import resumes from that batch when run again."""
    dump = tmp_path / "cables.csv"
    make_dump.write_dump(dump, 900, seed=11, malformed=3)
    clean, killed = tmp_path / "clean.db", tmp_path / "killed.db"
    marker = tmp_path / "stopped"

    def cablebot_import(store: Path, **env: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "CABLEBOT_STORE_PATH": str(store),
            "CABLEBOT_IMPORT_BATCH": "40",
            "CABLEBOT_IMPORT_WORKERS": workers,
            **env,
        }
        command = [sys.executable, "-m", "bot", "import", str(dump)]
        return subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

    assert cablebot_import(clean).wait(300) == 1  # 3 malformed rows
    victim = cablebot_import(killed, TEST_CABLEBOT_STOP_AFTER_BATCH=f"3:{marker}")
    try:
        hang = time.monotonic() + 600  # only against a hang: the import stops itself
        while not marker.exists():
            if victim.poll() is not None or time.monotonic() > hang:
                pytest.fail("the import ended (or hung) before its third batch")
            time.sleep(0.02)
        children = _children(victim.pid)
        if workers == "2":
            assert len(children) >= 2  # the parser processes
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.communicate()
    stored = int(marker.read_text(encoding="utf-8"))
    deadline = time.monotonic() + 60  # the workers notice the lost parent within 0.5 s
    while any(Path(f"/proc/{pid}").exists() for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()], "orphaned workers"
    with sqlite3.connect(killed) as conn:
        left = conn.execute("SELECT row FROM imports").fetchall()
        partial = conn.execute("SELECT count(*) FROM cables").fetchone()[0]
    assert left == [(stored + 1,)]  # the third batch's checkpoint, committed with it
    malformed = sum(stored >= row for row in (151, 451, 751))  # make_dump's malformed rows
    assert partial == stored - malformed
    if workers == "1":
        assert stored == 3 * 40 + malformed
    resumed = cablebot_import(killed)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 1
    assert f"resumed at row {stored + 1:,}" in out.decode()
    assert "imported 897," in out.decode()  # counts carried over from the killed run
    assert err.decode().count("error: cables.csv: row ") == 3 - malformed
    assert "Traceback" not in err.decode()
    assert snapshot(killed) == snapshot(clean)


@pytest.mark.parametrize(
    ("damage", "batch"), [("", 25), ("lost quote", 25), ("open field", 25), ("open field", 1)]
)
async def test_worker_processes_give_the_same_store_and_errors(
    tmp_path: Path, damage: str, batch: int
) -> None:
    dump = tmp_path / "cables.csv"
    make_dump.write_dump(dump, 160, seed=5, malformed=2)
    text = dump.read_text(encoding="utf-8")
    if damage == "lost quote":  # the row's fields run together
        cut = text.index('","Embassy', len(text) // 2)
        text = text[:cut] + '",Embassy' + text[cut + 10 :]
    elif damage == "open field":  # the row runs on into the next ones (past a worker's range)
        cut = text.index('"\n"', len(text) // 2)
        text = text[:cut] + text[cut + 1 :]
    dump.write_text(text, encoding="utf-8")
    results = {}
    for workers in (1, 2):
        errors: list[str] = []
        db = tmp_path / f"w{workers}.db"
        async with await CableStore.open(db) as store:
            summary = await import_path(
                store, dump, batch_size=batch, workers=workers, on_error=errors.append
            )
        results[workers] = (summary.imported, summary.errors, errors, snapshot(db))
    assert results[1] == results[2]
    assert results[1][1] == (2 if not damage else 3)


async def test_terminal_progress_bar_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _pages(tmp_path / "pages")
    async with await CableStore.open(tmp_path / "c.db") as store:
        [summary] = await run_import(store, [folder], batch_size=1, tty=True)
    assert (summary.imported, summary.errors) == (2, 1)
    out, err = capsys.readouterr()
    assert "imported 2, updated 0, skipped 0, errors 1" in out
    assert "3 pages" in err and "pages/s" in err and "README.txt" in err
