#!/usr/bin/env python3
"""Do the telegram and dump parsers of the working tree give the same output as a git revision?

    .venv/bin/python tools/parser_diff.py [--base REV] [--dump CSV] [--rows N] [--fuzz N]

Loads `parsers/telegram.py` and `parsers/dump.py` of REV (default HEAD) into a temporary package
(with the working tree's `page.py` pointed at them) and compares `model_dump()` of old and new
on: every corpus page (parse_page, and parse_telegram on its body), the seed, the project's own
fixtures, the first N rows of a dump (also which line each row ends on), mutated copies of those
rows (broken quotes, lost lines...) and spliced bodies. Prints the counts and every difference;
exit status 1 when there is a difference that is not expected: listed in EXPECTED, or
explained by an intended change (see `explain`).
"""

from __future__ import annotations

import argparse
import importlib
import random
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from parsers import dump, page, telegram  # noqa: E402

SHARED = ROOT.parent / "shared"
DEFAULT_DUMP = Path("/tmp/cablebot-bench/cables-251287.csv")
BASE_PACKAGE = "_parsers_base"

STEP_BACK = "a number smaller than the last paragraph's starts a paragraph (07KABUL185)"
GLUED = "a heading glued to the end of a one-line paragraph is cut (09BRASILIA905)"
UNDERLINED = "an underlined line with text after it stays in its paragraph (09SINGAPORE529)"
EXPECTED: dict[str, str] = {
    "09BRASILIA905": GLUED,
    "10BRASILIA45": GLUED,
    "10BRASILIA49": GLUED,
    "07KABUL185": STEP_BACK + ": 16.-19. after 19.",
    "06CARACAS958": STEP_BACK + ": 5. (C) after 6.",
    "06LAPAZ3400": STEP_BACK + ": 12. (C) after 14.",
    "09MADRID440": STEP_BACK + ": 4. (SBU) after 5.",
}
"""Intended changes against the base (before 2026-11-27 22:00): reference ID → why."""


def explain(old: Any, new: Any) -> str | None:
    """Why old and new differ when an intended change accounts for it, else None."""
    if isinstance(old, tuple) and isinstance(new, tuple) and old[:1] == new[:1]:
        old, new = old[-1], new[-1]  # a dump row: (lines read, item)
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return None
    return _step_back(old, new) or _glued_title(old, new) or _underlined_kept(old, new)


