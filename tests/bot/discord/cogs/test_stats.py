"""`/stats`, and the images rules: the chart arrives as an attachment with its numbers as alt
text and in the embed; images have their own cooldown, apart from text replies, per user and
per guild; a guild can turn them off (Share then gives the post text alone, /stats the numbers)."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from datetime import datetime
from typing import Any

import discord
import discord.ext.test as dpytest
import pytest
from PIL import Image

from bot.discord.client import IMAGE_GUILD, IMAGE_USER, Cablebot
from bot.discord.embeds import ShareButton
from bot.discord.guilds import GuildSettings
from bot.library.cables import CableLibrary
from bot.library.discover import Filters
from tests.bot.discord.cogs.conftest import Sent
from tests.bot.helpers import answered, harbour_cable, spec_interaction

STORED_2009 = 8
"""Cables of the cogs' test store, all of 2009 from Embassy Oslo, with PREL."""
EXTRA = {2005: ("Embassy Mexico", 3), 2007: ("Embassy Mexico", 2), 2010: ("Consulate Bergen", 5)}
"""Cables this module adds: year -> (origin, how many); none of them has PREL."""
GUILD = 300


@pytest.fixture
async def stored(library: CableLibrary) -> Counter[str]:
    """The test store with the EXTRA cables added; returns the cables by year, counted here."""
    await library.store.put(
        [
            harbour_cable(
                f"{year % 100:02d}PLACE{i}",
                created=datetime(year, 6, 1),
                origin=origin,
                tags=("ECON", "MX"),
                references=(),
            )
            for year, (origin, many) in EXTRA.items()
            for i in range(many)
        ]
    )
    years = Counter({"2009": STORED_2009})
    years.update({str(year): many for year, (_, many) in EXTRA.items()})
    return years


async def _stats(bot: Cablebot, user_id: int = 99, guild_id: int | None = GUILD, **options: Any):  # type: ignore[no-untyped-def]
    cog: Any = bot.get_cog("Stats")
    interaction = spec_interaction(bot, user_id, guild_id)
    await cog.stats.callback(cog, interaction, **options)
    return interaction


def _table(embed: discord.Embed) -> dict[str, int]:
    """The numbers of the embed's code block, by key."""
    block = re.search(r"```\n(.*)\n```", embed.description or "", re.S)
    assert block is not None, embed.description
    rows = (line.rsplit(None, 1) for line in block[1].splitlines())
    return {key.strip(): int(count.replace(",", "")) for key, count in rows}


def _sent(interaction: Any) -> dict[str, Any]:
    assert answered(interaction) == ["response.defer", "followup.send"]
    kwargs: dict[str, Any] = interaction.followup.send.call_args.kwargs
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}
    return kwargs


async def test_stats_posts_the_chart_with_its_numbers(
    bot: Cablebot, stored: Counter[str], sent: Sent
) -> None:
    interaction = await _stats(bot)
    assert not interaction.response.defer.call_args.kwargs.get("ephemeral")  # public
    message = _sent(interaction)
    embed, chart = message["embed"], message["file"]
    assert embed.title == "Cables by year"
    assert _table(embed) == dict(stored)  # 2005, 2007, 2009, 2010 in time order
    assert list(_table(embed)) == sorted(stored)
    assert f"{sum(stored.values())} cables" in (embed.description or "")
    assert chart.filename == "stats.png" and embed.image.url == "attachment://stats.png"
    assert chart.description == (
        "Cables by year. 18 cables. 2005: 3; 2007: 2; 2009: 8; 2010: 5"  # alt text: the numbers
    )
    with Image.open(chart.fp) as png:
        assert png.format == "PNG" and png.size == (1200, 675)
    await dpytest.empty_queue()


async def test_stats_filters_and_groups_as_the_library_does(
    bot: Cablebot, stored: Counter[str]
) -> None:
    message = _sent(await _stats(bot, by="origin", date_from="2005-01-01", date_to="2008-12-31"))
    embed = message["embed"]
    assert embed.title == "Cables by origin — 2005-01-01 to 2008-12-31"
    assert _table(embed) == {"Embassy Mexico": 5}
    library = await bot.library.counts(Filters(tags=("PREL",)), "origin")
    tagged = _sent(await _stats(bot, user_id=5, by="origin", tag="prel"))["embed"]
    assert tagged.title == "Cables by origin — tag PREL"
    assert _table(tagged) == {c.key: c.count for c in library.counts} == {"Embassy Oslo": 8}
    both = _sent(await _stats(bot, user_id=6, by="year", tag="econ, mx"))["embed"]
    assert both.title == "Cables by year — tags ECON+MX"
    assert _table(both) == {"2005": 3, "2007": 2, "2010": 5}


