"""The card: everything the bot shows for one cable request, as pure data.

`build_card` turns a parsed Cable and a CableRequest into a Card that both renderers (Discord
embeds and the terminal) use unchanged. Every card fits the Discord embed limits within the
character budget it is given, by construction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from bot.share import LIMITS, post_text
from bot.text import plural
from parsers.models import SITE_URL, Cable, CableRequest, Paragraph

TITLE_MAX = 256
FIELD_MAX = 1024
DESCRIPTION_MAX = 4096
MESSAGE_MAX = 6000
"""Discord's limit on the characters of all embeds of one message."""
POST_MAX = LIMITS["x"]
"""The post citation fits X: at most 280 as X counts (bot.share.x_length)."""
MIN_BUDGET = MESSAGE_MAX // 10
"""The smallest card budget: ten cards, Discord's embed cap per message."""
ELLIPSIS = "…"

COLOURS: dict[str, int] = {
    "SECRET": 0xC0392B,
    "NOFORN": 0x8E44AD,
    "CONFIDENTIAL": 0xE67E22,
    "FOUO": 0x2980B9,
    "UNCLASSIFIED": 0x27AE60,
    "OTHER": 0x95A5A6,
}

_SENTENCE_END = re.compile(r"[.!?][\"')\]]?(?=\s)")
_ORIGIN_PREFIX = re.compile(
    r"^(?:U\.?S\.?\s+)?(?:Embassy|Consulate|Consulate General|Mission|Interests Section|"
    r"Office|Liaison Office|Delegation)\s+(?:to\s+(?:the\s+)?)?",
    re.IGNORECASE,
)
_SMALL_WORDS = frozenset("a an and as at but by for in nor of on or the to via".split())  # noqa: SIM905
_KEEP_CASE = re.compile(r"[0-9.]")
_BIBTEX_SPECIAL = re.compile(r"([{}%&#_$\\])")
_MONTHS = tuple(date(2000, m, 1).strftime("%B") for m in range(1, 13))
Block = tuple[str, str, int | None]
"""A quote block: heading (`¶5 (SBU)`), text, paragraph number (None for the summary)."""


class CardField(BaseModel):
    """One name/value pair shown under the card's title."""

    model_config = ConfigDict(frozen=True)

    name: str
    value: str
    inline: bool = True


class Card(BaseModel):
    """What the bot shows for one request; rendered by bot.discord.embeds and the terminal alike."""

    model_config = ConfigDict(frozen=True)

    ref_id: str
    paragraphs: tuple[int, ...] = ()
    """The paragraphs asked for and quoted; empty for a bare ID, whose card previews the
    summary or the first paragraph and links and cites the whole cable."""
    title: str
    url: str
    color: int
    fields: tuple[CardField, ...] = ()
    quote: str = ""
    hashtags: tuple[str, ...] = ()
    topic_hashtags: tuple[str, ...] = ()
    citations: dict[str, str] = {}
    footer: str = ""
    previous_paragraph: int | None = None
    next_paragraph: int | None = None

    @property
    def description(self) -> str:
        """The embed description: the quote, then the hashtag lines."""
        lines = [self.quote] if self.quote else []
        if self.hashtags:
            lines.append(" ".join(self.hashtags))
        if self.topic_hashtags:
            lines.append("-# " + " ".join(self.topic_hashtags))
        return "\n\n".join(lines)

    def size(self) -> int:
        """Characters Discord counts for this card's embed (title, description, fields, footer)."""
        fields = sum(len(f.name) + len(f.value) for f in self.fields)
        return len(self.title) + len(self.description) + fields + len(self.footer)


def colour_for(classification: str) -> int:
    """The card colour for a header classification (SECRET, NOFORN, CONFIDENTIAL, FOUO, ...)."""
    text = classification.upper()
    if "SECRET" in text:
        return COLOURS["SECRET"]
    if "NOFORN" in text:
        return COLOURS["NOFORN"]
    if "CONFIDENTIAL" in text:
        return COLOURS["CONFIDENTIAL"]
    if "FOUO" in text or "OFFICIAL USE" in text:
        return COLOURS["FOUO"]
    if "UNCLASSIFIED" in text:
        return COLOURS["UNCLASSIFIED"]
    return COLOURS["OTHER"]