def _underlined_kept(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """New paragraphs have words that old ones lacked (underlined lines, and the lines
    above a box), and lose none; all else is the same."""
    words = re.compile(r"\w+")

    def within(a: str | None, b: str | None) -> bool:  # a's words, in order, among b's
        rest = iter(words.findall(b or ""))
        return all(word in rest for word in words.findall(a or ""))

    rest = {"paragraphs", "summary"}
    if {k: v for k, v in old.items() if k not in rest} != {
        k: v for k, v in new.items() if k not in rest
    } or len(old["paragraphs"]) != len(new["paragraphs"]):
        return None
    if not within(old["summary"], new["summary"]) or (old["summary"] is None) != (
        new["summary"] is None
    ):
        return None
    for a, b in zip(old["paragraphs"], new["paragraphs"], strict=True):
        if (a["number"], a["marking"]) != (b["number"], b["marking"]):
            return None
        if not within(a["text"], b["text"]):
            return None
    return UNDERLINED


def _glued_title(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """New paragraphs end a few words earlier than old ones; all else is the same."""
    if {k: v for k, v in old.items() if k not in ("paragraphs", "summary")} != {
        k: v for k, v in new.items() if k not in ("paragraphs", "summary")
    } or len(old["paragraphs"]) != len(new["paragraphs"]):
        return None
    for a, b in zip(old["paragraphs"], new["paragraphs"], strict=True):
        cut = a["text"][len(b["text"]) :]
        if (a["number"], a["marking"]) != (b["number"], b["marking"]):
            return None
        if a != b and not (a["text"].startswith(b["text"]) and 0 < len(cut.split()) <= 8):
            return None
    return GLUED


def _step_back(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """Why old and new differ when a step back in numbering accounts for it, else None.

    A step back in numbering: new has extra paragraphs whose numbers do not go forward,
    which old kept inside the paragraph before them; all else is the same (but old's last
    paragraph, which is no longer the last: its trailer is not cut any more).
    """
    rest = {"paragraphs", "summary"}
    if {k: v for k, v in old.items() if k not in rest} != {
        k: v for k, v in new.items() if k not in rest
    }:
        return None
    kept: list[dict[str, Any]] = []
    for paragraph in new["paragraphs"]:
        if not kept or paragraph["number"] == 1 or paragraph["number"] > kept[-1]["number"]:
            kept.append(paragraph)
    if len(kept) == len(new["paragraphs"]) or len(kept) != len(old["paragraphs"]):
        return None
    for i, (a, b) in enumerate(zip(old["paragraphs"], kept, strict=True)):
        if (a["number"], a["marking"]) != (b["number"], b["marking"]):
            return None
        was_last = i == len(kept) - 1 and b["text"].startswith(a["text"])
        if not a["text"].startswith(b["text"]) and not was_last:
            return None
    return STEP_BACK


def load_base(rev: str) -> tuple[ModuleType, ModuleType, ModuleType]:
    """telegram, dump and page modules, with telegram.py and dump.py as of `rev`."""
    folder = Path(tempfile.mkdtemp(prefix="parser_diff_")) / BASE_PACKAGE
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    sources = {
        "telegram": _git_show(rev, "parsers/telegram.py"),
        "dump": _git_show(rev, "parsers/dump.py"),
        "page": (ROOT / "parsers" / "page.py").read_text(encoding="utf-8"),
    }
    for name, source in sources.items():
        if name != "telegram":
            old = "from parsers.telegram import"
            if old not in source:
                raise SystemExit(f"{name}.py does not import parsers.telegram as expected")
            source = source.replace(old, f"from {BASE_PACKAGE}.telegram import")
        (folder / f"{name}.py").write_text(source, encoding="utf-8")
    sys.path.insert(0, str(folder.parent))
    modules = [importlib.import_module(f"{BASE_PACKAGE}.{n}") for n in ("telegram", "dump", "page")]
    return modules[0], modules[1], modules[2]


def _git_show(rev: str, path: str) -> str:
    done = subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"git show {rev}:{path}: {done.stderr.strip()}")
    return done.stdout


def _outcome(parse: Callable[[], Any]) -> Any:
    """A comparable result: the model's dump, an error row, or the exception raised."""
    try:
        result = parse()
    except Exception as exc:  # a raised error is an outcome to compare too
        return ("raised", type(exc).__name__, str(exc))
    return _plain(result)


def _plain(item: Any) -> Any:
    if hasattr(item, "model_dump"):
        return item.model_dump()
    if isinstance(item, ValueError):
        return ("error", type(item).__name__, getattr(item, "row", None), str(item))
    return item


class Report:
    """Counts comparisons and prints differences."""

    def __init__(self) -> None:
        self.compared: dict[str, int] = {}
        self.unexpected = 0
        self.expected = 0

    def check(self, what: str, key: str, old: Any, new: Any) -> None:
        """Compare one outcome; print it when old and new differ."""
        self.compared[what] = self.compared.get(what, 0) + 1
        if old == new:
            return
        ref_id = key.split(" ")[0].split("/")[-1].removesuffix(".html").removesuffix(".txt")
        reason = EXPECTED.get(ref_id) or explain(old, new)
        if reason:
            self.expected += 1
        else:
            self.unexpected += 1
        tag = f"EXPECTED ({reason})" if reason else "DIFFERENT"
        print(f"{tag}: {what} {key}")
        for line in _describe(old, new):
            print(f"    {line}")

    def both(
        self,
        what: str,
        key: str,
        old: Callable[..., Any],
        new: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Call old and new on the same arguments and compare; returns the new outcome."""
        new_outcome = _outcome(lambda: new(*args, **kwargs))
        self.check(what, key, _outcome(lambda: old(*args, **kwargs)), new_outcome)
        return new_outcome

    def summary(self) -> None:
        """Print the totals."""
        for what, count in self.compared.items():
            print(f"{what:<34}{count:>8} compared")
        print(f"unexpected differences: {self.unexpected}; expected: {self.expected}")


def _describe(old: Any, new: Any, limit: int = 240) -> Iterator[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        for name in old.keys() | new.keys():
            if old.get(name) != new.get(name):
                if name == "paragraphs":
                    yield from _describe_paragraphs(old[name], new[name], limit)
                else:
                    before, after = str(old.get(name))[:limit], str(new.get(name))[:limit]
                    yield f"{name}: {before!r} -> {after!r}"
    else:
        yield f"{str(old)[:limit]!r} -> {str(new)[:limit]!r}"


def _describe_paragraphs(old: list[Any], new: list[Any], limit: int) -> Iterator[str]:
    yield f"paragraph numbers: {[p['number'] for p in old]} -> {[p['number'] for p in new]}"
    for a, b in zip(old, new, strict=False):
        if a != b:
            before, after = repr(a), repr(b)
            at = next((i for i, (x, y) in enumerate(zip(before, after, strict=False)) if x != y), 0)
            at = max(0, at - 40)
            yield f"  ¶{a['number']}: …{before[at : at + limit]} -> …{after[at : at + limit]}"


def compare_pages(base: tuple[ModuleType, ...], report: Report) -> list[str]:
    """Corpus pages, the seed and the fixtures; returns the bodies for splicing."""
    old_telegram, old_dump, old_page = base
    bodies: list[str] = []
    paths = sorted((SHARED / "corpus" / "pages").glob("*.html"))
    paths += sorted((SHARED / "corpus" / "seed").glob("*.txt"))
    paths += sorted((ROOT / "tests" / "fixtures").glob("**/*.html"))
    paths += sorted((ROOT / "tests" / "fixtures").glob("pages/*.txt"))
    paths += sorted((ROOT / "tests" / "fixtures").glob("library/*.txt"))
    for path in paths:
        text = path.read_text(encoding="utf-8")
        key = f"{path.parent.name}/{path.name}"
        what = "parse_any (pages, seed, fixtures)"
        new = report.both(what, key, old_page.parse_any, page.parse_any, text)
        if isinstance(new, dict):
            bodies.append(new["body"])
            report.both(
                "parse_telegram (page bodies)",
                key,
                old_telegram.parse_telegram,
                telegram.parse_telegram,
                new["body"],
                ref_id=new["ref_id"],
            )
    for path in sorted((ROOT / "tests" / "fixtures" / "telegrams").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        bodies.append(text)
        report.both(
            "parse_telegram (fixture telegrams)",
            path.name,
            old_telegram.parse_telegram,
            telegram.parse_telegram,
            text,
            ref_id=path.stem,
        )
    for path in sorted((ROOT / "tests" / "fixtures").glob("**/*.csv")):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        compare_dump_lines(old_dump, lines, report, f"fixture {path.name}")
    return bodies


def _consumed(iter_dump: Callable[..., Iterable[Any]], lines: list[str]) -> list[tuple[int, Any]]:
    """Each item of iter_dump with the number of lines read when it was yielded."""
    count = [0]

    def counting() -> Iterator[str]:
        for line in lines:
            count[0] += 1
            yield line

    try:
        return [(count[0], _plain(item)) for item in iter_dump(counting(), first_row=1)]
    except Exception as exc:
        return [(count[0], ("raised", type(exc).__name__, str(exc)))]


def compare_dump_lines(
    old_dump: ModuleType, lines: list[str], report: Report, what: str
) -> list[Any]:
    """iter_dump of both on the same lines: every item and where each row ended; returns
    the new items."""
    old = _consumed(old_dump.iter_dump, lines)
    new = _consumed(dump.iter_dump, lines)
    for i in range(max(len(old), len(new))):
        a = old[i] if i < len(old) else None
        b = new[i] if i < len(new) else None
        item = (a or b)[1]  # type: ignore[index]
        ref = item.get("ref_id", "") if isinstance(item, dict) else ""
        report.check(f"iter_dump ({what})", f"{ref} item {i + 1}", a, b)
    return [item for _, item in new]


def read_rows(path: Path, rows: int) -> list[str]:
    """The lines of the first `rows` rows of a dump."""
    lines: list[str] = []
    with path.open(encoding="utf-8", newline="") as handle:
        taken = (lines.append(line) or line for line in handle)  # type: ignore[func-returns-value]
        for _ in islice(dump.iter_dump(taken), rows):
            pass
    return lines


def mutate(lines: list[str], rng: random.Random, count: int) -> list[str]:
    """Lines with `count` random damages a real dump can have: stray or lost quotes and
    backslashes, lost or blank lines, CRs, a cut-off end."""
    out = list(lines)
    for _ in range(count):
        i = rng.randrange(len(out))
        line = out[i]
        at = rng.randrange(len(line) + 1)
        kind = rng.randrange(8)
        if kind == 0:
            out[i] = line[:at] + '"' + line[at:]
        elif kind == 1:
            out[i] = line.replace('"', "", 1)
        elif kind == 2:
            out[i] = line[:at] + "\\" + line[at:]
        elif kind == 3:
            del out[i]
        elif kind == 4:
            out.insert(i, rng.choice(["\n", "  \n", "\r\n"]))
        elif kind == 5:
            out[i] = line.replace("\n", "\r\n")
        elif kind == 6:
            out[i] = line[:at] + rng.choice([",", '","', "x", "\\n", '\\"']) + line[at:]
        else:
            out[i] = line.rstrip("\n")
    return out


def splice(bodies: list[str], rng: random.Random) -> str:
    """A body made of random runs of lines of other bodies, sometimes unwrapped or
    upper-cased, to reach corners the corpus alone does not."""
    parts: list[str] = []
    for _ in range(rng.randint(1, 6)):
        lines = rng.choice(bodies).split("\n")
        start = rng.randrange(len(lines))
        run = lines[start : start + rng.randint(1, 60)]
        if rng.random() < 0.15:
            run = [" ".join(run)]
        if rng.random() < 0.1:
            run = [x.upper() for x in run]
        parts.extend(run)
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Run every comparison and print the report."""
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument("--base", default="HEAD", help="git revision to compare with")
    args.add_argument("--dump", type=Path, default=DEFAULT_DUMP, help="a cables.csv dump")
    args.add_argument("--rows", type=int, default=30_000, help="dump rows to compare")
    args.add_argument("--mutated", type=int, default=3_000, help="rows for the damaged-dump run")
    args.add_argument("--fuzz", type=int, default=3_000, help="spliced bodies to compare")
    args.add_argument("--seed", type=int, default=1)
    opts = args.parse_args(argv)
    base = load_base(opts.base)
    old_telegram, old_dump, _ = base
    report = Report()
    bodies = compare_pages(base, report)
    rng = random.Random(opts.seed)
    if opts.dump.exists() and opts.rows:
        lines = read_rows(opts.dump, opts.rows)
        what = f"first {opts.rows} rows of {opts.dump.name}"
        items = compare_dump_lines(old_dump, lines, report, what)
        bodies += [x["body"] for x in items[:2000] if isinstance(x, dict)]
        some = lines[: opts.mutated * len(lines) // opts.rows]
        for start in range(0, len(some), 2000):
            damaged = mutate(some[start : start + 2000], rng, 20)
            compare_dump_lines(old_dump, damaged, report, "damaged rows")
    else:
        print(f"dump rows not compared (--rows 0, or no dump at {opts.dump})")
    for n in range(opts.fuzz):
        text = splice(bodies, rng)
        report.both(
            "parse_telegram (spliced bodies)",
            f"#{n}",
            old_telegram.parse_telegram,
            telegram.parse_telegram,
            text,
            ref_id="09SPLICE1",
        )
    report.summary()
    return 1 if report.unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
