"""Settings from the environment and `.env` (prefix `CABLEBOT_`), shared by every command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DATA_DIR = Path(user_data_dir("cablebot", appauthor=False))

DEFAULT_MIRRORS = (
    "https://wikileaks.org/cable/{year}/{month}/{ref_id}.html",
    "https://wikileaks.org/plusd/cables/{ref_id}_a.html",
)
DEFAULT_MONTH_INDEX_URL = (
    "https://raw.githubusercontent.com/heuer/cablemap/master/"
    "cablemap.core/cablemap/core/cable2month.csv.gz"
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
    month_index: Path | None = Field(None, description="cable2month.csv.gz; default in data_dir.")
    month_index_url: str = DEFAULT_MONTH_INDEX_URL
    tags_path: Path | None = Field(None, description="tags.tsv with TAGS meanings.")
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
    pin_cpu: bool = Field(
        True, description="`run` and `chat`: the event loop and store threads share one CPU."
    )
    max_requests: int = Field(5, ge=1, le=10, description="References answered per message.")
    message_content: bool = Field(
        True, description="Ask for the Message Content intent (passive detection in channels)."
    )

    @field_validator("mirrors", mode="before")
    @classmethod
    def _split_mirrors(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @property
    def store_file(self) -> Path:
        """The SQLite file to use."""
        return self.store_path or self.data_dir / "cables.db"

    @property
    def month_index_file(self) -> Path:
        """The month index file to use (may not exist yet)."""
        return self.month_index or self.data_dir / "cable2month.csv.gz"
