"""The card's "Cited by N" button: the citing cables, privately, oldest first, paged; it works
after a restart like the card's other buttons."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import discord.ext.test as dpytest

from bot.config import Settings
from bot.discord.client import Cablebot
from bot.discord.embeds import (
    CITED_PAGE,
    CitedByButton,
    ParagraphButton,
    cited_by_page,
    payload,
)
from bot.library.cables import CableLibrary
from bot.library.store import CableStore
from parsers.models import CableRequest
from tests.bot.discord.clicks import buttons, click, edited, stored_message
from tests.bot.discord.cogs.conftest import Sent
from tests.bot.helpers import answered, harbour_cable


def components(payload: dict[str, Any]) -> dict[str, str]:
    """custom_id → label of the buttons of a message as sent to Discord."""
    return {
        button["custom_id"]: button.get("label", "")
        for row in payload["components"]
        for button in row["components"]
    }


async def test_a_cited_card_has_the_button_and_an_uncited_one_not(
    bot: Cablebot, sent: Sent
) -> None:
    await dpytest.message("see 09OSLO12 and 09OSLO777")
    [(_, _, message)] = [call for call in sent.calls if call[0] == "send_message"]
    ids = components(message)
    # 09OSLO777 and 09OSLO1-6 of the test store cite 09OSLO12; nothing cites 09OSLO777.
    assert ids["cablebot:citedby:0:09OSLO12"] == "Cited by 7"
    assert not any(i.startswith("cablebot:citedby:1:") for i in ids)


async def test_the_button_lists_the_citing_cables_privately(bot: Cablebot) -> None:
    clicked = await click(bot, CitedByButton(0, "09OSLO12", 7))
    assert answered(clicked) == ["response.send_message"]
    kwargs = clicked.response.send_message.call_args.kwargs
    assert kwargs["ephemeral"] is True and kwargs["allowed_mentions"].to_dict() == {"parse": []}
    embed: discord.Embed = kwargs["embed"]
    assert embed.title == "Cited by: 09OSLO12"
    lines = (embed.description or "").split("\n")
    assert lines[0] == "**7** stored cables cite it, oldest first · page 1 of 1"
    expected = sorted(["09OSLO777", *(f"09OSLO{n}" for n in range(1, 7))])  # one date: by ID
    assert [line.split("`")[1] for line in lines[1:]] == expected
    assert "(https://wikileaks.org/cable/2009/03/09OSLO1.html)" in lines[1]
    assert buttons(kwargs["view"]) == []  # one page: no paging


async def test_many_citing_cables_are_paged_oldest_first(tmp_path: Path) -> None:
    day = datetime(2009, 3, 12, 9, 30)
    citing = [
        harbour_cable(f"09OSLO{100 + n}", created=day - timedelta(days=n), references=("09OSLO12",))
        for n in range(2 * CITED_PAGE + 3)
    ]
    store = await CableStore.open(tmp_path / "cables.db")
    await store.put([harbour_cable("09OSLO12", references=()), *citing])
    async with CableLibrary(store) as library:
        bot = Cablebot(library, Settings(_env_file=None), sync_commands=False)  # type: ignore[call-arg]
        first = await cited_by_page(bot, "09OSLO12", 1)
        pages = [first]
        while not buttons(pages[-1]["view"])[1].item.disabled:
            clicked = await click(bot, buttons(pages[-1]["view"])[1], on=pages[-1])
            assert answered(clicked) == ["response.edit_message"]  # the private message
            pages.append(clicked.response.edit_message.call_args.kwargs)
        shown = [
            line.split("`")[1]
            for page in pages
            for line in (page["embed"].description or "").split("\n")[1:]
        ]
        assert shown == [c.ref_id for c in reversed(citing)]  # the oldest first
        assert len(pages) == 3 and buttons(pages[0]["view"])[0].item.disabled
        back = await click(bot, buttons(pages[-1]["view"])[0], on=pages[-1])
        assert (
            back.response.edit_message.call_args.kwargs["embed"].to_dict()
            == pages[1]["embed"].to_dict()
        )


async def test_five_cards_keep_every_row_within_five_buttons(bot: Cablebot) -> None:
    requests = [CableRequest(ref_id="09OSLO12", paragraphs=(n,)) for n in range(2, 7)]
    reply = await bot.answer_requests(requests)
    view = payload(reply, owner_id=99)["view"]
    rows: dict[int, list[str]] = {}
    for item in view.children:
        rows.setdefault(item.row or 0, []).append(str(getattr(item, "custom_id", "")))
    assert all(len(ids) <= 5 for ids in rows.values())
    assert all(any(i.startswith("cablebot:citedby:") for i in rows[r]) for r in range(4))
    assert "cablebot:del:99" in rows[4]  # the last row gives its Cited by to Delete


async def test_a_paragraph_button_on_the_last_row_leaves_room_for_delete(bot: Cablebot) -> None:
    requests = [CableRequest(ref_id="09OSLO12", paragraphs=(n,)) for n in range(2, 7)]
    sent = payload(await bot.answer_requests(requests), owner_id=99)
    message = stored_message(sent)
    message.components = [discord.ActionRow(row) for row in sent["view"].to_components()]
    clicked = await click(bot, ParagraphButton(4, "09OSLO12", 3), on=None, message=message)
    view = edited(clicked)["view"]
    last_row = [getattr(i, "custom_id", "") for i in view.children if i.row == 4]
    assert len(last_row) <= 5 and "cablebot:del:99" in last_row
    assert "cablebot:par:4:09OSLO12:2" in last_row  # the card moved to ¶3
