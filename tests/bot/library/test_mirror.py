"""CableMirror against real HTTP servers on 127.0.0.1: the cable site's layout and its failures."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.config import Settings
from bot.library.mirror import (
    CableMirror,
    MirrorBadResponse,
    MirrorHostDown,
    MirrorNotFound,
    MirrorUnreachable,
    retry_after,
    year_of,
)
from tests.bot.conftest import CABLE_PATH
from tests.bot.library.helpers import site_page


def template(server: HTTPServer, path: str = "/cable/{year}/{month}/{ref_id}.html") -> str:
    return f"http://127.0.0.1:{server.port}{path}"


def make_mirror(server: HTTPServer, *templates: str, **options: Any) -> CableMirror:
    settings: dict[str, Any] = {  # timeouts no busy machine reaches; tests of them set their own
        "connect_timeout": 10.0,
        "total_timeout": 30.0,
        "retries": 2,
        "retry_backoff": 0.01,
        "max_retry_after": 5.0,
    }
    settings.update(options)
    return CableMirror(templates or (template(server),), **settings)


def months(mapping: dict[str, int]) -> Callable[[str], Any]:
    async def lookup(ref_id: str) -> int | None:
        return mapping.get(ref_id)

    return lookup


def fixture_site(server: HTTPServer, pages: dict[str, tuple[str, str]]) -> None:
    """Serve our fixture pages at /cable/YYYY/MM/ID.html (their real month only)."""

    def handle(request: Request) -> Response:
        match = CABLE_PATH.fullmatch(request.path)
        if match and pages.get(match.group(3)) == (match.group(1), match.group(2)):
            return Response(site_page(match.group(3)), content_type="text/html; charset=utf-8")
        return Response("not here", status=404)

    server.expect_request(CABLE_PATH, method="GET").respond_with_handler(handle)


ATLANTIS = {"10ATLANTIS17": ("2010", "02"), "09ATLANTIS5": ("2009", "11")}


@pytest.fixture
async def mirror(server: HTTPServer) -> AsyncIterator[CableMirror]:
    fixture_site(server, ATLANTIS)
    client = make_mirror(server, month_of=months({"10ATLANTIS17": 2}))
    yield client
    await client.close()


@pytest.fixture(scope="module")
def corpus_months(corpus_pages: Path, month_index: Path) -> dict[str, int]:
    wanted = {p.stem for p in corpus_pages.glob("*.html")}
    found: dict[str, int] = {}
    with gzip.open(month_index, "rt") as lines:
        for line in lines:
            ref_id, _, month = line.strip().partition(",")
            if ref_id in wanted:
                found[ref_id] = int(month)
    return found


async def test_fetches_real_pages_from_a_local_mirror(
    server: HTTPServer, corpus_pages: Path, corpus_months: dict[str, int]
) -> None:
    def handle(request: Request) -> Response:
        match = CABLE_PATH.fullmatch(request.path)
        assert match is not None
        year, month, ref_id = match.groups()
        page = corpus_pages / f"{ref_id}.html"
        if not page.exists() or (year_of(ref_id), corpus_months[ref_id]) != (int(year), int(month)):
            return Response("no", status=404)
        return Response(page.read_bytes(), content_type="text/html; charset=utf-8")

    server.expect_request(CABLE_PATH).respond_with_handler(handle)
    client = make_mirror(server, month_of=months(corpus_months))
    sample = sorted(corpus_months)[::40]
    try:
        for ref_id in sample:
            cable = await client.fetch(ref_id)
            assert cable.ref_id == ref_id
            assert cable.created is not None and cable.created.month == corpus_months[ref_id]
            assert cable.paragraphs or cable.body
    finally:
        await client.close()
    assert len(server.log) == len(sample)


async def test_hit_and_404(mirror: CableMirror, server: HTTPServer) -> None:
    cable = await mirror.fetch("10ATLANTIS17")
    assert cable.subject.startswith("ATLANTIS: HARBOUR MASTER ELECTION")
    assert cable.references == ("09ATLANTIS5", "10STATE1234")
    with pytest.raises(MirrorNotFound):
        await mirror.fetch("10ATLANTIS999")


class FakeClock:
    """Monotonic seconds that move only when a test moves them."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    """An `asyncio.sleep` stand-in that records the waits asked for and does not wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


