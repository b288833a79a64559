"""bot.discord.cogs.follow across a restart: a new bot over the same store follows old triggers.

The first bot runs on dpytest; the restarted one talks to Discord's HTTP API played by a real
HTTP server on 127.0.0.1 and receives gateway events through discord.py's own parser. On
PostgreSQL the two run at once, as two processes sharing one database do: a reply tracked by
one is edited and deleted through the other.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import discord
import discord.ext.test as dpytest
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.config import Settings
from bot.discord.client import FOLLOW_SECONDS, Cablebot
from bot.library.backend import open_target
from bot.library.cables import CableLibrary
from bot.library.mirror import CableMirror
from tests.bot.discord.cogs.conftest import set_member_overwrite, stored_cables
from tests.bot.helpers import TAG_MEANINGS, closed_port, gateway_edit
from tests.pg import postgres_database

BOT_USER = {"id": "4242", "username": "cablebot", "discriminator": "0", "avatar": None}


def gateway_message(message_id: int, channel_id: int, guild_id: int, content: str) -> Any:
    """A MESSAGE_UPDATE payload as the gateway sends it."""
    return {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "guild_id": str(guild_id),
        "author": {"id": "77", "username": "reader", "discriminator": "0", "avatar": None},
        "content": content,
        "timestamp": "2026-11-27T21:00:00+00:00",
        "edited_timestamp": "2026-11-27T21:01:00+00:00",
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
    }


async def _until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting for the bot"
        await asyncio.sleep(0.01)


@pytest.fixture(params=["sqlite", "postgresql"])
async def library(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CableLibrary]:
    """The cogs' library (tests/bot/discord/cogs/conftest.py), on each back end."""
    async with AsyncExitStack() as stack:
        target: str | Path = tmp_path / "cables.db"
        if request.param == "postgresql":
            target = await stack.enter_async_context(postgres_database())
        library = CableLibrary(await open_target(target))
        stack.push_async_callback(library.close)
        await library.store.put(stored_cables())
        yield library


@pytest.fixture
async def restarted(
    library: CableLibrary,
    tmp_path: Path,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Cablebot]:
    """A second Cablebot over the same store (file or database), with empty caches, logged in
    over HTTP."""
    monkeypatch.setattr(discord.http.Route, "BASE", httpserver.url_for("/api/v10"))
    httpserver.expect_request("/api/v10/users/@me").respond_with_json(BOT_USER)
    store = await open_target(str(library.store.path))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    fresh = Cablebot(CableLibrary(store), settings, tag_meanings=TAG_MEANINGS, sync_commands=False)
    await fresh.http.static_login("a.b.c")
    await fresh._async_setup_hook()
    await fresh.setup_hook()
    yield fresh
    await fresh.http.close()
    await store.close()


async def test_a_restarted_bot_follows_an_edit_and_a_delete(
    bot: Cablebot, restarted: Cablebot, httpserver: HTTPServer
) -> None:
    trigger = await dpytest.message("see 09OSLO777 ¶2")
    reply = dpytest.get_message()
    assert trigger.guild is not None
    channel_id, guild_id = trigger.channel.id, trigger.guild.id
    stored = await restarted.followed(trigger.id)
    assert stored is not None and (stored.channel_id, stored.reply_id) == (channel_id, reply.id)
    assert stored.author_id == trigger.author.id

    path = f"/api/v10/channels/{channel_id}/messages/{reply.id}"
    edits: list[dict[str, Any]] = []

    def on_edit(request: Request) -> Response:
        edits.append(request.get_json())
        body = gateway_message(reply.id, channel_id, guild_id, "")
        body["author"] = BOT_USER
        return Response(discord.utils._to_json(body), content_type="application/json")

    httpserver.expect_request(path, method="PATCH").respond_with_handler(on_edit)
    edited = gateway_message(trigger.id, channel_id, guild_id, "actually 09OSLO777 ¶3")
    restarted._connection.parse_message_update(edited)
    await _until(lambda: bool(edits))
    [edit] = edits
    assert edit["embeds"][0]["url"].endswith("09OSLO777.html#par3")
    assert edit["embeds"][0]["description"].startswith("**¶3 (C)**")
    assert edit["allowed_mentions"] == {"parse": []}
    assert "cablebot:del:" + str(trigger.author.id) in str(edit["components"])

    deleted: list[str] = []

    def on_delete(request: Request) -> Response:
        deleted.append(request.path)
        return Response(status=204)

    httpserver.expect_request(path, method="DELETE").respond_with_handler(on_delete)
    restarted._connection.parse_message_delete(
        {"id": str(trigger.id), "channel_id": str(channel_id), "guild_id": str(guild_id)}
    )
    await _until(lambda: bool(deleted))
    assert deleted == [path]
    assert await restarted.followed(trigger.id) is None


