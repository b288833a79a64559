"""The `cablebot` command: one subcommand per job, all reading the same Settings.

Each subcommand is a pair: `_add_<name>(subparsers)` declares its arguments and
`_run_<name>(args) -> int` does the work and returns the exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

Handler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """A user-facing failure: printed as one line `cablebot: error: ...`, exit status 1."""


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
    """Find the requests in TEXT; only --requests-only is served until cards are wired in."""
    import json

    from bot.config import Settings
    from parsers.refs import find_requests

    found = find_requests(args.text, max_requests=Settings().max_requests)
    if not args.requests_only:
        raise CliError("card rendering is not available yet")
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
        "interruption, run the same command again; re-imports only update what changed.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="a cables.csv file or a folder")
    p.add_argument("--batch", type=int, default=None, help="cables per transaction")
    p.set_defaults(handler=_run_import)


def _run_import(args: argparse.Namespace) -> int:
    import asyncio
    from pathlib import Path

    from bot.config import Settings
    from bot.importer import ImportError_, run_import
    from bot.store import CableStore, StoreError

    settings = Settings()
    paths = [Path(p) for p in args.paths]
    for path in paths:
        if not path.exists():
            raise CliError(f"{path}: no such file or folder")

    async def go() -> int:
        async with await CableStore.open(settings.store_file) as store:
            summaries = await run_import(
                store, paths, batch_size=args.batch or settings.import_batch
            )
        return 1 if any(s.errors for s in summaries) else 0

    try:
        return asyncio.run(go())
    except (ImportError_, StoreError, OSError) as exc:
        raise CliError(str(exc)) from exc
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return 130


_COMMANDS.append(_add_import)


def _add_setup(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "setup",
        help="create the store and download the month index once",
        description="Create the store and fetch the month index (CABLEBOT_MONTH_INDEX_URL) into "
        "the data directory, so cable pages can be fetched without probing months.",
    )
    p.set_defaults(handler=_run_setup)


def _run_setup(args: argparse.Namespace) -> int:
    import asyncio

    from bot.config import Settings
    from bot.month_index import MonthIndexError, ensure_month_index
    from bot.store import CableStore, StoreError

    settings = Settings()

    async def go() -> str:
        async with await CableStore.open(settings.store_file) as store:
            return await ensure_month_index(settings, store, download=True)

    try:
        status = asyncio.run(go())
    except (MonthIndexError, StoreError, OSError) as exc:
        raise CliError(f"{exc}; cables can still be fetched (months will be probed)") from exc
    print(f"store: {settings.store_file}")
    print(status)
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `cablebot` console script."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except CliError as exc:
        print(f"cablebot: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
