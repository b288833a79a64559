"""Fetch cables the store lacks from cable-site mirrors, politely and without ever hanging.

Templates use `{year}`, `{month}` (two digits) and `{ref_id}`. The month comes from a lookup
(the store: stored cables and the month index); when it is unknown, month-less templates (PlusD)
are tried, then the twelve months of the ID's year are probed once and the answer remembered.

Each host has a circuit breaker (bot.library.breaker): a host that refused a connection, or
timed out or kept people waiting past their deadline several times in a row, is skipped for a
cooldown, so a dead mirror costs one wait, not one per cable.
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from bot.config import Settings
from bot.library.breaker import CircuitBreaker
from parsers.models import Cable, NotACableError

if TYPE_CHECKING:
    import httpx  # imported on the first fetch: a store hit never needs it

MonthLookup = Callable[[str], Awaitable[int | None]]
MonthMemo = Callable[[str, int], Awaitable[None]]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class MirrorError(Exception):
    """A mirror could not deliver a cable."""


class MirrorNotFound(MirrorError):
    """Every mirror answered 404: the cable is not there."""


class MirrorUnreachable(MirrorError):
    """No answer in time, connection failures, or 5xx/429 after every retry."""


class MirrorBadResponse(MirrorError):
    """A mirror answered, but not with the cable: not a cable page, too big, bad redirect."""


class _NotRetried(MirrorUnreachable):
    """A failure worth no retry."""


class _TimedOut(_NotRetried):
    """The total timeout passed: not retried, the caller has waited long enough."""


class MirrorHostDown(_NotRetried):
    """The host's circuit breaker is open: it failed recently, so it is not asked now."""


def year_of(ref_id: str) -> int | None:
    """The creation year from the ID's two leading digits (66-99: 19xx, else 20xx)."""
    match = re.match(r"\d\d", ref_id)
    if match is None:
        return None
    yy = int(match.group())
    return 1900 + yy if yy >= 66 else 2000 + yy


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _parse_page(text: str) -> Cable:
    from parsers.page import parse_page  # the parser module may be absent in early checkouts

    return parse_page(text)


