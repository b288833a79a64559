"""The typed models every part of Cablebot shares: a cable, its paragraphs, a chat request."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

SITE_URL = "https://wikileaks.org"
"""The cable site whose page and paragraph links the bot hands out."""


def cable_path(ref_id: str, created: datetime | None) -> str:
    """The cable-site path of a cable: `/cable/YYYY/MM/<REFID>.html`, or its PlusD page when
    the month is unknown."""
    if created is None:
        return f"/plusd/cables/{ref_id}_a.html"
    return f"/cable/{created:%Y/%m}/{ref_id}.html"


class Paragraph(BaseModel):
    """One numbered paragraph of a cable body: `5. (SBU) text...`."""

    model_config = ConfigDict(frozen=True)

    number: int = Field(ge=0, description="The paragraph number as written in the cable.")
    marking: str | None = Field(None, description='Classification marking, e.g. "SBU", "S/NF".')
    text: str = Field(description="The paragraph's prose; wrapped lines joined, bullets kept.")


class Cable(BaseModel):
    """A parsed cable: the site's reference table, the telegram header and the numbered body."""

    model_config = ConfigDict(frozen=True)

    ref_id: str = Field(description='Reference ID, e.g. "08MEXICO2498".')
    created: datetime | None = None
    released: datetime | None = None
    classification: str = Field("", description='e.g. "UNCLASSIFIED//FOR OFFICIAL USE ONLY".')
    origin: str = Field("", description='The site\'s origin name, e.g. "Embassy Mexico".')
    subject: str = ""
    tags: tuple[str, ...] = ()
    references: tuple[str, ...] = Field((), description="Reference IDs this cable cites.")
    precedence: str | None = Field(None, description='e.g. "PRIORITY", "IMMEDIATE", "ROUTINE".')
    date_time_group: str | None = Field(None, description='e.g. "141842Z AUG 08".')
    sender: str | None = Field(None, description='The FM line, e.g. "AMEMBASSY MEXICO".')
    to: tuple[str, ...] = Field((), description="Addressees of the TO line(s).")
    info: tuple[str, ...] = Field((), description="Addressees of the INFO line(s).")
    caveats: tuple[str, ...] = Field((), description='Handling caveats, e.g. "SIPDIS", "NOFORN".')
    summary: str | None = Field(None, description="The cable's summary, when it has one.")
    paragraphs: tuple[Paragraph, ...] = ()
    header: str = Field("", description="The raw routing header (VZCZC..., FM, TO, INFO).")
    body: str = Field("", description="The whole body text as published.")

    @property
    def path(self) -> str:
        """The cable-site path `/cable/YYYY/MM/<REFID>.html` (month from `created`)."""
        return cable_path(self.ref_id, self.created)

    def url(self, paragraph: int | None = None, site: str = SITE_URL) -> str:
        """The page URL on `site`, pointing at `#parN` when a paragraph is given."""
        anchor = f"#par{paragraph}" if paragraph is not None else ""
        return f"{site.rstrip('/')}{self.path}{anchor}"

    def paragraph(self, number: int) -> Paragraph | None:
        """The first paragraph numbered `number`, or None when the cable has none."""
        return next((p for p in self.paragraphs if p.number == number), None)


class CableRequest(BaseModel):
    """One reference found in a chat message: a cable and the paragraphs asked for."""

    model_config = ConfigDict(frozen=True)

    ref_id: str
    paragraphs: tuple[int, ...] = Field((), description="Requested paragraphs; empty: whole cable")
    start: int = Field(0, ge=0, description="Offset of the match in the message text.")
    end: int = Field(0, ge=0, description="Offset just past the match.")
    problem: str | None = Field(
        None, description="Why the paragraph part was rejected (e.g. ¶0), for the user to read."
    )


class NotACableError(ValueError):
    """The text given to a parser is not a cable (page, saved page or telegram)."""
