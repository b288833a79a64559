#!/usr/bin/env python3
"""Write a synthetic cables.csv-format dump: `python bench/make_dump.py N [-o cables.csv]`.

8 double-quoted columns (id, created, refid, origin, classification, references, header, body),
backslash escapes, real newlines inside fields, dates `M/D/YYYY H:MM`, references joined by `|`.
Bodies look like telegrams (section line, TAGS, SUBJECT, REF, numbered marked paragraphs, page
breaks, signature), a few with a rare or uncommon word (RARE, MEDIUM); sizes follow a log-normal
law clipped to 2-100 KB (mean about 7 KB, like the real 1.7 GB / 251,287 cables) with 1-80
paragraphs. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from pathlib import Path

STATIONS = {
    "MEXICO": ("Embassy Mexico", "AMEMBASSY MEXICO", "RUEHME"),
    "STATE": ("Secretary of State", "SECSTATE WASHDC", "RUEHC"),
    "BAGHDAD": ("Embassy Baghdad", "AMEMBASSY BAGHDAD", "RUEHGB"),
    "MADRID": ("Embassy Madrid", "AMEMBASSY MADRID", "RUEHMD"),
    "ANKARA": ("Embassy Ankara", "AMEMBASSY ANKARA", "RUEHAK"),
    "TOKYO": ("Embassy Tokyo", "AMEMBASSY TOKYO", "RUEHKO"),
    "LAPAZ": ("Embassy La Paz", "AMEMBASSY LA PAZ", "RUEHLP"),
    "CARACAS": ("Embassy Caracas", "AMEMBASSY CARACAS", "RUEHCV"),
    "USUNNEWYORK": ("Mission USUN New York", "USMISSION USUN NEW YORK", "RUCNDT"),
    "BOGOTA": ("Embassy Bogota", "AMEMBASSY BOGOTA", "RUEHBO"),
    "TELAVIV": ("Embassy Tel Aviv", "AMEMBASSY TEL AVIV", "RUEHTV"),
    "PARIS": ("Embassy Paris", "AMEMBASSY PARIS", "RUEHFR"),
    "MONTERREY": ("Consulate Monterrey", "AMCONSUL MONTERREY", "RUEHMC"),
    "BRASILIA": ("Embassy Brasilia", "AMEMBASSY BRASILIA", "RUEHBR"),
    "TEHRAN": ("Embassy Tehran", "AMEMBASSY TEHRAN", "RUQMHR"),
    "BANDARSERIBEGAWAN": ("Embassy Bandar Seri Begawan", "AMEMBASSY BANDAR SERI BEGAWAN", "RUEHBD"),
}
CLASSIFICATIONS = (
    ("UNCLASSIFIED", "UNCLAS", "U", 0.25),
    ("UNCLASSIFIED//FOR OFFICIAL USE ONLY", "UNCLAS", "SBU", 0.2),
    ("CONFIDENTIAL", "C O N F I D E N T I A L", "C", 0.4),
    ("CONFIDENTIAL//NOFORN", "C O N F I D E N T I A L", "C/NF", 0.05),
    ("SECRET", "S E C R E T", "S", 0.08),
    ("SECRET//NOFORN", "S E C R E T", "S/NF", 0.02),
)


def _words(text: str) -> list[str]:
    return text.split()


TAGS = _words("PGOV PREL SNAR ECON OREP MX PTER PHUM ETRD EFIN KDEM MARR PINR ENRG KCRM ASEC")
MONTHS = _words("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC")
WORDS = _words(
    "the government minister said that president embassy officials would continue to press "
    "for reform security cooperation border police federal state election party opposition "
    "congress senate budget economic growth trade investment energy oil agreement talks "
    "bilateral regional human rights violence cartel military army navy justice court law "
    "judicial corruption campaign public opinion poll support leaders meeting ambassador "
    "delegation visit counterpart noted stressed agreed expressed concern over recent "
    "developments including plans proposal initiative funding program assistance training "
    "according contacts sources privately told poloff econoff week month year january march "
    "october december local national foreign ministry official spokesman press statement"
)
RARE = _words("quokka zeppelin marzipan kumquat xylophone fjord obsidian yodel")
"""Words in about 1 cable in 16,000 each: the rare terms of bench/store.py's searches."""
MEDIUM = _words("refinery quarantine hurricane satellite vaccine pipeline")
"""Words in about 1 cable in 200 each."""
VERSION = 2
"""Changes when the same seed and count give other cables (bench/store.py caches dumps by it)."""
HEADINGS = ("Security Cooperation", "Economic Outlook", "Comment", "Background", "Next Steps")


