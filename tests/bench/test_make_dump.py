"""bench/make_dump.py gives its searches rare, medium and common words."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.benches import load_bench

make_dump = load_bench("make_dump")


def test_rare_words_are_rare_and_medium_ones_uncommon(tmp_path: Path) -> None:
    dump = tmp_path / "cables.csv"
    make_dump.write_dump(dump, 6000, seed=4)
    csv.field_size_limit(1 << 30)
    with dump.open(newline="", encoding="utf-8") as fh:
        bodies = [row[7] for row in csv.reader(fh, escapechar="\\", doublequote=False)]
    assert len(bodies) == 6000

    def share(words: list[str]) -> float:
        return sum(any(w in body.split() for w in words) for body in bodies) / len(bodies)

    assert 0 < share(make_dump.RARE) < 0.002
    assert 0.01 < share(make_dump.MEDIUM) < 0.06
    assert share(["minister"]) > 0.9
