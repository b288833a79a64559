"""Cable telegram text → header fields and numbered paragraphs (no ¶ anchors needed).

The input is the body of a telegram as the public dump holds it: a classification banner,
caveats, TAGS, SUBJECT, REF, `Classified By:`, then numbered paragraphs that may be hard-wrapped,
broken by page-break lines, separated by headings and followed by trailers and a signature.
`parse_routing_header` reads the separate routing header (VZCZC..., FM, TO, INFO).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import Any

from parsers.models import Cable
from parsers.vocab import KNOWN_ORIGINS

__all__ = [
    "is_page_break",
    "normalise_reference",
    "parse_references",
    "parse_routing_header",
    "parse_telegram",
    "telegram_fields",
]

# --- lines that are not text -------------------------------------------------------------

_PAGE_BREAK_CORE = (
    r"(?:[A-Za-z][A-Za-z .'-]{0,40}?[ \t]+\d{4,8}[ \t]+\d{3}(?:\.\d)?[ \t]+OF[ \t]+\d{3}"
    r"|PAGE[ \t]+\d{2,3}[ \t]+[A-Z]+[ \t]*\d+\b.*)"
)
_PAGE_BREAK = re.compile(rf"^\s*{_PAGE_BREAK_CORE}\s*$", re.IGNORECASE)
_RULE = re.compile(r"^\s*(?:[-=_*~—–][ \t]?){3,}\s*$")
_SLASH_HEADING = re.compile(r"^\s*//[^/].*//\s*$")
_DASHED_HEADING = re.compile(
    r"^\s*(?:(?:[-—][ \t]?){3,}\s*\S.*?\s*(?:[-—][ \t]?){3,}|\S.{0,80}?\s+(?:[-—][ \t]?){3,})\s*$"
)
_INLINE_PAGE_BREAK = re.compile(
    r"(?<![ \t])[ \t]+[A-Z][A-Z .'-]{1,40}?[ \t]+\d{8}[ \t]+\d{3}(?:\.\d)?[ \t]+OF[ \t]+\d{3}\b"
)
_PAGE_HINT = re.compile(r"\d{3}(?:\.\d)?[ \t]+OF[ \t]+\d{3}|PAGE[ \t]+\d", re.I)
_GLUED_DASHED_HEADING = re.compile(r"(?<=[.?!\"”)])\s+[A-Z][^.?!]{2,70}?\s*(?:[-—][ \t]?){3,}\s*$")
_GLUED_HEADING = re.compile(r"(?<=[.?!\"”)])\s+[A-Z][^.?!]{2,70}$")
_TRAILER_START = re.compile(
    r"^\s*\"?(?:please\s+)?visit\b.*(?:classified|web\s*site|sipr)"
    r"|^\s*\*{5,}",
    re.IGNORECASE,
)
_TRAILER_LINE = re.compile(
    r"^\s*(?:BT|NNNN|EXEMPT|GP-\d|best regards,?|sincerely,?|SELECT \* FROM .*|#\d+|\.)\s*$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^\s*[A-Z][A-Za-z'-]+(?:\s+[A-Z][A-Za-z'.-]*){0,2}(?:\s+\.)?\s*$")
_INLINE_SIGNATURE = re.compile(
    r"(?<=[.!?\")\]])[ \t]+(?!(?:END|COMMENT|SUMMARY|NOTE|TEXT|BT|CONFIDENTIAL|SECRET|"
    r"UNCLASSIFIED|NOFORN|SIPDIS)\b)[A-Z][A-Z'-]{2,}(?:[ \t]+[A-Z][A-Z'-]{1,})?"
    r"(?:[ \t]+(?:UNCLASSIFIED|CONFIDENTIAL|SECRET|NOFORN)(?://NOFORN)?)?[ \t]*$"
)
_INLINE_TRAILER = re.compile(
    r"(?<![ \t])[ \t]+\"?(?:please[ \t]+)?visit[ \t]+\S+(?:[ \t]+\S+){0,3}?"
    r"[ \t]+classified[ \t]+web[ \t]*site.*$",
    re.IGNORECASE,
)
_INLINE_SIGNER = re.compile(
    r"(?:(?<=[a-z0-9,:;])|(?<=END COMMENT)|(?<=END SUMMARY))[ \t]+[A-Z][A-Z'-]{3,}"
    r"(?:[ \t]+(?:JR|SR|III))?[ \t]*$"
)
_SIGNED_ENDS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ'-")
_NOT_SIGNATURE = re.compile(r"\b(?:END|COMMENT|SUMMARY|NOTE|TEXT)\b", re.IGNORECASE)

# --- paragraph starts, markings, sub-items -----------------------------------------------

_MARK = (
    r"(?:(?:U|SBU|C|S|TS|LOU|FOUO|CUI|NF|UNCLASSIFIED|CONFIDENTIAL|SECRET)"
    r"(?:\s*/{1,2}\s*[A-Z][A-Z0-9 ,/-]{0,30}?)?|/{1,2}\s*[A-Z][A-Z0-9 ,/-]{0,30}?)"
)
_PARA_START = re.compile(
    rf"^\s{{0,6}}¶?\s*(?P<num>\d{{1,3}})\s*\.{{1,2}}(?=\s|\(|$|[A-Z][a-z])\s*"
    rf"(?:\(\s*(?P<mark>{_MARK})\s*\)\s*)?",
    re.IGNORECASE,
)
_ITEM = re.compile(
    r"^\s*(?:-{1,3}|[*•–—·])\s*(?=\S)(?!-)"
    r"|^\s*(?:[A-Za-z]|\d{1,2}|[ivxIVX]{1,4})[.)]\s+\S"
    r"|^\s*\((?:[A-Za-z]|\d{1,2}|[ivxIVX]{1,4})\)\s+\S"
)
_NUMBER_ITEM = re.compile(r"^\s*\d{1,3}\.\s")
_MID_SENTENCE = re.compile(r"[a-z,;]\s*$")
_SENTENCE_END = re.compile(r"""[.?!:;"')\]]\s*$""")

# --- header fields of the body -----------------------------------------------------------

