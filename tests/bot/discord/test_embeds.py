"""bot.discord.embeds: cards as embeds, as plain text, and buttons keeping state in custom_id."""

from __future__ import annotations

import re
from unittest.mock import create_autospec

import discord

from bot.answer import Failure, Reply, failure_lines
from bot.cards import MESSAGE_MAX, build_card
from bot.discord.embeds import (
    CiteButton,
    DeleteButton,
    ParagraphButton,
    ShareButton,
    citation_embed,
    content_for,
    may_delete,
    payload,
    reply_view,
    to_embed,
)
from parsers.models import CableRequest
from tests.bot.helpers import TAG_MEANINGS, harbour_cable


def _reply(count: int = 1, **extra: object) -> Reply:
    cards = tuple(
        build_card(
            harbour_cable(f"09OSLO{n}"),
            CableRequest(ref_id=f"09OSLO{n}", paragraphs=(2,)),
            tag_meanings=TAG_MEANINGS,
            budget=MESSAGE_MAX // count,
        )
        for n in range(1, count + 1)
    )
    return Reply.model_validate({"cards": cards, **extra})


def test_embed_carries_the_card() -> None:
    card = _reply().cards[0]
    embed = to_embed(card)
    assert embed.title == card.title and embed.url == card.url
    assert embed.colour is not None and embed.colour.value == card.color
    assert embed.description == card.description
    assert [(f.name, f.value) for f in embed.fields] == [(f.name, f.value) for f in card.fields]
    assert embed.footer.text == card.footer
    assert len(embed) == card.size()


def test_ten_cards_stay_within_the_message_limit_with_distinct_urls() -> None:
    reply = _reply(10)
    embeds = payload(reply, owner_id=1)["embeds"]
    assert len(embeds) == 10
    assert sum(len(e) for e in embeds) <= MESSAGE_MAX
    assert len({e.url for e in embeds}) == 10


def test_text_fallback_fits_one_message_and_keeps_the_essentials() -> None:
    reply = _reply(5, note="Only the first 5 references of a message are answered.")
    sent = payload(reply, owner_id=1, embed_links=False)
    assert sent["embeds"] == []
    text = sent["content"]
    assert len(text) <= 2000
    assert text.count("#cablegate") == 5
    assert "<https://wikileaks.org/cable/2009/03/09OSLO1.html#par2>" in text
    assert "Only the first 5 references" in text


def test_failures_are_lines_naming_the_cable() -> None:
    reply = Reply(
        failures=(Failure(ref_id="09OSLO1", error="¶0 is not a paragraph number", kind="problem"),)
    )
    assert content_for(reply) == "09OSLO1: ¶0 is not a paragraph number"
    assert payload(reply, owner_id=1)["view"] is None


def test_buttons_keep_their_state_in_custom_id() -> None:
    view = reply_view(_reply(5).cards, owner_id=42)
    assert len(view.children) <= 25
    rows: dict[int, int] = {}
    for item in view.children:
        assert isinstance(item, ParagraphButton | CiteButton | ShareButton | DeleteButton)
        custom_id = item.custom_id
        assert len(custom_id) <= 100
        assert re.fullmatch(type(item).__discord_ui_compiled_template__, custom_id)
        rows[item.item.row or 0] = rows.get(item.item.row or 0, 0) + 1
    assert set(rows) <= set(range(5)) and max(rows.values()) <= 5
    labels = [item.item.label for item in view.children]
    assert labels[:4] == ["◀ ¶1", "¶3 ▶", "Cite 09OSLO1", "Share"]
    assert labels[-1] == "Delete"
    assert "cablebot:del:42" in [item.custom_id for item in view.children]


async def test_buttons_come_back_from_their_custom_id() -> None:
    interaction = create_autospec(discord.Interaction, instance=True)
    for item in reply_view(_reply(2).cards, owner_id=7).children:
        assert isinstance(item, ParagraphButton | CiteButton | ShareButton | DeleteButton)
        cls = type(item)
        match = re.fullmatch(cls.__discord_ui_compiled_template__, item.custom_id)
        again = await cls.from_custom_id(interaction, item.item, match)
        assert again.custom_id == item.custom_id


def test_only_the_requester_or_a_moderator_may_delete() -> None:
    interaction = create_autospec(discord.Interaction, instance=True)
    interaction.user = create_autospec(discord.Member, instance=True)
    interaction.user.id = 5
    interaction.permissions = discord.Permissions.none()
    assert may_delete(interaction, owner_id=5)
    assert not may_delete(interaction, owner_id=6)
    interaction.permissions = discord.Permissions(manage_messages=True)
    assert may_delete(interaction, owner_id=6)


def test_citation_embed_has_every_style() -> None:
    embed = citation_embed(_reply().cards[0])
    assert embed.description is not None
    for name in ("Plain text", "Markdown", "Chicago note", "BibTeX", "Post (280 characters)"):
        assert f"**{name}**" in embed.description
    assert len(embed) <= MESSAGE_MAX


def test_a_shared_error_is_said_once_naming_every_cable() -> None:
    down = "the cable mirror is unreachable; try again later"
    reply = Reply(
        failures=(
            Failure(ref_id="09MADRID1", error=down, kind="mirror"),
            Failure(ref_id="09OSLO1", error="09OSLO1 has 6 paragraphs", kind="missing_paragraph"),
            Failure(ref_id="09MADRID2", error=down, kind="mirror"),
            Failure(ref_id="09MADRID1", error=down, kind="mirror"),
        )
    )
    assert failure_lines(reply.failures) == [
        "09OSLO1 has 6 paragraphs",
        f"09MADRID1, 09MADRID2: {down}",
    ]
    assert content_for(reply) == "\n".join(failure_lines(reply.failures))
