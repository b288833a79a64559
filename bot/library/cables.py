"""The cable library the bot talks to: the local store first, a mirror on a miss, then stored.

A message's lookups share one deadline (`get_many`); a fetch still running then goes on in the
background, is stored when it arrives, and is cancelled when the library closes.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Self

from bot.config import Settings
from bot.library.backend import SharesNotFound, Store, open_store
from bot.library.discover import (
    Counts,
    Filters,
    Hit,
    HitPage,
    Linked,
    Related,
    Sort,
    StatsBy,
    parse_month_day,
)
from bot.library.mirror import CableMirror, MirrorBadResponse, MirrorNotFound, MirrorUnreachable
from bot.library.month_index import MonthIndex, load_month_index
from bot.library.store import (
    FollowedReply,
    LibraryStats,
    Progress,
    SearchHit,
    StoreError,
)
from parsers.models import Cable

__all__ = [
    "CableLibrary",
    "CableNotFound",
    "FollowedReply",
    "LibraryError",
    "LibraryStats",
    "MirrorUnavailable",
    "NotACableResponse",
    "SearchHit",
    "StillFetching",
]

JOB_DAYS_KEPT = 7
"""Days a job's claim is kept: long past any day a process could still claim."""
_REF_ID = re.compile(r"[0-9]{2}[0-9A-Z]{1,38}")
log = logging.getLogger(__name__)


class LibraryError(Exception):
    """A cable could not be served; the message is fit to show a user."""


class CableNotFound(LibraryError):
    """The cable is not published (or not in the library when no mirror is configured)."""


class MirrorUnavailable(LibraryError):
    """The mirror did not answer usefully in time."""


class StillFetching(LibraryError):
    """The mirror had not delivered the cable by the deadline; the fetch goes on."""


class NotACableResponse(LibraryError):
    """The mirror answered with something that is not the cable asked for."""


