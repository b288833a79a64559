"""bot.cards: the card builder, on a cable written for the tests, the seed and generated cables."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.cards import (
    COLOURS,
    DESCRIPTION_MAX,
    FIELD_MAX,
    MESSAGE_MAX,
    POST_MAX,
    TITLE_MAX,
    Card,
    CardField,
    _quote_block,
    _trim_to,
    build_card,
    citation_text,
    colour_for,
    cut_list,
    hashtag,
    shorten,
    title_case,
    topic_hashtags,
)
from bot.share import x_length
from parsers.models import Cable, CableRequest, Paragraph
from tests.bot.helpers import TAG_MEANINGS, harbour_cable


def _request(cable: Cable, *paragraphs: int) -> CableRequest:
    return CableRequest(ref_id=cable.ref_id, paragraphs=paragraphs)


def test_title_url_colour_and_fields() -> None:
    cable = harbour_cable()
    card = build_card(cable, _request(cable, 2), tag_meanings=TAG_MEANINGS, cited_by_count=4)
    assert card.title == "09OSLO777: FERRY CONTRACT FOR THE ISLANDS SIGNED IN HASTE"
    assert card.url == "https://wikileaks.org/cable/2009/03/09OSLO777.html#par2"
    assert card.color == COLOURS["CONFIDENTIAL"]
    fields = {f.name: f.value for f in card.fields}
    assert fields["Origin"] == "Embassy Oslo"
    assert fields["Created"] == "2009-03-12 09:30"
    assert fields["Released"] == "2011-08-30 00:00"
    assert fields["TAGS"].splitlines() == [
        "PREL External Political Relations",
        "ECON Economic Conditions",
        "NO Norway",
    ]
    assert fields["Cites"] == "09OSLO12, 09STATE4567"
    assert fields["Cited by"] == "4 cables"
    assert card.hashtags == ("#cablegate", "#09OSLO777")
    assert "#Oslo" in card.topic_hashtags


def test_tags_without_meanings_are_codes_alone() -> None:
    cable = harbour_cable()
    card = build_card(cable, _request(cable))
    assert {f.name: f.value for f in card.fields}["TAGS"] == "PREL\nECON\nNO"
    assert "Cited by" not in {f.name for f in card.fields}
    unknown = build_card(cable, _request(cable), cited_by_count=0)
    assert "Cited by" not in {f.name for f in unknown.fields}


def test_quote_is_the_requested_paragraph_with_its_marking() -> None:
    cable = harbour_cable()
    card = build_card(cable, _request(cable, 2))
    assert card.quote.startswith("**¶2 (SBU)**\n> The minister of transport")
    assert card.paragraphs == (2,)
    assert (card.previous_paragraph, card.next_paragraph) == (1, 3)


def test_a_bare_id_previews_the_summary_else_paragraph_one_and_links_the_cable() -> None:
    page = "https://wikileaks.org/cable/2009/03/09OSLO777.html"
    cable = harbour_cable()
    card = build_card(cable, _request(cable))
    assert card.quote.startswith("**Summary (preview)**\n> Summary: The")
    assert (card.url, card.paragraphs, card.next_paragraph) == (page, (), 1)
    plain = harbour_cable(summary=None)
    card = build_card(plain, _request(plain))
    assert card.quote.startswith("**Preview: ¶1 (C)**\n> Summary: The harbour authority")
    assert (card.url, card.paragraphs) == (page, ())
    assert (card.previous_paragraph, card.next_paragraph) == (None, 2)
    assert card.citations["markdown"].startswith("[09OSLO777: FERRY CONTRACT")
    assert card.citations["markdown"].endswith(f"({page})")
    assert "¶" not in card.citations["plain"] and "#par" not in card.citations["post"]


def test_long_paragraph_is_cut_with_a_link_to_it() -> None:
    cable = harbour_cable()
    card = build_card(cable, _request(cable, 5), budget=1000)
    assert "…" in card.quote
    assert card.quote.endswith("(https://wikileaks.org/cable/2009/03/09OSLO777.html#par5)")
    assert card.size() <= 1000


def test_other_line_separators_do_not_grow_a_cut_quote() -> None:
    """A quote breaks lines at "\\n" only: each \\x1d or \\u2028 must not add a "> "."""
    for separator in ("\x1d", "\u2028", "\x85"):
        cable = _long_cable(4000, text=f"word{separator}")
        for budget in (600, 3000, 6000):
            card = build_card(cable, _request(cable, 1), budget=budget)
            assert card.size() <= budget and len(card.description) <= DESCRIPTION_MAX


def test_long_subject_is_cut_at_a_word() -> None:
    cable = harbour_cable(subject="WORD " * 80)
    card = build_card(cable, _request(cable))
    assert len(card.title) <= TITLE_MAX
    assert card.title.endswith("WORD…")


def test_colours_by_classification() -> None:
    assert colour_for("UNCLASSIFIED") == COLOURS["UNCLASSIFIED"]
    assert colour_for("UNCLASSIFIED//FOR OFFICIAL USE ONLY") == COLOURS["FOUO"]
    assert colour_for("CONFIDENTIAL") == COLOURS["CONFIDENTIAL"]
    assert colour_for("CONFIDENTIAL//NOFORN") == COLOURS["NOFORN"]
    assert colour_for("SECRET//NOFORN") == COLOURS["SECRET"]
    assert len(set(COLOURS.values())) == len(COLOURS)


def test_citations() -> None:
    cable = harbour_cable()
    citations = build_card(cable, _request(cable, 3)).citations
    assert set(citations) == {"plain", "markdown", "chicago", "bibtex", "post"}
    assert citations["markdown"].startswith("[09OSLO777 ¶3: FERRY CONTRACT")
    assert '"Ferry Contract for the Islands Signed in Haste,"' in citations["chicago"]
    assert citations["bibtex"].startswith("@misc{cable:09OSLO777,")
    assert "month = mar," in citations["bibtex"]
    assert "#cablegate #09OSLO777" in citations["post"]
    assert "09OSLO777.html#par3" in citations["post"]


def test_title_case_keeps_apostrophes_and_numbers() -> None:
    assert title_case("SPECTER'S VISIT TO MEXICO AUGUST 17-19") == (
        "Specter's Visit to Mexico August 17-19"
    )


@given(st.text(max_size=400), st.integers(min_value=0, max_value=300))
def test_shorten_never_exceeds_the_limit(text: str, limit: int) -> None:
    out = shorten(text, limit, sentences=True)
    assert len(out) <= limit
    if len(text.strip()) <= limit:
        assert out == text.strip()


def test_seed_card(seed_page: object) -> None:
    from pathlib import Path

    from parsers.page import parse_page

    assert isinstance(seed_page, Path)
    cable = parse_page(seed_page.read_text(encoding="utf-8"))
    card = build_card(cable, _request(cable, 5))
    assert card.title == (
        "08MEXICO2498: SCENESETTER FOR SENATOR SPECTER'S VISIT TO MEXICO AUGUST 17-19"
    )
    assert card.quote.startswith("**¶5 (SBU)**\n> The human price Mexico is paying")
    assert card.url == "https://wikileaks.org/cable/2008/08/08MEXICO2498.html#par5"
    assert card.color == COLOURS["FOUO"]
    assert "#Mexico" in card.topic_hashtags


def _sized(size: int, seed: str) -> str:
    """Text of exactly `size` characters: `seed` repeated (a space every so often)."""
    return (seed * (size // len(seed) + 1))[:size] if seed else ""


_seeds = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)


@st.composite
def sized_text(draw: st.DrawFn, longest: int) -> str:
    """Text whose length is drawn first, uniformly up to `longest`, so long texts are common."""
    return _sized(draw(st.integers(0, longest)), draw(_seeds) + draw(st.sampled_from(["", " "])))


@st.composite
def cables(draw: st.DrawFn) -> Cable:
    """Cables with arbitrary lengths everywhere: subject, origin, tags, references, paragraphs."""
    texts = draw(st.lists(sized_text(5000), max_size=25))
    numbers = draw(st.lists(st.integers(0, 400), min_size=len(texts), max_size=len(texts)))
    ref_id = draw(st.from_regex(r"\A(0[0-9]|[6-9][0-9])[A-Z]{2,20}[1-9][0-9]{0,5}\Z"))
    return Cable(
        ref_id=ref_id,
        created=draw(st.none() | st.datetimes(datetime(1966, 1, 1), datetime(2010, 12, 31))),
        released=draw(st.none() | st.datetimes(datetime(2010, 1, 1), datetime(2011, 12, 31))),
        classification=draw(sized_text(80)),
        origin=draw(sized_text(300)),
        subject=draw(sized_text(700)),
        tags=tuple(draw(st.lists(st.from_regex(r"\A[A-Z]{2,30}\Z"), max_size=40))),
        references=tuple(
            draw(st.lists(st.from_regex(r"\A[0-9]{2}[A-Z]{3,12}[0-9]{1,6}\Z"), max_size=80))
        ),
        summary=draw(st.none() | sized_text(5000)),
        paragraphs=tuple(
            Paragraph(number=n, marking=draw(st.none() | st.text(max_size=12)), text=t)
            for n, t in zip(numbers, texts, strict=True)
        ),
    )


def _long_cable(
    size: int,
    count: int = 3,
    text: str = "The harbour master repeated the same point at length. ",
    **changes: object,
) -> Cable:
    """The test cable with `count` paragraphs of `size` characters each (`text` repeated)."""
    text = _sized(size, text)
    paragraphs = tuple(Paragraph(number=n, marking="C", text=text) for n in range(1, count + 1))
    return harbour_cable(paragraphs=paragraphs, summary=text, **changes)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cables(),
    st.lists(st.lists(st.integers(0, 10**6), max_size=10), min_size=1, max_size=10),
    st.dictionaries(st.from_regex(r"\A[A-Z]{2,30}\Z"), sized_text(300), max_size=20),
    st.none() | st.integers(0, 10**6),
)
@example(_long_cable(4000), [[0]], {}, None)
@example(_long_cable(4000), [[0], [1]], {}, 3)
@example(_long_cable(3000, 10), [[i] for i in range(10)], {}, 12)
@example(_long_cable(6000), [[]], {"PREL": "x" * 300}, 10**6)
@example(_long_cable(2500, tags=("PREL", "ECON", "NO")), [[0, 1, 2]], TAG_MEANINGS, 7)
def test_every_message_fits_discord_limits(
    cable: Cable,
    picks: list[list[int]],
    meanings: dict[str, str],
    cited_by: int | None,
) -> None:
    """`picks`: one list per card of the message, indexes into the cable's paragraph numbers."""
    numbers = sorted({p.number for p in cable.paragraphs})
    cards = []
    for pick in picks:
        wanted = tuple(numbers[i % len(numbers)] for i in pick) if numbers else ()
        cards.append(
            build_card(
                cable,
                CableRequest(ref_id=cable.ref_id, paragraphs=wanted),
                tag_meanings={**meanings, **dict.fromkeys(cable.tags[:3], "x" * 300)},
                cites=cable.references,
                cited_by_count=cited_by,
                budget=MESSAGE_MAX // len(picks),
            )
        )
    assert sum(card.size() for card in cards) <= MESSAGE_MAX
    for card in cards:
        assert 0 < len(card.title) <= TITLE_MAX
        assert len(card.description) <= DESCRIPTION_MAX
        assert len(card.fields) <= 25
        assert all(len(f.name) <= 256 and 0 < len(f.value) <= FIELD_MAX for f in card.fields)
        assert len(card.footer) <= 2048
        assert x_length(card.citations["post"]) <= POST_MAX  # as X counts: links 23
        assert "#cablegate" in card.hashtags


