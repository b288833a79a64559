"""Autocomplete of the search filters: the store's TAGS codes (with their meanings), origins and
classifications, counted once and kept in memory, so that each keystroke is answered from
memory in well under a millisecond (Discord gives an autocomplete 3 s)."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import weakref
from collections.abc import Callable, Mapping, Sequence

from discord import app_commands

from bot.discord.listing import DiscoverSource
from bot.library.discover import Count, Filters, StatsBy

log = logging.getLogger(__name__)

CHOICES_MAX = 25
"""Discord shows at most 25 choices."""
FRESH_SECONDS = 3600.0
"""How long counted terms are used before they are counted again, in the background (a count
of a big store holds its reader for about a second; the terms change only with imports)."""
WAIT_SECONDS = 2.0
"""How long a keystroke waits for the first count before it gets no choices."""


@functools.lru_cache(maxsize=65536)
def _folded(text: str) -> str:
    return text.casefold()


def _name(*parts: str) -> str:
    text = " · ".join(p for p in parts if p)
    return text if len(text) <= 100 else text[:99] + "…"


def tag_choices(
    current: str, counts: Sequence[Count], meanings: Mapping[str, str]
) -> list[app_commands.Choice[str]]:
    """TAGS codes starting with what was typed, then those whose meaning contains it; each
    group most used first (`counts` come most used first)."""
    typed = current.strip().casefold()
    starts: list[tuple[str, str, int]] = []
    means: list[tuple[str, str, int]] = []
    for count in counts:
        code = count.key or ""
        meaning = meanings.get(code, "")
        if code.casefold().startswith(typed):
            starts.append((code, meaning, count.count))
            if len(starts) == CHOICES_MAX:
                break
        elif typed and len(means) < CHOICES_MAX and typed in _folded(meaning):
            means.append((code, meaning, count.count))
    return [
        app_commands.Choice(name=_name(code, meaning, f"{n:,}"), value=code)
        for code, meaning, n in (starts + means)[:CHOICES_MAX]
    ]


def name_choices(current: str, counts: Sequence[Count]) -> list[app_commands.Choice[str]]:
    """Names (origins, classifications) with a word starting with what was typed, then those
    containing it; each group most used first."""
    typed = " ".join(current.split()).casefold()
    words, inside = [], []
    for count in counts:
        name = count.key or ""
        folded = name.casefold()
        if any(w.startswith(typed) for w in folded.split()) or folded.startswith(typed):
            words.append((name, count.count))
        elif typed in folded:
            inside.append((name, count.count))
    return [
        app_commands.Choice(name=_name(name, f"{n:,}"), value=name[:100])
        for name, n in (words + inside)[:CHOICES_MAX]
    ]


class Vocabulary:
    """The store's tags, origins and classifications with their counts, most used first,
    counted at the first use and again in the background once FRESH_SECONDS old."""

    def __init__(
        self, library: DiscoverSource, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.library = library
        self.clock = clock
        self._terms: dict[StatsBy, tuple[float, list[Count]]] = {}
        self._loading: dict[StatsBy, asyncio.Task[list[Count]]] = {}

    async def _load(self, by: StatsBy) -> list[Count]:
        try:
            found = await self.library.counts(Filters(), by)
        finally:
            self._loading.pop(by, None)
        counts = [c for c in found.counts if c.key]
        self._terms[by] = (self.clock(), counts)
        return counts

    def _start(self, by: StatsBy) -> asyncio.Task[list[Count]]:
        task = self._loading.get(by)
        if task is None:
            task = asyncio.ensure_future(self._load(by))
            task.add_done_callback(_log_failure)
            self._loading[by] = task
        return task

    async def terms(self, by: StatsBy) -> list[Count]:
        """The terms of `by`, most used first; [] when the first count takes too long."""
        kept = self._terms.get(by)
        if kept is not None:
            if self.clock() - kept[0] > FRESH_SECONDS:
                self._start(by)  # the old terms meanwhile
            return kept[1]
        try:
            return await asyncio.wait_for(asyncio.shield(self._start(by)), WAIT_SECONDS)
        except Exception:  # too slow, or failed (logged by _log_failure)
            return []

    async def close(self) -> None:
        """Stop the counts still running."""
        tasks = list(self._loading.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


_KEPT: weakref.WeakKeyDictionary[object, Vocabulary] = weakref.WeakKeyDictionary()


def vocabulary_of(owner: object, library: DiscoverSource) -> Vocabulary:
    """The one Vocabulary of `owner` (a bot), made at the first call."""
    found = _KEPT.get(owner)
    if found is None:
        found = _KEPT[owner] = Vocabulary(library)
    return found


def _log_failure(task: asyncio.Task[list[Count]]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("could not count the terms for autocomplete: %s", task.exception())
