"""`cablebot import` given input that is not what it claims: refused in one line, or imported
with a warning, never reported as a hundred bad rows and never a traceback."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.cli import main
from bot.library.importer import (
    BOM,
    NOT_IMPORTABLE,
    ImportError_,
    ImportSummary,
    LineProgress,
    import_path,
    source_kind,
)
from bot.library.store import CableStore
from tests.benches import load_bench
from tests.bot.library.helpers import site_page

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures"
make_dump = load_bench("make_dump")


@pytest.fixture(scope="module")
def clean_dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dump of 5 well-formed rows."""
    path = tmp_path_factory.mktemp("dump") / "cables.csv"
    make_dump.write_dump(path, 5, seed=2)
    return path


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "store" / "c.db"
    monkeypatch.setenv("CABLEBOT_STORE_PATH", str(path))
    return path


def cablebot(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    """The real `cablebot` command, in its own process."""
    env = {**os.environ, "CABLEBOT_STORE_PATH": str(store), "CABLEBOT_DATA_DIR": str(store.parent)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(FIXTURES / "dump" / "cables.csv", "cables.csv")


def _write(path: Path, content: str | bytes) -> None:
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)


NOT_CABLES: dict[str, str | bytes] = {
    "binary.csv": bytes(range(256)) * 64,
    "cables.json": json.dumps([{"id": 1, "refid": "08MEXICO2498", "body": "1. (C) Text."}]),
    "notes.csv": "id,refid,body\n1,08MEXICO2498,text\n" * 50,
    "words.txt": "It was a dark and stormy night; the rain fell in torrents.\n" * 200,
    # a plain telegram has no reference table: `parse` reads it, an import cannot date it
    "telegram.txt": (FIXTURES / "telegrams" / "09ELBONIA1234.txt").read_text(encoding="utf-8"),
    "quoted.csv": '"ref","body"\n"08MEXICO2498","text"\n',
    "numbered.csv": '"1","hello","world"\n"2","and","more"\n' * 60,
}


@pytest.mark.parametrize("name", [*NOT_CABLES, "cables.zip"])
def test_a_file_that_is_no_dump_or_page_is_refused_in_one_line(
    name: str, tmp_path: Path, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / name
    if name == "cables.zip":
        _zip(path)
    else:
        _write(path, NOT_CABLES[name])
    assert main(["import", str(path)]) == 1
    out, err = capsys.readouterr()
    assert err == f"cablebot: error: {path}: {NOT_IMPORTABLE}\n"
    assert out == ""
    assert not store_path.exists()  # refused before the store was created


def test_one_bad_path_refuses_the_whole_command_before_any_import(
    tmp_path: Path, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "10ATLANTIS17.html"
    page.write_text(site_page("10ATLANTIS17"), encoding="utf-8")
    archive = tmp_path / "cables.zip"
    _zip(archive)
    assert main(["import", str(page), str(archive)]) == 1
    assert capsys.readouterr().err == f"cablebot: error: {archive}: {NOT_IMPORTABLE}\n"
    assert not store_path.exists()


def test_the_content_decides_not_the_name(
    clean_dump: Path, tmp_path: Path, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "cables.csv"  # a page, whatever its name says
    page.write_text(site_page("09ATLANTIS5"), encoding="utf-8")
    dump = tmp_path / "dump.txt"
    dump.write_bytes(clean_dump.read_bytes())
    assert main(["import", str(page), str(dump)]) == 0
    out, _ = capsys.readouterr()
    assert f"{page.resolve()}: imported 1, " in out
    assert f"{dump.resolve()}: imported 5, updated 0, skipped 0, errors 0" in out


STARTS = (  # beginnings that are, or nearly are, a dump row or a page
    b'"1","3/2/2009 12:00","09ELBONIA1234","',
    b'"17","","08MEXICO2498"',
    b'"1","3/2/2009 12:00","elbonia',
    b'"1","x"',
    b"<html><body>",
    b"<!DOCTYPE html>",
    b"Reference ID Created Released Classification Origin\n",
    b"Reference ID\n",
)


@given(
    st.binary(max_size=600)
    | st.text(max_size=300).map(str.encode)
    | st.tuples(st.sampled_from(STARTS), st.binary(max_size=60)).map(b"".join)
)
def test_any_bytes_are_recognised_or_refused_in_one_line(data: bytes) -> None:
    assume(not data.startswith(BOM))
    kinds = set()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input"
        for content in (data, BOM + data):
            path.write_bytes(content)
            try:
                kinds.add(source_kind(path))
            except ImportError_ as exc:
                assert str(exc) == f"{path}: {NOT_IMPORTABLE}"
                kinds.add("refused")
    assert len(kinds) == 1  # a BOM changes nothing
    kind = kinds.pop()
    assert (kind == "empty") == (not data.strip())
    assert (kind == "dump") == bool(re.match(rb'"[0-9]+","[^"\r\n]*","[0-9]{2}[A-Z]', data))
    if kind == "page":
        assert b"\0" not in data


def test_a_bom_is_accepted_in_a_dump_and_in_pages(
    clean_dump: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dump = tmp_path / "cables.csv"
    dump.write_bytes(BOM + clean_dump.read_bytes())
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "10ATLANTIS17.html").write_bytes(BOM + site_page("10ATLANTIS17").encode())
    saved = (FIXTURES / "pages" / "09ELBONIA1234.txt").read_bytes()
    (pages / "09ELBONIA1234.txt").write_bytes(BOM + saved)
    single = tmp_path / "09ATLANTIS5.html"
    single.write_bytes(BOM + site_page("09ATLANTIS5").encode())
    for path, imported in ((dump, 5), (pages, 2), (single, 1)):  # each in a new store
        monkeypatch.setenv("CABLEBOT_STORE_PATH", str(tmp_path / f"{path.name}.db"))
        assert main(["import", str(path)]) == 0
        out, err = capsys.readouterr()  # the dump's first row, the pages' first lines read
        assert f"imported {imported}, updated 0, skipped 0, errors 0" in out
        assert "error" not in err


@pytest.mark.parametrize("content", [b"", BOM, b"\n\n  \r\n", BOM + b"\n"])
def test_an_empty_file_is_a_warning_and_exit_1(
    content: bytes, tmp_path: Path, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cables.csv"
    path.write_bytes(content)
    assert main(["import", str(path)]) == 1
    out, err = capsys.readouterr()
    assert err == f"warning: {path}: empty file, nothing to import\n"
    assert out == ""


def test_a_folder_with_nothing_importable_is_a_warning_and_exit_1(
    tmp_path: Path, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    other = tmp_path / "other"
    (other / "2009").mkdir(parents=True)
    (other / "2009" / "09ATLANTIS5.html").write_text(site_page("09ATLANTIS5"), encoding="utf-8")
    (other / "cables.zip").write_bytes(b"PK\x03\x04")
    (other / "photo.png").write_bytes(b"\x89PNG")
    for folder, found in ((empty, ""), (other, " (found 1 subfolder, 2 other files)")):
        assert main(["import", str(folder)]) == 1
        out, err = capsys.readouterr()
        assert err == f"warning: {folder}: nothing to import: no .html, .htm or .txt files{found}\n"
        assert out == ""


def test_a_folder_import_says_what_it_did_not_read(
    tmp_path: Path, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "pages"
    (folder / "more").mkdir(parents=True)
    (folder / "10ATLANTIS17.html").write_text(site_page("10ATLANTIS17"), encoding="utf-8")
    (folder / "notes.md").write_text("pages saved on Monday\n", encoding="utf-8")
    assert main(["import", str(folder)]) == 0
    out, _ = capsys.readouterr()
    assert out.endswith(
        "; not read: 1 subfolder, 1 other file (pages are .html, .htm or .txt files)\n"
    )
    (folder / "more.txt").mkdir()  # a folder named like a page is a subfolder
    (folder / "photo.png").write_bytes(b"\x89PNG")
    assert main(["import", str(folder)]) == 0
    assert "; not read: 2 subfolders, 2 other files (" in capsys.readouterr().out


async def test_a_page_that_is_not_utf8_is_imported_with_one_warning(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    latin1 = site_page("10ATLANTIS17").replace("Embassy Atlantis", "Embassy Atlántida")
    (folder / "10ATLANTIS17.html").write_bytes(latin1.encode("latin-1"))
    broken = site_page("09ATLANTIS5").encode().replace(b"plan", b"pl\xff\xfe\xc3n", 1)
    (folder / "09ATLANTIS5.html").write_bytes(broken)
    warnings: list[str] = []
    errors: list[str] = []
    async with await CableStore.open(tmp_path / "c.db") as store:
        summary = await import_path(
            store, folder, on_warning=warnings.append, on_error=errors.append
        )
        assert (summary.imported, summary.errors, errors) == (2, 0, [])
        assert warnings == [
            "09ATLANTIS5.html: 3 bytes not UTF-8, replaced by \N{REPLACEMENT CHARACTER}",
            "10ATLANTIS17.html: 1 byte not UTF-8, replaced by \N{REPLACEMENT CHARACTER}",
        ]
        cable = await store.get("10ATLANTIS17")
        assert cable is not None and cable.origin == "Embassy Atl\N{REPLACEMENT CHARACTER}ntida"
        other = await store.get("09ATLANTIS5")
        assert other is not None and "pl\ufffd\ufffd\ufffdn a strike" in other.body


def test_the_cli_prints_the_utf8_warning_and_exits_0(
    tmp_path: Path, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "10ATLANTIS17.html"
    text = site_page("10ATLANTIS17")
    page.write_bytes(text.replace(" the ", " thé ").encode("cp1252"))
    assert main(["import", str(page)]) == 0
    out, err = capsys.readouterr()
    count = text.count(" the ")
    assert count > 1
    assert err.splitlines()[0] == (
        f"warning: 10ATLANTIS17.html: {count} bytes not UTF-8, replaced by \ufffd"
    )
    assert err.count("warning") == 1
    assert "imported 1, updated 0, skipped 0, errors 0" in out


def test_non_regular_files_get_a_true_message(
    tmp_path: Path, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "cables.csv"
    os.mkfifo(fifo)  # opening it would wait for a writer forever
    sock_path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        cases = {
            "/dev/null": "a character device",
            str(fifo): "a named pipe",
            str(sock_path): "a socket",
        }
        for path, what in cases.items():
            assert main(["import", path]) == 1
            assert capsys.readouterr().err == (
                f"cablebot: error: {path}: not a regular file ({what})\n"
            )
    assert main(["import", str(tmp_path / "missing.csv")]) == 1
    assert capsys.readouterr().err == (
        f"cablebot: error: {tmp_path / 'missing.csv'}: no such file or folder\n"
    )
    assert not store_path.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_an_unreadable_file_is_refused_in_one_line(
    tmp_path: Path, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cables.csv"
    path.write_bytes((FIXTURES / "dump" / "cables.csv").read_bytes())
    path.chmod(0)
    assert main(["import", str(path)]) == 1
    assert capsys.readouterr().err == (
        f"cablebot: error: {path}: cannot be read (Permission denied)\n"
    )


@pytest.mark.parametrize("value", ["0", "-3", "abc", "2.5"])
def test_batch_below_1_is_refused_by_argparse(
    value: str, tmp_path: Path, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = FIXTURES / "dump" / "cables.csv"
    with pytest.raises(SystemExit) as exit_:
        main(["import", f"--batch={value}", str(dump)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.endswith(
        f"error: argument --batch: must be a whole number of at least 1, not {value!r}\n"
    )
    assert not store_path.exists()


def test_batch_1_works(
    clean_dump: Path, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "--batch", "1", str(clean_dump)]) == 0
    assert "imported 5, updated 0, skipped 0, errors 0" in capsys.readouterr().out


def test_messages_count_rows_and_pages_with_plurals() -> None:
    stream = io.StringIO()
    for unit, rows in (("row", 1), ("row", 2), ("page", 1), ("page", 1_500)):
        LineProgress("x", stream, every=0, unit=unit)(rows, rows, rows)
    lines = stream.getvalue().splitlines()
    assert [line.split(", ")[1] for line in lines] == ["1 row", "2 rows", "1 page", "1,500 pages"]
    assert [line.split(", ")[2].split()[1] for line in lines] == ["rows/s"] * 2 + ["pages/s"] * 2
    summary = ImportSummary("pages", imported=2, resumed_at_row=3, unit="page")
    assert summary.line().endswith("(resumed at page 3)")


def test_refusals_in_a_real_process_have_no_traceback(tmp_path: Path) -> None:
    archive = tmp_path / "cables.zip"
    _zip(archive)
    store = tmp_path / "c.db"
    for path, message in (
        (archive, NOT_IMPORTABLE),
        (Path("/dev/null"), "not a regular file (a character device)"),
    ):
        done = cablebot("import", str(path), store=store)
        assert (done.returncode, done.stdout) == (1, "")
        assert done.stderr.splitlines()[-1] == f"cablebot: error: {path}: {message}"
        assert "Traceback" not in done.stderr
    done = cablebot("import", "--batch", "0", str(archive), store=store)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "argument --batch: must be a whole number of at least 1, not '0'" in done.stderr
    assert not store.exists()