async def test_404_is_remembered_until_the_ttl_passes(server: HTTPServer) -> None:
    fixture_site(server, ATLANTIS)
    clock = FakeClock()
    client = make_mirror(
        server, month_of=months({"10ATLANTIS999": 4}), not_found_ttl=300, clock=clock
    )
    try:
        for _ in range(3):
            with pytest.raises(MirrorNotFound):
                await client.fetch("10ATLANTIS999")
        assert len(server.log) == 1
        with pytest.raises(MirrorNotFound, match=r"^10ATLANTIS999 .* \(cached\)$"):
            await client.fetch("10ATLANTIS999")
        clock.now += 299.9
        with pytest.raises(MirrorNotFound):
            await client.fetch("10ATLANTIS999")
        assert len(server.log) == 1
        clock.now += 0.1
        with pytest.raises(MirrorNotFound):
            await client.fetch("10ATLANTIS999")
        assert len(server.log) == 2
    finally:
        await client.close()


async def test_unknown_month_is_probed_once_then_remembered(server: HTTPServer) -> None:
    fixture_site(server, ATLANTIS)
    remembered: dict[str, int] = {}

    async def remember(ref_id: str, month: int) -> None:
        remembered[ref_id] = month

    def asked(path: str) -> list[str]:
        # Probes cancelled once month 11 answered may still reach the threaded server later:
        # count requests by the path they asked for, not by their order or total.
        return [entry[0].path for entry in server.log if entry[0].path.endswith(path)]

    client = make_mirror(server, month_of=months({}), remember_month=remember)
    try:
        cable = await client.fetch("09ATLANTIS5")
        assert cable.ref_id == "09ATLANTIS5"
        assert remembered == {"09ATLANTIS5": 11}
        assert asked("/2009/11/09ATLANTIS5.html") == ["/cable/2009/11/09ATLANTIS5.html"]
        await client.fetch("09ATLANTIS5")
        assert len(asked("/2009/11/09ATLANTIS5.html")) == 2  # the remembered month, no probe
        with pytest.raises(MirrorNotFound):
            await client.fetch("09ATLANTIS6")
        probed = asked("/09ATLANTIS6.html")
        assert sorted(probed) == [f"/cable/2009/{m:02d}/09ATLANTIS6.html" for m in range(1, 13)]
    finally:
        await client.close()
    assert len(asked("/09ATLANTIS5.html")) <= 13  # each month of 2009 at most once, then 11 again


async def test_plusd_template_is_used_when_the_month_is_unknown(server: HTTPServer) -> None:
    server.expect_request("/plusd/cables/09ATLANTIS5_a.html").respond_with_data(
        site_page("09ATLANTIS5"), content_type="text/html"
    )
    plusd = template(server, "/plusd/cables/{ref_id}_a.html")
    client = make_mirror(server, template(server), plusd, month_of=months({}))
    try:
        assert (await client.fetch("09ATLANTIS5")).ref_id == "09ATLANTIS5"
        assert [entry[0].path for entry in server.log] == ["/plusd/cables/09ATLANTIS5_a.html"]
    finally:
        await client.close()


def flaky(statuses: list[tuple[int, dict[str, str]]], ref_id: str) -> Callable[[Request], Response]:
    """A handler answering the given statuses first, then the page."""
    calls = iter(statuses)

    def handle(request: Request) -> Response:
        status, headers = next(calls, (200, {}))
        if status == 200:
            return Response(site_page(ref_id), content_type="text/html")
        return Response("busy", status=status, headers=headers)

    return handle


async def test_500_then_success(server: HTTPServer) -> None:
    server.expect_request(CABLE_PATH).respond_with_handler(flaky([(500, {})], "10ATLANTIS17"))
    client = make_mirror(server, month_of=months({"10ATLANTIS17": 2}))
    try:
        assert (await client.fetch("10ATLANTIS17")).ref_id == "10ATLANTIS17"
        assert len(server.log) == 2
    finally:
        await client.close()


