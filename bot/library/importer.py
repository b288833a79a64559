"""`cablebot import`: load a cables.csv dump, a folder of cable-site pages or the cables of
another Cablebot SQLite store into the store (SQLite or PostgreSQL: any `Store`).

Streaming with constant memory, one transaction per batch carrying a checkpoint (byte offset
and row number, or file or cable position), so a killed import resumes where its last batch
committed, and re-imports only count what changed. What a path holds is recognised from its
first bytes, not its name; anything else is refused before the store is touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import multiprocessing
import os
import re
import signal
import stat
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal, Protocol, TextIO

from bot.library.backend import Store
from bot.library.store import Checkpoint, PreparedCable, PutResult, StoreWriteError
from bot.text import plural
from parsers.dump import ROW_START, DumpRowError, iter_dump
from parsers.models import Cable, NotACableError
from parsers.page import looks_like_page

if TYPE_CHECKING:
    import rich.progress

PAGE_SUFFIXES = frozenset({".html", ".htm", ".txt"})
MAX_SHOWN_ERRORS = 100
NOT_IMPORTABLE = "not a cables.csv dump, a cable page or a saved page"
SNIFF_BYTES = 1 << 20
"""How much of a file is read to tell what it is (a saved page's reference table comes after
the site's browse lists, about 10 KB in)."""
STOP_AFTER_BATCH = "TEST_CABLEBOT_STOP_AFTER_BATCH"
"""Tests only: `N:MARKER` makes an import write MARKER (the rows or pages stored so far) after
its N-th committed batch, then stop itself (SIGSTOP), so a test can kill it at a known point."""
BOM = b"\xef\xbb\xbf"
_ROW_START = re.compile(ROW_START.pattern.encode())
_DUMP_START = re.compile(rb'"[0-9]+","[^"\r\n]*","[0-9]{2}[A-Z]')  # row, created, reference ID
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")

Kind = Literal["dump", "page", "folder", "empty", "store"]
SQLITE_HEADER = b"SQLite format 3\0"


class ImportError_(Exception):
    """The path cannot be imported (missing, unreadable, not a dump, a page or a folder), or
    the store could not be written."""


def source_kind(path: Path) -> Kind:
    """What `path` holds, from its first bytes; ImportError_ (one line) when it is nothing
    importable: missing, not a regular file, unreadable, or neither a dump nor a page."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ImportError_(f"{path}: no such file or folder") from None
    except OSError as exc:
        raise ImportError_(f"{path}: cannot be read ({exc.strerror})") from exc
    if stat.S_ISDIR(mode):
        return "folder"
    if not stat.S_ISREG(mode):
        raise ImportError_(f"{path}: not a regular file ({_file_type(mode)})")
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES).removeprefix(BOM)
    except OSError as exc:
        raise ImportError_(f"{path}: cannot be read ({exc.strerror})") from exc
    if not head.strip():
        return "empty"
    if head.startswith(SQLITE_HEADER):
        return "store"
    if _DUMP_START.match(head):
        return "dump"
    if b"\0" not in head and looks_like_page(head.decode("utf-8", "replace")):
        return "page"
    raise ImportError_(f"{path}: {NOT_IMPORTABLE}")


def _file_type(mode: int) -> str:
    kinds = (
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a file or folder")


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
    unit: str = "row"
    left_out: str = ""
    """What a folder import did not read (`1 subfolder, 2 other files`)."""
    nothing: str = ""
    """Why there was nothing to import (an empty file or folder): a warning and a failure."""

    @property
    def failed(self) -> bool:
        """Some rows or pages could not be imported, or there was nothing to import."""
        return bool(self.errors or self.nothing)

    def line(self) -> str:
        """One line for people."""
        if self.nothing:
            return f"{self.source}: {self.nothing}"
        resumed = (
            f" (resumed at {self.unit} {self.resumed_at_row:,})" if self.resumed_at_row else ""
        )
        left_out = (
            f"; not read: {self.left_out} (pages are .html, .htm or .txt files)"
            if self.left_out
            else ""
        )
        return (
            f"{self.source}: imported {self.imported:,}, updated {self.updated:,}, "
            f"skipped {self.skipped:,}, errors {self.errors:,} in {self.seconds:.1f} s"
            f"{resumed}{left_out}"
        )


class Progress(Protocol):
    """Receives progress as work units done out of a total (bytes or files) and rows."""

    def __call__(self, done: int, total: int, rows: int) -> None: ...


def _no_progress(done: int, total: int, rows: int) -> None:
    return None


def _stop_after_batch() -> tuple[int, Path] | None:
    value = os.environ.get(STOP_AFTER_BATCH, "")
    count, _, marker = value.partition(":")
    return (int(count), Path(marker)) if count and marker else None


def _stop_for_test(done: int, marker: Path) -> None:
    """Tests only (STOP_AFTER_BATCH): say how far the import got, then stop this process."""
    partial = marker.with_name(marker.name + ".partial")
    partial.write_text(str(done), encoding="utf-8")
    partial.replace(marker)
    os.kill(os.getpid(), signal.SIGSTOP)


@dataclass
class _Run:
    store: Store
    checkpoint: Checkpoint
    batch_size: int
    on_error: Callable[[str], None]
    unit: str = "row"
    pending: asyncio.Task[PutResult] | None = None
    batch: list[Cable | PreparedCable] = field(default_factory=list)
    pending_row: int = 0
    batches: int = 0
    stop_after: tuple[int, Path] | None = field(default_factory=_stop_after_batch)

    def __post_init__(self) -> None:
        self.stored = self.checkpoint.row - 1
        """Rows (or pages) read up to the last committed checkpoint."""

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """A failed store write becomes one line saying how far the import got."""
        try:
            yield
        except StoreWriteError as exc:
            where = (
                f"after {self.unit} {self.stored:,}"
                if self.stored
                else f"before its first {self.unit} was stored"
            )
            raise ImportError_(
                f"{exc.path}: {exc.reason} {where}; the store is consistent, "
                "run the same import again to resume"
            ) from exc

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
        self.pending_row = row
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
            self.stored = self.pending_row - 1
            self.batches += 1
            if self.stop_after and self.batches == self.stop_after[0]:
                _stop_for_test(self.stored, self.stop_after[1])


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
    store: Store,
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
    with path.open("rb") as fh, run.writing():
        if position == 0 and fh.read(len(BOM)) == BOM:
            position = len(BOM)
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


def _parse_range(
    path: str, start: int, end: int, pack: bool
) -> list[PreparedCable | tuple[int, str]]:
    """Worker side: the rows of bytes start..end, ready to write (texts compressed when
    `pack`); errors as (row, problem)."""
    with open(path, "rb") as fh:
        fh.seek(start)
        text = fh.read(end - start).decode("utf-8", "replace")
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return [
        PreparedCable.of(item, pack=pack) if isinstance(item, Cable) else (item.row, item.problem)
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
    path, pack = fh.name, run.store.packs_texts
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
            with _sigint_ignored_by_new_workers():
                future = loop.run_in_executor(pool, _parse_range, path, start, end, pack)
            window.append((future, start, end))

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


@contextlib.contextmanager
def _sigint_ignored_by_new_workers() -> Iterator[None]:
    """Worker processes started inside ignore SIGINT for good: a terminal sends Ctrl-C to the
    whole process group, and a worker still starting would print a traceback. The importing
    process handles it (exit 130) and its workers end with it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


async def import_pages(
    store: Store,
    folder: Path,
    *,
    batch_size: int = 500,
    on_error: Callable[[str], None] = lambda _: None,
    on_warning: Callable[[str], None] = lambda _: None,
    progress: Progress = _no_progress,
) -> ImportSummary:
    """Import one cable page, or every page (.html, .htm, saved .txt) of a folder in name order.

    Bytes that are not UTF-8 are replaced, with one warning per page.
    """
    from parsers.page import parse_page

    started = time.perf_counter()
    source = str(folder.resolve())
    files, left_out = _folder_pages(folder) if folder.is_dir() else ([folder], "")
    if not files:
        found = f" (found {left_out})" if left_out else ""
        nothing = f"nothing to import: no .html, .htm or .txt files{found}"
        return ImportSummary(source, unit="page", nothing=nothing)
    names = "\n".join(p.name for p in files).encode()
    fingerprint = f"{len(files)}:{hashlib.blake2b(names, digest_size=12).hexdigest()}"
    saved = await store.checkpoint(source)
    if saved is None or saved.fingerprint != fingerprint:
        saved = Checkpoint(source, fingerprint, position=0, row=1)
    run = _Run(store, saved, batch_size, on_error, unit="page")
    resumed_at = saved.row if saved.position else None
    progress(saved.position, len(files), saved.position)
    with run.writing():
        for index in range(saved.position, len(files)):
            page = files[index]
            try:
                text, replaced = _decode(page.read_bytes())
                if replaced:
                    on_warning(
                        f"{page.name}: {plural(replaced, 'byte')} not UTF-8, "
                        "replaced by \N{REPLACEMENT CHARACTER}"
                    )
                cable = await asyncio.to_thread(parse_page, text)
            except (OSError, NotACableError) as exc:
                run.error(f"{page.name}: {getattr(exc, 'strerror', None) or exc}")
            else:
                await run.add(cable, index + 1, index + 2)
            progress(index + 1, len(files), index + 1)
        await run.flush(len(files), len(files) + 1)
        await run.wait()
        await store.clear_checkpoint(source)
    summary = _summary(source, run.checkpoint, started, resumed_at)
    summary.unit, summary.left_out = "page", left_out
    return summary


def _folder_pages(folder: Path) -> tuple[list[Path], str]:
    """The pages of `folder` in name order, and what else it holds (`1 subfolder, 2 other
    files`), which is not read."""
    pages: list[Path] = []
    subfolders = others = 0
    for entry in sorted(folder.iterdir()):
        if entry.is_dir():
            subfolders += 1
        elif entry.suffix.lower() in PAGE_SUFFIXES and entry.is_file():
            pages.append(entry)
        else:
            others += 1
    skipped = [plural(n, what) for n, what in ((subfolders, "subfolder"), (others, "other file"))]
    return pages, ", ".join(text for text in skipped if not text.startswith("0 "))


def _decode(data: bytes) -> tuple[str, int]:
    """The text of UTF-8 `data` (without a BOM), and how many bytes were not UTF-8 (each is
    replaced by U+FFFD)."""
    data = data.removeprefix(BOM)
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        text = data.decode("utf-8", "surrogateescape")  # one lone surrogate per bad byte
        return _ESCAPED_BYTE.subn("\N{REPLACEMENT CHARACTER}", text)


async def import_store(
    store: Store,
    path: Path,
    *,
    batch_size: int = 500,
    on_error: Callable[[str], None] = lambda _: None,
    progress: Progress = _no_progress,
) -> ImportSummary:
    """Copy the cables of another Cablebot SQLite store (e.g. into PostgreSQL), in reference
    ID order, resumable like any import (StoreError when `path` is not a Cablebot store)."""
    from bot.library.store import CableStore

    started = time.perf_counter()
    source = str(path.resolve())
    async with await CableStore.open(path) as origin:
        ref_ids = await origin.ref_ids()
        listing = "\n".join(ref_ids).encode()
        fingerprint = f"store:{len(ref_ids)}:{hashlib.blake2b(listing, digest_size=12).hexdigest()}"
        saved = await store.checkpoint(source)
        if saved is None or saved.fingerprint != fingerprint:
            saved = Checkpoint(source, fingerprint, position=0, row=1)
        run = _Run(store, saved, batch_size, on_error, unit="cable")
        resumed_at = saved.row if saved.position else None
        progress(saved.position, len(ref_ids), saved.position)
        with run.writing():
            for index in range(saved.position, len(ref_ids)):
                cable = await origin.get(ref_ids[index])
                if cable is None:  # (gone from the source meanwhile)
                    run.error(f"{ref_ids[index]}: no longer in {path.name}")
                else:
                    await run.add(cable, index + 1, index + 2)
                progress(index + 1, len(ref_ids), index + 1)
            await run.flush(len(ref_ids), len(ref_ids) + 1)
            await run.wait()
            await store.clear_checkpoint(source)
    summary = _summary(source, run.checkpoint, started, resumed_at)
    summary.unit = "cable"
    return summary


_UNITS: dict[Kind, str] = {"dump": "row", "store": "cable"}


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
    store: Store,
    path: Path,
    *,
    batch_size: int = 500,
    on_error: Callable[[str], None] = lambda _: None,
    on_warning: Callable[[str], None] = lambda _: None,
    progress: Progress = _no_progress,
    workers: int | None = None,
) -> ImportSummary:
    """Import a dump file, one cable page or a folder of pages, whichever `path` holds
    (ImportError_ when it is none of these, or when the store is read-only)."""
    kind = source_kind(path)
    if store.readonly:
        raise ImportError_(f"{store.path}: the store is read-only, nothing can be imported into it")
    if kind == "empty":
        return ImportSummary(str(path.resolve()), nothing="empty file, nothing to import")
    if kind == "store":
        return await import_store(
            store, path, batch_size=batch_size, on_error=on_error, progress=progress
        )
    if kind == "dump":
        return await import_dump(
            store,
            path,
            batch_size=batch_size,
            workers=workers,
            on_error=on_error,
            progress=progress,
        )
    return await import_pages(
        store,
        path,
        batch_size=batch_size,
        on_error=on_error,
        on_warning=on_warning,
        progress=progress,
    )


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

    def __init__(
        self, label: str, stream: TextIO | None = None, every: float = 5.0, unit: str = "row"
    ) -> None:
        self.label = label
        self.unit = unit
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
            f"{self.label}: {share:6.1%}, {plural(rows, self.unit)}, "
            f"{rate:,.0f} {self.unit}s/s, ETA {eta:,.0f} s",
            file=self.stream,
        )


