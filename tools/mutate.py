"""Mutation testing of the modules that matter most, with mutmut (slow: not run in CI).

Each module is mutated in its own copy of the project under `mutants/<name>/` and checked
against only the test files that concern it. The script prints killed / survived / timeout
and the score per module, then compares the survivors with `tools/mutation_survivors.txt`,
where every accepted survivor has one line saying why.

    .venv/bin/python tools/mutate.py                      # every module, 2 workers
    .venv/bin/python tools/mutate.py cooldown refs -j 1   # some modules, one worker
    .venv/bin/python tools/mutate.py --report             # the last run's results again
    .venv/bin/python tools/mutate.py follow --recheck     # its survivors against new tests
    .venv/bin/python tools/mutate.py cooldown --show      # with the diff of each new survivor

Exit status: 0 when every survivor is explained, 1 when one is not, 2 on a failed run.

mutmut does not mutate decorated functions (a cog's listeners and commands): the passive and
follow listeners are one-line wrappers around plain methods, which are mutated. A target may
name the functions to mutate (store.py: its migrations and what an import writes); its score
covers those only.
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Target:
    """A module to mutate and the test files that should kill its mutants."""

    path: str
    tests: tuple[str, ...]
    functions: tuple[str, ...] = ()
    """Only these functions (`name`, or `Class.method`) are mutated; empty: the whole module."""

    @property
    def module(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".")

    def patterns(self) -> list[str]:
        """mutmut's names for the mutants of `functions`, as `mutmut run` takes them."""
        return [f"{self.module}.{_mangled(f)}__mutmut_*" for f in self.functions]

    def covers(self, mutant: str) -> bool:
        """True when `mutant` is one of this target's mutants."""
        return not self.functions or any(fnmatch.fnmatchcase(mutant, p) for p in self.patterns())


def _mangled(function: str) -> str:
    """mutmut's name for a function (`x_name`) or a method (`xǁClassǁname`)."""
    cls, _, name = function.rpartition(".")
    return f"xǁ{cls}ǁ{name}" if cls else f"x_{name}"


# Module paths and their tests: the one place to change when files move.
TARGETS: dict[str, Target] = {
    "refs": Target("parsers/refs.py", ("tests/parsers/test_refs.py",)),
    "cooldown": Target(
        "bot/discord/cooldown.py",
        ("tests/bot/discord/test_cooldown.py", "tests/bot/discord/cogs/test_passive.py"),
    ),
    "cards": Target("bot/cards.py", ("tests/bot/test_cards.py",)),
    "passive": Target(
        "bot/discord/cogs/passive.py",
        ("tests/bot/discord/cogs/test_passive.py", "tests/bot/discord/cogs/test_follow.py"),
    ),
    "follow": Target("bot/discord/cogs/follow.py", ("tests/bot/discord/cogs/test_follow.py",)),
    "mirror": Target("bot/library/mirror.py", ("tests/bot/library/test_mirror.py",)),
    "store": Target(
        "bot/library/store.py",
        (
            "tests/bot/library/test_store.py",
            "tests/bot/library/test_store_failures.py",
            "tests/bot/library/test_store_serving.py",
            "tests/bot/library/test_store_concurrency.py",
            "tests/bot/library/test_store_migration.py",
        ),
        # the migrations and what an import writes (the whole module takes hours)
        functions=(
            "build_schema",
            "_tables",
            "_schema_version",
            "_migrate",
            "stored_schema",
            "migration_space",
            "_rewrite",
            "_copy",
            "_statements",
            "_cable_row",
            "_put",
            "_by_ref_id",
            "_write",
            "CableStore.put",
            "CableStore.clear_checkpoint",
        ),
    ),
    "importer": Target(
        "bot/library/importer.py",
        (
            "tests/bot/library/test_importer.py",
            "tests/bot/library/test_import_input.py",
            "tests/bot/library/test_import_disk.py",
            "tests/bot/library/test_store.py",  # import_store (a store as the source)
        ),
    ),
}

COPIED = ("bot", "parsers", "tests", "bench", "pyproject.toml")
"""What each module's copy of the project holds (mutmut copies it again into its `mutants/`)."""

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "mutants"
SURVIVORS = ROOT / "tools" / "mutation_survivors.txt"
KINDS = ("equivalent", "accepted")
TARGET_SCORE = 0.85


