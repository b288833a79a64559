"""While the bot serves, a store that cannot be written costs only the write: the answer is sent."""

from __future__ import annotations

import gzip
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import discord
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.config import Settings
from bot.discord.client import Cablebot
from bot.discord.guilds import GuildSettings, GuildSettingsCache
from bot.library.cables import CableLibrary
from bot.library.store import CableStore
from tests.bot.conftest import CABLE_PATH
from tests.bot.helpers import spec_guild, spec_message, spec_sent, spec_thread
from tests.bot.library.helpers import site_page
from tests.bot.library.test_store_failures import _make_read_only, tmpfs

__all__ = ["tmpfs"]  # the fixture, shared with the failure tests


def _settings(tmp_path: Path, data_dir: Path, server: HTTPServer) -> Settings:
    months = tmp_path / "months.csv.gz"
    months.write_bytes(gzip.compress(b"10ATLANTIS17,2\n"))
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=data_dir,
        mirrors=f"http://127.0.0.1:{server.port}/cable/{{year}}/{{month}}/{{ref_id}}.html",
        month_index=months,
        retries=1,
        retry_backoff=0.01,
        total_timeout=5.0,
    )


@pytest.fixture
def mirror(server: HTTPServer) -> Iterator[HTTPServer]:
    """The mirror serves 10ATLANTIS17 and counts the requests."""

    def handle(request: Request) -> Response:
        match = CABLE_PATH.fullmatch(request.path)
        if match and match.groups() == ("2010", "02", "10ATLANTIS17"):
            return Response(site_page("10ATLANTIS17"), content_type="text/html")
        return Response("no", status=404)

    server.expect_request(CABLE_PATH).respond_with_handler(handle)
    yield server


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


async def test_a_fetched_cable_is_answered_from_a_read_only_store(
    tmp_path: Path, tmpfs: Path, mirror: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(tmp_path, tmpfs, mirror)
    async with await CableStore.open(settings.store_file):
        pass  # a new, empty store
    _make_read_only(tmpfs)
    caplog.set_level(logging.WARNING)
    async with await CableLibrary.open(settings) as library:
        assert library.store.readonly
        for _ in range(2):  # not stored, so fetched again; the warning is given once
            cable = await library.get("10ATLANTIS17")
            assert cable.ref_id == "10ATLANTIS17"
            assert cable.paragraphs
    assert len(mirror.log) == 2
    assert _warnings(caplog) == [
        f"{settings.store_file}: the store is read-only; cables fetched from the mirror,"
        " followed replies and settings are not saved"
    ]


@pytest.fixture
async def failing_library(
    tmp_path: Path, mirror: HTTPServer
) -> AsyncIterator[tuple[CableLibrary, Settings]]:
    """A library whose store refuses every write (SQLite's query_only on its own connection)."""
    settings = _settings(tmp_path, tmp_path / "data", mirror)
    async with await CableLibrary.open(settings) as library:
        writer = library.store._writer
        assert writer is not None
        writer.call(lambda conn: conn.execute("PRAGMA query_only = 1"))
        yield library, settings


async def test_a_fetched_cable_that_cannot_be_stored_is_still_answered(
    failing_library: tuple[CableLibrary, Settings], caplog: pytest.LogCaptureFixture
) -> None:
    library, settings = failing_library
    cable = await library.get("10ATLANTIS17")
    assert cable.ref_id == "10ATLANTIS17"
    assert await library.store.get("10ATLANTIS17") is None
    assert _warnings(caplog) == [
        f"10ATLANTIS17 was fetched but not stored: {settings.store_file}: the store is read-only"
    ]


async def test_following_a_reply_that_cannot_be_stored_is_a_warning(
    failing_library: tuple[CableLibrary, Settings], caplog: pytest.LogCaptureFixture
) -> None:
    library, settings = failing_library
    bot = Cablebot(library, settings, sync_commands=False)
    guild = spec_guild()
    channel = spec_thread(600, 601, guild, discord.Permissions.text())
    trigger = spec_message("08MEXICO2498", channel, message_id=500)
    await bot.remember_reply(trigger, spec_sent(channel, message_id=900))
    await bot.forget_reply(trigger_id=500)
    await bot.forget_reply(reply_id=900)
    reason = f"{settings.store_file}: the store is read-only"
    assert _warnings(caplog) == [
        f"could not remember the reply to 500: {reason}",
        f"could not forget the reply to 500: {reason}",
        f"could not forget the reply to 900: {reason}",
    ]
    assert await bot.followed(500) is None


async def test_guild_settings_that_cannot_be_saved_apply_until_a_restart(
    failing_library: tuple[CableLibrary, Settings], caplog: pytest.LogCaptureFixture
) -> None:
    library, settings = failing_library
    cache = GuildSettingsCache(library)
    await cache.set(300, GuildSettings(passive=False))
    assert await cache.get(300) == GuildSettings(passive=False)
    assert await library.get_guild_settings(300) == {}
    assert _warnings(caplog) == [
        f"guild 300: the settings apply but are not saved: {settings.store_file}:"
        " the store is read-only"
    ]
