#!/usr/bin/env python3
"""Throughput of parsers.refs.find_requests on a generated chat stream, against a naive regex.

The stream is realistic chat (times, dates, versions, emoji, mentions, links, code, quotes) with
about 1% of messages citing a cable; some messages hold characters the grammar normalises first
(emoji with joiners and variation selectors, non-breaking spaces, a pasted zero-width space).
The baseline runs `re.finditer(r"\\d{2}[A-Z]+\\d+", message)` over
the same messages, one message at a time like the bot, in the same process; the target is a
ratio >= 1. A second row runs the same regex once over the whole stream joined, for reference.

    .venv/bin/python bench/grammar.py [--messages N] [--repeat R] [--seed S] [--busy]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import busy

from parsers.refs import find_requests

_WORDS = str.split(
    "the a an and or but so if then is was were be been it this that these those i you we they "
    "cable embassy ambassador minister report said says read thread link meeting talks deal "
    "government president election protest border security oil gas trade visa press leak "
    "interesting wow lol yeah nope agreed source original quote page section why how what when "
    "tomorrow today yesterday week month year morning evening server channel bot thanks please"
)
_CHATTER = (
    "at 10am",
    "around 3pm",
    "on the 2nd",
    "version 3.11.4",
    "in 2010",
    "like 50 people",
    "room 4B",
    "<@123456789012345678>",
    "<#987654321098765432>",
    "<:kekw:123456789012345678>",
    ":thumbsup:",
    "https://example.com/news/2010/11/28/story-12345",
    "`code 42x`",
    "1st",
    "24/7",
    "covid19",
    "mp3",
    "A4 paper",
    "x86",
    "5G",
    "B2B",
    "the 90s",
    "😂",
    "🔥🔥",
    "❤️",
    "👍🏽",
    "👨\u200d👩\u200d👧",
    "“quoted”",
    "café",
    "naïve",
    "São Paulo",
    "10\u00a0%",
    "link\u200bhere",
)
_REFERENCES = (
    "08MEXICO2498",
    "see 09STATE120288 ¶5",
    "¶3 of 06USUNNEWYORK1234",
    "https://wikileaks.org/cable/2008/08/08MEXICO2498.html#par5",
    "10BANDARSERIBEGAWAN12 paras 2-4",
    "#07LONDON1234",
    "05paris99:7",
    "０８ＭＥＸＩＣＯ２４９８ ¶５",
    "09STATE120\u200b288",
)


def generate(count: int, seed: int = 1) -> list[str]:
    """`count` chat messages, about 1% of them citing a cable."""
    rng = random.Random(seed)
    messages = []
    for _ in range(count):
        words = rng.choices(_WORDS, k=rng.randint(3, 25))
        for _ in range(rng.randint(0, 2)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(_CHATTER))
        if rng.random() < 0.01:
            words.insert(rng.randrange(len(words) + 1), rng.choice(_REFERENCES))
        messages.append(" ".join(words))
    return messages


def _naive(messages: list[str]) -> int:
    pattern = re.compile(r"\d{2}[A-Z]+\d+")
    return sum(1 for message in messages for _ in pattern.finditer(message))


def _naive_stream(messages: list[str]) -> int:
    pattern = re.compile(r"\d{2}[A-Z]+\d+")
    return sum(1 for _ in pattern.finditer("\n".join(messages)))


def _grammar(messages: list[str]) -> int:
    return sum(len(find_requests(message)) for message in messages)


def _best_seconds(
    works: list[Callable[[list[str]], int]], messages: list[str], repeat: int
) -> list[float]:
    """The best time of each work over `repeat` interleaved rounds (fair under a noisy machine)."""
    best = [float("inf")] * len(works)
    for _ in range(repeat):
        for index, work in enumerate(works):
            began = time.perf_counter()
            work(messages)
            best[index] = min(best[index], time.perf_counter() - began)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--busy", action="store_true", help="keep every CPU busy meanwhile")
    args = parser.parse_args(argv)
    with busy(args.busy):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    messages = generate(args.messages, args.seed)
    megabytes = sum(len(m.encode("utf-8")) for m in messages) / 1e6
    with_refs = sum(1 for m in messages if find_requests(m))
    rows = [
        ("naive re.finditer (baseline)", _naive),
        ("naive, whole stream at once", _naive_stream),
        ("find_requests", _grammar),
    ]
    seconds = _best_seconds([work for _, work in rows], messages, args.repeat)
    print(f"{len(messages)} messages, {megabytes:.2f} MB, {with_refs} with a reference")
    print(f"{'run':<30} {'found':>7} {'seconds':>9} {'MB/s':>8} {'ratio':>6}")
    for (name, work), spent in zip(rows, seconds, strict=True):
        rate, ratio = megabytes / spent, seconds[0] / spent
        print(f"{name:<30} {work(messages):>7} {spent:>9.4f} {rate:>8.1f} {ratio:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
