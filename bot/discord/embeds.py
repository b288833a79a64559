"""Cards as Discord payloads: embeds, a plain-text fallback and restart-proof buttons."""

from __future__ import annotations

import asyncio
import io
import logging
import math
import re
from collections.abc import Sequence
from typing import Any, Protocol, cast

import discord

from bot.answer import CableSource, Reply, failure_lines
from bot.cards import CITATION_NAMES, MESSAGE_MAX, Card, citation_text, shorten
from bot.config import Settings
from bot.library.discover import Linked
from bot.quote_image import alt_text, render_png
from bot.share import quote_of
from parsers.models import Cable, CableRequest, cable_path

log = logging.getLogger(__name__)

CONTENT_MAX = 2000
MAX_EMBEDS = 10
BUTTON_ROWS = 5
NO_MENTIONS = discord.AllowedMentions.none()


def to_embed(card: Card) -> discord.Embed:
    """One card as an embed: title, link, colour, quote and hashtags, fields, footer."""
    embed = discord.Embed(
        title=card.title, url=card.url, colour=card.color, description=card.description
    )
    for field in card.fields:
        embed.add_field(name=field.name, value=field.value, inline=field.inline)
    if card.footer:
        embed.set_footer(text=card.footer)
    return embed


def card_text(card: Card, limit: int = CONTENT_MAX) -> str:
    """One card as Markdown text of at most `limit` characters, for channels without embeds.

    The title, link, facts and hashtags are kept; TAGS and then the quote give way.
    """
    facts = " · ".join(f"{f.name}: {f.value}" for f in card.fields if f.inline)
    head = [shorten(f"**{card.title}** <{card.url}>", limit), shorten(facts, limit // 4)]
    tail = [" ".join(card.hashtags + card.topic_hashtags)]
    extra = [f"{f.name}: {', '.join(f.value.splitlines())}" for f in card.fields if not f.inline]
    used = sum(len(line) + 1 for line in head + tail)
    for line in extra:
        line = shorten(line, limit // 4)
        if used + len(line) + 1 <= limit:
            head.append(line)
            used += len(line) + 1
    if card.quote and limit - used > 40:
        head.append(shorten(card.quote, limit - used - 1))
    return shorten("\n".join(head + tail), limit)


def notes(reply: Reply) -> list[str]:
    """The lines sent as message content: the cut note and the failures."""
    lines = [f"-# {reply.note}"] if reply.note else []
    return lines + failure_lines(reply.failures)


def content_for(reply: Reply, *, embed_links: bool = True) -> str | None:
    """The message content: notes, plus the cards themselves when embeds are not allowed."""
    lines = notes(reply)
    if not embed_links and reply.cards:
        room = (CONTENT_MAX - sum(len(line) + 1 for line in lines)) // len(reply.cards) - 2
        lines = [card_text(card, room) for card in reply.cards] + lines
    text = "\n\n".join(lines) if not embed_links else "\n".join(lines)
    return shorten(text, CONTENT_MAX) or None


def payload(reply: Reply, *, owner_id: int, embed_links: bool = True) -> dict[str, Any]:
    """Keyword arguments for `send`/`reply`/`edit`: content, embeds, view, no mentions."""
    cards = reply.cards[:MAX_EMBEDS]
    embeds = [to_embed(card) for card in cards] if embed_links else []
    assert sum(card.size() for card in cards) <= MESSAGE_MAX
    return {
        "content": content_for(reply, embed_links=embed_links),
        "embeds": embeds,
        "view": reply_view(cards, owner_id) if cards else None,
        "allowed_mentions": NO_MENTIONS,
    }


def card_buttons(
    card: Card, index: int, *, many: bool, room: int = 5
) -> list[discord.ui.Item[Any]]:
    """The row of buttons for the card at `index`: previous/next paragraph, Cite, Share and
    Cited by N (left out when the row has `room` for fewer)."""
    items: list[discord.ui.Item[Any]] = []
    if card.previous_paragraph is not None:
        items.append(ParagraphButton(index, card.ref_id, card.previous_paragraph, "◀"))
    if card.next_paragraph is not None:
        items.append(ParagraphButton(index, card.ref_id, card.next_paragraph, "▶"))
    label = f"Cite {card.ref_id}" if many else "Cite"
    items.append(CiteButton(index, card.ref_id, card.paragraphs, label=label))
    items.append(ShareButton(index, card.ref_id, card.paragraphs))
    cited = cited_by_count(card)
    if cited and len(items) < room:
        items.append(CitedByButton(index, card.ref_id, cited))
    return items


def cited_by_count(card: Card) -> int:
    """How many stored cables cite the card's cable (its "Cited by" field; 0 without one)."""
    for field in card.fields:
        if field.name == "Cited by":
            found = re.match(r"[0-9][0-9,]*", field.value)
            return int(found[0].replace(",", "")) if found else 0
    return 0


def reply_view(cards: tuple[Card, ...] | list[Card], owner_id: int) -> discord.ui.View:
    """Buttons for a reply: one row per card (up to five) and Delete on the last row."""
    view = discord.ui.View(timeout=None)
    delete_row = min(len(cards), BUTTON_ROWS - 1)
    for index, card in enumerate(cards[:BUTTON_ROWS]):
        room = 4 if index == delete_row else 5
        for item in card_buttons(card, index, many=len(cards) > 1, room=room):
            view.add_item(item)
    view.add_item(DeleteButton(owner_id, row=delete_row))
    return view


class ButtonLibrary(CableSource, Protocol):
    """What the buttons need of bot.library.CableLibrary."""

    async def citing(self, ref_id: str) -> list[Linked]: ...


class ButtonHost(Protocol):
    """What the buttons need of the client that runs them (bot.discord.client.Cablebot)."""

    @property
    def library(self) -> ButtonLibrary: ...

    @property
    def settings(self) -> Settings: ...

    async def answer_requests(
        self,
        requests: Sequence[CableRequest],
        *,
        slots: int | None = None,
        with_citations: bool = False,
    ) -> Reply: ...

    async def forget_reply(
        self, *, trigger_id: int | None = None, reply_id: int | None = None
    ) -> None: ...

    async def take_image(self, user_id: int, guild_id: int | None) -> str | None: ...


def _bot(interaction: discord.Interaction[Any]) -> ButtonHost:
    return cast(ButtonHost, interaction.client)


async def _tell(interaction: discord.Interaction[Any], text: str) -> None:
    """A private answer to the clicker, whether or not the interaction was answered yet."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


_REF = r"(?P<ref>[A-Za-z0-9]{3,40})"


def _pars_text(paragraphs: tuple[int, ...]) -> str:
    """Paragraph numbers as a custom_id carries them: `5,6` (empty: the whole cable)."""
    return ",".join(str(n) for n in paragraphs)


def _pars_of(text: str) -> tuple[int, ...]:
    """The paragraph numbers of `_pars_text`."""
    return tuple(int(n) for n in text.split(",") if n)


class ParagraphButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"cablebot:par:(?P<index>[0-9]):" + _REF + r":(?P<n>[0-9]{1,6})",
):
    """Show paragraph `n` of a cable in place of the card at `index` of the message."""

    def __init__(self, index: int, ref_id: str, paragraph: int, arrow: str = "") -> None:
        label = f"◀ ¶{paragraph}" if arrow == "◀" else f"¶{paragraph} ▶"
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"cablebot:par:{index}:{ref_id}:{paragraph}",
                row=min(index, BUTTON_ROWS - 1),
            )
        )
        self.index, self.ref_id, self.paragraph = index, ref_id, paragraph

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: Any,
    ) -> ParagraphButton:
        return cls(int(match["index"]), match["ref"], int(match["n"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        message = interaction.message
        if message is None:
            return
        await interaction.response.defer()
        bot = _bot(interaction)
        slots = max(1, len(message.embeds))
        request = CableRequest(ref_id=self.ref_id, paragraphs=(self.paragraph,))
        reply = await bot.answer_requests([request], slots=slots)
        if not reply.cards:
            await _tell(interaction, "; ".join(failure_lines(reply.failures)) or "Not found.")
            return
        card = reply.cards[0]
        has_buttons = bool(getattr(message, "components", None))
        view = discord.ui.View.from_message(message, timeout=None) if has_buttons else None
        view = view or discord.ui.View(timeout=None)
        row = min(self.index, BUTTON_ROWS - 1)
        for item in list(view.children):
            if getattr(item, "row", None) == row and not str(
                getattr(item, "custom_id", "")
            ).startswith("cablebot:del:"):
                view.remove_item(item)
        room = 5 - sum(getattr(item, "row", None) == row for item in view.children)
        for item in card_buttons(card, self.index, many=slots > 1, room=room):
            view.add_item(item)
        if message.embeds:
            embeds = list(message.embeds)
            embeds[min(self.index, len(embeds) - 1)] = to_embed(card)
            await interaction.edit_original_response(embeds=embeds, view=view)
        else:
            text = card_text(card)
            await interaction.edit_original_response(content=text, view=view)


class CiteButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"cablebot:cite:(?P<index>[0-9]):" + _REF + r":(?P<pars>[0-9,]{0,60})",
):
    """Send the clicker the citation styles of a card, privately."""

    def __init__(
        self, index: int, ref_id: str, paragraphs: tuple[int, ...], label: str = "Cite"
    ) -> None:
        pars = _pars_text(paragraphs)
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.primary,
                custom_id=f"cablebot:cite:{index}:{ref_id}:{pars}",
                row=min(index, BUTTON_ROWS - 1),
            )
        )
        self.ref_id, self.paragraphs = ref_id, paragraphs

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: Any,
    ) -> CiteButton:
        return cls(int(match["index"]), match["ref"], _pars_of(match["pars"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        request = CableRequest(ref_id=self.ref_id, paragraphs=self.paragraphs)
        reply = await _bot(interaction).answer_requests([request], with_citations=True)
        if not reply.cards:
            await _tell(interaction, "; ".join(failure_lines(reply.failures)) or "Not found.")
            return
        await interaction.followup.send(
            embed=citation_embed(reply.cards[0]), ephemeral=True, allowed_mentions=NO_MENTIONS
        )


class ShareButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"cablebot:share:(?P<index>[0-9]):" + _REF + r":(?P<pars>[0-9,]{0,60})",
):
    """Send the clicker, privately, the card's paragraph as a quote image and a post for X
    (the post alone when the guild turned images off or the image cooldown holds)."""

    def __init__(self, index: int, ref_id: str, paragraphs: tuple[int, ...]) -> None:
        pars = _pars_text(paragraphs)
        super().__init__(
            discord.ui.Button(
                label="Share",
                style=discord.ButtonStyle.secondary,
                custom_id=f"cablebot:share:{index}:{ref_id}:{pars}",
                row=min(index, BUTTON_ROWS - 1),
            )
        )
        self.ref_id, self.paragraphs = ref_id, paragraphs

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: Any,
    ) -> ShareButton:
        return cls(int(match["index"]), match["ref"], _pars_of(match["pars"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot = _bot(interaction)
        request = CableRequest(ref_id=self.ref_id, paragraphs=self.paragraphs)
        reply = await bot.answer_requests([request], with_citations=True)
        found = await bot.library.get_many([self.ref_id]) if reply.cards else []
        if not reply.cards or not isinstance(found[0], Cable):
            await _tell(interaction, "; ".join(failure_lines(reply.failures)) or "Not found.")
            return
        card = reply.cards[0]
        refusal = await bot.take_image(interaction.user.id, interaction.guild_id)
        if refusal is not None:  # the post text still, without the image
            text = f"-# {refusal}\n{card.citations['post']}"
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        quote = quote_of(found[0], card.paragraphs)
        png = await asyncio.to_thread(render_png, quote)  # ~0.1 s of CPU: off the event loop
        image = discord.File(
            io.BytesIO(png), filename=f"{card.ref_id}.png", description=alt_text(quote)
        )
        await interaction.followup.send(
            card.citations["post"], file=image, ephemeral=True, allowed_mentions=NO_MENTIONS
        )


CITED_PAGE = 10
"""Citing cables a page: ten lines of at most about 250 characters."""


class CitedByButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"cablebot:citedby:(?P<index>[0-9]):" + _REF,
):
    """Send the clicker, privately, the stored cables citing a card's cable (paged)."""

    def __init__(self, index: int, ref_id: str, count: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"Cited by {count:,}" if count else "Cited by",
                style=discord.ButtonStyle.secondary,
                custom_id=f"cablebot:citedby:{index}:{ref_id}",
                row=min(index, BUTTON_ROWS - 1),
            )
        )
        self.ref_id = ref_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: Any,
    ) -> CitedByButton:
        return cls(int(match["index"]), match["ref"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        page = await cited_by_page(_bot(interaction), self.ref_id, 1)
        await interaction.response.send_message(**page, ephemeral=True)


class CitedByPageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"cablebot:citedby-page:" + _REF + r":(?P<page>[0-9]{1,5})",
):
    """Go to `page` of the private list of citing cables."""

    def __init__(self, ref_id: str, page: int, *, forward: bool, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label="Next ▶" if forward else "◀ Previous",
                style=discord.ButtonStyle.secondary,
                custom_id=f"cablebot:citedby-page:{ref_id}:{page}",
                disabled=disabled,
            )
        )
        self.ref_id, self.page = ref_id, page

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: Any,
    ) -> CitedByPageButton:
        forward = isinstance(item, discord.ui.Button) and (item.label or "").startswith("Next")
        return cls(match["ref"], int(match["page"]), forward=forward)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        page = await cited_by_page(_bot(interaction), self.ref_id, self.page)
        await interaction.response.edit_message(**page)


