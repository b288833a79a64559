"""parsers.page: cable-site pages (HTML and saved text) → Cable, checked against the corpus."""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from parsers.models import Cable, NotACableError
from parsers.page import parse_any, parse_page
from parsers.telegram import is_page_break, parse_telegram

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
TELEGRAMS = Path(__file__).resolve().parents[1] / "fixtures" / "telegrams"

_ANCHOR = re.compile(r"<a id='par(\w+)' href='#par\w+'>¶</a>(.*?)(?:&#x000A;|</pre>)")
_MARKUP = re.compile(r"<[^>]+>")

# Anchors the cable site got wrong, so the parser rightly disagrees with them.
WRONG_ANCHORS = {
    ("05PARIS8442", 2006): "a wrapped line starting with the year '2006.' got an anchor",
    ("10STATE9124", 2009): "a wrapped line starting with the year '2009.' got an anchor",
}


def _words(text: str, n: int = 4) -> list[str]:
    return re.findall(r"\w+", text)[:n]


def _anchors(page: str) -> list[tuple[str, str]]:
    """(anchor id, text of its line) for every ¶ anchor of a page."""
    return [(a, html.unescape(_MARKUP.sub("", rest))) for a, rest in _ANCHOR.findall(page)]


# --- the project's own page -----------------------------------------------------------------


def _site_encoded(page: str) -> str:
    """The page as the cable site serves it: newlines inside <pre> written as &#x000A;."""
    return re.sub(
        r"<pre>(.*?)</pre>",
        lambda m: "<pre>" + m[1].replace("\n", "&#x000A;") + "</pre>",
        page,
        flags=re.DOTALL,
    )


@pytest.mark.parametrize(
    ("name", "encode"),
    [("09ELBONIA1234.html", False), ("09ELBONIA1234.html", True), ("09ELBONIA1234.txt", False)],
)
def test_own_page_as_html_and_as_text(name: str, encode: bool) -> None:
    page = (PAGES / name).read_text(encoding="utf-8")
    if encode:
        page = _site_encoded(page)
        assert "&#x000A;" in page
    cable = parse_page(page)
    assert cable.ref_id == "09ELBONIA1234"
    assert cable.created == datetime(2009, 3, 2, 12, 0)
    assert cable.released == datetime(2011, 8, 30, 1, 44)
    assert cable.classification == "CONFIDENTIAL//NOFORN"
    assert cable.origin == "Embassy Elbonia"
    assert cable.subject.endswith("RAIN FORECAST, WANTS SECOND OPINION")
    assert cable.tags == ("PREL", "PGOV", "ECON", "EL")
    assert (cable.precedence, cable.sender) == ("IMMEDIATE", "AMEMBASSY ELBONIA")
    assert cable.info == ("AMEMBASSY BRUSSELS", "USMISSION USUN NEW YORK")
    # the site put a (wrong) anchor on the "7.)" line; the paragraphs come from the text
    assert [p.number for p in cable.paragraphs] == [1, 2, 3, 5, 6, 7]
    telegram = parse_telegram((TELEGRAMS / "09ELBONIA1234.txt").read_text(), ref_id="x")
    assert cable.paragraphs == telegram.paragraphs


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<html><body><p>hello</p></body></html>", "no reference table"),
        ("just a letter to a friend", "no reference table"),
        (
            "<table class='cable'><tr><td>1</td><td>2</td><td>3</td><td>4</td><td>5</td></tr>"
            "</table>",
            "no <pre> block",
        ),
    ],
)
def test_not_a_cable_page(text: str, problem: str) -> None:
    with pytest.raises(NotACableError, match=problem):
        parse_page(text)


def test_parse_any_detects_the_kind_of_text() -> None:
    telegram = (TELEGRAMS / "73FREEDONIA42.txt").read_text()
    assert parse_any(telegram).subject == "GRAIN TRADE TALKS"
    assert parse_any((PAGES / "09ELBONIA1234.txt").read_text()).origin == "Embassy Elbonia"
    with pytest.raises(NotACableError, match="not a cable"):
        parse_any("[tool]\nname = 'x'\n")


# --- the seed ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed(seed_page: Path) -> Cable:
    return parse_page(seed_page.read_text(encoding="utf-8"))


def test_seed_reference_fields(seed: Cable) -> None:
    assert seed.ref_id == "08MEXICO2498"
    assert seed.subject == "SCENESETTER FOR SENATOR SPECTER'S VISIT TO MEXICO AUGUST 17-19"
    assert seed.tags == ("PREL", "PGOV", "SNAR", "ECON", "OREP", "MX")
    assert seed.classification == "UNCLASSIFIED//FOR OFFICIAL USE ONLY"
    assert seed.origin == "Embassy Mexico"
    assert seed.created == datetime(2008, 8, 14, 18, 42)
    assert seed.date_time_group == "141842Z AUG 08"


