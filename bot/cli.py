"""The `cablebot` command: one subcommand per job, all reading the same Settings.

Each subcommand is a pair: `_add_<name>(subparsers)` declares its arguments and
`_run_<name>(args) -> int` does the work and returns the exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
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
        description="Import cables into the store (CABLEBOT_DATABASE_URL when set, else "
        "CABLEBOT_STORE_PATH; --to names another). Resumable: after an "
        "interruption, run the same command again; re-imports only update what changed. "
        "Exit status 1 when some rows or pages could not be imported (they are listed) or there "
        "was nothing to import.",
    )
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="a cables.csv file, a folder or a Cablebot store"
    )

    def batch(text: str) -> int:
        if not text.strip().isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
        return int(text)

    p.add_argument("--batch", type=batch, default=None, help="cables per transaction")

    def target(text: str) -> str:
        if "://" in text and not text.startswith(("postgresql://", "postgres://")):
            raise argparse.ArgumentTypeError(f"must be a postgresql:// URL or a file, not {text!r}")
        return text

    p.add_argument(
        "--to",
        type=target,
        default=None,
        metavar="TARGET",
        help="a postgresql:// URL or a SQLite file (default: CABLEBOT_DATABASE_URL, else the"
        " SQLite store)",
    )
    p.set_defaults(handler=_run_import)


def _run_import(args: argparse.Namespace) -> int:
    settings = _settings()
    import asyncio
    from pathlib import Path

    from bot.library.backend import open_target
    from bot.library.importer import ImportError_, run_import, source_kind
    from bot.library.store import StoreError

    paths = [Path(p) for p in args.paths]
    try:
        for path in paths:  # refuse what cannot be imported before the store is created
            source_kind(path)
    except ImportError_ as exc:
        raise CliError(str(exc)) from exc

    async def go() -> int:
        target = args.to or settings.database_url or settings.store_file
        with _migration_progress(target) as progress:
            store = await open_target(target, settings=settings, progress=progress)
        async with store:
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
        if settings.database_url:  # PostgreSQL: connect and migrate, as `run` will
            from bot.library.backend import open_store

            async with await open_store(settings) as shared:
                return (await shared.stats()).cables
        with _migration_progress(settings.store_file) as progress:
            store = await CableStore.open(settings.store_file, progress=progress)
        async with store:
            return (await store.stats()).cables

    try:
        months = load_month_index(settings.month_index)
    except MonthIndexError as exc:
        raise CliError(f"{exc} (CABLEBOT_MONTH_INDEX)") from exc
    try:
        tags = load_tag_meanings(settings.tags_path)
    except ValueError as exc:
        raise CliError(f"{exc} (CABLEBOT_TAGS_PATH)") from exc
    from bot.library.backend import store_location

    where = store_location(settings)
    try:
        cables = asyncio.run(go())
    except (StoreError, OSError) as exc:
        raise CliError(f"cannot open the cable store {where}: {exc}") from exc
    print(f"store: {where} ({cables:,} cables)")
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


class _MigrationProgress:
    """A store migration's progress on stderr, shown as an import shows its own: a bar on a
    terminal, otherwise a line at most every 5 s and one at the end. Nothing is imported or
    shown unless a migration reports; the store calls it from its writer thread."""

    def __init__(self, label: str, *, tty: bool | None = None) -> None:
        self.label = label
        self.tty = sys.stderr.isatty() if tty is None else tty
        self._show: Callable[[int, int, int], None] | None = None
        self._bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._show is None:
            from bot.library.importer import LineProgress, RichProgress, rich_progress

            if self.tty:
                self._bar = rich_progress()
                self._bar.start()
                self._show = RichProgress(self.label, self._bar, "cable")
            else:
                self._show = LineProgress(self.label, unit="cable")
        self._show(done, total, done)
        if done >= total:
            self.close()

    def close(self) -> None:
        """Take the bar off the terminal (idempotent)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


@contextlib.contextmanager
def _migration_progress(store: Any) -> Iterator[_MigrationProgress]:
    """The progress to open the SQLite `store` with: `migrating cables.db`."""
    from pathlib import Path

    progress = _MigrationProgress(f"migrating {Path(store).name}")
    try:
        yield progress
    finally:
        progress.close()


async def _open_library(settings: Any, *, serving: bool = False) -> Any:
    from bot.library.backend import store_location
    from bot.library.cables import CableLibrary
    from bot.library.month_index import MonthIndexError
    from bot.library.store import StoreError

    try:
        with _migration_progress(settings.store_file) as progress:
            return await CableLibrary.open(settings, serving=serving, progress=progress)
    except MonthIndexError as exc:
        raise CliError(f"{exc} (CABLEBOT_MONTH_INDEX)") from exc
    except (StoreError, OSError) as exc:
        raise CliError(f"cannot open the cable store {store_location(settings)}: {exc}") from exc


