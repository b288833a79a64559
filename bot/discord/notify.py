"""Guild settings changed in one process, seen by every process: PostgreSQL LISTEN/NOTIFY.

Each process keeps one connection that LISTENs on `cablebot_guild_settings`. A saved change is
announced there with the guild's ID; every other process drops its cached copy and reads the
settings again at their next use. A lost connection is opened again (with backoff), and the
whole cache is dropped then, since announcements made meanwhile were missed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.discord.guilds import GuildSettingsCache

log = logging.getLogger(__name__)

CHANNEL = "cablebot_guild_settings"


class SettingsChannel:
    """Announces this process's guild-settings changes and applies the others' to `cache`."""

    def __init__(self, dsn: str, *, channel: str = CHANNEL) -> None:
        self.dsn = dsn
        self.channel = channel
        self.cache: GuildSettingsCache | None = None
        self._conn: Any = None
        self._reconnect: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        """Connect and LISTEN; raises when PostgreSQL cannot be reached."""
        import asyncpg

        conn: Any = await asyncpg.connect(self.dsn)
        await conn.add_listener(self.channel, self._received)
        conn.add_termination_listener(self._lost)
        self._conn = conn

    def watch(self, cache: GuildSettingsCache) -> None:
        """Keep `cache` fresh and announce its changes (it replaces the previous cache)."""
        if self.cache is not None:
            self.cache.publish = None
        self.cache = cache
        cache.publish = self.publish

    async def publish(self, guild_id: int) -> None:
        """Tell the other processes that the settings of `guild_id` changed."""
        conn = self._conn
        try:
            if conn is None or conn.is_closed():
                raise ConnectionError("not connected")
            await conn.execute("SELECT pg_notify($1, $2)", self.channel, str(guild_id))
        except Exception as exc:
            log.warning(
                "guild %s: could not tell the other processes of the new settings (%s);"
                " they use the old ones until they restart",
                guild_id,
                exc,
            )

    def _received(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        if pid == conn.get_server_pid() or self.cache is None:
            return  # our own announcement: the cache already holds the new settings
        try:
            guild_id = int(payload)
        except ValueError:
            log.warning("ignored a %s announcement that is no guild ID: %r", channel, payload)
            return
        self.cache.forget(guild_id)

    def _lost(self, conn: Any) -> None:
        if self._closed or self._reconnect is not None:
            return
        log.warning("lost the PostgreSQL connection that hears guild-settings changes")
        self._conn = None
        self._reconnect = asyncio.get_running_loop().create_task(self._connect_again())

    async def _connect_again(self) -> None:
        delay = 1.0
        while not self._closed:
            try:
                await self.start()
            except Exception as exc:
                log.warning(
                    "cannot listen for guild-settings changes (%s); again in %.0f s", exc, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            if self.cache is not None:
                self.cache.forget()  # changes announced while disconnected were missed
            log.info("listening for guild-settings changes again")
            break
        self._reconnect = None

    async def close(self) -> None:
        """Stop listening (idempotent)."""
        self._closed = True
        if self._reconnect is not None:
            self._reconnect.cancel()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close(timeout=2)
            except Exception:
                conn.terminate()
