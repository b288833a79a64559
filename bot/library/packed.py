"""A cable's texts as the SQLite store keeps them: one compressed blob per cable.

The blob is JSON of `[header, body, meta, paragraphs]`, where `meta` holds the header fields
(tags, references, summary…) and `paragraphs` is `[[number, marking, text], …]`, compressed with
Zstandard (level `ZSTD_LEVEL`, dictionary `WORDS`). Paragraph texts and the summary are kept as
pointers into the body (bot.library.spans), so each text is stored once.

Stores filled by earlier versions hold zlib-compressed blobs with whole paragraph texts (the same
schema version: the blob changed, not the tables); `unpack` reads both, told apart by their
first byte, so such stores need no migration.
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

_WITH_WORDS = b"\x01"
"""First byte of a blob compressed with `WORDS` as its dictionary (then a Zstandard frame)."""

WORDS = (
    b'{"tags":[],"references":[],"precedence":null,"date_time_group":null,"sender":null,'
    b'"to":[],"info":[],"caveats":[],"summary":null}'
    b"ROUTINE PRIORITY IMMEDIATE FLASH SECSTATE WASHDC AMEMBASSY AMCONSUL USMISSION USUN NEW YORK"
    b" ALL US CONSULATES COLLECTIVE INFO RUEHC/SECSTATE WASHDC RUEHXC VZCZCXRO ZNR UUUUU ZZH"
    b" ZNY CCCCC ZZH ZNY SSSSS ZZH DE RUEH R 010000Z P 010000Z O 010000Z FM TO\\n"
    b"UNCLAS SECTION 01 OF 02 UNCLAS SECTION 02 OF 02 C O N F I D E N T I A L SECTION 01 OF 03"
    b" S E C R E T SECTION 01 OF 04 SIPDIS NOFORN SENSITIVE SIPDIS\\n\\nE.O. 12958: DECL: "
    b"E.O. 12958: N/A\\nTAGS: PGOV PREL PHUM ECON ETRD EFIN EAID ENRG KDEM PTER MARR ASEC KCRM"
    b" SNAR PINR OVIP\\nSUBJECT: \\n\\nREF: A. STATE B. \\n\\nClassified By: Ambassador"
    b" for reasons 1.4 (b) and (d).\\n\\nClassified By: Political Counselor for reasons 1.4 (b)"
    b" and (d)\\n\\n1. (SBU) Summary: 2. (C) 3. (U) 4. (S) 5. (S/NF) End Summary.\\n\\n"
    b"Comment: End Comment.\\n\\n-------\\n the Embassy the Ambassador the Minister the"
    b" President the government the Ministry of Foreign Affairs the United States U.S. Government"
    b" the opposition political party officials said that would be in the and the for the of"
    b" the on the to the with the that the Post will continue to follow. Department of State"
    b' security assistance cooperation international economic \\n\\n"],[[1,"U",[[0,'
)
"""A Zstandard dictionary: the words and layout that most cables share, written for this
project (not taken from any cable). It makes the corpus pages' blobs 2.8% smaller; blobs are
small, and without one each starts with an empty history. Never change it: stored blobs need it
as it is (a new dictionary would need a new first byte)."""

_contexts = threading.local()  # Zstandard contexts are not for sharing between threads


def _words() -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(WORDS, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def _compressor() -> zstandard.ZstdCompressor:
    made: zstandard.ZstdCompressor | None = getattr(_contexts, "compressor", None)
    if made is None:
        made = zstandard.ZstdCompressor(level=ZSTD_LEVEL, dict_data=_words(), write_dict_id=False)
        _contexts.compressor = made
    return made


def _decompressor() -> zstandard.ZstdDecompressor:
    made: zstandard.ZstdDecompressor | None = getattr(_contexts, "decompressor", None)
    if made is None:
        made = _contexts.decompressor = zstandard.ZstdDecompressor(dict_data=_words())
    return made


def pack(header: str, body: str, meta: str, paragraphs: Sequence[Sequence[Any]]) -> bytes:
    """The blob of a cable's texts (`meta`: the header fields as JSON text)."""
    index = spans.flat(body)
    fields = json.loads(meta)
    if isinstance(fields.get("summary"), str):
        fields["summary"] = spans.encode(fields["summary"], index)
    paras = [[number, marking, spans.encode(text, index)] for number, marking, text in paragraphs]
    data = json.dumps([header, body, fields, paras], separators=(",", ":"))
    return _WITH_WORDS + _compressor().compress(data.encode())


def _load(blob: bytes) -> list[Any]:
    if blob[:1] == _WITH_WORDS:
        data: list[Any] = json.loads(_decompressor().decompress(blob[1:]))
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
    _decode_summary(fields, body, flat)
    return header, body, fields, out


def body(blob: bytes) -> str:
    """Only the body (for the search index)."""
    text: str = _load(blob)[1]
    return text


def fields(blob: bytes) -> dict[str, Any]:
    """Only the header fields, the summary decoded."""
    data = _load(blob)
    found: dict[str, Any] = data[2]
    _decode_summary(found, data[1])
    return found


def _decode_summary(found: dict[str, Any], body: str, flat: str | None = None) -> None:
    """Put the summary's text in place of its pointers into `body` (`flat`: the body's flat
    form, when already made)."""
    summary = found.get("summary")
    if summary is not None and not isinstance(summary, str):
        found["summary"] = spans.decode(summary, flat if flat is not None else spans.flat(body))
