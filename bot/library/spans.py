"""Paragraph texts kept as pointers into their cable's body, so that the store holds each text once.

A paragraph is, word for word, mostly one stretch of the body: the parser joins its wrapped lines
into one and drops the number, the marking and any page-break lines. `encode` writes a paragraph
as the stretches of the body that hold its words (`start, end` character offsets), the words not
found there spelled out, and the whitespace that is not one space; `decode` rebuilds the exact
text. Only words are compared, so every text round-trips whatever the parser did to it; a text
that is mostly not in the body is kept as it is.

Decoding is a few slices and `str.split`/`str.join` calls, so reading a cable costs about what it
did when the texts were stored whole.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from itertools import accumulate

Code = str | list[list[int | str]]
"""A text as stored: the text itself, or `[pieces, gaps]` (see `encode`)."""

_ODD_GAP = re.compile(r"\s{2,}|[^\S ]")
"""Whitespace between words that is not one space."""
_CANDIDATES = 16
"""How many places of a word in the body are tried as the start of a stretch."""


class Body:
    """A cable's body, indexed once for all the texts encoded against it. Offsets are into
    `flat`, the body's words joined by single spaces."""

    def __init__(self, text: str) -> None:
        self.words = text.split()
        self.flat = " ".join(self.words)
        self._starts: list[int] | None = None
        self._places: dict[str, list[int]] | None = None

    def places(self, word: str) -> list[int]:
        """The indexes of `word` among the body's words, in order."""
        if self._places is None:
            places: defaultdict[str, list[int]] = defaultdict(list)
            for i, w in enumerate(self.words):
                places[w].append(i)
            self._places = dict(places)
        return self._places.get(word, [])

    def run(self, start: int, words: list[str], i: int) -> int:
        """How many of `words[i:]` are the body's words from index `start` on."""
        mine, n = self.words, 0
        while i + n < len(words) and start + n < len(mine) and mine[start + n] == words[i + n]:
            n += 1
        return n

    def stretch(self, first: int, count: int) -> list[int | str]:
        """The offsets in `flat` of the body's words `first` to `first + count - 1`."""
        if self._starts is None:
            self._starts = list(accumulate((len(w) + 1 for w in self.words[:-1]), initial=0))
        last = first + count - 1
        return [self._starts[first], self._starts[last] + len(self.words[last])]


def flat(body: str) -> str:
    """What `decode` needs of a body: its words joined by single spaces."""
    return " ".join(body.split())


def _whole(flat: str, body: Body) -> int | None:
    """Where `flat` (words joined by single spaces) starts in `body.flat`, if it is there as
    whole words."""
    at = body.flat.find(flat)
    while at >= 0:
        end = at + len(flat)
        if (at == 0 or body.flat[at - 1] == " ") and (
            end == len(body.flat) or body.flat[end] == " "
        ):
            return at
        at = body.flat.find(flat, at + 1)
    return None


def _pieces(words: list[str], body: Body) -> tuple[list[int | str], int]:
    """Stretches of the body (offset pairs) and spelled-out words that make `words`, in order,
    and how many characters are spelled out."""
    pieces: list[int | str] = []
    cursor = i = spelled = 0
    while i < len(words):
        best, best_len = -1, 1
        places = body.places(words[i])
        after = bisect_right(places, cursor - 1)
        ahead = places[after : after + _CANDIDATES] or places[:_CANDIDATES]
        for place in ahead:
            length = body.run(place, words, i)
            if length > best_len:
                best, best_len = place, length
        if best < 0:
            pieces.append(words[i])
            spelled += len(words[i])
            i += 1
            continue
        pieces += body.stretch(best, best_len)
        cursor = best + best_len
        i += best_len
    return pieces, spelled


def encode(text: str, body: Body) -> Code:
    """`text` as `[pieces, gaps]`: `pieces` are `start, end` offset pairs of stretches of the
    body and spelled-out words, whose words joined by single spaces make the text's words;
    `gaps` are `position, whitespace` pairs where that joined text has a space the text has not.
    `text` itself when it starts or ends with whitespace or is mostly not in the body."""
    words = text.split()
    if not words or text[0].isspace() or text[-1].isspace():
        return text
    flat = " ".join(words)
    at = _whole(flat, body)
    if at is not None:
        pieces: list[int | str] = [at, at + len(flat)]
    else:
        pieces, spelled = _pieces(words, body)
        if spelled * 2 > len(flat):
            return text
    gaps: list[int | str] = []
    shrunk = 0  # how much shorter the joined text is than `text` before this gap
    for m in _ODD_GAP.finditer(text):  # single spaces change no offset
        gaps += (m.start() - shrunk, m.group())
        shrunk += len(m.group()) - 1
    return [pieces, gaps]


def decode(code: Code, flat_body: str) -> str:
    """The text that `encode` wrote as `code`, given the body's `flat` form."""
    if isinstance(code, str):
        return code
    pieces, gaps = code
    parts: list[str] = []
    items = iter(pieces)
    for item in items:
        if isinstance(item, str):
            parts.append(item)
        else:
            parts.append(flat_body[item : int(next(items))])
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
