"""`cablebot import`: load a cables.csv dump or a folder of cable-site pages into the store.

Streaming with constant memory, one transaction per batch carrying a checkpoint (byte offset
and row number, or file position), so a killed import resumes where its last batch committed,
and re-imports only count what changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import multiprocessing
import os
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol, TextIO

from bot.store import CableStore, Checkpoint, PreparedCable, PutResult
from parsers.dump import ROW_START, DumpRowError, iter_dump
from parsers.models import Cable, NotACableError

if TYPE_CHECKING:
    import rich.progress

PAGE_SUFFIXES = frozenset({".html", ".htm", ".txt"})
MAX_SHOWN_ERRORS = 100
_ROW_START = re.compile(ROW_START.pattern.encode())


class ImportError_(Exception):
    """The path cannot be imported (missing, unreadable, neither a dump nor a folder)."""


@dataclass
class ImportSummary:
    """Counts for one source (cumulative over resumed runs)."""

    source: str
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    errors: int = 0
    seconds: float = 0.0
    resumed_at_row: int | None = None

    def line(self) -> str:
        """One line for people."""
        resumed = f" (resumed at row {self.resumed_at_row:,})" if self.resumed_at_row else ""
        return (
            f"{self.source}: imported {self.imported:,}, updated {self.updated:,}, "
            f"skipped {self.skipped:,}, errors {self.errors:,} in {self.seconds:.1f} s{resumed}"
        )


class Progress(Protocol):
    """Receives progress as work units done out of a total (bytes or files) and rows."""

    def __call__(self, done: int, total: int, rows: int) -> None: ...


def _no_progress(done: int, total: int, rows: int) -> None:
    return None


@dataclass
class _Run:
    store: CableStore
    checkpoint: Checkpoint
    batch_size: int
    on_error: Callable[[str], None]
    pending: asyncio.Task[PutResult] | None = None
    batch: list[Cable | PreparedCable] = field(default_factory=list)

    async def add(self, cable: Cable, position: int, row: int) -> None:
        self.batch.append(cable)
        if len(self.batch) >= self.batch_size:
            await self.flush(position, row)

    def error(self, message: str) -> None:
        self.checkpoint = _replace(self.checkpoint, errors=self.checkpoint.errors + 1)
        self.on_error(message)

    async def flush(self, position: int, row: int) -> None:
        """Write the batch (while the next one is parsed) with the position after it."""
        await self.wait()
        checkpoint = _replace(self.checkpoint, position=position, row=row)
        self.pending = asyncio.ensure_future(self.store.put(self.batch, checkpoint))
        self.batch = []

    async def wait(self) -> None:
        if self.pending is not None:
            result, self.pending = await self.pending, None
            self.checkpoint = _replace(
                self.checkpoint,
                imported=self.checkpoint.imported + result.imported,
                updated=self.checkpoint.updated + result.updated,
                skipped=self.checkpoint.skipped + result.skipped,
            )


def _replace(checkpoint: Checkpoint, **changes: int) -> Checkpoint:
    values = {**checkpoint.__dict__, **changes}
    return Checkpoint(**values)


def _fingerprint(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    return f"{path.stat().st_size}:{hashlib.blake2b(head, digest_size=12).hexdigest()}"


def _lines(fh: BinaryIO, counter: list[int]) -> Iterator[str]:
    """Decoded lines of `fh`; counter[0] is the byte offset just past the last line handed out."""
    for raw in fh:
        counter[0] += len(raw)
        yield raw.decode("utf-8", "replace")


async def import_dump(
    store: CableStore,
    path: Path,
    *,
    batch_size: int = 500,
    workers: int | None = None,
    on_error: Callable[[str], None] = lambda _: None,
    progress: Progress = _no_progress,
) -> ImportSummary:
    """Import a cables.csv dump, resuming an interrupted import of the same file.

    With `workers` > 1 (default: one per CPU for dumps over 32 MB) rows are parsed in worker
    processes, chunk by chunk, while this process writes.
    """
    started = time.perf_counter()
    source = str(path.resolve())
    fingerprint = _fingerprint(path)
    total = path.stat().st_size
    saved = await store.checkpoint(source)
    if saved is None or saved.fingerprint != fingerprint:
        saved = Checkpoint(source, fingerprint, position=0, row=1)
    run = _Run(store, saved, batch_size, on_error)
    resumed_at = saved.row if saved.position else None
    if workers is None:
        workers = (os.cpu_count() or 1) if total - saved.position > 32_000_000 else 1
    tell = _Teller(path.name, total, progress)
    progress(saved.position, total, saved.row - 1)
    position, row = saved.position, saved.row
    with path.open("rb") as fh:
        fh.seek(position)
        if workers > 1:
            position, row = await _parse_in_workers(fh, run, position, row, workers, tell)
            fh.seek(position)
        position, row = await _parse_here(fh, run, position, row, tell)
        await run.flush(position, row)
        await run.wait()
    progress(total, total, row - 1)
    await store.clear_checkpoint(source)
    return _summary(source, run.checkpoint, started, resumed_at)


@dataclass
class _Teller:
    name: str
    total: int
    progress: Progress


async def _parse_here(
    fh: BinaryIO, run: _Run, position: int, row: int, tell: _Teller, until: int | None = None
) -> tuple[int, int]:
    """Parse rows with iter_dump in this process, to the end or to the first row ending at or
    after `until`; returns the position and row after them."""
    counter = [position]
    for item in iter_dump(_lines(fh, counter), first_row=row):
        row += 1
        if isinstance(item, Cable):
            await run.add(item, counter[0], row)
        else:
            run.error(f"{tell.name}: {item}")
        if row % 1000 == 0:
            tell.progress(counter[0], tell.total, row - 1)
        if until is not None and counter[0] >= until:
            break
    return counter[0], row


def _row_ranges(fh: BinaryIO, position: int, chunk_bytes: int) -> Iterator[tuple[int, int]]:
    """Byte ranges of about `chunk_bytes` that start and end at lines opening a row."""
    fh.seek(0, os.SEEK_END)
    total = fh.tell()
    while position < total:
        end = position + chunk_bytes
        while end < total:
            fh.seek(end - 1)
            window = fh.read(1 << 20)
            found = _ROW_START.search(window)
            if found:
                end += found.start()  # the window starts a byte early, at the newline
                break
            if len(window) < 1 << 20:  # no row starts before the end of the file
                end = total
            else:
                end += len(window) - 16  # an overlap for a row start cut by the window
        end = min(end, total)
        yield position, end
        position = end


def _parse_range(path: str, start: int, end: int) -> list[PreparedCable | tuple[int, str]]:
    """Worker side: the rows of bytes start..end, ready to write; errors as (row, problem)."""
    with open(path, "rb") as fh:
        fh.seek(start)
        text = fh.read(end - start).decode("utf-8", "replace")
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return [
        PreparedCable.of(item) if isinstance(item, Cable) else (item.row, item.problem)
        for item in iter_dump(lines)
    ]


def _exit_with_parent(parent: int) -> None:
    """Worker start-up: end the worker once the importing process is gone (say, killed with
    kill -9), instead of waiting forever for work that will not come."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