async def test_follow_ends_after_24_hours(bot: Cablebot) -> None:
    trigger = await dpytest.message("see 09OSLO777 ¶2")
    assert await bot.followed(trigger.id) is not None
    now = time.time()
    bot.clock = lambda: now + FOLLOW_SECONDS + 1
    assert await bot.followed(trigger.id) is None


async def test_an_unchanged_text_does_not_touch_the_reply(bot: Cablebot) -> None:
    """Discord sends an update when it unfurls a link; the text did not change."""
    trigger = await dpytest.message("see 09OSLO777 ¶2 https://example.org")
    reply = dpytest.get_message()
    calls: list[int] = []
    original = bot.answer

    async def counting(text: str) -> Any:
        calls.append(1)
        return await original(text)

    bot.answer = counting  # type: ignore[method-assign]
    await gateway_edit(bot, trigger, embeds=[{"url": "https://example.org"}])
    assert calls == []
    assert await bot.followed(trigger.id) is not None
    assert reply.id == (await bot.followed(trigger.id) or (0, 0, 0))[1]


async def test_an_edit_during_a_mirror_outage_keeps_the_reply(
    bot: Cablebot, library: CableLibrary
) -> None:
    trigger = await dpytest.message("see 09OSLO777 ¶2")
    reply = dpytest.get_message()
    dead = Settings(  # type: ignore[call-arg]
        _env_file=None,
        mirrors=(f"http://127.0.0.1:{closed_port()}/cable/{{year}}/{{month}}/{{ref_id}}.html",),
        retries=0,
        connect_timeout=1,
        total_timeout=2,
    )
    bot.library = CableLibrary(library.store, CableMirror.from_settings(dead))
    await gateway_edit(bot, trigger, content="actually 09MADRID1234")
    channel = trigger.channel
    assert isinstance(channel, discord.TextChannel)
    [kept] = [m async for m in channel.history(limit=10) if m.id == reply.id]
    assert kept.embeds[0].url == reply.embeds[0].url
    assert await bot.followed(trigger.id) is not None
    assert bot.library.mirror is not None
    await bot.library.mirror.close()


async def test_a_bulk_delete_removes_every_reply(bot: Cablebot) -> None:
    """A moderator's purge: one event for many messages; each reply goes with its trigger."""
    triggers = [await dpytest.message(f"see 09OSLO777 ¶{n + 1}", member=n) for n in range(3)]
    replies = [dpytest.get_message() for _ in triggers]
    unrelated = await dpytest.message("just chatting")
    channel, guild = triggers[0].channel, triggers[0].guild
    assert isinstance(channel, discord.TextChannel) and guild is not None
    ids = [t.id for t in triggers] + [unrelated.id]
    bot._connection.parse_message_delete_bulk(
        {"ids": [str(i) for i in ids], "channel_id": str(channel.id), "guild_id": str(guild.id)}
    )
    await dpytest.run_all_events()
    history = [m.id async for m in channel.history(limit=50)]
    assert [r.id for r in replies if r.id in history] == []
    assert [await bot.followed(t.id) for t in triggers] == [None, None, None]


async def test_an_edit_where_embeds_are_no_longer_allowed_turns_the_reply_into_text(
    bot: Cablebot,
) -> None:
    """The edit asks the reply's cached channel what the bot may do there now."""
    trigger = await dpytest.message("see 09OSLO777 ¶2")
    reply = dpytest.get_message()
    channel, guild = trigger.channel, trigger.guild
    assert isinstance(channel, discord.TextChannel) and guild is not None and reply.embeds
    set_member_overwrite(bot, channel, guild.me, embed_links=False)
    edited = dict(dpytest.backend.facts.dict_from_message(trigger))
    edited.update(
        content="actually 09OSLO777 ¶3", channel_id=str(channel.id), guild_id=str(guild.id)
    )
    bot._connection.parse_message_update(edited)
    await dpytest.run_all_events()
    [now] = [m async for m in channel.history(limit=10) if m.id == reply.id]
    assert now.embeds == []
    assert now.content is not None and "09OSLO777.html#par3>" in now.content


