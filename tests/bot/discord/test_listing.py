"""bot.discord.listing: a list's state survives the embed's trip through Discord, and its pages
fit Discord's limits."""

from __future__ import annotations

import re
from datetime import date, datetime

import discord
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discord.listing import (
    PAGE_SIZE,
    QUERY_MAX,
    filters_from,
    list_embed,
    parse_state,
    related_embed,
    state_of,
    state_text,
)
from bot.library.discover import Filters, Hit, HitPage, Related

texts = st.text(min_size=1, max_size=QUERY_MAX).map(lambda t: " ".join(t.split())).filter(bool)
filters = st.builds(
    Filters,
    query=st.none() | texts,
    tags=st.lists(st.from_regex(r"[A-Z]{2,6}", fullmatch=True), max_size=3).map(tuple),
    origin=st.none() | texts,
    classification=st.none() | texts,
    date_from=st.none() | st.dates(date(1966, 1, 1), date(2010, 12, 31)),
    date_to=st.none() | st.dates(date(1966, 1, 1), date(2010, 12, 31)),
    month_day=st.none() | st.sampled_from(["01-01", "02-29", "12-31"]),
)
sorts = st.sampled_from(["relevance", "oldest", "newest"])


@settings(max_examples=150, deadline=None)
@given(chosen=filters, sort=sorts)
def test_the_state_reads_back_from_the_embed_as_discord_returns_it(
    chosen: Filters, sort: str
) -> None:
    found = HitPage(total=0, hits=[])
    embed = list_embed(chosen, sort, found, 1, site="https://example.org")  # type: ignore[arg-type]
    returned = discord.Embed.from_dict(embed.to_dict())
    again, again_sort = state_of(returned)
    assert again == chosen
    assert again_sort == ("oldest" if sort == "relevance" and not chosen.query else sort)
    assert len(returned.footer.text or "") <= 2048


def test_the_state_is_readable_words() -> None:
    chosen = Filters(query='say "hi"', tags=("PREL", "MX"), origin="Embassy Mexico")
    text = state_text(chosen, None)
    assert text == 'query:"say \\"hi\\"" tag:PREL tag:MX origin:"Embassy Mexico" sort:relevance'
    assert parse_state(text) == (chosen, "relevance")
    with pytest.raises(ValueError, match="'colour:red' is not part of a list's state"):
        parse_state("colour:red sort:oldest")
    with pytest.raises(ValueError, match="has no sort"):
        parse_state("tag:PREL")


def test_options_become_filters_or_one_clear_line() -> None:
    made = filters_from(query="  iran   nuclear ", tag="prel, mx", date_from="2009-01-01")
    assert made == Filters(query="iran nuclear", tags=("PREL", "MX"), date_from=date(2009, 1, 1))
    with pytest.raises(ValueError, match=re.escape("from: '2009-1-1' is not a date written")):
        filters_from(date_from="2009-1-1")
    with pytest.raises(ValueError, match=re.escape("to: '2009-02-29' is not a real date")):
        filters_from(date_to="2009-02-29")


@settings(max_examples=30, deadline=None)
@given(subject=st.text(max_size=3000), snippet=st.text(max_size=3000), chosen=filters)
def test_a_page_fits_discord_limits(subject: str, snippet: str, chosen: Filters) -> None:
    hits = [
        Hit(
            ref_id=f"09OSLO{n}",
            created=datetime(2009, 3, 1),
            subject=subject,
            origin="Embassy Oslo " * 30,
            classification="SECRET",
            tags=("PREL",),
            snippet=snippet or None,
        )
        for n in range(PAGE_SIZE + 1)
    ]
    embed = list_embed(chosen, None, HitPage(total=10**6, hits=hits), 200, site="https://x.org")
    assert len(embed.fields) == PAGE_SIZE and len(embed) <= 6000
    assert all(len(f.value or "") <= 1024 and len(f.name or "") <= 256 for f in embed.fields)
    assert len(embed.title or "") <= 256
    assert embed.description == "**1,000,000** cables · page 200 of 200"


@settings(max_examples=20, deadline=None)
@given(subject=st.text(max_size=3000), why=st.lists(st.text(max_size=300), max_size=5))
def test_related_fits_discord_limits(subject: str, why: list[str]) -> None:
    related = [
        Related(ref_id=f"09OSLO{n}", subject=subject, created=None, score=1.0, why=why)
        for n in range(30)
    ]
    embed = related_embed("09OSLO777", related, site="https://x.org")
    assert len(embed.fields) == 10 and len(embed) <= 6000
    assert all(len(f.value or "") <= 1024 for f in embed.fields)
    assert "(https://x.org/plusd/cables/09OSLO0_a.html)" in (embed.fields[0].value or "")
