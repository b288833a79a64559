"""The whole message path on simulated Discord (dpytest): detection, reply, mentions, limits."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import discord
import discord.ext.test as dpytest
import pytest

from bot.config import Settings
from bot.discord.client import Cablebot
from bot.discord.cogs.passive import HOURGLASS
from bot.discord.guilds import GuildSettings
from bot.library.cables import CableLibrary
from tests.bot.discord.cogs.conftest import Sent, set_member_overwrite
from tests.bot.helpers import (
    closed_port,
    gateway_edit,
    spec_guild,
    spec_member,
    spec_message,
    spec_thread,
)


def _replies() -> list[discord.Message]:
    out = []
    while not dpytest.sent_queue.empty():
        out.append(dpytest.sent_queue.get_nowait())
    return out


def _check_no_pings(sent: Sent) -> None:
    assert sent.calls, "the bot sent nothing"
    for _, _, payload in sent.calls:
        mentions = payload.get("allowed_mentions")
        assert mentions is not None and mentions["parse"] == [], payload
        assert not mentions.get("users") and not mentions.get("roles")
        assert not mentions.get("replied_user")


async def test_two_references_get_one_reply_with_two_embeds(bot: Cablebot, sent: Sent) -> None:
    trigger = await dpytest.message("compare 09OSLO777 ¶2 with 09OSLO12 please")
    [reply] = _replies()
    assert [e.title for e in reply.embeds] == [
        "09OSLO777: FERRY CONTRACT FOR THE ISLANDS SIGNED IN HASTE",
        "09OSLO12: FISHERIES TALKS @EVERYONE SHOULD READ",
    ]
    first, second = reply.embeds
    assert first.url == "https://wikileaks.org/cable/2009/03/09OSLO777.html#par2"
    assert second.url != first.url
    fields = {f.name: f.value for f in first.fields}
    assert fields["Origin"] == "Embassy Oslo"
    assert fields["Classification"] == "CONFIDENTIAL"
    assert "PREL External Political Relations" in str(fields["TAGS"])
    assert first.description is not None and second.description is not None
    assert first.description.startswith("**¶2 (SBU)**\n> The minister of transport")
    assert "#cablegate #09OSLO777" in first.description
    assert "#cablegate #09OSLO12" in second.description
    assert second.colour != first.colour
    [(route, _, payload)] = sent.calls
    assert route == "send_message"
    assert payload["message_reference"]["message_id"] == trigger.id
    _check_no_pings(sent)


async def test_nothing_is_sent_for_misses_and_code_blocks(bot: Cablebot, sent: Sent) -> None:
    await dpytest.message("no cables here, just 2 cats")
    await dpytest.message("```\nsee 09OSLO777 ¶2\n```")
    await dpytest.message("`09OSLO777` and <09OSLO12>")
    await dpytest.message("09OSLO999999 does not exist")
    assert _replies() == []
    assert sent.calls == []


async def test_everyone_in_cable_or_user_text_never_pings(bot: Cablebot, sent: Sent) -> None:
    await dpytest.message("@everyone @here look at 09OSLO777 ¶2 <@&123456789012345678>")
    [reply] = _replies()
    assert reply.embeds[0].description and "@everyone" in reply.embeds[0].description
    assert not reply.mention_everyone
    _check_no_pings(sent)


def test_the_bot_itself_never_pings(bot: Cablebot) -> None:
    fresh = Cablebot(bot.library, bot.settings, sync_commands=False)
    assert fresh.allowed_mentions is not None
    assert fresh.allowed_mentions.to_dict() == {"parse": []}


async def _in_channel(channel: discord.abc.Messageable, message_id: int) -> discord.Message:
    """The message as the channel's history holds it now (what arrived, not what was sent)."""
    [found] = [m async for m in channel.history(limit=50) if m.id == message_id]
    return found


