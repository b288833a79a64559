"""bot.share: each network's own count, posts that fit it, and `cablebot share --text`."""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import share
from bot.cli import main
from bot.share import (
    LIMITS,
    NETWORKS,
    Network,
    bluesky_length,
    length,
    mastodon_length,
    post_text,
    x_length,
)
from tests.bot.helpers import harbour_page

FAMILY = (
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # man ZWJ woman ZWJ girl ZWJ boy
)
THUMBS_MEDIUM = "\U0001f44d\U0001f3fd"  # thumbs up + medium skin tone
FLAGS = "\U0001f1f2\U0001f1fd\U0001f1eb\U0001f1f7"  # MX, FR
URL = "https://wikileaks.org/plusd/cables/08MEXICO2498_a.html#par5"
TAGS = ("#cablegate", "#08MEXICO2498")


# (text, X, Mastodon, Bluesky), each counted by hand
HAND_CHECKED = [
    ("abc", 3, 3, 3),
    (FAMILY, 2, 7, 1),  # one emoji: 2 on X; seven code points; one grapheme
    (THUMBS_MEDIUM, 2, 2, 1),
    (FLAGS, 4, 4, 2),  # two flags of two regional indicators each
    ("#\ufe0f\u20e3", 2, 3, 1),  # keycap #
    ("e\u0301", 1, 2, 1),  # NFC makes é (X); two code points; one grapheme
    ("q\u0307\u0323", 3, 3, 1),  # no precomposed form: three single-weight code points
    ("日本語", 6, 3, 3),  # CJK counts 2 on X
    ("…", 2, 1, 1),  # U+2026 lies outside X's single-weight ranges
    ("“a” — b′", 8, 8, 8),  # U+201C/D, U+2014, U+2032 lie inside them
    ("→", 2, 1, 1),
    ("\u00a9 \u00a9\ufe0f", 4, 4, 3),  # © as text (1), © as emoji (2) on X
]


@pytest.mark.parametrize(("text", "x", "mastodon", "bluesky"), HAND_CHECKED)
def test_hand_checked_counts(text: str, x: int, mastodon: int, bluesky: int) -> None:
    assert (x_length(text), mastodon_length(text), bluesky_length(text)) == (x, mastodon, bluesky)


def test_every_link_counts_23_on_x_and_mastodon() -> None:
    text = f"read {URL} and http://example.org/x, then https://a.b.c/?q=1."
    # "read " 5 + 23 + " and " 5 + 23 + ", then " 7 + 23 + "." 1: the comma and the full
    # stop after a link end a sentence and are not part of it
    assert x_length(text) == 87
    assert mastodon_length(text) == 87
    assert bluesky_length(text) == len(text)  # Bluesky counts the link as written


def test_a_host_needs_a_dot_and_a_scheme() -> None:
    assert x_length("http://localhost") == len("http://localhost")
    assert x_length("see ftp://a.org") == len("see ftp://a.org")


def test_a_short_snippet_is_quoted_whole() -> None:
    post = post_text("The  ferry\nsails.", URL, TAGS, "x")
    assert post == f"“The ferry sails.” {URL} #cablegate #08MEXICO2498"


def test_a_long_snippet_is_cut_at_a_sentence() -> None:
    snippet = "The harbour master spoke at length. " * 30
    for network in NETWORKS:
        post = post_text(snippet, URL, TAGS, network)
        assert post.endswith(f"length. …” {URL} #cablegate #08MEXICO2498")
        assert length(post, network) <= LIMITS[network]
        one_more = post.replace(" …”", " The harbour master spoke at length. …”")
        assert length(one_more, network) > LIMITS[network]  # as long as it can be


def test_x_counts_the_link_as_23_so_the_quote_gets_the_room() -> None:
    post = post_text("word " * 200, URL, TAGS, "x")
    assert len(post) > LIMITS["x"] >= x_length(post)
    assert post.endswith(f"word…” {URL} #cablegate #08MEXICO2498")


def test_a_wide_snippet_is_cut_by_weight_on_x_and_by_grapheme_on_bluesky() -> None:
    snippet = "日本語の電報 " * 60 + FAMILY * 100
    x_post = post_text(snippet, URL, TAGS, "x")
    sky_post = post_text(snippet, URL, TAGS, "bluesky")
    assert x_length(x_post) <= 280 and bluesky_length(sky_post) <= 300
    assert len(x_post) < len(sky_post)  # each CJK character costs X two


