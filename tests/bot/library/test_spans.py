"""Paragraph texts kept as pointers into the body: every text comes back exactly, and texts that
are in the body cost a few numbers instead of their words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.library.spans import decode, encode, flat
from parsers.models import NotACableError
from parsers.page import parse_any

BODY = (
    "UNCLAS SECTION 01 OF 02 MEXICO 002498\n\nSIPDIS\n\n1. (SBU) Summary:  The visit comes at a\n"
    "time of change.\n-- first point;\n-- second point.\n\n"
    "UNCLAS SECTION 02 OF 02 MEXICO 002498\n\n2. (U) The second   paragraph ends here."
)


def round_trip(text: str, body: str) -> str:
    return decode(encode(text, flat(body)), flat(body))


@pytest.mark.parametrize(
    "text",
    [
        "Summary: The visit comes at a time of change.",
        "Summary: The visit comes at a time of change.\n-- first point;\n-- second point.",
        "The visit comes at a time of change. The second paragraph ends here.",  # across a break
        "time of change.\n\n-- second point.",  # skips words, keeps a blank line
        "A text that is nowhere in the body at all, not one word of it.",
        "The visit comes at a time of change, said nobody.",  # mostly in the body
        "",
        " leading space",
        "trailing newline\n",
    ],
)
def test_texts_come_back_exactly(text: str) -> None:
    assert round_trip(text, BODY) == text


def test_a_paragraph_of_the_body_is_one_stretch_of_it() -> None:
    text = "Summary: The visit comes at a time of change.\n-- first point;\n-- second point."
    code = encode(text, flat(BODY))
    assert isinstance(code, list)
    pieces, gaps = code
    assert len(pieces) == 2 and all(isinstance(p, int) for p in pieces)
    assert flat(BODY)[pieces[0] : pieces[1]] == " ".join(text.split())
    first = text.index("\n")  # one-character gaps: the same offsets in the flat text
    assert gaps == [first, "\n", text.index("\n", first + 1), "\n"]


def test_words_across_a_page_break_are_two_stretches() -> None:
    text = "The visit comes at a time of change. The second paragraph ends here."
    code = encode(text, flat(BODY))
    assert isinstance(code, list)
    assert len(code[0]) == 4 and all(isinstance(p, int) for p in code[0])


def test_a_text_mostly_not_in_the_body_is_kept_as_it_is() -> None:
    text = "A text that is nowhere in the body at all, not one word of it."
    assert encode(text, flat(BODY)) == text


WORDS = st.sampled_from(["the", "of", "1.", "(C)", "border", "police", "--", "SECRET", "é", "x"])
GAPS = st.sampled_from([" ", " ", " ", "  ", "\n", "\n\n", "\t", " \n "])


@st.composite
def wordy(draw: st.DrawFn, min_words: int = 0) -> str:
    words = draw(st.lists(WORDS, min_size=min_words, max_size=60))
    out = ""
    for word in words:
        out += (draw(GAPS) if out else "") + word
    return out


@given(body=wordy(), text=wordy())
@example(body="a b a b c", text="a b c")
@example(body="a  b", text="a\u00a0b")
@example(body="x", text="x\u2028x")
def test_any_text_round_trips_against_any_body(body: str, text: str) -> None:
    assert round_trip(text, body) == text


@given(body=wordy(min_words=5), data=st.data())
def test_a_slice_of_the_body_is_stored_as_numbers(body: str, data: st.DataObject) -> None:
    words = body.split()
    start = data.draw(st.integers(0, len(words) - 1))
    end = data.draw(st.integers(start + 1, len(words)))
    text = " ".join(words[start:end])
    code = encode(text, flat(body))
    assert isinstance(code, list) and all(isinstance(p, int) for p in code[0])
    assert decode(code, flat(body)) == text


def test_real_paragraphs_cost_little_and_come_back(corpus_pages: Path) -> None:
    """On every corpus page: each paragraph and summary comes back exactly, and the encoded
    paragraphs take under a tenth of the characters of their texts."""
    texts = coded = 0
    for page in sorted(corpus_pages.glob("*.html")):
        try:
            cable = parse_any(page.read_text(encoding="utf-8", errors="replace"))
        except NotACableError:
            continue
        body = flat(cable.body)
        for text in [p.text for p in cable.paragraphs] + [cable.summary or ""]:
            code = encode(text, body)
            assert decode(code, body) == text, (cable.ref_id, text[:60])
            texts += len(text)
            coded += len(json.dumps(code))
    assert texts > 1_000_000
    assert coded < texts / 10