async def cited_by_page(bot: ButtonHost, ref_id: str, page: int) -> dict[str, Any]:
    """Keyword arguments for sending or editing to `page` of the cables citing `ref_id`
    (oldest first; the last page when past it)."""
    citing = await bot.library.citing(ref_id)
    pages = max(1, math.ceil(len(citing) / CITED_PAGE))
    page = max(1, min(page, pages))
    embed = cited_by_embed(ref_id, citing, page, site=bot.settings.site_url)
    view = discord.ui.View(timeout=None)
    if pages > 1:
        view.add_item(CitedByPageButton(ref_id, page - 1, forward=False, disabled=page <= 1))
        view.add_item(CitedByPageButton(ref_id, page + 1, forward=True, disabled=page >= pages))
    return {"embed": embed, "view": view, "allowed_mentions": NO_MENTIONS}


def cited_by_embed(ref_id: str, citing: Sequence[Linked], page: int, *, site: str) -> discord.Embed:
    """One page of the cables citing `ref_id`: a line each (ID, date, linked subject)."""
    pages = max(1, math.ceil(len(citing) / CITED_PAGE))
    noun = "cable cites" if len(citing) == 1 else "cables cite"
    lines = [f"**{len(citing):,}** stored {noun} it, oldest first · page {page} of {pages}"]
    for cable in citing[(page - 1) * CITED_PAGE : page * CITED_PAGE]:
        created = f"{cable.created:%Y-%m-%d}" if cable.created else "undated"
        url = site.rstrip("/") + cable_path(cable.ref_id, cable.created)
        subject = shorten(cable.subject or "(no subject)", 150).replace("]", ")")
        lines.append(f"`{cable.ref_id}` · {created} · [{subject}]({url})")
    return discord.Embed(title=f"Cited by: {ref_id}", description="\n".join(lines), colour=0x95A5A6)


