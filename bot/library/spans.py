"""Paragraph texts kept as pointers into their cable's body, so that the store holds each text once.

A paragraph is, word for word, mostly one stretch of the body: the parser joins its wrapped lines
into one and drops the number, the marking and any page-break lines. `encode` writes a paragraph
as the stretches of the body that hold its words (`start, end` offsets into the body with its
words joined by single spaces), the words not found there spelled out, and the whitespace that is
not one space; `decode` rebuilds the exact text. Only words are compared, so every text
round-trips whatever the parser did to it; a text that is mostly not in the body is kept as it is.

Both ways are a few `str.find`, `str.split` and `str.join` calls: on generated cables encoding
costs about 0.1 ms of CPU a cable (in the importer's parsing processes) and decoding 0.04 ms.
"""

from __future__ import annotations

import re

Code = str | list[list[int | str]]
"""A text as stored: the text itself, or `[pieces, gaps]` (see `encode`)."""

_ODD_GAP = re.compile(r"\s{2,}|[^\S ]")
"""Whitespace between words that is not one space."""


def flat(body: str) -> str:
    """A body as `encode` and `decode` see it: its words joined by single spaces."""
    return " ".join(body.split())


def _find(words: str, body: str) -> int:
    """Where `words` (joined by single spaces) is in `body` (flat) as whole words, or -1."""
    at = body.find(words)
    while at >= 0:
        end = at + len(words)
        if (at == 0 or body[at - 1] == " ") and (end == len(body) or body[end] == " "):
            return at
        at = body.find(words, at + 1)
    return -1


def _pieces(words: list[str], body: str) -> tuple[list[int | str], int]:
    """Stretches of `body` (offset pairs) and spelled-out words that make `words`, in order, and
    how many characters are spelled out. Each stretch is the longest run of the next words that
    the body holds (a binary search: if a run is in the body, so is every shorter one)."""
    pieces: list[int | str] = []
    i = spelled = 0
    while i < len(words):
        low, high, at = 1, len(words) - i, -1  # the longest run known to be there, and where
        while low < high:
            mid = (low + high + 1) // 2
            found = _find(" ".join(words[i : i + mid]), body)
            if found >= 0:
                low, at = mid, found
            else:
                high = mid - 1
        if at < 0:  # no run of two words or more: not worth a stretch
            pieces.append(words[i])
            spelled += len(words[i])
            i += 1
            continue
        pieces += (at, at + len(" ".join(words[i : i + low])))
        i += low
    return pieces, spelled


def encode(text: str, body: str) -> Code:
    """`text` as `[pieces, gaps]` against `body` (flat): `pieces` are `start, end` offset pairs of
    stretches of the body and spelled-out words, whose words joined by single spaces make the
    text's words; `gaps` are `position, whitespace` pairs where that joined text has a space the
    text has not. `text` itself when it starts or ends with whitespace or is mostly not in the
    body."""
    words = text.split()
    if not words or text[0].isspace() or text[-1].isspace():
        return text
    joined = " ".join(words)
    at = _find(joined, body)
    if at >= 0:
        pieces: list[int | str] = [at, at + len(joined)]
    else:
        pieces, spelled = _pieces(words, body)
        if spelled * 2 > len(joined):
            return text
    gaps: list[int | str] = []
    shrunk = 0  # how much shorter the joined text is than `text` before this gap
    for m in _ODD_GAP.finditer(text) if joined != text else ():  # single spaces move nothing
        gaps += (m.start() - shrunk, m.group())
        shrunk += len(m.group()) - 1
    return [pieces, gaps]


def decode(code: Code, body: str) -> str:
    """The text that `encode` wrote as `code` against `body` (flat)."""
    if isinstance(code, str):
        return code
    pieces, gaps = code
    parts: list[str] = []
    items = iter(pieces)
    for item in items:
        if isinstance(item, str):
            parts.append(item)
        else:
            parts.append(body[item : int(next(items))])
    text = " ".join(parts)
    if not gaps:
        return text
    out: list[str] = []
    last = 0
    for k in range(0, len(gaps), 2):
        at = int(gaps[k])
        out += (text[last:at], str(gaps[k + 1]))
        last = at + 1
    out.append(text[last:])
    return "".join(out)
