"""bot.discord.cogs.search: /search pages with restart-proof buttons only the requester may use."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import discord
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.discord.client import Cablebot
from bot.discord.cogs.search import (
    PAGE_SIZE,
    QUERY_MAX,
    SearchPageButton,
    normalize,
    search_embed,
    search_view,
)
from bot.library.store import SearchHit
from tests.bot.helpers import answered, spec_interaction

STORED = 8
"""Cables in the cogs' test store that mention the ferry (all of them)."""


def _buttons(view: discord.ui.View) -> tuple[SearchPageButton, SearchPageButton]:
    """The two buttons (loading the cog runs its module again: compare classes by name)."""
    previous, following = view.children
    assert type(previous).__name__ == type(following).__name__ == "SearchPageButton"
    return previous, following  # type: ignore[return-value]


async def _restored(button: SearchPageButton, user_id: int, bot: Cablebot) -> Any:
    """The button as a restarted bot rebuilds it from its custom_id, clicked by `user_id`."""
    interaction = spec_interaction(bot, user_id)
    cls = type(button)
    match = re.fullmatch(cls.__discord_ui_compiled_template__, button.custom_id)
    assert match is not None
    again = await cls.from_custom_id(interaction, button.item, match)
    await again.callback(interaction)
    return interaction


async def _first_page(bot: Cablebot, query: str, user_id: int = 99) -> Any:
    cog: Any = bot.get_cog("Search")
    interaction = spec_interaction(bot, user_id)
    await cog.search.callback(cog, interaction, query)
    return interaction


async def test_next_shows_page_two_and_the_end(bot: Cablebot) -> None:
    first = await _first_page(bot, "ferry  contract")
    assert answered(first) == ["response.send_message"]  # the store answers: no "thinking…"
    sent = first.response.send_message.call_args.kwargs
    assert not sent.get("ephemeral")
    assert sent["allowed_mentions"].to_dict() == {"parse": []}
    embed = sent["embed"]
    assert embed.title == "Search: ferry contract"
    assert len(embed.fields) == PAGE_SIZE and embed.footer.text.startswith("Page 1 ·")
    assert "last page" not in embed.footer.text
    previous, following = _buttons(sent["view"])
    assert previous.item.disabled and not following.item.disabled

    clicked = await _restored(following, 99, bot)
    page2 = clicked.edit_original_response.call_args.kwargs
    embed2 = page2["embed"]
    assert embed2.footer.text.startswith("Page 2 · last page")
    assert len(embed2.fields) == STORED - PAGE_SIZE
    ids = {f.name.split(" ·")[0] for f in embed.fields + embed2.fields}
    assert len(ids) == STORED  # no hit shown twice, none lost
    assert "https://wikileaks.org/cable/2009/03/" in embed2.fields[0].value
    previous2, following2 = _buttons(page2["view"])
    assert not previous2.item.disabled and following2.item.disabled

    back = await _restored(previous2, 99, bot)
    assert back.edit_original_response.call_args.kwargs["embed"].to_dict() == embed.to_dict()


async def test_a_stranger_cannot_page(bot: Cablebot) -> None:
    first = await _first_page(bot, "ferry", user_id=99)
    _, following = _buttons(first.response.send_message.call_args.kwargs["view"])
    stranger = await _restored(following, 5, bot)
    args, kwargs = stranger.response.send_message.call_args
    assert args[0].startswith("Only <@99> can page this search")
    assert kwargs["ephemeral"] is True and kwargs["allowed_mentions"].to_dict() == {"parse": []}
    stranger.edit_original_response.assert_not_awaited()


async def test_no_results_is_a_private_note(bot: Cablebot) -> None:
    interaction = await _first_page(bot, "zeppelin")
    assert answered(interaction) == ["response.send_message"]
    args, kwargs = interaction.response.send_message.call_args
    assert args[0] == "No cables match 'zeppelin'. Try fewer or other words."
    assert kwargs["ephemeral"] is True


async def test_past_the_last_page_says_so(bot: Cablebot) -> None:
    stale = SearchPageButton(99, 3, "ferry", forward=True, disabled=False)
    interaction = await _restored(stale, 99, bot)
    assert interaction.followup.send.call_args.args[0] == (
        "No more results for 'ferry': page 2 was the last."
    )
    _, following = _buttons(interaction.edit_original_response.call_args.kwargs["view"])
    assert following.item.disabled


@settings(max_examples=60, deadline=None)
@given(
    query=st.text(min_size=1, max_size=200),
    owner=st.integers(0, 2**64 - 1),
    page=st.integers(1, 200),
)
def test_buttons_fit_and_keep_their_state(query: str, owner: int, page: int) -> None:
    text = normalize(query)
    assert len(text.encode("utf-16-le")) <= 2 * QUERY_MAX
    assume(text)  # /search answers an empty query itself, without buttons
    for button in _buttons(search_view(owner, text, page, last=False)):
        assert len(button.custom_id.encode("utf-16-le")) <= 200
        match = re.fullmatch(SearchPageButton.__discord_ui_compiled_template__, button.custom_id)
        assert match is not None
        assert (int(match["owner"]), match["query"]) == (owner, text)
    previous, following = _buttons(search_view(owner, text, page, last=False))
    assert previous.custom_id != following.custom_id


@settings(max_examples=30, deadline=None)
@given(
    subject=st.text(max_size=3000),
    snippet=st.text(max_size=3000),
    query=st.text(max_size=QUERY_MAX),
)
def test_a_page_fits_discord_limits(subject: str, snippet: str, query: str) -> None:
    hits = [
        SearchHit(
            ref_id=f"09OSLO{n}", subject=subject, created=datetime(2009, 3, 1), snippet=snippet
        )
        for n in range(PAGE_SIZE + 1)
    ]
    embed = search_embed(query, hits, 200, last=True, site="https://wikileaks.org")
    assert len(embed.fields) == PAGE_SIZE
    assert len(embed) <= 6000
    assert all(len(f.value or "") <= 1024 and len(f.name or "") <= 256 for f in embed.fields)
    assert len(embed.title or "") <= 256


async def test_a_blank_query_is_a_private_note(bot: Cablebot) -> None:
    interaction = await _first_page(bot, "   ")
    args, kwargs = interaction.response.send_message.call_args
    assert args[0] == "Type a few words to search for." and kwargs["ephemeral"] is True
    interaction.followup.send.assert_not_awaited()


def test_hits_link_their_page_and_an_undated_hit_its_plusd_page() -> None:
    dated = SearchHit(
        ref_id="09ELBONIA1234", subject="FERRY", created=datetime(2009, 3, 2), snippet=""
    )
    undated = SearchHit(ref_id="10ATLANTIS7", subject="TIDES", created=None, snippet="")
    embed = search_embed("ferry", [dated, undated], 1, last=True, site="https://example.org/")
    values = [field.value or "" for field in embed.fields]
    assert "(https://example.org/cable/2009/03/09ELBONIA1234.html)" in values[0]
    assert "(https://example.org/plusd/cables/10ATLANTIS7_a.html)" in values[1]
