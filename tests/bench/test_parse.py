"""bench/parse.py still runs: page parsing and dump rows, each beside its baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.benches import load_bench


def test_parse_bench_runs(corpus_pages: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_bench("parse")
    args = [str(corpus_pages), "--limit", "2", "--repeat", "1", "--dump-rows", "30"]
    assert bench.main(args) == 0
    out = capsys.readouterr().out
    assert "parsers.page.parse_page" in out and "BeautifulSoup baseline" in out
    assert "30 dump rows" in out and "dump rows/s (iter_dump)" in out and "csv module" in out