async def test_persistent_5xx_gives_up_after_the_retries(server: HTTPServer) -> None:
    server.expect_request(CABLE_PATH).respond_with_data("down", status=503)
    client = make_mirror(server, month_of=months({"10ATLANTIS17": 2}), retries=3)
    try:
        with pytest.raises(MirrorUnreachable, match="503") as failed:
            await client.fetch("10ATLANTIS17")
        assert len(server.log) == 4
        host = f"{server.host}:{server.port}"
        assert str(failed.value) == f"{host} answered HTTP 503 after 3 retries"
    finally:
        await client.close()


async def test_429_waits_for_retry_after(server: HTTPServer) -> None:
    handler = flaky([(429, {"Retry-After": "4"})], "10ATLANTIS17")
    server.expect_request(CABLE_PATH).respond_with_handler(handler)
    sleeps = Sleeps()
    client = make_mirror(server, month_of=months({"10ATLANTIS17": 2}), sleep=sleeps)
    try:
        assert (await client.fetch("10ATLANTIS17")).ref_id == "10ATLANTIS17"
        assert sleeps.waits == [4.0]
        assert len(server.log) == 2
    finally:
        await client.close()


async def test_429_asking_too_long_a_wait_fails_fast(server: HTTPServer) -> None:
    server.expect_request(CABLE_PATH).respond_with_data(
        "", status=429, headers={"Retry-After": "3600"}
    )
    sleeps = Sleeps()
    client = make_mirror(server, month_of=months({"10ATLANTIS17": 2}), sleep=sleeps)
    try:
        with pytest.raises(MirrorUnreachable, match="3600"):
            await client.fetch("10ATLANTIS17")
        assert sleeps.waits == []
        assert len(server.log) == 1
    finally:
        await client.close()


class Release:
    """Lets the stalled requests go, and waits until the server has logged their answers: a
    request answered later would land in the next test's log."""

    def __init__(self, server: HTTPServer, calls: list[str]) -> None:
        self.event = threading.Event()
        self.server, self.calls = server, calls

    def set(self) -> None:
        self.event.set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            logged = Counter(request.path for request, _ in self.server.log)
            if not Counter(self.calls) - logged:
                return
            time.sleep(0.01)


async def test_a_stalled_server_times_out(server: HTTPServer) -> None:
    calls: list[str] = []
    release = Release(server, calls)

    def stall(request: Request) -> Response:
        calls.append(request.path)
        release.event.wait(5)
        return Response(site_page("10ATLANTIS17"))

    server.expect_request(CABLE_PATH).respond_with_handler(stall)
    sleeps = Sleeps()
    client = make_mirror(
        server, month_of=months({"10ATLANTIS17": 2}), total_timeout=0.3, sleep=sleeps
    )
    try:
        with pytest.raises(MirrorUnreachable, match="timeout"):
            await client.fetch("10ATLANTIS17")
        assert calls == ["/cable/2010/02/10ATLANTIS17.html"]  # a timeout is not retried
        assert sleeps.waits == []
    finally:
        release.set()
        await client.close()


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[bytes], str]]:
    """A TCP server answering every connection with fixed bytes, then closing it."""
    answer = [b""]

    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer[0])
        await writer.drain()
        writer.close()

    srv = await asyncio.start_server(respond, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]

    def serve(data: bytes) -> str:
        answer[0] = data
        return f"http://127.0.0.1:{port}/cable/{{year}}/{{month}}/{{ref_id}}.html"

    yield serve
    srv.close()
    await srv.wait_closed()