@dataclass
class Tally:
    """The results of one module's mutants."""

    statuses: dict[str, str]

    def count(self, *statuses: str) -> int:
        return sum(1 for s in self.statuses.values() if s in statuses)

    @property
    def survivors(self) -> list[str]:
        return sorted(n for n, s in self.statuses.items() if s in ("survived", "no tests"))

    @property
    def score(self) -> float:
        total = len(self.statuses)
        return self.count("killed", "timeout") / total if total else 0.0


def _mutmut_section(target: Target) -> str:
    """The `[tool.mutmut]` table for one module: the project's settings plus its file and tests."""
    settings = dict(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"])
    settings["only_mutate"] = [target.path]
    settings["pytest_add_cli_args_test_selection"] = list(target.tests)
    lines = ["[tool.mutmut]"]
    for key, value in settings.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, list):
            text = "[" + ", ".join(_quote(str(v)) for v in value) + "]"
        elif isinstance(value, int | float):
            text = str(value)
        else:
            text = _quote(str(value))
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _prepare(name: str, target: Target, shared: Path) -> Path:
    """A fresh copy of the project for one module, its pyproject naming that module only."""
    work = WORK / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.pyc")
    for item in COPIED:
        source = ROOT / item
        if source.is_dir():
            shutil.copytree(source, work / item, ignore=ignore)
        else:
            shutil.copy2(source, work / item)
    pyproject = (work / "pyproject.toml").read_text()
    pyproject = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[|\Z)", "", pyproject)
    (work / "pyproject.toml").write_text(pyproject.rstrip() + "\n\n" + _mutmut_section(target))
    # tests/conftest.py looks for the third-party data beside the project: beside `mutants/`.
    if shared.exists():
        (work / "shared").symlink_to(shared)
    return work


def _mutmut(work: Path, *args: str, log: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "mutmut"), *args]
    if log is None:
        return subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
    with log.open("w") as out:
        return subprocess.run(
            command, cwd=work, stdout=out, stderr=subprocess.STDOUT, text=True, check=False
        )


def _results(work: Path, target: Target) -> Tally:
    """Every mutant of `target` in the last run in `work` with its status, from
    `mutmut results --all`."""
    done = _mutmut(work, "results", "--all=true")
    statuses: dict[str, str] = {}
    for line in done.stdout.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name and target.covers(name):
            statuses[name] = status
    return Tally(statuses)


def _run(name: str, target: Target, workers: int, shared: Path) -> Tally | None:
    missing = [t for t in target.tests if not (ROOT / t).exists()]
    for test in missing:
        print(f"{name}: no {test} in this tree, left out", file=sys.stderr)
    target = dataclasses.replace(target, tests=tuple(t for t in target.tests if t not in missing))
    if not target.tests or not (ROOT / target.path).exists():
        print(f"{name}: nothing to run ({target.path} or its tests are missing)", file=sys.stderr)
        return None
    work = _prepare(name, target, shared)
    log = work / "mutmut.log"
    print(
        f"{name}: mutating {target.path} against {len(target.tests)} test file(s) ...", flush=True
    )
    done = _mutmut(work, "run", "--max-children", str(workers), *target.patterns(), log=log)
    tally = _results(work, target)
    unmatched = [
        f
        for f, p in zip(target.functions, target.patterns(), strict=True)
        if not any(fnmatch.fnmatchcase(m, p) for m in tally.statuses)
    ]
    if unmatched:
        print(f"{name}: no mutants in {', '.join(unmatched)} (renamed?)", file=sys.stderr)
        return None
    if done.returncode != 0 or not tally.statuses:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        print(f"{name}: mutmut failed (exit {done.returncode}); end of {log}:", file=sys.stderr)
        print("\n".join("    " + line for line in tail), file=sys.stderr)
        return None
    return tally


