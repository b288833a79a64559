"""The month index: each published reference ID's month, which the cable-site URL needs.

The index ships with the package (`bot/data/months.bin`, written by tools/gen_package_data.py
from cable2month.csv.gz) as a sorted, front-coded table read through mmap: opening it reads a
header, a lookup reads one block of 32 IDs. `CABLEBOT_MONTH_INDEX` may name a cable2month.csv.gz
(`REFID,month` lines) to use instead.

Layout: header (magic, ID count, block count), block_count + 1 offsets (u32, little-endian,
relative to the first block), then the blocks. An entry is: bytes shared with the previous ID
of its block, length of the rest, the rest (ASCII), month (1-12); a block's first entry shares 0.
"""

from __future__ import annotations

import functools
import mmap
import os
import re
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

BUILTIN_PATH = Path(__file__).resolve().parents[1] / "data" / "months.bin"
BLOCK = 32

_MAGIC = b"CBMONTH1"
_HEADER = struct.Struct("<8sII")
_OFFSET = struct.Struct("<I")
_LINE = re.compile(r"([0-9A-Z]+),(1[0-2]|0?[1-9])")


class MonthIndexError(Exception):
    """The month index is unreadable or malformed."""


def read_month_index(path: Path) -> Iterator[tuple[str, int]]:
    """Yield (ref_id, month) from a gzipped `REFID,month` file; raises MonthIndexError."""
    import gzip

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


def pack_month_index(pairs: Iterable[tuple[str, int]]) -> bytes:
    """The index file's bytes for (ref_id, month) pairs (a repeated ID keeps its last month)."""
    entries = sorted(dict(pairs).items())
    offsets: list[int] = []
    blocks = bytearray()
    previous = b""
    for number, (ref_id, month) in enumerate(entries):
        key = ref_id.encode("ascii")
        if not 0 < len(key) < 256 or not 1 <= month <= 12:
            raise ValueError(f"cannot index {ref_id!r} with month {month}")
        if number % BLOCK == 0:
            offsets.append(len(blocks))
            previous = b""
        shared = 0
        for a, b in zip(previous, key, strict=False):
            if a != b:
                break
            shared += 1
        blocks += bytes((shared, len(key) - shared)) + key[shared:] + bytes((month,))
        previous = key
    offsets.append(len(blocks))
    header = _HEADER.pack(_MAGIC, len(entries), len(offsets) - 1)
    return header + struct.pack(f"<{len(offsets)}I", *offsets) + bytes(blocks)


class MonthIndex:
    """Month (1-12) by published reference ID, over the packed bytes (or an mmap of them)."""

    def __init__(self, data: bytes | mmap.mmap, source: str) -> None:
        self.source = source
        self._data = data
        if len(data) < _HEADER.size:
            raise MonthIndexError(f"{source}: not a Cablebot month index (too short)")
        magic, self._count, self._blocks = _HEADER.unpack_from(data)
        self._start = _HEADER.size + _OFFSET.size * (self._blocks + 1)
        if magic != _MAGIC or len(data) < self._start:
            raise MonthIndexError(f"{source}: not a Cablebot month index")
        if self._start + self._offset(self._blocks) != len(data):
            raise MonthIndexError(f"{source}: truncated or padded month index")

    def __len__(self) -> int:
        return int(self._count)

    def __contains__(self, ref_id: object) -> bool:
        return isinstance(ref_id, str) and self.month_of(ref_id) is not None

    def month_of(self, ref_id: str) -> int | None:
        """The month `ref_id` (exact, upper case) was created in; None when it is not listed."""
        try:
            key = ref_id.encode("ascii")
        except UnicodeEncodeError:
            return None
        for found, month in self._entries(self._block_of(key)):
            if found >= key:
                return month if found == key else None
        return None

    def complete(self, prefix: str, limit: int) -> list[str]:
        """The first `limit` listed IDs (in sorted order) that start with `prefix`."""
        key = prefix.encode("ascii", "ignore")
        found: list[str] = []
        for block in range(self._block_of(key), self._blocks):
            for ref_id, _ in self._entries(block):
                if ref_id.startswith(key):
                    found.append(ref_id.decode("ascii"))
                    if len(found) >= limit:
                        return found
                elif ref_id > key:
                    return found
        return found

    def _offset(self, block: int) -> int:
        return int(_OFFSET.unpack_from(self._data, _HEADER.size + _OFFSET.size * block)[0])

    def _first_key(self, block: int) -> bytes:
        at = self._start + self._offset(block)
        return self._data[at + 2 : at + 2 + self._data[at + 1]]

    def _block_of(self, key: bytes) -> int:
        """The last block whose first ID is <= key (0 when key sorts before every ID)."""
        low, high = 0, self._blocks
        while high - low > 1:
            middle = (low + high) // 2
            if self._first_key(middle) <= key:
                low = middle
            else:
                high = middle
        return low

    def _entries(self, block: int) -> Iterator[tuple[bytes, int]]:
        if block >= self._blocks:
            return
        data = self._data[self._start + self._offset(block) : self._start + self._offset(block + 1)]
        at, key = 0, b""
        while at < len(data):
            shared, length = data[at], data[at + 1]
            key = key[:shared] + data[at + 2 : at + 2 + length]
            at += 2 + length
            yield key, data[at]
            at += 1


def open_month_index(path: Path) -> MonthIndex:
    """Map a packed index file (read-only); raises MonthIndexError."""
    try:
        with path.open("rb") as handle:
            empty = not os.fstat(handle.fileno()).st_size  # mmap refuses empty files
            data = b"" if empty else mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise MonthIndexError(f"cannot read the month index {path}: {exc}") from exc
    return MonthIndex(data, str(path))


@functools.cache
def builtin_month_index() -> MonthIndex:
    """The index shipped with Cablebot (every published ID)."""
    return open_month_index(BUILTIN_PATH)


def load_month_index(path: Path | None) -> MonthIndex:
    """The index from a cable2month.csv.gz at `path`, or the built-in one when None."""
    if path is None:
        return builtin_month_index()
    return MonthIndex(pack_month_index(read_month_index(path)), str(path))
