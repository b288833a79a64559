"""The data Cablebot ships with (bot/data/): regenerated identically, and used with no setting."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from pytest_httpserver import HTTPServer

from bot.library.store import CableStore
from tests.bot.helpers import TAG_MEANINGS, harbour_cable

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "bot" / "data"
CABLEBOT = Path(sys.executable).with_name("cablebot")


def _run(
    args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False
    )


def test_every_shipped_file_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = config["tool"]["setuptools"]["package-data"]["bot"]
    assert sorted(listed) == sorted(f"data/{p.name}" for p in DATA.iterdir())


def test_the_shipped_files_are_what_the_script_makes(
    tmp_path: Path, tags_table: Path, month_index: Path
) -> None:
    script = ROOT / "tools" / "gen_package_data.py"
    args = ["--tags", str(tags_table), "--months", str(month_index), "--out", str(tmp_path)]
    result = _run([sys.executable, str(script), *args])
    assert result.returncode == 0, result.stderr
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == ["months.bin", "tags.json"]
    for name in made:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


def test_the_script_refuses_bad_input_in_one_line(tmp_path: Path, tags_table: Path) -> None:
    bad = tmp_path / "months.csv.gz"
    bad.write_text("08MEXICO2498,8\n", encoding="utf-8")  # not gzipped
    script = ROOT / "tools" / "gen_package_data.py"
    args = ["--tags", str(tags_table), "--months", str(bad), "--out", str(tmp_path / "out")]
    result = _run([sys.executable, str(script), *args])
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("gen_package_data: error: ") and str(bad) in line
    assert not (tmp_path / "out").exists()


def test_with_no_settings_cards_spell_tags_out_and_links_carry_the_month(
    tmp_path: Path, httpserver: HTTPServer, corpus_pages: Path
) -> None:
    page = (corpus_pages / "10MEXICO141.html").read_text(encoding="utf-8")
    httpserver.expect_request("/cable/2010/02/10MEXICO141.html").respond_with_data(
        page, content_type="text/html"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CABLEBOT_", "DISCORD_"))}
    env |= {  # a mirror on 127.0.0.1 and a fresh data folder; nothing else is set (no .env)
        "CABLEBOT_DATA_DIR": str(tmp_path),
        "CABLEBOT_MIRRORS": httpserver.url_for("/cable/{year}/{month}/{ref_id}.html"),
    }
    result = _run([str(CABLEBOT), "resolve", "10MEXICO141 ¶2", "--json"], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [card] = json.loads(result.stdout)
    assert card["url"] == "https://wikileaks.org/cable/2010/02/10MEXICO141.html#par2"
    tags = next(f["value"] for f in card["fields"] if f["name"] == "TAGS").splitlines()
    assert tags[0] == "PREL External Political Relations"
    assert [request.path for request, _ in httpserver.log] == ["/cable/2010/02/10MEXICO141.html"]


def test_with_no_settings_a_stored_cable_spells_its_tags_out(tmp_path: Path) -> None:
    async def fill() -> None:
        async with await CableStore.open(tmp_path / "cables.db") as store:
            await store.put([harbour_cable()])

    asyncio.run(fill())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CABLEBOT_", "DISCORD_"))}
    env |= {"CABLEBOT_DATA_DIR": str(tmp_path), "CABLEBOT_MIRRORS": ""}
    result = _run([str(CABLEBOT), "resolve", "09OSLO777", "--json"], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [card] = json.loads(result.stdout)
    tags = next(f["value"] for f in card["fields"] if f["name"] == "TAGS").splitlines()
    assert tags == [f"{code} {meaning}" for code, meaning in TAG_MEANINGS.items()]
    assert card["url"] == "https://wikileaks.org/cable/2009/03/09OSLO777.html"
