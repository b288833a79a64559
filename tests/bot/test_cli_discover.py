"""`cablebot search|random|on-this-day|cites|cited-by|related|stats`: output shapes and one-line
errors, on a real store holding a few cables of our own."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.library.store import CableStore
from tests.bot.library.helpers import make_cable


@pytest.fixture(autouse=True)
def _store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A store in tmp_path with three cables, and no other setting around."""
    for key in [k for k in os.environ if k.upper().startswith("CABLEBOT_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CABLEBOT_DATA_DIR", str(tmp_path))
    cables = [
        make_cable("08ATLANTIS1", text="harbour").model_copy(
            update={
                "created": datetime(2008, 2, 29, 10),
                "tags": ("PREL", "AT"),
                "subject": "Harbour works",
            }
        ),
        make_cable("09ATLANTIS2", refs=("08ATLANTIS1", "01NOWHERE9")).model_copy(
            update={"classification": "SECRET//NOFORN", "tags": ("PREL",)}
        ),
        make_cable("10MEXICO3", refs=("08ATLANTIS1",), text="harbour").model_copy(
            update={"origin": "Embassy Mexico", "tags": ("MX", "PREL"), "subject": "Harbour strike"}
        ),
    ]

    async def fill() -> None:
        async with await CableStore.open(tmp_path / "cables.db") as store:
            await store.put(cables)

    asyncio.run(fill())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv, "--json")
    assert (code, err) == (0, "")
    return json.loads(out)


def test_search_json_browses_with_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_json(capsys, "search", "--tag", "prel", "--origin", "MEXICO") == {
        "total": 1,
        "hits": [
            {
                "ref_id": "10MEXICO3",
                "created": "2010-03-14T09:26:00",
                "subject": "Harbour strike",
                "origin": "Embassy Mexico",
                "classification": "CONFIDENTIAL",
                "tags": ["MX", "PREL"],
                "snippet": None,
            }
        ],
    }
    page = run_json(capsys, "search", "--tag", "PREL", "--limit", "2", "--sort", "newest")
    assert page["total"] == 3 and [h["ref_id"] for h in page["hits"]] == [
        "10MEXICO3",
        "09ATLANTIS2",
    ]
    dated = run_json(capsys, "search", "--from", "2009-01-01", "--to", "2009-03-14")
    assert [h["ref_id"] for h in dated["hits"]] == ["09ATLANTIS2"]
    secret = run_json(capsys, "search", "--classification", "secret", "--offset", "0")
    assert [h["ref_id"] for h in secret["hits"]] == ["09ATLANTIS2"]


def test_search_with_a_query_has_snippets(capsys: pytest.CaptureFixture[str]) -> None:
    page = run_json(capsys, "search", "harbour", "--tag", "MX")
    assert page["total"] == 1 and "**harbour**" in page["hits"][0]["snippet"]
    code, out, err = run(capsys, "search", "harbour")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "2 cables"
    assert (
        sum(line.startswith(("08ATLANTIS1  2008-02-29", "10MEXICO3  2010-03-14")) for line in lines)
        == 2
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "--from", "2009-13-01"], "--from: '2009-13-01' is not a real date"),
        (["search", "--to", "14/03/2009"], "--to: '14/03/2009' is not a date written YYYY-MM-DD"),
        (
            ["search", "--from", "2010-01-02", "--to", "2010-01-01"],
            "--from 2010-01-02 is after --to 2010-01-01",
        ),
        (["search", "--limit", "0"], "--limit: must be a whole number of at least 1, not '0'"),
        (["search", "--offset", "-1"], "--offset: must be a whole number of at least 0, not '-1'"),
        (["stats", "--from", "2009-02-30"], "--from: '2009-02-30' is not a real date"),
        (["random", "--to", "x"], "--to: 'x' is not a date written YYYY-MM-DD"),
        (["on-this-day", "--date", "02-30"], "--date: '02-30' is not a day of the year"),
        (["related", "09nowhere1"], "09NOWHERE1 is not in the cable store"),
        (["cites", "09NOWHERE1"], "09NOWHERE1 is not in the cable store"),
    ],
)
def test_bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run(capsys, *argv) == (1, "", f"cablebot: error: {message}\n")


def test_cites_and_cited_by(capsys: pytest.CaptureFixture[str]) -> None:
    cites = run_json(capsys, "cites", "09atlantis2")
    assert [(c["ref_id"], c["in_store"], c["subject"]) for c in cites] == [
        ("08ATLANTIS1", True, "Harbour works"),
        ("01NOWHERE9", False, None),
    ]
    cited_by = run_json(capsys, "cited-by", "08ATLANTIS1")
    assert [c["ref_id"] for c in cited_by] == ["09ATLANTIS2", "10MEXICO3"]
    assert set(cited_by[0]) == {"ref_id", "subject", "created", "in_store"}
    assert (
        run(capsys, "cited-by", "01nowhere9")[1]
        == "09ATLANTIS2  2009-03-14  SUBJECT OF 09ATLANTIS2\n"
    )
    assert run(capsys, "cites", "08ATLANTIS1")[1] == "08ATLANTIS1 cites no cable\n"


def test_related_explains_itself(capsys: pytest.CaptureFixture[str]) -> None:
    related = run_json(capsys, "related", "08ATLANTIS1", "--limit", "5")
    assert [(r["ref_id"], r["why"]) for r in related] == [
        ("10MEXICO3", ["cites it", "similar words"]),  # (PREL is on every cable: no weight)
        ("09ATLANTIS2", ["cites it"]),
    ]
    assert related[0]["score"] > related[1]["score"] > 0
    code, out, _ = run(capsys, "related", "08ATLANTIS1")
    assert code == 0 and out.splitlines()[1].endswith("SUBJECT OF 09ATLANTIS2  (cites it)")


def test_random_and_on_this_day(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_json(capsys, "random", "--tag", "MX")["ref_id"] == "10MEXICO3"
    assert run_json(capsys, "random", "--tag", "ZZ") is None
    assert run(capsys, "random", "--tag", "ZZ")[1] == "no stored cable matches\n"
    day = run_json(capsys, "on-this-day", "--date", "03-14")
    assert day["total"] == 2 and [h["ref_id"] for h in day["hits"]] == ["09ATLANTIS2", "10MEXICO3"]
    assert run_json(capsys, "on-this-day", "--date", "2-29")["total"] == 1


def test_stats(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_json(capsys, "stats") == {
        "total": 3,
        "by": "year",
        "counts": [
            {"key": "2008", "count": 1},
            {"key": "2009", "count": 1},
            {"key": "2010", "count": 1},
        ],
    }
    by_tag = run_json(capsys, "stats", "--by", "tag", "--origin", "atlantis")
    assert by_tag["counts"] == [{"key": "PREL", "count": 2}, {"key": "AT", "count": 1}]
    code, out, _ = run(capsys, "stats", "--by", "month", "--tag", "MX")
    assert (code, out) == (0, "1 cable, by month\n2010-03         1\n")
