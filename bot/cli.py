"""The `cablebot` command: one subcommand per job, all reading the same Settings.

Each subcommand is a pair: `_add_<name>(subparsers)` declares its arguments and
`_run_<name>(args) -> int` does the work and returns the exit code.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Settings

Handler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """A user-facing failure: printed as one line `cablebot: error: ...`, exit status 1."""


def _settings(*, stderr_level: int = logging.WARNING) -> Settings:
    """The settings, loaded the same way by every command but `parse`, and logging started.

    Unknown CABLEBOT_ variables are one warning each; a bad value is a CliError naming it.
    """
    from bot.config import SettingsError, load_settings, unknown_variables
    from bot.logs import start_logging

    for warning in unknown_variables():
        print(f"cablebot: warning: {warning}", file=sys.stderr)
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    start_logging(settings.log_file, stderr_level=stderr_level)
    return settings


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="cablebot",
        description="Answer references to the published US diplomatic cables, in Discord or here.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in _COMMANDS:
        add(sub)
    return parser


_COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = []


def _add_resolve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "resolve",
        help="answer a chat message as the bot would",
        description="Find the cable references in TEXT and answer them as the bot would.",
    )
    p.add_argument("text", metavar="TEXT", help='the chat message, e.g. "08MEXICO2498 ¶5"')
    p.add_argument(
        "--requests-only",
        action="store_true",
        help="only show the references and paragraphs found, without fetching cables",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(handler=_run_resolve)


def _run_resolve(args: argparse.Namespace) -> int:
    """Answer TEXT with cards, or with only the requests found (--requests-only)."""
    if not args.requests_only:
        return _resolve_cards(args)
    import json

    from parsers.refs import find_requests

    found = find_requests(args.text, max_requests=_settings().max_requests)
    if args.json:
        rows = [
            {"ref_id": r.ref_id, "paragraphs": list(r.paragraphs)}
            | ({"problem": r.problem} if r.problem else {})
            for r in found
        ]
        print(json.dumps(rows, ensure_ascii=False))
    else:
        for r in found:
            print(f"{r.ref_id}: {r.problem or ','.join(map(str, r.paragraphs)) or 'whole cable'}")
        if not found:
            print("no cable reference found")
    if found.truncated:
        print(f"(only the first {len(found)} references are answered)", file=sys.stderr)
    return 0


_COMMANDS.append(_add_resolve)


def _add_import(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "import",
        help="import a cables.csv dump or a folder of cable pages into the store",
        description="Import cables into the store (CABLEBOT_STORE_PATH). Resumable: after an "
        "interruption, run the same command again; re-imports only update what changed. "
        "Exit status 1 when some rows or pages could not be imported (they are listed) or there "
        "was nothing to import.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="a cables.csv file or a folder")

    def batch(text: str) -> int:
        if not text.strip().isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
        return int(text)

    p.add_argument("--batch", type=batch, default=None, help="cables per transaction")
    p.set_defaults(handler=_run_import)


def _run_import(args: argparse.Namespace) -> int:
    settings = _settings()
    import asyncio
    from pathlib import Path

    from bot.library.importer import ImportError_, run_import, source_kind
    from bot.library.store import CableStore, StoreError

    paths = [Path(p) for p in args.paths]
    try:
        for path in paths:  # refuse what cannot be imported before the store is created
            source_kind(path)
    except ImportError_ as exc:
        raise CliError(str(exc)) from exc

    async def go() -> int:
        async with await CableStore.open(settings.store_file) as store:
            summaries = await run_import(
                store,
                paths,
                batch_size=args.batch or settings.import_batch,
                workers=settings.import_workers or None,
            )
        return 1 if any(s.failed for s in summaries) else 0

    try:
        return asyncio.run(go())
    except (ImportError_, StoreError, OSError) as exc:
        raise CliError(str(exc)) from exc
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume", file=sys.stderr)
        return 130


_COMMANDS.append(_add_import)


def _add_setup(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "setup",
        help="create the store and say what the bot will use (optional)",
        description="Create the store and print where it is, how many cables it holds, and "
        "which month index and TAGS table are used. Optional: both tables are built in, and "
        "every command creates the store when it first needs it.",
    )
    p.set_defaults(handler=_run_setup)


def _run_setup(args: argparse.Namespace) -> int:
    settings = _settings()
    import asyncio

    from bot.chat import load_tag_meanings, store_lines
    from bot.library.month_index import MonthIndexError, load_month_index
    from bot.library.store import CableStore, StoreError

    async def go() -> int:
        async with await CableStore.open(settings.store_file) as store:
            return (await store.stats()).cables

    try:
        months = load_month_index(settings.month_index)
    except MonthIndexError as exc:
        raise CliError(f"{exc} (CABLEBOT_MONTH_INDEX)") from exc
    try:
        tags = load_tag_meanings(settings.tags_path)
    except ValueError as exc:
        raise CliError(f"{exc} (CABLEBOT_TAGS_PATH)") from exc
    try:
        cables = asyncio.run(go())
    except (StoreError, OSError) as exc:
        raise CliError(f"cannot open the cable store {settings.store_file}: {exc}") from exc
    print(f"store: {settings.store_file} ({cables:,} cables)")
    print(f"month index: {len(months):,} published IDs ({settings.month_index or 'built in'})")
    print(f"TAGS meanings: {len(tags):,} codes ({settings.tags_path or 'built in'})")
    print(*store_lines(cables, settings.mirrors), sep="\n")  # the mirror is not contacted
    return 0


_COMMANDS.append(_add_setup)


def _add_parse(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "parse",
        help="parse a cable page, saved page text or telegram file and print it",
        description="Parse PATH (a cable-site HTML page, a page saved as text, or a plain "
        "telegram; detected from the content) and print the cable as text or JSON.",
    )
    p.add_argument("path", metavar="PATH", help="the file to parse")
    p.add_argument("--json", action="store_true", help="print JSON (dates in ISO 8601)")
    p.set_defaults(handler=_run_parse)


def _run_parse(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from parsers.models import NotACableError
    from parsers.page import parse_any

    path = Path(args.path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        cable = parse_any(text)
    except NotACableError as exc:
        raise CliError(f"{path}: {exc}") from exc
    if args.json:
        print(json.dumps(cable.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return 0
    fields = {
        "Reference ID": cable.ref_id,
        "Created": cable.created.isoformat(sep=" ") if cable.created else "",
        "Released": cable.released.isoformat(sep=" ") if cable.released else "",
        "Classification": cable.classification,
        "Origin": cable.origin,
        "From": cable.sender or "",
        "Subject": cable.subject,
        "Tags": " ".join(cable.tags),
        "References": " ".join(cable.references),
        "Caveats": " ".join(cable.caveats),
        "Summary": cable.summary or "",
    }
    for name, value in fields.items():
        if value:
            print(f"{name}: {value}")
    for paragraph in cable.paragraphs:
        marking = f" ({paragraph.marking})" if paragraph.marking else ""
        print(f"\n¶{paragraph.number}.{marking} {paragraph.text}")
    return 0


_COMMANDS.append(_add_parse)


def _bot_context(*, stderr_level: int = logging.WARNING) -> tuple[Any, dict[str, str] | None]:
    """Settings and TAGS meanings for resolve/chat/run/sync, with clear errors."""
    settings = _settings(stderr_level=stderr_level)
    from bot.chat import load_tag_meanings

    try:
        return settings, load_tag_meanings(settings.tags_path)
    except ValueError as exc:
        raise CliError(f"{exc} (CABLEBOT_TAGS_PATH)") from exc


async def _open_library(settings: Any, *, serving: bool = False) -> Any:
    from bot.library.cables import CableLibrary
    from bot.library.month_index import MonthIndexError
    from bot.library.store import StoreError

    try:
        return await CableLibrary.open(settings, serving=serving)
    except MonthIndexError as exc:
        raise CliError(f"{exc} (CABLEBOT_MONTH_INDEX)") from exc
    except (StoreError, OSError) as exc:
        raise CliError(f"cannot open the cable store {settings.store_file}: {exc}") from exc


def _resolve_cards(args: argparse.Namespace) -> int:
    """`resolve TEXT [--json]`: the cards the bot would post, as text or JSON."""
    settings, meanings = _bot_context()  # first: a bad setting stops before the heavy imports
    import asyncio
    import json

    from rich.console import Console

    from bot.answer import Reply, answer
    from bot.chat import render_reply

    async def go() -> Reply:
        async with await _open_library(settings) as library:
            return await answer(
                library,
                args.text,
                max_requests=settings.max_requests,
                tag_meanings=meanings,
                site=settings.site_url,
            )

    reply = asyncio.run(go())
    if args.json:
        print(json.dumps(reply.to_json(), ensure_ascii=False, indent=2))
    elif reply.empty:
        print("no cable reference found")
    else:
        render_reply(reply, Console())
    return 0


def _add_chat(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "chat",
        help="a terminal chat showing the cards the bot would post",
        description="Type messages as in a channel (or pipe them in) and see the bot's replies.",
    )
    p.set_defaults(handler=_run_chat)


def _run_chat(args: argparse.Namespace) -> int:
    settings, meanings = _bot_context()
    import asyncio

    from rich.console import Console

    from bot.chat import chat

    async def go() -> int:
        async with await _open_library(settings, serving=True) as library:
            return await chat(
                library,
                stdin=sys.stdin,
                console=Console(),
                max_requests=settings.max_requests,
                tag_meanings=meanings,
                site=settings.site_url,
            )

    return asyncio.run(go())


_COMMANDS.append(_add_chat)


def _add_run(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="run the Discord bot (needs DISCORD_TOKEN)",
        description="Start Cablebot on Discord with the token from DISCORD_TOKEN or .env.",
    )
    p.set_defaults(handler=_run_run)


def _run_run(args: argparse.Namespace) -> int:
    """Serve Discord until SIGTERM (exit 0) or Ctrl-C (exit 130)."""
    settings, meanings = _bot_context(stderr_level=logging.INFO)
    token = _token(settings)
    import asyncio
    import contextlib

    from bot.discord.client import StartFailure, serve

    async def go() -> int:
        stop = asyncio.Event()
        received: list[int] = []

        def on_signal(number: int) -> None:
            received.append(number)
            stop.set()

        for number in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):  # Windows: main()'s handlers stay
                asyncio.get_running_loop().add_signal_handler(number, on_signal, number)
        async with await _open_library(settings, serving=True) as library:
            await serve(library, settings, token, stop=stop, tag_meanings=meanings)
        return 130 if signal.SIGINT in received else 0

    try:
        return asyncio.run(go())
    except StartFailure as exc:
        raise CliError(str(exc)) from None


def _token(settings: Settings) -> str:
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        raise CliError(
            "no Discord token: set DISCORD_TOKEN in the environment or in .env "
            "(`cablebot chat` works without one)"
        )
    return token


_COMMANDS.append(_add_run)


def _add_sync(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sync",
        help="publish the slash commands to Discord now",
        description="Publish the slash commands now. `cablebot run` publishes them by itself "
        "when they changed since the last time; this forces it.",
    )
    p.set_defaults(handler=_run_sync)


def _run_sync(args: argparse.Namespace) -> int:
    settings, _ = _bot_context()
    token = _token(settings)
    import asyncio

    from bot.discord.client import StartFailure, publish_commands

    async def go() -> int:
        async with await _open_library(settings) as library:
            return await publish_commands(library, settings, token)

    try:
        count = asyncio.run(go())
    except StartFailure as exc:
        raise CliError(str(exc)) from None
    print(f"published {count} commands")
    return 0


_COMMANDS.append(_add_sync)


def _add_share(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "share",
        help="a paragraph as a post that fits a social network, or as a quote card image",
        description="Share the first cable reference in TEXT: --text prints a post (the quote "
        "cut to fit, the link, #cablegate #REFID) as the network counts it (X: 280, links 23, "
        "wide characters and emoji 2; Mastodon: 500 code points, links 23; Bluesky: 300 "
        "graphemes); --image writes a 1200x675 PNG quote card.",
    )
    p.add_argument("text", metavar="TEXT", help='the reference, e.g. "08MEXICO2498 ¶5"')
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--text", dest="as_text", action="store_true", help="print the post")
    how.add_argument("--image", metavar="FILE.png", help="write the quote card to FILE.png")
    p.add_argument("--network", choices=("x", "mastodon", "bluesky"), default="x")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(handler=_run_share)


def _run_share(args: argparse.Namespace) -> int:
    """The post for --network, or the quote card PNG, of TEXT's first reference."""
    settings, meanings = _bot_context()
    import asyncio
    import json
    from pathlib import Path

    from bot.answer import Reply, answer, failure_lines
    from bot.share import LIMITS, length, post_text, quote_of
    from parsers.models import Cable

    async def go() -> tuple[Reply, Cable | Exception | None]:
        async with await _open_library(settings) as library:
            reply = await answer(
                library, args.text, max_requests=1, tag_meanings=meanings, site=settings.site_url
            )
            if not reply.cards:
                return reply, None
            return reply, (await library.get_many([reply.cards[0].ref_id]))[0]

    reply, cable = asyncio.run(go())
    if not reply.cards or not isinstance(cable, Cable):
        lines = failure_lines(reply.failures) or [f"no cable reference in {args.text!r}"]
        raise CliError("; ".join(lines))
    card = reply.cards[0]
    quote = quote_of(cable, card.paragraphs)
    if args.image:
        from bot.quote_image import alt_text, render_png

        path = Path(args.image)
        try:
            path.write_bytes(render_png(quote))
        except OSError as exc:
            raise CliError(f"cannot write {path}: {exc.strerror or exc}") from exc
        alt = alt_text(quote)
        print(
            json.dumps({"image": str(path), "alt": alt}, ensure_ascii=False) if args.json else alt
        )
        return 0
    text = post_text(quote.text, card.url, card.hashtags, args.network)
    if args.json:
        count, limit = length(text, args.network), LIMITS[args.network]
        row = {"network": args.network, "text": text, "length": count, "limit": limit}
        print(json.dumps(row, ensure_ascii=False))
    else:
        print(text)
    return 0


