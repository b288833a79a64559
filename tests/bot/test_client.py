"""bot.client and `cablebot run`: intents, mentions, cogs, and a token Discord rejects."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest
from pytest_httpserver import HTTPServer

from bot.cli import main
from bot.client import Cablebot
from bot.config import Settings


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_bot_never_pings_and_follows_the_intent_setting() -> None:
    on = Cablebot(None, _settings(), sync_commands=False)  # type: ignore[arg-type]
    off = Cablebot(None, _settings(message_content=False), sync_commands=False)  # type: ignore[arg-type]
    assert on.allowed_mentions is not None and on.allowed_mentions.to_dict() == {"parse": []}
    assert on.intents.message_content and not off.intents.message_content


async def test_setup_hook_loads_every_feature() -> None:
    bot = Cablebot(None, _settings(), sync_commands=False)  # type: ignore[arg-type]
    await bot.setup_hook()
    assert set(bot.cogs) == {"Passive", "Follow", "Slash", "Search", "Settings"}
    names = {c.name for c in bot.tree.get_commands()}
    assert {"cable", "cite", "search", "hashtags", "cablebot", "Resolve cables"} <= names
    # Buttons of messages sent before a restart still find their handler.
    patterns = bot._connection._view_store._dynamic_items
    for custom_id in (
        "cablebot:par:0:09OSLO777:3",
        "cablebot:cite:1:09OSLO777:2,3",
        "cablebot:del:42",
        "cablebot:find:42:2:ferry: contract",
    ):
        assert [p for p in patterns if p.fullmatch(custom_id)], custom_id


def test_run_with_a_rejected_token(
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    httpserver.expect_request("/api/v10/users/@me").respond_with_json(
        {"message": "401: Unauthorized", "code": 0}, status=401
    )
    monkeypatch.setattr(discord.http.Route, "BASE", httpserver.url_for("/api/v10"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CABLEBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DISCORD_TOKEN", "not.a.token")
    assert main(["run"]) == 1
    assert "Discord rejected the token" in capsys.readouterr().err
