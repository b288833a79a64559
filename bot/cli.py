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