def citation_embed(card: Card, styles: list[str] | None = None) -> discord.Embed:
    """An embed carrying the citation styles of `card`."""
    text = citation_text(card, styles)
    if len(text) > 4096:
        text = citation_text(card, [s for s in (styles or CITATION_NAMES) if s != "bibtex"])
    return discord.Embed(
        title=f"Cite {card.ref_id}",
        url=card.url,
        colour=card.color,
        description=shorten(text, 4096),
    )


class DeleteButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"cablebot:del:(?P<owner>[0-9]{1,20})",
):
    """Delete the bot's reply; only the person who asked or a moderator may."""

    def __init__(self, owner_id: int, row: int = BUTTON_ROWS - 1) -> None:
        super().__init__(
            discord.ui.Button(
                label="Delete",
                style=discord.ButtonStyle.danger,
                custom_id=f"cablebot:del:{owner_id}",
                row=row,
            )
        )
        self.owner_id = owner_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: Any,
    ) -> DeleteButton:
        return cls(int(match["owner"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        if not may_delete(interaction, self.owner_id):
            await _tell(interaction, "Only the person who asked or a moderator can delete this.")
            return
        await interaction.response.defer()
        if interaction.message is not None:
            await interaction.message.delete()
            await _bot(interaction).forget_reply(reply_id=interaction.message.id)


def may_delete(interaction: discord.Interaction[Any], owner_id: int) -> bool:
    """True for the requester and for members who may manage messages in the channel."""
    if interaction.user.id == owner_id:
        return True
    permissions = interaction.permissions
    return permissions.manage_messages or permissions.administrator