async def test_edit_updates_the_reply_and_delete_removes_it(bot: Cablebot, sent: Sent) -> None:
    trigger = await dpytest.message("see 09OSLO777 ¶2")
    [reply] = _replies()
    await gateway_edit(bot, trigger, content="actually 09OSLO777 ¶3")
    edited = await _in_channel(trigger.channel, reply.id)
    [embed] = edited.embeds
    assert embed.url is not None and embed.url.endswith("09OSLO777.html#par3")
    assert embed.description is not None and embed.description.startswith("**¶3 (C)**")
    [_, (route, _, edit)] = sent.calls
    assert route == "edit_message" and edit["allowed_mentions"]["parse"] == []

    await trigger.delete()
    await dpytest.run_all_events()
    channel = trigger.channel
    assert isinstance(channel, discord.TextChannel)
    history = [m.id async for m in channel.history(limit=10)]
    assert reply.id not in history
    assert await bot.followed(trigger.id) is None


async def test_edit_to_nothing_deletes_the_reply(bot: Cablebot, sent: Sent) -> None:
    trigger = await dpytest.message("see 09OSLO777 ¶2")
    [reply] = _replies()
    await gateway_edit(bot, trigger, content="never mind")
    channel = trigger.channel
    assert isinstance(channel, discord.TextChannel)
    assert reply.id not in [m.id async for m in channel.history(limit=10)]


async def test_guild_with_detection_off_gets_nothing(bot: Cablebot, sent: Sent) -> None:
    guild = dpytest.get_config().guilds[0]
    await bot.guild_settings.set(guild.id, GuildSettings(passive=False))
    await dpytest.message("see 09OSLO777 ¶2")
    assert _replies() == []
    stored = await bot.library.get_guild_settings(guild.id)
    assert stored["passive"] is False


async def test_denied_channel_gets_nothing(bot: Cablebot, sent: Sent) -> None:
    config = dpytest.get_config()
    guild, channel = config.guilds[0], config.channels[0]
    await bot.guild_settings.set(guild.id, GuildSettings(deny_channels=[channel.id]))
    await dpytest.message("see 09OSLO777 ¶2")
    assert _replies() == []