def test_one_overlong_word_is_cut_between_graphemes() -> None:
    post = post_text(THUMBS_MEDIUM * 400, URL, TAGS, "bluesky")
    quote = post[1 : post.index("…”")]
    assert quote == THUMBS_MEDIUM * (len(quote) // 2)  # no skin tone split from its emoji
    assert bluesky_length(post) == 300


REF_IDS = st.from_regex(r"\A(0[0-9]|[6-9][0-9])[A-Z]{2,20}[0-9]{1,6}\Z")


@settings(deadline=None)  # no timing threshold: the machine is shared
@given(
    snippet=st.text(max_size=3000),
    ref_id=REF_IDS,
    network=st.sampled_from(NETWORKS),
    para=st.integers(min_value=1, max_value=300),
)
def test_every_post_fits_its_network(
    snippet: str, ref_id: str, network: Network, para: int
) -> None:
    url = f"https://wikileaks.org/plusd/cables/{ref_id}_a.html#par{para}"
    tail = f"{url} #cablegate #{ref_id}"
    post = post_text(snippet, url, ("#cablegate", f"#{ref_id}"), network)
    assert length(post, network) <= LIMITS[network]
    words = " ".join(snippet.split())
    if not words:
        assert post == tail
        return
    assert post.startswith("“") and post.endswith(f"” {tail}")
    quote = post[1 : -len(tail) - 2]
    if quote != words:
        assert quote.endswith("…")
        assert words.startswith(quote.removesuffix("…").removesuffix(" "))


@pytest.fixture
def fixture_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A store in tmp_path holding the test cable as 09BERLIN777, and no other setting around.

    (The fixture telegrams' origin, Atlantis, is not one the chat grammar knows.)"""
    for key in [k for k in os.environ if k.upper().startswith("CABLEBOT_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CABLEBOT_DATA_DIR", str(tmp_path))
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "09BERLIN777.html").write_text(harbour_page("09BERLIN777"), encoding="utf-8")
    assert main(["import", str(pages)]) == 0
    return tmp_path


def test_cli_text_json_per_network(fixture_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    for network in NETWORKS:
        assert main(["share", "09BERLIN777 ¶2", "--text", "--network", network, "--json"]) == 0
        row = json.loads(capsys.readouterr().out)
        assert row == {
            "network": network,
            "text": row["text"],
            "length": length(row["text"], network),
            "limit": LIMITS[network],
        }
        assert row["text"].startswith("“The minister of transport met the ambassador on Tuesday.")
        assert "#par2 #cablegate #09BERLIN777" in row["text"]


def test_cli_text_is_the_card_post_on_x(
    fixture_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["share", "09BERLIN777 ¶2", "--text"]) == 0
    plain = capsys.readouterr().out
    assert main(["resolve", "09BERLIN777 ¶2", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)[0]
    assert plain == card["citations"]["post"] + "\n"


def test_cli_errors_are_one_line(fixture_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["share", "09BERLIN777 ¶9", "--text"]) == 1
    err = capsys.readouterr().err
    assert err == "cablebot: error: 09BERLIN777 has 6 paragraphs (¶1-¶6); there is no ¶9\n"
    assert main(["share", "no reference here", "--text"]) == 1
    assert capsys.readouterr().err == "cablebot: error: no cable reference in 'no reference here'\n"
    with pytest.raises(SystemExit):
        main(["share", "09BERLIN777", "--text", "--image", "x.png"])
    assert "not allowed with argument" in capsys.readouterr().err


def _x_length_by_graphemes(text: str) -> int:
    """X's count done the slow way, one grapheme at a time over the whole text."""
    pieces, links = share._split_links(unicodedata.normalize("NFC", text))
    total = links * share.LINK_LENGTH
    for piece in pieces:
        for cluster in share._graphemes(piece):
            if share._is_emoji(cluster):
                total += 2
            else:
                total += sum(share._x_weight(c) for c in cluster)
    return total


@given(
    st.lists(
        st.sampled_from(
            [
                "a",
                " ",
                "é",
                "e\u0301",
                " \u0301",
                "…",
                "“",
                "你",
                "👍🏽",
                "🇫🇷",
                "1\ufe0f\u20e3",
                "👨\u200d👩\u200d👧",
                "\u200d",
                "©\ufe0f",
                "™",
                "⌚\u0301",
                "\u2319\u0301",
                "https://example.org/x ",
                "\n",
            ]
        )
        | st.text(max_size=3),
        max_size=40,
    ).map("".join)
)
def test_x_length_counts_like_a_grapheme_by_grapheme_walk(text: str) -> None:
    # the fast paths (words of single-weight code points counted by len, words that cannot hold
    # an emoji counted code point by code point) change no count
    assert share.x_length(text) == _x_length_by_graphemes(text)
