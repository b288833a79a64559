"""The month index (cable2month.csv.gz, `REFID,month` lines): download, read, load into the store.

The cable-site URL needs the month a cable was created in, which its ID does not carry.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx

from bot.config import Settings
from bot.store import CableStore

_LINE = re.compile(r"([0-9A-Z]+),(1[0-2]|0?[1-9])")


class MonthIndexError(Exception):
    """The month index is unreadable, malformed or could not be downloaded."""


def read_month_index(path: Path) -> Iterator[tuple[str, int]]:
    """Yield (ref_id, month) from a gzipped `REFID,month` file; raises MonthIndexError."""
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as lines:
            for number, line in enumerate(lines, 1):
                text = line.strip()
                if not text:
                    continue
                match = _LINE.fullmatch(text)
                if match is None:
                    raise MonthIndexError(
                        f"{path}, line {number}: expected REFID,MONTH (1-12), got {text[:60]!r}"
                    )
                yield match.group(1), int(match.group(2))
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise MonthIndexError(f"{path}: not a readable gzip month index ({exc})") from exc


async def load_month_index(store: CableStore, path: Path) -> int:
    """Load the month index file into the store; returns how many IDs the store knows."""
    return await store.put_months(read_month_index(path))


async def download_month_index(
    url: str, dest: Path, *, timeout: float = 30.0, max_bytes: int = 50_000_000
) -> Path:
    """Download the month index to `dest` (atomically, checked before it replaces anything)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    try:
        async with (
            httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise MonthIndexError(f"{url} answered HTTP {response.status_code}")
            size = 0
            with partial.open("wb") as out:
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise MonthIndexError(f"{url} is larger than {max_bytes} bytes")
                    out.write(chunk)
    except httpx.HTTPError as exc:
        partial.unlink(missing_ok=True)
        raise MonthIndexError(
            f"could not download the month index from {url} (offline? {type(exc).__name__})"
        ) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    try:
        count = sum(1 for _ in read_month_index(partial))
    except MonthIndexError:
        partial.unlink(missing_ok=True)
        raise
    if count == 0:
        partial.unlink(missing_ok=True)
        raise MonthIndexError(f"{url} holds no REFID,MONTH lines")
    os.replace(partial, dest)
    return dest


async def ensure_month_index(settings: Settings, store: CableStore, *, download: bool) -> str:
    """Make sure the store knows the months: load the file, downloading it first if allowed.

    Returns a one-line status for people; raises MonthIndexError when that fails.
    """
    known = await store.months_known()
    if known:
        return f"month index: {known:,} IDs already loaded"
    path = settings.month_index_file
    if not path.exists():
        if not download or not settings.month_index_url:
            return f"month index: {path} missing; months will be probed on the mirror"
        await download_month_index(settings.month_index_url, path, timeout=settings.total_timeout)
    known = await load_month_index(store, path)
    return f"month index: loaded {known:,} IDs from {path}"
