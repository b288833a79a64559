"""Vocabularies: the origin table against the published IDs, classifications, the TAGS table."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.vocab import (
    CLASSIFICATIONS,
    KNOWN_ORIGINS,
    KNOWN_YEARS,
    MALFORMED_REF_IDS,
    parse_tag_table,
)


def test_origins_hold_real_posts_and_not_look_alikes() -> None:
    assert {"MEXICO", "STATE", "USUNNEWYORK", "BANDARSERIBEGAWAN", "LIBREVILLE"} <= KNOWN_ORIGINS
    assert not {"AM", "D", "ABC", "PM", "TH", "ND"} & KNOWN_ORIGINS
    assert all(
        origin.isascii() and origin.isalpha() and origin.isupper() for origin in KNOWN_ORIGINS
    )


def test_years_span_the_published_decades() -> None:
    assert {"66", "08", "10"} <= KNOWN_YEARS
    assert not {"11", "19", "25", "65"} & KNOWN_YEARS


def test_malformed_ids_are_the_published_oddities() -> None:
    assert {"7575LIBREVILLE1895", "08SECTION01OF03CAIRO1416"} <= MALFORMED_REF_IDS
    assert len(MALFORMED_REF_IDS) == 53


def test_generated_tables_match_the_month_index(month_index: Path) -> None:
    well_formed = re.compile(r"([0-9]{2})([A-Z]+)[1-9][0-9]{0,5}")
    origins, years, malformed = set(), set(), set()
    with gzip.open(month_index, "rt", encoding="utf-8") as handle:
        for line in handle:
            ref_id = line.partition(",")[0]
            match = well_formed.fullmatch(ref_id)
            if match:
                years.add(match[1])
                origins.add(match[2])
            else:
                malformed.add(ref_id)
    assert origins == KNOWN_ORIGINS
    assert years == KNOWN_YEARS
    assert malformed == MALFORMED_REF_IDS


def test_classifications_run_from_least_to_most_restrictive() -> None:
    assert CLASSIFICATIONS == (
        "UNCLASSIFIED",
        "UNCLASSIFIED//FOR OFFICIAL USE ONLY",
        "CONFIDENTIAL",
        "CONFIDENTIAL//NOFORN",
        "SECRET",
        "SECRET//NOFORN",
    )


def test_parse_tag_table() -> None:
    text = "code\tmeaning\r\nPREL\tExternal Political Relations\r\n\r\nAT&T\tAT&T\nPREL\tlater\n"
    assert parse_tag_table(text) == {"PREL": "External Political Relations", "AT&T": "AT&T"}


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", "line 1"),
        ("tag\tmeaning\nPREL\tx\n", "line 1"),
        ("code\tmeaning\nPREL\tx\nPGOV no tab\n", "line 3"),
        ("code\tmeaning\n\tno code\n", "line 2"),
        ("code\tmeaning\nPREL\t\n", "line 2"),
        ("code\tmeaning\nPREL\tx\ty\n", "line 2"),
    ],
)
def test_parse_tag_table_names_the_bad_line(text: str, where: str) -> None:
    with pytest.raises(ValueError, match=where):
        parse_tag_table(text)


_CODES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-&", min_size=1, max_size=8)
_MEANINGS = (
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1)
    .map(str.strip)
    .filter(bool)
)


@settings(max_examples=100)
@given(st.dictionaries(_CODES, _MEANINGS, max_size=20))
def test_parse_tag_table_round_trips(table: dict[str, str]) -> None:
    text = "code\tmeaning\n" + "".join(f"{code}\t{meaning}\n" for code, meaning in table.items())
    assert parse_tag_table(text) == table


def test_parse_the_real_tag_table(tags_table: Path) -> None:
    table = parse_tag_table(tags_table.read_text(encoding="utf-8"))
    assert len(table) == 1363
    assert table["PREL"]
