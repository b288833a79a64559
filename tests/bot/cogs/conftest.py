"""A Cablebot on dpytest's simulated Discord, with a real store holding test cables."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import discord.ext.test as dpytest
import pytest

from bot.client import Cablebot
from bot.config import Settings
from bot.library import CableLibrary
from bot.store import CableStore
from tests.bot.helpers import TAG_MEANINGS, harbour_cable


class Sent:
    """Every payload the bot sent to Discord's HTTP API: (route, channel id, JSON payload)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, dict[str, Any]]] = []

    def wrap(self, bot: discord.Client) -> None:
        """Record payloads on their way to dpytest's fake HTTP client."""
        calls = self.calls
        http = bot.http
        for name in ("send_message", "edit_message"):
            original = getattr(http, name)

            async def record(
                channel_id: int, *args: Any, _o: Any = original, _n: str = name, **kwargs: Any
            ) -> Any:
                # dpytest reads `channel` / `self` from its caller's frame: pass them on.
                caller = sys._getframe(1).f_locals
                channel = caller.get("channel")  # noqa: F841
                self = caller.get("self")  # noqa: F841
                params = kwargs.get("params")
                calls.append((_n, channel_id, dict(params.payload or {}) if params else {}))
                return await _o(channel_id, *args, **kwargs)

            setattr(http, name, record)


@pytest.fixture
async def library(tmp_path: Path) -> AsyncIterator[CableLibrary]:
    store = await CableStore.open(tmp_path / "cables.db")
    await store.put(
        [
            harbour_cable(),
            harbour_cable(
                "09OSLO12",
                subject="FISHERIES TALKS @EVERYONE SHOULD READ",
                classification="SECRET//NOFORN",
                references=(),
            ),
            *(harbour_cable(f"09OSLO{n}") for n in range(1, 7)),
        ]
    )
    library = CableLibrary(store)
    yield library
    await library.close()


@pytest.fixture
async def bot(library: CableLibrary) -> AsyncIterator[Cablebot]:
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
    yield cablebot
    await dpytest.empty_queue()


@pytest.fixture
def sent(bot: Cablebot) -> Sent:
    recorder = Sent()
    recorder.wrap(bot)
    return recorder


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