def _line_pool(rng: random.Random, size: int = 4000) -> list[str]:
    """Pre-built wrapped prose lines (60-70 characters, trailing space like the originals)."""
    pool = []
    for _ in range(size):
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < 60:
            word = rng.choice(WORDS)
            if rng.random() < 0.03:
                word = f'"{word}"'
            elif rng.random() < 0.04:
                word = str(rng.randint(2, 9999))
            words.append(word)
        pool.append(" ".join(words) + " ")
    return pool


class DumpWriter:
    """Generates cables one by one; call `row(i)` for the i-th (0-based) row's CSV text."""

    def __init__(self, seed: int = 4) -> None:
        self.rng = random.Random(seed)
        self.pool = _line_pool(self.rng)
        self.origins = list(STATIONS)
        self.classes = [c[:3] for c in CLASSIFICATIONS]
        self.weights = [c[3] for c in CLASSIFICATIONS]
        self.recent: list[str] = []

    def _year(self) -> int:
        if self.rng.random() < 0.04:
            return self.rng.choice((1966, 1972, 1975, 1979, 1986, 1988, 1989, 1990))
        return (
            self.rng.randint(2000, 2010)
            if self.rng.random() < 0.2
            else self.rng.randint(2005, 2010)
        )

    def _size(self) -> int:
        return int(min(100_000, max(2_000, math.exp(self.rng.gauss(8.45, 0.8)))))

    def row(self, index: int, *, malformed: bool = False) -> str:
        rng = self.rng
        code = self.origins[index % len(self.origins)]
        origin, sender, routing = STATIONS[code]
        serial = 1 + index // len(self.origins)
        year = self._year()
        yy = year % 100
        ref_id = f"{yy:02d}{code}{serial}"
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        hour, minute = rng.randint(0, 23), rng.randint(0, 59)
        created = f"{month}/{day}/{year} {hour}:{minute:02d}"
        if malformed:
            created = f"{month + 12}/{day + 40}/{year} {hour}:{minute:02d}"
        classification, short, marking = rng.choices(self.classes, self.weights)[0]
        refs = rng.sample(self.recent, min(len(self.recent), rng.choice((0, 0, 1, 1, 2, 3, 4))))
        dtg = f"{day:02d}{hour:02d}{minute:02d}Z {MONTHS[month - 1]} {yy:02d}"
        header = (
            f"VZCZCXRO{rng.randint(1000, 9999)}\nPP {routing}\n"
            f"DE {routing} #{serial % 10000:04d}/01 {rng.randint(1, 365):03d}"
            f"{hour:02d}{minute:02d}\n"
            f"ZNR UUUUU ZZH\nP {dtg}\nFM {sender}\nTO RUEHC/SECSTATE WASHDC PRIORITY "
            f"{rng.randint(1000, 9999)}\nINFO RUEHXC/ALL US CONSULATES COLLECTIVE PRIORITY"
        )
        body = self._body(code, serial, yy, short, marking, refs)
        self.recent.append(ref_id)
        if len(self.recent) > 500:
            self.recent = self.recent[-250:]
        fields = (str(index + 1), created, ref_id, origin, classification, "|".join(refs), header)
        return ",".join(_quote(f) for f in (*fields, body)) + "\n"

    def _body(
        self, code: str, serial: int, yy: int, short: str, marking: str, refs: list[str]
    ) -> str:
        rng = self.rng
        target = self._size()
        count = max(1, min(80, round(target / rng.uniform(500, 1100))))
        weights = [rng.uniform(0.5, 1.5) for _ in range(count)]
        total_lines = max(count, round((target - 500) / 66))
        per = [max(1, round(total_lines * w / sum(weights))) for w in weights]
        pages = max(1, math.ceil(target / 7000))
        sent = f"{code} {serial:06d}"
        out = [f"{short} SECTION 01 OF {pages:02d} {sent} ", " ", "SIPDIS ", " "]
        out += ["E.O. 12958: DECL: 08/14/2018 ", f"TAGS: {' '.join(rng.sample(TAGS, 4))} "]
        out.append(f"SUBJECT: {' '.join(rng.choices(WORDS, k=8)).upper()} ")
        out.append(" ")
        if refs:
            letters = "ABCDEFGH"
            items = [f"{letters[i]}. {r[:2]} {_spaced(r[2:])}" for i, r in enumerate(refs)]
            out += [f"REF: {' '.join(items)} ", " "]
        page, written = 1, 0
        for number in range(1, count + 1):
            if number > 1 and rng.random() < 0.1:
                heading = rng.choice(HEADINGS)
                out += [heading + " ", "-" * len(heading) + " "]
            lines = rng.choices(self.pool, k=per[number - 1])
            lines[0] = f"{number}. ({marking}) {lines[0]}"
            if number == 1 and (word := self._uncommon_word()):
                lines[0] += word + " "
            for line in lines:
                out.append(line)
                written += len(line)
                if written > 7000 * page and page < pages:
                    page += 1
                    out += [" ", f"{code} {serial:08d}  {page:03d} OF {pages:03d} ", " ", " "]
            out.append(" ")
        out.append(rng.choice(("BASSETT", "GARZA", "RICCIARDONE", "CROCKER")))
        body = "\n".join(out)
        while len(body) < 2_000:  # keep within 2-100 KB whatever the rounding did
            body = body.replace("\n \n", "\n" + rng.choice(self.pool) + "\n \n", 1)
        if len(body) > 100_000:
            body = body[: body.rindex("\n", 0, 99_000)] + "\n \n" + out[-1]
        return body

    def _uncommon_word(self) -> str | None:
        """A RARE word in 1 cable of 2,000, a MEDIUM one in 1 of 33, else None."""
        draw = self.rng.random()
        if draw < 1 / 2000:
            return self.rng.choice(RARE)
        return self.rng.choice(MEDIUM) if draw < 1 / 33 else None


def _spaced(origin_serial: str) -> str:
    """`MEXICO2400` -> `MEXICO 2400` as REF lines write it."""
    split = len(origin_serial.rstrip("0123456789"))
    return f"{origin_serial[:split]} {origin_serial[split:]}"


def _quote(field: str) -> str:
    return '"' + field.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_dump(path: Path, count: int, *, seed: int = 4, malformed: int = 0) -> int:
    """Write `count` rows (of which `malformed` have impossible dates); returns bytes written."""
    writer = DumpWriter(seed)
    bad = {round((k + 0.5) * count / malformed) for k in range(malformed)} if malformed else set()
    size = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        for index in range(count):
            text = writer.row(index, malformed=index in bad)
            size += len(text)
            out.write(text)
    return size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of cables")
    parser.add_argument("-o", "--output", type=Path, default=Path("cables.csv"))
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--malformed", type=int, default=0, help="rows with impossible dates")
    args = parser.parse_args(argv)
    if args.count < 0 or args.malformed > args.count:
        parser.error("need 0 <= --malformed <= count")
    size = write_dump(args.output, args.count, seed=args.seed, malformed=args.malformed)
    print(f"{args.output}: {args.count:,} cables, {size / 1e6:,.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
