"""bot.discord.cogs.discover: /browse, /onthisday, /random and /related on the corpus store,
checked against the corpus pages parsed in Python."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bot.discord.client import Cablebot
from bot.discord.listing import RELATED_MAX
from tests.bot.discord.clicks import said_privately
from tests.bot.discord.cogs.conftest import Corpus
from tests.bot.discord.cogs.test_search import every_page, ids_of, oldest
from tests.bot.helpers import answered, spec_interaction


async def run(bot: Cablebot, name: str, user_id: int = 99, **options: Any) -> Any:
    """Run the Discover cog's command `name` with `options`; the interaction."""
    cog: Any = bot.get_cog("Discover")
    interaction = spec_interaction(bot, user_id)
    await getattr(cog, name).callback(cog, interaction, **options)
    return interaction


def public(interaction: Any) -> dict[str, Any]:
    """What the command answered in the channel (not privately, never pinging)."""
    assert answered(interaction)[-1] in ("response.send_message", "followup.send")
    call = interaction.response.send_message.call_args or interaction.followup.send.call_args
    assert not call.kwargs.get("ephemeral")
    assert call.kwargs["allowed_mentions"].to_dict() == {"parse": []}
    return dict(call.kwargs)


async def test_browse_by_tag_and_year_is_every_such_cable_oldest_first(
    corpus_bot: Cablebot, corpus: Corpus
) -> None:
    first = public(await run(corpus_bot, "browse", tag="PTER", year=2008))
    expected = oldest(
        c
        for c in corpus.cables.values()
        if "PTER" in c.tags and c.created is not None and c.created.year == 2008
    )
    assert len(expected) > 5
    assert first["embed"].description.startswith(f"**{len(expected)}** cables")
    assert first["embed"].footer.text.startswith("tag:PTER from:2008-01-01 to:2008-12-31 ")
    pages = await every_page(corpus_bot, first)
    assert [i for page in pages for i in ids_of(page["embed"])] == expected


async def test_browse_by_origin(corpus_bot: Cablebot, corpus: Corpus) -> None:
    first = public(await run(corpus_bot, "browse", origin="paris"))
    expected = oldest(c for c in corpus.cables.values() if "paris" in c.origin.lower())
    pages = await every_page(corpus_bot, first)
    assert [i for page in pages for i in ids_of(page["embed"])] == expected
    nothing = await run(corpus_bot, "browse", origin="atlantis")
    assert said_privately(nothing) == "No cables match origin:atlantis."


async def test_on_this_day_is_every_cable_of_that_day(corpus_bot: Cablebot, corpus: Corpus) -> None:
    days: dict[str, list[str]] = {}
    for cable in oldest(corpus.cables.values()):
        created = corpus.cables[cable].created
        if created is not None:
            days.setdefault(f"{created:%m-%d}", []).append(cable)
    day, expected = max(days.items(), key=lambda kv: len(kv[1]))
    assert len(expected) > 5  # two pages
    first = public(await run(corpus_bot, "onthisday", day=day.replace("-0", "-")))
    assert first["embed"].title == f"On this day ({day}) in any year"
    pages = await every_page(corpus_bot, first)
    assert [i for page in pages for i in ids_of(page["embed"])] == expected


async def test_on_this_day_checks_the_day(corpus_bot: Cablebot, corpus: Corpus) -> None:
    bad = await run(corpus_bot, "onthisday", day="02-30")
    assert (
        said_privately(bad) == "date: '02-30' is not a day of the year; write it MM-DD, e.g. 03-12."
    )
    bad = await run(corpus_bot, "onthisday", day="March 3")
    assert said_privately(bad) == (
        "date: 'March 3' is not a day written MM-DD; write it MM-DD, e.g. 03-12."
    )
    leap = [c for c in corpus.cables.values() if c.created and f"{c.created:%m-%d}" == "02-29"]
    answer = await run(corpus_bot, "onthisday", day="02-29")
    if leap:
        assert public(answer)["embed"].description.startswith(f"**{len(leap)}** cable")
    else:
        assert said_privately(answer) == "No stored cable was written on 02-29 of any year."


async def test_on_this_day_defaults_to_today_in_utc(corpus_bot: Cablebot, corpus: Corpus) -> None:
    before = f"{datetime.now(UTC):%m-%d}"
    answer = await run(corpus_bot, "onthisday")
    after = f"{datetime.now(UTC):%m-%d}"
    if answer.response.send_message.call_args.kwargs.get("ephemeral"):
        assert said_privately(answer) in {
            f"No stored cable was written on {day} of any year." for day in (before, after)
        }
    else:
        footer = public(answer)["embed"].footer.text
        assert footer.startswith((f"day:{before} ", f"day:{after} "))


async def test_random_picks_a_matching_cable_and_shows_its_card(
    corpus_bot: Cablebot, corpus: Corpus
) -> None:
    matching = {
        c.ref_id for c in corpus.cables.values() if "IR" in c.tags and "SECRET" in c.classification
    }
    assert len(matching) > 1
    seen = set()
    for _ in range(12):
        sent = public(await run(corpus_bot, "random", tag="ir", classification="SECRET"))
        assert sent["content"] == "-# A random cable among tag:IR classification:SECRET"
        [embed] = sent["embeds"]
        ref_id = re.findall(r"^[0-9A-Z]+", embed.title or "")[0]
        assert ref_id in matching
        seen.add(ref_id)
        ids = [b.custom_id for b in sent["view"].children]
        assert f"cablebot:cite:0:{ref_id}:" in ids  # the card's own buttons
    assert len(seen) > 1  # twelve draws among several cables are not all the same one


async def test_random_says_privately_when_nothing_matches(corpus_bot: Cablebot) -> None:
    nothing = await run(corpus_bot, "random", query="zeppelin")
    assert said_privately(nothing) == "No cables match query:zeppelin."
    bad = await run(corpus_bot, "random", date_to="2009-02-30")
    assert said_privately(bad) == "to: '2009-02-30' is not a real date."


async def test_related_lists_the_citing_cables_with_why(
    corpus_bot: Cablebot, corpus: Corpus
) -> None:
    cited = {r for c in corpus.cables.values() for r in c.references if r in corpus.cables}
    target = max(cited, key=lambda r: sum(r in c.references for c in corpus.cables.values()))
    citing = {c.ref_id for c in corpus.cables.values() if target in c.references}
    assert len(citing) > 1
    sent = public(await run(corpus_bot, "related", ref=target.lower()))
    embed = sent["embed"]
    assert embed.title == f"Related to {target}"
    assert 0 < len(embed.fields) <= RELATED_MAX and len(embed) <= 6000
    why = {(f.name or "").split(" ")[1]: f.value or "" for f in embed.fields}
    assert target not in why
    for ref_id in citing:
        assert "cites it" in why[ref_id].split("\n-# ")[1]
    ranks = [int((f.name or "").split(".")[0]) for f in embed.fields]
    assert ranks == list(range(1, len(ranks) + 1))


async def test_related_of_an_unknown_cable_says_why_privately(corpus_bot: Cablebot) -> None:
    answer = await run(corpus_bot, "related", ref="09ATLANTIS42")
    assert answered(answer) == ["response.send_message"]  # no mirror to wait for
    assert "09ATLANTIS42" in said_privately(answer)
