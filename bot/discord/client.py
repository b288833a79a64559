"""The Discord bot: a commands.Bot that owns the library and loads one cog per feature."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, Protocol

import aiohttp
import discord
from discord.backoff import ExponentialBackoff
from discord.ext import commands

from bot.answer import CableSource, Reply, answer, answer_requests
from bot.config import Settings
from bot.discord.cooldown import RateLimit
from bot.discord.embeds import (
    CiteButton,
    CitedByButton,
    CitedByPageButton,
    DeleteButton,
    ParagraphButton,
    ShareButton,
)
from bot.discord.guilds import GuildSettingsCache, GuildSettingsStore
from bot.discord.listing import DiscoverSource
from bot.discord.notify import SettingsChannel
from bot.discord.shards import IdentifyGate, ShardClaim, ShardsTaken
from bot.library.discover import HitPage
from bot.library.store import FollowedReply, StoreError
from parsers.models import CableRequest

log = logging.getLogger(__name__)
discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # the bot has no voice

COGS = (
    "bot.discord.cogs.passive",
    "bot.discord.cogs.follow",
    "bot.discord.cogs.slash",
    "bot.discord.cogs.search",
    "bot.discord.cogs.discover",
    "bot.discord.cogs.settings",
    "bot.discord.cogs.daily",
    "bot.discord.cogs.stats",
)
FOLLOW_SECONDS = 24 * 3600
"""How long a reply follows edits and deletes of the message that triggered it."""
OWN_ROW = 0
"""The guild-settings row that holds the bot's own state (no Discord guild has id 0)."""
NETWORK_ERRORS = (
    OSError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    discord.HTTPException,
    discord.GatewayNotFound,
    discord.ConnectionClosed,
)
"""What a lost or refused connection to Discord raises out of `Client.start`."""
IMAGE_USER = (1, 15.0)
"""Images (quote cards, charts) one user may have drawn: this many per this many seconds."""
IMAGE_GUILD = (10, 60.0)
"""Images one guild may have drawn: this many per this many seconds."""


class BotLibrary(CableSource, GuildSettingsStore, DiscoverSource, Protocol):
    """What the bot needs from bot.library.CableLibrary."""

    async def complete_ids(self, prefix: str, limit: int = 25) -> list[str]: ...

    async def needs_fetch(self, ref_id: str) -> bool: ...

    async def remember_reply(
        self, trigger_id: int, reply: FollowedReply, at: float, *, forget_before: float
    ) -> None: ...

    async def followed(self, trigger_id: int, since: float) -> FollowedReply | None: ...

    async def forget_reply(
        self, *, trigger_id: int | None = None, reply_id: int | None = None
    ) -> None: ...

    async def on_this_day(
        self, month_day: str | None = None, *, limit: int = 10, offset: int = 0
    ) -> HitPage: ...

    async def claim_job(self, name: str, guild_id: int, day: date) -> bool: ...


