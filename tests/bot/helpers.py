"""Test helpers for the bot: a cable written for these tests, a filled store, Discord wiring."""

from __future__ import annotations

import html
import socket
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest.mock import create_autospec

import discord
import discord.ext.test as dpytest

from parsers.models import Cable, Paragraph

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

PARAGRAPHS = (
    "(C) Summary: The harbour authority announced a new ferry schedule for the islands. "
    "Officials expect crowds during the regatta. End summary.",
    "(SBU) The minister of transport met the ambassador on Tuesday. He said the ferry "
    "contract would be signed before winter, and that @everyone in the cabinet agreed.",
    "(C) Contacts describe the tender as rushed. One official said <@&123456789012345678> "
    "and the port police were not consulted.",
    "(U) Background: the islands have relied on one ageing vessel since 1994.",
    "(C/NF) Comment: the contract is likely to go to a local shipyard with ties to the "
    "governing party. " + "The harbour master repeated the same point at length. " * 40,
    "(SBU) The embassy will report on the signing ceremony.",
)


def harbour_cable(ref_id: str = "09OSLO777", **changes: object) -> Cable:
    """A fictional cable written for these tests (six paragraphs, one very long)."""
    paragraphs = tuple(
        Paragraph(number=i, marking=text[1 : text.index(")")], text=text[text.index(")") + 2 :])
        for i, text in enumerate(PARAGRAPHS, 1)
    )
    data: dict[str, object] = {
        "ref_id": ref_id,
        "created": datetime(2009, 3, 12, 9, 30),
        "released": datetime(2011, 8, 30, 0, 0),
        "classification": "CONFIDENTIAL",
        "origin": "Embassy Oslo",
        "subject": "FERRY CONTRACT FOR THE ISLANDS SIGNED IN HASTE",
        "tags": ("PREL", "ECON", "NO"),
        "references": ("09OSLO12", "09STATE4567"),
        "summary": paragraphs[0].text,
        "paragraphs": paragraphs,
        "body": "\n\n".join(f"{p.number}. ({p.marking}) {p.text}" for p in paragraphs),
    }
    data.update(changes)
    return Cable.model_validate(data)


def harbour_page(ref_id: str) -> str:
    """The cable-site page of `harbour_cable(ref_id)`, as a mirror serves it (March 2009)."""
    cable = harbour_cable(ref_id)
    body = f"SUBJECT: {cable.subject}\n\n{cable.body}\n\nWHITNEY\n"

    def pre(text: str) -> str:
        return html.escape(text, quote=False).replace("\n", "&#x000A;")

    cells = (
        f"<a href='/cable/2009/03/{ref_id}.html'>{ref_id}</a>",
        "2009-03-12 09:30",
        "2011-08-30 01:44",
        cable.classification,
        cable.origin,
    )
    row = "".join(f"<td>{cell}</td>" for cell in cells)
    return (
        f"<html><body><h3>Viewing cable {ref_id}</h3><table class='cable'><tr><th>Reference ID"
        "</th><th>Created</th><th>Released</th><th>Classification</th><th>Origin</th></tr>"
        f"<tr>{row}</tr></table><code><pre>FM AMEMBASSY OSLO&#x000A;TO SECSTATE WASHDC</pre>"
        f"</code><code><pre>{pre(body)}</pre></code></body></html>"
    )


TAG_MEANINGS = {
    "PREL": "External Political Relations",
    "ECON": "Economic Conditions",
    "NO": "Norway",
}


ANSWERS = ("send_message", "defer", "edit_message", "send_modal")
"""The InteractionResponse methods that answer an interaction (after one, `is_done()`)."""


def spec_interaction(client: discord.Client, user_id: int = 99, guild_id: int | None = None) -> Any:
    """An interaction of the real class, its network calls replaced by recorders that check
    their arguments against discord.py's signatures (a misspelled keyword raises TypeError).

    `response` and `followup` are attached, so `interaction.mock_calls` lists every call in
    order (`response.defer`, `followup.send`, ...); `response.is_done()` is True once the
    interaction was answered, as in discord.py.
    """
    interaction = create_autospec(discord.Interaction, instance=True)
    interaction.client = client
    interaction.user = create_autospec(discord.Member, instance=True)
    interaction.user.id = user_id
    interaction.guild_id = guild_id  # None: a DM
    interaction.permissions = discord.Permissions.none()
    interaction.app_permissions = discord.Permissions.text()
    response = create_autospec(discord.InteractionResponse, instance=True)
    response.is_done.side_effect = lambda: any(getattr(response, n).await_count for n in ANSWERS)
    interaction.attach_mock(response, "response")
    interaction.attach_mock(create_autospec(discord.Webhook, instance=True), "followup")
    return interaction


def answered(interaction: Any) -> list[str]:
    """The calls that answered or followed up `interaction`, in order (`response.defer`, ...)."""
    return [name for name, _, _ in interaction.mock_calls if name != "response.is_done"]


def spec_member(member_id: int, *, bot: bool = False) -> Any:
    """A guild member of the real class (attributes set, no network)."""
    member = create_autospec(discord.Member, instance=True)
    member.id, member.bot, member.mention = member_id, bot, f"<@{member_id}>"
    return member


def spec_thread(
    thread_id: int, parent_id: int, guild: Any, permissions: discord.Permissions
) -> Any:
    """A thread of the real class whose `permissions_for` gives `permissions`."""
    thread = create_autospec(discord.Thread, instance=True)
    thread.id, thread.parent_id, thread.guild = thread_id, parent_id, guild
    thread.permissions_for.return_value = permissions
    thread.send.return_value = spec_sent(thread)
    return thread


def spec_sent(channel: Any, message_id: int = 900) -> Any:
    """The message Discord hands back for a send in `channel`."""
    sent = create_autospec(discord.Message, instance=True)
    sent.id, sent.channel = message_id, channel
    return sent


def spec_message(content: str, channel: Any, *, author_id: int = 7, message_id: int = 500) -> Any:
    """A message of the real class typed by a person in `channel` (a guild channel or thread)."""
    message = create_autospec(discord.Message, instance=True)
    message.id, message.content, message.channel = message_id, content, channel
    message.guild = channel.guild
    message.author = spec_member(author_id)
    message.mentions, message.reference = [], None
    message.reply.return_value = spec_sent(channel)
    return message


def spec_guild(guild_id: int = 300, me_id: int = 4242) -> Any:
    """A guild of the real class in which the bot is the member `me`."""
    guild = create_autospec(discord.Guild, instance=True)
    guild.id, guild.me = guild_id, spec_member(me_id, bot=True)
    return guild


async def gateway_edit(bot: discord.Client, message: discord.Message, **changes: Any) -> None:
    """Deliver an edit of `message` (new `content`, `embeds`, ...) the way the gateway does:
    a raw MESSAGE_UPDATE through discord.py's own parser, then run the resulting events."""
    data: dict[str, Any] = dict(dpytest.backend.facts.dict_from_message(message))
    data.update(changes, channel_id=str(message.channel.id))
    bot._connection.parse_message_update(data)
    await dpytest.run_all_events()


def closed_port() -> int:
    """A port on 127.0.0.1 that refuses connections: bound by this test, then closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