class Clock:
    """The cooldowns' clock, moved by the test (no test depends on how fast it runs)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(bot: Cablebot) -> Clock:
    clock = Clock()
    bot.user_limit.clock = bot.channel_limit.clock = clock
    return clock


async def test_cooldown_holds_under_a_burst_of_100_messages(
    bot: Cablebot, sent: Sent, clock: Clock
) -> None:
    config = dpytest.get_config()
    for i in range(100):
        await dpytest.message(f"see 09OSLO777 ¶{i % 6 + 1}", member=i % 3)
    replies = _replies()
    # One reply per user per cooldown (5 s), three users (the channel allows 5 per 30 s),
    # and one ⏳ for each user's window, on their second message.
    assert len(replies) == len(config.members) == 3
    assert len(sent.reactions) == 3
    _check_no_pings(sent)


async def test_the_channel_cooldown_holds_when_each_member_may_still_ask(
    bot: Cablebot, sent: Sent, clock: Clock
) -> None:
    members = [await dpytest.member_join() for _ in range(9)]
    # Nine people, one message each: no per-user limit is reached, the channel's is.
    asked = [await dpytest.message("see 09OSLO777 ¶2", member=member) for member in members]
    assert len(_replies()) == bot.channel_limit.rate == 5
    assert sent.reactions == [(asked[5].id, HOURGLASS)]  # the channel's first refusal only
    clock.now += 30  # the channel's window is over
    await dpytest.message("see 09OSLO777 ¶3", member=members[-1])
    assert len(_replies()) == 1


def _hourglasses(message: discord.Message) -> list[int]:
    return [r.count for r in message.reactions if r.emoji == HOURGLASS and r.me]


async def test_a_swallowed_reference_gets_one_hourglass_per_window(
    bot: Cablebot, sent: Sent, clock: Clock
) -> None:
    first = await dpytest.message("see 09OSLO777 ¶2")
    assert len(_replies()) == 1 and _hourglasses(first) == []
    swallowed = [await dpytest.message(f"and 09OSLO777 ¶{n}") for n in (3, 4)]
    chatter = await dpytest.message("thanks, that helps")
    assert _replies() == []
    assert [_hourglasses(m) for m in swallowed] == [[1], []]  # the first of the window only
    assert _hourglasses(chatter) == []
    clock.now += 5  # the user's window is over: answered, then a new window
    await dpytest.message("and 09OSLO777 ¶5")
    assert len(_replies()) == 1
    again = [await dpytest.message(f"and 09OSLO777 ¶{n}") for n in (6, 1)]
    assert [_hourglasses(m) for m in again] == [[1], []]
    assert sent.reactions == [(swallowed[0].id, HOURGLASS), (again[0].id, HOURGLASS)]


async def test_no_hourglass_without_add_reactions(bot: Cablebot, sent: Sent, clock: Clock) -> None:
    config = dpytest.get_config()
    set_member_overwrite(bot, config.channels[0], config.guilds[0].me, add_reactions=False)
    await dpytest.message("see 09OSLO777 ¶2")
    swallowed = await dpytest.message("and 09OSLO777 ¶3")
    assert len(_replies()) == 1
    assert swallowed.reactions == [] and sent.reactions == []


async def test_missing_embed_links_falls_back_to_text(bot: Cablebot, sent: Sent) -> None:
    config = dpytest.get_config()
    me = config.guilds[0].me
    set_member_overwrite(bot, config.channels[0], me, embed_links=False)
    assert not config.channels[0].permissions_for(me).embed_links
    await dpytest.message("see 09OSLO777 ¶2")
    [reply] = _replies()
    assert reply.embeds == []
    assert reply.content.startswith("**09OSLO777: FERRY CONTRACT FOR THE ISLANDS SIGNED IN HASTE**")
    assert "<https://wikileaks.org/cable/2009/03/09OSLO777.html#par2>" in reply.content
    assert "> The minister of transport" in reply.content
    assert "#cablegate #09OSLO777" in reply.content
    assert len(reply.content) <= 2000
    _check_no_pings(sent)


async def test_mirror_trouble_and_bad_paragraph_are_silent(bot: Cablebot, sent: Sent) -> None:
    await dpytest.message("see 09OSLO777 ¶40")
    assert _replies() == []


async def test_cut_note_when_too_many_references(bot: Cablebot, sent: Sent) -> None:
    refs = " ".join(f"09OSLO{n} ¶{n}" for n in range(1, 7))
    await dpytest.message(refs)
    [reply] = _replies()
    assert len(reply.embeds) == bot.settings.max_requests == 5
    assert "Only the first 5 references" in reply.content
    assert len({e.url for e in reply.embeds}) == 5
    total = sum(len(e) for e in reply.embeds)
    assert total <= 6000


async def test_a_mirror_outage_is_said_once_plainly(
    bot: Cablebot, sent: Sent, tmp_path: Path
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "outage",
        mirrors=(f"http://127.0.0.1:{closed_port()}/cable/{{year}}/{{month}}/{{ref_id}}.html",),
        retries=0,
        connect_timeout=1,
        total_timeout=2,
    )
    library = await CableLibrary.open(settings)
    bot.library = library
    try:
        await dpytest.message("see 09MADRID1234")
        [reply] = _replies()
        assert reply.embeds == []
        assert "unreachable" in reply.content
        await dpytest.message("and 09MADRID1235", member=1)
        assert _replies() == []
    finally:
        await library.close()


async def test_direct_messages_are_answered(bot: Cablebot, sent: Sent) -> None:
    member = dpytest.get_config().members[0]
    dm = await member.create_dm()
    await dpytest.message("09OSLO777 ¶4", channel=dm, member=member)
    [reply] = _replies()
    assert reply.embeds[0].url.endswith("#par4")
    _check_no_pings(sent)


async def test_mentions_are_answered_even_with_detection_off(bot: Cablebot, sent: Sent) -> None:
    guild = dpytest.get_config().guilds[0]
    await bot.guild_settings.set(guild.id, GuildSettings(passive=False))
    assert bot.user is not None
    await dpytest.message(f"<@{bot.user.id}> what is 09OSLO777 ¶40 and 09OSLO12 ¶2?")
    [reply] = _replies()
    assert reply.embeds[0].url.endswith("09OSLO12.html#par2")
    assert "09OSLO777 has 6 paragraphs" in reply.content  # addressed: errors are shown
    _check_no_pings(sent)


async def test_without_history_it_posts_without_replying(bot: Cablebot, sent: Sent) -> None:
    config = dpytest.get_config()
    set_member_overwrite(bot, config.channels[0], config.guilds[0].me, read_message_history=False)
    await dpytest.message("see 09OSLO777 ¶2")
    [reply] = _replies()
    assert reply.embeds[0].url.endswith("#par2")
    [(_, _, payload)] = sent.calls
    assert "message_reference" not in payload


async def test_without_send_permission_it_stays_quiet(bot: Cablebot, sent: Sent) -> None:
    config = dpytest.get_config()
    set_member_overwrite(bot, config.channels[0], config.guilds[0].me, send_messages=False)
    await dpytest.message("see 09OSLO777 ¶2")
    assert _replies() == [] and sent.calls == []


# Threads: dpytest has none, so these use spec'd objects of the real discord.py classes.


def _in_thread(content: str, **perms: bool) -> Any:
    guild = spec_guild()
    permissions = discord.Permissions.text()
    permissions.update(**perms)
    thread = spec_thread(thread_id=610, parent_id=600, guild=guild, permissions=permissions)
    return spec_message(content, thread)


async def _passive(bot: Cablebot, message: Any) -> None:
    cog: Any = bot.get_cog("Passive")
    await cog.on_message(message)


async def test_a_thread_gets_the_reply_in_the_thread(bot: Cablebot) -> None:
    message = _in_thread("@everyone see 09OSLO777 ¶2")
    await _passive(bot, message)
    message.reply.assert_awaited_once()
    message.channel.send.assert_not_awaited()
    kwargs = message.reply.call_args.kwargs
    [embed] = kwargs["embeds"]
    assert embed.url.endswith("09OSLO777.html#par2")
    assert "@everyone in the cabinet" in embed.description
    assert "#cablegate #09OSLO777" in embed.description
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}
    assert kwargs["mention_author"] is False
    followed = await bot.followed(message.id)
    assert followed is not None and followed.channel_id == message.channel.id == 610


async def test_a_thread_without_history_gets_a_post_in_the_thread(bot: Cablebot) -> None:
    message = _in_thread("see 09OSLO777 ¶3", read_message_history=False, embed_links=False)
    await _passive(bot, message)
    message.reply.assert_not_awaited()
    kwargs = message.channel.send.call_args.kwargs
    assert kwargs["embeds"] == []
    assert "<https://wikileaks.org/cable/2009/03/09OSLO777.html#par3>" in kwargs["content"]
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}


async def test_a_thread_may_forbid_posting(bot: Cablebot) -> None:
    message = _in_thread("see 09OSLO777 ¶2", send_messages_in_threads=False)
    await _passive(bot, message)
    message.reply.assert_not_awaited()
    message.channel.send.assert_not_awaited()


async def test_a_thread_follows_its_parent_channel_settings(bot: Cablebot) -> None:
    message = _in_thread("see 09OSLO777 ¶2")
    await bot.guild_settings.set(message.guild.id, GuildSettings(deny_channels=[600]))
    await _passive(bot, message)
    message.reply.assert_not_awaited()
    await bot.guild_settings.set(message.guild.id, GuildSettings(allow_channels=[600]))
    await _passive(bot, message)
    message.reply.assert_awaited_once()


async def test_a_reply_to_the_bot_is_answered_even_with_detection_off(bot: Cablebot) -> None:
    message = _in_thread("and what about 09OSLO777 ¶40 then?")
    await bot.guild_settings.set(message.guild.id, GuildSettings(passive=False))
    await _passive(bot, message)
    message.reply.assert_not_awaited()  # not addressed: detection is off here
    earlier = spec_message("…", message.channel, author_id=4242, message_id=400)
    earlier.author = bot.user
    message.reference = discord.MessageReference(message_id=400, channel_id=610)
    message.reference.resolved = earlier
    await _passive(bot, message)
    content = message.reply.call_args.kwargs["content"]
    assert content == "09OSLO777 has 6 paragraphs (¶1-¶6); there is no ¶40"  # addressed: said


async def test_an_outage_is_said_once_per_channel_in_its_quiet_time(
    bot: Cablebot, tmp_path: Path
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "outage",
        mirrors=(f"http://127.0.0.1:{closed_port()}/cable/{{year}}/{{month}}/{{ref_id}}.html",),
        retries=0,
        connect_timeout=1,
        total_timeout=2,
    )
    library = await CableLibrary.open(settings)
    bot.library = library
    cog: Any = bot.get_cog("Passive")
    guild, perms = spec_guild(), discord.Permissions.text()
    here, elsewhere = (
        spec_message(
            "see 09MADRID1234", spec_thread(n, parent_id=600, guild=guild, permissions=perms)
        )
        for n in (610, 611)
    )
    try:
        assert (await cog.reply_for(here, addressed=False)).mirror_down
        again = await cog.reply_for(here, addressed=False)
        assert again.empty  # the same channel within the quiet time: not said again
        assert (await cog.reply_for(elsewhere, addressed=False)).mirror_down
    finally:
        await library.close()


async def test_a_guild_cooldown_sets_each_users_window(
    bot: Cablebot, sent: Sent, clock: Clock
) -> None:
    guild = dpytest.get_config().guilds[0]
    await bot.guild_settings.set(guild.id, GuildSettings(cooldown=60.0))
    await dpytest.message("see 09OSLO777 ¶2")
    assert len(_replies()) == 1
    clock.now += 30  # past the default 5 s, inside this guild's 60 s
    swallowed = await dpytest.message("and 09OSLO777 ¶3")
    assert _replies() == []
    assert sent.reactions == [(swallowed.id, HOURGLASS)]
    clock.now += 30
    await dpytest.message("and 09OSLO777 ¶4")
    assert len(_replies()) == 1


async def test_the_channel_cooldown_is_kept_per_channel(bot: Cablebot, clock: Clock) -> None:
    guild, perms = spec_guild(), discord.Permissions.text()
    here, elsewhere = (
        spec_thread(n, parent_id=600, guild=guild, permissions=perms) for n in (610, 611)
    )
    asked = [
        spec_message("see 09OSLO777 ¶2", here, author_id=10 + n, message_id=500 + n)
        for n in range(6)
    ]
    asked.append(spec_message("see 09OSLO777 ¶2", elsewhere, author_id=30, message_id=520))
    for message in asked:
        await _passive(bot, message)
    assert [m.reply.await_count for m in asked] == [1, 1, 1, 1, 1, 0, 1]


async def test_a_users_cooldown_is_kept_per_server(bot: Cablebot, clock: Clock) -> None:
    perms = discord.Permissions.text()
    asked = [
        spec_message(
            "see 09OSLO777 ¶2",
            spec_thread(610 + n, parent_id=600 + n, guild=spec_guild(300 + n), permissions=perms),
            author_id=10,
            message_id=500 + n,
        )
        for n in range(2)
    ]
    for message in asked:
        await _passive(bot, message)
    assert [m.reply.await_count for m in asked] == [1, 1]


async def test_direct_messages_have_a_five_second_window(
    bot: Cablebot, sent: Sent, clock: Clock
) -> None:
    member = dpytest.get_config().members[0]
    dm = await member.create_dm()
    await dpytest.message("09OSLO777 ¶4", channel=dm, member=member)
    clock.now += 5
    await dpytest.message("09OSLO777 ¶5", channel=dm, member=member)
    assert len(_replies()) == 2


async def test_a_swallowed_reference_in_a_dm_gets_an_hourglass(
    bot: Cablebot, sent: Sent, clock: Clock
) -> None:
    member = dpytest.get_config().members[0]
    dm = await member.create_dm()
    await dpytest.message("09OSLO777 ¶4", channel=dm, member=member)
    swallowed = await dpytest.message("09OSLO777 ¶5", channel=dm, member=member)
    assert len(_replies()) == 1
    assert sent.reactions == [(swallowed.id, HOURGLASS)]


async def test_a_refused_hourglass_is_logged_at_debug_and_the_bot_goes_on(
    bot: Cablebot, sent: Sent, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord may refuse a reaction (the author blocked the bot): nothing to tell anyone."""

    async def refuse(channel_id: int, message_id: int, emoji: str) -> None:
        raise discord.Forbidden(dpytest.backend.FakeRequest(403, "forbidden"), "blocked")

    bot.http.add_reaction = refuse  # type: ignore[method-assign]
    caplog.set_level(logging.DEBUG, logger="bot.discord.cogs.passive")
    await dpytest.message("see 09OSLO777 ¶2")
    swallowed = await dpytest.message("and 09OSLO777 ¶3")
    clock.now += 5
    await dpytest.message("and 09OSLO777 ¶4")
    assert len(_replies()) == 2
    [record] = [r for r in caplog.records if r.name == "bot.discord.cogs.passive"]
    assert record.levelno == logging.DEBUG
    assert record.getMessage() == f"could not react to message {swallowed.id}"
    assert record.exc_info is not None and record.exc_info[0] is discord.Forbidden


