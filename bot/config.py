"""Settings from the environment and `.env` (prefix `CABLEBOT_`), shared by every command."""

from __future__ import annotations

import os
from pathlib import Path
from string import Formatter
from typing import Annotated, Any
from urllib.parse import urlsplit

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DATA_DIR = Path(user_data_dir("cablebot", appauthor=False))

DEFAULT_MIRRORS = (
    "https://wikileaks.org/cable/{year}/{month}/{ref_id}.html",
    "https://wikileaks.org/plusd/cables/{ref_id}_a.html",
)


class Settings(BaseSettings):
    """Everything configurable; see `.env.example` for the documented list."""

    model_config = SettingsConfigDict(
        env_prefix="CABLEBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    discord_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("CABLEBOT_DISCORD_TOKEN", "DISCORD_TOKEN"),
        description="Bot token; DISCORD_TOKEN is accepted too.",
    )
    data_dir: Path = DATA_DIR
    store_path: Path | None = Field(None, description="SQLite file; default data_dir/cables.db.")
    mirrors: Annotated[tuple[str, ...], NoDecode] = DEFAULT_MIRRORS
    month_index: Path | None = Field(
        None, description="A cable2month.csv.gz to use instead of the built-in month index."
    )
    tags_path: Path | None = Field(
        None, description="A tags.tsv to use instead of the built-in TAGS meanings."
    )
    site_url: str = "https://wikileaks.org"
    connect_timeout: float = Field(5.0, gt=0)
    total_timeout: float = Field(20.0, gt=0)
    max_response_bytes: int = Field(5_000_000, gt=0)
    per_host_concurrency: int = Field(4, gt=0)
    retries: int = Field(3, ge=0)
    not_found_ttl: float = Field(3600.0, ge=0, description="Seconds a 404 is remembered.")
    retry_backoff: float = Field(0.5, ge=0, description="First retry delay; doubles each retry.")
    max_retry_after: float = Field(30.0, ge=0, description="Longest Retry-After honoured.")
    max_redirects: int = Field(5, ge=0)
    answer_deadline: float = Field(
        8.0, gt=0, le=600, description="Seconds a message waits for its cables from the mirror."
    )
    mirror_failures: int = Field(
        3, ge=1, le=100, description="Timeouts or missed deadlines in a row that skip a host."
    )
    mirror_cooldown: float = Field(
        60.0, ge=0, le=86_400, description="Seconds a failing mirror host is skipped."
    )
    import_batch: int = Field(500, ge=1, le=10_000, description="Cables per import transaction.")
    import_workers: int = Field(
        0, ge=0, le=64, description="Processes parsing a dump; 0: one per CPU for dumps over 32 MB."
    )
    max_requests: int = Field(5, ge=1, le=10, description="References answered per message.")
    message_content: bool = Field(
        True, description="Ask for the Message Content intent (passive detection in channels)."
    )
    shard_count: int | None = Field(
        None, ge=1, le=100_000, description="Gateway shards of the whole bot, all processes."
    )
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = Field(
        None, description="Shards this process runs (0-3, 0,1,5 or 0-3,8); default all."
    )

    log_path: Path | None = Field(None, description="Rotating log file; default in data_dir.")
    database_url: str | None = Field(
        None, description="postgresql://… to keep the store in PostgreSQL instead of SQLite."
    )
    database_pool_min: int = Field(1, ge=1, le=100, description="PostgreSQL connections kept open.")
    database_pool_max: int = Field(10, ge=1, le=100, description="Most PostgreSQL connections.")

    @field_validator("mirrors", mode="before")
    @classmethod
    def _split_mirrors(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(part.strip() for part in value.split(",") if part.strip())
        if isinstance(value, tuple | list):
            for template in value:
                problem = template_problem(str(template))
                if problem:
                    raise ValueError(f"template {template!r} {problem}")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL (or empty for the SQLite store)")
        return value

    @field_validator("shard_count", mode="before")
    @classmethod
    def _empty_shard_count(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _parse_shard_ids(cls, value: object) -> object:
        from bot.discord.shards import parse_shard_ids  # pure: no discord.py

        if isinstance(value, str):
            return parse_shard_ids(value) if value.strip() else None
        return value

    @field_validator("site_url")
    @classmethod
    def _check_site_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL")
        return value

    @property
    def store_file(self) -> Path:
        """The SQLite file to use."""
        return self.store_path or self.data_dir / "cables.db"

    @property
    def log_file(self) -> Path:
        """The rotating log file."""
        return self.log_path or self.data_dir / "cablebot.log"


PLACEHOLDERS = frozenset({"year", "month", "ref_id"})
"""The fields a mirror URL template may use."""


def template_problem(template: str) -> str | None:
    """What is wrong with a mirror URL template, or None when it is usable."""
    parts = urlsplit(template)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return "is not an http:// or https:// URL"
    try:
        parsed = [
            (f, spec, conv) for _, f, spec, conv in Formatter().parse(template) if f is not None
        ]
    except ValueError as exc:
        return f"has a stray brace ({exc})"
    if any(spec or conv for _, spec, conv in parsed):
        return "formats a placeholder; write {year}, {month} and {ref_id} bare"
    fields = [f for f, _, _ in parsed]
    unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
    if unknown:
        named = ", ".join(f"{{{name}}}" for name in unknown)
        return f"uses {named}; only {{year}}, {{month}} and {{ref_id}} are known"
    if "ref_id" not in fields:
        return "lacks {ref_id}"
    return None


class SettingsError(ValueError):
    """A setting has a bad value; the message is one line naming it, the value and the rule."""


def load_settings(env_file: Path | None = Path(".env")) -> Settings:
    """The settings from the environment and `env_file`; SettingsError for the first bad one."""
    try:
        return Settings(_env_file=env_file)
    except ValidationError as exc:
        raise SettingsError(_explain(exc.errors()[0])) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{env_file}: cannot read it ({exc})") from None


def _dotenv_names(env_file: Path) -> list[str]:
    """The names a .env file sets (none when it cannot be read: load_settings says why)."""
    from dotenv.parser import parse_stream

    try:
        with env_file.open(encoding="utf-8") as lines:
            return [binding.key for binding in parse_stream(lines) if binding.key]
    except (OSError, UnicodeDecodeError):
        return []


def _variable(field_name: str) -> str:
    name = field_name.upper()
    return name if name.startswith("CABLEBOT_") or name == "DISCORD_TOKEN" else f"CABLEBOT_{name}"


def _explain(error: Any) -> str:
    """`CABLEBOT_X='value': must be ...` for one pydantic error."""
    loc = error["loc"]
    name = str(loc[0]) if loc else "?"
    value = error.get("input")
    shown = ",".join(map(str, value)) if isinstance(value, tuple | list) else str(value)
    field = Settings.model_fields.get(name)
    rule = _allowed(field) if field is not None else None
    if rule is None or error["type"] == "value_error":
        rule = str(error["msg"]).removeprefix("Value error, ")
    return f"{_variable(name)}={shown!r}: {rule}"


def _allowed(field: FieldInfo) -> str | None:
    """What a numeric or boolean field accepts, in words, from its type and bounds."""
    kind = field.annotation
    if kind is bool:
        return "must be true or false"
    if kind not in (int, float):
        return None
    noun = "a whole number" if kind is int else "a number"
    words = {"gt": "above {}", "ge": "{} or more", "lt": "below {}", "le": "{} or less"}
    bounds = {k: getattr(b, k) for b in field.metadata for k in words if hasattr(b, k)}
    if "ge" in bounds and "le" in bounds:
        return f"must be {noun} from {bounds['ge']} to {bounds['le']}"
    limits = [words[kind].format(value) for kind, value in bounds.items()]
    return f"must be {noun} {' and '.join(limits)}".rstrip()


def unknown_variables(env_file: Path | None = Path(".env")) -> list[str]:
    """A warning for each CABLEBOT_ variable (environment or `env_file`) that is no setting."""
    import difflib

    known = {_variable(name) for name in Settings.model_fields}
    sources = [("the environment", list(os.environ))]
    if env_file is not None and env_file.is_file():
        sources.append((str(env_file), _dotenv_names(env_file)))
    warnings = []
    for where, names in sources:
        for name in names:
            upper = name.upper()
            if upper.startswith("CABLEBOT_") and upper not in known:
                near = difflib.get_close_matches(upper[9:], sorted(k[9:] for k in known), n=1)
                hint = f" (did you mean CABLEBOT_{near[0]}?)" if near else ""
                warnings.append(f"unknown setting {name} in {where} is ignored{hint}")
    return warnings