PAGE = "https://wikileaks.org/cable/2009/03/09OSLO777.html"


def test_citations_name_a_run_of_paragraphs_as_a_range_and_others_one_by_one() -> None:
    cable = harbour_cable()
    subject = "FERRY CONTRACT FOR THE ISLANDS SIGNED IN HASTE"
    for wanted, label in (((2, 3, 4), "¶2-4"), ((2, 4), "¶2, ¶4"), ((4, 5), "¶4-5")):
        url = f"{PAGE}#par{wanted[0]}"
        citations = build_card(cable, _request(cable, *wanted)).citations
        assert citations["plain"] == (
            f'Embassy Oslo, "{subject}", cable 09OSLO777, {label}, March 12, 2009,'
            f" CONFIDENTIAL. {url}"
        )
        assert citations["markdown"] == f"[09OSLO777 {label}: {subject}]({url})"
        assert citations["chicago"] == (
            'Embassy Oslo, "Ferry Contract for the Islands Signed in Haste," cable 09OSLO777,'
            f" March 12, 2009, {label}, released by WikiLeaks August 30, 2011, {url}."
        )
        assert citations["bibtex"] == "\n".join(
            (
                "@misc{cable:09OSLO777,",
                "  author = {{Embassy Oslo}},",
                f"  title = {{{{{subject}}}}},",
                f"  howpublished = {{Diplomatic cable 09OSLO777, {label}, CONFIDENTIAL}},",
                "  year = {2009},",
                "  month = mar,",
                "  note = {Released by WikiLeaks 2011-08-30},",
                f"  url = {{{url}}},",
                "}",
            )
        )


