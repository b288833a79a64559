"""The month index: reading cable2month.csv.gz, the packed file, the built-in index, `setup`."""

from __future__ import annotations

import gzip
import os
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cli import main
from bot.library.month_index import (
    BLOCK,
    MonthIndex,
    MonthIndexError,
    builtin_month_index,
    load_month_index,
    open_month_index,
    pack_month_index,
    read_month_index,
)

INDEX = b"10ATLANTIS17,2\n09ATLANTIS5,11\n66BUENOSAIRES2481,12\n"


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


IDS = st.from_regex(r"[0-9]{2}[A-Z]{1,12}[0-9]{0,6}", fullmatch=True)


@given(st.dictionaries(IDS, st.integers(1, 12), max_size=3 * BLOCK), st.lists(IDS, max_size=20))
def test_packed_index_answers_what_it_was_given(months: dict[str, int], others: list[str]) -> None:
    index = MonthIndex(pack_month_index(months.items()), "test")
    assert len(index) == len(months)
    for ref_id, month in months.items():
        assert index.month_of(ref_id) == month
    for ref_id in others:
        assert index.month_of(ref_id) == months.get(ref_id)
        assert (ref_id in index) == (ref_id in months)
        prefix = ref_id[:4]
        expected = sorted(r for r in months if r.startswith(prefix))
        assert index.complete(prefix, 5) == expected[:5]


def test_a_repeated_id_keeps_its_last_month() -> None:
    index = MonthIndex(pack_month_index([("10ATLANTIS1", 3), ("10ATLANTIS1", 4)]), "test")
    assert (len(index), index.month_of("10ATLANTIS1")) == (1, 4)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "too short"),
        (b"CBMONTH0" + bytes(8), "not a Cablebot month index"),
        (pack_month_index([("10ATLANTIS1", 3)])[:-1], "truncated"),
        (pack_month_index([("10ATLANTIS1", 3)]) + b"\0", "truncated or padded"),
    ],
)
def test_a_file_that_is_not_an_index_is_refused(tmp_path: Path, data: bytes, problem: str) -> None:
    path = tmp_path / "months.bin"
    path.write_bytes(data)
    with pytest.raises(MonthIndexError, match=problem):
        open_month_index(path)


@pytest.mark.parametrize(
    ("ref_id", "month"),
    [
        ("08MEXICO2498", 8),
        ("10MEXICO141", 2),
        ("66BUENOSAIRES2481", 12),
        ("09STATE120288", 11),
        ("7575LIBREVILLE1895", 11),
        ("90STATE255195TOSEC140301", 8),
        ("09EFTOLONDON2468", 11),
        ("06ASTANA", 10),
        ("092OF5", 12),
        ("08MEXICO24980", None),
        ("08MEXICO249", 1),
        ("08MEXICO2498A", None),
        ("10ATLANTIS17", None),
        ("08mexico2498", None),
        ("08MEXICO2498\u0415", None),
        ("", None),
        ("ZZZZ", None),
        ("00", None),
    ],
)
def test_the_built_in_index(ref_id: str, month: int | None) -> None:
    assert builtin_month_index().month_of(ref_id) == month


def test_the_built_in_index_holds_every_published_id() -> None:
    index = builtin_month_index()
    assert len(index) == 251_287
    assert index.complete("08MEXICO249", 3) == ["08MEXICO249", "08MEXICO2490", "08MEXICO2491"]
    assert index.complete("11", 3) == []
    assert load_month_index(None) is index


def test_the_built_in_index_agrees_with_the_source(month_index: Path) -> None:
    pairs = list(read_month_index(month_index))
    index = builtin_month_index()
    for ref_id, month in random.Random(7).sample(pairs, 3000):
        assert index.month_of(ref_id) == month


def test_a_configured_file_replaces_the_built_in_index(tmp_path: Path) -> None:
    path = tmp_path / "months.csv.gz"
    path.write_bytes(gzip.compress(INDEX))
    index = load_month_index(path)
    assert (len(index), index.month_of("09ATLANTIS5"), index.month_of("08MEXICO2498")) == (
        3,
        11,
        None,
    )


@pytest.fixture
def no_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No CABLEBOT_ variable but the data folder; no .env."""
    for name in [n for n in os.environ if n.startswith("CABLEBOT_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CABLEBOT_DATA_DIR", str(tmp_path))
    return tmp_path


def test_cablebot_setup_needs_no_download(
    no_settings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["setup"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        f"store: {no_settings / 'cables.db'} (0 cables)",
        "month index: 251,287 published IDs (built in)",
        "TAGS meanings: 1,363 codes (built in)",
    ]
    assert (no_settings / "cables.db").is_file()


def test_cablebot_setup_names_the_configured_tables(
    no_settings: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    months, tags = no_settings / "months.csv.gz", no_settings / "tags.tsv"
    months.write_bytes(gzip.compress(INDEX))
    tags.write_text("code\tmeaning\nPREL\tExternal Political Relations\nMX\tMexico\n", "utf-8")
    monkeypatch.setenv("CABLEBOT_MONTH_INDEX", str(months))
    monkeypatch.setenv("CABLEBOT_TAGS_PATH", str(tags))
    assert main(["setup"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:3] == [
        f"month index: 3 published IDs ({months})",
        f"TAGS meanings: 2 codes ({tags})",
    ]


def test_cablebot_setup_with_a_bad_month_index_says_which_setting(
    no_settings: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CABLEBOT_MONTH_INDEX", str(no_settings / "missing.csv.gz"))
    assert main(["setup"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("cablebot: error: ") and "missing.csv.gz" in line
    assert line.endswith("(CABLEBOT_MONTH_INDEX)")
    assert not (no_settings / "cables.db").exists()
