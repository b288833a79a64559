"""`cablebot doctor`: checks the store and the shard settings and says, in plain words, what is
wrong."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.discord.shards import format_shard_ids, shard_problem
from bot.library.backend import open_store
from bot.library.store import (
    REWRITTEN_VERSION,
    SCHEMA_VERSION,
    LibraryStats,
    StoreError,
    migration_space,
    stored_schema,
)

CONNECT_SECONDS = 15.0
"""How long the store may take to open before the database is called unreachable."""


@dataclass(frozen=True)
class Finding:
    """One line of the diagnosis: a fact, or a problem when `ok` is False."""

    ok: bool
    text: str


async def diagnose(settings: Settings) -> list[Finding]:
    """Everything `cablebot doctor` prints, in order."""
    findings = await _store(settings)
    findings.append(_shards(settings))
    return findings


async def _store(settings: Settings) -> list[Finding]:
    url = settings.database_url
    if url is None:
        expected = SCHEMA_VERSION
        where = str(settings.store_file)
        if not settings.store_file.is_file():
            return [
                Finding(
                    False,
                    f"no SQLite store at {where} (CABLEBOT_STORE_PATH, CABLEBOT_DATA_DIR):"
                    " `cablebot setup` creates it, `cablebot import` fills it",
                )
            ]
        try:
            version = stored_schema(settings.store_file)
        except StoreError as exc:
            return [Finding(False, f"cannot open the store: {exc}")]
        if 0 < version < expected:  # opening it would migrate it: the doctor only looks
            return _to_migrate(settings.store_file, version)
    else:
        from bot.library.postgres import SCHEMA_VERSION as expected
        from bot.library.postgres import redacted

        where = redacted(url)
    try:
        if url is not None:  # read only: a migration is `setup`'s (or `run`'s) to make
            return await _postgres(url, where, expected)
        store = await asyncio.wait_for(open_store(settings), CONNECT_SECONDS)
    except TimeoutError:
        return [Finding(False, f"{where}: the database did not answer in {CONNECT_SECONDS:.0f} s")]
    except (StoreError, OSError) as exc:
        return [Finding(False, f"cannot open the store: {exc}")]
    async with store:
        stats = await store.stats()
    findings = [Finding(True, f"store: SQLite at {where}, connected")]
    if stats.schema_version == expected:
        findings.append(Finding(True, f"schema version {stats.schema_version} (current)"))
    else:
        findings.append(
            Finding(
                False,
                f"schema version {stats.schema_version}, but this Cablebot uses {expected}",
            )
        )
    return findings + _rows(stats)


async def _postgres(url: str, where: str, expected: int) -> list[Finding]:
    """The PostgreSQL store, opened without migrating it: its version, a migration pending."""
    from bot.library.postgres import PostgresStore

    store = await asyncio.wait_for(
        PostgresStore.open(url, min_size=1, max_size=1, migrate=False), CONNECT_SECONDS
    )
    async with store:
        version = await store.schema_version()
        findings = [Finding(True, f"store: PostgreSQL at {where}, connected")]
        if version is None:
            findings.append(
                Finding(False, "no Cablebot schema in this database yet: `cablebot setup` makes it")
            )
            return findings
        if version == expected:
            findings.append(Finding(True, f"schema version {version} (current)"))
        elif version < expected:
            findings.append(
                Finding(
                    False,
                    f"schema version {version}, this Cablebot uses {expected}: a migration is"
                    " pending (`cablebot setup` runs it; so does the first `run` or `import`)",
                )
            )
        else:
            findings.append(
                Finding(False, f"schema version {version}, newer than this Cablebot ({expected})")
            )
        return findings + _rows(await store.stats())


def _rows(stats: LibraryStats) -> list[Finding]:
    """What the store holds."""
    findings = []
    findings.append(
        Finding(
            True,
            f"rows: {stats.cables:,} cables, {stats.paragraphs:,} paragraphs,"
            f" {stats.references:,} references, {stats.tags:,} TAGS codes",
        )
    )
    if stats.cables == 0:
        findings.append(
            Finding(
                True,
                "the store holds no cable yet: each is fetched from the mirror when first asked"
                " for, or `cablebot import cables.csv` fills it",
            )
        )
    return findings


def _to_migrate(path: Path, version: int) -> list[Finding]:
    """What the doctor says of a SQLite store at an older schema, without migrating it."""
    found = [Finding(True, f"store: SQLite at {path}, not opened (an older schema)")]
    text = f"store is at schema v{version}, will migrate to v{SCHEMA_VERSION} on next start"
    if version >= REWRITTEN_VERSION:
        return [*found, Finding(True, f"{text} (in place, at once)")]
    text += " (the first command that opens it rewrites it, with progress)"
    problem = migration_space(path)
    if problem is None:
        return [*found, Finding(True, text)]
    return [*found, Finding(True, text), Finding(False, f"{problem}: free some space first")]


def _shards(settings: Settings) -> Finding:
    count, ids = settings.shard_count, settings.shard_ids
    problem = shard_problem(count, ids, shared_store=settings.database_url is not None)
    if problem is not None:
        return Finding(False, problem)
    if count is None:
        return Finding(True, "shards: one connection, no sharding (CABLEBOT_SHARD_COUNT unset)")
    if ids is None:
        return Finding(True, f"shards: all {count} in this process")
    return Finding(True, f"shards: {format_shard_ids(ids)} of {count} ({len(ids)} here)")