def test_seed_paragraphs(seed: Cable) -> None:
    assert [p.number for p in seed.paragraphs] == list(range(1, 11))
    assert {p.marking for p in seed.paragraphs} == {"SBU"}
    sixth = seed.paragraphs[5].text
    assert sixth.endswith("will advance significantly the GOM's anti-corruption efforts.")
    assert "(see para 7.)" in sixth
    last = seed.paragraphs[9].text
    assert last.endswith("maintain realistic expectations.")
    assert "Classified Web Site" not in last and "BASSETT" not in last
    for paragraph in seed.paragraphs:
        assert not any(is_page_break(line) for line in paragraph.text.split("\n"))
        assert "002 OF 003" not in paragraph.text and "003 OF 003" not in paragraph.text
    assert "Strengthening Law Enforcement" not in seed.paragraphs[0].text
    lines = last.split("\n")  # bullets and blank-line-separated sub-blocks keep their lines
    assert lines[0] == "Key Issues During Your Visit Include:"
    assert [line[:10] for line in lines if line.startswith("--")] == [
        "-- Border ",
        "-- Drugs: ",
        "-- Arms Tr",
        "-- Immigra",
    ]
    assert lines[2].startswith("The protocols addressing border violence")
    assert "into the international financial system. While taking" in last  # across a break


# --- every page of the corpus ---------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(corpus_pages: Path) -> list[tuple[str, str, Cable]]:
    pages = sorted(corpus_pages.glob("*.html"))
    assert len(pages) > 300
    out = []
    for path in pages:
        text = path.read_text(encoding="utf-8")
        out.append((path.stem, text, parse_page(text)))  # no exception on any page
    return out


def test_paragraphs_agree_with_trustworthy_anchors(corpus: list[tuple[str, str, Cable]]) -> None:
    checked, problems = 0, []
    for name, text, cable in corpus:
        anchors = [(int(a), line) for a, line in _anchors(text) if a.isdigit()]
        numbers = [n for n, _ in anchors]
        if not numbers or len(set(numbers)) != len(numbers) or numbers != sorted(numbers):
            continue  # anchors missing, repeated or out of order: nothing to compare with
        checked += 1
        parsed = {p.number: p for p in reversed(cable.paragraphs)}
        for number, line in anchors:
            if (name, number) in WRONG_ANCHORS:
                continue
            expected = _words(re.sub(r"^\s*\d+\s*\.+\s*(\([^)]*\))?", "", line))
            got = parsed.get(number)
            words = _words(got.text) if got else []
            # the last paragraph may end early: its signature was cut ("Minimize considered.")
            cut_short = got == cable.paragraphs[-1] and words and expected[: len(words)] == words
            if got is None or (words[: len(expected)] != expected and not cut_short):
                problems.append(f"{name} ¶{number}: {words} != {expected}")
        for number in set(parsed) - set(numbers):
            # a paragraph the site did not anchor must be written without one in the page
            if not re.search(rf"(?:&#x000A;|<pre>)\s*{number}\s*\.", text):
                problems.append(f"{name} ¶{number}: parsed, but no such line in the page")
    assert checked >= 300
    assert problems == []


def test_telegram_parser_on_the_bare_body_finds_the_same_paragraphs(
    corpus: list[tuple[str, str, Cable]],
) -> None:
    for name, text, cable in corpus:
        pres = LexborHTMLParser(text).css("pre")
        body = pres[-1].text().replace("¶", "")
        assert parse_telegram(body, ref_id=name).paragraphs == cable.paragraphs, name


def test_subjects_are_full_and_clean(corpus: list[tuple[str, str, Cable]]) -> None:
    def norm(s: str) -> str:
        # the site's heading drops a leading "(", "[" or quote: compare from the first word
        s = re.sub(r"^\W*(?:[A-Z/ ]{1,12}\)\W*)?", "", s.strip(), flags=re.IGNORECASE)
        return " ".join(s.split()).upper().rstrip(",").strip()

    with_subject = 0
    for name, text, cable in corpus:
        assert "<" not in cable.subject and "&#x" not in cable.subject, name
        assert not is_page_break(cable.subject), name
        h3 = next(h.text() for h in LexborHTMLParser(text).css("h3") if "Viewing cable" in h.text())
        heading = norm(h3.split(",", 1)[1]) if "," in h3 else ""
        assert norm(cable.subject).startswith(heading), (name, heading, cable.subject)
        if re.search(r"&#x000A;\s*SUBJ(?:ECT)?\s*:", text, re.IGNORECASE):
            with_subject += 1
            assert cable.subject, name
            if len(heading) > 20:
                assert len(norm(cable.subject)) >= len(heading), name
    assert with_subject > 300


_page_bits = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "<table class='cable'>",
            "<td>08MEXICO2498</td>",
            "<td>2008-08-14 18:42</td>",
            "<td>not a date</td>",
            "<pre>",
            "</pre>",
            "<h3>Viewing cable 08MEXICO2498, X</h3>",
            "Reference ID Created Released Classification Origin\n",
            "08MEXICO2498 2008-08-14 18:42 2011-08-26 00:00 SECRET Embassy Mexico\n",
            "1. (C) text\n",
        ]
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_page_bits, max_size=20).map("".join))
def test_any_text_is_a_cable_or_a_clear_not_a_cable_error(text: str) -> None:
    try:
        cable = parse_any(text)
    except NotACableError as exc:
        assert str(exc)
    else:
        assert isinstance(cable, Cable)
