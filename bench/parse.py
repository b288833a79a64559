"""Benchmark: pages/second of parsers.page.parse_page over the cable corpus, against a
straightforward BeautifulSoup extraction of the same fields, measured in one run.

    .venv/bin/python bench/parse.py [PAGES_DIR] [--limit N] [--repeat R]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bs4 import BeautifulSoup

from parsers.page import cable_part, parse_page  # the same slicing, for a fair second baseline

DEFAULT_PAGES = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "pages"
_SUBJECT = re.compile(r"^SUBJ(?:ECT)?:\s*(.*)$", re.MULTILINE)
_TAGS = re.compile(r"^TAGS:?\s*(.*)$", re.MULTILINE)
_PARA = re.compile(r"^\s*(\d+)\.\s*(?:\(([^)]*)\))?\s*(.*)", re.DOTALL)


def baseline(page: str) -> dict[str, object]:
    """The obvious way: BeautifulSoup for the table and <pre> blocks, ¶ anchors for paragraphs."""
    soup = BeautifulSoup(page, "html.parser")
    cells = [td.get_text(" ", strip=True) for td in soup.select("table.cable td")]
    pres = soup.find_all("pre")
    body_pre = pres[-1]
    body = body_pre.get_text()
    paragraphs = []
    for anchor in body_pre.find_all("a", id=re.compile(r"^par\d+$")):
        parts = []
        for sibling in anchor.next_siblings:
            if getattr(sibling, "name", None) == "a" and sibling.get("id", "").startswith("par"):
                break
            parts.append(sibling.get_text() if hasattr(sibling, "get_text") else str(sibling))
        m = _PARA.match("".join(parts))
        if m:
            paragraphs.append((int(m.group(1)), m.group(2), " ".join(m.group(3).split())))
    subject = _SUBJECT.search(body)
    tags = _TAGS.search(body)
    return {
        "ref_id": cells[0] if cells else "",
        "table": cells[1:5],
        "header": pres[0].get_text() if len(pres) > 1 else "",
        "subject": subject.group(1).strip() if subject else "",
        "tags": tags.group(1).split() if tags else [],
        "paragraphs": paragraphs,
    }


def _rate(parse: Callable[[str], object], pages: list[str], repeat: int) -> float:
    """Best pages/second over `repeat` passes."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for page in pages:
            parse(page)
        best = min(best, time.perf_counter() - start)
    return len(pages) / best


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument("pages", nargs="?", type=Path, default=DEFAULT_PAGES)
    args.add_argument("--limit", type=int, default=0, help="only the first N pages")
    args.add_argument("--repeat", type=int, default=3, help="passes; the best one counts")
    opts = args.parse_args(argv)
    paths = sorted(opts.pages.glob("*.html"))[: opts.limit or None]
    if not paths:
        print(f"no pages in {opts.pages}", file=sys.stderr)
        return 1
    pages = [p.read_text(encoding="utf-8") for p in paths]
    megabytes = sum(len(p.encode()) for p in pages) / 1e6
    rows = [
        ("BeautifulSoup baseline", _rate(baseline, pages, opts.repeat)),
        ("BeautifulSoup, cable part", _rate(lambda p: baseline(cable_part(p)), pages, 1)),
        ("parsers.page.parse_page", _rate(parse_page, pages, opts.repeat)),
    ]
    base = rows[0][1]
    print(f"{len(pages)} pages, {megabytes:.1f} MB, best of {opts.repeat} (cable part: 1 pass)")
    print(f"{'parser':<28}{'pages/s':>10}{'MB/s':>8}{'ratio':>8}")
    for name, rate in rows:
        print(f"{name:<28}{rate:>10.1f}{rate * megabytes / len(pages):>8.2f}{rate / base:>7.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
