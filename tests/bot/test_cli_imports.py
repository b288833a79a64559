"""What a `cablebot` command imports: each subcommand only what it needs, so it starts at once."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from bot.library.store import CableStore
from tests.bot.helpers import harbour_cable

# Runs main() in a fresh interpreter, then prints the top-level packages it imported.
PROBE = """
import contextlib, io, json, sys
from bot.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:  # --help
        code = exc.code
print(json.dumps({"code": code, "out": out.getvalue(),
                  "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


HEAVY = frozenset(
    {
        "discord",
        "aiohttp",
        "httpx",
        "httpcore",
        "markdown_it",
        "regex",
    }
)
"""What resolving a stored cable does not import: Discord and HTTP clients, and `regex`
(graphemes: only text with emoji needs them)."""


def _imported(tmp_path: Path, *argv: str) -> tuple[int, str, set[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CABLEBOT_", "DISCORD_"))}
    env |= {"CABLEBOT_DATA_DIR": str(tmp_path), "COLUMNS": "100"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=True,
    )
    result = json.loads(done.stdout)
    return result["code"], result["out"], set(result["modules"])


def _fill(path: Path) -> None:
    async def fill() -> None:
        async with await CableStore.open(path) as store:
            await store.put([harbour_cable()])

    asyncio.run(fill())


def test_resolving_from_the_store_imports_neither_discord_nor_an_http_client(
    tmp_path: Path,
) -> None:
    _fill(tmp_path / "cables.db")
    code, out, modules = _imported(tmp_path, "resolve", "09OSLO777 ¶5")
    assert code == 0 and "09OSLO777" in out and "Comment: the contract" in out
    assert "rich" in modules  # the cards were drawn...
    assert not modules & HEAVY  # ...only


def test_resolving_as_json_draws_nothing(tmp_path: Path) -> None:
    _fill(tmp_path / "cables.db")
    code, out, modules = _imported(tmp_path, "resolve", "09OSLO777 ¶5", "--json")
    assert code == 0 and json.loads(out)[0]["ref_id"] == "09OSLO777"
    assert not modules & (HEAVY | {"rich"})


def test_a_store_miss_fetches_with_httpx_but_not_discord(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port bound and closed: the fetch is refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / ".env").write_text(f"CABLEBOT_MIRRORS=http://127.0.0.1:{port}/{{ref_id}}.html\n")
    code, out, modules = _imported(tmp_path, "resolve", "09OSLO777", "--json")
    assert code == 0 and "unreachable" in json.loads(out)[0]["error"]
    assert "httpx" in modules and not modules & {"discord", "aiohttp"}


def test_help_imports_neither_settings_nor_the_library(tmp_path: Path) -> None:
    code, out, modules = _imported(tmp_path, "--help")
    assert code == 0 and "resolve" in out
    assert not modules & {"pydantic", "sqlite3", "asyncio", "rich", "parsers", "dotenv"}


# Runs main() as the console script does (no argv), then says what became of the collector.
GC_PROBE = """
import contextlib, gc, io, json, sys
from bot.cli import main
sys.argv = ["cablebot", *sys.argv[1:]]
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(None if sys.argv[1] != "--explicit" else sys.argv[2:])
print(json.dumps([code, gc.isenabled(), gc.get_freeze_count() > 0]))
"""


def _gc_after(tmp_path: Path, *argv: str) -> list[object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CABLEBOT_", "DISCORD_"))}
    env |= {"CABLEBOT_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", GC_PROBE, *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=True,
    )
    result: list[object] = json.loads(done.stdout)
    return result


def test_a_short_command_runs_without_the_collector_and_freezes_what_is_left(
    tmp_path: Path,
) -> None:
    assert _gc_after(tmp_path, "resolve", "09OSLO777", "--requests-only") == [0, False, True]
    # called with arguments (tests, other programs), main() leaves the collector alone
    assert _gc_after(tmp_path, "--explicit", "resolve", "x", "--requests-only") == [0, True, False]


def test_a_long_running_command_keeps_the_collector(tmp_path: Path) -> None:
    assert _gc_after(tmp_path, "import", str(tmp_path / "missing.csv")) == [1, True, True]