def _recheck(name: str, target: Target, workers: int) -> Tally | None:
    """The last run of `name`, its survivors tried again against the tests as they are now
    (quick, after writing tests; the module itself must be unchanged since that run)."""
    work = WORK / name
    if not (work / target.path).exists():
        print(f"{name}: no earlier run to recheck", file=sys.stderr)
        return None
    if (work / target.path).read_bytes() != (ROOT / target.path).read_bytes():
        print(f"{name}: {target.path} changed since its last run: run it in full", file=sys.stderr)
        return None
    survivors = _results(work, target).survivors
    if survivors:
        ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.pyc")
        shutil.copytree(ROOT / "tests", work / "tests", ignore=ignore, dirs_exist_ok=True)
        print(f"{name}: trying {len(survivors)} survivor(s) again ...", flush=True)
        done = _mutmut(
            work, "run", "--max-children", str(workers), *survivors, log=work / "recheck.log"
        )
        if done.returncode != 0:
            print(
                f"{name}: mutmut failed (exit {done.returncode}); see recheck.log", file=sys.stderr
            )
            return None
    return _results(work, target)


def load_survivors(path: Path = SURVIVORS) -> dict[str, str]:
    """The explained survivors: `mutant name: equivalent|accepted: why`, one a line."""
    explained: dict[str, str] = {}
    if not path.exists():
        return explained
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(":", 2)]
        if len(parts) != 3 or parts[1] not in KINDS or not parts[2]:
            raise SystemExit(
                f"{path.name}:{number}: expected 'mutant name: equivalent|accepted: why',"
                f" got {line!r}"
            )
        explained[parts[0]] = f"{parts[1]}: {parts[2]}"
    return explained


def _table(tallies: dict[str, Tally]) -> None:
    header = f"{'module':<10} {'mutants':>7} {'killed':>6} {'survived':>8} {'no tests':>8}"
    print("\n" + header + f" {'timeout':>7} {'other':>5} {'score':>6}")
    for name, t in tallies.items():
        known = t.count("killed", "survived", "no tests", "timeout")
        print(
            f"{name:<10} {len(t.statuses):>7} {t.count('killed'):>6} {t.count('survived'):>8}"
            f" {t.count('no tests'):>8} {t.count('timeout'):>7} {len(t.statuses) - known:>5}"
            f" {t.score:>6.1%}" + ("" if t.score >= TARGET_SCORE else "  < 85%")
        )


def _compare(tallies: dict[str, Tally], show: bool) -> int:
    """Print survivors the survivors file does not explain, and its stale lines; count the first."""
    explained = load_survivors()
    unexplained = 0
    for name, tally in tallies.items():
        target = TARGETS[name]
        new = [m for m in tally.survivors if m not in explained]
        stale = [
            m
            for m in explained
            if m.startswith(target.module + ".") and target.covers(m) and m not in tally.survivors
        ]
        unexplained += len(new)
        for mutant in new:
            print(f"unexplained survivor: {mutant}")
            if show:
                print(_mutmut(WORK / name, "show", mutant).stdout)
        for mutant in stale:
            print(f"no longer survives (remove from {SURVIVORS.name}): {mutant}")
    return unexplained


def main(argv: list[str] | None = None) -> int:
    """Run mutmut over the chosen modules and report; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "modules", nargs="*", metavar="MODULE", help=f"default all: {', '.join(TARGETS)}"
    )
    parser.add_argument("-j", "--workers", type=int, default=2, help="mutmut worker processes")
    parser.add_argument("--report", action="store_true", help="report the last run, run nothing")
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="try the last run's survivors again against the current tests",
    )
    parser.add_argument("--show", action="store_true", help="print each new survivor's diff")
    parser.add_argument(
        "--shared",
        type=Path,
        default=ROOT.parent / "shared",
        help="the third-party data folder (default: ../shared)",
    )
    args = parser.parse_args(argv)
    unknown = [m for m in args.modules if m not in TARGETS]
    if unknown:
        parser.error(f"unknown module {unknown[0]!r}; choose from {', '.join(TARGETS)}")
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    names = args.modules or list(TARGETS)
    tallies: dict[str, Tally] = {}
    failed = False
    for name in names:
        if args.report:
            tally: Tally | None = (
                _results(WORK / name, TARGETS[name]) if (WORK / name).exists() else None
            )
        elif args.recheck:
            tally = _recheck(name, TARGETS[name], args.workers)
        else:
            tally = _run(name, TARGETS[name], args.workers, args.shared.resolve())
        if tally is None or not tally.statuses:
            failed = True
            continue
        tallies[name] = tally
    _table(tallies)
    unexplained = _compare(tallies, args.show)
    if failed:
        return 2
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
