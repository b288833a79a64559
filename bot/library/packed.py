"""A cable's texts as the SQLite store keeps them: one compressed blob per cable.

The blob is JSON of `[header, body, meta, paragraphs]`, where `meta` holds the header fields
(tags, references, summary…) and `paragraphs` is `[[number, marking, text], …]`, compressed with
Zstandard (level `ZSTD_LEVEL`). Paragraph texts and the summary are kept as pointers into the
body (bot.library.spans), so each text is stored once.

Stores filled by earlier versions hold zlib-compressed blobs with whole paragraph texts (the same
schema version: the blob changed, not the tables); `unpack` reads both, told apart by
Zstandard's frame magic number, so such stores need no migration.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Sequence
from typing import Any

import zstandard

from bot.library import spans

ZSTD_LEVEL = 6
"""Zstandard's level for cable texts. Against zlib level 3 (what the store used before), on
../shared/corpus/pages: level 3 makes 0.96 of zlib's size, 6 makes 0.92, 9 makes 0.90 (on
generated cables 6 and 9 differ by 0.2%) for 1.8 times level 6's CPU. Level 6 costs about what
zlib 3 did, 0.08 ms of CPU per generated cable, spent in the importer's parsing processes;
decompression is faster than zlib's."""

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_contexts = threading.local()  # Zstandard contexts are not for sharing between threads


def _compressor() -> zstandard.ZstdCompressor:
    made: zstandard.ZstdCompressor | None = getattr(_contexts, "compressor", None)
    if made is None:
        made = _contexts.compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
    return made


def _decompressor() -> zstandard.ZstdDecompressor:
    made: zstandard.ZstdDecompressor | None = getattr(_contexts, "decompressor", None)
    if made is None:
        made = _contexts.decompressor = zstandard.ZstdDecompressor()
    return made


def pack(header: str, body: str, meta: str, paragraphs: Sequence[Sequence[Any]]) -> bytes:
    """The blob of a cable's texts (`meta`: the header fields as JSON text)."""
    index = spans.flat(body)
    fields = json.loads(meta)
    if isinstance(fields.get("summary"), str):
        fields["summary"] = spans.encode(fields["summary"], index)
    paras = [[number, marking, spans.encode(text, index)] for number, marking, text in paragraphs]
    data = json.dumps([header, body, fields, paras], separators=(",", ":"))
    return _compressor().compress(data.encode())


def _load(blob: bytes) -> list[Any]:
    if blob[:4] == _ZSTD_MAGIC:
        data: list[Any] = json.loads(_decompressor().decompress(blob))
    else:
        data = json.loads(zlib.decompress(blob))
    return data


def unpack(blob: bytes) -> tuple[str, str, dict[str, Any], list[tuple[int, str | None, str]]]:
    """A cable's header, body, header fields and `(number, marking, text)` paragraphs."""
    header, body, fields, paras = _load(blob)
    flat: str | None = None
    out: list[tuple[int, str | None, str]] = []
    for number, marking, code in paras:
        if not isinstance(code, str):
            flat = flat if flat is not None else spans.flat(body)
            code = spans.decode(code, flat)
        out.append((number, marking, code))
    summary = fields.get("summary")
    if summary is not None and not isinstance(summary, str):
        fields["summary"] = spans.decode(summary, flat if flat is not None else spans.flat(body))
    return header, body, fields, out


def body(blob: bytes) -> str:
    """Only the body (for the search index)."""
    text: str = _load(blob)[1]
    return text


def fields(blob: bytes) -> dict[str, Any]:
    """Only the header fields, the summary decoded."""
    data = _load(blob)
    text: str = data[1]
    found: dict[str, Any] = data[2]
    summary = found.get("summary")
    if summary is not None and not isinstance(summary, str):
        found["summary"] = spans.decode(summary, spans.flat(text))
    return found
