"""Posts for social networks: a quote, the link to the paragraph and `#cablegate #REFID`,
cut to fit each network's limit as that network counts it.

- X: 280 by twitter-text's weighting. The text is NFC-normalised; each link counts 23; code
  points in U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F and U+2032-U+2037 count 1, every other
  code point 2; an emoji (one grapheme: a pictograph, a flag, a keycap, a skin-tone or ZWJ
  sequence) counts 2 in total.
- Mastodon: 500 code points, each link counted as 23.
- Bluesky: 300 graphemes (extended grapheme clusters, Unicode's UAX #29).

A link is an http(s) URL with a dotted host; punctuation ending a sentence is not part of it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Literal, NamedTuple

from parsers.models import Cable

if TYPE_CHECKING:
    import regex

Network = Literal["x", "mastodon", "bluesky"]
NETWORKS: tuple[Network, ...] = ("x", "mastodon", "bluesky")
LINK_LENGTH = 23
"""What X and Mastodon count for any link, however long."""
ELLIPSIS = "…"

_URL = re.compile(
    r"https?://[^\s/?#.]+(?:\.[^\s/?#.]+)+(?:[/?#]\S*?)?(?=[.,;:!?)\]'\"]*(?:\s|$))",
    re.IGNORECASE,
)


@cache
def _unicode_patterns() -> tuple[regex.Pattern[str], regex.Pattern[str]]:
    """A grapheme and an emoji, compiled on first use: `regex` is imported only for text that
    needs it (a card's post of plain text never does)."""
    import regex

    return regex.compile(r"\X"), regex.compile(
        r"\p{Regional_Indicator}|\p{Emoji_Modifier}|\u20E3|\p{Emoji_Presentation}"
        r"|\p{Extended_Pictographic}[\uFE0F\u200D]"
    )


def _graphemes(text: str) -> list[str]:
    """`text` cut into extended grapheme clusters."""
    return _unicode_patterns()[0].findall(text)


def _is_emoji(cluster: str) -> bool:
    """Whether the grapheme `cluster` is an emoji (X counts it 2)."""
    return _unicode_patterns()[1].search(cluster) is not None


_X_SINGLE = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_X_NOT_SINGLE = re.compile("[^" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _X_SINGLE) + "]")
"""A code point outside the single-weight ranges: text without one counts one per code point
(no emoji either: every emoji has a code point outside them)."""
_MAYBE_EMOJI = re.compile("[\u200d\u20e3\ufe0f\u231a-\U0010ffff]")
"""A code point without which a word holds no emoji: each has one from U+231A up (the first
Emoji_Presentation; regional indicators and skin tones are above it), a keycap, or a
pictograph followed by a variation selector or a joiner."""
_SENTENCE_END = re.compile(r"[.!?][\"')\]]?(?=\s)")


def _x_weight(char: str) -> int:
    code = ord(char)
    return 1 if any(lo <= code <= hi for lo, hi in _X_SINGLE) else 2


def _split_links(text: str) -> tuple[list[str], int]:
    """The text between links, and how many links there are."""
    return _URL.split(text), len(_URL.findall(text))


def x_length(text: str) -> int:
    """`text`'s length as X counts it (see the module docstring)."""
    pieces, links = _split_links(unicodedata.normalize("NFC", text))
    return links * LINK_LENGTH + sum(_x_words(piece) for piece in pieces)


def _x_words(text: str) -> int:
    """X's count of text without links. Only words that may hold an emoji are cut into
    graphemes: no emoji holds a space, and other graphemes count the sum of their code points'
    weights wherever they are cut."""
    total = text.count(" ")
    for word in text.split(" "):
        if not _X_NOT_SINGLE.search(word):
            total += len(word)
            continue
        if not _MAYBE_EMOJI.search(word):  # (a cut quote's "…": no need for graphemes)
            total += sum(_x_weight(c) for c in word)
            continue
        for cluster in _graphemes(word):
            total += 2 if _is_emoji(cluster) else sum(_x_weight(c) for c in cluster)
    return total


def mastodon_length(text: str) -> int:
    """`text`'s length as Mastodon counts it: code points, each link 23."""
    pieces, links = _split_links(text)
    return links * LINK_LENGTH + sum(len(p) for p in pieces)


def bluesky_length(text: str) -> int:
    """`text`'s length as Bluesky counts it: extended grapheme clusters."""
    return len(_graphemes(text))


