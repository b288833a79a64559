"""What the benchmarks share: `--busy` load, percentiles, and the table of measures and targets.

Every measure is printed beside a baseline measured in the same run (their ratio says how it
compares whatever the machine's speed) and, when it has one, its target and whether it is met.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

BUSY_LIMIT = 900.0
"""Seconds after which a `--busy` worker stops by itself, should the benchmark die first."""


def _spin(stop: Event, until: float) -> None:
    """Keep one CPU busy (pure Python arithmetic) until `stop` is set or `until` passes."""
    x = 0
    while time.monotonic() < until and not stop.is_set():
        for i in range(20_000):
            x = (x + i) % 7919


@contextlib.contextmanager
def busy(enabled: bool = True, workers: int | None = None) -> Iterator[int]:
    """One spinning process per CPU, at normal priority, while the block runs; yields how many.

    Started before the block and stopped after it; each also stops itself after BUSY_LIMIT s.
    """
    if not enabled:
        yield 0
        return
    count = workers or os.cpu_count() or 1
    stop = multiprocessing.Event()
    until = time.monotonic() + BUSY_LIMIT
    procs = [multiprocessing.Process(target=_spin, args=(stop, until)) for _ in range(count)]
    for proc in procs:
        proc.start()
    time.sleep(0.2)  # let the scheduler see them
    try:
        yield count
    finally:
        stop.set()
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()


def percentile(samples: list[float], q: float) -> float:
    """The `q` quantile (0..1) of `samples`, nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


@dataclass(frozen=True)
class Measure:
    """One line of a benchmark table.

    `value` and `baseline` are in `unit`; `target` (same unit), when given, is the most
    `value` may be for the target to be met.
    """

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: float | None = None


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def print_table(title: str, measures: list[Measure]) -> None:
    """The measures with their baselines, ratios, targets and whether each target is met."""
    print(title)
    print(f"{'measure':<50}{'value':>11} {'unit':<5}{'baseline':>10}{'ratio':>10}{'target':>10}  ")
    for m in measures:
        base = _num(m.baseline) if m.baseline is not None else ""
        ratio = f"{m.value / m.baseline:.2f}x" if m.baseline else ""
        target = f"<= {_num(m.target)}" if m.target is not None else ""
        verdict = ("met" if m.value <= m.target else "MISSED") if m.target is not None else ""
        value = _num(m.value)
        print(f"{m.name:<50}{value:>11} {m.unit:<5}{base:>10}{ratio:>10}{target:>10}  {verdict}")
    named = {m.baseline_name: None for m in measures if m.baseline_name}
    if named:
        print("baselines (same run): " + "; ".join(named))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load}")
