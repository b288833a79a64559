"""The daily post: at 00:00 UTC, in the channel each server chose (`/cablebot settings
daily_channel`), the stored cables created on that day in any year, oldest first.

Once a day per server, across restarts and every process sharing the store: a process claims
(job, server, day) in the store (`claim_job`) before posting, and only the one whose claim
succeeds posts. A post that fails after its claim (the channel deleted, a permission removed,
Discord refusing it) is one warning and is not tried again: the claim is kept, so no process
retries a channel it cannot use, and the next day is tried as usual. A store that cannot record
the claim (an error, a read-only file) means no post that day rather than a post twice.

A bot that was down at 00:00 makes the day's post once it is ready (late rather than never:
every start runs the job for the current day, and a server whose post was made skips it). A day
with no stored cables has no post.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time

import discord
from discord.ext import commands, tasks

from bot.cards import shorten
from bot.discord.client import Cablebot
from bot.discord.embeds import NO_MENTIONS
from bot.library.discover import HitPage
from bot.library.store import StoreError
from parsers.models import cable_path

log = logging.getLogger(__name__)

JOB = "daily"
"""The job's name in the store's claims."""
MIDNIGHT = time(0, 0, tzinfo=UTC)
SHOWN = 10
"""Cables listed in a post; the rest are counted ("and N more")."""
SUBJECT_MAX = 150
NEEDED = ("view_channel", "send_messages", "embed_links")
"""What the bot needs in the daily channel."""


def missing_permissions(channel: discord.TextChannel) -> list[str]:
    """The permissions (of NEEDED) the bot lacks in `channel`, as Discord names them."""
    granted = channel.permissions_for(channel.guild.me)
    return [name.replace("_", " ").title() for name in NEEDED if not getattr(granted, name)]


def daily_embed(page: HitPage, day: date, site: str) -> discord.Embed:
    """The post: one line per cable (year, linked reference ID, origin, subject), oldest first,
    then how many more there are."""
    lines = []
    for hit in page.hits[:SHOWN]:
        year = f"{hit.created:%Y}" if hit.created else "????"
        url = site.rstrip("/") + cable_path(hit.ref_id, hit.created)
        subject = discord.utils.escape_markdown(shorten(hit.subject or "(no subject)", SUBJECT_MAX))
        lines.append(f"`{year}` [{hit.ref_id}]({url}) · {hit.origin}: {subject}")
    more = page.total - len(lines)
    if more > 0:
        lines.append(f"…and {more} more")
    embed = discord.Embed(
        title=f"On this day: {day.day} {day:%B}", description="\n".join(lines), colour=0x95A5A6
    )
    embed.set_footer(text="Cables created on this day, oldest first · posted daily at 00:00 UTC")
    return embed


class DailyPost(commands.Cog):
    """Posts "on this day" once a day in each server that chose a channel."""

    def __init__(self, bot: Cablebot) -> None:
        self.bot = bot

    async def cog_unload(self) -> None:
        self.midnight.cancel()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Start the midnight loop, and post today's where it was not made (a late start)."""
        if not self.midnight.is_running():
            self.midnight.start()
        await self.run(self._now())

    @tasks.loop(time=MIDNIGHT)
    async def midnight(self) -> None:
        await self.run(self._now())

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.bot.clock(), UTC)

    async def run(self, now: datetime) -> int:
        """Make the post of `now`'s day (UTC) in every server of this process whose post of
        that day no process has claimed yet; returns how many were posted."""
        day = (now.astimezone(UTC) if now.tzinfo else now).date()
        page: HitPage | None = None
        posted = 0
        for guild in list(self.bot.guilds):
            if guild.unavailable:  # (a Discord outage: a later start may still post)
                continue
            try:
                channel_id = (await self.bot.guild_settings.get(guild.id)).daily_channel
                if channel_id is None:
                    continue
                if page is None:
                    page = await self.bot.library.on_this_day(f"{day:%m-%d}", limit=SHOWN)
                if page.total == 0:
                    log.info("no stored cable was created on %s: no daily post", f"{day:%m-%d}")
                    return posted
                claimed = await self.bot.library.claim_job(JOB, guild.id, day)
                if claimed and await self._post(guild, channel_id, day, page):
                    posted += 1
            except StoreError as exc:
                log.warning("guild %s: no daily post on %s: %s", guild.id, day, exc)
            except Exception:  # one server's trouble stops neither the others nor the loop
                log.exception("guild %s: no daily post on %s", guild.id, day)
        return posted

    async def _post(self, guild: discord.Guild, channel_id: int, day: date, page: HitPage) -> bool:
        """Send the post; a failure is a warning (the claim stays: no retry today)."""
        channel = guild.get_channel(channel_id)
        problem: object = None
        if not isinstance(channel, discord.TextChannel):
            problem = "the channel is gone"
        elif missing := missing_permissions(channel):
            problem = f"missing permissions: {', '.join(missing)}"
        else:
            try:
                await channel.send(
                    embed=daily_embed(page, day, self.bot.settings.site_url),
                    allowed_mentions=NO_MENTIONS,
                )
            except discord.HTTPException as exc:
                problem = exc
        if problem is not None:
            log.warning(
                "guild %s: the daily post of %s in channel %s failed (%s); next try tomorrow",
                guild.id,
                day,
                channel_id,
                problem,
            )
            return False
        log.info("guild %s: daily post of %s made in channel %s", guild.id, day, channel_id)
        return True


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    assert isinstance(bot, Cablebot)
    await bot.add_cog(DailyPost(bot))
