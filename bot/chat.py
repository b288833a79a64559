"""The terminal side: cards rendered with rich, and `cablebot chat`, a channel in the terminal.

rich is imported by the functions that draw (its Markdown only by `/cite`), so that
`cablebot resolve --json`, `run` and `setup` start without it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from parsers.vocab import parse_tag_table

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

    from bot.answer import Reply
    from bot.cards import Card
    from bot.library.cables import CableLibrary

PROMPT = "you> "
HELP = (
    "Type messages as in a Discord channel; the bot's replies appear below them.\n"
    "/cite TEXT shows the citation styles of the first cable in TEXT; /quit or Ctrl-D leaves."
)
FILL = (
    "`cablebot import cables.csv` (the public dump) or `cablebot import FOLDER` "
    "(a folder of saved cable pages)"
)
OFFLINE_HINT = f"(to answer without the mirror, import the cables into the store: {FILL})"


def store_lines(cables: int, mirrors: Sequence[str]) -> list[str]:
    """What the store holds and where the cables it lacks come from (the chat's first screen)."""
    hosts = ", ".join(dict.fromkeys(urlsplit(t).netloc for t in mirrors))
    held = f"The store holds {cables:,} cable{'' if cables == 1 else 's'}"
    if cables and hosts:
        return [f"{held}; the ones it lacks are fetched from the mirror ({hosts}) when asked."]
    if cables:
        return [f"{held}, and no mirror is set (CABLEBOT_MIRRORS): only these are answered."]
    if hosts:
        return [
            f"The store is empty: cables are fetched from the mirror ({hosts}) as they are "
            f"asked for. To answer offline, fill it: {FILL}."
        ]
    return [
        "The store is empty and no mirror is set (CABLEBOT_MIRRORS): no cable can be answered "
        f"yet. Fill it: {FILL}."
    ]


def load_tag_meanings(path: Path | None) -> dict[str, str]:
    """TAGS meanings from a tags.tsv file, or the built-in table when `path` is None."""
    if path is None:
        builtin = Path(__file__).resolve().parent / "data" / "tags.json"
        meanings: dict[str, str] = json.loads(builtin.read_text(encoding="utf-8"))
        return meanings
    try:
        return parse_tag_table(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read the TAGS table {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")


def quote_text(quote: str) -> Text:
    """A card's quote as the terminal shows it: `**heading**` lines bold, `>` lines behind a bar,
    `[text](url)` as `text (url)`; line breaks kept, as in Discord. (The only Markdown a quote
    holds, so rich's Markdown, slow to import, is not needed.)"""
    from rich.text import Text

    out = Text()
    for line in quote.split("\n"):
        if out:
            out.append("\n")
        if line.startswith(">"):
            out.append("▌ ", style="dim")
            line = line[2:] if line.startswith("> ") else line[1:]
        elif len(line) > 4 and line.startswith("**") and line.endswith("**"):
            out.append(line[2:-2], style="bold")
            continue
        out.append(_LINK.sub(r"\1 (\2)", line))
    return out


def card_renderable(card: Card) -> RenderableType:
    """One card as a rich panel: link, fields, quote, hashtags, with the card's colour."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    for field in card.fields:
        facts.add_row(field.name, field.value)
    parts: list[RenderableType] = [
        Text(card.title, style="bold"),
        Text(card.url, style="underline"),
        facts,
    ]
    if card.quote:
        parts.append(quote_text(card.quote))
    parts.append(Text(" ".join(card.hashtags), style="bold"))
    if card.topic_hashtags:
        parts.append(Text(" ".join(card.topic_hashtags), style="dim"))
    return Panel(
        Group(*parts),
        subtitle=card.footer or None,
        border_style=f"#{card.color:06x}",
    )


def render_reply(reply: Reply, console: Console, *, silent_reasons: Reply | None = None) -> None:
    """Print `reply` as the bot would post it; `silent_reasons` explains a silent bot."""
    from rich.text import Text

    from bot.answer import failure_lines

    if reply.note:
        console.print(Text(reply.note, style="italic"))
    for line in failure_lines(reply.failures):
        console.print(Text(line, style="yellow"))
    for card in reply.cards:
        console.print(card_renderable(card))
    if reply.empty and silent_reasons is not None:
        reasons = "; ".join(failure_lines(silent_reasons.failures))
        console.print(Text(f"(the bot stays silent{': ' + reasons if reasons else ''})", "dim"))


async def chat(
    library: CableLibrary,
    *,
    stdin: TextIO,
    console: Console,
    max_requests: int = 5,
    tag_meanings: Mapping[str, str] | None = None,
    site: str = "https://wikileaks.org",
    read_line: Callable[[], str] | None = None,
) -> int:
    """Read messages line by line and show exactly what the bot would post for each.

    It starts by saying what the store holds and where missing cables come from.
    """
    from rich.markdown import Markdown
    from rich.text import Text

    from bot.answer import answer
    from bot.cards import citation_text

    interactive = stdin.isatty()
    mirrors = library.mirror.templates if library.mirror is not None else ()
    for line in store_lines((await library.stats()).cables, mirrors):
        console.print(Text(line, style="dim"))
    if interactive:
        console.print(Text(HELP, style="dim"))
    hinted = False
    while True:
        if interactive:
            console.print(PROMPT, end="")
        line = (read_line or stdin.readline)()
        if not line:
            return 0
        text = line.rstrip("\n")
        if text.strip() in {"/quit", "/exit"}:
            return 0
        if text.strip() == "/help":
            console.print(Text(HELP, style="dim"))
            continue
        cite = text.strip().startswith("/cite ")
        full = await answer(
            library,
            text.strip()[6:] if cite else text,
            max_requests=max_requests,
            tag_meanings=tag_meanings,
            site=site,
        )
        if cite:
            if full.cards:
                console.print(Markdown(citation_text(full.cards[0])))
            else:
                render_reply(full, console)
            continue
        render_reply(full.passive(), console, silent_reasons=full)
        if not hinted and any(f.kind == "mirror" for f in full.failures):
            console.print(Text(OFFLINE_HINT, style="dim"))
            hinted = True