def test_citations_of_a_cable_without_origin_subject_dates_or_classification() -> None:
    cable = harbour_cable(
        "75CAIRO1", origin="", classification="", subject="  ", created=None, released=None
    )
    url = "https://wikileaks.org/plusd/cables/75CAIRO1_a.html"
    card = build_card(cable, _request(cable))
    assert card.title == "75CAIRO1"
    fields = {f.name: f.value for f in card.fields}
    assert [fields[n] for n in ("Origin", "Created", "Released", "Classification")] == [
        "unknown"
    ] * 4
    assert card.citations["plain"] == (
        f'US Department of State, "(no subject)", cable 75CAIRO1, n.d.,'
        f" unknown classification. {url}"
    )
    assert card.citations["markdown"] == f"[75CAIRO1: (no subject)]({url})"
    assert card.citations["chicago"].endswith(f"cable 75CAIRO1, n.d., {url}.")
    assert card.citations["bibtex"] == "\n".join(
        (
            "@misc{cable:75CAIRO1,",
            "  author = {{US Department of State}},",
            "  title = {{(no subject)}},",
            "  howpublished = {Diplomatic cable 75CAIRO1, unknown classification},",
            f"  url = {{{url}}},",
            "}",
        )
    )


def test_citation_dates_name_every_month() -> None:
    for month, name in ((1, "January"), (12, "December")):
        cable = harbour_cable(created=datetime(1989, month, 3), released=datetime(2011, month, 9))
        citations = build_card(cable, _request(cable)).citations
        assert f"cable 09OSLO777, {name} 3, 1989, CONFIDENTIAL." in citations["plain"]
        assert f"released by WikiLeaks {name} 9, 2011," in citations["chicago"]
        assert f"month = {name[:3].lower()}," in citations["bibtex"]


