"""A cable-site page (HTML, or the page saved as text) → Cable.

The reference table gives the ID, dates, classification and origin; the first `<pre>` is the
routing header and the second the whole telegram body, which goes through the same telegram
parser as the public dump. The page's ¶ anchors are not used: they are missing, duplicated or
wrong on some pages, so paragraphs come from the text itself.
"""

from __future__ import annotations

import re
from datetime import datetime

from selectolax.lexbor import LexborHTMLParser

from parsers.models import Cable, NotACableError
from parsers.telegram import parse_routing_header, parse_telegram

__all__ = ["cable_part", "looks_like_html", "looks_like_page", "parse_any", "parse_page"]

_CLASSIFICATIONS = (
    "UNCLASSIFIED//FOR OFFICIAL USE ONLY",
    "CONFIDENTIAL//NOFORN",
    "SECRET//NOFORN",
    "UNCLASSIFIED",
    "CONFIDENTIAL",
    "SECRET",
)
_DATE = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"
_TEXT_ROW = re.compile(
    rf"^[ \t]*(?P<ref>\S+)[ \t]+(?P<created>{_DATE})[ \t]+(?P<released>{_DATE})[ \t]+"
    rf"(?P<cls>{'|'.join(re.escape(c) for c in _CLASSIFICATIONS)})[ \t]+(?P<origin>\S.*?)[ \t]*$",
    re.MULTILINE,
)
_TEXT_HEAD = re.compile(
    r"^[ \t]*Reference ID[ \t]+Created[ \t]+Released[ \t]+Classification[ \t]+Origin[ \t]*$", re.M
)
_BODY_START = re.compile(
    r"^(?:\w+day, \d{1,2} \w+ \d{4}, \d{1,2}:\d{2}[ \t]*$"
    r"|[ \t]*(?:UNCLAS|C\s?O\s?N\s?F\s?I\s?D|S\s?E\s?C\s?R\s?E\s?T|LIMITED OFFICIAL USE)\b)",
    re.MULTILINE | re.IGNORECASE,
)
_VIEWING = re.compile(r"Viewing cable \S+?, ?(?P<subject>.*)$", re.MULTILINE)


def _date(text: str, what: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M")
    except ValueError:
        raise NotACableError(f"the {what} date {text!r} is not YYYY-MM-DD HH:MM") from None


def _assemble(
    ref_id: str,
    created: str,
    released: str,
    classification: str,
    origin: str,
    header: str,
    body: str,
    fallback_subject: str,
) -> Cable:
    telegram = parse_telegram(body.replace("¶", ""), ref_id=ref_id)
    routing = parse_routing_header(header)
    return telegram.model_copy(
        update={
            "created": _date(created, "Created"),
            "released": _date(released, "Released"),
            "classification": classification.strip() or telegram.classification,
            "origin": origin.strip(),
            "subject": telegram.subject or fallback_subject.strip().rstrip(","),
            "header": header,
            **routing,
        }
    )


def cable_part(text: str) -> str:
    """The part of a page from the cable's heading to its last </pre> (skips the site's
    long browse lists, which makes parsing several times faster), or the whole page."""
    start = text.find("<h3>Viewing cable")
    table = text.find("<table class='cable'")
    end = text.rfind("</pre>")
    if start < 0 or table < start or end < table:
        return text
    return text[start : end + len("</pre>")]


def _from_html(text: str) -> Cable:
    tree = LexborHTMLParser(cable_part(text))
    cells = [" ".join(td.text().split()) for td in tree.css("table.cable td")]
    if len(cells) < 5:
        raise NotACableError("not a cable page: no reference table (<table class='cable'>)")
    pres = tree.css("pre")
    if not pres:
        raise NotACableError(f"cable page {cells[0]} has no <pre> block with the telegram")
    header = pres[0].text() if len(pres) > 1 else ""
    body = pres[-1].text()
    viewing = next((m for h in tree.css("h3") if (m := _VIEWING.search(h.text()))), None)
    ref_id, created, released, classification, origin = cells[:5]
    subject = viewing.group("subject") if viewing else ""
    return _assemble(ref_id, created, released, classification, origin, header, body, subject)


def _from_text(text: str) -> Cable:
    head = _TEXT_HEAD.search(text)
    row = _TEXT_ROW.search(text, head.end() if head else 0)
    if not head or not row:
        raise NotACableError(
            "not a cable page: no reference table "
            "(a 'Reference ID Created Released Classification Origin' line and its row)"
        )
    rest = text[row.end() :].lstrip("\n")
    start = _BODY_START.search(rest)
    header, body = (rest[: start.start()], rest[start.start() :]) if start else ("", rest)
    viewing = _VIEWING.search(text[: head.start()])
    return _assemble(
        row["ref"],
        row["created"],
        row["released"],
        row["cls"],
        row["origin"],
        header.rstrip("\n"),
        body,
        viewing.group("subject") if viewing else "",
    )


def looks_like_html(text: str) -> bool:
    """True when the text is HTML markup rather than plain text."""
    head = text[:4096].lower()
    return "<html" in head or "<!doctype" in head or "<pre" in text or "<table" in text


def looks_like_page(text: str) -> bool:
    """True when the text is HTML markup or a page saved as text (the reference table's
    heading line, `Reference ID Created Released Classification Origin`)."""
    return looks_like_html(text) or _TEXT_HEAD.search(text) is not None


def parse_page(text: str) -> Cable:
    """Parse a cable-site page, as HTML or saved as text; NotACableError when it is neither."""
    return _from_html(text) if looks_like_html(text) else _from_text(text)


def parse_any(text: str) -> Cable:
    """A cable page (HTML or saved text) or a plain telegram → Cable, detected from the content.

    NotACableError when the text is none of these (no reference table, and no TAGS, SUBJECT
    or numbered paragraph that a telegram has).
    """
    if looks_like_page(text):
        return parse_page(text)
    cable = parse_telegram(text)
    if not (cable.subject or cable.tags or cable.paragraphs):
        raise NotACableError(
            "not a cable: no reference table, TAGS or SUBJECT line, or numbered paragraph"
        )
    return cable
