"""Slash commands (/cable, /cite, /hashtags) and the "Resolve cables" menu command."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import MISSING

from bot.answer import Reply, failure_lines
from bot.cards import CITATION_NAMES, shorten
from bot.discord.client import Cablebot
from bot.discord.cogs.passive import post_answer
from bot.discord.embeds import NO_MENTIONS, citation_embed, payload
from parsers.models import CableRequest
from parsers.refs import find_requests

log = logging.getLogger(__name__)

STYLES = [app_commands.Choice(name="All styles", value="all")] + [
    app_commands.Choice(name=name, value=key) for key, name in CITATION_NAMES.items()
]


def parse_request(ref: str, paragraphs: str | None = None) -> CableRequest | None:
    """The request typed into slash-command options, read with the chat grammar."""
    text = ref.strip()
    if paragraphs and paragraphs.strip():
        part = paragraphs.strip()
        text += " " + (part if part[:1] in "¶§" or part[:1].isalpha() else f"¶{part}")
    found = find_requests(text, max_requests=1)
    return found[0] if found else None


async def _send(interaction: discord.Interaction[Any], **kwargs: Any) -> None:
    """Send as the interaction's response, or as a follow-up once it was answered or deferred
    (the first follow-up after a defer takes the place of its "thinking…" message)."""
    if kwargs.get("view", MISSING) is None:
        del kwargs["view"]
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)


async def _private(interaction: discord.Interaction[Any], text: str) -> None:
    """A private message to the user, whether or not the interaction was answered yet."""
    await _send(interaction, content=text, ephemeral=True, allowed_mentions=NO_MENTIONS)


def _errors(reply: Reply) -> str:
    return "\n".join(failure_lines(reply.failures))


async def complete_ref(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """Reference IDs starting with what was typed so far (every command with a `ref`)."""
    prefix = "".join(current.split()).upper()
    if len(prefix) < 2:
        return []
    bot: Cablebot = interaction.client
    try:
        ids = await bot.library.complete_ids(prefix, limit=25)
    except Exception:
        log.exception("autocomplete for %r failed", prefix)
        return []
    return [app_commands.Choice(name=ref_id, value=ref_id) for ref_id in ids]


class Slash(commands.Cog):
    """Explicit commands: what is wrong is said privately and at once; only a cable that must
    come from the mirror is worth a "thinking…" (deferred) answer."""

    def __init__(self, bot: Cablebot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name="Resolve cables", callback=self.resolve_menu)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    async def _reply_for(
        self,
        interaction: discord.Interaction[Any],
        ref: str,
        paragraphs: str | None,
        *,
        ephemeral: bool,
        with_citations: bool = False,
    ) -> Reply | None:
        """The reply for the options, or None once the user was told what was wrong.

        Bad options, a paragraph a stored cable lacks and an unpublished ID are answered
        privately at once. Only before a mirror fetch is the interaction deferred (privately
        when `ephemeral`); a failed fetch is then said in that deferred message, in one line.
        """
        request = parse_request(ref, paragraphs)
        if request is None:
            await _private(interaction, f"{shorten(ref, 60)!r} is not a cable reference ID.")
            return None
        deferred = not request.problem and await self.bot.library.needs_fetch(request.ref_id)
        if deferred:
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        reply = await self.bot.answer_requests([request], with_citations=with_citations)
        if reply.cards:
            return reply
        error = _errors(reply) or f"{request.ref_id} could not be found."
        if deferred:  # the "thinking…" message, public or not, becomes the error line
            await _send(interaction, content=shorten(error, 2000), allowed_mentions=NO_MENTIONS)
        else:
            await _private(interaction, error)
        return None

    @app_commands.command(name="cable", description="Show a cable, or some of its paragraphs")
    @app_commands.describe(ref="Reference ID, e.g. 08MEXICO2498", paragraphs="e.g. 5 or 5-7")
    async def cable(
        self, interaction: discord.Interaction[Any], ref: str, paragraphs: str | None = None
    ) -> None:
        """/cable <ref> [paragraphs]: a public card; what is missing is said privately."""
        reply = await self._reply_for(interaction, ref, paragraphs, ephemeral=False)
        if reply is None:
            return
        public = Reply(cards=reply.cards, note=reply.note)  # a missing paragraph: privately
        await _send(interaction, **payload(public, owner_id=interaction.user.id))
        if reply.failures:
            await _private(interaction, _errors(reply))

    cable.autocomplete("ref")(complete_ref)

    @app_commands.command(name="cite", description="Citations of a cable (private)")
    @app_commands.describe(ref="Reference ID", paragraphs="e.g. 5", style="Citation style")
    @app_commands.choices(style=STYLES)
    async def cite(
        self,
        interaction: discord.Interaction[Any],
        ref: str,
        paragraphs: str | None = None,
        style: app_commands.Choice[str] | None = None,
    ) -> None:
        """/cite <ref> [paragraphs] [style]."""
        reply = await self._reply_for(
            interaction, ref, paragraphs, ephemeral=True, with_citations=True
        )
        if reply is None:
            return
        chosen = style.value if style else "all"
        styles = list(CITATION_NAMES) if chosen == "all" else [chosen]
        await _send(
            interaction,
            embed=citation_embed(reply.cards[0], styles),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    cite.autocomplete("ref")(complete_ref)

    @app_commands.command(name="hashtags", description="Hashtags to share a cable with")
    @app_commands.describe(ref="Reference ID")
    async def hashtags(self, interaction: discord.Interaction[Any], ref: str) -> None:
        """/hashtags <ref>."""
        reply = await self._reply_for(interaction, ref, None, ephemeral=True)
        if reply is None:
            return
        card = reply.cards[0]
        lines = [f"`{' '.join(card.hashtags)}`"]
        if card.topic_hashtags:
            lines.append(f"Topics (optional): `{' '.join(card.topic_hashtags)}`")
        await _private(interaction, "\n".join(lines))

    hashtags.autocomplete("ref")(complete_ref)

    async def resolve_menu(
        self, interaction: discord.Interaction[Any], message: discord.Message
    ) -> None:
        """Message menu "Resolve cables": works without the Message Content intent."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply = await self.bot.answer(message.content)
        if not reply.cards:
            text = _errors(reply) or "No cable references found in that message."
            await _private(interaction, text)
            return
        public = Reply(cards=reply.cards, note=reply.note)  # errors go to the user only
        sent: discord.Message | None = None
        try:
            sent = await post_answer(
                message, public, owner_id=interaction.user.id, perms=interaction.app_permissions
            )
        except discord.HTTPException:
            log.warning("could not post in channel %s", message.channel.id, exc_info=True)
        if sent is None:  # the bot may not post there: show the cards to the user alone
            private = payload(public, owner_id=interaction.user.id)
            private.pop("view")
            await interaction.followup.send(**private, ephemeral=True)
        else:
            await self.bot.remember_reply(message, sent)
        errors = _errors(reply)
        if errors or sent is not None:
            await _private(interaction, errors or "Posted.")


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    assert isinstance(bot, Cablebot)
    await bot.add_cog(Slash(bot))
