"""Helpers shared by the library tests: cables and cable-site pages built from our own texts."""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

from parsers.models import Cable, Paragraph

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "library"
PAGES = {  # our fixture telegrams, with the reference-table fields a cable page would show
    "10ATLANTIS17": ("2010-02-03 09:15", "CONFIDENTIAL", "Embassy Atlantis"),
    "09ATLANTIS5": ("2009-11-20 14:02", "UNCLASSIFIED", "Embassy Atlantis"),
}


def make_cable(ref_id: str, *, refs: tuple[str, ...] = (), text: str = "", n: int = 2) -> Cable:
    """A small cable built directly (no parser involved)."""
    year = 2000 + int(ref_id[:2]) if int(ref_id[:2]) < 66 else 1900 + int(ref_id[:2])
    paragraphs = tuple(
        Paragraph(number=i, marking="C", text=f"{text} paragraph {i} of {ref_id}".strip())
        for i in range(1, n + 1)
    )
    return Cable(
        ref_id=ref_id,
        created=datetime(year, 3, 14, 9, 26),
        classification="CONFIDENTIAL",
        origin="Embassy Atlantis",
        subject=f"SUBJECT OF {ref_id}",
        tags=("PGOV", "XX"),
        references=refs,
        to=("SECSTATE WASHDC",),
        paragraphs=paragraphs,
        header="FM AMEMBASSY ATLANTIS",
        body="\n\n".join(f"{p.number}. (C) {p.text}" for p in paragraphs),
    )


def site_page(ref_id: str) -> str:
    """The cable-site HTML page of one of our fixture telegrams (same structure as the site)."""
    created, classification, origin = PAGES[ref_id]
    body = (FIXTURES / f"{ref_id}.txt").read_text(encoding="utf-8")
    year, month = created[:4], created[5:7]

    def pre(text: str) -> str:
        return html.escape(text, quote=False).replace("\n", "&#x000A;")

    return f"""<html><body><div class='pane big'>
<h3>Viewing cable {ref_id}, {pre(body.split("SUBJECT: ")[1].splitlines()[0])}</h3>
<table class='cable'>
<tr><th>Reference ID</th><th>Created</th><th>Released</th><th>Classification</th>
<th>Origin</th></tr>
<tr><td><a href='/cable/{year}/{month}/{ref_id}.html'>{ref_id}</a></td>
<td><a href='/date/{year}-{month}_0.html'>{created}</a></td>
<td><a href='/reldate/2011-08-30_0.html'>2011-08-30 01:44</a></td>
<td><a href='/classification/1_0.html'>{classification}</a></td>
<td><a href='/origin/1_0.html'>{origin}</a></td></tr>
</table>
<code><pre>FM AMEMBASSY ATLANTIS&#x000A;TO SECSTATE WASHDC</pre></code>
<code><pre>{pre(body)}</pre></code>
</div></body></html>"""
