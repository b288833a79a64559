"""Guild settings changed in one process reach the others' caches (LISTEN/NOTIFY).

Two caches, as in two processes: each on its own PostgresStore (one database) and its own
SettingsChannel.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest

from bot.discord.guilds import GuildSettings, GuildSettingsCache
from bot.discord.notify import SettingsChannel
from bot.library.postgres import PostgresStore

GUILD = 7


@pytest.fixture
async def processes(
    postgres_url: str,
) -> AsyncIterator[list[tuple[GuildSettingsCache, SettingsChannel]]]:
    async with AsyncExitStack() as stack:
        pairs = []
        for _ in range(2):
            store = await stack.enter_async_context(await PostgresStore.open(postgres_url))
            cache, channel = GuildSettingsCache(store), SettingsChannel(postgres_url)
            await channel.start()
            stack.push_async_callback(channel.close)
            channel.watch(cache)
            pairs.append((cache, channel))
        yield pairs


async def _until_passive_is(cache: GuildSettingsCache, value: bool) -> None:
    async with asyncio.timeout(1.0):  # the promise: within a second
        while (await cache.get(GUILD)).passive is not value:
            await asyncio.sleep(0.01)


async def test_a_change_saved_by_one_process_is_used_by_the_other(
    processes: list[tuple[GuildSettingsCache, SettingsChannel]],
) -> None:
    (one, _), (other, _) = processes
    assert (await other.get(GUILD)).passive  # the default, now cached by the other process
    await one.set(GUILD, GuildSettings(passive=False))
    await _until_passive_is(other, False)
    await other.set(GUILD, GuildSettings(passive=True, cooldown=30))
    await _until_passive_is(one, True)
    assert (await one.get(GUILD)).cooldown == 30


async def test_after_a_lost_connection_the_cache_is_read_again(
    processes: list[tuple[GuildSettingsCache, SettingsChannel]], postgres_url: str
) -> None:
    (one, _), (other, listener) = processes
    assert (await other.get(GUILD)).passive
    # A change announced while the other process is not listening is missed ...
    await one.store.set_guild_settings(GUILD, {"passive": False})
    admin = await asyncpg_connect(postgres_url)
    try:
        assert listener._conn is not None
        pid = listener._conn.get_server_pid()
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    # ... so on connecting again it drops every cached guild.
    await _until_passive_is(other, False)


async def asyncpg_connect(url: str) -> Any:
    import asyncpg

    return await asyncpg.connect(url)
