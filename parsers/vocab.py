"""Fixed vocabularies of the cables: origin codes of reference IDs, TAGS, classifications."""

from __future__ import annotations

from parsers._origins import MALFORMED_IDS, ORIGINS, YEARS

KNOWN_ORIGINS: frozenset[str] = ORIGINS
"""Origin parts of the published reference IDs (MEXICO, STATE, USUNNEWYORK, ...)."""

KNOWN_YEARS: frozenset[str] = YEARS
"""Two-digit years that start a published reference ID ("66", "72", ..., "10")."""

MALFORMED_REF_IDS: frozenset[str] = MALFORMED_IDS
"""The published IDs that do not fit YY+ORIGIN+serial (`7575LIBREVILLE1895`, ...)."""

CLASSIFICATIONS: tuple[str, ...] = (
    "UNCLASSIFIED",
    "UNCLASSIFIED//FOR OFFICIAL USE ONLY",
    "CONFIDENTIAL",
    "CONFIDENTIAL//NOFORN",
    "SECRET",
    "SECRET//NOFORN",
)
"""The header classifications of the cable site, from least to most restrictive."""

TAG_TABLE_HEADER = "code\tmeaning"


def parse_tag_table(text: str) -> dict[str, str]:
    """TAGS code -> meaning from the `tags.tsv` format (header `code<TAB>meaning`).

    Raises ValueError naming the line when the header or a row is malformed. Blank lines are
    skipped; a code listed twice keeps its first meaning.
    """
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].rstrip("\r") != TAG_TABLE_HEADER:
        found = lines[0][:60] if lines else "an empty text"
        raise ValueError(f"tags table line 1: expected header 'code<TAB>meaning', got {found!r}")
    table: dict[str, str] = {}
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        code, tab, meaning = line.partition("\t")
        code, meaning = code.strip(), meaning.strip()
        if not tab or not code or not meaning or "\t" in meaning:
            raise ValueError(
                f"tags table line {number}: expected 'code<TAB>meaning', got {line[:60]!r}"
            )
        table.setdefault(code, meaning)
    return table
