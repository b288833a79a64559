"""The one interface of the cable store, whichever back end holds it, and the choice of one.

`CableStore` (one SQLite file, the default) and `PostgresStore` (`CABLEBOT_DATABASE_URL`) both
satisfy `Store`; the library, the importer, the bot and the CLI only know `Store`.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self, runtime_checkable

from bot.library import discover
from bot.library.store import (
    CableStore,
    Checkpoint,
    FollowedReply,
    LibraryStats,
    PreparedCable,
    Progress,
    PutResult,
    SearchHit,
)
from parsers.models import Cable

if TYPE_CHECKING:
    from bot.config import Settings


class Store(Protocol):
    """What every cable store offers. Writes are one transaction each; a failed write raises
    `StoreWriteError`, a store that cannot be used at all `StoreError`."""

    @property
    def path(self) -> Path | str:
        """Where the store is, for messages: a file, or a database URL without its password."""

    @property
    def readonly(self) -> bool:
        """True when writes are skipped (a store that could only be opened for reading)."""

    @property
    def packs_texts(self) -> bool:
        """True when the store writes `PreparedCable.text`, so the importer's parsing processes
        should compress it."""

    async def close(self) -> None:
        """Release the connections (idempotent)."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def get(self, ref_id: str) -> Cable | None:
        """The stored cable `ref_id`, or None."""

    async def search(self, query: str, limit: int = 10, offset: int = 0) -> list[SearchHit]:
        """Full-text search over subjects and bodies, best matches first; any text is safe."""

    async def cites(self, ref_id: str) -> list[str]:
        """Reference IDs that `ref_id` cites, in the cable's order."""

    async def cited_by(self, ref_id: str) -> list[str]:
        """Stored cables that cite `ref_id`, sorted."""

    async def complete_ids(self, prefix: str, limit: int = 25) -> list[str]:
        """Stored reference IDs starting with `prefix`."""

    async def month_of(self, ref_id: str) -> int | None:
        """The month the stored cable `ref_id` was created in."""

    async def stats(self) -> LibraryStats:
        """Counts, dates and size of the store."""

    async def checkpoint(self, source: str) -> Checkpoint | None:
        """The saved position of an unfinished import of `source`."""

    async def get_guild_settings(self, guild_id: int) -> dict[str, object]:
        """The settings saved for a guild ({} when none)."""

    async def followed(self, trigger_id: int, since: float) -> FollowedReply | None:
        """The reply to message `trigger_id`, if it was remembered at or after `since`."""

    async def remember_reply(
        self, trigger_id: int, reply: FollowedReply, at: float, *, forget_before: float
    ) -> None:
        """Remember that `reply` answers `trigger_id`; drop entries older than `forget_before`."""

    async def forget_reply(
        self, *, trigger_id: int | None = None, reply_id: int | None = None
    ) -> None:
        """Stop following a trigger message, or whichever message `reply_id` answered."""

    async def put(
        self, cables: Iterable[Cable | PreparedCable], checkpoint: Checkpoint | None = None
    ) -> PutResult:
        """Insert or update cables in one transaction, with `checkpoint` (counts added)."""

    async def clear_checkpoint(self, source: str) -> None:
        """Forget the import position of `source`."""

    async def set_guild_settings(self, guild_id: int, data: dict[str, object]) -> None:
        """Replace the settings saved for a guild (JSON-serialisable)."""

    async def claim_job(self, name: str, guild_id: int, day: date, *, forget_before: date) -> bool:
        """Claim job `name` of `guild_id` for `day`: True for exactly one caller among every
        process sharing the store (a primary key, INSERT … ON CONFLICT DO NOTHING), False for
        the others and on a store that cannot record it; claims of `name` before
        `forget_before` are dropped."""

    async def browse(
        self, filters: discover.Filters, sort: discover.Sort | None, limit: int, offset: int
    ) -> discover.HitPage:
        """The cables passing `filters`, one page of them, and how many match in all."""

    async def random_hit(self, filters: discover.Filters, pick: float) -> discover.Hit | None:
        """The cable at fraction `pick` (0 <= pick < 1) of those passing `filters`."""

    async def citations(self, ref_id: str) -> list[discover.Linked]:
        """What `ref_id` cites, in the order of its REF line."""

    async def citing(self, ref_id: str) -> list[discover.Linked]:
        """The stored cables citing `ref_id`, oldest first."""

    async def related(self, ref_id: str, limit: int) -> list[discover.Related] | None:
        """Stored cables related to `ref_id`, best first; None when it is not stored."""

    async def counts(self, filters: discover.Filters, by: discover.StatsBy) -> discover.Counts:
        """How many cables pass `filters`, grouped by `by`."""


@runtime_checkable
class SharesNotFound(Protocol):
    """A store that keeps the mirror's "not found" answers for every process sharing it
    (PostgreSQL), and lets one process at a time fetch a cable; the SQLite store serves one
    process, whose mirror client remembers them and whose library joins its own fetches."""

    def fetching(self, ref_id: str) -> AbstractAsyncContextManager[None]:
        """Held while this process fetches `ref_id`; another process waits for it."""

    async def not_found(self, ref_id: str, now: float) -> bool:
        """True when a "not found" for `ref_id` is still good at `now` (epoch seconds)."""

    async def remember_not_found(self, ref_id: str, until: float) -> None:
        """Share a "not found" for `ref_id` until `until` (epoch seconds)."""


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(target: str) -> bool:
    """True when `target` names a PostgreSQL database rather than a SQLite file."""
    return target.startswith(POSTGRES_SCHEMES)


def store_location(settings: Settings) -> str:
    """Where `settings` keep the store, for messages (a database URL without its password)."""
    if settings.database_url:
        from bot.library.postgres import redacted

        return redacted(settings.database_url)
    return str(settings.store_file)


async def open_target(
    target: str | Path, *, settings: Settings | None = None, progress: Progress | None = None
) -> Store:
    """Open the store at `target`: a postgresql:// URL (pool sizes from `settings`) or a
    SQLite file (`progress` as for `CableStore.open`)."""
    if isinstance(target, str) and is_database_url(target):
        from bot.library.postgres import PostgresStore  # asyncpg only when it is used

        sizes = (settings.database_pool_min, settings.database_pool_max) if settings else (1, 10)
        return await PostgresStore.open(target, min_size=sizes[0], max_size=sizes[1])
    return await CableStore.open(Path(target), progress=progress)


async def open_store(settings: Settings, *, progress: Progress | None = None) -> Store:
    """The store `settings` name: PostgreSQL when `database_url` is set, else the SQLite file."""
    target: str | Path = settings.database_url or settings.store_file
    return await open_target(target, settings=settings, progress=progress)


def _sqlite_is_a_store(store: CableStore) -> Store:
    return store  # mypy checks here that CableStore satisfies Store
