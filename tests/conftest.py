"""Shared fixtures: where the third-party data in ../shared lives, skipping when it is absent."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.pg import STRICT, postgres_database

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        reason = f"third-party data not available: {path} (../shared beside the project)"
        if STRICT:
            pytest.fail(f"{reason}; TEST_CABLEBOT_STRICT_SKIPS=1 requires it")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def corpus_pages() -> Path:
    """The folder of real cable-site pages, ../shared/corpus/pages."""
    return _shared_path("corpus", "pages")


@pytest.fixture(scope="session")
def seed_page() -> Path:
    """The seed cable page saved as text, ../shared/corpus/seed/08MEXICO2498.txt."""
    return _shared_path("corpus", "seed", "08MEXICO2498.txt")


@pytest.fixture(scope="session")
def month_index() -> Path:
    """Every published reference ID with its month, ../shared/data/cable2month.csv.gz."""
    return _shared_path("data", "cable2month.csv.gz")


@pytest.fixture(scope="session")
def tags_table() -> Path:
    """TAGS codes with meanings, ../shared/data/tags.tsv."""
    return _shared_path("data", "tags.tsv")


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this test (see tests/pg.py)."""
    async with postgres_database() as url:
        yield url


@pytest.fixture(autouse=True)
def _fail_on_logged_errors(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """A record logged at ERROR or above fails the test, unless it is marked `logs_errors`.

    The product keeps its catch-all handlers (a bot must not die on one message); this keeps the
    tests from passing behind them.
    """
    yield
    if request.node.get_closest_marker("logs_errors"):
        return
    errors = [
        record
        for when in ("setup", "call")
        for record in caplog.get_records(when)
        if record.levelno >= logging.ERROR
    ]
    if errors:
        lines = "\n".join(f"  {r.name}: {r.getMessage()}" for r in errors)
        pytest.fail(f"errors were logged (mark the test `logs_errors` if expected):\n{lines}")