class CableMirror:
    """An httpx client over one or more mirror URL templates."""

    def __init__(
        self,
        templates: tuple[str, ...],
        *,
        connect_timeout: float = 5.0,
        total_timeout: float = 20.0,
        max_response_bytes: int = 5_000_000,
        per_host_concurrency: int = 4,
        retries: int = 3,
        retry_backoff: float = 0.5,
        max_retry_after: float = 30.0,
        max_redirects: int = 5,
        not_found_ttl: float = 3600.0,
        breaker_failures: int = 3,
        breaker_cooldown: float = 60.0,
        deadline: float = 8.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        month_of: MonthLookup | None = None,
        remember_month: MonthMemo | None = None,
        parse: Callable[[str], Cable] = _parse_page,
    ) -> None:
        if not templates:
            raise ValueError("no mirror URL templates configured (CABLEBOT_MIRRORS)")
        for template in templates:
            if "{ref_id}" not in template or urlsplit(template).scheme not in {"http", "https"}:
                raise ValueError(f"mirror template {template!r} needs http(s):// and {{ref_id}}")
        self.templates = templates
        self.hosts = frozenset(urlsplit(t).netloc.lower() for t in templates)
        self.total_timeout = total_timeout
        self.max_response_bytes = max_response_bytes
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.max_retry_after = max_retry_after
        self.max_redirects = max_redirects
        self.not_found_ttl = not_found_ttl
        self.deadline = deadline
        """Seconds a message waits for its fetches; later ones go on without it (the library)."""
        self._month_of = month_of
        self._remember_month = remember_month
        self._parse = parse
        self._clock = clock
        self._sleep = sleep
        self._per_host = per_host_concurrency
        self._limits: dict[str, asyncio.Semaphore] = {}
        self.breakers = {
            host: CircuitBreaker(failures=breaker_failures, cooldown=breaker_cooldown, clock=clock)
            for host in self.hosts
        }
        self._asking: dict[str, Counter[str]] = {}  # ref_id -> hosts asked for it right now
        self._not_found: dict[str, float] = {}
        self._months: dict[str, int] = {}  # months found by probing
        self._connect_timeout = connect_timeout
        self._client: httpx.AsyncClient | None = None  # made by the first fetch

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        month_of: MonthLookup | None = None,
        remember_month: MonthMemo | None = None,
    ) -> CableMirror:
        """A mirror client configured from `settings`."""
        return cls(
            settings.mirrors,
            connect_timeout=settings.connect_timeout,
            total_timeout=settings.total_timeout,
            max_response_bytes=settings.max_response_bytes,
            per_host_concurrency=settings.per_host_concurrency,
            retries=settings.retries,
            retry_backoff=settings.retry_backoff,
            max_retry_after=settings.max_retry_after,
            max_redirects=settings.max_redirects,
            not_found_ttl=settings.not_found_ttl,
            breaker_failures=settings.mirror_failures,
            breaker_cooldown=settings.mirror_cooldown,
            deadline=settings.answer_deadline,
            month_of=month_of,
            remember_month=remember_month,
        )

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()

    def _http(self) -> httpx.AsyncClient:
        """The HTTP client, made (and httpx imported) on first use."""
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.total_timeout, connect=self._connect_timeout),
                follow_redirects=False,
                headers={"User-Agent": "cablebot (+https://github.com/cablebot)"},
            )
        return self._client

    @property
    def down(self) -> bool:
        """True when every host is skipped now (its breaker open): a fetch would fail at once."""
        return all(b.state == "open" for b in self.breakers.values())

    def missed_deadline(self, ref_id: str) -> None:
        """Someone stopped waiting for `ref_id`: count it against the hosts still being asked."""
        for host in self._asking.get(ref_id, ()):
            self.breakers[host].failed()

    async def fetch(self, ref_id: str) -> Cable:
        """The cable `ref_id` from the first mirror that has it; raises a MirrorError."""
        expires = self._not_found.get(ref_id)
        if expires is not None and expires > self._clock():
            raise MirrorNotFound(f"{ref_id} was not found on the mirror (cached)")
        month = self._months.get(ref_id)
        if month is None and self._month_of is not None:
            month = await self._month_of(ref_id)
        year = year_of(ref_id)
        failure: MirrorError | None = None
        probe = False
        for template in self.templates:
            if "{month" in template and month is None:
                probe = probe or year is not None
                continue
            try:
                return await self._fetch_cable(template, ref_id, year, month)
            except MirrorNotFound:
                continue
            except MirrorBadResponse as exc:
                if "{month" in template:  # PlusD pages are used only when they parse
                    failure = failure or exc
            except MirrorError as exc:
                failure = failure or exc
        if probe:
            try:
                return await self._probe(ref_id, year)
            except MirrorNotFound:
                pass
            except MirrorError as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        self._not_found[ref_id] = self._clock() + self.not_found_ttl
        raise MirrorNotFound(f"{ref_id} was not found on the mirror")

    async def _probe(self, ref_id: str, year: int | None) -> Cable:
        """Try the twelve months of the ID's year on the first month template; remember a hit."""
        template = next(t for t in self.templates if "{month" in t)
        tasks = [
            asyncio.ensure_future(self._fetch_cable(template, ref_id, year, m))
            for m in range(1, 13)
        ]
        failure: MirrorError | None = None
        try:
            for month, task in zip(range(1, 13), tasks, strict=True):
                try:
                    cable = await task
                except MirrorNotFound:
                    continue
                except MirrorError as exc:
                    failure = failure or exc
                    continue
                self._months[ref_id] = month
                if self._remember_month is not None:
                    await self._remember_month(ref_id, month)
                return cable
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        raise failure or MirrorNotFound(f"{ref_id} was not found in any month of {year}")

    async def _fetch_cable(
        self, template: str, ref_id: str, year: int | None, month: int | None
    ) -> Cable:
        url = template.format(year=year or "", month=f"{month:02d}" if month else "", ref_id=ref_id)
        host = urlsplit(url).netloc.lower()
        asking = self._asking.setdefault(ref_id, Counter())
        asking[host] += 1
        try:
            text = await self._fetch_text(url)
        finally:
            asking[host] -= 1
            if asking[host] <= 0:
                del asking[host]
            if not asking and self._asking.get(ref_id) is asking:
                del self._asking[ref_id]
        if "<html" in text[:2000].lower() and "</html>" not in text[-2000:].lower():
            raise MirrorBadResponse(f"{url}: truncated page (no </html>)")
        try:
            cable = await asyncio.to_thread(self._parse, text)
        except NotACableError as exc:
            raise MirrorBadResponse(f"{url} is not a cable page ({exc})") from exc
        if cable.ref_id.upper() != ref_id.upper():
            raise MirrorBadResponse(f"{url} holds cable {cable.ref_id}, not {ref_id}")
        return cable

    async def _fetch_text(self, url: str) -> str:
        """GET with retries on connection errors, 5xx and 429 (honouring Retry-After)."""
        host = urlsplit(url).netloc
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                status, headers, text = await self._get(url)
            except MirrorUnreachable as exc:
                if last or isinstance(exc, _NotRetried):
                    raise
                await self._sleep(self.retry_backoff * 2**attempt)
                continue
            if status == 200:
                return text
            if status in {404, 410}:
                raise MirrorNotFound(f"{url}: HTTP {status}")
            if status == 429 or status >= 500:
                if last:
                    raise MirrorUnreachable(
                        f"{host} answered HTTP {status} after {attempt} retries"
                    )
                wait = retry_after(headers.get("retry-after"))
                if wait is not None and wait > self.max_retry_after:
                    raise MirrorUnreachable(f"{host} asks to wait {wait:.0f} s (HTTP {status})")
                await self._sleep(wait if wait is not None else self.retry_backoff * 2**attempt)
                continue
            raise MirrorBadResponse(f"{url}: unexpected HTTP {status}")
        raise AssertionError("unreachable")  # pragma: no cover

    async def _get(self, url: str) -> tuple[int, httpx.Headers, str]:
        """One GET (following allowed redirects) under the host's concurrency limit and breaker."""
        for _ in range(self.max_redirects + 1):
            host = urlsplit(url).netloc.lower()
            limit = self._limits.setdefault(host, asyncio.Semaphore(self._per_host))
            if self.breakers[host].state == "open":  # do not queue behind a host known down
                raise MirrorHostDown(f"{host} failed recently; it is skipped for now")
            async with limit:
                status, headers, text = await self._get_once(url, host)
            if status not in _REDIRECTS:
                return status, headers, text
            target = urljoin(url, headers.get("location", ""))
            if urlsplit(target).netloc.lower() not in self.hosts:
                raise MirrorBadResponse(f"{url} redirects to another host: {target}")
            url = target
        raise MirrorBadResponse(f"{url}: more than {self.max_redirects} redirects")

    async def _get_once(self, url: str, host: str) -> tuple[int, httpx.Headers, str]:
        """One request, unless the host's breaker is open; tells the breaker how it went."""
        import httpx

        client = self._http()  # before the timeout: the first fetch imports httpx
        breaker = self.breakers[host]
        if not breaker.allow():
            raise MirrorHostDown(f"{host} failed recently; it is skipped for now")
        try:
            async with asyncio.timeout(self.total_timeout):
                answer = await self._read(client, url)
        except (TimeoutError, httpx.TimeoutException) as exc:
            breaker.failed()
            raise _TimedOut(f"{host} did not answer within the timeout") from exc
        except httpx.ConnectError as exc:  # refused, no route, no DNS: down now
            breaker.failed(at_once=True)
            raise _NotRetried(f"{host}: {type(exc).__name__}: {exc}") from exc
        except httpx.TransportError as exc:
            breaker.failed()
            raise MirrorUnreachable(f"{host}: {type(exc).__name__}: {exc}") from exc
        except MirrorBadResponse:  # it answered, just not with a cable
            breaker.succeeded()
            raise
        except BaseException:
            breaker.abandoned()
            raise
        breaker.succeeded()
        return answer

    async def _read(self, client: httpx.AsyncClient, url: str) -> tuple[int, httpx.Headers, str]:
        async with client.stream("GET", url) as response:
            if response.status_code != 200:
                return response.status_code, response.headers, ""
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_response_bytes:
                raise MirrorBadResponse(f"{url}: response of {declared} bytes is too large")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise MirrorBadResponse(
                        f"{url}: response larger than {self.max_response_bytes} bytes"
                    )
                chunks.append(chunk)
            body = b"".join(chunks)
            return 200, response.headers, body.decode(response.encoding or "utf-8", "replace")
