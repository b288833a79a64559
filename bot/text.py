"""Small pure helpers for the words the bot prints."""

from __future__ import annotations


def plural(count: int, word: str) -> str:
    """`1 row`, `2 rows`, `1,500 pages`."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"
