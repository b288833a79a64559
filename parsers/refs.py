"""The chat grammar: find the cable references and paragraph requests in a chat message.

A reference is a published reference ID (`08MEXICO2498`, any letter case, bare, as a hashtag or
inside a cable-site link) optionally followed by a paragraph request (`¶5`, `paras 5-7`, `:5`,
`#par5`, ...) or preceded by one (`¶5 of 08MEXICO2498`); between two IDs, a list is split at
its last marker (`09OSLO12 ¶9 and ¶2 of 09OSLO777`). Code spans and `<...>` spans are skipped:
in chat they mean "do not expand".

The grammar reads the message without its invisible characters (zero-width spaces and joiners,
soft hyphens, bidi marks, variation selectors: see `is_invisible`) and in NFKC form (fullwidth
`０８ＭＥＸＩＣＯ２４９８` is `08MEXICO2498`); the spans it returns are offsets in the message
as typed.
An ID that is directly followed by `-`, `.`, `_` or `,` and digits that do not begin another ID
(`08MEXICO24-98`) is the front of a longer ID split by a stray character, not a reference.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice, pairwise

from parsers.models import CableRequest
from parsers.vocab import KNOWN_ORIGINS, KNOWN_YEARS, MALFORMED_REF_IDS

MAX_PARAGRAPH = 999
"""The highest paragraph number a request may name; cables stay far below it."""

# Every reference holds two digits and two letters in a row (origins have 3+ letters; the
# malformed IDs too). Starting with a plain class lets `re` skip to digits at C speed, so most
# messages leave here.
_HINT = re.compile(r"[0-9][0-9][A-Za-z][A-Za-z]")
# The same with other characters let in between, for a message that is not ASCII, after NFKC
# (which keeps invisible characters, and makes no ASCII of them).
_LOOSE_HINT = re.compile(r"[0-9][^\x00-\x7f]*+[0-9][^\x00-\x7f]*+[A-Za-z][^\x00-\x7f]*+[A-Za-z]")
_WELL_FORMED = re.compile(r"([0-9]{2})([A-Z]+)[1-9][0-9]{0,5}")
# A maximal ASCII letter/digit run that starts with two digits and holds a letter, and is not
# part of a longer word (an underscore may touch it: `_08MEXICO2498_`, `08MEXICO2498_a.html`).
_TOKEN = re.compile(r"[0-9](?<![^\W_][0-9])[0-9]+[A-Za-z][0-9A-Za-z]*(?![^\W_])")
_HIDDEN = re.compile(r"```.*?```|``(?:[^`]|`(?!`))+?``|`[^`]+`|<[^\s<>][^<>\n]*>", re.DOTALL)

_WS = r"[^\S\n]"  # whitespace within a line; quantified possessively so nothing backtracks
# Digits of any script: `¶٥` asks for a paragraph, which _paragraph_number refuses (never as ¶5)
_NUM = r"\d++(?![A-Za-z])"
_DASHES = "‐‑–—−-"  # hyphens, dashes and minus; `-` last so it stays literal in a class
_RANGE = rf"{_WS}*+(?:[{_DASHES}]|(?i:to|through|thru)(?={_WS}|[0-9]|¶)){_WS}*+(?:¶+{_WS}*+)?"
_ITEM = rf"{_NUM}(?:{_RANGE}{_NUM})?"
# Between items: a comma, `and`, `or` or `&`, each maybe followed by a marker, or a marker alone
# (`¶5 ¶7`). Single-letter markers (`p6`) are not taken inside a list: too often something else.
_INNER = rf"(?:[¶§]+|(?i:paragraphs?|paras?)\.?){_WS}*+#?"
_JOIN = rf"(?:,{_WS}*+(?i:(?:and|or)\b)?|&|(?i:(?:and|or)\b))"
_SEP = rf"{_WS}*+(?:{_JOIN}{_WS}*+(?:{_INNER})?|{_INNER}){_WS}*+"
_LIST = rf"(?>{_ITEM}(?:{_SEP}{_ITEM})*)"
_MARKER = rf"(?:[¶§]+|(?i:paragraphs?|paras?|pars?|pp?)\.?){_WS}*+#?"
_OF = rf"{_WS}++(?i:of|in|from){_WS}++(?:(?i:the){_WS}++)?(?:(?i:cable){_WS}++)?#?"
_FORMAT = r"[*_~|]{0,4}"  # Markdown bold, italics, strike-through and spoiler marks
_BAD = rf"[+{_DASHES}]\d\w*"  # a signed number after a paragraph marker: `¶-5` cannot be read
_BAD_ITEM = rf"(?:{_WS}*+(?:{_JOIN}{_WS}*+)?{_INNER}(?P<bad_item>{_BAD}))?"  # `¶5 and ¶-7`

_AFTER = re.compile(
    r"(?:_[A-Za-z])?(?:\.html?)?(?:"
    rf"{_WS}*+#(?i:par|p)(?:(?P<anchor>{_NUM})|(?P<bad_anchor>[+{_DASHES}]?\d\w*))"
    rf"|[:/](?P<attached>{_LIST})"
    rf"|(?:['’]s)?{_FORMAT}{_WS}*+(?:[,:{_DASHES}]{_WS}*+)?(?:[(\[]{_WS}*+)?{_FORMAT}"
    rf"#?(?:{_MARKER}{_WS}*+(?P<listed>{_LIST}){_BAD_ITEM}[)\]]?|{_INNER}(?P<bad>{_BAD}))"
    r")"
)
_OF_NEXT = re.compile(_OF)
_BEFORE = re.compile(
    rf"(?<![^\W_])(?:{_MARKER}{_WS}*+(?P<listed>{_LIST}){_BAD_ITEM}|{_INNER}(?P<bad>{_BAD}))"
    rf"{_OF}\Z"
)
_SPLIT = re.compile(rf"[-._,{_DASHES}](?=\d)")  # `08MEXICO24-98`: one ID split by a stray mark
_NON_ASCII_RUN = re.compile(r"[\x00-\x7f]?[^\x00-\x7f]+")
_LIST_ITEM = re.compile(rf"({_NUM})(?:{_RANGE}({_NUM}))?")
_REVERSE_REACH = 80
"""How far before an ID the reverse form `paragraphs 5 and 7 of` may start."""


class FoundRequests(list[CableRequest]):
    """The requests found in one message, in order; `truncated` when more were cut."""

    truncated: bool = False


def is_reference_id(text: str) -> bool:
    """True when `text` is exactly a published-style reference ID (upper case, no padding)."""
    if text in MALFORMED_REF_IDS:
        return True
    match = _WELL_FORMED.fullmatch(text)
    return match is not None and match[1] in KNOWN_YEARS and match[2] in KNOWN_ORIGINS


def normalise_ref_id(text: str) -> str | None:
    """The canonical upper-case ID for `text` (`#08mexico2498 ` -> `08MEXICO2498`), or None."""
    candidate = normalise_text(text).strip().removeprefix("#")
    if not (candidate.isascii() and candidate.isalnum()):
        return None
    upper = candidate.upper()
    return upper if is_reference_id(upper) else None


# Default-ignorable characters outside category Cf: combining grapheme joiner, Hangul fillers,
# Khmer inherent vowels, Mongolian and other variation selectors.
_INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)


def is_invisible(char: str) -> bool:
    """True for a character that shows nothing: a format character (category Cf: zero-width
    space and joiners, soft hyphen, bidi marks, BOM, ...) or another default-ignorable one."""
    return unicodedata.category(char) == "Cf" or char in _INVISIBLE


def normalise_text(text: str) -> str:
    """`text` as the grammar reads it: invisible characters removed, then NFKC."""
    return unicodedata.normalize("NFKC", _without(_invisible_in(text), text))


def _invisible_in(text: str) -> set[str]:
    """The invisible characters of `text` (none is ASCII), each checked once."""
    return {c for c in set(text) if c > "\x7f" and is_invisible(c)}


def _without(chars: Collection[str], text: str) -> str:
    for char in chars:
        text = text.replace(char, "")
    return text


@dataclass(frozen=True)
class _View:
    """The text the grammar scans, and where each of its characters came from in the message.

    The message without its `invisible` characters is `shown`; `starts[i]` and `ends[i]` are the
    offsets in `shown` of what NFKC made character i of the scan from (None: the same offsets).
    """

    text: str
    scan: str
    invisible: Collection[str] = ()
    starts: list[int] | None = None
    ends: list[int] | None = None

    @cached_property
    def _kept(self) -> list[int]:
        """The offset in the message of each character of `shown` (built only for a reference)."""
        return [i for i, c in enumerate(self.text) if c not in self.invisible]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The offsets in the message of the scanned span start..end (end > start)."""
        if self.starts is not None and self.ends is not None:
            start, end = self.starts[start], self.ends[end - 1]
        if not self.invisible:
            return start, end
        return self._kept[start], self._kept[end - 1] + 1

    def from_number_forms(self, start: int, end: int) -> bool:
        """True when the span was typed with number forms (`²`, `①`, `Ⅷ`): NFKC reads them as
        digits and letters, but `08MEXICO2498²` is a footnote mark, not 08MEXICO24982."""
        if self.starts is None:
            return False
        first, last = self.span(start, end)
        return any(unicodedata.category(c) in ("No", "Nl") for c in self.text[first:last])


