"""Shared fixtures: where the third-party data in ../shared lives, skipping when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"third-party data not available: {path} (../shared beside the project)")
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