class CableLibrary:
    """Cables by reference ID, search and the reference graph, over a store and a mirror."""

    def __init__(
        self, store: Store, mirror: CableMirror | None = None, months: MonthIndex | None = None
    ) -> None:
        self.store = store
        self.mirror = mirror
        self.months = months
        self._inflight: dict[str, asyncio.Future[Cable]] = {}

    @classmethod
    async def open(
        cls, settings: Settings, *, serving: bool = False, progress: Progress | None = None
    ) -> CableLibrary:
        """Open the store (migrating it, with `progress` as for `CableStore.open`), the month
        index and the mirror client of `settings`.

        The month index is the built-in one unless `settings.month_index` names a file
        (MonthIndexError when it is unreadable). `serving` (a loop that serves chat) needs no
        set-up of its own: the store keeps its short reads on the loop (see bot.library.store).
        """
        months = load_month_index(settings.month_index)
        library = cls(await open_store(settings, progress=progress), None, months)
        if settings.mirrors:
            library.mirror = CableMirror.from_settings(settings, library.month_of)
        return library

    async def close(self) -> None:
        """Cancel the fetches still running, then close the mirror client and the store."""
        fetches = list(self._inflight.values())
        for fetch in fetches:
            fetch.cancel()
        await asyncio.gather(*fetches, return_exceptions=True)
        if self.mirror is not None:
            await self.mirror.close()
        await self.store.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def get(self, ref_id: str) -> Cable:
        """The cable `ref_id`: from the store, else fetched from the mirror and stored."""
        ref_id = ref_id.strip().upper()
        if not _REF_ID.fullmatch(ref_id):
            raise CableNotFound(f"{ref_id[:40]!r} is not a cable reference ID")
        pending = self._inflight.get(ref_id)
        if pending is not None and self.mirror is not None and self.mirror.down:
            raise self._unreachable()  # joining it would only wait on a host known down
        if pending is None:
            cable = await self.store.get(ref_id)
            if cable is not None:
                return cable
            pending = self._inflight.get(ref_id)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch(ref_id))
            self._inflight[ref_id] = pending
            pending.add_done_callback(self._forget)
        return await asyncio.shield(pending)

    async def get_many(self, ref_ids: Sequence[str]) -> list[Cable | Exception]:
        """The cables `ref_ids`, looked up together within one deadline (the mirror's).

        Each result is the cable or what its lookup raised (a LibraryError is for the user). A
        fetch not done by the deadline goes on in the background and stores the cable when it
        arrives; its result is StillFetching, or MirrorUnavailable when the mirror was known
        down at the deadline. Each such miss counts against the host being asked.
        """
        lookups = {ref_id: asyncio.ensure_future(self.get(ref_id)) for ref_id in ref_ids}
        if not lookups:
            return []
        deadline = self.mirror.deadline if self.mirror is not None else None
        _, late = await asyncio.wait(lookups.values(), timeout=deadline)
        down = self.mirror is not None and self.mirror.down  # before this message's misses
        for lookup in late:
            lookup.cancel()  # the caller's wait only: the fetch itself is shielded
        await asyncio.gather(*late, return_exceptions=True)
        results: dict[str, Cable | Exception] = {}
        for ref_id, lookup in lookups.items():
            if lookup.cancelled():
                results[ref_id] = self._late(ref_id.strip().upper(), down=down)
                continue
            error = lookup.exception()
            if error is not None and not isinstance(error, Exception):
                raise error
            results[ref_id] = error or lookup.result()
        return [results[ref_id] for ref_id in ref_ids]

    def _late(self, ref_id: str, *, down: bool) -> LibraryError:
        if self.mirror is None or ref_id not in self._inflight:
            return LibraryError(f"{ref_id}: the cable store did not answer in time")
        self.mirror.missed_deadline(ref_id)
        if down:
            return self._unreachable()
        return StillFetching("still being fetched from the cable mirror; ask again in a minute")

    def _unreachable(self) -> MirrorUnavailable:
        hosts = ", ".join(sorted(self.mirror.hosts)) if self.mirror is not None else ""
        return MirrorUnavailable(
            f"not in the local store, and the cable mirror ({hosts}) is unreachable; "
            "try again later"
        )

    @property
    def fetching(self) -> frozenset[str]:
        """The IDs being fetched from the mirror right now (some perhaps in the background)."""
        return frozenset(self._inflight)

    async def needs_fetch(self, ref_id: str) -> bool:
        """True when `get(ref_id)` would wait on the mirror; False when it answers at once (a
        stored cable, or an error that the ID, the month index or a host known down decides)."""
        ref_id = ref_id.strip().upper()
        if self.mirror is None or self.mirror.down or not _REF_ID.fullmatch(ref_id):
            return False
        if self.months is not None and ref_id not in self.months:
            return False
        return ref_id in self._inflight or await self.store.get(ref_id) is None

    def _forget(self, done: asyncio.Future[Cable]) -> None:
        """Drop a finished fetch (its error was delivered to whoever still waited)."""
        self._inflight = {k: f for k, f in self._inflight.items() if f is not done}
        if not done.cancelled():
            done.exception()

    async def _fetch(self, ref_id: str) -> Cable:
        if self.mirror is None:
            raise CableNotFound(f"{ref_id} is not in the cable library")
        if self.months is not None and ref_id not in self.months:
            raise CableNotFound(f"{ref_id} is not a published cable")
        shared = self.store if isinstance(self.store, SharesNotFound) else None
        if shared is None:
            return await self._fetch_now(ref_id, None)
        async with shared.fetching(ref_id):  # one process at a time; the others then find it
            if await shared.not_found(ref_id, time.time()):
                raise CableNotFound(f"{ref_id} is not a published cable")  # another asked
            stored = await self.store.get(ref_id)
            if stored is not None:
                return stored
            return await self._fetch_now(ref_id, shared)

    async def _fetch_now(self, ref_id: str, shared: SharesNotFound | None) -> Cable:
        assert self.mirror is not None
        try:
            cable = await self.mirror.fetch(ref_id)
        except MirrorNotFound as exc:
            if shared is not None:
                try:
                    await shared.remember_not_found(ref_id, time.time() + self.mirror.not_found_ttl)
                except StoreError as error:  # the answer matters more than sharing it
                    log.warning("%s: not found, but that was not saved: %s", ref_id, error)
            raise CableNotFound(f"{ref_id} is not a published cable") from exc
        except MirrorUnreachable as exc:
            raise self._unreachable() from exc
        except MirrorBadResponse as exc:
            raise NotACableResponse(
                f"the cable mirror did not return {ref_id} as a cable page"
            ) from exc
        try:
            await self.store.put([cable])
        except StoreError as exc:  # the answer matters more than the cache
            log.warning("%s was fetched but not stored: %s", ref_id, exc)
        return cable

    async def month_of(self, ref_id: str) -> int | None:
        """The month `ref_id` was created in: from the month index, else from a stored cable."""
        month = self.months.month_of(ref_id) if self.months is not None else None
        return month if month is not None else await self.store.month_of(ref_id)

    async def search(self, query: str, limit: int = 10, offset: int = 0) -> list[SearchHit]:
        """Full-text search of stored cables; any typed text is safe."""
        return await self.store.search(query, limit, offset)

    async def cites(self, ref_id: str) -> list[str]:
        """IDs the cable cites (from its REF lines), in order."""
        return await self.store.cites(ref_id.strip().upper())

    async def cited_by(self, ref_id: str) -> list[str]:
        """Stored cables that cite `ref_id`."""
        return await self.store.cited_by(ref_id.strip().upper())

    async def complete_ids(self, prefix: str, limit: int = 25) -> list[str]:
        """Reference IDs (stored or published) starting with `prefix`, shortest first."""
        found = await self.store.complete_ids(prefix, limit)
        if self.months is not None:  # the first IDs in order, then shortest first, as the store
            found += self.months.complete(prefix.strip().upper(), max(limit * 8, 200))
        return sorted(set(found), key=lambda ref_id: (len(ref_id), ref_id))[:limit]

    async def stats(self) -> LibraryStats:
        """What the store holds."""
        return await self.store.stats()

    async def get_guild_settings(self, guild_id: int) -> dict[str, object]:
        """A guild's saved settings ({} when none)."""
        return await self.store.get_guild_settings(guild_id)

    async def set_guild_settings(self, guild_id: int, data: dict[str, object]) -> None:
        """Replace a guild's saved settings."""
        await self.store.set_guild_settings(guild_id, data)

    async def remember_reply(
        self, trigger_id: int, reply: FollowedReply, at: float, *, forget_before: float
    ) -> None:
        """Remember the bot's reply to message `trigger_id` (older entries are dropped)."""
        await self.store.remember_reply(trigger_id, reply, at, forget_before=forget_before)

    async def followed(self, trigger_id: int, since: float) -> FollowedReply | None:
        """The reply to message `trigger_id`, if remembered at or after `since`."""
        return await self.store.followed(trigger_id, since)

    async def forget_reply(
        self, *, trigger_id: int | None = None, reply_id: int | None = None
    ) -> None:
        """Stop following a trigger message, or the message that `reply_id` answered."""
        await self.store.forget_reply(trigger_id=trigger_id, reply_id=reply_id)

    async def claim_job(self, name: str, guild_id: int, day: date) -> bool:
        """Claim job `name` of `guild_id` for `day`: True for exactly one caller, across
        restarts and every process sharing the store (StoreError when the store fails). Claims
        are kept for JOB_DAYS_KEPT days."""
        forget_before = day - timedelta(days=JOB_DAYS_KEPT)
        return await self.store.claim_job(name, guild_id, day, forget_before=forget_before)

    # discovery: see bot.library.discover ----------------------------------------------------

    async def browse(
        self, filters: Filters, *, sort: Sort | None = None, limit: int = 10, offset: int = 0
    ) -> HitPage:
        """Stored cables passing `filters` (browsing without a query, searching with one): a
        page of them and how many match; relevance first with a query, else oldest first."""
        return await self.store.browse(filters, sort, max(limit, 0), max(offset, 0))

    async def random(self, filters: Filters, *, pick: float | None = None) -> Hit | None:
        """A stored cable picked at random among those passing `filters` (None: none do);
        `pick` in [0, 1) chooses it instead of chance."""
        if pick is None:
            pick = secrets.randbelow(1 << 30) / (1 << 30)
        return await self.store.random_hit(filters, pick)

    async def on_this_day(
        self, month_day: str | None = None, *, limit: int = 10, offset: int = 0
    ) -> HitPage:
        """Cables created on `month_day` ("MM-DD", default today in UTC) of any year, oldest
        first (ValueError for a day that is not one)."""
        day = parse_month_day(month_day or f"{datetime.now(UTC):%m-%d}")
        return await self.browse(Filters(month_day=day), sort="oldest", limit=limit, offset=offset)

    async def citations(self, ref_id: str) -> list[Linked]:
        """What the cable cites, in the order of its REF line, each said stored or not."""
        return await self.store.citations(ref_id.strip().upper())

    async def citing(self, ref_id: str) -> list[Linked]:
        """The stored cables citing `ref_id`, oldest first."""
        return await self.store.citing(ref_id.strip().upper())

    async def related(self, ref_id: str, limit: int = 10) -> list[Related] | None:
        """Stored cables related to `ref_id` by references, tags and words, best first (None
        when `ref_id` is not stored)."""
        return await self.store.related(ref_id.strip().upper(), max(limit, 0))

    async def counts(self, filters: Filters, by: StatsBy = "year") -> Counts:
        """How many stored cables pass `filters`, grouped by year, month, origin, tag or
        classification."""
        return await self.store.counts(filters, by)
