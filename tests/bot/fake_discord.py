"""A small Discord on 127.0.0.1 for `cablebot run` and `sync` in a subprocess.

It speaks the real protocol, as far as the bot needs: the REST calls of a login and of a command
sync, and a gateway (HELLO, IDENTIFY or RESUME, READY, heartbeats, close codes). The test drives
it (refuse the token or the Message Content intent, fail the sync, drop a connection) and
counts what the bot did.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

MESSAGE_CONTENT = 1 << 15
"""The Message Content intent's bit in IDENTIFY."""
APP_ID = 424242
USER = {
    "id": str(APP_ID),
    "username": "cablebot",
    "discriminator": "0",
    "avatar": None,
    "bot": True,
}

LAUNCHER = """
import sys
import discord.http, discord.gateway, yarl
discord.http.Route.BASE = sys.argv[1] + "/api/v10"
gateway = sys.argv[1].replace("http", "ws") + "/gateway"
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
from bot.cli import main
sys.exit(main(sys.argv[2:]))
"""
"""`python -c LAUNCHER URL ARGS...`: `cablebot ARGS...` talking to the Discord at URL."""


def _json(data: object, status: int = 200) -> web.Response:
    # discord.py reads a body as JSON only when the content type is exactly application/json.
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json"
    )


@dataclass
class FakeDiscord:
    """What the fake Discord does and what it saw."""

    token_ok: bool = True
    refuse_message_content: bool = False
    sync_status: int = 200
    identifies: list[int] = field(default_factory=list)
    """The intents of each IDENTIFY."""
    resumes: int = 0
    closed: list[int | None] = field(default_factory=list)
    """The close code of each gateway connection that ended (None: it was just cut)."""
    ended: threading.Condition = field(default_factory=threading.Condition)
    syncs: int = 0
    url: str = ""
    loop: asyncio.AbstractEventLoop | None = None
    sockets: list[web.WebSocketResponse] = field(default_factory=list)

    def command(self, *args: str) -> list[str]:
        """The argv of `cablebot ARGS` against this server."""
        return [sys.executable, "-c", LAUNCHER, self.url, *args]

    def wait_closed(self, count: int) -> list[int | None]:
        """The close codes, once `count` gateway connections have ended."""
        with self.ended:
            assert self.ended.wait_for(lambda: len(self.closed) >= count, timeout=30)
            return list(self.closed)

    def close_connections(self, code: int) -> None:
        """Close every open gateway connection with `code` (from the test's thread)."""
        assert self.loop is not None

        async def close() -> None:
            for ws in list(self.sockets):
                await ws.close(code=code)

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)

    def app(self) -> web.Application:
        routes = web.RouteTableDef()

        @routes.get("/api/v10/users/@me")
        async def me(request: web.Request) -> web.Response:
            if not self.token_ok:
                return _json({"message": "401: Unauthorized", "code": 0}, status=401)
            return _json(USER)

        @routes.get("/api/v10/oauth2/applications/@me")
        async def application(request: web.Request) -> web.Response:
            return _json(
                {
                    "id": str(APP_ID),
                    "name": "cablebot",
                    "description": "",
                    "icon": None,
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "owner": USER,
                    "verify_key": "0" * 64,
                    "flags": 0,
                }
            )

        @routes.put(f"/api/v10/applications/{APP_ID}/commands")
        async def sync(request: web.Request) -> web.Response:
            self.syncs += 1
            if self.sync_status != 200:
                return _json({"message": "no", "code": 50001}, status=self.sync_status)
            commands = await request.json()
            for n, command in enumerate(commands):
                command.setdefault("description", "")
                command |= {"id": str(1000 + n), "application_id": str(APP_ID), "version": "1"}
            return _json(commands)

        @routes.get("/api/v10/gateway/bot")
        async def gateway_bot(request: web.Request) -> web.Response:
            limits = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
            url = self.url.replace("http", "ws") + "/gateway"
            return _json({"url": url, "shards": 1, "session_start_limit": limits})

        @routes.get("/gateway")
        async def gateway(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            self.sockets.append(ws)
            await ws.send_json({"op": 10, "d": {"heartbeat_interval": 45_000}})
            seq = 0
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    break
                payload: dict[str, Any] = json.loads(message.data)
                if payload["op"] == 1:
                    await ws.send_json({"op": 11})
                elif payload["op"] == 2:
                    intents = int(payload["d"]["intents"])
                    self.identifies.append(intents)
                    if self.refuse_message_content and intents & MESSAGE_CONTENT:
                        await ws.close(code=4014)
                        break
                    seq += 1
                    shard = payload["d"].get("shard", [0, 1])  # a sharded bot names its shard
                    ready = self._ready() | {"shard": shard}
                    await ws.send_json({"op": 0, "t": "READY", "s": seq, "d": ready})
                elif payload["op"] == 6:
                    self.resumes += 1
                    seq += 1
                    await ws.send_json({"op": 0, "t": "RESUMED", "s": seq, "d": {}})
            self.sockets.remove(ws)
            with self.ended:
                self.closed.append(ws.close_code)
                self.ended.notify_all()
            return ws

        app = web.Application()
        app.add_routes(routes)
        return app

    def _ready(self) -> dict[str, Any]:
        return {
            "v": 10,
            "user": USER,
            "guilds": [],
            "session_id": f"session{len(self.identifies)}",
            "resume_gateway_url": self.url.replace("http", "ws") + "/gateway",
            "shard": [0, 1],
            "application": {"id": str(APP_ID), "flags": 0},
        }


@contextmanager
def fake_discord(**options: Any) -> Iterator[FakeDiscord]:
    """Serve a FakeDiscord on 127.0.0.1 from a thread for the duration of the block."""
    fake = FakeDiscord(**options)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    runner = web.AppRunner(fake.app())

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        fake.url, fake.loop = f"http://127.0.0.1:{port}", loop
        started.set()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True, name="fake-discord")
    thread.start()
    started.wait(10)
    try:
        yield fake
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