async def test_an_edit_to_nothing_deletes_the_reply_and_stops_following(bot: Cablebot) -> None:
    trigger = await dpytest.message("see 09OSLO777 ¶2")
    reply = dpytest.get_message()
    await gateway_edit(bot, trigger, content="never mind")
    channel = trigger.channel
    assert isinstance(channel, discord.TextChannel)
    assert reply.id not in [m.id async for m in channel.history(limit=10)]
    assert await bot.followed(trigger.id) is None


async def test_an_edit_during_a_mirror_outage_still_shows_what_resolves(
    bot: Cablebot, library: CableLibrary
) -> None:
    """Only a text that cannot be checked at all keeps the old answer."""
    trigger = await dpytest.message("see 09OSLO777 ¶2")
    reply = dpytest.get_message()
    dead = Settings(  # type: ignore[call-arg]
        _env_file=None,
        mirrors=(f"http://127.0.0.1:{closed_port()}/cable/{{year}}/{{month}}/{{ref_id}}.html",),
        retries=0,
        connect_timeout=1,
        total_timeout=2,
    )
    bot.library = CableLibrary(library.store, CableMirror.from_settings(dead))
    await gateway_edit(bot, trigger, content="actually 09OSLO777 ¶3 and 09MADRID1234")
    channel = trigger.channel
    assert isinstance(channel, discord.TextChannel)
    [now] = [m async for m in channel.history(limit=10) if m.id == reply.id]
    assert [e.url for e in now.embeds] == [
        "https://wikileaks.org/cable/2009/03/09OSLO777.html#par3"
    ]
    assert bot.library.mirror is not None
    await bot.library.mirror.close()


@pytest.mark.logs_errors
async def test_a_reply_discord_refuses_to_change_is_logged_by_trigger(
    bot: Cablebot,
    restarted: Cablebot,
    httpserver: HTTPServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Discord refuses the edit and the delete (403): each is logged naming the trigger, the
    bot goes on, and the deleted trigger is no longer followed."""
    trigger = await dpytest.message("see 09OSLO777 ¶2")
    reply = dpytest.get_message()
    assert trigger.guild is not None
    channel_id, guild_id = trigger.channel.id, trigger.guild.id
    path = f"/api/v10/channels/{channel_id}/messages/{reply.id}"
    refusal = {"message": "Missing Access", "code": 50001}
    for method in ("PATCH", "DELETE"):
        httpserver.expect_request(path, method=method).respond_with_json(refusal, status=403)

    def logged() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]

    edited = gateway_message(trigger.id, channel_id, guild_id, "actually 09OSLO777 ¶3")
    restarted._connection.parse_message_update(edited)
    await _until(lambda: bool(logged()))
    assert logged() == [f"failed to follow the edit of {trigger.id}"]
    assert await restarted.followed(trigger.id) is not None
    restarted._connection.parse_message_delete(
        {"id": str(trigger.id), "channel_id": str(channel_id), "guild_id": str(guild_id)}
    )
    await _until(lambda: len(logged()) == 2)
    assert logged()[1] == f"failed to delete the reply to {trigger.id}"
    assert await restarted.followed(trigger.id) is None


async def test_an_edit_after_the_reply_was_removed_stops_following(
    bot: Cablebot, restarted: Cablebot, httpserver: HTTPServer
) -> None:
    """A moderator deleted the reply: the edit finds it gone (404) and forgets the trigger."""
    trigger = await dpytest.message("see 09OSLO777 ¶2")
    reply = dpytest.get_message()
    assert trigger.guild is not None
    channel_id, guild_id = trigger.channel.id, trigger.guild.id
    path = f"/api/v10/channels/{channel_id}/messages/{reply.id}"
    gone = {"message": "Unknown Message", "code": 10008}
    httpserver.expect_request(path, method="PATCH").respond_with_json(gone, status=404)
    edited = gateway_message(trigger.id, channel_id, guild_id, "actually 09OSLO777 ¶3")
    restarted._connection.parse_message_update(edited)
    await _until(lambda: bool(httpserver.log))
    for _ in range(100):  # the store forgets on its own thread, after the answer arrived
        if await restarted.followed(trigger.id) is None:
            break
        await asyncio.sleep(0.01)
    assert await restarted.followed(trigger.id) is None
