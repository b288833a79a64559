"""Settings: environment and .env parsing, defaults, validation, and .env.example coverage."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import DEFAULT_MIRRORS, Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented_in_env_example() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#? ?CABLEBOT_([A-Z_]+)=", text, flags=re.MULTILINE))
    assert {name.upper() for name in Settings.model_fields} <= documented
    for name in Settings.model_fields:
        block = text.split(f"CABLEBOT_{name.upper()}=")[0].rstrip().splitlines()
        assert block[-1].startswith("#"), f"CABLEBOT_{name.upper()} needs a comment above it"


def test_env_example_defaults_match_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("CABLEBOT_")]:
        monkeypatch.delenv(key)
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    shown = re.findall(r"^# (CABLEBOT_[A-Z_]+)=(.+)$", text, flags=re.MULTILINE)
    assert len(shown) > 10
    for key, value in shown:
        monkeypatch.setenv(key, value)
    assert Settings(_env_file=None) == defaults  # type: ignore[call-arg]


def test_environment_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CABLEBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CABLEBOT_MIRRORS", " http://a/{ref_id} , ,http://b/{year}/{month}/{ref_id}")
    monkeypatch.setenv("CABLEBOT_TOTAL_TIMEOUT", "2.5")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.mirrors == ("http://a/{ref_id}", "http://b/{year}/{month}/{ref_id}")
    assert settings.total_timeout == 2.5
    assert settings.store_file == tmp_path / "cables.db"
    assert settings.month_index_file == tmp_path / "cable2month.csv.gz"


def test_empty_mirrors_means_store_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CABLEBOT_MIRRORS", "")
    assert Settings(_env_file=None).mirrors == ()  # type: ignore[call-arg]
    monkeypatch.delenv("CABLEBOT_MIRRORS")
    assert Settings(_env_file=None).mirrors == DEFAULT_MIRRORS  # type: ignore[call-arg]


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / ".env"
    env.write_text("CABLEBOT_STORE_PATH=/srv/cables.db\nDISCORD_TOKEN=abc\n", encoding="utf-8")
    settings = Settings(_env_file=env)  # type: ignore[call-arg]
    assert settings.store_file == Path("/srv/cables.db")
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "abc"


@pytest.mark.parametrize(
    ("name", "value"),
    [("CABLEBOT_TOTAL_TIMEOUT", "0"), ("CABLEBOT_RETRIES", "-1"), ("CABLEBOT_IMPORT_BATCH", "x")],
)
def test_bad_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("CABLEBOT_").lower()):
        Settings(_env_file=None)  # type: ignore[call-arg]