def test_bibtex_escapes_its_special_characters() -> None:
    cable = harbour_cable(subject="50% OF R&D_FUNDS {SBU} #1 $5", origin="Embassy A&B")
    bibtex = build_card(cable, _request(cable)).citations["bibtex"]
    assert r"  title = {{50\% OF R\&D\_FUNDS \{SBU\} \#1 \$5}}," in bibtex
    assert r"  author = {{Embassy A\&B}}," in bibtex


def test_citation_text_puts_each_style_in_its_own_code_block() -> None:
    FENCE, QUOTES = "```", "'''"
    cable = harbour_cable(subject="USE ``` WITH CARE")
    card = build_card(cable, _request(cable, 3))
    url = f"{PAGE}#par3"
    assert citation_text(card, ["markdown", "bibtex"]) == (
        f"**Markdown**\n```\n[09OSLO777 ¶3: USE ''' WITH CARE]({url})\n```\n"
        f"**BibTeX**\n```bibtex\n{card.citations['bibtex'].replace(FENCE, QUOTES)}\n```"
    )
    everything = citation_text(card)
    for name in ("Plain text", "Markdown", "Chicago note", "BibTeX", "Post (280 characters)"):
        assert f"**{name}**\n```" in everything
    assert everything.count("```") == 10


def test_a_paragraph_without_marking_is_quoted_without_parentheses() -> None:
    plain = tuple(p.model_copy(update={"marking": None}) for p in harbour_cable().paragraphs)
    cable = harbour_cable(paragraphs=plain)
    assert build_card(cable, _request(cable, 2)).quote.startswith("**¶2**\n> The minister")


def test_card_size_counts_title_description_fields_and_footer() -> None:
    card = Card(
        ref_id="09OSLO777",
        title="t" * 10,
        url=PAGE,
        color=0,
        fields=(CardField(name="ab", value="cde"), CardField(name="f", value="ghij")),
        quote="q" * 20,
        hashtags=("#a",),
        footer="z" * 7,
    )
    assert card.description == "q" * 20 + "\n\n#a"
    assert card.size() == 10 + 24 + (2 + 3 + 1 + 4) + 7