async def test_a_bad_date_is_a_private_note_and_nothing_matching_has_no_chart(
    bot: Cablebot, stored: Counter[str]
) -> None:
    bad = await _stats(bot, date_from="2009-02-30")
    assert answered(bad) == ["response.send_message"]
    call = bad.response.send_message.call_args
    assert call.args[0] == "from: '2009-02-30' is not a real date" and call.kwargs["ephemeral"]
    none = _sent(await _stats(bot, origin="nowhere"))
    assert none["embed"].description == "No stored cable matches." and "file" not in none
    assert bot.image_user_limit.ready(99)  # no image drawn, none counted


async def test_images_have_their_own_cooldown_per_user_and_per_guild(
    bot: Cablebot, stored: Counter[str]
) -> None:
    now = [1000.0]
    bot.image_user_limit.clock = bot.image_guild_limit.clock = lambda: now[0]
    assert "file" in _sent(await _stats(bot, user_id=1))
    again = _sent(await _stats(bot, user_id=1))  # the numbers still, without the chart
    assert "file" not in again and _table(again["embed"]) == dict(stored)
    assert again["embed"].footer.text == (
        f"No chart: One image every {IMAGE_USER[1]:g} s per person: try again shortly."
    )
    assert bot.user_limit.ready(1)  # text replies keep their own cooldown
    share = spec_interaction(bot, 1, GUILD)
    await ShareButton(0, "09OSLO777", (2,)).callback(share)  # quote cards share the image one
    assert "file" not in share.followup.send.call_args.kwargs
    now[0] += IMAGE_USER[1]
    assert "file" in _sent(await _stats(bot, user_id=1))

    rate, _ = IMAGE_GUILD
    for user in range(2, rate):  # user 1 had two: the guild reaches its images of the minute
        assert "file" in _sent(await _stats(bot, user_id=user))
    crowded = _sent(await _stats(bot, user_id=rate + 1))
    assert "file" not in crowded and "This server had many images" in crowded["embed"].footer.text
    assert "file" in _sent(await _stats(bot, user_id=rate + 1, guild_id=GUILD + 1))
    assert "file" in _sent(await _stats(bot, user_id=rate + 2, guild_id=None))  # a DM


async def test_a_guild_can_turn_images_off(bot: Cablebot, stored: Counter[str]) -> None:
    await bot.guild_settings.set(GUILD, GuildSettings(images=False))
    assert (await bot.library.get_guild_settings(GUILD))["images"] is False
    numbers = _sent(await _stats(bot))
    assert "file" not in numbers and _table(numbers["embed"]) == dict(stored)
    assert numbers["embed"].footer.text == "No chart: Images are turned off on this server."

    share = spec_interaction(bot, 99, GUILD)
    await ShareButton(0, "09OSLO777", (2,)).callback(share)
    call = share.followup.send.call_args
    assert "file" not in call.kwargs and call.kwargs["ephemeral"] is True
    note, post = call.args[0].split("\n", 1)
    assert note == "-# Images are turned off on this server."
    assert post.startswith("“The minister of transport met the ambassador on Tuesday.")
    assert post.endswith("#cablegate #09OSLO777")

    elsewhere = spec_interaction(bot, 99, GUILD + 1)  # other guilds keep them
    await ShareButton(0, "09OSLO777", (2,)).callback(elsewhere)
    assert "file" in elsewhere.followup.send.call_args.kwargs


@pytest.mark.logs_errors
async def test_a_store_failure_is_said_and_logged(
    bot: Cablebot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(filters: Filters, by: str = "year") -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(bot.library, "counts", broken)
    message = await _stats(bot)
    assert answered(message) == ["response.defer", "followup.send"]
    assert message.followup.send.call_args.args[0] == (
        "The cables cannot be counted now; try again later."
    )
    assert "disk I/O error" in caplog.text