async def _parse_in_workers(
    fh: BinaryIO, run: _Run, position: int, row: int, workers: int, tell: _Teller
) -> tuple[int, int]:
    """Parse byte ranges in worker processes, writing them in order; returns where it stopped.

    A range whose last row is malformed may have cut a row that runs on past its end: that
    range is parsed again here, reading on as far as the row goes, and the workers resume after.
    """
    loop = asyncio.get_running_loop()
    path = fh.name
    chunk_bytes = run.batch_size * 8192
    window: deque[tuple[asyncio.Future[list[PreparedCable | tuple[int, str]]], int, int]]
    window = deque()
    ranges = _row_ranges(fh, position, chunk_bytes)

    def fill() -> None:
        while len(window) < workers * 2:
            span = next(ranges, None)
            if span is None:
                return
            start, end = span
            window.append((loop.run_in_executor(pool, _parse_range, path, start, end), start, end))

    def drain() -> None:
        for future, _, _ in window:
            future.cancel()
        window.clear()

    with ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_exit_with_parent,
        initargs=(os.getpid(),),
    ) as pool:
        try:
            fill()
            while window:
                future, start, end = window.popleft()
                items = await future
                if items and isinstance(items[-1], tuple):  # parse it here, as a single pass
                    drain()
                    fh.seek(start)
                    position, row = await _parse_here(fh, run, start, row, tell, until=end)
                    ranges = _row_ranges(fh, position, chunk_bytes)
                    fill()
                    continue
                for item in items:
                    if isinstance(item, PreparedCable):
                        run.batch.append(item)
                    else:
                        error = DumpRowError(row + item[0] - 1, item[1])
                        run.error(f"{tell.name}: {error}")
                position, row = end, row + len(items)
                await run.flush(position, row)
                tell.progress(position, tell.total, row - 1)
                fill()
        except BrokenProcessPool:
            pass  # a worker died (or could not start): carry on in this process
        finally:
            pending = [f for f, _, _ in window]
            drain()
            await asyncio.gather(*pending, return_exceptions=True)
    return position, row


async def import_pages(
    store: CableStore,
    folder: Path,
    *,
    batch_size: int = 500,
    on_error: Callable[[str], None] = lambda _: None,
    progress: Progress = _no_progress,
) -> ImportSummary:
    """Import one cable page, or every page (.html, .htm, saved .txt) of a folder in name order."""
    from parsers.page import parse_page

    started = time.perf_counter()
    source = str(folder.resolve())
    if folder.is_dir():
        files = sorted(
            p for p in folder.iterdir() if p.suffix.lower() in PAGE_SUFFIXES and p.is_file()
        )
    else:
        files = [folder]
    names = "\n".join(p.name for p in files).encode()
    fingerprint = f"{len(files)}:{hashlib.blake2b(names, digest_size=12).hexdigest()}"
    saved = await store.checkpoint(source)
    if saved is None or saved.fingerprint != fingerprint:
        saved = Checkpoint(source, fingerprint, position=0, row=1)
    run = _Run(store, saved, batch_size, on_error)
    resumed_at = saved.row if saved.position else None
    progress(saved.position, len(files), saved.position)
    for index in range(saved.position, len(files)):
        page = files[index]
        try:
            text = page.read_bytes().decode("utf-8", "replace")
            cable = await asyncio.to_thread(parse_page, text)
        except (OSError, NotACableError) as exc:
            run.error(f"{page.name}: {exc}")
        else:
            await run.add(cable, index + 1, index + 2)
        progress(index + 1, len(files), index + 1)
    await run.flush(len(files), len(files) + 1)
    await run.wait()
    await store.clear_checkpoint(source)
    return _summary(source, run.checkpoint, started, resumed_at)