LIMITS: dict[Network, int] = {"x": 280, "mastodon": 500, "bluesky": 300}
COUNTERS: dict[Network, Callable[[str], int]] = {
    "x": x_length,
    "mastodon": mastodon_length,
    "bluesky": bluesky_length,
}


def length(text: str, network: Network) -> int:
    """`text`'s length as `network` counts it."""
    return COUNTERS[network](text)


def fits(text: str, network: Network) -> bool:
    """True when `network` accepts `text` (its count is within the limit)."""
    return length(text, network) <= LIMITS[network]


def _post(quote: str, tail: str) -> str:
    return f"“{quote}” {tail}" if quote else tail


def _largest(count: int, ok: Callable[[int], bool]) -> int:
    """The largest i in [0, count) with ok(i), for ok true up to some point; -1 if none."""
    lo, hi = 0, count - 1
    best = -1
    while lo <= hi:
        mid = (lo + hi) // 2
        if ok(mid):
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    return best


def _cut_quote(words: str, tail: str, fit: Callable[[str], bool]) -> str:
    """The longest cut of `words` (at a sentence, a word, or failing both a grapheme) whose
    post fits; "" when none does."""
    spaces = [m.start() for m in re.finditer(" ", words)]

    def cut(i: int) -> str:
        return words[: spaces[i]].rstrip(" ,;:-–") + ELLIPSIS

    best = _largest(len(spaces), lambda i: fit(_post(cut(i), tail)))
    if best >= 0:
        word_cut = spaces[best]
        ends = [m.end() for m in _SENTENCE_END.finditer(words, 0, word_cut + 1)]
        for end in reversed(ends):
            if end < word_cut // 2:
                break
            sentence = f"{words[:end]} {ELLIPSIS}"
            if fit(_post(sentence, tail)):
                return sentence
        return cut(best)
    graphemes = _graphemes(words)

    def head(i: int) -> str:
        return "".join(graphemes[: i + 1]) + ELLIPSIS

    best = _largest(len(graphemes) - 1, lambda i: fit(_post(head(i), tail)))
    return head(best) if best >= 0 else ""


def post_text(snippet: str, url: str, hashtags: Sequence[str], network: Network = "x") -> str:
    """`“snippet” URL #hashtags`, the snippet cut with "…" so that `network` accepts the post.

    When even the link and hashtags do not fit, the post is the hashtags (or the link) alone.
    """

    def fit(text: str) -> bool:
        return fits(text, network)

    tail = " ".join([url, *hashtags])
    if not fit(tail):
        tail = " ".join(hashtags) if fit(" ".join(hashtags)) else url
    words = " ".join(snippet.split())
    if words and fit(_post(words, tail)):
        return _post(words, tail)
    if not fit(tail):
        graphemes = _graphemes(tail)
        n = _largest(len(graphemes) + 1, lambda i: fit("".join(graphemes[:i])))
        return "".join(graphemes[: max(n, 0)])
    return _post(_cut_quote(words, tail, fit), tail) if words else tail


class Quote(NamedTuple):
    """What a share shows of a cable: one paragraph (or the preview) and the header."""

    ref_id: str
    heading: str
    """`¶5 (C)`, or `Summary` / `¶1 (C)` for a bare ID's preview."""
    text: str
    number: int | None
    subject: str
    classification: str
    origin: str
    created: datetime | None


def quote_of(cable: Cable, paragraphs: Sequence[int]) -> Quote:
    """The first asked-for paragraph of `cable`, or its summary or first paragraph."""
    header = (
        " ".join(cable.subject.split()),
        cable.classification,
        cable.origin,
        cable.created,
    )
    for n in paragraphs:
        if (p := cable.paragraph(n)) is not None:
            heading = f"¶{p.number}" + (f" ({p.marking})" if p.marking else "")
            return Quote(cable.ref_id, heading, p.text, p.number, *header)
    if cable.summary:
        return Quote(cable.ref_id, "Summary", cable.summary, None, *header)
    if cable.paragraphs:
        p = cable.paragraphs[0]
        heading = f"¶{p.number}" + (f" ({p.marking})" if p.marking else "")
        return Quote(cable.ref_id, heading, p.text, p.number, *header)
    return Quote(cable.ref_id, "", "", None, *header)
