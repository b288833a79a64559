"""Per-guild settings (passive detection, channel allow/deny lists, cooldown, images), kept in the
store."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from pydantic import BaseModel, Field, ValidationError

from bot.library.store import StoreError

log = logging.getLogger(__name__)


class GuildSettingsStore(Protocol):
    """The part of bot.library.CableLibrary that keeps guild settings."""

    async def get_guild_settings(self, guild_id: int) -> dict[str, object]: ...

    async def set_guild_settings(self, guild_id: int, data: dict[str, object]) -> None: ...


class GuildSettings(BaseModel):
    """What a server's managers decide; stored as JSON under these keys."""

    passive: bool = Field(True, description="Answer references found in ordinary messages.")
    allow_channels: list[int] = Field([], description="If set, passive replies only here.")
    deny_channels: list[int] = Field([], description="Never reply passively here.")
    cooldown: float = Field(5.0, ge=0, le=3600, description="Seconds between one user's replies.")
    daily_channel: int | None = Field(
        None, description='Where "on this day" is posted at 00:00 UTC (None: no daily post).'
    )
    images: bool = Field(True, description="Post images: quote cards and charts.")

    def allows(self, channel_id: int) -> bool:
        """True when passive detection may answer in `channel_id` (a thread's parent counts)."""
        if not self.passive or channel_id in self.deny_channels:
            return False
        return not self.allow_channels or channel_id in self.allow_channels


class GuildSettingsCache:
    """Guild settings read once from the store, written through on change.

    When several processes share the store, `publish` tells the others of a saved change, and
    they `forget` their copy (bot.discord.notify).
    """

    def __init__(self, store: GuildSettingsStore) -> None:
        self.store = store
        self._cache: dict[int, GuildSettings] = {}
        self.publish: Callable[[int], Awaitable[None]] | None = None
        self._forgets = 0

    async def get(self, guild_id: int) -> GuildSettings:
        """The settings of `guild_id` (defaults when none are stored or they are unreadable)."""
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        forgets = self._forgets
        try:
            settings = GuildSettings.model_validate(await self.store.get_guild_settings(guild_id))
        except ValidationError:
            log.warning("guild %s: unreadable settings, using defaults", guild_id)
            settings = GuildSettings()
        if forgets == self._forgets:  # else what was read may predate the change announced
            self._cache[guild_id] = settings
        return settings

    async def set(self, guild_id: int, settings: GuildSettings) -> None:
        """Persist `settings` for `guild_id` (when the store cannot, they apply until a restart)."""
        try:
            await self.store.set_guild_settings(guild_id, settings.model_dump(mode="json"))
        except StoreError as exc:
            log.warning("guild %s: the settings apply but are not saved: %s", guild_id, exc)
            self._cache[guild_id] = settings
            return
        self._cache[guild_id] = settings
        if self.publish is not None:
            await self.publish(guild_id)

    def forget(self, guild_id: int | None = None) -> None:
        """Drop the cached settings of `guild_id` (of every guild when None): read them again."""
        self._forgets += 1
        if guild_id is None:
            self._cache.clear()
        else:
            self._cache.pop(guild_id, None)
