"""bench/common.py: the --busy load and the table of measures, baselines and targets."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from tests.benches import load_bench

common = load_bench("common")


def test_busy_runs_one_spinning_process_per_cpu_and_stops_them_all() -> None:
    before = set(multiprocessing.active_children())
    with common.busy() as count:
        spinning = [p for p in multiprocessing.active_children() if p not in before]
        assert count == os.cpu_count() == len(spinning)
        assert all(p.is_alive() for p in spinning)
    assert not any(p.is_alive() for p in spinning)
    assert all(p.exitcode == 0 for p in spinning)  # they stopped when asked, not killed


def test_busy_off_starts_nothing() -> None:
    with common.busy(False) as count:
        assert count == 0 and not multiprocessing.active_children()


def test_the_table_shows_ratio_target_and_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    common.print_table(
        "title",
        [
            common.Measure("fast", 0.5, "ms", 0.25, "bare get", 1.0),
            common.Measure("slow", 3.0, "ms", None, "", 2.0),
            common.Measure("size", 1.0, "x", target=1.0),
        ],
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "title"
    fast, slow, size = lines[2:5]
    assert "2.00x" in fast and fast.endswith("met")
    assert slow.endswith("MISSED") and size.endswith("met")  # at most the target is met
    assert lines[5] == "baselines (same run): bare get"


def test_percentile_is_nearest_rank() -> None:
    samples = [float(x) for x in range(1000, 0, -1)]
    assert common.percentile(samples, 0.99) == 991.0
    assert common.percentile(samples, 0.999) == 1000.0