class Cablebot(commands.Bot):
    """Cablebot on Discord: answers cable references with cards; never pings anyone."""

    def __init__(
        self,
        library: BotLibrary,
        settings: Settings,
        *,
        tag_meanings: Mapping[str, str] | None = None,
        sync_commands: bool = True,
        intents: discord.Intents | None = None,
        **options: Any,
    ) -> None:
        if intents is None:
            intents = discord.Intents.default()
            intents.message_content = settings.message_content
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **options,
        )
        self.library = library
        self.settings = settings
        self.tag_meanings = tag_meanings
        self.sync_commands = sync_commands
        self.guild_settings = GuildSettingsCache(library)
        self.user_limit = RateLimit(1, 5.0)
        self.channel_limit = RateLimit(5, 30.0)
        self.image_user_limit = RateLimit(*IMAGE_USER)
        self.image_guild_limit = RateLimit(*IMAGE_GUILD)
        self.clock: Callable[[], float] = time.time
        """Wall-clock seconds: follow entries are kept in the store across restarts."""

    async def setup_hook(self) -> None:
        """Load the cogs, register the persistent buttons and publish the slash commands."""
        self.add_dynamic_items(
            ParagraphButton, CiteButton, ShareButton, CitedByButton, CitedByPageButton, DeleteButton
        )
        for name in COGS:
            await self.load_extension(name)
        if self.sync_commands:
            try:
                await self.sync_tree()
            except Exception:  # passive detection and the rest work without fresh commands
                log.exception("could not publish the slash commands; run `cablebot sync` later")

    async def sync_tree(self, *, force: bool = False) -> bool:
        """Publish the slash commands if they changed since the last sync (always if `force`).

        The tree's payload hash is kept in the store; returns whether a sync was made.
        """
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands()]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        own = await self.library.get_guild_settings(OWN_ROW)
        if not force and own.get("commands_sha256") == digest:
            return False
        await self.tree.sync()
        log.info("published %d commands", len(payload))
        try:
            await self.library.set_guild_settings(OWN_ROW, {**own, "commands_sha256": digest})
        except StoreError as exc:
            log.warning("%s; the commands will be published again at the next start", exc)
        return True

    async def answer(self, text: str) -> Reply:
        """What the bot sends for a chat message (the pipeline of `cablebot chat`).

        Embeds carry no citations, so they are left out here; the Cite button builds them.
        """
        return await answer(
            self.library,
            text,
            max_requests=self.settings.max_requests,
            tag_meanings=self.tag_meanings,
            site=self.settings.site_url,
            with_citations=False,
        )

    async def answer_requests(
        self,
        requests: Sequence[CableRequest],
        *,
        slots: int | None = None,
        with_citations: bool = False,
    ) -> Reply:
        """The reply for requests built from slash-command options or buttons."""
        return await answer_requests(
            self.library,
            requests,
            tag_meanings=self.tag_meanings,
            site=self.settings.site_url,
            slots=slots,
            with_citations=with_citations,
        )

    async def take_image(self, user_id: int, guild_id: int | None) -> str | None:
        """Count an image drawn for `user_id` in `guild_id` (None: a DM) and return None, or
        say why none may be drawn now: the guild turned images off, or a cooldown (their own,
        apart from the text replies') holds the user or the guild back."""
        if guild_id is not None and not (await self.guild_settings.get(guild_id)).images:
            return "Images are turned off on this server."
        if not self.image_user_limit.ready(user_id):
            return f"One image every {IMAGE_USER[1]:g} s per person: try again shortly."
        if guild_id is not None and not self.image_guild_limit.ready(guild_id):
            return "This server had many images in the last minute: try again shortly."
        self.image_user_limit.hit(user_id)
        if guild_id is not None:
            self.image_guild_limit.hit(guild_id)
        return None

    async def remember_reply(self, trigger: discord.Message, reply: discord.Message) -> None:
        """Follow `trigger` for 24 h: its edits update `reply`, its deletion deletes it.

        Kept in the store, so a restart does not lose it; a store failure only loses the follow.
        """
        now = self.clock()
        entry = FollowedReply(reply.channel.id, reply.id, trigger.author.id)
        try:
            await self.library.remember_reply(
                trigger.id, entry, now, forget_before=now - FOLLOW_SECONDS
            )
        except StoreError as exc:
            log.warning("could not remember the reply to %s: %s", trigger.id, exc)
        except Exception:
            log.exception("could not remember the reply to %s", trigger.id)

    async def followed(self, trigger_id: int) -> FollowedReply | None:
        """Where the reply to message `trigger_id` is, if it was sent within 24 h."""
        return await self.library.followed(trigger_id, self.clock() - FOLLOW_SECONDS)

    async def forget_reply(
        self, *, trigger_id: int | None = None, reply_id: int | None = None
    ) -> None:
        """Stop following a trigger message, or the message whose reply `reply_id` is gone.

        A store failure is logged: the reply is still deleted, only the entry stays (until
        it expires)."""
        try:
            await self.library.forget_reply(trigger_id=trigger_id, reply_id=reply_id)
        except StoreError as exc:
            log.warning("could not forget the reply to %s: %s", trigger_id or reply_id, exc)

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: messages are handled by the cogs' listeners only."""

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """Log and carry on: one bad event never stops the bot."""
        log.exception("error in %s", event_method)


class ShardedCablebot(Cablebot, commands.AutoShardedBot):
    """Cablebot running the shards `settings.shard_ids` of `settings.shard_count` (all when no
    list is set). With an `identify_gate`, every IDENTIFY waits for its bucket there, shared
    with the other processes, instead of discord.py's sleep in this process only."""

    def __init__(
        self,
        library: BotLibrary,
        settings: Settings,
        *,
        identify_gate: IdentifyGate | None = None,
        **options: Any,
    ) -> None:
        ids = list(settings.shard_ids) if settings.shard_ids is not None else None
        super().__init__(
            library, settings, shard_count=settings.shard_count, shard_ids=ids, **options
        )
        self.identify_gate = identify_gate
        self.max_concurrency: int | None = None
        """Discord's IDENTIFYs per 5 s (asked once, at the first IDENTIFY)."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Wait for the shard's bucket at the gate (discord.py's own wait without one)."""
        if self.identify_gate is None or shard_id is None:
            await super().before_identify_hook(shard_id, initial=initial)
            return
        if self.max_concurrency is None:
            self.max_concurrency = (await self.fetch_session_start_limits()).max_concurrency
        await self.identify_gate.wait(shard_id, self.max_concurrency)


def make_bot(
    library: BotLibrary,
    settings: Settings,
    *,
    identify_gate: IdentifyGate | None = None,
    **options: Any,
) -> Cablebot:
    """A ShardedCablebot when `settings.shard_count` is set, else a one-connection Cablebot."""
    if settings.shard_count is None:
        return Cablebot(library, settings, **options)
    return ShardedCablebot(library, settings, identify_gate=identify_gate, **options)


