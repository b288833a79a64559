"""bot.answer: message text -> Reply, on a real store of test cables."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.answer import Failure, Reply, answer, answer_requests, missing_paragraph_message
from bot.cards import MESSAGE_MAX, build_card
from bot.library.cables import CableLibrary
from bot.library.store import CableStore
from parsers.models import CableRequest
from tests.bot.helpers import TAG_MEANINGS, harbour_cable


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CableLibrary]:
    path: Path = tmp_path_factory.mktemp("answer") / "cables.db"

    async def open_store() -> CableLibrary:
        store = await CableStore.open(path)
        await store.put([harbour_cable(), harbour_cable("09OSLO12", references=("09OSLO777",))])
        return CableLibrary(store)

    library = asyncio.run(open_store())
    yield library
    asyncio.run(library.close())


def _run(coro: object) -> Reply:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_cards_failures_and_the_cut_note(library: CableLibrary) -> None:
    reply = _run(answer(library, "09OSLO777 ¶2, 09OSLO12 ¶9, 09OSLO555", tag_meanings=TAG_MEANINGS))
    assert [c.ref_id for c in reply.cards] == ["09OSLO777"]
    assert {f.ref_id: f.kind for f in reply.failures} == {
        "09OSLO12": "missing_paragraph",
        "09OSLO555": "not_found",
    }
    assert {f.name: f.value for f in reply.cards[0].fields}["Cited by"] == "1 cable"
    assert reply.passive().failures == ()
    cut = _run(answer(library, "09OSLO1 09OSLO2 09OSLO3", max_requests=2))
    assert cut.note == "Only the first 2 references of a message are answered."


def test_citations_are_built_unless_left_out(library: CableLibrary) -> None:
    cited = _run(answer(library, "09OSLO777 ¶2")).cards[0]
    assert {"plain", "bibtex"} <= set(cited.citations)
    bare = _run(answer(library, "09OSLO777 ¶2", with_citations=False)).cards[0]
    assert bare.citations == {}
    assert bare.quote == cited.quote


def test_no_reference_is_an_empty_reply(library: CableLibrary) -> None:
    assert _run(answer(library, "nothing to see here, 2 cats")).empty


def test_json_has_the_documented_keys(library: CableLibrary) -> None:
    rows = _run(answer(library, "09OSLO777 ¶3 and 09OSLO12 ¶0")).to_json()
    card, error = rows
    assert {"ref_id", "paragraphs", "title", "url", "color", "fields", "quote"} <= set(card)
    assert {"hashtags", "citations"} <= set(card)
    assert error == {
        "ref_id": "09OSLO12",
        "paragraphs": [],
        "error": "¶0 is not a paragraph number",
        "kind": "problem",
    }


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["09OSLO777", "09OSLO12"]),
            st.lists(st.integers(1, 8), max_size=4, unique=True),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_one_message_never_repeats_a_link_nor_exceeds_6000(
    library: CableLibrary, requests: list[tuple[str, list[int]]]
) -> None:
    reply = _run(
        answer_requests(
            library,
            [CableRequest(ref_id=ref, paragraphs=tuple(pars)) for ref, pars in requests],
            tag_meanings=TAG_MEANINGS,
        )
    )
    urls = [card.url for card in reply.cards]
    assert len(urls) == len(set(urls))
    assert sum(card.size() for card in reply.cards) <= MESSAGE_MAX


def test_passive_keeps_every_outage_line_and_drops_misses() -> None:
    failures = (
        Failure(ref_id="09OSLO1", error="09OSLO1 is not a published cable", kind="not_found"),
        Failure(ref_id="09OSLO2", error="mirror down", kind="mirror"),
        Failure(ref_id="09OSLO3", error="still being fetched", kind="pending"),
        Failure(ref_id="09OSLO4", error="mirror down", kind="mirror"),
    )
    passive = Reply(failures=failures).passive()
    assert [f.ref_id for f in passive.failures] == ["09OSLO2", "09OSLO3", "09OSLO4"]
    assert passive.mirror_down
    assert Reply(failures=failures[2:3]).mirror_down  # not back by the deadline
    assert not Reply(failures=failures[:1]).mirror_down


@pytest.mark.logs_errors
def test_an_unexpected_library_failure_is_logged_and_answered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def go() -> Reply:
        async with await CableStore.open(tmp_path / "c.db") as store:
            with sqlite3.connect(tmp_path / "c.db") as other:  # another program breaks the store
                other.execute("DROP TABLE cables")
            return await answer(CableLibrary(store), "09OSLO777 ¶2 and 09OSLO12 ¶0")

    reply = _run(go())
    assert {f.ref_id: (f.kind, f.error) for f in reply.failures} == {
        "09OSLO777": ("mirror", "the cable library failed; see the log"),
        "09OSLO12": ("problem", "¶0 is not a paragraph number"),
    }
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r.getMessage() for r in errors] == ["looking up 09OSLO777 failed"]
    assert errors[0].exc_info is not None


@pytest.mark.parametrize(("count", "words"), [(1, "1 paragraph"), (2, "2 paragraphs")])
def test_paragraph_counts_are_said_in_the_singular_and_plural(count: int, words: str) -> None:
    full = harbour_cable()
    cable = harbour_cable(paragraphs=full.paragraphs[:count])
    assert missing_paragraph_message(cable, [9]).startswith(f"09OSLO777 has {words} (")
    card = build_card(cable, CableRequest(ref_id=cable.ref_id))
    assert card.footer.startswith(f"09OSLO777 · {words}")
