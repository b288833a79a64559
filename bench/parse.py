"""Benchmark: pages/second of parsers.page.parse_page over the cable corpus, against a
straightforward BeautifulSoup extraction of the same fields, measured in one run; and dump
rows/second of parsers.dump.iter_dump against the csv module reading the same rows.

    .venv/bin/python bench/parse.py [PAGES_DIR] [--limit N] [--repeat R] [--busy]
                                    [--dump CSV] [--dump-rows N]

Dump rows come from the first N rows of --dump, or are generated in memory by
bench/make_dump.py (--dump-rows 0 skips them).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path

from bs4 import BeautifulSoup, Tag

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import busy

from parsers.dump import iter_dump
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
            anchor_id = str(sibling.get("id", "")) if isinstance(sibling, Tag) else ""
            if isinstance(sibling, Tag) and sibling.name == "a" and anchor_id.startswith("par"):
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


def dump_lines(path: Path | None, rows: int) -> list[str]:
    """The lines of `rows` dump rows: the first ones of a file, or generated ones."""
    if path is not None:
        lines: list[str] = []
        with path.open(encoding="utf-8", newline="") as handle:
            taken = (lines.append(line) or line for line in handle)  # type: ignore[func-returns-value]
            for _ in islice(iter_dump(taken), rows):  # (it reads no line beyond a row)
                pass
        return lines
    sys.path.insert(0, str(Path(__file__).parent))  # bench/ is a folder of scripts
    from make_dump import DumpWriter

    writer = DumpWriter()
    text = "".join(writer.row(i) for i in range(rows))
    return text.splitlines(keepends=True)


def _csv_rows(lines: list[str]) -> object:
    """The baseline: the csv module's reader over the same lines (escapes kept as read)."""
    return list(csv.reader(io.StringIO("".join(lines)), escapechar="\\", doublequote=False))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument("pages", nargs="?", type=Path, default=DEFAULT_PAGES)
    args.add_argument("--limit", type=int, default=0, help="only the first N pages")
    args.add_argument("--repeat", type=int, default=3, help="passes; the best one counts")
    args.add_argument("--dump", type=Path, default=None, help="a cables.csv for the dump rows")
    args.add_argument(
        "--dump-rows", type=int, default=None, help="dump rows (default 2000; 20 per --limit page)"
    )
    args.add_argument("--busy", action="store_true", help="keep every CPU busy meanwhile")
    opts = args.parse_args(argv)
    with busy(opts.busy):
        return _run(opts)


def _run(opts: argparse.Namespace) -> int:
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
    count = opts.dump_rows if opts.dump_rows is not None else min(2000, 20 * (opts.limit or 100))
    if count > 0:
        _dump_table(dump_lines(opts.dump, count), opts.repeat)
    return 0


def _dump_table(lines: list[str], repeat: int) -> None:
    """Rows/second of iter_dump against the csv module on the same lines."""
    count = sum(1 for _ in iter_dump(lines))
    megabytes = sum(len(line) for line in lines) / 1e6
    rates = [
        ("csv module baseline", _rate(lambda _: _csv_rows(lines), [""], repeat) * count),
        ("dump rows/s (iter_dump)", _rate(lambda _: list(iter_dump(lines)), [""], repeat) * count),
    ]
    print(f"\n{count} dump rows, {megabytes:.1f} MB, best of {repeat}")
    print(f"{'parser':<28}{'rows/s':>10}{'MB/s':>8}{'ratio':>8}")
    for name, rate in rates:
        ratio = rate / rates[0][1]
        print(f"{name:<28}{rate:>10.1f}{rate * megabytes / count:>8.2f}{ratio:>7.2f}x")


if __name__ == "__main__":
    sys.exit(main())
