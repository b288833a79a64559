"""bot.quote_image: the quote card PNG, read back by OCR, and `cablebot share --image`."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from bot.quote_image import ALT_MAX, HEIGHT, WIDTH, _fit, alt_text, header_line, render_png
from bot.share import quote_of
from tests.bot.helpers import harbour_cable
from tests.bot.test_share import fixture_store  # noqa: F401  (the store fixture)


def _ocr(png: Path) -> str:
    """The words tesseract reads in `png`, on one line."""
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed (apt-get install tesseract-ocr; .ci/run does)")
    done = subprocess.run(
        ["tesseract", str(png), "stdout"], capture_output=True, text=True, check=True
    )
    return " ".join(done.stdout.split())


def test_cli_image_is_1200x675_and_reads_back(
    fixture_store: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    png = fixture_store / "quote.png"
    capsys.readouterr()
    assert main(["share", "09BERLIN777 ¶2", "--image", str(png), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["image"] == str(png)
    assert out["alt"].startswith("09BERLIN777 ¶2 · CONFIDENTIAL · Embassy Oslo · 2009-03-12.")
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (1200, 675)
    words = _ocr(png)
    assert "09BERLIN777" in words
    assert "2. (SBU) The minister of transport met the ambassador" in words
    assert "FERRY CONTRACT FOR THE ISLANDS SIGNED IN HASTE" in words


def test_a_long_paragraph_is_cut_at_a_sentence(tmp_path: Path) -> None:
    quote = quote_of(harbour_cable(), [5])  # about 2,200 characters
    png = tmp_path / "long.png"
    png.write_bytes(render_png(quote))
    words = _ocr(png)
    assert "5. (C/NF) Comment: the contract is likely to go to a local shipyard" in words
    assert words.count("repeated the same point at length.") < 40  # not all of it


def test_fit_cuts_at_a_sentence_to_the_rows() -> None:
    text = "One two three. Four five six seven. Eight nine ten eleven twelve."
    assert _fit(text, 20, 9) == [
        "One two three. Four",
        "five six seven.",
        "Eight nine ten",
        "eleven twelve.",
    ]
    assert _fit(text, 20, 3) == ["One two three. Four", "five six seven. …"]
    assert _fit(text, 20, 2) == ["One two three. Four", "five six…"]  # no sentence fits
    assert _fit(text, 20, 1) == ["One two three. …"]


def test_header_alt_text_and_size_without_a_paragraph() -> None:
    quote = quote_of(harbour_cable(), [])  # a bare ID: the summary
    assert header_line(quote) == "09OSLO777 · CONFIDENTIAL · Embassy Oslo · 2009-03-12"
    assert alt_text(quote) == (
        "09OSLO777 · CONFIDENTIAL · Embassy Oslo · 2009-03-12. FERRY CONTRACT FOR THE ISLANDS "
        "SIGNED IN HASTE. Summary: The harbour authority announced a new ferry schedule for the "
        "islands. Officials expect crowds during the regatta. End summary. "
        "#cablegate #09OSLO777"
    )
    long_alt = alt_text(quote_of(harbour_cable(), [5]))
    assert len(long_alt) <= ALT_MAX and long_alt.endswith("#cablegate #09OSLO777")
    with Image.open(io.BytesIO(render_png(quote))) as image:
        assert image.size == (WIDTH, HEIGHT) == (1200, 675)


def test_other_commands_do_not_import_pillow() -> None:
    code = (
        "import sys, bot.cli, bot.answer, bot.share, bot.quote_image, bot.discord.embeds; "
        "sys.exit('PIL' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
