"""bot.discord.client and `cablebot run`/`sync` against a Discord on 127.0.0.1, in subprocesses."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import discord
import pytest

from bot.config import Settings
from bot.discord.client import Cablebot
from bot.library.cables import CableLibrary
from tests.bot.fake_discord import LAUNCHER, MESSAGE_CONTENT, FakeDiscord, fake_discord


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
    assert set(bot.cogs) == {
        "Passive",
        "Follow",
        "Slash",
        "Search",
        "Discover",
        "Settings",
        "DailyPost",
        "Stats",
    }
    names = {c.name for c in bot.tree.get_commands()}
    assert {"cable", "cite", "search", "hashtags", "cablebot", "stats", "Resolve cables"} <= names
    assert {"browse", "related", "random", "onthisday"} <= names
    # Buttons of messages sent before a restart still find their handler.
    patterns = bot._connection._view_store._dynamic_items
    for custom_id in (
        "cablebot:par:0:09OSLO777:3",
        "cablebot:cite:1:09OSLO777:2,3",
        "cablebot:share:1:09OSLO777:2",
        "cablebot:del:42",
        "cablebot:find:42:2:ferry: contract",
        "cablebot:list:42:2",
        "cablebot:citedby:1:09OSLO777",
        "cablebot:citedby-page:09OSLO777:3",
    ):
        assert [p for p in patterns if p.fullmatch(custom_id)], custom_id


async def test_the_tree_is_published_again_only_when_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(data_dir=tmp_path, mirrors=())
    with fake_discord() as fake:
        monkeypatch.setattr(discord.http.Route, "BASE", fake.url + "/api/v10")
        async with await CableLibrary.open(settings) as library:
            for _ in range(2):  # a new store publishes; the same tree next time does not
                async with Cablebot(library, settings) as bot:
                    await bot.login("a.b.c")  # runs setup_hook
            assert fake.syncs == 1
            async with Cablebot(library, settings, sync_commands=False) as bot:
                await bot.login("a.b.c")
                bot.tree.remove_command("hashtags")
                assert await bot.sync_tree() is True
                assert await bot.sync_tree() is False
                assert await bot.sync_tree(force=True) is True
            assert fake.syncs == 3
            async with Cablebot(library, settings) as bot:  # back to the full tree
                await bot.login("a.b.c")
            assert fake.syncs == 4


def test_run_with_a_rejected_token(tmp_path: Path) -> None:
    with fake_discord(token_ok=False) as fake:
        done = subprocess.run(
            fake.command("run"),
            env=_env(tmp_path),
            cwd=tmp_path,
            **RUN,  # type: ignore[call-overload]
        )
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "cablebot: error: Discord rejected the token in DISCORD_TOKEN; "
        "copy it again from the Developer Portal"
    )
    assert "Traceback" not in done.stderr


def test_run_without_network(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    argv = [sys.executable, "-c", LAUNCHER, url, "run"]
    done = subprocess.run(argv, env=_env(tmp_path), cwd=tmp_path, **RUN)  # type: ignore[call-overload]
    assert done.returncode == 1
    last = done.stderr.splitlines()[-1]
    assert (
        last.startswith("cablebot: error: cannot reach Discord (") and "check the network" in last
    )
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_refused_message_content_intent_is_one_warning_then_the_bot_runs_without_it(
    tmp_path: Path,
) -> None:
    with fake_discord(refuse_message_content=True) as fake, _Bot(fake, tmp_path, "run") as bot:
        bot.wait_for("ready: serving Discord")
        assert [bool(i & MESSAGE_CONTENT) for i in fake.identifies] == [True, False]
        bot.process.send_signal(signal.SIGTERM)
        assert bot.process.wait(30) == 0
        # discord.py answers a close, and closes itself, with 4000 (a killed bot: 1006)
        assert fake.wait_closed(2) == [4000, 4000]
    warnings = [line for line in bot.lines if "Message Content" in line]
    assert len(warnings) == 1 and "running without it" in warnings[0]
    assert "Traceback" not in "".join(bot.lines)


@pytest.mark.slow
def test_after_the_first_connection_the_bot_reconnects_and_syncs_only_a_changed_tree(
    tmp_path: Path,
) -> None:
    with fake_discord() as fake, _Bot(fake, tmp_path, "run") as bot:
        bot.wait_for("ready: serving Discord")
        assert fake.syncs == 1  # a new store: the tree was never published
        fake.close_connections(4000)  # discord.py resumes this one itself
        bot.wait_for("successfully RESUMED")
        fake.close_connections(4004)  # this one makes Client.start raise: a new login
        bot.wait_for("lost the connection to Discord")
        bot.wait_for("ready: serving Discord")
        assert (len(fake.identifies), fake.resumes, fake.syncs) == (2, 1, 1)
        bot.process.send_signal(signal.SIGTERM)
        assert bot.process.wait(30) == 0
    assert "Traceback" not in "".join(bot.lines)
    with fake_discord() as fake, _Bot(fake, tmp_path, "run") as bot:  # same store, same tree
        bot.wait_for("ready: serving Discord")
        bot.process.send_signal(signal.SIGINT)
        assert bot.process.wait(30) == 130
    assert fake.syncs == 0
    assert "published" in (tmp_path / "cablebot.log").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_failed_sync_is_logged_and_the_bot_keeps_running(tmp_path: Path) -> None:
    with fake_discord(sync_status=403) as fake, _Bot(fake, tmp_path, "run") as bot:
        bot.wait_for("ready: serving Discord")
        bot.process.send_signal(signal.SIGTERM)
        assert bot.process.wait(30) == 0
    assert fake.syncs == 1
    failed = [line for line in bot.lines if "could not publish the slash commands" in line]
    assert len(failed) == 1 and "Forbidden" in failed[0]
    assert "Traceback" not in "".join(bot.lines)


@pytest.mark.slow
def test_sync_publishes_whatever_the_stored_hash_says(tmp_path: Path) -> None:
    with fake_discord() as fake:
        for _ in range(2):
            done = subprocess.run(
                fake.command("sync"),
                env=_env(tmp_path),
                cwd=tmp_path,
                **RUN,  # type: ignore[call-overload]
            )
            assert (done.returncode, done.stdout) == (0, "published 11 commands\n")
    assert fake.syncs == 2


RUN = {"capture_output": True, "text": True, "timeout": 60}


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CABLEBOT_")}
    return env | {
        "CABLEBOT_DATA_DIR": str(tmp_path),
        "CABLEBOT_MIRRORS": "",
        "DISCORD_TOKEN": "a.b.c",
    }


class _Bot:
    """`cablebot ARGS` against a FakeDiscord, its stderr read line by line as it comes."""

    def __init__(self, fake: FakeDiscord, tmp_path: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            fake.command(*args),
            env=_env(tmp_path),
            cwd=tmp_path,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._queue.put(line)

    def wait_for(self, text: str) -> str:
        """The next stderr line containing `text` (lines before it are kept in `lines`)."""
        while True:
            try:
                line = self._queue.get(timeout=60)
            except queue.Empty:
                pytest.fail(f"no {text!r} on stderr; so far:\n{''.join(self.lines)}")
            self.lines.append(line)
            if text in line:
                return line

    def __enter__(self) -> _Bot:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)
        while not self._queue.empty():
            self.lines.append(self._queue.get())
