#!/usr/bin/env python3
"""Write bot/data/: the TAGS meanings and the month index that Cablebot ships with.

Reads ../shared/data/tags.tsv (TAGS codes with meanings) and ../shared/data/cable2month.csv.gz
(every published reference ID with its month; BSD-licensed, see NOTICE) at dev time and writes

- bot/data/tags.json: the same table as one JSON object `{code: meaning}`, sorted by code;
- bot/data/months.bin: the month index, packed for lookups without parsing
  (bot/library/month_index.py).

The output depends only on the input, so running it again on the same files changes nothing:

    .venv/bin/python tools/gen_package_data.py [--tags PATH] [--months PATH] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.library.month_index import MonthIndexError, pack_month_index, read_month_index  # noqa: E402
from parsers.vocab import parse_tag_table  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "bot" / "data"


def tags_text(source: Path) -> str:
    """The shipped tags.json for the table at `source` (read once at start-up with json)."""
    table = parse_tag_table(source.read_text(encoding="utf-8"))
    return json.dumps(dict(sorted(table.items())), ensure_ascii=False, indent=0) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=Path, default=SHARED / "tags.tsv")
    parser.add_argument("--months", type=Path, default=SHARED / "cable2month.csv.gz")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    try:
        tags = tags_text(args.tags)
        months = pack_month_index(read_month_index(args.months))
    except (OSError, ValueError, MonthIndexError) as exc:
        print(f"gen_package_data: error: {exc}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tags.json").write_text(tags, encoding="utf-8", newline="\n")
    (args.out / "months.bin").write_bytes(months)
    print(
        f"{args.out}: tags.json ({tags.count(chr(10)) - 2:,} codes, {len(tags.encode()):,} bytes)"
    )
    print(f"{args.out}: months.bin ({len(months):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