async def test_other_bots_and_empty_messages_are_not_answered(bot: Cablebot) -> None:
    from_a_bot = _in_thread("see 09OSLO777 ¶2")
    from_a_bot.author = spec_member(8, bot=True)
    empty = _in_thread("")  # an attachment or a sticker alone
    for message in (from_a_bot, empty):
        await _passive(bot, message)
        message.reply.assert_not_awaited()
        message.channel.send.assert_not_awaited()
    person = _in_thread("see 09OSLO777 ¶2")
    await _passive(bot, person)
    person.reply.assert_awaited_once()


@pytest.mark.logs_errors
async def test_a_failure_while_answering_is_logged_by_message_and_the_bot_goes_on(
    bot: Cablebot, sent: Sent, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(text: str) -> Any:
        raise RuntimeError("the library broke")

    answer = bot.answer
    bot.answer = broken  # type: ignore[method-assign]
    failed = await dpytest.message("see 09OSLO777 ¶2")
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.getMessage() == f"failed to answer message {failed.id}"
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    bot.answer = answer  # type: ignore[method-assign]
    await dpytest.message("see 09OSLO777 ¶3", member=1)
    assert len(_replies()) == 1


async def test_an_outage_told_already_still_leaves_the_cards_and_the_cut_note(
    bot: Cablebot, tmp_path: Path
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "outage",
        mirrors=(f"http://127.0.0.1:{closed_port()}/cable/{{year}}/{{month}}/{{ref_id}}.html",),
        retries=0,
        connect_timeout=1,
        total_timeout=2,
    )
    library = await CableLibrary.open(settings)
    bot.library = CableLibrary(bot.library.store, library.mirror)
    cog: Any = bot.get_cog("Passive")
    channel = spec_thread(
        610, parent_id=600, guild=spec_guild(), permissions=discord.Permissions.text()
    )
    try:
        assert (
            await cog.reply_for(spec_message("see 09MADRID1234", channel), addressed=False)
        ).mirror_down
        many = "09MADRID1234 " + " ".join(f"09OSLO{n} ¶{n}" for n in range(1, 6))
        again = await cog.reply_for(spec_message(many, channel), addressed=False)
        assert not again.mirror_down  # said once in this quiet time
        assert [c.ref_id for c in again.cards] == ["09OSLO1", "09OSLO2", "09OSLO3", "09OSLO4"]
        assert again.note is not None and "Only the first 5 references" in again.note
    finally:
        await library.close()
