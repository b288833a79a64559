"""bot.discord.vocabulary: filter autocomplete from counts kept in memory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.discord import vocabulary
from bot.discord.vocabulary import Vocabulary, name_choices, tag_choices
from bot.library.cables import CableLibrary
from bot.library.discover import Count, Counts, Filters, StatsBy
from bot.library.store import CableStore
from tests.bot.helpers import harbour_cable


class CountingLibrary(CableLibrary):
    """The real library, counting (and optionally slowing) its `counts` calls."""

    calls = 0
    delay = 0.0

    async def counts(self, filters: Filters, by: StatsBy = "year") -> Counts:
        self.calls += 1
        await asyncio.sleep(self.delay)
        return await super().counts(filters, by)


@pytest.fixture
async def library(tmp_path: Path) -> AsyncIterator[CountingLibrary]:
    store = await CableStore.open(tmp_path / "cables.db")
    await store.put(
        [
            harbour_cable(),
            harbour_cable("09MADRID1", origin="Embassy Madrid", tags=("PREL", "SP")),
            harbour_cable("09MADRID2", origin="Embassy Madrid", tags=("PTER",)),
        ]
    )
    async with CountingLibrary(store) as opened:
        yield opened


async def counted(kept: Vocabulary) -> None:
    """Wait until the counts running in the background are done (however busy the machine)."""
    await asyncio.wait_for(asyncio.gather(*kept._loading.values()), 60)


def test_choices_are_at_most_25_and_fit_discord() -> None:
    counts = [Count(key=f"P{n:03d}", count=1000 - n) for n in range(40)]
    meanings = {f"P{n:03d}": "x" * 200 for n in range(40)}
    found = tag_choices("p0", counts, meanings)
    assert [c.value for c in found] == [f"P{n:03d}" for n in range(25)]
    assert all(len(c.name) <= 100 for c in found)
    long = [Count(key="Consulate " + "y" * 150, count=3), Count(key="Embassy Oslo", count=9)]
    assert [c.value for c in name_choices("osl", long)] == ["Embassy Oslo"]
    [only] = name_choices("yyy", long)
    assert len(only.value) == 100 and len(only.name) <= 100


def test_a_word_start_comes_before_a_match_inside() -> None:
    counts = [Count(key="Embassy Amman", count=50), Count(key="Embassy Manama", count=5)]
    assert [c.value for c in name_choices("man", counts)] == ["Embassy Manama", "Embassy Amman"]


async def test_terms_are_counted_once_then_again_when_old(library: CountingLibrary) -> None:
    now = [0.0]
    kept = Vocabulary(library, clock=lambda: now[0])
    origins = await kept.terms("origin")
    assert [(c.key, c.count) for c in origins] == [("Embassy Madrid", 2), ("Embassy Oslo", 1)]
    for _ in range(5):
        assert await kept.terms("origin") == origins
    assert library.calls == 1
    now[0] = vocabulary.FRESH_SECONDS + 1
    assert await kept.terms("origin") == origins  # the old terms while counting again
    await counted(kept)
    assert library.calls == 2
    await kept.close()


async def test_a_slow_first_count_gives_no_choices_but_goes_on(
    library: CountingLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vocabulary, "WAIT_SECONDS", 0.01)
    library.delay = 0.2
    kept = Vocabulary(library)
    assert await kept.terms("tag") == []
    await counted(kept)
    assert [c.key for c in await kept.terms("tag")][:1] == ["PREL"]
    assert library.calls == 1  # the first count was finished and kept, not started again
    await kept.close()
