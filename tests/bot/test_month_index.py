"""The month index: reading cable2month.csv.gz, downloading it once, `cablebot setup`."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from bot.cli import main
from bot.config import Settings
from bot.month_index import (
    MonthIndexError,
    download_month_index,
    ensure_month_index,
    read_month_index,
)
from bot.store import CableStore

INDEX = b"10ATLANTIS17,2\n09ATLANTIS5,11\n66BUENOSAIRES2481,12\n"


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1")
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


def test_reads_pairs_and_names_the_bad_line(tmp_path: Path) -> None:
    good = tmp_path / "good.csv.gz"
    good.write_bytes(gzip.compress(INDEX + b"\n"))
    assert list(read_month_index(good)) == [
        ("10ATLANTIS17", 2),
        ("09ATLANTIS5", 11),
        ("66BUENOSAIRES2481", 12),
    ]
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(gzip.compress(INDEX + b"10ATLANTIS18,13\n"))
    with pytest.raises(MonthIndexError, match="line 4"):
        list(read_month_index(bad))
    plain = tmp_path / "plain.csv.gz"
    plain.write_bytes(INDEX)
    with pytest.raises(MonthIndexError, match="not a readable gzip"):
        list(read_month_index(plain))


def test_the_real_index_reads_completely(month_index: Path) -> None:
    pairs = dict(read_month_index(month_index))
    assert len(pairs) == 251_287
    assert pairs["08MEXICO2498"] == 8


async def test_download_then_load(tmp_path: Path, server: HTTPServer) -> None:
    server.expect_request("/cable2month.csv.gz").respond_with_data(gzip.compress(INDEX))
    dest = tmp_path / "data" / "cable2month.csv.gz"
    await download_month_index(server.url_for("/cable2month.csv.gz"), dest)
    assert dest.exists() and not dest.with_name(dest.name + ".part").exists()
    settings = Settings(data_dir=tmp_path / "data", month_index_url="")
    async with await CableStore.open(tmp_path / "c.db") as store:
        assert "loaded 3 IDs" in await ensure_month_index(settings, store, download=False)
        assert await store.month_of("66BUENOSAIRES2481") == 12
        assert "already loaded" in await ensure_month_index(settings, store, download=True)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [(404, b"", "HTTP 404"), (200, b"<html>not it</html>", "gzip")],
)
async def test_download_failures_leave_nothing_behind(
    tmp_path: Path, server: HTTPServer, status: int, body: bytes, message: str
) -> None:
    server.expect_request("/idx.gz").respond_with_data(body, status=status)
    dest = tmp_path / "cable2month.csv.gz"
    with pytest.raises(MonthIndexError, match=message):
        await download_month_index(server.url_for("/idx.gz"), dest)
    assert list(tmp_path.iterdir()) == []


async def test_offline_is_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(MonthIndexError, match="offline"):
        await download_month_index("http://127.0.0.1:9/idx.gz", tmp_path / "x.gz", timeout=2)


async def test_missing_index_without_download_means_probing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    async with await CableStore.open(tmp_path / "c.db") as store:
        assert "probed" in await ensure_month_index(settings, store, download=False)


def test_cablebot_setup(
    tmp_path: Path,
    server: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server.expect_request("/idx.gz").respond_with_data(gzip.compress(INDEX))
    monkeypatch.setenv("CABLEBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CABLEBOT_MONTH_INDEX_URL", server.url_for("/idx.gz"))
    assert main(["setup"]) == 0
    out = capsys.readouterr().out
    assert "loaded 3 IDs" in out and str(tmp_path / "cables.db") in out
    assert main(["setup"]) == 0
    assert "already loaded" in capsys.readouterr().out
    assert len(server.log) == 1  # downloaded once


def test_cablebot_setup_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CABLEBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CABLEBOT_MONTH_INDEX_URL", "http://127.0.0.1:9/idx.gz")
    assert main(["setup"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cablebot: error: could not download the month index")
    assert "offline" in err and "probed" in err