def _view(text: str) -> _View:
    """The scan of a message: invisible characters dropped, code and `<...>` spans blanked, NFKC."""
    if text.isascii():
        return _View(text, _hide(text))
    invisible = _invisible_in(text)
    shown = _without(invisible, text)
    if unicodedata.is_normalized("NFKC", shown):
        return _View(text, _hide(shown), invisible)
    scan, starts, ends = _nfkc(_hide(shown))
    return _View(text, scan, invisible, starts, ends)


def _hide(text: str) -> str:
    """`text` with code spans and `<...>` spans blanked (same length)."""
    if "`" not in text and "<" not in text:
        return text
    return _HIDDEN.sub(lambda m: "\0" * (m.end() - m.start()), text)


def _nfkc(text: str) -> tuple[str, list[int], list[int]]:
    """NFKC of `text`, with the start and end offset in `text` of what made each character.

    ASCII characters are NFKC boundaries, so each ASCII character with the non-ASCII run after
    it is normalised alone (`A` and a combining ring compose); inside a run, characters map
    one by one when that gives the same text, else all of the run's output maps to the run.
    """
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    done = 0
    for run in _NON_ASCII_RUN.finditer(text):
        first, last = run.span()
        pieces.append(text[done:first])
        starts.extend(range(done, first))
        ends.extend(range(done + 1, first + 1))
        whole = unicodedata.normalize("NFKC", run[0])
        parts = [unicodedata.normalize("NFKC", c) for c in run[0]] if whole != run[0] else run[0]
        if "".join(parts) == whole:
            for at, part in enumerate(parts, first):
                starts.extend([at] * len(part))
                ends.extend([at + 1] * len(part))
        else:
            starts.extend([first] * len(whole))
            ends.extend([last] * len(whole))
        pieces.append(whole)
        done = last
    pieces.append(text[done:])
    starts.extend(range(done, len(text)))
    ends.extend(range(done + 1, len(text) + 1))
    return "".join(pieces), starts, ends