def _resolve_cards(args: argparse.Namespace) -> int:
    """`resolve TEXT [--json]`: the cards the bot would post, as text or JSON."""
    settings, meanings = _bot_context()  # first: a bad setting stops before the heavy imports
    import asyncio
    import json

    from bot.answer import Reply, answer

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
        from rich.console import Console

        from bot.chat import render_reply

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
        description="Start Cablebot on Discord with the token from DISCORD_TOKEN or .env. "
        "Several processes can share the shards of one bot with CABLEBOT_DATABASE_URL set "
        "(README: Running at scale).",
    )

    def count(text: str) -> int:
        if not text.strip().isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
        return int(text)

    def shard_list(text: str) -> tuple[int, ...]:
        from bot.discord.shards import ShardListError, parse_shard_ids

        try:
            return parse_shard_ids(text)
        except ShardListError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    p.add_argument(
        "--shard-count", type=count, metavar="N", help="shards of the whole bot (all processes)"
    )
    p.add_argument(
        "--shards", type=shard_list, metavar="LIST", help="this process's shards: 0-3, 0,1,5, 0-3,8"
    )
    p.set_defaults(handler=_run_run)


def _run_run(args: argparse.Namespace) -> int:
    """Serve Discord until SIGTERM (exit 0) or Ctrl-C (exit 130)."""
    settings, meanings = _bot_context(stderr_level=logging.INFO)
    chosen = {"shard_count": args.shard_count, "shard_ids": args.shards}
    settings = settings.model_copy(update={k: v for k, v in chosen.items() if v is not None})
    from bot.discord.shards import shard_problem

    shared = settings.database_url is not None
    problem = shard_problem(settings.shard_count, settings.shard_ids, shared_store=shared)
    if problem is not None:
        raise CliError(problem)
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


def _add_doctor(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "doctor",
        help="check the store and the shard settings",
        description="Check the database connection (the SQLite file, or CABLEBOT_DATABASE_URL), "
        "its schema version and row counts, and the shard settings; say what is wrong. Exit "
        "status 1 when something is.",
    )
    p.set_defaults(handler=_run_doctor)


def _run_doctor(args: argparse.Namespace) -> int:
    settings = _settings()
    import asyncio

    from bot.doctor import diagnose

    findings = asyncio.run(diagnose(settings))
    for finding in findings:
        print(f"{'ok' if finding.ok else 'PROBLEM'}: {finding.text}")
    problems = sum(not finding.ok for finding in findings)
    print(f"{problems} problem{'s' if problems != 1 else ''} found" if problems else "all good")
    return 1 if problems else 0


_COMMANDS.append(_add_doctor)


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


def _add_filters(p: argparse.ArgumentParser) -> None:
    """The options choosing cables, shared by search, random and stats."""
    p.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="CODE",
        help="only cables with this TAGS code (repeat: all of them)",
    )
    p.add_argument("--origin", metavar="TEXT", help="part of the origin's name, any case")
    p.add_argument("--classification", metavar="TEXT", help='how it starts, e.g. "SECRET"')
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="created on or after")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="created on or before")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def _filters(args: argparse.Namespace, query: str | None = None) -> Any:
    """The discover.Filters of the command line (a CliError naming a bad date)."""
    from bot.library.discover import Filters, parse_day

    days = {}
    for option, value in (("--from", args.date_from), ("--to", args.date_to)):
        try:
            days[option] = parse_day(value) if value is not None else None
        except ValueError as exc:
            raise CliError(f"{option}: {exc}") from None
    if days["--from"] and days["--to"] and days["--from"] > days["--to"]:
        raise CliError(f"--from {days['--from']} is after --to {days['--to']}")
    return Filters(
        query=query.strip() if query and query.strip() else None,
        tags=tuple(args.tag),
        origin=args.origin,
        classification=args.classification,
        date_from=days["--from"],
        date_to=days["--to"],
    )


def _count_option(text: str, option: str, *, least: int) -> int:
    if not text.strip().isdigit() or int(text) < least:
        raise CliError(f"{option}: must be a whole number of at least {least}, not {text!r}")
    return int(text)


