"""bench/autocomplete.py runs on a small store and measures every case beside its baseline."""

from __future__ import annotations

from pathlib import Path

from bot.library.store import CableStore
from tests.benches import load_bench
from tests.bot.helpers import harbour_cable


async def test_the_bench_measures_each_case(tmp_path: Path) -> None:
    bench = load_bench("autocomplete")
    async with await CableStore.open(tmp_path / "cables.db") as store:
        await store.put([harbour_cable(), harbour_cable("09MADRID1", origin="Embassy Madrid")])
    measures = await bench._run(tmp_path / "cables.db", keystrokes=40)
    names = [m.name for m in measures]
    assert names[:2] == [
        "keystroke p50, tag: the store's 3 codes",
        "keystroke p99, tag: the store's 3 codes",
    ]
    assert "keystroke p99, origin: the store's 2 origins" in names
    assert all(m.value > 0 and m.baseline and m.baseline > 0 for m in measures)