@dataclass
class _Ask:
    """What one message asks of one cable so far."""

    ref_id: str
    start: int
    end: int
    paragraphs: set[int] = field(default_factory=set)
    problem: str | None = None


def find_requests(text: str, *, max_requests: int = 5, max_paragraphs: int = 10) -> FoundRequests:
    """Every cable reference in a chat message, in order of appearance, one per cable.

    Paragraphs asked for one cable in several places are merged; a paragraph part that cannot
    be served (¶0, ¶-5, a reversed range, too many paragraphs) comes back as a request with
    `problem` set and no paragraphs. At most `max_requests` come back (`truncated` says so).
    Spans are offsets in `text` as typed. Raises ValueError when a limit is below 1.
    """
    if max_requests < 1 or max_paragraphs < 1:
        raise ValueError(f"limits must be at least 1: {max_requests=}, {max_paragraphs=}")
    if not (
        _HINT.search(text)
        if text.isascii()
        else _LOOSE_HINT.search(unicodedata.normalize("NFKC", text))
    ):
        return FoundRequests()  # most messages, at the speed of one plain search
    view = _view(text)
    scan = view.scan
    asks: dict[tuple[str, str | None], _Ask] = {}
    done = 0
    for token in _TOKEN.finditer(scan):
        start, end = token.span()
        if start < done:
            continue
        ref_id = _canonical(token[0])
        if ref_id is None or _glued(scan, end) or view.from_number_forms(start, end):
            continue
        numbers: list[tuple[str, str]] = []
        before = _BEFORE.search(scan, max(done, start - _REVERSE_REACH), start)
        if before:
            start = before.start()
            numbers += _numbers(before, before["listed"])
        after = _AFTER.match(scan, end)
        own = _own_part(scan, after) if after else None
        if own:
            end, owned = own
            numbers += owned
        done = end
        paragraphs, problem = _paragraphs(numbers, max_paragraphs)
        key = (ref_id, problem)
        if key not in asks:
            asks[key] = _Ask(ref_id, *view.span(start, end), problem=problem)
        asks[key].paragraphs |= paragraphs
    return _finish(asks.values(), max_requests, max_paragraphs)


def _glued(scan: str, end: int) -> bool:
    """True when the ID ending at `end` goes on past a stray separator (`08MEXICO24-98` is not
    08MEXICO24; an ID after it is a list: `ID,ID`) or a combining mark changes its last one."""
    if end < len(scan) and unicodedata.category(scan[end]).startswith("M"):
        return True
    if not _SPLIT.match(scan, end):
        return False
    token = _TOKEN.match(scan, end + 1)
    return token is None or _canonical(token[0]) is None


