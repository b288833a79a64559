"""The Share button: the card's paragraph as a quote image with alt text, and the X post."""

from __future__ import annotations

import discord
import discord.ext.test as dpytest
from PIL import Image

from bot.discord.client import Cablebot
from bot.discord.embeds import ShareButton
from bot.share import x_length
from tests.bot.discord.cogs.conftest import Sent
from tests.bot.helpers import answered, spec_interaction


async def test_every_card_has_a_share_button(bot: Cablebot, sent: Sent) -> None:
    await dpytest.message("see 09OSLO777 ¶2 and 09OSLO12")
    [(_, _, payload)] = [call for call in sent.calls if call[0] == "send_message"]
    ids = [button["custom_id"] for row in payload["components"] for button in row["components"]]
    assert "cablebot:share:0:09OSLO777:2" in ids and "cablebot:share:1:09OSLO12:" in ids


async def test_share_sends_the_image_and_post_privately(bot: Cablebot) -> None:
    interaction = spec_interaction(bot)
    await ShareButton(0, "09OSLO777", (2,)).callback(interaction)
    assert answered(interaction) == ["response.defer", "followup.send"]
    assert interaction.response.defer.call_args.kwargs["ephemeral"] is True
    call = interaction.followup.send.call_args
    assert call.kwargs["ephemeral"] is True
    assert call.kwargs["allowed_mentions"].everyone is False  # the paragraph says @everyone
    post = call.args[0]
    assert post.startswith("“The minister of transport met the ambassador on Tuesday.")
    assert post.endswith("09OSLO777.html#par2 #cablegate #09OSLO777") and x_length(post) <= 280
    image: discord.File = call.kwargs["file"]
    assert image.filename == "09OSLO777.png"
    assert image.description is not None
    assert image.description.startswith("09OSLO777 ¶2 · CONFIDENTIAL · Embassy Oslo · 2009-03-12.")
    assert "The minister of transport met the ambassador" in image.description
    with Image.open(image.fp) as png:
        assert png.format == "PNG" and png.size == (1200, 675)


async def test_share_of_a_missing_paragraph_says_why(bot: Cablebot) -> None:
    interaction = spec_interaction(bot)
    await ShareButton(0, "09OSLO777", (40,)).callback(interaction)
    call = interaction.followup.send.call_args
    assert call.args[0] == "09OSLO777 has 6 paragraphs (¶1-¶6); there is no ¶40"
    assert call.kwargs["ephemeral"] is True and "file" not in call.kwargs