def _summary(
    source: str, checkpoint: Checkpoint, started: float, resumed_at: int | None
) -> ImportSummary:
    return ImportSummary(
        source=source,
        imported=checkpoint.imported,
        updated=checkpoint.updated,
        skipped=checkpoint.skipped,
        errors=checkpoint.errors,
        seconds=time.perf_counter() - started,
        resumed_at_row=resumed_at,
    )


async def import_path(
    store: CableStore,
    path: Path,
    *,
    batch_size: int = 500,
    on_error: Callable[[str], None] = lambda _: None,
    progress: Progress = _no_progress,
    workers: int | None = None,
) -> ImportSummary:
    """Import a dump file, one cable page or a folder of pages, whichever `path` is."""
    if path.is_dir() or (path.is_file() and path.suffix.lower() in PAGE_SUFFIXES):
        return await import_pages(
            store, path, batch_size=batch_size, on_error=on_error, progress=progress
        )
    if path.is_file():
        return await import_dump(
            store,
            path,
            batch_size=batch_size,
            workers=workers,
            on_error=on_error,
            progress=progress,
        )
    raise ImportError_(f"{path}: no such file or folder")


class ErrorPrinter:
    """Prints the first errors to `stream`, then only counts them."""

    def __init__(self, stream: TextIO | None = None, limit: int = MAX_SHOWN_ERRORS) -> None:
        self.stream = stream or sys.stderr
        self.limit = limit
        self.count = 0

    def __call__(self, message: str) -> None:
        self.count += 1
        if self.count <= self.limit:
            print(f"error: {message}", file=self.stream)
        elif self.count == self.limit + 1:
            print(f"error: more than {self.limit} errors; counting the rest", file=self.stream)


class _Pace:
    """Rate and ETA of this run (an import resumed mid-way starts from its checkpoint)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.base: tuple[int, int] | None = None

    def __call__(self, done: int, total: int, rows: int) -> tuple[float, float]:
        if self.base is None:
            self.base = (done, rows)
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        speed = (done - self.base[0]) / elapsed
        eta = (total - done) / speed if speed > 0 else 0.0
        return (rows - self.base[1]) / elapsed, eta


class LineProgress:
    """Quiet progress for logs: one line at most every `every` seconds."""

    def __init__(self, label: str, stream: TextIO | None = None, every: float = 5.0) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.every = every
        self.pace = _Pace()
        self.last = time.perf_counter()

    def __call__(self, done: int, total: int, rows: int) -> None:
        rate, eta = self.pace(done, total, rows)
        now = time.perf_counter()
        if now - self.last < self.every and done < total:
            return
        self.last = now
        share = done / total if total else 1.0
        print(
            f"{self.label}: {share:6.1%}, {rows:,} rows, {rate:,.0f} rows/s, ETA {eta:,.0f} s",
            file=self.stream,
        )


class RichProgress:
    """A rich progress bar (rate, rows, ETA) for terminals."""

    def __init__(self, label: str, progress: rich.progress.Progress) -> None:
        self.pace = _Pace()
        self.progress = progress
        self.task = progress.add_task(label, total=None, rows=0, rate="")

    def __call__(self, done: int, total: int, rows: int) -> None:
        rate, _ = self.pace(done, total, rows)
        self.progress.update(
            self.task, completed=done, total=total, rows=rows, rate=f"{rate:,.0f} rows/s"
        )


def _rich_progress() -> rich.progress.Progress:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr, force_terminal=True),
    )


async def run_import(
    store: CableStore,
    paths: list[Path],
    *,
    batch_size: int,
    workers: int | None = None,
    tty: bool | None = None,
) -> list[ImportSummary]:
    """Import each path with progress (a bar on a terminal, lines otherwise) and summaries;
    `workers` as for `import_dump`."""
    tty = sys.stderr.isatty() if tty is None else tty
    summaries = []
    for path in paths:
        with _rich_progress() if tty else contextlib.nullcontext() as bar:
            progress = RichProgress(path.name, bar) if bar is not None else LineProgress(path.name)
            summary = await import_path(
                store,
                path,
                batch_size=batch_size,
                workers=workers,
                on_error=ErrorPrinter(),
                progress=progress,
            )
        print(summary.line())
        summaries.append(summary)
    return summaries