def _numbers(part: re.Match[str], listed: str | None) -> list[tuple[str, str]]:
    """The (first, last) numbers a paragraph part names; an unreadable one as (text, "")."""
    bad = part["bad"]
    if bad is not None:
        return [(bad, "")]
    numbers: list[tuple[str, str]] = _LIST_ITEM.findall(listed) if listed else []
    if part["bad_item"] is not None:
        numbers.append((part["bad_item"], ""))
    return numbers


def _own_part(scan: str, after: re.Match[str]) -> tuple[int, list[tuple[str, str]]] | None:
    """Where the paragraph part after an ID ends and its numbers, as far as they are the ID's.

    A part followed by `of <ID>` belongs to that later ID (`08MEXICO2498 ¶5 of 09STATE1`),
    except the items before its last marker: `09OSLO12 ¶9 and ¶0 of 09OSLO777` keeps ¶9 here.
    """
    if after["bad_anchor"] is not None:
        return after.end(), [(after["bad_anchor"], "")]
    listed = after["anchor"] or after["attached"] or after["listed"]
    if scan[after.end() - 1] in ")]" or not _cites_next(scan, after.end()):
        return after.end(), _numbers(after, listed)
    if after["listed"] is None:
        return None
    base = after.start("listed")
    items = list(_LIST_ITEM.finditer(scan, base, after.end("listed")))
    gaps = [(item.end(), later.start()) for item, later in pairwise(items)]
    if after["bad_item"] is not None:
        gaps.append((after.end("listed"), after.start("bad_item")))
    for end, later in reversed(gaps):
        if any(mark in scan[end:later] for mark in "¶§pP"):
            return end, _LIST_ITEM.findall(scan[base:end])
    return None


def _cites_next(scan: str, at: int) -> bool:
    """True when `of <ID>` (or `in`, `from`) starts at `at`: the reverse form of a later ID."""
    of = _OF_NEXT.match(scan, at)
    token = _TOKEN.match(scan, of.end()) if of else None
    return token is not None and _canonical(token[0]) is not None


def _canonical(token: str) -> str | None:
    upper = token.upper()
    return upper if is_reference_id(upper) else None


def _paragraphs(numbers: list[tuple[str, str]], cap: int) -> tuple[set[int], str | None]:
    """The paragraphs a list of (first, last) numbers names, or the reason it cannot be served."""
    ranges: list[tuple[int, int]] = []
    for first_text, last_text in numbers:
        first = _paragraph_number(first_text)
        last = _paragraph_number(last_text) if last_text else first
        if first is None or last is None:
            bad = first_text if first is None else last_text
            return set(), f"¶{_shorten(bad)} is not a paragraph number"
        if last < first:
            return set(), f"¶{first}-{last} is a reversed range"
        ranges.append((first, last))
    count = _count(ranges)
    if count > cap:
        spelled = ",".join(f"{a}-{b}" if a != b else str(a) for a, b in ranges)
        return set(), f"¶{_shorten(spelled, 24)} asks for {count} paragraphs; the limit is {cap}"
    return {number for first, last in ranges for number in range(first, last + 1)}, None


def _count(ranges: list[tuple[int, int]]) -> int:
    """How many distinct numbers the inclusive ranges cover."""
    count = reach = 0
    for first, last in sorted(ranges):
        count += max(0, last - max(first, reach + 1) + 1)
        reach = max(reach, last)
    return count


def _paragraph_number(digits: str) -> int | None:
    if not (digits.isascii() and digits.isdigit()):  # `int` reads "-5" and "٥" too
        return None
    significant = digits.lstrip("0")
    if not significant or len(significant) > len(str(MAX_PARAGRAPH)):
        return None
    number = int(significant)
    return number if number <= MAX_PARAGRAPH else None


def _shorten(text: str, limit: int = 8) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _finish(asks: Collection[_Ask], max_requests: int, cap: int) -> FoundRequests:
    found = FoundRequests()
    found.truncated = len(asks) > max_requests
    for ask in islice(asks, max_requests):
        paragraphs, problem = tuple(sorted(ask.paragraphs)), ask.problem
        if len(paragraphs) > cap:
            problem = (
                f"{len(paragraphs)} paragraphs asked of {ask.ref_id} in all; the limit is {cap}"
            )
            paragraphs = ()
        found.append(
            CableRequest(
                ref_id=ask.ref_id,
                paragraphs=paragraphs,
                start=ask.start,
                end=ask.end,
                problem=problem,
            )
        )
    return found
