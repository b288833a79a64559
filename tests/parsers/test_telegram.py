"""parsers.telegram: header fields, paragraphs, references, on telegrams the project wrote."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import telegram as _t  # its private scans, checked against the line patterns
from parsers.models import Cable
from parsers.telegram import (
    is_page_break,
    normalise_reference,
    parse_references,
    parse_routing_header,
    parse_telegram,
)

TELEGRAMS = Path(__file__).resolve().parents[1] / "fixtures" / "telegrams"


def _load(name: str) -> Cable:
    return parse_telegram((TELEGRAMS / f"{name}.txt").read_text(), ref_id=name)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


@pytest.fixture(scope="module")
def elbonia() -> Cable:
    return _load("09ELBONIA1234")


def test_header_fields(elbonia: Cable) -> None:
    assert elbonia.classification == "CONFIDENTIAL//NOFORN"
    assert elbonia.caveats == ("SIPDIS", "NOFORN")
    assert elbonia.tags == ("PREL", "PGOV", "ECON", "EL")
    subject = "ELBONIA: MUD HARVEST MINISTER DOUBTS THE RAIN FORECAST, WANTS SECOND OPINION"
    assert elbonia.subject == subject


def test_references_get_the_citing_year_and_canonical_origins(elbonia: Cable) -> None:
    assert elbonia.references == ("08STATE1234", "09LAPAZ2974", "09STATE77", "09USUNNEWYORK512")


def test_paragraph_numbers_and_markings(elbonia: Cable) -> None:
    got = [(p.number, p.marking) for p in elbonia.paragraphs]
    assert got == [(1, "C"), (2, "C"), (3, None), (5, "S/NF"), (6, "U"), (7, "SBU")]


def test_see_para_line_stays_inside_its_paragraph(elbonia: Cable) -> None:
    first = elbonia.paragraphs[0].text
    assert "(see para 7.) End summary." in first
    assert elbonia.summary is not None
    assert elbonia.summary.startswith("The Minister of Mud Harvest told us")
    assert elbonia.summary.endswith("(see para 7.)")


def test_bullets_keep_their_lines_and_headings_are_dropped(elbonia: Cable) -> None:
    second = elbonia.paragraph(2)
    assert second is not None
    lines = second.text.split("\n")
    assert lines[0].endswith("The Minister listed three objections:")
    assert lines[1:] == [
        "-- Method: the model ignores the northern bogs;",
        "-- Data: station readings stop in 2007.",
        "-- Politics: the forecast helps the opposition.",
    ]
    assert "XXXXXXXXXXXX" in lines[0]
    assert all("Background" not in p.text for p in elbonia.paragraphs)
    assert all("REQUEST//" not in p.text for p in elbonia.paragraphs)


def test_underlined_lines_with_text_after_them_stay_in_the_paragraph() -> None:
    cable = _load("10ELBONIA200")
    texts = {p.number: p.text.split("\n") for p in cable.paragraphs}
    assert list(texts) == [1, 2, 3, 4]
    assert texts[2] == [  # who sat on which side: the underlined lines stay, without rules
        "Participants:",
        "Elbonia",
        "Deputy Minister of Mud Harvest Olaf Grund Director of Exports Ingrid Lehm",
        "U.S.",
        "Economic Officer (notetaker)",
        "Freedonia",
        "Trade Counselor Rufus Firefly",  # one line under its heading is its text
    ]
    assert texts[3] == [  # a boxed heading before it was the paragraph's, and is dropped
        "The Deputy Minister asked for a larger quota. He listed three reasons:",
        "What Elbonia Wants",
        "-- a quota of one million tons;",
        "-- a lower tariff on dried mud.",
        "The Freedonians promised an answer by June.",
    ]
    assert texts[4] == ["Comment: Both sides want a deal before the rains. End Comment."]


def test_underlined_lines_that_are_not_text_are_dropped() -> None:
    text = (
        "1. (C) First.\n\n2. (C) Second.\n\nA Heading\n---------\n\n"
        "2. (C) A number the sequence did not take.\n\n"
        "Classified By: Someone, reasons 1.4 (b)\n---------------\n\nClosing words.\n-\n---\n"
        "\n3. (C) Third.\n"
    )
    cable = parse_telegram(text)
    assert [p.number for p in cable.paragraphs] == [1, 2, 3]
    assert cable.paragraphs[1].text.split("\n") == [
        "Second.",  # its heading went with the paragraph start after it
        "2. (C) A number the sequence did not take.",
        "Closing words.",  # a line without a word is not a heading
    ]


def test_page_breaks_vanish_even_mid_paragraph(elbonia: Cable) -> None:
    third = elbonia.paragraph(3)
    assert third is not None
    assert third.text.endswith("which we forward by septel.")
    assert not any("OF 003" in p.text for p in elbonia.paragraphs)


def test_sub_items_on_their_own_lines(elbonia: Cable) -> None:
    fifth = elbonia.paragraph(5)
    assert fifth is not None
    assert fifth.text.split("\n") == [
        "He asked for:",
        "A. a team of two meteorologists;",
        "B. access to satellite data; and",
        "(c) a joint statement.",
    ]


def test_trailer_and_signature_are_not_in_the_last_paragraph(elbonia: Cable) -> None:
    last = elbonia.paragraphs[-1].text
    assert last.endswith("would build goodwill. End Comment.")
    assert "Visit" not in last and "DOE" not in last


def test_old_telegram_with_summary_block_and_page_header() -> None:
    cable = _load("73FREEDONIA42")
    assert cable.classification == "UNCLASSIFIED"
    assert cable.tags == ("ETRD", "EAGR", "FR")
    assert cable.subject == "GRAIN TRADE TALKS"
    assert cable.references == ("73TEHRAN31", "72STATE203344")
    assert cable.summary == "TALKS ON GRAIN TRADE OPENED MONDAY. BOTH SIDES CAUTIOUS."
    assert [p.text for p in cable.paragraphs] == [
        "TALKS OPENED MONDAY IN CAPITAL. DELEGATION HEAD STRESSED WISH FOR QUICK AGREEMENT.",
        "NEXT ROUND SET FOR FRIDAY.",
    ]


@pytest.mark.parametrize(
    "line",
    [
        "MEXICO 00002498  002 OF 003 ",
        "CARACAS 00000958 001.2 OF 005",
        "Islamabad 00003010 008 of 008",
        "TEL AVIV 00000123 002 OF 004",
        "PAGE 02 TEHRAN 01164 01 OF 02 250930Z",
        "PAGE 03 RUEHFRA0170 S E C R E T",
    ],
)
def test_page_break_lines(line: str) -> None:
    assert is_page_break(line)


@pytest.mark.parametrize(
    "line", ["2. (C) The page 2 of 3 was missing.", "SECTION 01 OF 03", "TOTAL 12 OF 30 VOTES"]
)
def test_text_is_not_a_page_break(line: str) -> None:
    assert not is_page_break(line)


@pytest.mark.parametrize(
    ("text", "year", "expected"),
    [
        ("A. 08 STATE 1234 B. LA PAZ 2974", "09", ("08STATE1234", "09LAPAZ2974")),
        ("A) MANAGUA 182 -- NOTE\nC) 2009 MANAGUA 1090", "10", ("10MANAGUA182", "09MANAGUA1090")),
        ("STATE 297614 AND PREVIOUS 03 RANGOON 1427", "07", ("07STATE297614", "03RANGOON1427")),
        ("A. 10SHENYANG 003  B. BELGRADE743", "10", ("10SHENYANG3", "10BELGRADE743")),
        ("TEHRAN 1091: MOSCOW 1603", "72", ("72TEHRAN1091", "72MOSCOW1603")),
        ("SECSTATE 012345; USUN NEW YORK 66; PORT OF SPAIN 0012", "08",
         ("08STATE12345", "08USUNNEWYORK66", "08PORTOFSPAIN12")),
        ("B. SECDEF DTG261447ZNOV08; 09 XXXXXXXXXXXX 167; TD-314/18176-06", "09", ()),
        ("MAY 15, 1972; PARA 5; IIR 6 902 9642 06", "72", ()),
        ("STATE 1234", "", ()),
    ],
)  # fmt: skip
def test_parse_references(text: str, year: str, expected: tuple[str, ...]) -> None:
    assert parse_references(text, year) == expected


def test_normalise_reference() -> None:
    assert normalise_reference("2008", "la paz", "002974") == "08LAPAZ2974"
    assert normalise_reference("06", "USUN", "12") == "06USUNNEWYORK12"
    assert normalise_reference("06", "STATE", "0") is None
    assert normalise_reference("06", "STATE", "1234567") is None


def test_routing_header() -> None:
    header = (
        "VZCZCXRO0001\nOO RUEHAA\nDE RUEHEL #1234/01 0611200\nZNY CCCCC ZZH\n"
        "O 021200Z MAR 09\nFM AMEMBASSY ELBONIA\nTO RUEHC/SECSTATE WASHDC IMMEDIATE 0042\n"
        "INFO RUEHBS/AMEMBASSY BRUSSELS PRIORITY 0007\nRUCNDT/USMISSION USUN NEW YORK PRIORITY"
    )
    got = parse_routing_header(header)
    assert got["precedence"] == "IMMEDIATE"
    assert got["date_time_group"] == "021200Z MAR 09"
    assert got["sender"] == "AMEMBASSY ELBONIA"
    assert got["to"] == ("SECSTATE WASHDC",)
    assert got["info"] == ("AMEMBASSY BRUSSELS", "USMISSION USUN NEW YORK")


def test_numbering_restarts_and_wrapped_years_are_not_paragraphs() -> None:
    text = (
        "1. (C) First point made in\n2009. It goes on.\n\n2. (C) Second.\n\n"
        "1. (U) Annex starts again.\n\n2.(U) No space after the number.\n"
    )
    cable = parse_telegram(text)
    assert [p.number for p in cable.paragraphs] == [1, 2, 1, 2]
    assert cable.paragraphs[0].text == "First point made in 2009. It goes on."
    assert cable.paragraphs[3].text == "No space after the number."


def test_subject_marking_and_lowercase_subject_line() -> None:
    cable = parse_telegram("Subject: (s) germany asks for help\nwith the nonpaper\n\n1. (S) Text.")
    assert cable.subject == "germany asks for help with the nonpaper"


def test_text_without_structure_gives_an_empty_cable() -> None:
    cable = parse_telegram("just some words\nand more")
    assert (cable.subject, cable.tags, cable.paragraphs) == ("", (), ())


# --- properties ---------------------------------------------------------------------------

_cable_lines = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "",
            "1. (C) Summary: text",
            "2.(S/NF) more",
            "7.)",
            "-- Bullet: item",
            "A. lettered",
            "---------",
            "//HEADING//",
            "MEXICO 00002498  002 OF 003",
            "SUBJECT: (U) A SUBJECT",
            "TAGS PREL, PGOV,",
            "REF: A. 08 STATE 1234 B. LA PAZ 2974",
            "Visit Somewhere's Classified Web Site at",
            "BASSETT",
            "END SUMMARY",
        ]
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_cable_lines, max_size=40).map("\n".join))
def test_never_raises_and_never_invents_or_reorders_words(text: str) -> None:
    cable = parse_telegram(text, ref_id="08MEXICO2498")
    body_words = iter(_words(cable.body))
    for paragraph in cable.paragraphs:
        # every word of every paragraph appears in the body, in order
        assert all(word in body_words for word in _words(paragraph.text))


_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=9)
_words_st = st.lists(_word, min_size=1, max_size=40)
# an underlined line: its words (title case, upper case or as they are) and its rule
_underlined = st.tuples(
    st.lists(_word, min_size=1, max_size=4).map(" ".join),
    st.sampled_from([str.title, str.upper, str]),
    st.sampled_from("-="),
    st.booleans(),  # boxed: a rule above it too
).map(lambda u: (u[1](u[0]), u[2], u[3]))
# a paragraph: its first words, then sections under underlined lines, then maybe an
# underlined line that heads the next paragraph
_paragraph = st.tuples(
    _words_st,
    st.lists(st.tuples(_underlined, _words_st, st.booleans(), st.booleans()), max_size=3),
    st.none() | _underlined,
)


def _wrap(words: list[str], width: int, first: str = "") -> list[str]:
    """Words hard-wrapped at `width`, after `first`, ending with a full stop."""
    lines: list[str] = []
    line = first
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line + "."]


def _underline(heading: tuple[str, str, bool]) -> list[str]:
    text, mark, boxed = heading
    rule = mark * max(3, len(text))
    return [rule, text, rule] if boxed else [text, rule]


@settings(max_examples=200, deadline=None)
@given(
    paragraphs=st.lists(_paragraph, min_size=1, max_size=8),
    width=st.integers(min_value=20, max_value=70),
    breaks=st.lists(st.integers(min_value=0, max_value=400), max_size=3),
)
def test_wrapped_paragraphs_keep_every_word(
    paragraphs: list[tuple[list[str], list[Any], tuple[str, str, bool] | None]],
    width: int,
    breaks: list[int],
) -> None:
    # every word stays, also the words of an underlined line with text after it (on a line of
    # its own); an underlined line right before a numbered paragraph is its heading: dropped
    lines = ["C O N F I D E N T I A L SECTION 01 OF 02 MEXICO 002498", "", "SUBJECT: TEST", ""]
    expected: list[list[str]] = []
    for number, (words, sections, next_heading) in enumerate(paragraphs, start=1):
        lines += _wrap(words, width, f"{number}. (C)")
        text = [" ".join(words) + "."]
        for k, (heading, section, blank_above, blank_below) in enumerate(sections):
            # (a box right under a line that is under a rule would be ambiguous)
            blank_above = blank_above or (heading[2] and k > 0)
            lines += [""] * blank_above + _underline(heading) + [""] * blank_below
            lines += _wrap(section, width)
            text += [heading[0], " ".join(section) + "."]
        lines.append("")
        if next_heading and number < len(paragraphs):
            lines += [*_underline(next_heading), ""]
        expected.append(text)
    for position in sorted(breaks, reverse=True):
        lines.insert(min(position, len(lines)), "MEXICO 00002498  002 OF 002")
    cable = parse_telegram("\n".join(lines), ref_id="08MEXICO2498")
    assert [p.number for p in cable.paragraphs] == list(range(1, len(paragraphs) + 1))
    assert [p.text.split("\n") for p in cable.paragraphs] == expected


def test_summary_under_a_heading_runs_to_end_summary() -> None:
    text = (
        "SUBJECT: X\n\n-------\nSummary\n-------\n\n1. (C) First part.\n\n"
        "2. (C) Second part. End summary.\n\n3. (C) Body.\n"
    )
    assert parse_telegram(text).summary == "First part.\nSecond part."
    no_end = (
        "SUBJECT: X\n\nSummary and Introduction\n---\n\n1. (C) Only this.\n\n2. (C) Not this.\n"
    )
    assert parse_telegram(no_end).summary == "Only this."
    assert parse_telegram("SUBJECT: X\n\n1. (C) No summary here.\n").summary is None


@pytest.mark.parametrize(
    "text",
    [" " * 50_000 + "x", "\t" * 50_000 + "x", " \n" * 25_000, "a." + " " * 50_000 + "B"],
)
def test_long_runs_of_whitespace_take_linear_time(text: str) -> None:
    import time

    start = time.perf_counter()
    parse_telegram(text, ref_id="08STATE1")
    assert time.perf_counter() - start < 5  # a quadratic regex needs minutes here


def test_unwrapped_body_with_glued_headings_and_inline_trailer() -> None:
    cable = _load("10ELBONIA77")  # the Dec 2010 site style: one line per paragraph
    assert (cable.classification, cable.caveats) == ("SECRET", ("SIPDIS",))
    assert cable.tags == ("PREL", "PGOV", "EL")
    assert cable.summary == "The port deal is off. The Minister blamed the weather."
    assert [(p.number, p.marking) for p in cable.paragraphs] == [
        (1, "S"),
        (2, "S"),
        (3, "C"),
        (4, "C"),
    ]
    second, third, fourth = (cable.paragraphs[i].text for i in (1, 2, 3))
    assert second.endswith("cannot be signed this year.")  # "Dredging Plans" was a heading
    assert third == "The dredging company wants a guarantee. The Ministry has no budget for it."
    assert fourth == "Comment: The deal may return in the spring. End Comment."


def test_sub_blocks_keep_their_lines_and_page_breaks_join_sentences() -> None:
    text = (
        "1. (C) First block of the\nparagraph.\n\nSecond block,\nwrapped.\n-- a bullet that\n"
        "wraps\n\nMEXICO 00002498  002 OF 003\n\ncontinues after the break.\n\n"
        "2. (C) Next.\n"
    )
    cable = parse_telegram(text)
    assert cable.paragraphs[0].text.split("\n") == [
        "First block of the paragraph.",
        "Second block, wrapped.",
        "-- a bullet that wraps continues after the break.",
    ]
    assert cable.paragraphs[1].text == "Next."


def test_references_to_unknown_origins_only_as_single_words() -> None:
    refs = parse_references("A. 09 ATLANTIS 5 B. STATUS OF FORCES AGREEMENT 2", "10")
    assert refs == ("09ATLANTIS5",)  # an unknown origin counts with an explicit year only


def test_a_wrapped_date_is_not_a_paragraph() -> None:
    text = (
        "1. (C) Summary.\n\n2. (C) Formal coalition negotiations between the parties\n"
        "on a coalition agreement began in Berlin on the morning of October\n"
        "5. The strategist shared the schedule with us.\n\n"
        "3. (C) Next point.\n"
    )
    cable = parse_telegram(text)
    assert [p.number for p in cable.paragraphs] == [1, 2, 3]
    assert "on the morning of October 5. The strategist" in cable.paragraphs[1].text


def test_classified_by_lines_are_not_paragraph_text() -> None:
    text = (
        "1. (C) First.\n\nClassified By: Someone, for reasons 1.4\n(b) and (d)\n\n"
        "More text of one, on papers\nclassified by the ministry.\n\n2. (C) Two."
    )
    cable = parse_telegram(text)
    assert [p.text for p in cable.paragraphs] == [
        "First.\nMore text of one, on papers classified by the ministry.",
        "Two.",
    ]


# --- the whole-text scans find exactly what the per-line patterns match ---------------------

_scan_bits = st.sampled_from(
    [
        "",
        " ",
        "\t",
        "\u00a0",
        "5.",
        "12. (C)",
        "1.(S/NF) Text",
        "¶ 3. ",
        "- bullet",
        "-- dash",
        "---",
        "= = =",
        "//HEADING//",
        "a) item",
        "(iv) item",
        "iv. roman",
        "* star",
        "• dot",
        "Classified By: Amb",
        "CLASSIFIED BY x",
        "word",
        "ends here.",
        "goes on,",
        "2009. The",
        "hyphen-",
        "PAGE 02 STATE 1234",
        "MEXICO 00002498  002 OF 003",
        "of 003",
        "Visit Embassy X's Classified Web Site",
        "sum-",
        "mary",
    ]
)
_scan_line = st.lists(_scan_bits, max_size=4).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(_scan_line, min_size=1, max_size=25))
def test_whole_text_scans_match_the_line_patterns(lines: list[str]) -> None:
    text = "\n".join(lines)
    paragraphs, items = _t._starts("\n" + text)
    assert list(paragraphs) == [i for i, x in enumerate(lines) if _t._PARA_START.match(x)]
    for row, m in paragraphs.items():
        per_line = _t._PARA_START.match(lines[row])
        assert per_line is not None and m.group() == "\n" + per_line.group()
    assert items == [i for i, x in enumerate(lines) if _t._ITEM.match(x)]
    classified = list(_t._rows(_t._CLASSIFIED_BY_M, "\n" + text))
    assert classified == [i for i, x in enumerate(lines) if _t._CLASSIFIED_BY.match(x)]
    hinted = set(_t._page_hint_rows(text, text.lower()))
    assert hinted >= {i for i, x in enumerate(lines) if _t._PAGE_HINT.search(x)}
    decorated = set(_t._decorated_rows(text))  # every line that can be a rule or heading
    assert decorated >= {i for i, x in enumerate(lines) if _t._DECORATION.search(x)}
    assert decorated >= {i for i, x in enumerate(lines) if _t._RULE.match(x) or "//" in x}


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="AZ -/.019\u0663\t", max_size=24))
def test_reference_searches_start_near_the_end(before: str) -> None:
    # parse_references searches only from these places: nothing can match before them
    words = _t._REF_WORDS.search(before)
    assert words is None or words.start() >= len(before.rstrip(_t._WORD_CHARS)) - 1
    year = _t._REF_YEAR.search(before)
    assert year is None or year.start() >= len(before.rstrip(" ")) - 5


@settings(max_examples=300, deadline=None)
@given(st.lists(_scan_line, max_size=15), st.sampled_from(["", " ", "text", "- x", "5."]))
def test_plain_join_is_join(lines: list[str], first: str) -> None:
    body = ["9. " + first, *lines]  # a paragraph's lines as the body has them
    text = "\n".join(body)
    rows = _t._Rows.of(text, _t._starts("\n" + text)[1], text.lower())
    kept = [first, *lines]
    _t._drop_last_heading(kept)
    assert _t._plain_join(kept, 0, rows) == _t._join(kept)


def test_a_body_of_only_a_page_break_has_nothing() -> None:
    cable = parse_telegram("MEXICO 00002498  002 OF 003")
    assert cable.paragraphs == () and cable.subject == ""


def test_carriage_returns_read_like_newlines() -> None:
    text = (TELEGRAMS / "09ELBONIA1234.txt").read_text()
    plain = parse_telegram(text, ref_id="09ELBONIA1234")
    crlf = parse_telegram(text.replace("\n", "\r\n"), ref_id="09ELBONIA1234")
    assert crlf.model_dump(exclude={"body"}) == plain.model_dump(exclude={"body"})


def test_numbering_that_steps_back_starts_paragraphs() -> None:
    cable = _load("09FREEDONIA88")
    assert [(p.number, p.marking) for p in cable.paragraphs] == [
        (1, "U"),
        (2, "U"),
        (3, "U"),
        (4, "U"),
        (2, "U"),
        (3, None),
        (5, "U"),
    ]
    texts = [p.text for p in cable.paragraphs]
    assert texts[2].endswith("in paragraph 2. above and were told to wait for the final text.")
    assert texts[3] == "The Chancellor closed the session at six."
    assert texts[4] == "The drafter numbered this paragraph again from two."
    assert texts[5] == "The same goes for this unmarked one, which follows it."
    assert texts[6].endswith("posed in paragraph\n3. Firefly")  # a cited number, not a paragraph


def test_numbering_that_steps_back_in_a_body_of_one_line_per_paragraph() -> None:
    sentence = "The talks went on for a long time and every delegation spoke at length. " * 2
    text = "\n".join(
        [
            "SUBJECT: ONE LINE EACH",
            f"7. (C) {sentence}",
            f"8. (C) {sentence}",
            f"5. Later, {sentence}",
            f"6. Finally, {sentence}",
        ]
    )
    cable = parse_telegram(text)
    assert [p.number for p in cable.paragraphs] == [7, 8, 5, 6]
    assert cable.paragraphs[2].text.startswith("Later, The talks")


def test_headings_glued_to_one_line_paragraphs_are_cut() -> None:
    cable = _load("10FREEDONIA5")
    texts = {p.number: p.text for p in cable.paragraphs}
    assert texts[2].endswith(
        "the coming elections in the provinces."
    )  # "The Chancellor on the Rise"
    assert texts[3].endswith("schools in the poorer provinces.")  # 'Rivals: "Also-Rans"'
    assert texts[4].endswith("including our source XXXXXXXXXXXX")  # a redacted name stays
    assert texts[5].endswith("after the debate. Yea: 62 Nay: 31")  # a tally stays
    assert texts[6].endswith("with the regional office.")
    assert cable.summary is not None and cable.summary.endswith("published this month.")
