"""CableLibrary: store first, mirror on a miss, then stored; one fetch for concurrent gets."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.answer import Reply, answer, failure_lines
from bot.config import Settings
from bot.library.cables import (
    CableLibrary,
    CableNotFound,
    LibraryError,
    MirrorUnavailable,
    NotACableResponse,
    StillFetching,
)
from bot.library.mirror import CableMirror
from bot.library.store import CableStore
from parsers.models import Cable
from tests.bot.conftest import CABLE_PATH
from tests.bot.library.helpers import make_cable, site_page


def settings_for(tmp_path: Path, server: HTTPServer | None = None, **extra: object) -> Settings:
    """Settings for a library on `server`, with a month index of our fixture IDs."""
    months = tmp_path / "fixture-months.csv.gz"
    months.write_bytes(gzip.compress(b"10ATLANTIS17,2\n09ATLANTIS5,11\n08X1,1\n"))
    mirrors = (
        f"http://127.0.0.1:{server.port}/cable/{{year}}/{{month}}/{{ref_id}}.html" if server else ""
    )
    values: dict[str, object] = {
        "data_dir": tmp_path,
        "mirrors": mirrors,
        "month_index": months,
        "retries": 1,
        "retry_backoff": 0.01,
        "total_timeout": 2.0,
    }
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def library(tmp_path: Path, server: HTTPServer) -> AsyncIterator[CableLibrary]:
    async with await CableLibrary.open(settings_for(tmp_path, server)) as lib:
        yield lib


def serve_atlantis(server: HTTPServer, delay: float = 0.0) -> None:
    real = {"10ATLANTIS17": ("2010", "02"), "09ATLANTIS5": ("2009", "11")}

    def handle(request: Request) -> Response:
        time.sleep(delay)
        match = CABLE_PATH.fullmatch(request.path)
        if match and real.get(match.group(3)) == match.groups()[:2]:
            return Response(site_page(match.group(3)), content_type="text/html")
        return Response("no", status=404)

    server.expect_request(CABLE_PATH).respond_with_handler(handle)


async def test_store_only_library(tmp_path: Path) -> None:
    store = await CableStore.open(tmp_path / "c.db")
    async with CableLibrary(store, None) as lib:
        await store.put([make_cable("10ATLANTIS1", refs=("10ATLANTIS2",))])
        assert (await lib.get(" 10atlantis1 ")).ref_id == "10ATLANTIS1"
        with pytest.raises(CableNotFound, match="10ATLANTIS2 is not in the cable library"):
            await lib.get("10ATLANTIS2")
        assert await lib.cited_by("10atlantis2") == ["10ATLANTIS1"]
        assert await lib.cites("10ATLANTIS1") == ["10ATLANTIS2"]


@pytest.mark.parametrize("typed", ["", "hello", "../../etc/passwd", "10ATLANTIS1?x=1", "1" * 80])
async def test_things_that_are_not_ids_are_refused_without_a_request(
    library: CableLibrary, server: HTTPServer, typed: str
) -> None:
    with pytest.raises(CableNotFound, match="not a cable reference ID"):
        await library.get(typed)
    assert server.log == []


async def test_miss_then_fetch_then_hit(library: CableLibrary, server: HTTPServer) -> None:
    serve_atlantis(server)
    first = await library.get("10ATLANTIS17")
    requests = len(server.log)
    assert requests == 1  # the month index gave the month
    again = await library.get("10ATLANTIS17")
    assert again == first
    assert len(server.log) == requests
    stats = await library.stats()
    assert (stats.cables, stats.paragraphs) == (1, len(first.paragraphs))
    assert await library.cites("10ATLANTIS17") == ["09ATLANTIS5", "10STATE1234"]
    assert [h.ref_id for h in await library.search("lighthouse keeper")] == ["10ATLANTIS17"]


async def test_fifty_concurrent_gets_make_one_request(
    library: CableLibrary, server: HTTPServer
) -> None:
    serve_atlantis(server, delay=0.2)
    cables = await asyncio.gather(*(library.get("10ATLANTIS17") for _ in range(50)))
    assert {c.ref_id for c in cables} == {"10ATLANTIS17"}
    assert len(server.log) == 1


async def test_a_cancelled_caller_does_not_cancel_the_fetch_for_others(
    library: CableLibrary, server: HTTPServer
) -> None:
    serve_atlantis(server, delay=0.2)
    impatient = asyncio.create_task(library.get("10ATLANTIS17"))
    patient = asyncio.create_task(library.get("10ATLANTIS17"))
    await asyncio.sleep(0.05)
    impatient.cancel()
    assert (await patient).ref_id == "10ATLANTIS17"
    assert len(server.log) == 1


async def test_month_index_answers_unpublished_ids_without_a_request(
    library: CableLibrary, server: HTTPServer
) -> None:
    serve_atlantis(server)
    with pytest.raises(CableNotFound, match="10ATLANTIS99 is not a published cable"):
        await library.get("10ATLANTIS99")
    assert server.log == []
    assert (await library.get("10ATLANTIS17")).ref_id == "10ATLANTIS17"
    assert len(server.log) == 1


async def test_mirror_failures_become_user_facing_errors(
    tmp_path: Path, server: HTTPServer
) -> None:
    server.expect_request("/cable/2010/02/10ATLANTIS17.html").respond_with_data("x", status=503)
    server.expect_request("/cable/2009/11/09ATLANTIS5.html").respond_with_data(
        "<html><body>maintenance</body></html>"
    )
    server.expect_request(CABLE_PATH).respond_with_data("", status=404)
    async with await CableLibrary.open(settings_for(tmp_path, server)) as lib:
        with pytest.raises(MirrorUnavailable, match="unreachable") as unreachable:
            await lib.get("10ATLANTIS17")
        with pytest.raises(NotACableResponse, match="09ATLANTIS5") as bad:
            await lib.get("09ATLANTIS5")
        with pytest.raises(CableNotFound, match="08X1 is not a published cable"):
            await lib.get("08X1")
    for error in (unreachable.value, bad.value):
        assert isinstance(error, LibraryError)
        assert "http" not in str(error)  # details stay in __cause__, not in the user's message


async def test_open_loads_the_month_index_file(tmp_path: Path) -> None:
    index = tmp_path / "months.csv.gz"
    index.write_bytes(gzip.compress(b"10ATLANTIS17,2\n09ATLANTIS5,11\n"))
    async with await CableLibrary.open(settings_for(tmp_path, month_index=index)) as lib:
        assert lib.months is not None and len(lib.months) == 2
        assert await lib.complete_ids("09") == ["09ATLANTIS5"]
        assert lib.mirror is None


async def test_guild_settings_and_empty_search(library: CableLibrary) -> None:
    await library.set_guild_settings(7, {"auto_detect": ["123"], "cooldown": 10})
    assert await library.get_guild_settings(7) == {"auto_detect": ["123"], "cooldown": 10}
    assert await library.search('"') == []


async def test_open_uses_the_configured_store_path(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "my.db"
    async with await CableLibrary.open(settings_for(tmp_path, store_path=path)) as lib:
        assert lib.store.path == path
    assert path.exists()


def test_library_works_from_a_thread_free_event_loop(tmp_path: Path) -> None:
    """Opening and closing in asyncio.run leaves no thread behind."""
    before = threading.active_count()

    async def go() -> None:
        async with await CableLibrary.open(settings_for(tmp_path)) as lib:
            assert lib.mirror is None  # CABLEBOT_MIRRORS= (empty): the store only
            assert (await lib.stats()).cables == 0

    asyncio.run(go())
    assert threading.active_count() <= before


class Blackhole:
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""

    def __init__(self) -> None:
        self.accepted = 0
        self.port = 0

    async def hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        await reader.read()  # until the client gives up and closes
        writer.close()

    def template(self) -> str:
        return f"http://127.0.0.1:{self.port}/cable/{{year}}/{{month}}/{{ref_id}}.html"


@pytest.fixture
async def blackhole() -> AsyncIterator[Blackhole]:
    hole = Blackhole()
    srv = await asyncio.start_server(hole.hold, "127.0.0.1", 0)
    hole.port = srv.sockets[0].getsockname()[1]
    yield hole
    srv.close()
    await srv.wait_closed()


def kinds(reply: Reply) -> dict[str, str]:
    return {f.ref_id: f.kind for f in reply.failures}


async def test_a_blackhole_mirror_costs_one_deadline_then_nothing(
    tmp_path: Path, blackhole: Blackhole
) -> None:
    five = [f"10OSLO{n}" for n in range(1, 6)]
    mirror = CableMirror(
        (blackhole.template(),), total_timeout=60, per_host_concurrency=4, deadline=0.5
    )
    library = CableLibrary(await CableStore.open(tmp_path / "c.db"), mirror)
    host = f"127.0.0.1:{blackhole.port}"
    try:
        started = time.monotonic()
        first = await answer(library, " ".join(five))
        waited = time.monotonic() - started
        assert kinds(first) == dict.fromkeys(five, "pending")
        assert first.failures[0].error.startswith("still being fetched")
        assert waited < 0.5 + 10  # the deadline, not 41 s (the margin is for slow machines)
        assert library.fetching == set(five)  # handed to the background, not dropped
        assert mirror.breakers[host].state == "open"  # five missed deadlines
        assert 1 <= blackhole.accepted <= 4  # the per-host limit; no request was answered
        connections = blackhole.accepted

        mirror.deadline = 60.0  # the next message must not wait for any deadline
        started = time.monotonic()
        again = await answer(library, "10OSLO1 10OSLO6 10OSLO7")
        assert time.monotonic() - started < 10
        assert kinds(again) == dict.fromkeys(["10OSLO1", "10OSLO6", "10OSLO7"], "mirror")
        assert f"cable mirror ({host}) is unreachable" in again.failures[0].error
        await asyncio.sleep(0.2)  # a connection attempt, had there been one, would land now
        assert blackhole.accepted == connections
        assert library.fetching == set(five)
    finally:
        await library.close()
    assert library.fetching == set()  # cancelled and awaited: nothing left running


async def test_a_refused_mirror_answers_at_once_naming_the_cable(tmp_path: Path) -> None:
    with socket.socket() as sock:  # bound, then closed: nothing listens on this port
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mirror = CableMirror(
        (f"http://127.0.0.1:{port}/cable/{{year}}/{{month}}/{{ref_id}}.html",),
        retries=3,
        retry_backoff=30,  # a retry would blow the deadline below
        deadline=20,
    )
    async with CableLibrary(await CableStore.open(tmp_path / "c.db"), mirror) as library:
        started = time.monotonic()
        reply = await answer(library, "10OSLO1 and 10OSLO2")
        assert time.monotonic() - started < 10
        assert kinds(reply) == {"10OSLO1": "mirror", "10OSLO2": "mirror"}
        assert library.fetching == set()
    [line] = failure_lines(reply.failures)
    assert line.startswith("10OSLO1, 10OSLO2: not in the local store")
    assert "unreachable" in line


async def test_a_cable_that_arrives_after_the_deadline_is_stored(
    tmp_path: Path, server: HTTPServer
) -> None:
    release = threading.Event()

    def late(request: Request) -> Response:
        release.wait(10)
        return Response(site_page("10ATLANTIS17"), content_type="text/html")

    server.expect_request("/cable/2010/02/10ATLANTIS17.html").respond_with_handler(late)
    store = await CableStore.open(tmp_path / "c.db")

    async def february(ref_id: str) -> int | None:
        return 2 if ref_id == "10ATLANTIS17" else None

    mirror = CableMirror(
        (f"http://127.0.0.1:{server.port}/cable/{{year}}/{{month}}/{{ref_id}}.html",),
        deadline=0.2,
        month_of=february,
    )
    async with CableLibrary(store, mirror) as library:
        [first] = await library.get_many(["10ATLANTIS17"])
        assert isinstance(first, StillFetching)
        release.set()
        async with asyncio.timeout(10):
            while library.fetching:
                await asyncio.sleep(0.01)
        [again] = await library.get_many(["10ATLANTIS17"])
        assert isinstance(again, Cable) and again.ref_id == "10ATLANTIS17"
        assert len(server.log) == 1  # from the store: the background fetch kept it
