"""`cablebot chat` and `cablebot resolve` (cards): the terminal shows what Discord would get."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.library.store import CableStore
from parsers.models import Cable
from tests.bot.helpers import harbour_cable

CABLEBOT = Path(sys.executable).with_name("cablebot")


def _fill_store(path: Path, cables: list[Cable]) -> None:
    async def fill() -> None:
        store = await CableStore.open(path)
        await store.put(cables)
        await store.close()

    asyncio.run(fill())


def closed_port() -> int:
    """A port on 127.0.0.1 that this test bound and closed: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def bare_env(tmp_path: Path) -> dict[str, str]:
    """Settings for a subprocess: an empty store in tmp_path, a refused mirror, no token."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CABLEBOT_", "DISCORD_"))}
    return clean | {
        "CABLEBOT_DATA_DIR": str(tmp_path),
        "CABLEBOT_MIRRORS": f"http://127.0.0.1:{closed_port()}/cable/{{year}}/{{month}}/{{ref_id}}.html",
        "COLUMNS": "100",
    }


@pytest.fixture
def env(tmp_path: Path, bare_env: dict[str, str]) -> dict[str, str]:
    """`bare_env` with a store of test cables."""
    _fill_store(tmp_path / "cables.db", [harbour_cable(), harbour_cable("09OSLO12")])
    return bare_env | {"CABLEBOT_RETRIES": "0"}


def _cablebot(
    env: dict[str, str], *args: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CABLEBOT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )


def test_chat_reads_messages_from_stdin_and_prints_cards(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = _cablebot(
        env, "chat", stdin="hello there\nsee 09OSLO777 ¶2\n/cite 09OSLO12\n", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    port = env["CABLEBOT_MIRRORS"].split("/")[2]
    assert " ".join(out.split()).startswith(
        f"The store holds 2 cables; the ones it lacks are fetched from the mirror ({port}) when "
        "asked. (the bot stays silent)"
    )
    assert "09OSLO777: FERRY CONTRACT FOR THE ISLANDS SIGNED IN HASTE" in out
    assert "https://wikileaks.org/cable/2009/03/09OSLO777.html#par2" in out
    assert "¶2 (SBU)" in out
    assert "▌ The minister of transport met the ambassador" in out
    assert "#cablegate #09OSLO777" in out
    assert "@misc{cable:09OSLO12," in out
    assert "Chicago note" in out


def test_chat_explains_silence(env: dict[str, str], tmp_path: Path) -> None:
    result = _cablebot(env, "chat", stdin="see 09OSLO777 ¶40\n", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "stays silent: 09OSLO777 has 6 paragraphs (¶1-¶6); there is no ¶40" in " ".join(
        result.stdout.split()
    )


def test_chat_in_a_pseudo_terminal(env: dict[str, str], tmp_path: Path) -> None:
    pty = pytest.importorskip("pty")
    import select

    pid, fd = pty.fork()
    if pid == 0:  # the child: cablebot chat on the terminal
        os.chdir(tmp_path)
        os.execve(str(CABLEBOT), [str(CABLEBOT), "chat"], env | {"TERM": "dumb"})
    os.write(fd, "09OSLO777 ¶3\n/quit\n".encode())
    out = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    text = out.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "you>" in text
    assert "¶3 (C)" in text
    assert "Contacts describe the tender as rushed" in text


def test_resolve_json_cards_and_errors(env: dict[str, str], tmp_path: Path) -> None:
    result = _cablebot(env, "resolve", "09OSLO777 ¶5 and 09OSLO12 ¶9, 09OSLO777 ¶0", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    card = next(r for r in rows if "title" in r)
    assert card["ref_id"] == "09OSLO777"
    assert card["paragraphs"] == [5]
    assert card["url"].endswith("09OSLO777.html#par5")
    assert isinstance(card["color"], int)
    assert {"name": "Origin", "value": "Embassy Oslo", "inline": True} in card["fields"]
    assert card["quote"].startswith("**¶5 (C/NF)**\n> Comment: the contract")
    assert card["hashtags"] == ["#cablegate", "#09OSLO777"]
    assert set(card["citations"]) == {"plain", "markdown", "chicago", "bibtex", "post"}
    errors = {r["ref_id"]: r["error"] for r in rows if "error" in r}
    assert errors["09OSLO12"] == "09OSLO12 has 6 paragraphs (¶1-¶6); there is no ¶9"
    assert errors["09OSLO777"] == "¶0 is not a paragraph number"


def test_resolve_seed_paragraph_five(seed_page: Path, tmp_path: Path, env: dict[str, str]) -> None:
    from parsers.page import parse_page

    seed = parse_page(seed_page.read_text(encoding="utf-8"))
    _fill_store(tmp_path / "cables.db", [seed])
    result = _cablebot(env, "resolve", "see 08MEXICO2498 ¶5", "--json")
    assert result.returncode == 0, result.stderr
    [card] = json.loads(result.stdout)
    assert card["quote"] == "**¶5 (SBU)**\n> " + " ".join(seed.paragraph(5).text.split())  # type: ignore[union-attr]
    assert card["quote"].startswith("**¶5 (SBU)**\n> The human price Mexico is paying")
    assert card["hashtags"][:2] == ["#cablegate", "#08MEXICO2498"]
    assert card["title"] == (
        "08MEXICO2498: SCENESETTER FOR SENATOR SPECTER'S VISIT TO MEXICO AUGUST 17-19"
    )


def test_resolve_tag_meanings_from_settings(
    tags_table: Path, env: dict[str, str], tmp_path: Path
) -> None:
    result = _cablebot(
        env | {"CABLEBOT_TAGS_PATH": str(tags_table)}, "resolve", "09OSLO777", "--json"
    )
    assert result.returncode == 0, result.stderr
    [card] = json.loads(result.stdout)
    tags = next(f["value"] for f in card["fields"] if f["name"] == "TAGS")
    assert tags.splitlines()[0] == "PREL External Political Relations"


def test_resolve_with_an_unreadable_tags_table_fails_clearly(
    env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "tags.tsv"
    bad.write_text("not a table\n", encoding="utf-8")
    result = _cablebot(env | {"CABLEBOT_TAGS_PATH": str(bad)}, "resolve", "09OSLO777")
    assert result.returncode == 1
    assert "tags.tsv" in result.stderr and "line 1" in result.stderr


def test_run_without_a_token_says_so(env: dict[str, str], tmp_path: Path) -> None:
    result = _cablebot(env, "run", cwd=tmp_path)
    assert result.returncode == 1
    assert "no Discord token" in result.stderr and "DISCORD_TOKEN" in result.stderr


def test_chat_offline_on_an_empty_store_says_what_is_true(
    bare_env: dict[str, str], tmp_path: Path
) -> None:
    result = _cablebot(
        bare_env | {"CABLEBOT_RETRIES": "3", "CABLEBOT_RETRY_BACKOFF": "30"},
        "chat",
        stdin="08MEXICO2498 ¶5\nand 08MEXICO2498 ¶6 again\n",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    port = bare_env["CABLEBOT_MIRRORS"].split("/")[2]
    assert out.startswith(
        f"The store is empty: cables are fetched from the mirror ({port}) as they are asked "
        "for. To answer offline, fill it: `cablebot import cables.csv`"
    )
    said = f"08MEXICO2498: not in the local store, and the cable mirror ({port}) is unreachable"
    assert out.count(said) == 2  # both messages; a retry would have waited 30 s (timeout=60)
    assert out.count("to answer without the mirror, import the cables") == 1
    assert "Traceback" not in result.stderr


def test_chat_with_neither_store_nor_mirror_says_how_to_fill_it(
    bare_env: dict[str, str], tmp_path: Path
) -> None:
    result = _cablebot(bare_env | {"CABLEBOT_MIRRORS": ""}, "chat", stdin="", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert " ".join(result.stdout.split()) == (
        "The store is empty and no mirror is set (CABLEBOT_MIRRORS): no cable can be answered "
        "yet. Fill it: `cablebot import cables.csv` (the public dump) or `cablebot import "
        "FOLDER` (a folder of saved cable pages)."
    )


def test_a_quote_in_the_terminal_keeps_headings_lines_and_links() -> None:
    from bot.chat import quote_text

    text = quote_text(
        "**¶5 (SBU)**\n> First line\n>\n> *not* emphasis\n[Read more](https://x.org/a#par5)"
    )
    assert text.plain == (
        "¶5 (SBU)\n▌ First line\n▌ \n▌ *not* emphasis\nRead more (https://x.org/a#par5)"
    )
    bold = [text.plain[s.start : s.end] for s in text.spans if s.style == "bold"]
    assert bold == ["¶5 (SBU)"]
