"""bot.discord.cogs.search: /search with filters, paged by buttons that work after a restart
and only for the requester; autocomplete of the filters from the store."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.discord.client import Cablebot
from bot.discord.cogs.search import (
    ListPageButton,
    complete_classification,
    complete_origin,
    complete_tag,
)
from bot.discord.listing import PAGE_SIZE
from parsers.models import Cable
from tests.bot.discord.clicks import buttons, click, edited, said_privately
from tests.bot.discord.cogs.conftest import Corpus
from tests.bot.helpers import answered, spec_interaction


async def search(bot: Cablebot, user_id: int = 99, **options: Any) -> Any:
    """Run /search with `options` as `user_id`; the interaction."""
    cog: Any = bot.get_cog("Search")
    interaction = spec_interaction(bot, user_id)
    await cog.search.callback(cog, interaction, **options)
    return interaction


def oldest(cables: Iterable[Cable]) -> list[str]:
    """Reference IDs oldest first (undated last, ties by ID), said in Python."""
    ordered = sorted(cables, key=lambda c: (c.created is None, c.created or 0, c.ref_id))
    return [c.ref_id for c in ordered]


def ids_of(embed: discord.Embed) -> list[str]:
    return [(field.name or "").split(" · ")[0] for field in embed.fields]


async def every_page(bot: Cablebot, first: dict[str, Any]) -> list[dict[str, Any]]:
    """The first page and every page reached by clicking Next until it is disabled."""
    pages = [first]
    while True:
        _, following = buttons(pages[-1]["view"])
        if following.item.disabled:
            return pages
        clicked = await click(bot, following, on=pages[-1])
        assert answered(clicked) == ["response.defer", "edit_original_response"]
        pages.append(edited(clicked))


async def test_filters_are_kept_by_every_page(corpus_bot: Cablebot, corpus: Corpus) -> None:
    interaction = await search(corpus_bot, tag="prel", origin="MADRID")
    assert answered(interaction) == ["response.send_message"]  # the store answers at once
    first = interaction.response.send_message.call_args.kwargs
    assert not first.get("ephemeral") and first["allowed_mentions"].to_dict() == {"parse": []}
    expected = oldest(
        c for c in corpus.cables.values() if "PREL" in c.tags and "madrid" in c.origin.lower()
    )
    assert len(expected) > 2 * PAGE_SIZE  # at least three pages
    embed = first["embed"]
    assert embed.title == "Browse"
    assert embed.description.startswith(f"**{len(expected)}** cables · page 1 of ")
    assert embed.footer.text.startswith("tag:PREL origin:MADRID sort:oldest\n")
    pages = await every_page(corpus_bot, first)
    assert [i for page in pages for i in ids_of(page["embed"])] == expected
    last = pages[-1]["embed"]
    assert last.description.endswith(f"page {len(pages)} of {len(pages)}")

    previous, _ = buttons(pages[-1]["view"])
    back = await click(corpus_bot, previous, on=pages[-1])
    assert edited(back)["embed"].to_dict() == pages[-2]["embed"].to_dict()


async def test_a_query_with_filters_and_a_sort(corpus_bot: Cablebot, corpus: Corpus) -> None:
    interaction = await search(
        corpus_bot, query="nuclear", tag="IR", date_from="2006-01-01", sort="newest"
    )
    first = interaction.response.send_message.call_args.kwargs
    assert first["embed"].title == "Search: nuclear"
    pages = await every_page(corpus_bot, first)
    found = [corpus.cables[i] for page in pages for i in ids_of(page["embed"])]
    assert found and len(found) == len({c.ref_id for c in found})
    for cable in found:
        assert "IR" in cable.tags and cable.created and cable.created.year >= 2006
        assert "nuclear" in f"{cable.subject} {cable.body}".lower()
    dates = [c.created for c in found]
    assert dates == sorted(dates, reverse=True)  # type: ignore[type-var]
    assert all("**" in (f.value or "") for p in pages for f in p["embed"].fields)  # snippets
    assert first["embed"].description.startswith(f"**{len(found)}** cable")


async def test_bad_options_are_a_private_line(corpus_bot: Cablebot) -> None:
    cases = {
        "from: '2009-13-01' is not a real date.": {"date_from": "2009-13-01"},
        "to: '14/03/2009' is not a date written YYYY-MM-DD.": {"date_to": "14/03/2009"},
        "from: 2009-03-02 is after to: 2009-03-01.": {
            "date_from": "2009-03-02",
            "date_to": "2009-03-01",
        },
    }
    for line, options in cases.items():
        interaction = await search(corpus_bot, **options)
        assert answered(interaction) == ["response.send_message"]
        assert said_privately(interaction) == line


async def test_no_results_is_a_private_note(corpus_bot: Cablebot) -> None:
    interaction = await search(corpus_bot, query="zeppelin", tag="PREL")
    assert said_privately(interaction) == (
        "No cables match query:zeppelin tag:PREL. Try fewer or other words or filters."
    )


async def test_a_stranger_cannot_page(corpus_bot: Cablebot) -> None:
    first = (await search(corpus_bot, tag="PREL")).response.send_message.call_args.kwargs
    _, following = buttons(first["view"])
    stranger = await click(corpus_bot, following, on=first, user_id=5)
    assert said_privately(stranger).startswith("Only <@99> can page this list")
    stranger.edit_original_response.assert_not_awaited()


async def test_a_message_without_its_state_cannot_be_paged(corpus_bot: Cablebot) -> None:
    first = (await search(corpus_bot, tag="PREL")).response.send_message.call_args.kwargs
    _, following = buttons(first["view"])
    bare = {"embed": discord.Embed(title="Browse")}
    clicked = await click(corpus_bot, following, on=bare)
    assert said_privately(clicked) == "This list can no longer be paged; run the command again."


async def test_buttons_of_the_query_only_search_still_page(bot: Cablebot) -> None:
    """A message sent before filters existed carries its query in the button."""
    old = ListPageButton(99, 2, forward=True, disabled=False, query="ferry contract")
    assert old.custom_id == "cablebot:find:99:2:ferry contract"
    clicked = await click(bot, old, on={"embed": discord.Embed(title="Search: ferry contract")})
    page = edited(clicked)
    assert page["embed"].description == "**8** cables · page 2 of 2"
    assert len(page["embed"].fields) == 8 - PAGE_SIZE
    assert page["embed"].footer.text.startswith('query:"ferry contract" sort:relevance\n')
    assert [b.custom_id for b in buttons(page["view"])] == [
        "cablebot:list:99:1",
        "cablebot:list:99:3",
    ]


async def test_past_the_last_page_shows_the_last(bot: Cablebot) -> None:
    first = (await search(bot, query="ferry")).response.send_message.call_args.kwargs
    stale = ListPageButton(99, 7, forward=True, disabled=False)
    page = edited(await click(bot, stale, on=first))
    assert page["embed"].description == "**8** cables · page 2 of 2"


async def test_autocomplete_of_the_filters(corpus_bot: Cablebot, corpus: Corpus) -> None:
    interaction = spec_interaction(corpus_bot)
    tags = await complete_tag(interaction, "p")
    counts: dict[str, int] = {}
    for cable in corpus.cables.values():
        for tag in cable.tags:
            counts[tag] = counts.get(tag, 0) + 1
    starting = sorted((t for t in counts if t.startswith("P")), key=lambda t: (-counts[t], t))
    assert len(tags) == 25 and [c.value for c in tags[: len(starting)]] == starting[:25]
    meanings = corpus_bot.tag_meanings or {}
    assert all("p" in meanings[str(c.value)].lower() for c in tags[len(starting) :])
    assert [c.value for c in tags[:2]] == ["PREL", "PGOV"]  # the most used first
    assert tags[0].name == f"PREL · External Political Relations · {counts['PREL']}"
    by_meaning = await complete_tag(interaction, "terrorism")
    assert "PTER" in [c.value for c in by_meaning]
    assert all(len(c.name) <= 100 and len(c.value) <= 100 for c in by_meaning + tags)

    origins = await complete_origin(interaction, "mad")
    assert origins[0].value == "Embassy Madrid"
    madrid = sum(c.origin == "Embassy Madrid" for c in corpus.cables.values())
    assert origins[0].name == f"Embassy Madrid · {madrid}"
    assert len(await complete_origin(interaction, "")) == min(
        25, len({c.origin for c in corpus.cables.values()})
    )
    secret = [c.value for c in await complete_classification(interaction, "secr")]
    assert secret and all(str(v).startswith("SECRET") for v in secret)

    command = corpus_bot.tree.get_command("search")
    assert command is not None
    options = {o["name"]: o for o in command.to_dict(corpus_bot.tree)["options"]}
    assert options["tag"]["autocomplete"] and options["origin"]["autocomplete"]
    assert {"from", "to", "sort", "query", "classification"} <= set(options)
    assert not any(o.get("required") for o in options.values())  # browsing needs no query


async def test_a_store_that_cannot_be_read_is_a_private_line(
    bot: Cablebot, caplog: pytest.LogCaptureFixture
) -> None:
    """As the command tree does: the command's exception goes to its error handlers."""
    await bot.library.store.close()  # type: ignore[attr-defined]
    for name in ("search", "browse"):
        command = bot.tree.get_command(name)
        assert isinstance(command, app_commands.Command)
        interaction = spec_interaction(bot)
        interaction.command = command
        try:
            await command.callback(command.binding, interaction)  # type: ignore[arg-type]
        except Exception as exc:
            error = app_commands.CommandInvokeError(command, exc)
        await command._invoke_error_handlers(interaction, error)
        assert said_privately(interaction) == (
            "The cable store could not be read just now; try again in a minute."
        )
    assert [r.levelname for r in caplog.records if "store" in r.getMessage()] == ["WARNING"] * 2