_COMMANDS.append(_add_share)


class Terminated(KeyboardInterrupt):
    """SIGTERM: the command stops as on Ctrl-C, but the stop was asked for (exit status 0)."""


def _interrupted(signum: int, frame: object) -> None:
    # Not signal.default_int_handler, so asyncio.run leaves it alone: the first Ctrl-C stops
    # the command even while it blocks in a read.
    raise KeyboardInterrupt


def _terminated(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `cablebot` console script: never shows a traceback."""
    from bot.logs import stop_logging

    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, _interrupted)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        return handler(args)
    except CliError as exc:
        print(f"cablebot: error: {exc}", file=sys.stderr)
        return 1
    except Terminated:
        return 0
    except BrokenPipeError:  # the reader went away (`cablebot parse X | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)  # after the ^C the terminal echoed
        return 130
    except Exception as exc:
        return _unexpected(args.command, exc)
    finally:
        for number, previous in saved.items():
            signal.signal(number, previous)
        stop_logging()


def _unexpected(command: str, exc: Exception) -> int:
    """Log the traceback, show one line pointing at it."""
    from bot.config import DATA_DIR
    from bot.logs import log_traceback

    where = log_traceback(f"cablebot {command} failed", exc, DATA_DIR / "cablebot.log")
    details = f"the traceback is in {where}" if where else "no log file could be written"
    print(f"cablebot: error: unexpected {type(exc).__name__}: {exc} ({details})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
