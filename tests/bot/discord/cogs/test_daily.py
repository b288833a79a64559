"""bot.discord.cogs.daily: the "on this day" post, once a day per server, on both back ends.

Each bot is a real Cablebot on dpytest's simulated Discord, with the same server and channel
IDs, and its own library opened on one shared store (a SQLite file or a PostgreSQL database):
two of them are two processes sharing the store, a new one after another is a restart. The job
is driven by calling its `run` with the moment to run at; nothing waits for midnight.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import create_autospec

import discord
import discord.ext.test as dpytest
import pytest

from bot.config import Settings
from bot.discord.client import Cablebot
from bot.discord.cogs.settings import apply, describe
from bot.discord.guilds import GuildSettings
from bot.library.backend import open_target
from bot.library.cables import CableLibrary
from parsers.models import Cable
from tests.bot.discord.cogs.conftest import set_member_overwrite
from tests.bot.helpers import harbour_cable
from tests.bot.library.conftest import BACKENDS
from tests.pg import postgres_database

GUILD = 612_345_678_901_234_567
CHANNEL = 612_345_678_901_234_568
NOW = datetime(2026, 12, 1, 0, 0, 2, tzinfo=UTC)
"""Just after midnight UTC, 1 December."""
SHOWN = 10

# Created on 1 December of various years, listed out of order; one subject tries to ping.
DECEMBER_FIRST = [
    (2009, 9, "FERRY CONTRACT SIGNED"),
    (2003, 17, "HARBOUR DUES RAISED"),
    (2010, 2, "LIGHTHOUSE REPAIRS"),
    (2006, 8, "REGATTA SECURITY"),
    (2009, 7, "MINISTER MEETS AMBASSADOR"),
    (2008, 12, "SHIPYARD TENDER"),
    (1989, 10, "ISLAND VESSEL AGEING"),
    (2005, 23, "PORT POLICE NOT CONSULTED"),
    (2007, 0, "CABINET AGREES"),
    (2004, 6, "FISHERIES TALKS"),
    (2002, 14, "CUSTOMS AT THE QUAY"),
    (2001, 11, "TALKS WITH @everyone *ABOUT* FERRIES"),
    (2010, 1, "WINTER TIMETABLE"),
]
OTHER_DAYS = [datetime(2009, 11, 30, 23, 59), datetime(2009, 12, 2, 0, 0), datetime(2008, 1, 12)]


def _cables() -> list[Cable]:
    cables = [
        harbour_cable(
            f"{year % 100:02d}OSLO{100 + n}", created=datetime(year, 12, 1, hour, 30), subject=s
        )
        for n, (year, hour, s) in enumerate(DECEMBER_FIRST)
    ]
    cables += [harbour_cable(f"{c:%y}OSLO{200 + n}", created=c) for n, c in enumerate(OTHER_DAYS)]
    return cables


def _expected(day: date) -> list[Cable]:
    """The cables of `day`'s month and day, oldest first: worked out here from the list."""
    found = [
        c
        for c in _cables()
        if c.created is not None and (c.created.month, c.created.day) == (day.month, day.day)
    ]
    return sorted(found, key=lambda c: c.created or datetime.min)


Posts = list[tuple[str, int, dict[str, Any]]]
"""(which bot, channel ID, JSON payload) of every message the bots sent."""


@pytest.fixture(params=BACKENDS)
async def target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A store filled with the cables above, the server's daily channel chosen in it."""

    async def fill(where: str) -> None:
        async with CableLibrary(await open_target(where)) as library:
            await library.store.put(_cables())
            await library.set_guild_settings(GUILD, {"daily_channel": CHANNEL})

    if request.param == "sqlite":
        path = str(tmp_path / "cables.db")
        await fill(path)
        yield path
        return
    async with postgres_database() as url:
        await fill(url)
        yield url


@pytest.fixture
async def start_bot(
    target: str,
) -> AsyncIterator[Callable[[str, Posts], Awaitable[Cablebot]]]:
    """Starts a bot (a process) on the shared store; its libraries are closed at the end."""
    libraries: list[CableLibrary] = []

    async def start(name: str, posts: Posts) -> Cablebot:
        library = CableLibrary(await open_target(target))
        libraries.append(library)
        return await _bot(library, name, posts)

    yield start
    for library in libraries:
        await library.close()


async def _bot(library: CableLibrary, name: str, posts: Posts) -> Cablebot:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    intents = discord.Intents.default()
    intents.members = True  # (dpytest caches the bot's own member only with it)
    bot = Cablebot(library, settings, sync_commands=False, intents=intents)
    await bot._async_setup_hook()
    await bot.setup_hook()
    dpytest.configure(bot, guilds=0, text_channels=0, voice_channels=0, members=0)
    guild = dpytest.backend.make_guild("Harbour", id_num=GUILD)
    dpytest.backend.make_text_channel("daily", guild, id_num=CHANNEL)
    dpytest.backend.make_member(dpytest.backend.get_state().user, guild)

    async def send_message(channel_id: int, *, params: Any) -> Any:
        posts.append((name, channel_id, dict(params.payload or {})))
        return dpytest.backend.facts.make_message_dict(bot.get_channel(channel_id), bot.user)

    bot.http.send_message = send_message  # type: ignore[method-assign]
    return bot


