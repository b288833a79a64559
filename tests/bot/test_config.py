"""Settings: environment and .env parsing, defaults, validation, and .env.example coverage."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import (
    DEFAULT_MIRRORS,
    Settings,
    SettingsError,
    load_settings,
    template_problem,
    unknown_variables,
)

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
    assert settings.month_index is None


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


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CABLEBOT_MAX_REQUESTS", "abc", "must be a whole number from 1 to 10"),
        ("CABLEBOT_MAX_REQUESTS", "11", "must be a whole number from 1 to 10"),
        ("CABLEBOT_RETRIES", "-1", "must be a whole number 0 or more"),
        ("CABLEBOT_TOTAL_TIMEOUT", "0", "must be a number above 0"),
        ("CABLEBOT_RETRY_BACKOFF", "soon", "must be a number 0 or more"),
        ("CABLEBOT_MESSAGE_CONTENT", "maybe", "must be true or false"),
        ("CABLEBOT_MIRRORS", "ftp://m/{ref_id}", "template 'ftp://m/{ref_id}' is not an http"),
        ("CABLEBOT_MIRRORS", "https://m/{year}/x.html", "template 'https://m/{year}/x.html' lacks"),
        (
            "CABLEBOT_MIRRORS",
            "https://m/{ref_id},https://n/{refid}",
            "template 'https://n/{refid}' uses {refid}; only {year}, {month} and {ref_id} are",
        ),
        ("CABLEBOT_MIRRORS", "https://m/{ref_id", "template 'https://m/{ref_id' has a stray brace"),
        ("CABLEBOT_MIRRORS", "https://m/{ref_id:>9}", "template 'https://m/{ref_id:>9}' formats"),
        ("CABLEBOT_SITE_URL", "wikileaks.org", "must be an http:// or https:// URL"),
    ],
)
def test_a_bad_value_is_one_line_with_the_variable_the_value_and_the_rule(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(None)
    text = str(caught.value)
    assert text.startswith(f"{name}={value!r}: {message}")
    assert "\n" not in text


def test_the_rule_is_written_from_the_type_and_bounds_of_every_numeric_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    numeric = [n for n, f in Settings.model_fields.items() if f.annotation in (int, float, bool)]
    assert len(numeric) > 10
    for name in numeric:
        monkeypatch.setenv(f"CABLEBOT_{name.upper()}", "x")
        with pytest.raises(SettingsError, match=rf"^CABLEBOT_{name.upper()}='x': must be "):
            load_settings(None)
        monkeypatch.delenv(f"CABLEBOT_{name.upper()}")


def test_good_templates_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CABLEBOT_MIRRORS", "http://127.0.0.1:8000/{year}/{month}/{ref_id}.html")
    assert load_settings(None).mirrors == ("http://127.0.0.1:8000/{year}/{month}/{ref_id}.html",)
    assert all(template_problem(t) is None for t in DEFAULT_MIRRORS)


def test_unknown_variables_are_named_with_where_and_a_guess(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for key in [k for k in os.environ if k.upper().startswith("CABLEBOT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CABLEBOT_MAX_REQUEST", "3")
    monkeypatch.setenv("CABLEBOT_STORE_PATH", str(tmp_path / "c.db"))
    env = tmp_path / ".env"
    env.write_text("CABLEBOT_MIRORS=\nCABLEBOT_FROBNICATE=1\nDISCORD_TOKEN=x\n", encoding="utf-8")
    assert unknown_variables(env) == [
        "unknown setting CABLEBOT_MAX_REQUEST in the environment is ignored "
        "(did you mean CABLEBOT_MAX_REQUESTS?)",
        f"unknown setting CABLEBOT_MIRORS in {env} is ignored (did you mean CABLEBOT_MIRRORS?)",
        f"unknown setting CABLEBOT_FROBNICATE in {env} is ignored",
    ]
    assert unknown_variables(None) == unknown_variables(env)[:1]


def test_the_log_file_defaults_to_the_data_dir(tmp_path: Path) -> None:
    assert Settings(_env_file=None, data_dir=tmp_path).log_file == tmp_path / "cablebot.log"  # type: ignore[call-arg]
    assert Settings(_env_file=None, log_path=tmp_path / "x.log").log_file == tmp_path / "x.log"  # type: ignore[call-arg]


def test_a_dotenv_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_bytes(b"CABLEBOT_MAX_REQUESTS=3\n\xff\xfe\n")
    with pytest.raises(SettingsError, match=rf"^{env}: cannot read it \('utf-8' codec"):
        load_settings(env)
    assert unknown_variables(env) == []  # load_settings is the one that says why