def shorten(text: str, limit: int, *, sentences: bool = False) -> str:
    """`text` cut to at most `limit` characters at a sentence or word boundary, with "…"."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS if limit == len(ELLIPSIS) else ""
    room = limit - len(ELLIPSIS)
    if sentences:
        ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, room)]
        if ends and ends[-1] >= room // 2:
            return text[: ends[-1]] + " " + ELLIPSIS
    head = text[:room]
    space = head.rfind(" ")
    if space >= room // 2:
        head = head[:space]
    return head.rstrip(" ,;:-–") + ELLIPSIS


def cut_list(items: Sequence[str], limit: int, sep: str = "\n") -> str:
    """Items joined by `sep`, dropping the tail (with a "+N more" note) to fit `limit`."""
    whole = sep.join(items)
    if len(whole) <= limit:  # (the loop keeps room for a note that is not needed then)
        return whole
    out: list[str] = []
    used = 0
    for i, item in enumerate(items):
        rest = len(items) - i - 1
        more = f"{sep}+{rest} more" if rest else ""
        piece = (sep if out else "") + item
        if used + len(piece) + len(more) > limit:
            note = f"+{len(items) - i} more"
            tail = (sep if out else "") + note
            if used + len(tail) <= limit:
                out.append(tail)
            break
        out.append(piece)
        used += len(piece)
    return shorten("".join(out), limit)


def title_case(text: str) -> str:
    """An all-caps cable subject in title case ("Scenesetter for Senator Specter's Visit")."""
    out: list[str] = []
    for i, word in enumerate(text.split(" ")):
        lower = word.lower()
        if not word or _KEEP_CASE.search(word):
            out.append(word)
        elif i and lower in _SMALL_WORDS:
            out.append(lower)
        else:
            out.append(lower[:1].upper() + lower[1:])
    return " ".join(out)


def hashtag(text: str) -> str | None:
    """`text` as a CamelCase hashtag (#SaudiArabia), or None when nothing usable remains."""
    words = re.findall(r"[^\W_]+", text)
    tag = "".join(w[:1].upper() + w[1:] if not w.isupper() else w.title() for w in words)
    return f"#{tag}" if tag and not tag.isdigit() else None


def site_hashtags(ref_id: str) -> tuple[str, ...]:
    """The cable site's own convention: `#cablegate #<REFID>`."""
    return ("#cablegate", f"#{ref_id}")


def topic_hashtags(
    cable: Cable, tag_meanings: Mapping[str, str] | None = None, *, limit: int = 4
) -> tuple[str, ...]:
    """Optional topic hashtags from the origin (`#Mexico`) and short TAGS meanings."""
    found: list[str] = []
    place = _ORIGIN_PREFIX.sub("", cable.origin).strip()
    candidates = [place] if place and len(place) <= 30 else []
    for code in cable.tags:
        meaning = (tag_meanings or {}).get(code)
        if meaning and len(meaning.split()) <= 2:
            candidates.append(meaning)
    for candidate in candidates:
        tag = hashtag(candidate)
        if tag and tag.lower() not in {t.lower() for t in found} and len(tag) <= 32:
            found.append(tag)
    return tuple(found[:limit])


def full_title(cable: Cable) -> str:
    """`08MEXICO2498: SUBJECT`, cut at a word with "…" to fit the 256-character title."""
    subject = " ".join(cable.subject.split())
    return shorten(f"{cable.ref_id}: {subject}" if subject else cable.ref_id, TITLE_MAX)


def _date(value: datetime | None) -> str:
    if value is None:
        return "unknown"
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:{value.minute:02d}"


def _long_date(value: datetime | None) -> str:
    return f"{_MONTHS[value.month - 1]} {value.day}, {value.year}" if value else "n.d."


def _para_label(paragraphs: Sequence[int]) -> str:
    if not paragraphs:
        return ""
    if len(paragraphs) > 1 and list(paragraphs) == list(range(paragraphs[0], paragraphs[-1] + 1)):
        return f"¶{paragraphs[0]}-{paragraphs[-1]}"
    return ", ".join(f"¶{n}" for n in paragraphs)


def _bibtex_escape(text: str) -> str:
    return _BIBTEX_SPECIAL.sub(r"\\\1", text)


def citations(cable: Cable, paragraphs: Sequence[int], url: str, snippet: str) -> dict[str, str]:
    """The citation styles: plain, markdown, chicago, bibtex and a post that X accepts."""
    subject = " ".join(cable.subject.split()) or "(no subject)"
    para = _para_label(paragraphs)
    at = f", {para}" if para else ""
    origin = cable.origin or "US Department of State"
    classification = cable.classification or "unknown classification"
    plain = (
        f'{origin}, "{subject}", cable {cable.ref_id}{at}, {_long_date(cable.created)}, '
        f"{classification}. {url}"
    )
    markdown = f"[{cable.ref_id}{' ' + para if para else ''}: {subject}]({url})"
    released = f", released by WikiLeaks {_long_date(cable.released)}" if cable.released else ""
    chicago = (
        f'{origin}, "{title_case(subject)}," cable {cable.ref_id}, '
        f"{_long_date(cable.created)}{at}{released}, {url}."
    )
    year = f"{cable.created.year}" if cable.created else ""
    month = _MONTHS[cable.created.month - 1][:3].lower() if cable.created else ""
    bib = [
        f"@misc{{cable:{cable.ref_id},",
        f"  author = {{{{{_bibtex_escape(origin)}}}}},",
        f"  title = {{{{{_bibtex_escape(subject)}}}}},",
        f"  howpublished = {{Diplomatic cable {cable.ref_id}"
        f"{', ' + _bibtex_escape(para) if para else ''}, {_bibtex_escape(classification)}}},",
    ]
    if year:
        bib += [f"  year = {{{year}}},", f"  month = {month},"]
    if cable.released:
        bib.append(f"  note = {{Released by WikiLeaks {cable.released:%Y-%m-%d}}},")
    bib += [f"  url = {{{url}}},", "}"]
    return {
        "plain": plain,
        "markdown": markdown,
        "chicago": chicago,
        "bibtex": "\n".join(bib),
        "post": post_text(snippet, url, site_hashtags(cable.ref_id), "x"),
    }


def _block_quote(text: str) -> str:
    """`text` as a Markdown block quote; lines end at "\n" only, as `_quote_block` counts them
    (`splitlines` would also split at \x1c-\x1e, \x85, \u2028 and add a "> " for each)."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.strip().split("\n"))


def _quote_block(heading: str, text: str, limit: int, link: str) -> str:
    """`**heading**` then `text` as a block quote, cut to `limit` with a link when too long."""
    head = f"**{heading}**\n"
    body = _block_quote(text)
    if len(head) + len(body) <= limit:
        return head + body
    more = f"\n[Read more]({link})"
    room = limit - len(head) - len(more)
    if room < 40:
        return shorten(head + f"[Read {heading}]({link})", limit)
    lines = text.strip()[:room].count("\n") + 1  # each line costs "> " in the quote
    return head + _block_quote(shorten(text, room - 2 * lines, sentences=True)) + more


def _fields(
    cable: Cable,
    tag_meanings: Mapping[str, str] | None,
    cites: Sequence[str],
    cited_by_count: int | None,
    limit: int,
) -> tuple[CardField, ...]:
    """The fields, each value cut to `limit` (at most 1024) characters."""
    limit = min(limit, FIELD_MAX)
    fields = [
        CardField(name="Origin", value=shorten(cable.origin, limit) or "unknown"),
        CardField(name="Created", value=_date(cable.created)),
        CardField(name="Released", value=_date(cable.released)),
        CardField(name="Classification", value=shorten(cable.classification, limit) or "unknown"),
    ]
    if cable.tags:
        lines = [
            f"{code} {tag_meanings[code]}" if tag_meanings and code in tag_meanings else code
            for code in cable.tags
        ]
        fields.append(CardField(name="TAGS", value=cut_list(lines, limit), inline=False))
    if cites:
        fields.append(CardField(name="Cites", value=cut_list(list(cites), limit, ", ")))
    if cited_by_count:
        fields.append(
            CardField(name="Cited by", value=f"{cited_by_count} cable{'s' * (cited_by_count != 1)}")
        )
    return tuple(fields)


def _neighbours(cable: Cable, shown: Sequence[int]) -> tuple[int | None, int | None]:
    numbers = sorted({p.number for p in cable.paragraphs})
    if not numbers:
        return None, None
    first, last = (shown[0], shown[-1]) if shown else (0, 0)
    before = [n for n in numbers if n < first]
    after = [n for n in numbers if n > last]
    return (before[-1] if before else None), (after[0] if after else None)


def _heading(p: Paragraph) -> str:
    return f"¶{p.number}" + (f" ({p.marking})" if p.marking else "")


def _quoted(cable: Cable, request: CableRequest) -> tuple[list[Block], str, bool]:
    """(heading, text, paragraph number) blocks to quote, the snippet for the post, and
    whether the blocks only preview the cable (no asked-for paragraph is among them)."""
    wanted: list[Paragraph] = [
        p for n in request.paragraphs if (p := cable.paragraph(n)) is not None
    ]
    if wanted:
        return [(_heading(p), p.text, p.number) for p in wanted], wanted[0].text, False
    if cable.summary:
        return [("Summary (preview)", cable.summary, None)], cable.summary, True
    if cable.paragraphs:
        p = cable.paragraphs[0]
        return [(f"Preview: {_heading(p)}", p.text, p.number)], p.text, True
    return [], "", True


def build_card(
    cable: Cable,
    request: CableRequest,
    *,
    tag_meanings: Mapping[str, str] | None = None,
    cites: Iterable[str] | None = None,
    cited_by_count: int | None = None,
    site: str = SITE_URL,
    budget: int = MESSAGE_MAX,
    with_citations: bool = True,
) -> Card:
    """The card for `request` on `cable`, at most `budget` embed characters (600 to 6000).

    `cites` defaults to the cable's own references. Give `budget=MESSAGE_MAX // n` when a
    message carries n cards (n <= 10). Embeds do not show citations: `with_citations=False`
    leaves them out (a third of the work).
    """
    budget = max(MIN_BUDGET, min(budget, MESSAGE_MAX))
    blocks, snippet, preview = _quoted(cable, request)
    quoted = tuple(n for _, _, n in blocks if n is not None)
    shown = () if preview else quoted  # a preview links and cites the whole cable
    page = cable.url(site=site)
    url = f"{page}#par{shown[0]}" if shown else page
    title = shorten(full_title(cable), min(TITLE_MAX, budget // 6))
    fields = _fields(
        cable,
        tag_meanings,
        list(cable.references if cites is None else cites),
        cited_by_count,
        budget // 8,
    )
    count = len({p.number for p in cable.paragraphs})
    footer = f"{cable.ref_id} · {plural(count, 'paragraph')}" if count else cable.ref_id
    previous, following = _neighbours(cable, quoted)
    card = Card(
        ref_id=cable.ref_id,
        paragraphs=shown,
        title=title,
        url=url,
        color=colour_for(cable.classification),
        fields=fields,
        hashtags=site_hashtags(cable.ref_id),
        topic_hashtags=topic_hashtags(cable, tag_meanings),
        citations=citations(cable, shown, url, snippet) if with_citations else {},
        footer=footer,
        previous_paragraph=previous,
        next_paragraph=following,
    )
    card = _trim_to(card, budget - _MIN_QUOTE)
    room = min(DESCRIPTION_MAX - len(card.description), budget - card.size()) - 2
    return card.model_copy(update={"quote": _fit_quote(page, blocks, room)})


_MIN_QUOTE = 200
_OPTIONAL_FIELDS = ("Cites", "TAGS", "Cited by")


def _trim_to(card: Card, limit: int) -> Card:
    """`card` without its optional parts (topic hashtags, then fields) until it fits `limit`."""
    if card.size() > limit and card.topic_hashtags:
        card = card.model_copy(update={"topic_hashtags": ()})
    for name in _OPTIONAL_FIELDS:
        if card.size() <= limit:
            break
        fields = tuple(f for f in card.fields if f.name != name)
        card = card.model_copy(update={"fields": fields})
    return card


def _fit_quote(page: str, blocks: list[Block], room: int) -> str:
    """The quote blocks sharing `room` characters, each cut with a link when too long."""
    if not blocks or room < 20:
        return ""
    parts: list[str] = []
    left = room
    for i, (heading, text, number) in enumerate(blocks):
        share = (left - 2 * (len(blocks) - i - 1)) // (len(blocks) - i)
        link = f"{page}#par{number}" if number is not None else page
        part = _quote_block(heading, text, share, link)
        parts.append(part)
        left -= len(part) + 2
    return "\n\n".join(parts)


CITATION_NAMES = {
    "plain": "Plain text",
    "markdown": "Markdown",
    "chicago": "Chicago note",
    "bibtex": "BibTeX",
    "post": "Post (280 characters)",
}


def citation_text(card: Card, styles: list[str] | None = None) -> str:
    """The citation styles of a card as Markdown code blocks (each fits a copy button)."""
    parts = []
    for style in styles or list(CITATION_NAMES):
        text = card.citations[style].replace("```", "'''")
        lang = "bibtex" if style == "bibtex" else ""
        parts.append(f"**{CITATION_NAMES[style]}**\n```{lang}\n{text}\n```")
    return "\n".join(parts)