def test_cut_list_keeps_what_fits_and_counts_the_rest() -> None:
    items = ["alpha", "beta", "gamma", "delta"]
    assert cut_list(items, 100) == "alpha\nbeta\ngamma\ndelta"
    # room for gamma and a "+1 more" after it: 10 + 6 + 8
    assert cut_list(items, 24) == "alpha\nbeta\ngamma\ndelta"
    assert cut_list(items, 19) == "alpha\nbeta\n+2 more"
    assert cut_list(items, 18) == "alpha\nbeta\n+2 more"  # exactly
    assert cut_list(items, 17) == "alpha\n+3 more"
    assert cut_list(items, 13) == "alpha\n+3 more"  # exactly
    assert cut_list(items, 12) == "+4 more"
    assert cut_list(items, 7) == "+4 more"
    assert cut_list(items, 6) == ""
    assert cut_list(items, 17, ", ") == "alpha, +3 more"
    assert cut_list(["alpha"], 5) == "alpha"
    assert cut_list(items, 22) == "alpha\nbeta\ngamma\ndelta"  # all of it, exactly: no note
    assert cut_list(["alpha", "beta"], 10) == "alpha\nbeta"


def test_hashtags_are_camel_case_words() -> None:
    assert hashtag("Saudi Arabia") == "#SaudiArabia"
    assert hashtag("NATO summit") == "#NatoSummit"
    assert hashtag("eastern iPhone") == "#EasternIPhone"
    assert hashtag("O'Brien_x") == "#OBrienX"
    assert hashtag("1989") is None
    assert hashtag("1989 talks") == "#1989Talks"
    assert hashtag(" - ") is None


def test_topic_hashtags_come_from_the_place_and_short_tag_meanings() -> None:
    meanings = {
        "PREL": "External Political Relations",  # three words: not a topic
        "ECON": "Economic Conditions",
        "NO": "Norway",
        "NOR": "NORWAY",  # the same tag in other case
        "KX": "Q" + "q" * 31,  # too long a hashtag
        "KY": "Q" + "q" * 30,
        "KZ": "Fisheries",
    }
    cable = harbour_cable(tags=("PREL", "ECON", "NO", "NOR", "KX", "KY", "KZ"))
    assert topic_hashtags(cable, meanings) == (
        "#Oslo",
        "#EconomicConditions",
        "#Norway",
        "#Q" + "q" * 30,
    )
    assert topic_hashtags(cable, meanings, limit=10)[-1] == "#Fisheries"
    assert topic_hashtags(cable) == ("#Oslo",)
    mission = harbour_cable(origin="US Mission to the United Nations", tags=())
    assert topic_hashtags(mission) == ("#UnitedNations",)
    for size, expected in ((30, ("#P" + "p" * 29,)), (31, ())):
        place = harbour_cable(origin="Embassy P" + "p" * (size - 1), tags=())
        assert topic_hashtags(place) == expected


def test_a_quote_block_fits_its_limit_and_links_to_the_rest() -> None:
    link = "https://x.test/c#par2"
    more = f"\n[Read more]({link})"
    text = "One two three. Four five six seven. Eight nine ten eleven twelve thirteen fifteen."
    whole = "**¶2**\n> " + text
    assert _quote_block("¶2", text, len(whole), link) == whole  # exactly
    # 40 characters of room for the text (82 - 7 - 35): cut at a sentence
    assert (
        _quote_block("¶2", text, 82, link)
        == "**¶2**\n> One two three. Four five six seven. …" + more
    )
    assert _quote_block("¶2", text, 81, link) == f"**¶2**\n[Read ¶2]({link})"  # too little room
    # each line of the text costs a "> ": the cut leaves room for them, and no more
    lines = (
        "First line here.\nSecond line is here.\n\n"
        "Third line. It is a good deal longer than the others are.\nFour."
    )
    assert _quote_block("¶2", lines, 85, link) == (
        "**¶2**\n> First line here.\n> Second line is…" + more
    )
    assert _quote_block("¶2", lines, 89, link) == (
        "**¶2**\n> First line here.\n> Second line is here. …" + more
    )
    assert _quote_block("¶2", lines, 102, link) == (
        "**¶2**\n> First line here.\n> Second line is here.\n>\n> Third line. …" + more
    )


