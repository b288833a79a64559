"""Message text -> what the bot sends: the one pipeline behind Discord, `chat` and `resolve`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from bot.cards import MESSAGE_MAX, Card, build_card
from bot.library.cables import LibraryError, MirrorUnavailable, NotACableResponse, StillFetching
from bot.text import plural
from parsers.models import SITE_URL, Cable, CableRequest
from parsers.refs import find_requests

log = logging.getLogger(__name__)

FailureKind = Literal[
    "problem", "missing_paragraph", "not_found", "mirror", "pending", "not_a_cable"
]
_OUTAGE: frozenset[FailureKind] = frozenset({"mirror", "pending"})
"""Kinds that say the mirror did not deliver (down, or not by the deadline)."""


class CableSource(Protocol):
    """What the pipeline needs from bot.library.CableLibrary."""

    async def get_many(self, ref_ids: Sequence[str]) -> list[Cable | Exception]: ...

    async def cited_by(self, ref_id: str) -> list[str]: ...


class Failure(BaseModel):
    """A request that could not be answered (fully), with a message fit for the user."""

    model_config = ConfigDict(frozen=True)

    ref_id: str
    paragraphs: tuple[int, ...] = ()
    error: str
    kind: FailureKind


class Reply(BaseModel):
    """What to send for one message: cards, failures and a note when references were cut."""

    model_config = ConfigDict(frozen=True)

    cards: tuple[Card, ...] = ()
    failures: tuple[Failure, ...] = ()
    note: str | None = None

    @property
    def mirror_down(self) -> bool:
        """True when a cable is missing because the mirror is unreachable or not done yet."""
        return any(f.kind in _OUTAGE for f in self.failures)

    def passive(self) -> Reply:
        """The reply for passive detection: misses are silent; a mirror outage is said."""
        outages = tuple(f for f in self.failures if f.kind in _OUTAGE)
        return Reply(cards=self.cards, failures=outages, note=self.note)

    @property
    def empty(self) -> bool:
        """True when there is nothing to send."""
        return not self.cards and not self.failures and not self.note

    def to_json(self) -> list[dict[str, object]]:
        """The `resolve --json` list: one object per card or per failure."""
        out: list[dict[str, object]] = [card.model_dump(mode="json") for card in self.cards]
        for failure in self.failures:
            out.append(failure.model_dump(mode="json"))
        return out


def _error_kind(exc: LibraryError) -> FailureKind:
    if isinstance(exc, MirrorUnavailable):
        return "mirror"
    if isinstance(exc, StillFetching):
        return "pending"
    if isinstance(exc, NotACableResponse):
        return "not_a_cable"
    return "not_found"


def missing_paragraph_message(cable: Cable, missing: Sequence[int]) -> str:
    """`08MEXICO2498 has 10 paragraphs (¶1-¶10); there is no ¶12`."""
    numbers = sorted({p.number for p in cable.paragraphs})
    which = ", ".join(f"¶{n}" for n in missing)
    if not numbers:
        return f"{cable.ref_id} has no numbered paragraphs; there is no {which}"
    span = f"¶{numbers[0]}-¶{numbers[-1]}" if len(numbers) > 1 else f"¶{numbers[0]}"
    return f"{cable.ref_id} has {plural(len(numbers), 'paragraph')} ({span}); there is no {which}"


async def _look_up(library: CableSource, requests: Sequence[CableRequest]) -> list[Cable | Failure]:
    """Each request's cable or failure; the lookups share the library's one deadline."""
    asked = [r.ref_id for r in requests if not r.problem]
    try:
        found = dict(zip(asked, await library.get_many(asked), strict=True))
    except Exception as exc:  # anything unexpected: report it to the log, never crash the caller
        log.exception("looking up %s failed", ", ".join(asked))
        found = dict.fromkeys(asked, exc)
    else:
        for ref_id, got in found.items():
            if isinstance(got, Exception) and not isinstance(got, LibraryError):
                log.error("looking up %s failed", ref_id, exc_info=got)
    results: list[Cable | Failure] = []
    for request in requests:
        result: Cable | Exception | None = None if request.problem else found[request.ref_id]
        if isinstance(result, Cable):
            results.append(result)
            continue
        if result is None:
            error, kind = request.problem or "", "problem"
        elif isinstance(result, LibraryError):
            error = str(result) or f"{request.ref_id} could not be found"
            kind = _error_kind(result)
        else:
            error, kind = "the cable library failed; see the log", "mirror"
        results.append(
            Failure(ref_id=request.ref_id, paragraphs=request.paragraphs, error=error, kind=kind)
        )
    return results


async def _cited_by_count(library: CableSource, ref_id: str) -> int | None:
    try:
        return len(await library.cited_by(ref_id))
    except Exception:  # the count is a nicety: leave it out rather than fail the card
        log.debug("cited_by(%s) failed", ref_id, exc_info=True)
        return None


async def answer_requests(
    library: CableSource,
    requests: Sequence[CableRequest],
    *,
    tag_meanings: Mapping[str, str] | None = None,
    site: str = SITE_URL,
    note: str | None = None,
    slots: int | None = None,
    with_citations: bool = True,
) -> Reply:
    """The reply for already-parsed requests (slash commands use this directly).

    `slots`: how many cards share the message (default: the cards found), for the budget.
    """
    fetched, counts = await asyncio.gather(
        _look_up(library, requests),
        asyncio.gather(*(_cited_by_count(library, r.ref_id) for r in requests)),
    )
    count_of = dict(zip((r.ref_id for r in requests), counts, strict=True))
    found: list[tuple[CableRequest, Cable]] = []
    failures: list[Failure] = []
    for request, result in zip(requests, fetched, strict=True):
        if isinstance(result, Failure):
            failures.append(result)
            continue
        missing = [n for n in request.paragraphs if result.paragraph(n) is None]
        if missing:
            failures.append(
                Failure(
                    ref_id=request.ref_id,
                    paragraphs=request.paragraphs,
                    error=missing_paragraph_message(result, missing),
                    kind="missing_paragraph",
                )
            )
            if len(missing) == len(request.paragraphs):
                continue
        found.append((request, result))
    found = _distinct_urls(found)
    budget = MESSAGE_MAX // max(1, slots or len(found))
    cards = tuple(
        build_card(
            cable,
            request,
            tag_meanings=tag_meanings,
            cites=cable.references,
            cited_by_count=count_of.get(request.ref_id),
            site=site,
            budget=budget,
            with_citations=with_citations,
        )
        for request, cable in found
    )
    return Reply(cards=cards, failures=tuple(failures), note=note)


def _distinct_urls(found: list[tuple[CableRequest, Cable]]) -> list[tuple[CableRequest, Cable]]:
    """Drop requests that would repeat a card link: Discord collapses embeds sharing a URL."""
    seen: set[tuple[str, int | None]] = set()
    kept = []
    for request, cable in found:
        shown = next((n for n in request.paragraphs if cable.paragraph(n)), None)  # None: bare
        if (cable.ref_id, shown) not in seen:
            seen.add((cable.ref_id, shown))
            kept.append((request, cable))
    return kept


async def answer(
    library: CableSource,
    text: str,
    *,
    max_requests: int = 5,
    tag_meanings: Mapping[str, str] | None = None,
    site: str = SITE_URL,
    with_citations: bool = True,
) -> Reply:
    """Everything the bot would send for a chat message `text` (empty Reply when nothing)."""
    requests = find_requests(text, max_requests=max_requests)
    if not requests:
        return _NOTHING
    note = (
        f"Only the first {max_requests} references of a message are answered."
        if requests.truncated
        else None
    )
    return await answer_requests(
        library,
        requests,
        tag_meanings=tag_meanings,
        site=site,
        note=note,
        with_citations=with_citations,
    )


_NOTHING = Reply()


def failure_lines(failures: Sequence[Failure]) -> list[str]:
    """One line per failure naming its cable; one shared error (an outage) is said once."""
    lines: list[str] = []
    shared: dict[str, list[str]] = {}
    for failure in failures:
        if failure.ref_id in failure.error:
            lines.append(failure.error)
        else:
            shared.setdefault(failure.error, []).append(failure.ref_id)
    lines += [f"{', '.join(dict.fromkeys(ids))}: {error}" for error, ids in shared.items()]
    return lines
