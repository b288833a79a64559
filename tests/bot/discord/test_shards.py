"""The shard-list grammar (`0-3,8`) and the shard settings a process may run with."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cli import main
from bot.config import SettingsError, load_settings
from bot.discord.shards import (
    MAX_SHARD,
    ShardListError,
    format_shard_ids,
    parse_shard_ids,
    shard_problem,
)

shard = st.integers(0, 300)
items = st.lists(
    st.one_of(shard.map(lambda n: (n, n)), st.tuples(shard, shard).map(lambda p: tuple(sorted(p)))),
    min_size=1,
    max_size=8,
)
space = st.sampled_from(["", " ", "  "])


@given(items, st.data())
def test_a_list_of_numbers_and_ranges_is_every_shard_they_cover_once(
    pairs: list[tuple[int, int]], data: st.DataObject
) -> None:
    parts = []
    for first, last in pairs:
        item = str(first) if first == last and data.draw(st.booleans()) else f"{first}-{last}"
        parts.append(data.draw(space) + item + data.draw(space))
    expected = sorted({n for first, last in pairs for n in range(first, last + 1)})
    assert parse_shard_ids(",".join(parts)) == tuple(expected)


@given(st.sets(shard, min_size=1, max_size=40))
def test_formatting_reads_back_and_is_never_longer_than_listing(ids: set[int]) -> None:
    text = format_shard_ids(tuple(ids))
    assert parse_shard_ids(text) == tuple(sorted(ids))
    assert len(text) <= len(",".join(map(str, sorted(ids))))


@given(st.text(alphabet="0123456789-, x", max_size=12))
def test_any_text_is_read_or_refused_with_a_shard_list_error(text: str) -> None:
    try:
        ids = parse_shard_ids(text)
    except ShardListError as exc:
        assert repr(text) in str(exc)
        assert "\n" not in str(exc)
    else:
        assert ids and list(ids) == sorted(set(ids))
        assert all(0 <= n < MAX_SHARD for n in ids)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "an empty item"),
        ("0-3,", "an empty item"),
        ("0,,2", "an empty item"),
        ("3-1", "range '3-1' ends before it starts"),
        ("-1", "item '-1' is neither"),
        ("0-3,eight", "item 'eight' is neither"),
        ("1-2-3", "item '1-2-3' is neither"),
        ("0-100000", "shard 100000"),
    ],
)
def test_bad_lists_say_which_item_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ShardListError, match=says):
        parse_shard_ids(text)


def test_the_settings_read_the_shard_list_and_name_a_bad_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CABLEBOT_SHARD_COUNT", "12")
    monkeypatch.setenv("CABLEBOT_SHARD_IDS", "0-3, 8")
    settings = load_settings(None)
    assert (settings.shard_count, settings.shard_ids) == (12, (0, 1, 2, 3, 8))
    monkeypatch.setenv("CABLEBOT_SHARD_IDS", "4-2")
    with pytest.raises(SettingsError, match=r"^CABLEBOT_SHARD_IDS='4-2': range '4-2' ends"):
        load_settings(None)
    monkeypatch.setenv("CABLEBOT_SHARD_COUNT", "")  # as an env file may leave them
    monkeypatch.setenv("CABLEBOT_SHARD_IDS", " ")
    settings = load_settings(None)
    assert (settings.shard_count, settings.shard_ids) == (None, None)


@pytest.mark.parametrize(
    ("count", "ids", "shared", "says"),
    [
        (None, None, False, None),
        (4, None, False, None),
        (4, (0, 1, 2, 3), False, None),
        (12, (0, 1, 2, 3), True, None),
        (None, (0, 1), True, "needs CABLEBOT_SHARD_COUNT"),
        (4, (0, 4), True, "shard 4 does not exist with a shard count of 4"),
        (12, (0, 1, 2, 3), False, "4 of 12 shards, but the SQLite store cannot be shared"),
    ],
)
def test_shard_settings_problems(
    count: int | None, ids: tuple[int, ...] | None, shared: bool, says: str | None
) -> None:
    problem = shard_problem(count, ids, shared_store=shared)
    if says is None:
        assert problem is None
    else:
        assert problem is not None and says in problem and "\n" not in problem


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [k for k in os.environ if k.upper().startswith("CABLEBOT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CABLEBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DISCORD_TOKEN", "a.b.c")
    monkeypatch.chdir(tmp_path)


@pytest.mark.usefixtures("clean_env")
def test_run_on_sqlite_refuses_part_of_the_shards(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--shard-count", "12", "--shards", "0-3"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cablebot: error: this process would run 4 of 12 shards, but the SQLite")
    assert err.count("\n") == 1


@pytest.mark.usefixtures("clean_env")
def test_run_reads_the_shards_from_the_environment_and_names_a_bad_option(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CABLEBOT_SHARD_COUNT", "4")
    assert main(["run", "--shards", "3-5"]) == 1
    assert capsys.readouterr().err == (
        "cablebot: error: shard 4 does not exist with a shard count of 4"
        " (shards are numbered 0 to 3)\n"
    )
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--shards", "0-3,,8"])
    assert exit_.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last == (
        "cablebot run: error: argument --shards: an empty item is neither a shard number (5)"
        " nor a range (0-3) in '0-3,,8'"
    )
