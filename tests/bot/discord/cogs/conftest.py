"""A Cablebot on dpytest's simulated Discord, with a real store holding test cables."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import discord.ext.test as dpytest
import pytest
from discord.ext.test import callbacks

from bot.chat import load_tag_meanings
from bot.config import Settings
from bot.discord.client import Cablebot
from bot.library.cables import CableLibrary
from bot.library.importer import import_path
from bot.library.store import CableStore
from parsers.models import Cable
from parsers.page import parse_any
from tests.bot.helpers import TAG_MEANINGS, harbour_cable


class Sent:
    """The bot's sends and edits as they reached simulated Discord: (route, channel id, JSON
    payload), recorded only once dpytest has stored the message; and its reactions.

    dpytest's own `send_message`/`edit_message` find the channel and message by reading their
    caller's frame, which breaks when anything sits between discord.py and them, and its edit
    needs a full Message (the bot edits a PartialMessage, as it must after a restart). These two
    take everything from their arguments instead and store through dpytest's backend; a
    reaction is delivered through discord.py's own gateway parser.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, dict[str, Any]]] = []
        self.reactions: list[tuple[int, str]] = []
        """(message id, emoji) of each reaction the bot added."""

    def install(self, bot: discord.Client) -> None:
        """Replace the send, edit and reaction routes of `bot`'s simulated HTTP client."""
        calls = self.calls

        async def send_message(channel_id: int, *, params: Any) -> Any:
            channel = bot.get_channel(channel_id)
            assert isinstance(channel, discord.abc.Messageable) and bot.user is not None
            me = channel.guild.me if isinstance(channel, discord.abc.GuildChannel) else bot.user
            if not channel.permissions_for(me).send_messages:  # type: ignore[arg-type]
                raise discord.Forbidden(dpytest.backend.FakeRequest(403, "forbidden"), "no")
            payload = dict(params.payload or {})
            message = dpytest.backend.make_message(
                channel=channel,
                author=bot.user,
                content=payload.get("content") or "",
                embeds=[discord.Embed.from_dict(e) for e in payload.get("embeds") or []],
            )
            await callbacks.dispatch_event("send_message", message)  # dpytest's sent queue
            calls.append(("send_message", channel_id, payload))
            return dpytest.backend.facts.dict_from_message(message)

        async def edit_message(channel_id: int, message_id: int, *, params: Any) -> Any:
            stored = discord.utils.get(bot.cached_messages, id=message_id)
            if stored is None or stored.channel.id != channel_id:
                raise discord.NotFound(dpytest.backend.FakeRequest(404, "not found"), "no")
            data = dpytest.backend.edit_message(stored, params=params)
            calls.append(("edit_message", channel_id, dict(params.payload or {})))
            return data

        async def add_reaction(channel_id: int, message_id: int, emoji: str) -> None:
            """As the gateway reports it (dpytest 0.7 leaves out the `type` discord.py reads)."""
            assert bot.user is not None
            event = {"message_id": message_id, "channel_id": channel_id, "type": 0}
            event.update(user_id=bot.user.id, emoji={"id": None, "name": emoji})
            bot._connection.parse_message_reaction_add(event)  # type: ignore[arg-type]
            self.reactions.append((message_id, emoji))

        bot.http.send_message = send_message  # type: ignore[method-assign]
        bot.http.add_reaction = add_reaction  # type: ignore[method-assign]
        bot.http.edit_message = edit_message  # type: ignore[method-assign]


def stored_cables() -> list[Cable]:
    """The cables the bots' store holds."""
    return [
        harbour_cable(),
        harbour_cable(
            "09OSLO12",
            subject="FISHERIES TALKS @EVERYONE SHOULD READ",
            classification="SECRET//NOFORN",
            references=(),
        ),
        *(harbour_cable(f"09OSLO{n}") for n in range(1, 7)),
    ]


@pytest.fixture
async def library(tmp_path: Path) -> AsyncIterator[CableLibrary]:
    store = await CableStore.open(tmp_path / "cables.db")
    await store.put(stored_cables())
    library = CableLibrary(store)
    yield library
    await library.close()


@pytest.fixture
def sent() -> Sent:
    return Sent()


@pytest.fixture
async def bot(library: CableLibrary, sent: Sent) -> AsyncIterator[Cablebot]:
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    cablebot = Cablebot(
        library, settings, tag_meanings=TAG_MEANINGS, sync_commands=False, intents=intents
    )
    await cablebot._async_setup_hook()
    await cablebot.setup_hook()
    dpytest.configure(cablebot, members=3)
    sent.install(cablebot)
    yield cablebot
    await dpytest.empty_queue()


def set_member_overwrite(
    bot: discord.Client, channel: discord.TextChannel, member: discord.Member, **perms: bool
) -> None:
    """Apply a channel permission overwrite for `member` as the gateway would send it.

    (dpytest writes the overwrite type as a string, which discord.py 2.x does not read.)
    """
    allow, deny = discord.PermissionOverwrite(**perms).pair()
    data = dpytest.backend.facts.dict_from_channel(channel)
    data["permission_overwrites"] = [
        {"id": member.id, "type": 1, "allow": str(allow.value), "deny": str(deny.value)}
    ]
    bot._connection.parse_channel_update(data)


class Corpus:
    """A store file filled from ../shared/corpus/pages, and the same pages parsed in Python
    (the expectations: never read back from the SQL under test)."""

    def __init__(self, path: Path, cables: dict[str, Cable]) -> None:
        self.path = path
        self.cables = cables

    def __repr__(self) -> str:
        return f"Corpus({self.path}, {len(self.cables)} cables)"


@pytest.fixture(scope="session")
def corpus(corpus_pages: Path, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """The corpus store, imported once per session (about 2 s)."""
    path = tmp_path_factory.mktemp("corpus") / "cables.db"

    async def fill() -> None:
        async with await CableStore.open(path) as store:
            summary = await import_path(store, corpus_pages)
            assert summary.errors == 0

    asyncio.run(fill())
    cables: dict[str, Cable] = {}
    for page in sorted(corpus_pages.glob("*.html")):  # the last copy of an ID wins, as imported
        cable = parse_any(page.read_text(encoding="utf-8", errors="replace"))
        cables[cable.ref_id] = cable
    return Corpus(path, cables)


@pytest.fixture
async def corpus_bot(corpus: Corpus, sent: Sent) -> AsyncIterator[Cablebot]:
    """A Cablebot on dpytest's simulated Discord over the corpus store."""
    async with CableLibrary(await CableStore.open(corpus.path)) as library:
        intents = discord.Intents.default()
        intents.message_content = True
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        meanings = load_tag_meanings(None)  # the built-in TAGS table
        cablebot = Cablebot(
            library, settings, tag_meanings=meanings, sync_commands=False, intents=intents
        )
        await cablebot._async_setup_hook()
        await cablebot.setup_hook()
        dpytest.configure(cablebot, members=3)
        sent.install(cablebot)
        yield cablebot
        await dpytest.empty_queue()