_BANNER_WORDS = {
    "UNCLAS": "UNCLASSIFIED",
    "UNCLASSIFIED": "UNCLASSIFIED",
    "CONFIDENTIAL": "CONFIDENTIAL",
    "SECRET": "SECRET",
    "LIMITEDOFFICIALUSE": "LIMITED OFFICIAL USE",
    "TOPSECRET": "TOP SECRET",
}
_BANNER = re.compile(
    r"^\s*(?P<cls>U\s?N\s?C\s?L\s?A\s?S(?:\s?S\s?I\s?F\s?I\s?E\s?D)?"
    r"|C\s?O\s?N\s?F\s?I\s?D\s?E\s?N\s?T\s?I\s?A\s?L"
    r"|(?:T\s?O\s?P\s+)?S?\s?E\s?C\s?R\s?E\s?T|LIMITED\s+OFFICIAL\s+USE)\b",
    re.IGNORECASE,
)
_CAVEATS = (
    "SIPDIS",
    "NOFORN",
    "NODIS",
    "EXDIS",
    "LIMDIS",
    "STADIS",
    "ORCON",
    "NOCONTRACT",
    "PROPIN",
    "SENSITIVE",
    "FOR OFFICIAL USE ONLY",
    "NOTAL",
)
_CAVEAT_LINE = re.compile(
    r"^\s*(?:(?:" + "|".join(_CAVEATS) + r")\b[\s,;/]*)+$",
    re.IGNORECASE,
)
_CAVEAT_INITIALS = frozenset(c[0] for c in _CAVEATS)  # a caveat line starts with one
_CAVEAT_WORD = re.compile(r"\b(?:" + "|".join(_CAVEATS) + r")\b", re.IGNORECASE)
_TAGS = re.compile(r"(?:^|\s)TAGS\b\s*:?\s*(?P<rest>.*)$")
_TAG_TOKEN = re.compile(r"^[A-Z][A-Z0-9]{1,}$")
_SUBJECT = re.compile(r"^\s*(?:SUBJECT|SUBJ)\s*:\s*(?P<rest>.*)$|^\s*SUBJECT\s+(?P<up>[A-Z(].*)$")
_SUBJECT_CI = re.compile(r"^\s*(?:SUBJECT|SUBJ)\s*:\s*(?P<rest>.*)$", re.IGNORECASE)
_SUBJECT_MARK = re.compile(rf"^\(\s*{_MARK}\s*\)\s*", re.IGNORECASE)
_REF = re.compile(r"^\s*(?:REF|REFS|REFTEL|REFERENCES?)\b\s*[:.]?\s*(?P<rest>.*)$", re.IGNORECASE)
_STOPS_BLOCK = re.compile(
    r"^\s*(?:REF|REFS|REFTEL|REFERENCES?|CLASSIFIED\s+BY|E\.\s?O\.|EO\s+\d|TAGS|SUBJ|SUBJECT"
    r"|DERIVED\s+FROM|REASONS?\b)",
    re.IGNORECASE,
)
_CLASSIFIED_BY = re.compile(
    r"^\s*(?:CLASSIFIED|Classified|DECLASSIFIED|Declassified)\s+(?:BY|By|by)\b"
)
_SUMMARY_WORDS = (
    r"(?:(?:BEGIN|INTRODUCTION\s+AND|EXECUTIVE)\s+)?SUMMARY"
    r"(?:\s+AND\s+(?:COMMENT|ACTION\s+REQUEST|INTRODUCTION|ACTION\s+REQUESTED))?"
)
_SUMMARY_START = re.compile(rf"^\s*(?:\(\w+\)\s*)?{_SUMMARY_WORDS}\s*[:.\-]*\s*", re.I)
_SUMMARY_HEADING = re.compile(rf"^(?:\(\w+\)\s*)?{_SUMMARY_WORDS}\s*[:.]?$", re.I)
_SUMMARY_IN_PREAMBLE = re.compile(
    r"^[ \t]*(?:\(\w+\)[ \t]*)?(?:BEGIN\s+)?SUMMARY[ \t]*(?:[:.\-]|$)\s*", re.I | re.M
)
_END_SUMMARY = re.compile(r"\s*\bEND\s+(?:OF\s+)?(?:INTRODUCTION\s+AND\s+)?SUMMARY\b", re.I)


# --- the same, for whole texts ------------------------------------------------------------
# Matching a whole text once is much faster than matching each of its lines. A line pattern
# `^X` becomes `\nX` with whitespace that stops at newlines, used on "\n" + text: each match
# starts at the newline before its line, and X matches exactly where it matched on the line.