async def _run(bot: Cablebot, now: datetime) -> int:
    cog = bot.get_cog("DailyPost")
    assert cog is not None
    posted: int = await cog.run(now)  # type: ignore[attr-defined]
    return posted


async def test_the_post_lists_the_days_cables_oldest_first_with_links_and_no_pings(
    start_bot: Callable[[str, Posts], Awaitable[Cablebot]],
) -> None:
    posts: Posts = []
    bot = await start_bot("one", posts)
    assert await _run(bot, NOW) == 1
    assert [(who, channel) for who, channel, _ in posts] == [("one", CHANNEL)]
    payload = posts[0][2]
    assert payload["allowed_mentions"] == {"parse": []}
    (embed,) = payload["embeds"]
    assert embed["title"] == "On this day: 1 December"
    lines = embed["description"].split("\n")
    expected = _expected(NOW.date())
    assert len(expected) == 13  # so the post shows ten and counts the other three
    shown = expected[:SHOWN]
    assert len(lines) == SHOWN + 1 and lines[-1] == "…and 3 more"
    site = bot.settings.site_url
    for line, cable in zip(lines, shown, strict=False):
        assert cable.created is not None
        assert line.startswith(f"`{cable.created:%Y}` [{cable.ref_id}]({cable.url(site=site)}) ")
    assert re.findall(r"\[(\w+)\]", embed["description"]) == [c.ref_id for c in shown]
    ping = next(line for line in lines if "@everyone" in line)
    assert r"\*ABOUT\*" in ping  # the subject's markdown is shown as typed, not as emphasis


async def test_two_bots_sharing_the_store_post_once_a_day_between_them(
    start_bot: Callable[[str, Posts], Awaitable[Cablebot]],
) -> None:
    posts: Posts = []
    one, two = await start_bot("one", posts), await start_bot("two", posts)
    for day in range(2):  # (1 and 2 December both have cables)
        now = NOW + timedelta(days=day)
        posted = await asyncio.gather(_run(one, now), _run(two, now), _run(two, now))
        assert sorted(posted) == [0, 0, 1], now
        assert len(posts) == day + 1
    titles = [p["embeds"][0]["title"] for _, _, p in posts]
    assert titles == ["On this day: 1 December", "On this day: 2 December"]


async def test_a_bot_restarted_the_same_day_does_not_post_again(
    start_bot: Callable[[str, Posts], Awaitable[Cablebot]],
) -> None:
    posts: Posts = []
    first = await start_bot("first", posts)
    assert await _run(first, NOW) == 1
    await first.library.close()  # type: ignore[attr-defined]
    restarted = await start_bot("restarted", posts)
    assert await _run(restarted, NOW + timedelta(hours=15)) == 0
    assert await _run(restarted, NOW + timedelta(days=1)) == 1
    assert [who for who, _, _ in posts] == ["first", "restarted"]


async def test_a_bot_started_after_midnight_posts_the_day_once_ready_and_waits_for_the_next(
    start_bot: Callable[[str, Posts], Awaitable[Cablebot]],
) -> None:
    posts: Posts = []
    bot = await start_bot("late", posts)
    bot.clock = lambda: (NOW + timedelta(hours=9)).timestamp()
    cog: Any = bot.get_cog("DailyPost")
    try:
        await cog.on_ready()
        assert cog.midnight.is_running()
        assert cog.midnight.next_iteration.timetz() == datetime.min.replace(tzinfo=UTC).timetz()
        await cog.on_ready()  # (Discord can say ready again after a reconnection)
    finally:
        cog.midnight.cancel()
    assert len(posts) == 1
    assert posts[0][2]["embeds"][0]["title"] == "On this day: 1 December"


async def test_no_channel_daily_off_and_a_day_without_cables_make_no_post_and_no_claim(
    start_bot: Callable[[str, Posts], Awaitable[Cablebot]],
) -> None:
    posts: Posts = []
    bot = await start_bot("one", posts)
    july = datetime(2026, 7, 4, 0, 0, 1, tzinfo=UTC)
    assert _expected(july.date()) == []
    assert await _run(bot, july) == 0
    await _settings(bot, daily_off=True)
    assert await _run(bot, NOW) == 0
    assert posts == []
    library = bot.library
    assert await library.claim_job("daily", GUILD, NOW.date())  # nothing was claimed
    assert await library.claim_job("daily", GUILD, july.date())


def _interaction(guild_id: int) -> Any:
    interaction = create_autospec(discord.Interaction, instance=True)
    interaction.guild_id = guild_id
    interaction.permissions = discord.Permissions(manage_guild=True)
    interaction.response = create_autospec(discord.InteractionResponse, instance=True)
    return interaction