def test_the_fields_in_order_all_inline_but_the_tags() -> None:
    cable = harbour_cable()
    card = build_card(cable, _request(cable, 2), cited_by_count=1)
    assert [(f.name, f.inline) for f in card.fields] == [
        ("Origin", True),
        ("Created", True),
        ("Released", True),
        ("Classification", True),
        ("TAGS", False),
        ("Cites", True),
        ("Cited by", True),
    ]
    assert card.fields[-1].value == "1 cable"


@pytest.mark.parametrize(
    ("text", "limit", "sentences", "expected"),
    [
        ("abcdef", 1, False, "…"),
        ("abcdef", 0, False, ""),
        ("One two. Three four five six", 15, False, "One two.…"),  # words unless asked
        ("Aa bb. Cc dd. Ee ff gg hh ii jj kk ll", 20, True, "Aa bb. Cc dd. …"),  # the last end
        ("Aa bb cc. Dd ee. Ff gg hh ii", 22, True, "Aa bb cc. Dd ee. …"),
        ("Aa bb cc dd ee ff. Gg hh ii jj kk ll", 24, True, "Aa bb cc dd ee ff. …"),
        ("Aaa. Bbbbbbbbbbbbb", 10, True, "Aaa. …"),  # an end at half the room is kept
        ("Aa bb cc. Ee ff gg hh ii jj kk ll", 21, True, "Aa bb cc. Ee ff gg…"),  # under half
        (". Aa bb", 4, True, ". …"),
        ("Abcde fghijklmnop", 12, False, "Abcde…"),  # a space at half the room is used
        ("Abcd efghijklmnop", 12, False, "Abcd efghij…"),  # under half: cut in the word
        ("Aa bb, cc dd ee ff", 8, False, "Aa bb…"),
        ("Aa XX, cc dd ee ff", 8, False, "Aa XX…"),
    ],
)
def test_shorten_cuts_at_the_last_sentence_or_word_in_the_second_half(
    text: str, limit: int, sentences: bool, expected: str
) -> None:
    assert shorten(text, limit, sentences=sentences) == expected


def test_colours_of_fouo_and_unknown_markings() -> None:
    assert colour_for("FOUO") == COLOURS["FOUO"]
    assert colour_for("RESTRICTED") == colour_for("") == COLOURS["OTHER"]


def test_title_case_keeps_spacing_and_the_first_small_word() -> None:
    assert title_case("THE  VISIT OF 3 MEN") == "The  Visit of 3 Men"
    assert title_case("A VISIT TO THE U.S.") == "A Visit to the U.S."


def test_footer_counts_paragraphs_and_cited_by_is_plural() -> None:
    cable = harbour_cable()
    card = build_card(cable, _request(cable, 2), cited_by_count=2)
    assert card.footer == "09OSLO777 · 6 paragraphs"
    assert {f.name: f.value for f in card.fields}["Cited by"] == "2 cables"
    empty = harbour_cable(summary=None, paragraphs=())
    card = build_card(empty, _request(empty))
    assert card.footer == "09OSLO777" and card.quote == ""
    assert card.citations["post"] == f"{PAGE} #cablegate #09OSLO777"


def test_what_the_caller_gives_is_used() -> None:
    cable = harbour_cable()
    card = build_card(cable, _request(cable, 2), tag_meanings={"NO": "Norway"}, cites=["01A1"])
    assert card.topic_hashtags == ("#Oslo", "#Norway")
    assert {f.name: f.value for f in card.fields}["Cites"] == "01A1"
    assert build_card(cable, _request(cable, 2), with_citations=False).citations == {}


def test_a_bare_id_of_a_cable_with_paragraph_zero_has_nothing_before() -> None:
    numbered = tuple(Paragraph(number=n, marking="C", text="t") for n in range(4))
    cable = harbour_cable(paragraphs=numbered)
    card = build_card(cable, _request(cable))
    assert card.previous_paragraph is None  # a preview has nothing before it