def _on_lines(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """`pattern` (anchored with ^ at line start) for "\n" + text."""
    source = pattern.pattern
    assert "[^" not in source and "\\n" not in source  # ^ is only the anchor; no newlines
    source = source.replace("^", "").replace(r"\s", r"[^\S\n]")
    return re.compile(rf"\n(?:{source})", pattern.flags | re.M)


def _line_numbers(pattern: re.Pattern[str], text: str) -> Iterator[tuple[int, re.Match[str]]]:
    """(line number, match) of each match in text (for an `_on_lines` pattern, "\n" + text)."""
    row = pos = 0
    for m in pattern.finditer(text):
        row += text.count("\n", pos, m.start())
        pos = m.start()
        yield row, m


def _rows(pattern: re.Pattern[str], text: str) -> dict[int, None]:
    """The numbers of the lines that a pattern matches in, in order."""
    return dict.fromkeys(row for row, _ in _line_numbers(pattern, text))


_PARA_START_M = _on_lines(_PARA_START)
# _ITEM for "\n" + text, its leading whitespace taken once (every branch then needs a
# non-space character, so nothing is lost): the same matches, found faster
_ITEM_M = re.compile(
    r"\n[^\S\n]*+(?:(?:-{1,3}|[*•–—·])[^\S\n]*(?=\S)(?!-)"
    r"|(?:[A-Za-z]|\d{1,2}|[ivxIVX]{1,4})[.)][^\S\n]+\S"
    r"|\((?:[A-Za-z]|\d{1,2}|[ivxIVX]{1,4})\)[^\S\n]+\S)"
)
_NUMBER_ITEM_M = _on_lines(_NUMBER_ITEM)
_CLASSIFIED_BY_M = _on_lines(_CLASSIFIED_BY)
# the lines where _PARA_START_M or _ITEM_M may match: one fast pass instead of two
_MAY_START = re.compile(r"\n[^\S\n]*+(?:[\d¶(*•–—·-]|[A-Za-z]{1,4}[.)])")
_TRAILER_START_M = _on_lines(_TRAILER_START)
_INLINE_TRAILER_M = re.compile(_INLINE_TRAILER.pattern, _INLINE_TRAILER.flags | re.M)
# a line needs two of these (or "//") to be a rule or a decorated heading
_DECORATION = re.compile(r"[-=_*~—–/][ \t]?[-=_*~—–/]")
# on ASCII text: those characters (and #) turned into # by bytes.translate, which is fast
_DECORATION_MARKS = bytes.maketrans(b"-=_*~/", b"######")
_DECORATION_BYTES = re.compile(rb"#[ \t]?#")
_TEXT_RUN = re.compile(r"^[^\S\n]*\S.*+(?:\n[^\S\n]*\S.*+)*+", re.M)  # non-blank lines
_BLANK_AFTER_FIRST = re.compile(r"\n[^\S\n]*+(?:\n|\Z)")
_HYPHEN_BREAK = re.compile(r"-[^\S\n]*\n")
_LOWER = re.compile("[a-z]")
_WORD = re.compile(r"\w")
# lines that may hold a page break: a superset of _PAGE_HINT, fast on lower-cased ASCII text
_PAGE_HINTS_ASCII = (re.compile(r"of[ \t]+\d{3}"), re.compile(r"page[ \t]+\d"))


def _page_hint_rows(text: str, lower: str) -> list[int]:
    """The lines of a text where _PAGE_HINT matches (and maybe a few more), in order;
    `lower` is text.lower()."""
    if not text.isascii():
        return list(_rows(_PAGE_HINT, text))
    return sorted(_rows(_PAGE_HINTS_ASCII[0], lower).keys() | _rows(_PAGE_HINTS_ASCII[1], lower))


@dataclass(slots=True)
class _Block:
    """A paragraph being collected: its number, marking and raw lines."""

    number: int
    marking: str | None
    lines: list[str] = field(default_factory=list)
    row: int = 0  # the line it starts on
    after: int = -1  # the line the previous paragraph starts on


def is_page_break(line: str) -> bool:
    """True for a telegram page-break line such as `MEXICO 00002498  002 OF 003`."""
    return bool(_PAGE_BREAK.match(line))


# --- references ---------------------------------------------------------------------------

_REF_STOPWORDS = frozenset(
    [
        "REF",
        "REFS",
        "REFTEL",
        "REFTELS",
        "PARA",
        "PARAS",
        "PARAGRAPH",
        "NO",
        "NR",
        "NUMBER",
        "SECTION",
        "OF",
        "AND",
        "OR",
        "THE",
        "SEE",
        "IIR",
        "TD",
        "MAIL",
        "EMAIL",
        "CIRCULAR",
        "TO",
        "FROM",
        "IN",
        "ON",
        "AT",
        "BY",
        "FOR",
        "ALSO",
        "NOTAL",
        "EXDIS",
        "NODIS",
        "LIMDIS",
        "SEPTEL",
        "MSG",
        "MESSAGE",
        "CABLE",
        "PREVIOUS",
        "NOTE",
        "DATED",
        "UNCLAS",
        "CONFIDENTIAL",
        "SECRET",
        "SBU",
        "FOUO",
        "NOFORN",
        "SIPDIS",
        "JAN",
        "FEB",
        "MAR",
        "APR",
        "MAY",
        "JUN",
        "JUL",
        "AUG",
        "SEP",
        "SEPT",
        "OCT",
        "NOV",
        "DEC",
        "JANUARY",
        "FEBRUARY",
        "MARCH",
        "APRIL",
        "JUNE",
        "JULY",
        "AUGUST",
        "SEPTEMBER",
        "OCTOBER",
        "NOVEMBER",
        "DECEMBER",
        "DTG",
        "PAGE",
        "PAGES",
        "TABLE",
        "ITEM",
        "ITEMS",
        "LINE",
        "RES",
        "RESOLUTION",
        "UNSCR",
        "ARTICLE",
        "CHAPTER",
        "SEC",
        "PL",
        "LAW",
        "ANNEX",
        "TAB",
        "AS",
        "WITH",
        "MIN",
        "FY",
        "CY",
        "NSPD",
        "EO",
    ]
)
_REF_NUMBER = re.compile(r"(?<=[A-Z ])0*(\d{1,7})(?![\d/])(?![.:-]\d)")
_REF_WORDS = re.compile(r"(?:^|[^A-Z\-/])([A-Z]+(?:[ \-]+[A-Z]+){0,4})[ \-]*$")
_REF_YEAR = re.compile(r"(?:^|[^\d/.-])(\d{2}|19[6-9]\d|200\d|2010)[ ]*$")
_REF_ID = re.compile(r"^\d{2}[A-Z]{2,20}[1-9]\d{0,5}$")
_ORIGIN_ALIASES = {
    "SECSTATE": "STATE",
    "USUN": "USUNNEWYORK",
    "RIO": "RIODEJANEIRO",
    "UNVIE": "UNVIEVIENNA",
    "USEU": "USEUBRUSSELS",
    "USNATO": "USNATO",
}
_WORD_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ -"  # what _REF_WORDS matches after its first character
_ORIGIN_SPLIT = re.compile(r"[\s\-]+")
_UPPER_WORD = re.compile(r"[A-Z]+")
_DOUBLED_FIRST = re.compile(r"^\s*([CS])\1(?= )")
_SENDER_WORDS = frozenset(["AMEMBASSY", "EMBASSY", "AMCONSUL", "CONSULATE", "USMISSION", "MISSION"])


@lru_cache(maxsize=8192)
def _origin_code(origin: str) -> str | None:
    """`"LA PAZ"` → `"LAPAZ"`, `"SECSTATE WASHDC"` → `"STATE"`; None unless it is an origin of
    published reference IDs or, failing that, a single word that could be one."""
    words = [w for w in _ORIGIN_SPLIT.split(origin.upper()) if w]
    if words and words[-1] == "WASHDC":
        words = words[:-1]
    while words and words[0] in _SENDER_WORDS:
        words = words[1:]
    name = "".join(words)
    name = _ORIGIN_ALIASES.get(name, name)
    if name in KNOWN_ORIGINS:
        return name
    plausible = len(words) == 1 and len(name) >= 4 and name not in _REF_STOPWORDS
    return name if plausible and set(name) != {"X"} else None


def normalise_reference(year: str, origin: str, serial: str) -> str | None:
    """`("08", "LA PAZ", "02974")` → `"08LAPAZ2974"`; None when it cannot be a reference ID
    (an origin that never sent a published cable, a serial of 0 or of 7 digits)."""
    name = _origin_code(origin)
    return _reference_id(year, name, serial) if name else None


def _reference_id(year: str, code: str, serial: str) -> str | None:
    """`("2008", "LAPAZ", "02974")` → `"08LAPAZ2974"`; None unless that is a reference ID."""
    ref = f"{year[-2:]}{code}{serial.lstrip('0')}"
    return ref if _REF_ID.match(ref) else None


def _origin_words(before: str) -> tuple[str, int] | None:
    """The known origin whose name ends `before` (the longest of its last 1-4 words) and
    where it starts; None when there is none."""
    if not before.rstrip(" -")[-1:].isupper():  # _REF_WORDS needs a letter there
        return None
    # its words and what follows them are of [A-Z -], after one other character or ^
    m = _REF_WORDS.search(before, max(0, len(before.rstrip(_WORD_CHARS)) - 1))
    if not m:
        return None
    spans = [(w.group(), w.start() + m.start(1)) for w in _UPPER_WORD.finditer(m.group(1))]
    for first in range(max(0, len(spans) - 4), len(spans)):
        origin = " ".join(word for word, _ in spans[first:])
        if spans[first][0] not in _REF_STOPWORDS and _origin_code(origin):
            return origin, spans[first][1]
    return None  # (the last word alone was tried last: unknown single words count)


@lru_cache(maxsize=8192)  # REF blocks cite the same origins with the same words around them
def _ref_prefix(before: str) -> tuple[str, str] | None:
    """The year ("" when it gives none) and origin code of a reference whose serial follows
    `before` (the upper-case text before it on its line), e.g. `("08", "LAPAZ")`; None when
    `before` does not end with an origin."""
    origin = _origin_words(before)
    if origin is None:
        return None
    head = before[: origin[1]]
    ym = _REF_YEAR.search(head, max(0, len(head.rstrip(" ")) - 5))  # (a year has 2-4 digits)
    if not ym and head[-1:].isdigit():
        return None  # glued to other digits, e.g. a DTG such as 261447ZNOV08
    name = _origin_code(origin[0])
    if not ym and name not in KNOWN_ORIGINS:
        return None  # an origin no published cable has: only with an explicit year
    return (ym.group(1) if ym else "", name) if name else None


def parse_references(text: str, year: str) -> tuple[str, ...]:
    """Reference IDs cited in a REF block, e.g. `A. 08 STATE 1234 B. LA PAZ 2974`.

    `year` (two digits, may be empty) is the citing cable's year, used when a reference
    gives none; references without any year are dropped. Duplicates are removed.
    """
    text = text.upper()
    found: list[str] = []
    for m in _REF_NUMBER.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        before = text[max(line_start, m.start() - 60) : m.start()]
        if not before.rstrip(" -")[-1:].isupper():
            continue  # no origin there (a year, a list letter): not worth a cache entry
        # _ref_prefix reads its words of [A-Z -] at the end and at most 6 characters before
        # them (see its searches): only those, for its cache
        prefix = _ref_prefix(before[max(0, len(before.rstrip(_WORD_CHARS)) - 6) :])
        if prefix is None or not (ref_year := prefix[0] or year):
            continue
        ref = _reference_id(ref_year, prefix[1], m.group(1))
        if ref and ref not in found:
            found.append(ref)
    return tuple(found)


# --- the routing header -------------------------------------------------------------------

_DTG = re.compile(r"^\s*(?P<prec>[ZOPRM])[ZOPRM]?\s+(?P<dtg>\d{6}Z\s+[A-Z]{3}\s+\d{2})\b")
_PRECEDENCE = {"Z": "FLASH", "O": "IMMEDIATE", "P": "PRIORITY", "R": "ROUTINE"}
_ADDRESSEE_TAIL = re.compile(
    r"\s+(?:NIACT\s+)?(?:IMMEDIATE|PRIORITY|ROUTINE|FLASH)(?:\s+\d+)?\s*$|\s+\d+\s*$"
)
_ROUTING = re.compile(r"^[A-Z]{4,7}/")


@lru_cache(maxsize=4096)  # the same addressees come back cable after cable
def _addressee(line: str) -> str:
    line = _ROUTING.sub("", line.strip())
    return _ADDRESSEE_TAIL.sub("", line).strip()


def parse_routing_header(text: str) -> dict[str, object]:
    """Precedence, date-time group, sender, TO and INFO addressees of a routing header."""
    result: dict[str, object] = {"precedence": None, "date_time_group": None, "sender": None}
    to: list[str] = []
    info: list[str] = []
    current: list[str] | None = None
    for raw in text.replace("\r", "").split("\n"):
        line = raw.strip()
        if not line:
            continue
        # (line is stripped; the first group counts, and RUEH... addressees start with R)
        wanted = line[0] in "ZOPRM" and result["date_time_group"] is None
        if wanted and (dtg := _DTG.match(line)):
            result["precedence"] = _PRECEDENCE.get(dtg.group("prec"))
            result["date_time_group"] = " ".join(dtg.group("dtg").split())
            current = None
        elif line.startswith("FM "):
            result["sender"] = line[3:].strip()
            current = None
        elif line.startswith("TO "):
            current = to
            current.append(_addressee(line[3:]))
        elif line.startswith("INFO "):
            current = info
            current.append(_addressee(line[5:]))
        elif line in ("BT", "NNNN") or line.startswith(("ZEN", "ZFR")):
            current = None
        elif current is not None:
            current.append(_addressee(line))
    result["to"] = tuple(filter(None, to))
    result["info"] = tuple(filter(None, info))
    return result


# --- the body -----------------------------------------------------------------------------


def _caveat_words(line: str) -> list[str]:
    """The caveats a line names, upper-cased (the search is skipped when none can match)."""
    upper = line.upper()
    if line.isascii() and not any(word in upper for word in _CAVEATS):
        return []
    return [c.upper() for c in _CAVEAT_WORD.findall(line)]


def _classification(banner: str, caveats: tuple[str, ...]) -> str:
    if _DOUBLED_FIRST.match(banner):  # "SS E C R E T"
        banner = _DOUBLED_FIRST.sub(r"\1", banner)
    m = _BANNER.match(banner)
    if not m:
        return ""
    word = "".join(m.group("cls").split()).upper()  # "C O N F I D E N T I A L"
    base = _BANNER_WORDS.get(word, "SECRET" if word.endswith("ECRET") else word)
    if word.startswith("TOP"):
        base = "TOP SECRET"
    if "NOFORN" in caveats and base in ("CONFIDENTIAL", "SECRET"):
        return f"{base}//NOFORN"
    if base == "UNCLASSIFIED" and ("SENSITIVE" in caveats or "FOR OFFICIAL USE ONLY" in caveats):
        return "UNCLASSIFIED//FOR OFFICIAL USE ONLY"
    return base


def _accept(number: int, last: int | None, marked: bool, after_blank: bool) -> bool:
    """Whether a candidate number continues the paragraph sequence.

    Small steps forward and restarts at 1 are paragraphs; bigger jumps (an extract of a
    cable, skipped numbers) only with a marking such as `(C)` or after a blank line.
    """
    if last is None:
        return 1 <= number <= (200 if marked else 20)
    return number == 1 or last < number <= last + (30 if marked or after_blank else 5)


def _drop_page_breaks(lines: list[str], hinted: list[int]) -> list[str]:
    """Remove page-break lines with the blank lines around them; the text on both sides
    joins up, unless a sentence ended before the break (then a blank line stays).

    Only the `hinted` lines (`002 OF 003`, `PAGE 02`) can hold a page break."""
    out: list[str] = []
    hints = set(hinted)
    i = 0
    for row in hinted:
        if row < i:
            continue
        out.extend(lines[i:row])
        i = row + 1
        if not is_page_break(lines[row]):
            out.append(_INLINE_PAGE_BREAK.sub("", lines[row]))
            continue
        while out and not out[-1].strip():
            out.pop()
        while i < len(lines) and (not lines[i].strip() or (i in hints and is_page_break(lines[i]))):
            i += 1
        if out and i < len(lines) and _SENTENCE_END.search(out[-1]):
            out.append("")
    out.extend(lines[i:])
    return out


def _unwrapped(lines: list[str]) -> bool:
    """True for a body written one line per paragraph (the site's Dec 2010 style)."""
    if max(map(len, lines), default=0) <= 100:
        return False
    long = sum(1 for line in lines if len(line) > 100 and line.strip())
    return long > 0.2 * sum(1 for line in lines if line.strip())


def _join(lines: list[str], unwrapped: bool = False) -> str:
    """Hard-wrapped lines → prose; bullets, sub-items and blank-line-separated sub-blocks
    stay on their own lines (in an unwrapped body every line is its own)."""
    if unwrapped:
        return "\n".join(" ".join(words) for line in lines if (words := line.split()))
    out: list[str] = []
    for run in _TEXT_RUN.finditer("\n".join(lines)):  # each run of non-blank lines
        text = run.group()
        starts = [0]  # of the lines that begin an output line: the run's first, sub-items
        for item in _ITEM_M.finditer(text):  # at the newline before the line
            at = item.start()
            if _NUMBER_ITEM_M.match(text, at):  # "...in\n2009. The" is a wrapped number
                previous = text[text.rfind("\n", 0, at) + 1 : at]
                if _MID_SENTENCE.search(previous):
                    continue
            starts.append(at + 1)
        starts.append(len(text) + 1)
        out.extend(_flow(text[a : b - 1]) for a, b in pairwise(starts))
    return "\n".join(out)


def _flow(text: str) -> str:
    """Non-blank lines → one line; a word hyphenated at a line's end is joined up."""
    if "-" not in text or not _HYPHEN_BREAK.search(text):
        return " ".join(text.split())
    out = ""
    for raw in text.split("\n"):
        line = " ".join(raw.split())
        if out.endswith("-") and out[-2:-1].isalpha():
            out += line
        else:
            out += " " + line if out else line
    return out


def _decorated_rows(text: str) -> list[int]:
    """The lines with two of -=_*~—–/ in a row (or maybe #): rules or decorated headings."""
    if not text.isascii():
        return list(_rows(_DECORATION, text))
    data = text.encode("ascii").translate(_DECORATION_MARKS)
    found: list[int] = []
    row = pos = 0
    while m := _DECORATION_BYTES.search(data, pos):  # the first on a line, then the next line
        row += data.count(b"\n", pos, m.start())
        found.append(row)
        pos = data.find(b"\n", m.end())
        if pos < 0:
            break
    return found


@dataclass(slots=True)
class _Rows:
    """Where a body's special lines are (sorted line numbers), found in one pass each."""

    decorated: list[int]  # two of -=_*~—–/ (or more): a rule or a decorated heading?
    classified: list[int]  # Classified By lines
    items: list[int]  # bullets and sub-items

    @classmethod
    def of(cls, text: str, items: list[int], lower: str) -> _Rows:
        """Scan a body: its text, the lines that are sub-items and a lower-cased text that
        has all the body's words."""
        classified: list[int] = []
        if "lassified" in lower:
            classified = list(_rows(_CLASSIFIED_BY_M, "\n" + text))
        return cls(_decorated_rows(text), classified, items)

    @staticmethod
    def any(rows: list[int], start: int, end: int) -> bool:
        """Whether any of the rows is in start..end-1."""
        i = bisect_left(rows, start)
        return i < len(rows) and rows[i] < end

    @staticmethod
    def within(rows: list[int], start: int, end: int) -> list[int]:
        """The rows in start..end-1, counted from start."""
        i = bisect_left(rows, start)
        if i == len(rows) or rows[i] >= end:
            return []
        return [row - start for row in rows[i : bisect_left(rows, end, i)]]


def _plain_join(kept: list[str], start: int, rows: _Rows) -> str:
    """`_join(kept)` for lines that start on line `start` of the body and are the same as
    there (but the first): the body's scan says where its sub-items are."""
    if not kept:
        return ""
    text = "\n".join(kept)
    items = _Rows.within(rows.items, start + 1, start + len(kept))  # (line 0 starts anyway)
    blank: list[int] = []
    if not kept[0].strip() or _BLANK_AFTER_FIRST.search(text):
        blank = [row for row, line in enumerate(kept) if not line.strip()]
    elif not items:
        return _flow(text)
    items = [row + 1 for row in items]
    gaps = set(blank)
    cuts = set(blank)  # lines that end a run (blank) or start an output line (sub-items)
    for row in items:
        if (
            row - 1 not in gaps
            and _NUMBER_ITEM.match(kept[row])
            and _MID_SENTENCE.search(kept[row - 1])
        ):
            continue  # "...in\n2009. The" is a wrapped number
        cuts.add(row)
    out: list[str] = []
    first = 0
    for row in sorted(cuts):
        if first < row:
            out.append(_flow("\n".join(kept[first:row])))
        first = row + 1 if row in gaps else row
    if first < len(kept):
        out.append(_flow("\n".join(kept[first:])))
    return "\n".join(out)


def _drop_headings(lines: list[str], decorated: set[int], classified: list[int]) -> list[str]:
    """Remove rules, `//HEADING//` and free-standing heading lines, underlined lines that
    end the paragraph (the next one's heading), and `Classified By:` lines, from a
    paragraph's lines; an underlined line with text after it stays, on a line of its own.

    `decorated` has every line with two of -=_*~—–/ (rules, decorated headings; more lines
    do no harm), `classified` the Classified By lines (the body's scans, `_Rows`)."""
    if not lines:
        return []
    # only these lines can be dropped or changed: the first, the decorated ones, lines above
    # a rule and Classified By lines
    rules = {row for row in decorated if _RULE.match(lines[row])}
    special = decorated | {row - 1 for row in rules} | {0}
    special.update(classified)
    kept: list[str] = []
    headings: list[int] = []  # where kept has an underlined line
    skip_to = -1
    plain_from = 0  # lines from here to the next special one are kept as they are
    for i in sorted(special):
        if i < 0:
            continue
        kept.extend(lines[max(plain_from, skip_to + 1) : i])
        plain_from = i + 1
        line = lines[i]
        underlined = i + 1 in rules and line.strip() and not _box_top(lines, i + 1, rules)
        if i == 0:  # the paragraph's own first line; a heading may be glued to its end
            line = _GLUED_HEADING.sub("", line) if underlined else line
            kept.append(_GLUED_DASHED_HEADING.sub("", line) if i in decorated else line)
        elif (
            i <= skip_to
            or i in rules
            or (i in decorated and (_SLASH_HEADING.match(line) or _DASHED_HEADING.match(line)))
            or (underlined and not _WORD.search(line))
        ):
            continue
        elif _CLASSIFIED_BY.match(line):  # with its wrapped lines, up to a blank line
            skip_to = next((j for j in range(i + 1, len(lines)) if not lines[j].strip()), i)
        elif underlined:  # a line of its own, without its rule (dropped below if no text follows)
            headings.append(len(kept) + 1)
            kept += ["", line, ""]
        elif line.lstrip().startswith("//") and (
            end := next(
                (
                    j
                    for j in range(i + 1, i + 3)
                    if lines[j : j + 1] and lines[j].rstrip().endswith("//")
                ),
                None,
            )
        ):
            skip_to = end
        else:
            kept.append(line)
    kept.extend(lines[max(plain_from, skip_to + 1) :])
    # an underlined line with no text after it, or before a line that starts like a numbered
    # paragraph (that the numbering did not take), heads the next one
    last = -1  # where kept has the last underlined line that stays
    for at in reversed(headings):
        after = next((x for x in kept[at + 1 :] if x.strip()), None)
        if after is None or _PARA_START.match(after):
            del kept[at - 1 : at + 2]
            last -= 3 if last >= 0 else 0
        elif last < 0:
            last = at
    while kept and not kept[-1].strip():
        kept.pop()
    if last < 0 or any(x.strip() for x in kept[last + 1 : -1]):
        _drop_last_heading(kept)  # (not the only line under an underlined one: its text)
    return kept


def _box_top(lines: list[str], row: int, rules: set[int]) -> bool:
    """Whether the rule on line `row` is the top of a box: a line of text, then the same rule."""
    return (
        row + 2 in rules
        and row + 1 not in rules
        and bool(lines[row + 1].strip())
        and lines[row + 2].strip() == lines[row].strip()
    )


def _drop_last_heading(kept: list[str]) -> None:
    """Remove trailing blank lines and a heading line ending the paragraph (the next one's)."""
    while kept and not kept[-1].strip():
        kept.pop()
    if len(kept) < 2:
        return
    last = kept[-1].strip()
    blank_before = not kept[-2].strip()
    if (
        len(last) <= (90 if blank_before else 60)
        and last[:1].isupper()
        and not _SENTENCE_END.search(last)
        and not _ITEM.match(last)
        and (blank_before or _SENTENCE_END.search(_last_text(kept)))
        and not last.endswith(",")
    ):
        kept.pop()


_TITLE_SMALL_WORD = re.compile(r"a|an|the|of|on|in|to|for|and|or|at|by|with|from|as|but|vs")


def _drop_glued_title(kept: list[str]) -> None:
    """In a body written one line per paragraph, cut the next paragraph's heading from the
    end of this one's last line: title-case words after a finished sentence, without a
    full stop (`...accelerates. Dilma on the Rise`)."""
    if not kept or not (m := _GLUED_HEADING.search(kept[-1])):
        return
    words = [w.strip("\"“”'(),:;") for w in m.group().split()]
    if (
        len(words) <= 8
        and all(w[:1].isupper() or _TITLE_SMALL_WORD.fullmatch(w) for w in words)
        and not any(w.isdigit() or "XX" in w for w in words)  # a count, a redacted name
        and _LOWER.search(m.group())  # title case, not an all-caps body
        and not _NOT_SIGNATURE.search(m.group())
    ):
        kept[-1] = kept[-1][: m.start()]


def _last_text(kept: list[str]) -> str:
    """The last non-blank line before the last line."""
    return next((kept[i] for i in range(len(kept) - 2, -1, -1) if kept[i].strip()), "")


def _drop_trailer(lines: list[str]) -> list[str]:
    """Cut the trailers and signature that follow the last paragraph."""
    text = "\n".join(lines)
    lower = text.lower() if text.isascii() else None  # for cheap checks that rule out a match
    start = len(lines)
    if lower is None or "visit" in lower or "*****" in text:
        start = next((r for r, _ in _line_numbers(_TRAILER_START_M, "\n" + text) if r), start)
    inline = None
    if lower is None or ("visit" in lower and "classified" in lower):
        inline = _INLINE_TRAILER_M.search(text)
    if inline and (row := text.count("\n", 0, inline.start())) < start:
        line_start = text.rfind("\n", 0, inline.start()) + 1
        lines = [*lines[:row], text[line_start : inline.start()]]
    else:
        lines = lines[:start]
    mixed_case = any(map(_LOWER.search, lines))
    while len(lines) > 1:
        last = lines[-1].strip()
        if (
            not last
            or _TRAILER_LINE.match(last)
            or (
                _SIGNATURE.match(last)
                and not _NOT_SIGNATURE.search(last)
                and len(last) <= 30
                and (
                    _SENTENCE_END.search(prev := _last_text(lines))
                    or _TRAILER_LINE.match(prev)
                    or not lines[-2].strip()
                    or (mixed_case and last.isupper())
                )
            )
        ):
            lines.pop()  # (a list of its own, made above)
        else:
            break
    # both inline patterns end with one of _SIGNED_ENDS before spaces: skip them when not
    if lines and lines[-1].rstrip(" \t")[-1:] in _SIGNED_ENDS:
        last = _INLINE_SIGNATURE.sub("", lines[-1])
        if mixed_case:  # a final all-caps word after lower-case text is the signer
            last = _INLINE_SIGNER.sub("", last)
        lines[-1] = last
    return lines


def _subject(lines: list[str], start: int) -> str:
    first = _SUBJECT.match(lines[start]) or _SUBJECT_CI.match(lines[start])
    parts = [(first.group("rest") or first.groupdict().get("up") or "") if first else ""]
    for line in lines[start + 1 :]:
        if (
            not line.strip()
            or _STOPS_BLOCK.match(line)
            or _PARA_START.match(line)
            or _CAVEAT_LINE.match(line)
            or _RULE.match(line)
        ):
            break
        parts.append(line)
    subject = " ".join(" ".join(parts).split())
    return _SUBJECT_MARK.sub("", subject).strip()


def _block_after(lines: list[str], start: int, rest: str) -> str:
    """A header item's text: its first line's rest plus continuation lines up to a blank."""
    parts = [rest]
    for line in lines[start + 1 :]:
        if not line.strip() or _PARA_START.match(line) or _STOPS_BLOCK.match(line):
            break
        parts.append(line)
    return "\n".join(parts)


def _tags(lines: list[str], start: int, rest: str) -> tuple[str, ...]:
    def tokens(text: str) -> list[str]:  # split at runs of whitespace , ; and /
        return text.replace(",", " ").replace(";", " ").replace("/", " ").split()

    found = list(filter(_TAG_TOKEN.match, tokens(rest)))
    for line in lines[start + 1 :]:
        if _STOPS_BLOCK.match(line) or not (words := tokens(line)):
            break
        if not all(map(_TAG_TOKEN.match, words)):
            break
        found.extend(words)
    return tuple(dict.fromkeys(found))


def _summary(
    lines: list[str], preamble: list[str], blocks: list[_Block], texts: list[str]
) -> str | None:
    """The summary: a `SUMMARY:` block before the paragraphs, a paragraph opening with
    `Summary:`, or the paragraphs under a Summary heading, up to `END SUMMARY`."""
    joined = "\n".join(preamble)
    if m := _SUMMARY_IN_PREAMBLE.search(joined):
        rest = joined[m.end() :]
        end = _END_SUMMARY.search(rest)
        found = rest[: end.start()] if end else rest
        if text := _join([x for x in found.split("\n") if not _RULE.match(x)]):
            return text
    for i, (block, text) in enumerate(zip(blocks, texts, strict=True)):
        starts = _SUMMARY_START.match(text)
        if starts:
            parts = [text[starts.end() :]]
        elif _SUMMARY_HEADING.match(_heading_above(lines, block)):
            parts = texts[i : i + 6]
            ends = [n for n, part in enumerate(parts) if _END_SUMMARY.search(part)]
            parts = parts[: ends[0] + 1] if ends else parts[:1]
        else:
            continue
        summary = "\n".join(parts)
        cut = _END_SUMMARY.search(summary)
        return (summary[: cut.start()] if cut else summary).strip() or None
    return None


def _starts(lined: str) -> tuple[dict[int, re.Match[str]], list[int]]:
    """Lines of "\n" + text that could start a paragraph (with the match) and sub-item lines;
    one pass finds the lines that may be either."""
    paragraphs: dict[int, re.Match[str]] = {}
    items: list[int] = []
    row = pos = 0
    for m in _MAY_START.finditer(lined):
        at = m.start()
        row += lined.count("\n", pos, at)
        pos = at
        if para := _PARA_START_M.match(lined, at):
            paragraphs[row] = para
        if _ITEM_M.match(lined, at):
            items.append(row)
    return paragraphs, items


def _blocks(
    lines: list[str], candidates: dict[int, re.Match[str]], unwrapped: bool = False
) -> list[_Block]:
    """The numbered paragraphs: lines starting with a number that continues the sequence."""
    blocks: list[_Block] = []
    last: int | None = None
    for row, m in candidates.items():
        previous = lines[row - 1] if row else ""
        # "...began on October\n5. FDP strategist": an unmarked number ending a wrapped sentence
        mark = m["mark"]
        wrapped = (
            mark is None
            and len(previous.strip()) >= 45  # a full-width line, not a title
            and _MID_SENTENCE.search(previous) is not None
            and row - 1 not in candidates
        )
        if wrapped:
            continue
        number = int(m["num"])
        marked, after_blank = mark is not None, not previous.strip()
        if last is not None and 1 < number < last:  # numbering that went wrong: 19. then 16.
            if not _step_back(lines, row, m, marked, after_blank or unwrapped):
                continue
        elif not _accept(number, last, marked, after_blank):
            continue
        if blocks:
            blocks[-1].lines.extend(lines[blocks[-1].row + 1 : row])
        marking = " ".join(mark.upper().split()) if mark else None
        rest = lines[row][m.end() - m.start() - 1 :]
        blocks.append(_Block(number, marking, [rest], row, blocks[-1].row if blocks else -1))
        last = number
    if blocks:
        blocks[-1].lines.extend(lines[blocks[-1].row + 1 :])
    return blocks


def _step_back(lines: list[str], row: int, m: re.Match[str], marked: bool, own_line: bool) -> bool:
    """Whether a number smaller than the last paragraph's starts a paragraph: on a line of
    its own (after a blank line, or in a body written one line per paragraph), marked or
    followed by a capital letter, after text that ended its sentence (not "see paragraph\n
    3.")."""
    capital = lines[row][m.end() - m.start() - 1 : m.end() - m.start()].isupper()
    if not own_line or not (marked or capital):
        return False
    above = next((lines[i] for i in range(row - 1, -1, -1) if lines[i].strip()), "")
    return not _MID_SENTENCE.search(above)


def _heading_above(lines: list[str], block: _Block) -> str:
    """The last text line (not a rule) between the previous paragraph's start and this one."""
    for i in range(block.row - 1, block.after, -1):
        stripped = lines[i].strip()
        if stripped and not _RULE.match(lines[i]):
            return stripped.strip("/ -")
    return ""


def parse_telegram(text: str, *, ref_id: str = "") -> Cable:
    """Parse a telegram body (plain text, no anchors) into a Cable; never raises on any text."""
    return Cable.model_validate(telegram_fields(text, ref_id=ref_id))


def telegram_fields(text: str, *, ref_id: str = "") -> dict[str, Any]:
    """`parse_telegram`'s Cable as the fields to validate, for a caller that adds its own."""
    published = text
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    lower = text.lower()  # for quick checks that a word is not there (page breaks only go)
    if hinted := _page_hint_rows(text, lower):
        lines = _drop_page_breaks(lines, hinted)
        text = "\n".join(lines)
    unwrapped = _unwrapped(lines)
    year = ref_id[:2] if ref_id[:2].isdigit() else ""
    candidates, items = _starts("\n" + text)
    blocks = _blocks(lines, candidates, unwrapped)
    preamble = lines[: blocks[0].row] if blocks else lines

    # header fields from the preamble
    opening = [x for x in preamble[:40] if x.strip()][:6]
    banner = next((x for x in opening if _BANNER.match(x)), opening[0] if opening else "")
    caveats = _caveat_words(banner)
    subject = ""
    tags: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    for i, line in enumerate(preamble):
        # cheap checks of the first letters first (upper() also maps the long s, ſ, to S)
        head = line.lstrip()[:4].upper()
        if head[:1] in _CAVEAT_INITIALS and _CAVEAT_LINE.match(line):
            caveats.extend(c.upper() for c in _CAVEAT_WORD.findall(line))
        elif not tags and "TAGS" in line and (t := _TAGS.search(line)):
            tags = _tags(preamble, i, t.group("rest"))
        elif not subject and head == "SUBJ" and (_SUBJECT.match(line) or _SUBJECT_CI.match(line)):
            subject = _subject(preamble, i)
        elif not refs and head[:3] == "REF" and (r := _REF.match(line)):
            refs = parse_references(_block_after(preamble, i, r.group("rest")), year)
    caveat_tuple = tuple(dict.fromkeys(caveats))

    # every summary has the word (letters are never joined up): skip the search without it
    maybe_summary = not text.isascii() or "summary" in lower
    rows = _Rows.of(text, items, lower) if blocks else _Rows([], [], [])
    special = sorted({*rows.decorated, *rows.classified}) if rows.classified else rows.decorated
    texts: list[str] = []
    for i, block in enumerate(blocks):
        last = i == len(blocks) - 1
        end = len(lines) if last else blocks[i + 1].row
        if _Rows.any(special, block.row, end):  # a rule, a heading or a Classified By line
            decorated = set(_Rows.within(rows.decorated, block.row, end))
            classified = _Rows.within(rows.classified, block.row, end)
            body = _drop_headings(block.lines, decorated, classified)
            # only lines dropped at its end (and maybe its first changed): as the body's lines
            plain = not unwrapped and body[1:] == block.lines[1 : len(body)]
        else:  # nothing to drop but the end: its lines are the body's
            body = list(block.lines)
            _drop_last_heading(body)
            plain = not unwrapped
        if unwrapped and not last:
            _drop_glued_title(body)
        if last:
            body = _drop_trailer(body)
            # only cut and its last line changed: as the body's lines if that one is the same
            plain = plain and (not body or body[-1] == block.lines[len(body) - 1])
        texts.append(_plain_join(body, block.row, rows) if plain else _join(body, unwrapped))
    paragraphs = [
        {"number": block.number, "marking": block.marking, "text": text}
        for block, text in zip(blocks, texts, strict=True)
    ]

    return {
        "ref_id": ref_id,
        "classification": _classification(banner, caveat_tuple),
        "subject": subject,
        "tags": tags,
        "references": refs,
        "caveats": caveat_tuple,
        "summary": _summary(lines, preamble, blocks, texts) if maybe_summary else None,
        "paragraphs": paragraphs,  # dicts, validated into Paragraphs (faster than one by one)
        "body": published,
    }