class StartFailure(Exception):
    """The bot could not connect a first time; the message is fit to show a user."""


def _start_failure(exc: BaseException) -> StartFailure:
    if isinstance(exc, discord.LoginFailure):
        return StartFailure(
            "Discord rejected the token in DISCORD_TOKEN; copy it again from the Developer Portal"
        )
    return StartFailure(f"cannot reach Discord ({type(exc).__name__}: {exc}); check the network")


async def serve(
    library: BotLibrary,
    settings: Settings,
    token: str,
    *,
    stop: asyncio.Event,
    tag_meanings: Mapping[str, str] | None = None,
) -> None:
    """Run the bot until `stop` is set, then close it.

    Before the first READY, a rejected token or an unreachable Discord raises StartFailure, and a
    refused Message Content intent is one warning, then the bot runs without it. After it, a
    lost connection is tried again with backoff, forever (discord.py resumes most drops itself;
    this covers what makes `Client.start` return or raise).

    With a PostgreSQL store (`database_url`), the process first claims its shards (StartFailure
    when another process runs some of them), guild-settings changes reach the other processes
    (bot.discord.notify) and, with shards, each IDENTIFY waits at the gate they share.
    """
    url = settings.database_url
    notices = SettingsChannel(url) if url else None
    gate = IdentifyGate(url) if url and settings.shard_count is not None else None
    claim: ShardClaim | None = None
    try:
        if url:
            claim = await _claim(url, settings)
        if notices is not None:
            try:
                await notices.start()
            except Exception as exc:  # asyncpg's errors, OSError, TimeoutError
                raise StartFailure(
                    f"cannot listen for guild-settings changes on PostgreSQL: {exc}"
                ) from exc
        await _serve(library, settings, token, stop, tag_meanings, gate, notices)
    finally:
        if gate is not None:
            await gate.close()
        if notices is not None:
            await notices.close()
        if claim is not None:
            await claim.release()


async def _claim(url: str, settings: Settings) -> ShardClaim:
    """This process's shards (all, or shard 0 when unsharded), claimed on PostgreSQL."""
    ids = settings.shard_ids
    if ids is None:
        ids = tuple(range(settings.shard_count or 1))
    try:
        return await ShardClaim.take(url, ids)
    except ShardsTaken as exc:
        raise StartFailure(str(exc)) from None
    except Exception as exc:  # asyncpg's errors, OSError, TimeoutError
        raise StartFailure(f"cannot reach PostgreSQL to claim the shards: {exc}") from exc


async def _serve(
    library: BotLibrary,
    settings: Settings,
    token: str,
    stop: asyncio.Event,
    tag_meanings: Mapping[str, str] | None,
    gate: IdentifyGate | None,
    notices: SettingsChannel | None,
) -> None:
    ready = False
    backoff = ExponentialBackoff()

    async def on_ready() -> None:
        nonlocal ready
        ready = True
        log.info("ready: serving Discord")

    while not stop.is_set():
        bot = make_bot(library, settings, tag_meanings=tag_meanings, identify_gate=gate)
        if notices is not None:
            notices.watch(bot.guild_settings)
        bot.add_listener(on_ready, "on_ready")
        closer = asyncio.ensure_future(_close_when(stop, bot))
        problem: BaseException | str = "Discord closed it"
        try:
            async with bot:
                await bot.start(token)
        except discord.PrivilegedIntentsRequired as exc:
            if stop.is_set():
                return
            if not settings.message_content:
                raise StartFailure("Discord refused the bot's intents (close code 4014)") from exc
            log.warning(
                "Discord refused the Message Content intent (enable it in the Developer Portal): "
                "running without it; mentions, replies, DMs and the context menu still work"
            )
            settings = settings.model_copy(update={"message_content": False})
            continue
        except (discord.LoginFailure, *NETWORK_ERRORS) as exc:
            if not ready and not stop.is_set():
                raise _start_failure(exc) from exc
            problem = exc
        finally:
            closer.cancel()
        if stop.is_set():
            return
        if not ready:
            raise StartFailure("Discord closed the connection before the bot was ready")
        delay = backoff.delay()
        log.warning("lost the connection to Discord (%s); again in %.0f s", problem, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)


async def _close_when(stop: asyncio.Event, bot: Cablebot) -> None:
    await stop.wait()
    await bot.close()


async def publish_commands(library: BotLibrary, settings: Settings, token: str) -> int:
    """Log in, publish the slash commands whatever the stored hash says; returns how many."""
    async with Cablebot(library, settings, sync_commands=False) as bot:
        try:
            await bot.login(token)
        except (discord.LoginFailure, *NETWORK_ERRORS) as exc:
            raise _start_failure(exc) from exc
        try:
            await bot.sync_tree(force=True)
        except discord.HTTPException as exc:
            raise StartFailure(f"Discord refused the commands: {exc}") from exc
        return len(bot.tree.get_commands())