class RichProgress:
    """A rich progress bar (rate, rows, ETA) for terminals."""

    def __init__(self, label: str, progress: rich.progress.Progress, unit: str = "row") -> None:
        self.pace = _Pace()
        self.progress = progress
        self.unit = unit
        self.task = progress.add_task(label, total=None, count="", rate="")

    def __call__(self, done: int, total: int, rows: int) -> None:
        rate, _ = self.pace(done, total, rows)
        self.progress.update(
            self.task,
            completed=done,
            total=total,
            count=plural(rows, self.unit),
            rate=f"{rate:,.0f} {self.unit}s/s",
        )


def rich_progress() -> rich.progress.Progress:
    """The progress display of an import (or of a store migration) on stderr."""
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
        TextColumn("{task.fields[count]}"),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr, force_terminal=True),
    )


async def run_import(
    store: Store,
    paths: list[Path],
    *,
    batch_size: int,
    workers: int | None = None,
    tty: bool | None = None,
) -> list[ImportSummary]:
    """Import each path with progress (a bar on a terminal, lines otherwise) and summaries;
    `workers` as for `import_dump`. Every path is checked before the first is imported."""
    tty = sys.stderr.isatty() if tty is None else tty
    units = [_UNITS.get(source_kind(path), "page") for path in paths]
    summaries = []
    for path, unit in zip(paths, units, strict=True):
        with rich_progress() if tty else contextlib.nullcontext() as bar:
            progress = (
                RichProgress(path.name, bar, unit)
                if bar is not None
                else LineProgress(path.name, unit=unit)
            )
            summary = await import_path(
                store,
                path,
                batch_size=batch_size,
                workers=workers,
                on_error=ErrorPrinter(),
                on_warning=_warn,
                progress=progress,
            )
        if summary.nothing:
            _warn(f"{path}: {summary.nothing}")
        else:
            print(summary.line())
        summaries.append(summary)
    return summaries


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