def _discover(settings: Any, ask: Callable[[Any], Any]) -> Any:
    """Run `ask(library)` on the cable library, with a one-line error for a bad request."""
    import asyncio

    async def go() -> Any:
        async with await _open_library(settings) as library:
            return await ask(library)

    try:
        return asyncio.run(go())
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _print_hit(hit: Any) -> None:
    day = f"{hit.created:%Y-%m-%d}" if hit.created else "????-??-??"
    print(f"{hit.ref_id}  {day}  {hit.origin}  {hit.subject}")
    if hit.snippet:
        print(f"    {hit.snippet}")


def _print_hits(page: Any, as_json: bool) -> None:
    import json

    if as_json:
        print(json.dumps(page.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    shown = f" ({len(page.hits)} shown)" if len(page.hits) < page.total else ""
    print(f"{page.total:,} cable{'s' * (page.total != 1)}{shown}")
    for hit in page.hits:
        _print_hit(hit)


def _add_search(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "search",
        help="search or browse the stored cables",
        description="Find stored cables by words (QUERY) and filters; without QUERY, browse "
        "them. Sorted by relevance with QUERY, else oldest first.",
    )
    p.add_argument("query", nargs="?", metavar="QUERY", help="words to find (optional)")
    _add_filters(p)
    p.add_argument("--sort", choices=("relevance", "oldest", "newest"), help="result order")
    p.add_argument("--limit", default="10", metavar="N", help="results per page (default 10)")
    p.add_argument("--offset", default="0", metavar="N", help="results to skip (default 0)")
    p.set_defaults(handler=_run_search)


def _run_search(args: argparse.Namespace) -> int:
    filters = _filters(args, args.query)
    limit = _count_option(args.limit, "--limit", least=1)
    offset = _count_option(args.offset, "--offset", least=0)
    settings = _settings()
    page = _discover(
        settings, lambda lib: lib.browse(filters, sort=args.sort, limit=limit, offset=offset)
    )
    _print_hits(page, args.json)
    return 0


_COMMANDS.append(_add_search)


def _add_random(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "random",
        help="a stored cable picked at random",
        description="Show one stored cable picked at random among those the filters keep.",
    )
    _add_filters(p)
    p.set_defaults(handler=_run_random)


def _run_random(args: argparse.Namespace) -> int:
    import json

    filters = _filters(args)
    hit = _discover(_settings(), lambda lib: lib.random(filters))
    if args.json:
        row = None if hit is None else hit.model_dump(mode="json")
        print(json.dumps(row, ensure_ascii=False, indent=2))
    elif hit is None:
        print("no stored cable matches")
    else:
        _print_hit(hit)
    return 0


_COMMANDS.append(_add_random)


def _add_on_this_day(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "on-this-day",
        help="cables created on this day of the year, in any year",
        description="Stored cables created on a day of the year (default: today in UTC), "
        "oldest first. 02-29 finds cables of leap years only.",
    )
    p.add_argument("--date", metavar="MM-DD", help="the day of the year (default today, UTC)")
    p.add_argument("--limit", default="10", metavar="N", help="results per page (default 10)")
    p.add_argument("--offset", default="0", metavar="N", help="results to skip (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(handler=_run_on_this_day)


def _run_on_this_day(args: argparse.Namespace) -> int:
    limit = _count_option(args.limit, "--limit", least=1)
    offset = _count_option(args.offset, "--offset", least=0)
    if args.date is not None:
        from bot.library.discover import parse_month_day

        try:
            parse_month_day(args.date)
        except ValueError as exc:
            raise CliError(f"--date: {exc}") from None
    page = _discover(
        _settings(), lambda lib: lib.on_this_day(args.date, limit=limit, offset=offset)
    )
    _print_hits(page, args.json)
    return 0


_COMMANDS.append(_add_on_this_day)


def _print_linked(rows: list[Any], as_json: bool, none: str) -> None:
    import json

    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False, indent=2))
        return
    for row in rows:
        day = f"{row.created:%Y-%m-%d}" if row.created else "????-??-??"
        stored = f"{day}  {row.subject}" if row.in_store else "(not stored)"
        print(f"{row.ref_id}  {stored}")
    if not rows:
        print(none)


def _add_cites(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "cites",
        help="the cables a cable cites",
        description="The cables REF cites, in the order of its REF line.",
    )
    p.add_argument("ref", metavar="REF", help="a stored cable's reference ID")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(handler=_run_cites)


def _run_cites(args: argparse.Namespace) -> int:
    ref_id = args.ref.strip().upper()

    async def ask(library: Any) -> Any:
        if await library.store.get(ref_id) is None:
            raise CliError(f"{ref_id} is not in the cable store")
        return await library.citations(ref_id)

    _print_linked(_discover(_settings(), ask), args.json, f"{ref_id} cites no cable")
    return 0


_COMMANDS.append(_add_cites)


def _add_cited_by(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "cited-by",
        help="the stored cables citing a cable",
        description="The stored cables whose REF line names REF, oldest first.",
    )
    p.add_argument("ref", metavar="REF", help="a reference ID (stored or not)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(handler=_run_cited_by)


def _run_cited_by(args: argparse.Namespace) -> int:
    ref_id = args.ref.strip().upper()
    rows = _discover(_settings(), lambda lib: lib.citing(ref_id))
    _print_linked(rows, args.json, f"no stored cable cites {ref_id}")
    return 0


_COMMANDS.append(_add_cited_by)


def _add_related(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "related",
        help="stored cables related to a cable",
        description="Stored cables related to REF: citing it, cited by it, cited together "
        "with it, sharing its TAGS or its words; best first.",
    )
    p.add_argument("ref", metavar="REF", help="a stored cable's reference ID")
    p.add_argument("--limit", default="10", metavar="N", help="how many (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(handler=_run_related)


def _run_related(args: argparse.Namespace) -> int:
    import json

    ref_id = args.ref.strip().upper()
    limit = _count_option(args.limit, "--limit", least=1)
    rows = _discover(_settings(), lambda lib: lib.related(ref_id, limit))
    if rows is None:
        raise CliError(f"{ref_id} is not in the cable store")
    if args.json:
        print(json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        day = f"{row.created:%Y-%m-%d}" if row.created else "????-??-??"
        print(f"{row.ref_id}  {day}  {row.score:6.2f}  {row.subject}  ({', '.join(row.why)})")
    if not rows:
        print(f"no stored cable is related to {ref_id}")
    return 0


_COMMANDS.append(_add_related)


def _add_stats(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "stats",
        help="count the stored cables by year, month, origin, tag or classification",
        description="How many stored cables the filters keep, grouped: years and months in "
        "time order, the others largest first (a cable counts once under each of its tags).",
    )
    _add_filters(p)
    p.add_argument(
        "--by",
        choices=("year", "month", "origin", "tag", "classification"),
        default="year",
        help="how to group them (default year)",
    )
    p.add_argument(
        "--chart",
        metavar="FILE.png",
        help='also draw them as a 1200x675 PNG bar chart (JSON: its path under "chart")',
    )
    p.set_defaults(handler=_run_stats)


def _run_stats(args: argparse.Namespace) -> int:
    import json

    filters = _filters(args)
    counts = _discover(_settings(), lambda lib: lib.counts(filters, args.by))
    row = counts.model_dump(mode="json")
    if args.chart:
        from pathlib import Path

        from bot.chart import render_png, title

        path = Path(args.chart)
        try:
            path.write_bytes(render_png(counts, title(filters, args.by)))
        except OSError as exc:
            raise CliError(f"cannot write {path}: {exc.strerror or exc}") from exc
        row["chart"] = str(path)
    if args.json:
        print(json.dumps(row, ensure_ascii=False, indent=2))
        return 0
    print(f"{counts.total:,} cable{'s' * (counts.total != 1)}, by {counts.by}")
    width = max((len(c.key or "no date") for c in counts.counts), default=0)
    for count in counts.counts:
        print(f"{count.key or 'no date':<{width}}  {count.count:>8,}")
    if args.chart:
        print(f"chart: {args.chart}")
    return 0


_COMMANDS.append(_add_stats)


class Terminated(KeyboardInterrupt):
    """SIGTERM: the command stops as on Ctrl-C, but the stop was asked for (exit status 0)."""


def _interrupted(signum: int, frame: object) -> None:
    # Not signal.default_int_handler, so asyncio.run leaves it alone: the first Ctrl-C stops
    # the command even while it blocks in a read.
    raise KeyboardInterrupt


def _terminated(signum: int, frame: object) -> None:
    raise Terminated


LONG_RUNNING = frozenset({"run", "chat", "import"})
"""The commands that keep the garbage collector on when they are the process's own command."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `cablebot` console script: never shows a traceback.

    Each subcommand imports what it needs when it runs (discord.py only for `run` and `sync`),
    so `--help` and `resolve` start at once. As the process's own command (`argv` None), one
    that is not LONG_RUNNING runs without the garbage collector, and the objects left at the end
    are frozen: the collections during the imports, and the interpreter's last ones walking
    every object the imports made, took about 70 of the 250 ms of CPU of a `cablebot resolve`.
    """
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    exiting = argv is None
    if exiting and args.command not in LONG_RUNNING:
        gc.disable()
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
        if "bot.logs" in sys.modules:  # a command started logging: undo it
            from bot.logs import stop_logging

            stop_logging()
        if exiting:
            gc.freeze()  # the process exits next: its objects need no collecting


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
