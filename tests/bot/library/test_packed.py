"""The blob a cable's texts are stored in: what goes in comes out, in this format and the last."""

from __future__ import annotations

import hashlib
import json
import zlib

from bot.library import packed

HEADER = "R 141842Z AUG 08\nFM AMEMBASSY MEXICO"
BODY = "UNCLAS MEXICO 002498\n\n1. (U) First  paragraph\nwraps here.\n\n2. (SBU) Second one."
META = {"tags": ["PREL", "MX"], "references": [], "summary": "First paragraph wraps here."}
PARAGRAPHS = [(1, "U", "First paragraph wraps here."), (2, "SBU", "Second one.")]


def test_what_is_packed_comes_back() -> None:
    blob = packed.pack(HEADER, BODY, json.dumps(META), PARAGRAPHS)
    assert packed.unpack(blob) == (HEADER, BODY, META, PARAGRAPHS)
    assert packed.body(blob) == BODY
    assert packed.fields(blob) == META


def test_paragraphs_and_summary_are_not_stored_twice() -> None:
    """Paragraph texts and the summary are pointers into the body, not copies."""
    blob = packed.pack(HEADER, BODY, json.dumps(META), PARAGRAPHS)
    stored = packed._load(blob)
    assert stored[0] == HEADER and stored[1] == BODY
    assert all(not isinstance(code, str) for _, _, code in stored[3])
    assert not isinstance(stored[2]["summary"], str)


def test_blobs_of_the_previous_format_still_read() -> None:
    """Schema 5 stores hold zlib-compressed JSON with whole texts."""
    old = zlib.compress(json.dumps([HEADER, BODY, META, PARAGRAPHS]).encode(), 3)
    assert packed.unpack(old) == (HEADER, BODY, META, PARAGRAPHS)
    assert packed.body(old) == BODY
    assert packed.fields(old) == META


def test_the_dictionary_never_changes() -> None:
    """Stored blobs need the dictionary they were compressed with: a changed one would need a
    new first byte, and this test pins the bytes of the current one."""
    blob = packed.pack(HEADER, BODY, json.dumps(META), PARAGRAPHS)
    assert blob[:1] == b"\x01"
    assert hashlib.sha256(packed.WORDS).hexdigest() == (
        "86a2ce335bffe26767618aa59fb6186d4589012c744af722743f0d6000738f59"
    )
