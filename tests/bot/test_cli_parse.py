"""`cablebot parse PATH [--json]`: pages, saved pages and telegrams; one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _json(capsys: pytest.CaptureFixture[str], path: Path) -> dict[str, object]:
    assert main(["parse", str(path), "--json"]) == 0
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


@pytest.mark.parametrize(
    "path",
    [
        FIXTURES / "pages" / "09ELBONIA1234.html",
        FIXTURES / "pages" / "09ELBONIA1234.txt",
        FIXTURES / "telegrams" / "09ELBONIA1234.txt",
    ],
)
def test_json_for_every_kind_of_input(capsys: pytest.CaptureFixture[str], path: Path) -> None:
    data = _json(capsys, path)
    assert str(data["subject"]).startswith("ELBONIA: MUD HARVEST MINISTER")
    paragraphs = data["paragraphs"]
    assert isinstance(paragraphs, list)
    assert paragraphs[0] == {
        "number": 1,
        "marking": "C",
        "text": "Summary: The Minister of Mud Harvest told us on March 1 that the national rain "
        "forecast is wrong and asked for a second opinion from U.S. experts (see para 7.) "
        "End summary.",
    }
    assert [p["number"] for p in paragraphs] == [1, 2, 3, 5, 6, 7]
    if path.suffix == ".html":
        assert data["created"] == "2009-03-02T12:00:00"
        assert data["origin"] == "Embassy Elbonia"


def test_seed_as_json(capsys: pytest.CaptureFixture[str], seed_page: Path) -> None:
    data = _json(capsys, seed_page)
    assert data["subject"] == "SCENESETTER FOR SENATOR SPECTER'S VISIT TO MEXICO AUGUST 17-19"
    assert data["tags"] == ["PREL", "PGOV", "SNAR", "ECON", "OREP", "MX"]
    assert data["classification"] == "UNCLASSIFIED//FOR OFFICIAL USE ONLY"
    assert data["origin"] == "Embassy Mexico"
    assert data["created"] == "2008-08-14T18:42:00"
    paragraphs = data["paragraphs"]
    assert isinstance(paragraphs, list)
    assert [(p["number"], p["marking"]) for p in paragraphs] == [(n, "SBU") for n in range(1, 11)]
    assert paragraphs[5]["text"].endswith("anti-corruption efforts.")
    assert not paragraphs[9]["text"].endswith("BASSETT")


def test_readable_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(FIXTURES / "telegrams" / "73FREEDONIA42.txt")]) == 0
    out = capsys.readouterr().out
    assert "Subject: GRAIN TRADE TALKS" in out
    assert "Tags: ETRD EAGR FR" in out
    assert "¶2. NEXT ROUND SET FOR FRIDAY." in out


def test_not_a_cable(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Shopping list\n\neggs, milk\n")
    assert main(["parse", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("cablebot: error:")
    assert "notes.txt" in lines[0] and "not a cable" in lines[0]


def test_unreadable_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["parse", str(tmp_path / "missing.html")]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "cannot read" in err and "missing.html" in err