def test_title_and_field_lengths_follow_the_budget() -> None:
    """The title gets a sixth of the budget, each field value an eighth."""
    for budget, title, origin in ((600, 96, 73), (1000, 161, 123)):
        cable = harbour_cable(subject="WORD " * 80, origin="Embassy " + "Oslo " * 60)
        card = build_card(cable, _request(cable), budget=budget)
        assert len(card.title) == title <= budget // 6
        assert len(card.fields[0].value) == origin <= budget // 8


def test_a_crowded_card_drops_topics_cites_and_tags_for_its_quote() -> None:
    cable = harbour_cable(
        subject="WORD " * 80,
        origin="Embassy " + "Oslo " * 60,
        classification="SECRET " * 30,
        tags=("NO", *(f"T{i}" for i in range(60))),
        references=tuple(f"09OSLO{i}" for i in range(80)),
    )
    card = build_card(cable, _request(cable, 5), tag_meanings=TAG_MEANINGS, cited_by_count=3)
    assert {"TAGS", "Cites"} <= {f.name for f in card.fields}  # room for all
    assert card.topic_hashtags == ("#Norway",)
    card = build_card(
        cable, _request(cable, 5), tag_meanings=TAG_MEANINGS, cited_by_count=3, budget=600
    )
    assert card.topic_hashtags == ()
    assert [f.name for f in card.fields] == [
        "Origin",
        "Created",
        "Released",
        "Classification",
        "Cited by",
    ]
    assert len(card.quote) == 178 and card.size() <= 600


def test_trimming_stops_as_soon_as_the_card_fits() -> None:
    cable = harbour_cable()
    card = build_card(cable, _request(cable, 2), tag_meanings=TAG_MEANINGS, cited_by_count=2)
    assert card.topic_hashtags and len(card.fields) == 7
    assert _trim_to(card, card.size()) == card  # fits exactly: nothing dropped
    no_topics = _trim_to(card, card.size() - 1)
    assert no_topics.topic_hashtags == () and no_topics.fields == card.fields


def test_a_long_quote_fills_the_description_to_its_limit() -> None:
    cable = harbour_cable(paragraphs=(Paragraph(number=1, marking="C", text="x " * 3000),))
    card = build_card(cable, _request(cable, 1))
    assert len(card.description) == DESCRIPTION_MAX - 1  # "x …" cuts at any even length


def test_quote_blocks_share_the_room_in_the_order_asked() -> None:
    """Each block gets an even share of what the blocks before it left (less 2 for the blank
    line between blocks): the short ¶2 and ¶4 whole, the long ¶5 cut with a link."""
    cable = harbour_cable()
    card = build_card(cable, _request(cable, 2, 5, 4), budget=1858)
    blocks = card.quote.split("\n\n")
    assert [b.split("\n")[0] for b in blocks] == ["**¶2 (SBU)**", "**¶5 (C/NF)**", "**¶4 (U)**"]
    assert [len(b) for b in blocks] == [171, 718, 81]
    assert blocks[1].endswith(
        "…\n[Read more](https://wikileaks.org/cable/2009/03/09OSLO777.html#par5)"
    )


def test_the_last_paragraph_has_nothing_after_it() -> None:
    cable = harbour_cable()
    card = build_card(cable, _request(cable, 6))
    assert (card.previous_paragraph, card.next_paragraph) == (5, None)


def test_a_small_card_of_three_paragraphs_links_what_it_cannot_quote() -> None:
    cable = harbour_cable()
    card = build_card(cable, _request(cable, 2, 3, 5), budget=600)
    blocks = card.quote.split("\n\n")
    assert blocks[0] == f"**¶2 (SBU)**\n[Read ¶2 (SBU)]({PAGE}#par2)"  # its share: under 40
    assert blocks[1].endswith(f"…\n[Read more]({PAGE}#par3)")
    assert blocks[2].endswith(f"…\n[Read more]({PAGE}#par5)")
    assert [len(b) for b in blocks] == [85, 123, 134] and card.size() <= 600


def test_a_cut_summary_links_the_whole_cable() -> None:
    cable = _long_cable(4000)
    card = build_card(cable, _request(cable), budget=600)
    assert card.quote.startswith("**Summary (preview)**\n> ")
    assert card.quote.endswith(f"…\n[Read more]({PAGE})")


def test_shorten_cuts_at_words_unless_asked_for_sentences() -> None:
    assert shorten("One two. Three four five six", 15) == "One two.…"