async def test_a_connection_cut_mid_page_is_unreachable(raw_server: Callable[[bytes], str]) -> None:
    page = site_page("10ATLANTIS17").encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(page)}\r\n\r\n".encode()
    url = raw_server(head + page[: len(page) // 2])
    client = CableMirror(
        (url,), retries=1, retry_backoff=0.01, month_of=months({"10ATLANTIS17": 2})
    )
    try:
        with pytest.raises(MirrorUnreachable):
            await client.fetch("10ATLANTIS17")
    finally:
        await client.close()


async def test_a_truncated_page_is_not_a_cable(server: HTTPServer) -> None:
    page = site_page("10ATLANTIS17")
    server.expect_request(CABLE_PATH).respond_with_data(page[: len(page) * 2 // 3])
    client = make_mirror(server, month_of=months({"10ATLANTIS17": 2}))
    try:
        with pytest.raises(MirrorBadResponse, match="truncated"):
            await client.fetch("10ATLANTIS17")
    finally:
        await client.close()


async def test_a_declared_size_over_the_cap_is_refused(server: HTTPServer) -> None:
    server.expect_request("/cable/2010/02/10ATLANTIS17.html").respond_with_data("x" * 300_000)
    client = make_mirror(server, month_of=months({"10ATLANTIS17": 2}), max_response_bytes=100_000)
    try:
        with pytest.raises(MirrorBadResponse, match="300000 bytes"):
            await client.fetch("10ATLANTIS17")
    finally:
        await client.close()


@pytest.mark.parametrize(("extra", "fits"), [(0, True), (1, False)])
async def test_the_size_cap_of_a_chunked_body_is_exact(
    server: HTTPServer, extra: int, fits: bool
) -> None:
    """A page of exactly the cap is read; one byte more is refused (no Content-Length)."""
    cap = 100_000
    page = site_page("09ATLANTIS5").encode()
    head, rest = page.split(b"<body>", 1)
    padding = b"<!--" + b"-" * (cap - len(page) - len(b"<!---->") + extra) + b"-->"
    body = head + b"<body>" + padding + rest
    assert len(body) == cap + extra

    def chunked(request: Request) -> Response:
        return Response(
            (body[i : i + 4096] for i in range(0, len(body), 4096)), content_type="text/html"
        )

    server.expect_request("/cable/2009/11/09ATLANTIS5.html").respond_with_handler(chunked)
    client = make_mirror(server, month_of=months({"09ATLANTIS5": 11}), max_response_bytes=cap)
    try:
        if fits:
            assert (await client.fetch("09ATLANTIS5")).ref_id == "09ATLANTIS5"
        else:
            with pytest.raises(MirrorBadResponse, match=f"larger than {cap} bytes"):
                await client.fetch("09ATLANTIS5")
    finally:
        await client.close()
    [(_, response)] = server.log
    assert "Content-Length" not in response.headers


async def test_redirects_stay_within_the_configured_hosts(server: HTTPServer) -> None:
    moved = "/cable/2010/02/10ATLANTIS17.html"
    server.expect_request("/cable/2010/01/10ATLANTIS17.html").respond_with_data(
        "", status=301, headers={"Location": moved}
    )
    server.expect_request(moved).respond_with_data(site_page("10ATLANTIS17"))
    server.expect_request("/cable/2009/11/09ATLANTIS5.html").respond_with_data(
        "", status=302, headers={"Location": f"http://localhost:{server.port}/evil.html"}
    )
    client = make_mirror(server, month_of=months({"10ATLANTIS17": 1, "09ATLANTIS5": 11}))
    try:
        assert (await client.fetch("10ATLANTIS17")).ref_id == "10ATLANTIS17"
        with pytest.raises(MirrorBadResponse, match="another host"):
            await client.fetch("09ATLANTIS5")
        assert all(entry[0].path != "/evil.html" for entry in server.log)
    finally:
        await client.close()


async def test_a_page_that_is_not_a_cable(server: HTTPServer) -> None:
    server.expect_request("/cable/2010/02/10ATLANTIS17.html").respond_with_data(
        "<html><body><h1>Donate!</h1></body></html>", content_type="text/html"
    )
    server.expect_request("/cable/2009/11/09ATLANTIS5.html").respond_with_data(
        site_page("10ATLANTIS17"), content_type="text/html"
    )
    client = make_mirror(server, month_of=months({"10ATLANTIS17": 2, "09ATLANTIS5": 11}))
    try:
        with pytest.raises(MirrorBadResponse, match="not a cable"):
            await client.fetch("10ATLANTIS17")
        with pytest.raises(MirrorBadResponse, match="not 09ATLANTIS5"):
            await client.fetch("09ATLANTIS5")
    finally:
        await client.close()


async def test_concurrency_per_host_is_limited(server: HTTPServer) -> None:
    lock = threading.Lock()
    active, peak = 0, 0
    together = threading.Barrier(3, timeout=10)  # holds requests until 3 are in at once

    def slow(request: Request) -> Response:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        together.wait()
        with lock:
            active -= 1
        return Response("gone", status=404)

    server.expect_request(CABLE_PATH).respond_with_handler(slow)
    ids = {f"10ATLANTIS{i}": 2 for i in range(100, 112)}
    client = make_mirror(server, month_of=months(ids), per_host_concurrency=3)
    try:
        results = await asyncio.gather(*(client.fetch(i) for i in ids), return_exceptions=True)
    finally:
        await client.close()
    assert all(isinstance(r, MirrorNotFound) for r in results)
    assert len(server.log) == 12
    assert peak == 3


def closed_port() -> int:
    """A port on 127.0.0.1 that this test bound and closed: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_a_refused_connection_opens_the_breaker_at_once() -> None:
    port = closed_port()
    sleeps = Sleeps()
    client = CableMirror(
        (f"http://127.0.0.1:{port}/cable/{{year}}/{{month}}/{{ref_id}}.html",),
        retries=3,
        sleep=sleeps,
        month_of=months({"10ATLANTIS17": 2, "09ATLANTIS5": 11}),
    )
    try:
        with pytest.raises(MirrorUnreachable, match="ConnectError"):
            await client.fetch("10ATLANTIS17")
        assert sleeps.waits == []  # not retried: the host is down
        assert client.breakers[f"127.0.0.1:{port}"].state == "open"
        assert client.down
        with pytest.raises(MirrorHostDown, match="skipped"):
            await client.fetch("09ATLANTIS5")
    finally:
        await client.close()


def stalling(server: HTTPServer) -> tuple[list[str], Release]:
    """Every request waits (until released) before it gets a 404; returns the paths asked."""
    calls: list[str] = []
    release = Release(server, calls)

    def stall(request: Request) -> Response:
        calls.append(request.path)
        release.event.wait(10)
        return Response("gone", status=404)

    server.expect_request(CABLE_PATH).respond_with_handler(stall)
    return calls, release


async def test_three_timeouts_in_a_row_open_the_breaker(server: HTTPServer) -> None:
    calls, release = stalling(server)
    ids = {f"10ATLANTIS{i}": 2 for i in range(1, 6)}
    client = make_mirror(server, month_of=months(ids), total_timeout=0.2, breaker_failures=3)
    host = f"127.0.0.1:{server.port}"
    try:
        for ref_id in list(ids)[:2]:
            with pytest.raises(MirrorUnreachable, match="timeout"):
                await client.fetch(ref_id)
        assert client.breakers[host].state == "closed"
        with pytest.raises(MirrorUnreachable, match="timeout"):
            await client.fetch("10ATLANTIS3")
        assert client.breakers[host].state == "open"
        with pytest.raises(MirrorHostDown):
            await client.fetch("10ATLANTIS4")
        assert len(calls) == 3
    finally:
        release.set()
        await client.close()


async def test_missed_deadlines_count_against_the_host_being_asked(server: HTTPServer) -> None:
    calls, release = stalling(server)
    ids = {f"10ATLANTIS{i}": 2 for i in range(1, 4)}
    client = make_mirror(server, month_of=months(ids), total_timeout=30, breaker_failures=3)
    host = f"127.0.0.1:{server.port}"
    try:
        client.missed_deadline("10ATLANTIS1")  # nothing is being asked for it: not counted
        tasks = [asyncio.ensure_future(client.fetch(ref_id)) for ref_id in ids]
        async with asyncio.timeout(10):
            while len(calls) < 3:  # all three are being asked
                await asyncio.sleep(0.01)
        for ref_id in list(ids)[:2]:
            client.missed_deadline(ref_id)
        assert client.breakers[host].state == "closed"
        client.missed_deadline("10ATLANTIS3")
        assert client.breakers[host].state == "open"
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        release.set()
        await client.close()


async def test_404s_do_not_open_the_breaker(server: HTTPServer) -> None:
    server.expect_request(CABLE_PATH).respond_with_data("gone", status=404)
    ids = {f"10ATLANTIS{i}": 2 for i in range(1, 11)}
    client = make_mirror(server, month_of=months(ids), breaker_failures=1)
    try:
        for ref_id in ids:
            with pytest.raises(MirrorNotFound):
                await client.fetch(ref_id)
        assert client.breakers[f"127.0.0.1:{server.port}"].state == "closed"
        assert len(server.log) == 10
    finally:
        await client.close()


async def test_after_the_cooldown_one_probe_closes_the_breaker(server: HTTPServer) -> None:
    fixture_site(server, ATLANTIS)
    clock = FakeClock()
    client = make_mirror(
        server,
        month_of=months({"10ATLANTIS17": 2, "09ATLANTIS5": 11}),
        breaker_cooldown=60,
        clock=clock,
    )
    breaker = client.breakers[f"127.0.0.1:{server.port}"]
    try:
        breaker.failed(at_once=True)  # as a refused connection would
        with pytest.raises(MirrorHostDown):
            await client.fetch("10ATLANTIS17")
        assert server.log == []
        clock.now += 60
        assert breaker.state == "half-open"
        assert (await client.fetch("10ATLANTIS17")).ref_id == "10ATLANTIS17"
        assert breaker.state == "closed"
        assert (await client.fetch("09ATLANTIS5")).ref_id == "09ATLANTIS5"
        assert len(server.log) == 2
    finally:
        await client.close()


def test_bad_templates_are_refused() -> None:
    with pytest.raises(ValueError, match="ref_id"):
        CableMirror(("https://example.org/cable.html",))
    with pytest.raises(ValueError, match="http"):
        CableMirror(("ftp://example.org/{ref_id}",))
    with pytest.raises(
        ValueError, match=r"^no mirror URL templates configured \(CABLEBOT_MIRRORS\)$"
    ):
        CableMirror(())


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5.0), (None, None), ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_values(value: str | None, expected: float | None) -> None:
    assert retry_after(value) == expected


def test_retry_after_http_date_in_the_future() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    wait = retry_after(later)
    assert wait is not None and 85 < wait <= 90


@pytest.mark.parametrize(
    ("ref_id", "year"),
    [("08MEXICO2498", 2008), ("66BUENOSAIRES2481", 1966), ("99STATE1", 1999), ("X", None)],
)
def test_year_of(ref_id: str, year: int | None) -> None:
    assert year_of(ref_id) == year


def test_from_settings_passes_every_setting_on() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        mirrors=("http://one.example/{ref_id}", "https://two.example/c/{ref_id}.html"),
        connect_timeout=1.5,
        total_timeout=7.0,
        max_response_bytes=12_345,
        per_host_concurrency=3,
        retries=2,
        retry_backoff=0.25,
        max_retry_after=9.0,
        max_redirects=4,
        not_found_ttl=99.0,
        mirror_failures=6,
        mirror_cooldown=42.0,
        answer_deadline=3.5,
    )

    async def month_of(ref_id: str) -> int | None:
        return None

    async def remember(ref_id: str, month: int) -> None:
        return None

    mirror = CableMirror.from_settings(settings, month_of, remember)
    assert mirror.templates == settings.mirrors
    assert (mirror.total_timeout, mirror.max_response_bytes, mirror.retries) == (7.0, 12_345, 2)
    assert (mirror.retry_backoff, mirror.max_retry_after, mirror.max_redirects) == (0.25, 9.0, 4)
    assert (mirror.not_found_ttl, mirror.deadline) == (99.0, 3.5)
    assert (mirror._connect_timeout, mirror._per_host) == (1.5, 3)
    assert mirror._month_of is month_of and mirror._remember_month is remember
    assert {(b.failures, b.cooldown) for b in mirror.breakers.values()} == {(6, 42.0)}
    assert len(mirror.breakers) == 2


async def test_a_failing_month_does_not_end_the_probe(server: HTTPServer) -> None:
    def handle(request: Request) -> Response:
        match = CABLE_PATH.fullmatch(request.path)
        if match and match.group(2) == "03":
            return Response("down", status=503)
        if match and (match.group(2), match.group(3)) == ("11", "09ATLANTIS5"):
            return Response(site_page("09ATLANTIS5"), content_type="text/html; charset=utf-8")
        return Response("not here", status=404)

    server.expect_request(CABLE_PATH).respond_with_handler(handle)
    client = make_mirror(server, month_of=months({}), retries=0)
    try:
        assert (await client.fetch("09ATLANTIS5")).ref_id == "09ATLANTIS5"  # March failed
        with pytest.raises(MirrorUnreachable, match="503"):
            await client.fetch("09ATLANTIS6")  # in no other month: March's failure is said
    finally:
        await client.close()


async def test_410_gone_is_not_found(server: HTTPServer) -> None:
    server.expect_request(CABLE_PATH).respond_with_data("gone", status=410)
    client = make_mirror(server, month_of=months({"10ATLANTIS17": 2}))
    try:
        with pytest.raises(MirrorNotFound):
            await client.fetch("10ATLANTIS17")
        assert len(server.log) == 1
    finally:
        await client.close()


async def test_5xx_retries_wait_twice_as_long_each_time(server: HTTPServer) -> None:
    server.expect_request(CABLE_PATH).respond_with_data("down", status=503)
    sleeps = Sleeps()
    client = make_mirror(
        server, month_of=months({"10ATLANTIS17": 2}), retry_backoff=0.5, sleep=sleeps
    )
    try:
        with pytest.raises(MirrorUnreachable, match="503 after 2 retries"):
            await client.fetch("10ATLANTIS17")
        assert sleeps.waits == [0.5, 1.0]
    finally:
        await client.close()


async def test_one_redirect_too_many_is_a_bad_response(server: HTTPServer) -> None:
    for hop in range(2):
        server.expect_request(f"/hop{hop}").respond_with_data(
            "", status=302, headers={"Location": f"/hop{hop + 1}"}
        )
    server.expect_request(CABLE_PATH).respond_with_data(
        "", status=302, headers={"Location": "/hop0"}
    )
    client = make_mirror(server, month_of=months({"10ATLANTIS17": 2}), max_redirects=2)
    try:
        with pytest.raises(MirrorBadResponse, match="more than 2 redirects"):
            await client.fetch("10ATLANTIS17")
        assert len(server.log) == 3
    finally:
        await client.close()


async def test_an_unexpected_status_is_named(server: HTTPServer) -> None:
    server.expect_request(CABLE_PATH).respond_with_data("teapot", status=418)
    client = make_mirror(server, month_of=months({"10ATLANTIS17": 2}))
    try:
        with pytest.raises(MirrorBadResponse, match=r"10ATLANTIS17\.html: unexpected HTTP 418"):
            await client.fetch("10ATLANTIS17")
    finally:
        await client.close()


async def test_429_asking_exactly_the_longest_wait_waits(server: HTTPServer) -> None:
    handler = flaky([(429, {"Retry-After": "5"})], "10ATLANTIS17")
    server.expect_request(CABLE_PATH).respond_with_handler(handler)
    sleeps = Sleeps()
    client = make_mirror(
        server, month_of=months({"10ATLANTIS17": 2}), sleep=sleeps, max_retry_after=5.0
    )
    try:
        assert (await client.fetch("10ATLANTIS17")).ref_id == "10ATLANTIS17"
        assert sleeps.waits == [5.0]
    finally:
        await client.close()


def test_retry_after_http_date_without_a_zone_is_utc() -> None:
    from datetime import UTC, datetime, timedelta

    later = datetime.now(UTC) + timedelta(seconds=90)
    wait = retry_after(later.strftime("%a, %d %b %Y %H:%M:%S -0000"))
    assert wait is not None and 85 < wait <= 90


async def test_a_page_with_bytes_that_are_not_utf8_is_still_read(server: HTTPServer) -> None:
    """A byte that is not UTF-8 in a page without a charset becomes U+FFFD, not an error."""
    page = site_page("10ATLANTIS17").encode().replace(b"<body>", b"<body>\xff", 1)
    assert b"\xff" in page
    server.expect_request(CABLE_PATH).respond_with_data(page, content_type="text/html")
    client = make_mirror(server, month_of=months({"10ATLANTIS17": 2}))
    try:
        assert (await client.fetch("10ATLANTIS17")).ref_id == "10ATLANTIS17"
    finally:
        await client.close()