async def _settings(bot: Cablebot, **options: Any) -> str:
    """What `/cablebot settings` with `options` answers (privately) to a manager."""
    cog: Any = bot.get_cog("Settings")
    interaction = _interaction(GUILD)
    await cog.settings.callback(cog, interaction, **options)
    call = interaction.response.send_message.call_args
    assert call.kwargs["ephemeral"] is True
    text: str = call.args[0]
    return text


async def test_the_settings_choose_and_stop_the_daily_channel(
    start_bot: Callable[[str, Posts], Awaitable[Cablebot]],
) -> None:
    posts: Posts = []
    bot = await start_bot("one", posts)
    assert "Daily post at 00:00 UTC: off" in await _settings(bot, daily_off=True)
    assert (await bot.library.get_guild_settings(GUILD))["daily_channel"] is None
    channel = bot.get_channel(CHANNEL)
    assert isinstance(channel, discord.TextChannel)
    answer = await _settings(bot, daily_channel=channel)
    assert f"Daily post at 00:00 UTC: <#{CHANNEL}>" in answer
    assert (await bot.library.get_guild_settings(GUILD))["daily_channel"] == CHANNEL
    assert await _run(bot, NOW) == 1


async def test_a_channel_where_the_bot_cannot_post_is_refused_privately(
    start_bot: Callable[[str, Posts], Awaitable[Cablebot]],
) -> None:
    posts: Posts = []
    bot = await start_bot("one", posts)
    await _settings(bot, daily_off=True)
    channel = bot.get_channel(CHANNEL)
    assert isinstance(channel, discord.TextChannel)
    set_member_overwrite(bot, channel, channel.guild.me, send_messages=False, embed_links=False)
    answer = await _settings(bot, daily_channel=channel)
    assert answer.startswith(
        f"I cannot post in <#{CHANNEL}> (missing: Send Messages, Embed Links), so the daily"
        " post is unchanged."
    )
    assert "Daily post at 00:00 UTC: off" in answer
    assert (await bot.library.get_guild_settings(GUILD))["daily_channel"] is None


@pytest.mark.parametrize("failure", ["deleted", "forbidden", "discord error"])
async def test_a_post_that_fails_after_its_claim_is_one_warning_and_not_tried_again(
    start_bot: Callable[[str, Posts], Awaitable[Cablebot]],
    caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    posts: Posts = []
    bot = await start_bot("one", posts)
    channel = bot.get_channel(CHANNEL)
    assert isinstance(channel, discord.TextChannel)
    if failure == "deleted":
        dpytest.backend.delete_channel(channel)
    elif failure == "forbidden":
        set_member_overwrite(bot, channel, channel.guild.me, send_messages=False)
    else:

        async def refused(channel_id: int, *, params: Any) -> Any:
            posts.append(("refused", channel_id, {}))
            raise discord.HTTPException(dpytest.backend.FakeRequest(503, "unavailable"), "down")

        bot.http.send_message = refused  # type: ignore[method-assign]
    caplog.set_level(logging.WARNING, logger="bot.discord.cogs.daily")
    for hours in (0, 1, 12):  # the midnight run, then restarts later that day
        assert await _run(bot, NOW + timedelta(hours=hours)) == 0
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.discord.cogs.daily"]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"guild {GUILD}: the daily post of 2026-12-01 in channel")
    assert warnings[0].endswith("next try tomorrow")
    assert len(posts) == (1 if failure == "discord error" else 0)  # one attempt at most
    assert await _run(bot, NOW + timedelta(days=1)) == 0  # the next day is tried again
    assert len([r for r in caplog.records if r.name == "bot.discord.cogs.daily"]) == 2


def test_daily_off_wins_over_a_channel_given_with_it_and_describe_says_which() -> None:
    base = GuildSettings()
    chosen = apply(base, daily_channel=5)
    assert chosen.daily_channel == 5 and apply(chosen, passive=False).daily_channel == 5
    assert apply(chosen, daily_channel=6, daily_off=True).daily_channel is None
    assert "Daily post at 00:00 UTC: <#5>" in describe(chosen)
    assert "Daily post at 00:00 UTC: off" in describe(base)


async def test_a_store_that_fails_means_no_post_and_a_warning(
    start_bot: Callable[[str, Posts], Awaitable[Cablebot]], caplog: pytest.LogCaptureFixture
) -> None:
    posts: Posts = []
    bot = await start_bot("one", posts)
    await bot.guild_settings.get(GUILD)  # the settings are cached; the claim needs the store
    await bot.library.close()  # type: ignore[attr-defined]
    caplog.set_level(logging.WARNING, logger="bot.discord.cogs.daily")
    assert await _run(bot, NOW) == 0
    assert posts == []
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "bot.discord.cogs.daily"]
    assert warning == f"guild {GUILD}: no daily post on 2026-12-01: the store is closed"
