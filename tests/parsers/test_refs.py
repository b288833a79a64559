"""The chat grammar: what find_requests finds in real chat phrasing, and what it must not."""

from __future__ import annotations

import gzip
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import refs
from parsers.refs import (
    MAX_PARAGRAPH,
    find_requests,
    is_invisible,
    is_reference_id,
    normalise_ref_id,
    normalise_text,
)
from parsers.vocab import KNOWN_ORIGINS, KNOWN_YEARS, MALFORMED_REF_IDS

M = "08MEXICO2498"
S = "09STATE120288"
URL = "https://wikileaks.org/cable/2008/08/08MEXICO2498.html"
Want = tuple[str, tuple[int, ...], str | None]


def r(ref_id: str, *paragraphs: int, problem: str | None = None) -> Want:
    """One expected request."""
    return (ref_id, paragraphs, problem)


TABLE: list[tuple[str, list[Want]]] = [
    # bare IDs, any case, in punctuation and Markdown
    ("08MEXICO2498", [r(M)]),
    ("have you read 08MEXICO2498?", [r(M)]),
    ("08mexico2498", [r(M)]),
    ("08Mexico2498 is wild", [r(M)]),
    ("(08MEXICO2498)", [r(M)]),
    ("08MEXICO2498, 09STATE120288", [r(M), r(S)]),
    ("08MEXICO2498's summary is odd", [r(M)]),
    ("#08MEXICO2498 #cablegate", [r(M)]),
    (
        "06USUNNEWYORK1234 and 10BANDARSERIBEGAWAN12",
        [r("06USUNNEWYORK1234"), r("10BANDARSERIBEGAWAN12")],
    ),
    ("**08MEXICO2498**", [r(M)]),
    ("||08MEXICO2498||", [r(M)]),
    ("> 08MEXICO2498 says so\nno it doesn't", [r(M)]),
    ("_08MEXICO2498_", [r(M)]),
    ("~~08MEXICO2498~~", [r(M)]),
    ('"08MEXICO2498"', [r(M)]),
    ("it's in 08MEXICO2498.", [r(M)]),
    ("08MEXICO2498!!!", [r(M)]),
    ("cable 08MEXICO2498:", [r(M)]),
    ("08MEXICO2498: this is the one", [r(M)]),
    ("08MEXICO2498: 5 people were arrested", [r(M)]),
    (f"[08MEXICO2498]({URL})", [r(M)]),
    # links on the site's hosts, PlusD and cablegatesearch
    (URL, [r(M)]),
    ("https://www.wikileaks.org/cable/2008/08/08MEXICO2498.html#par5", [r(M, 5)]),
    ("http://wikileaks.ch/cable/2008/08/08MEXICO2498.html", [r(M)]),
    ("https://cablegate.wikileaks.org/cable/2008/08/08MEXICO2498.html", [r(M)]),
    ("http://213.251.145.96/cable/2008/08/08MEXICO2498.html#par12", [r(M, 12)]),
    ("https://wikileaks.org/cable/2008/08/08MEXICO2498", [r(M)]),
    ("https://wikileaks.org/plusd/cables/08MEXICO2498_a.html", [r(M)]),
    ("http://www.cablegatesearch.net/cable.php?id=08MEXICO2498", [r(M)]),
    (f"see {URL}.", [r(M)]),
    (f"({URL}#par7)", [r(M, 7)]),
    (f"<{URL}>", []),
    (f"<{URL}#par7> but also 09STATE120288", [r(S)]),
    # paragraph requests after the ID
    ("08MEXICO2498 ¶5", [r(M, 5)]),
    ("08MEXICO2498 ¶ 5", [r(M, 5)]),
    ("08MEXICO2498 ¶¶5-7", [r(M, 5, 6, 7)]),
    ("08MEXICO2498 ¶5,7", [r(M, 5, 7)]),
    ("08MEXICO2498 ¶5, 7 and 9", [r(M, 5, 7, 9)]),
    ("08MEXICO2498 para 5", [r(M, 5)]),
    ("08MEXICO2498 paras 5-7", [r(M, 5, 6, 7)]),
    ("08MEXICO2498 paragraph 5", [r(M, 5)]),
    ("08MEXICO2498 par5", [r(M, 5)]),
    ("08MEXICO2498 p5", [r(M, 5)]),
    ("08MEXICO2498#par5", [r(M, 5)]),
    ("08MEXICO2498:5", [r(M, 5)]),
    ("08MEXICO2498/5", [r(M, 5)]),
    ("08MEXICO2498 ¶5–7", [r(M, 5, 6, 7)]),
    ("08MEXICO2498 ¶5—7", [r(M, 5, 6, 7)]),
    ("08MEXICO2498 paras 5 to 7", [r(M, 5, 6, 7)]),
    ("08MEXICO2498 paras 5 and 7", [r(M, 5, 7)]),
    ("08MEXICO2498 Para. 3 is the key", [r(M, 3)]),
    ("08MEXICO2498 PARAGRAPHS 2-3", [r(M, 2, 3)]),
    ("08MEXICO2498 (¶5)", [r(M, 5)]),
    ("08MEXICO2498, ¶5", [r(M, 5)]),
    ("**08MEXICO2498** ¶5", [r(M, 5)]),
    ("08MEXICO2498 ¶5 and ¶7", [r(M, 5, 7)]),
    ("08MEXICO2498 ¶7, 5", [r(M, 5, 7)]),
    ("08MEXICO2498 ¶5-5", [r(M, 5)]),
    ("08MEXICO2498 pp. 4-6", [r(M, 4, 5, 6)]),
    ("08mexico2498:3-4", [r(M, 3, 4)]),
    ("08MEXICO2498 ¶05", [r(M, 5)]),
    ("08MEXICO2498 ¶", [r(M)]),
    ("08MEXICO2498 para 5pm works", [r(M)]),
    ("08MEXICO2498\n¶5", [r(M)]),
    # the reverse form
    ("¶5 of 08MEXICO2498", [r(M, 5)]),
    ("paragraph 5 in 08MEXICO2498", [r(M, 5)]),
    ("paras 5 and 7 of 08MEXICO2498", [r(M, 5, 7)]),
    ("read ¶3 from 09STATE120288 carefully", [r(S, 3)]),
    ("¶5 of the cable 08MEXICO2498", [r(M, 5)]),
    ("08MEXICO2498 says ¶5 of 09STATE120288 is wrong", [r(M), r(S, 5)]),
    ("08MEXICO2498 ¶2 agrees with ¶5 of 09STATE120288", [r(M, 2), r(S, 5)]),
    ("¶5-7 of 08MEXICO2498 and ¶2 of 09STATE120288", [r(M, 5, 6, 7), r(S, 2)]),
    ("08MEXICO2498 ¶5 of 7575LIBREVILLE1895", [r(M), r("7575LIBREVILLE1895", 5)]),
    ("in para 5 of 08MEXICO2498 they admit it", [r(M, 5)]),
    ("08MEXICO2498 ¶5 in 2008 was already clear", [r(M, 5)]),
    ("08MEXICO2498 ¶5 of the cable", [r(M, 5)]),
    # several references: order, dedupe, merge
    ("08MEXICO2498 ¶5 and 09STATE120288 ¶3", [r(M, 5), r(S, 3)]),
    ("08MEXICO2498 08MEXICO2498", [r(M)]),
    ("08MEXICO2498 ¶5 ... and later 08MEXICO2498 ¶7", [r(M, 5, 7)]),
    ("08MEXICO2498 vs 08mexico2498 ¶5", [r(M, 5)]),
    ("09STATE120288 ¶2, 08MEXICO2498 ¶4", [r(S, 2), r(M, 4)]),
    ("08MEXICO2498 ¶5 08MEXICO2498 ¶5", [r(M, 5)]),
    ("see 08MEXICO2498 ¶5; also 09STATE120288 ¶¶2–3", [r(M, 5), r(S, 2, 3)]),
    ("cable 08MEXICO2498, paras 3 & 4", [r(M, 3, 4)]),
    ("08MEXICO2498 ¶ 5 - 7", [r(M, 5, 6, 7)]),
    ("08MEXICO2498 §5 and P6", [r(M, 5)]),
    (
        "08MEXICO2498 ¶0 then 08MEXICO2498 ¶5",
        [r(M, problem="¶0 is not a paragraph number"), r(M, 5)],
    ),
    # a list before `of <ID>`: items up to its last marker stay with the ID before (¶0 as above)
    (
        "09OSLO12 ¶9 and ¶0 of 09OSLO777",
        [r("09OSLO12", 9), r("09OSLO777", problem="¶0 is not a paragraph number")],
    ),
    (
        "08MEXICO2498 ¶5 and ¶0 of 09STATE120288",
        [r(M, 5), r(S, problem="¶0 is not a paragraph number")],
    ),
    ("08MEXICO2498 ¶5, ¶6 and ¶7 of 09STATE120288", [r(M, 5, 6), r(S, 7)]),
    ("08MEXICO2498 ¶5 para 7 of 09STATE120288", [r(M, 5), r(S, 7)]),
    ("08MEXICO2498 ¶5 and 6 of 09STATE120288", [r(M), r(S, 5, 6)]),
    ("08MEXICO2498 ¶5-7 of 10BERLIN12", [r(M), r("10BERLIN12", 5, 6, 7)]),
    ("08MEXICO2498 ¶4 in 2010s coverage", [r(M, 4)]),
    ("08MEXICO2498 (¶5) of 09STATE120288 too", [r(M, 5), r(S)]),
    # how people type in Discord: notations, punctuation and Markdown around IDs and paragraphs
    ("paras 3-5 of 08MEXICO2498", [r(M, 3, 4, 5)]),
    ("08MEXICO2498 ¶¶ 2, 4", [r(M, 2, 4)]),
    ("08MEXICO2498 paragraph 3 and 7", [r(M, 3, 7)]),
    ("08MEXICO2498 (para 4)", [r(M, 4)]),
    ("08MEXICO2498 (paragraphs 3 and 7)", [r(M, 3, 7)]),
    ("08MEXICO2498 [¶5]", [r(M, 5)]),
    ("(para 4 of 08MEXICO2498)", [r(M, 4)]),
    ("look at 08mexico2498 para 5.", [r(M, 5)]),
    ("08MEXICO2498 paras. 3, 4, and 5", [r(M, 3, 4, 5)]),
    ("08MEXICO2498 ¶5, 6, 7, and 8", [r(M, 5, 6, 7, 8)]),
    ("08MEXICO2498 ¶3,¶4", [r(M, 3, 4)]),
    ("08MEXICO2498 ¶¶3–5, 8", [r(M, 3, 4, 5, 8)]),
    ("08MEXICO2498 ¶5-7,9", [r(M, 5, 6, 7, 9)]),
    ("08MEXICO2498 paragraphs 3 through 5", [r(M, 3, 4, 5)]),
    ("08MEXICO2498 paras 3 thru 5", [r(M, 3, 4, 5)]),
    ("08MEXICO2498 ¶3-¶5", [r(M, 3, 4, 5)]),
    ("08MEXICO2498 ¶3 to ¶5", [r(M, 3, 4, 5)]),
    ("08MEXICO2498 ¶ 5 \u2011 7", [r(M, 5, 6, 7)]),
    ("08MEXICO2498 para 5, para 7", [r(M, 5, 7)]),
    ("08MEXICO2498 ¶5 and para 7", [r(M, 5, 7)]),
    ("08MEXICO2498 ¶5 ¶7", [r(M, 5, 7)]),
    ("08MEXICO2498 para #5", [r(M, 5)]),
    ("08MEXICO2498 ¶5 or 7", [r(M, 5, 7)]),
    ("08MEXICO2498 (¶5, ¶7)", [r(M, 5, 7)]),
    ("08MEXICO2498 ¶5 ¶¶7-8", [r(M, 5, 7, 8)]),
    ("08MEXICO2498 ¶5a", [r(M)]),
    ("ref 08MEXICO2498 para 5 (C)", [r(M, 5)]),
    ("08MEXICO2498 — p. 3", [r(M, 3)]),
    ("08MEXICO2498: p5 says", [r(M, 5)]),
    ("08MEXICO2498 - 2 people", [r(M)]),
    ("08MEXICO2498/09STATE120288", [r(M), r(S)]),
    ("08MEXICO2498 ¶5, ¶7 of the cable", [r(M, 5, 7)]),
    ("¶5 of 08MEXICO2498 ¶7", [r(M, 5, 7)]),
    ("> 08MEXICO2498 ¶5\nwhat about ¶6?", [r(M, 5)]),
    ("https://wikileaks.org/plusd/cables/08MEXICO2498_a.html ¶5", [r(M, 5)]),
    ("08MEXICO2498 #par5", [r(M, 5)]),
    ("08MEXICO2498's ¶5", [r(M, 5)]),
    ("08MEXICO2498’s para 5 says", [r(M, 5)]),
    ("08MEXICO2498 - ¶5 is damning", [r(M, 5)]),
    ("08MEXICO2498: para 5", [r(M, 5)]),
    ("08MEXICO2498 - 5", [r(M)]),
    ("the 5th paragraph of 08MEXICO2498", [r(M)]),
    ("#08mexico2498 ¶5", [r(M, 5)]),
    ("“08MEXICO2498” and '09STATE120288'", [r(M), r(S)]),
    ("The cable (08MEXICO2498, ¶5) says", [r(M, 5)]),
    ("see 08MEXICO2498, 09STATE120288 and 10BERLIN12", [r(M), r(S), r("10BERLIN12")]),
    ("08MEXICO2498 para 5 and 09STATE120288 para 2", [r(M, 5), r(S, 2)]),
    ("08MEXICO2498 ¶5, 09STATE120288 ¶2", [r(M, 5), r(S, 2)]),
    ("08MEXICO2498 ¶5\n09STATE120288 ¶2", [r(M, 5), r(S, 2)]),
    ("Para 5 of 08MEXICO2498 and para 2 of 09STATE120288", [r(M, 5), r(S, 2)]),
    ("<@123456789012345678> ¶5 of 08MEXICO2498", [r(M, 5)]),
    ("||08MEXICO2498 ¶5||", [r(M, 5)]),
    ("||08MEXICO2498|| ¶5", [r(M, 5)]),
    ("08MEXICO2498 ||¶5||", [r(M, 5)]),
    ("**08MEXICO2498 ¶5**", [r(M, 5)]),
    ("08MEXICO2498 **¶5**", [r(M, 5)]),
    ("**08MEXICO2498**: ¶5", [r(M, 5)]),
    ("`08MEXICO2498` is the wrong one, 09STATE120288 is right", [r(S)]),
    ("`08MEXICO2498 ¶5` vs 08MEXICO2498 ¶7", [r(M, 7)]),
    ("08MEXICO2498 `¶5`", [r(M)]),
    ("`||08MEXICO2498||`", []),
    (f"[the Mexico cable]({URL}#par5)", [r(M, 5)]),
    (f"[08MEXICO2498 ¶5]({URL}#par5)", [r(M, 5)]),
    (f"[08MEXICO2498](<{URL}>)", [r(M)]),
    ("https://wikileaks.org/plusd/cables/08MEXICO2498_a.html#par5", [r(M, 5)]),
    ("https://search.wikileaks.org/plusd/cables/08mexico2498_a.html", [r(M)]),
    ("wikileaks.org/cable/2008/08/08mexico2498.html", [r(M)]),
    (
        f"https://wikileaks.org/cable/2009/12/09STATE120288.html#par2, {URL}#par5",
        [r(S, 2), r(M, 5)],
    ),
    # published malformed IDs, typed exactly
    ("7575LIBREVILLE1895", [r("7575LIBREVILLE1895")]),
    ("see 09EFTOLONDON2468", [r("09EFTOLONDON2468")]),
    ("08SECTION01OF03CAIRO1416 ¶2", [r("08SECTION01OF03CAIRO1416", 2)]),
    # paragraph parts that cannot be served
    ("08MEXICO2498 ¶0", [r(M, problem="¶0 is not a paragraph number")]),
    ("08MEXICO2498 ¶999999", [r(M, problem="¶999999 is not a paragraph number")]),
    ("08MEXICO2498 ¶9-5", [r(M, problem="¶9-5 is a reversed range")]),
    ("08MEXICO2498 ¶1-40", [r(M, problem="¶1-40 asks for 40 paragraphs; the limit is 10")]),
    (
        "08MEXICO2498 paras 1-6, 8-12",
        [r(M, problem="¶1-6,8-12 asks for 11 paragraphs; the limit is 10")],
    ),
    (
        "08MEXICO2498 ¶0 and 09STATE120288 ¶2",
        [r(M, problem="¶0 is not a paragraph number"), r(S, 2)],
    ),
    ("¶0 of 08MEXICO2498", [r(M, problem="¶0 is not a paragraph number")]),
    # code, <...> spans and look-alikes
    ("`08MEXICO2498`", []),
    ("``08MEXICO2498``", []),
    ("```\n08MEXICO2498\n```", []),
    ("```py\nx = '08MEXICO2498'\n``` but 09STATE120288", [r(S)]),
    ("<08MEXICO2498>", []),
    ("<@123456789012345678> 08MEXICO2498", [r(M)]),
    ("<@08MEXICO2498> <#09STATE120288> <:e:10ROME5>", []),
    ("X08MEXICO24981Y", []),
    ("2008MEXICO2498", []),
    ("108MEXICO2498", []),
    ("08MEXICO2498X", []),
    ("08MEXICO2498é", []),
    ("10AM5 3D2 19ABC1", []),
    ("meet at 10am, bring 2 cables", []),
    ("the 90s were 3x better, v2 of win10 on 5G", []),
    ("08MEXICO02498", []),
    ("08MEXICO1234567", []),
    ("08NOTAPOST1234", []),
    ("25STATE1234", []),
    ("08 MEXICO 2498", []),
    # invisible characters and compatibility forms: the ID as it shows on screen (NFKC)
    ("08MEXICO24\u200b98", [r(M)]),
    ("０８MEXICO２４９８", [r(M)]),
    ("０８ＭＥＸＩＣＯ２４９８", [r(M)]),
    ("see ０８ＭＥＸＩＣＯ２４９８ ¶５", [r(M, 5)]),
    ("𝟎𝟖𝐌𝐄𝐗𝐈𝐂𝐎𝟐𝟒𝟗𝟖 𝐩𝐚𝐫𝐚 𝟓", [r(M, 5)]),
    ("08MEX\u00adICO2498", [r(M)]),
    ("08\u200cMEXICO\u200d2498", [r(M)]),
    ("08MEXICO\u20602498 ¶5", [r(M, 5)]),
    ("\ufeff08MEXICO2498", [r(M)]),
    ("\u200e08MEXICO2498\u200f ¶5", [r(M, 5)]),
    ("\u202b08MEXICO2498\u202c and \u206609STATE120288\u2069", [r(M), r(S)]),
    ("\u202e8942OCIXEM80\u202c", []),
    ("08MEXICO2498 ¶\u200b5", [r(M, 5)]),
    ("08MEXICO2498\u00a0¶\u00a05", [r(M, 5)]),
    ("08MEXICO2498 ¶５–７", [r(M, 5, 6, 7)]),
    ("https://wikileaks.org/cable/2008/08/08MEXICO2498.html\u200b#par5", [r(M, 5)]),
    ("> 08MEXICO24\u200b98 ¶5\nsource?", [r(M, 5)]),
    ("**０８MEXICO２４９８** ¶5", [r(M, 5)]),
    ("||08MEXICO2498\u200b||", [r(M)]),
    ("`08MEXICO24\u200b98`", []),
    ("<08MEXICO24\u200b98>", []),
    ("`０８MEXICO２４９８` but 09STATE120288", [r(S)]),
    ("｀08MEXICO2498｀ ＜09STATE120288＞", [r(M), r(S)]),
    ("ﬁnally: ﬁ 08MEXICO2498 ¶5", [r(M, 5)]),
    # emoji, quotes and other scripts around an ID; other scripts inside it
    ("❤️ 08MEXICO2498 ¶5 🔥", [r(M, 5)]),
    ("👨‍👩‍👧 08MEXICO2498👀", [r(M)]),
    ("🇲🇽 08MEXICO2498 ¶5‼️", [r(M, 5)]),
    ("«08MEXICO2498» and „09STATE120288“", [r(M), r(S)]),
    ("смотри 08MEXICO2498 ¶5", [r(M, 5)]),
    ("08MEXICO2498について", []),
    ("08M\u0415XICO2498", []),
    ("08MEXIC\u041e2498 ¶5", []),
    ("08\u039cEXICO2498", []),
    ("08MEXICO٢٤٩٨", []),
    ("08MEXICO2498\u0301", []),
    ("08MEXICO2498² says", []),
    ("08MEXICO249⑧", []),
    ("08MEXICO2498 ¶²", [r(M, 2)]),
    ("08MEXICO249\u0308 8", []),
    # an ID glued to more digits by a stray mark is the front of a longer ID, not a shorter one
    ("08MEXICO24-98", []),
    ("08MEXICO24.98", []),
    ("08MEXICO24_98", []),
    ("08MEXICO24,98", []),
    ("08MEXICO24–98 ¶5", []),
    ("08MEXICO24\u200b-98", []),
    ("see 08MEXICO24-98 and 09STATE120288 ¶2", [r(S, 2)]),
    ("08MEXICO2498-5", []),
    ("08MEXICO2498.5", []),
    ("08MEXICO2498-١٢", []),
    ("08MEXICO2498,09STATE120288", [r(M), r(S)]),
    ("08MEXICO2498-09state120288", [r(M), r(S)]),
    ("08MEXICO2498.html", [r(M)]),
    ("08MEXICO2498.", [r(M)]),
    ("08MEXICO2498, 5 people were there", [r(M)]),
    ("08MEXICO2498_a.html", [r(M)]),
    # a paragraph part that cannot be read says so; never another paragraph or the whole cable
    ("08MEXICO2498 ¶-5", [r(M, problem="¶-5 is not a paragraph number")]),
    ("08MEXICO2498 ¶ −5", [r(M, problem="¶−5 is not a paragraph number")]),
    ("08MEXICO2498 para -5", [r(M, problem="¶-5 is not a paragraph number")]),
    ("08MEXICO2498 ¶٥", [r(M, problem="¶٥ is not a paragraph number")]),
    ("08MEXICO2498 ¶1٥", [r(M, problem="¶1٥ is not a paragraph number")]),
    ("08MEXICO2498 (¶۵)", [r(M, problem="¶۵ is not a paragraph number")]),
    ("08MEXICO2498#par5xxxx", [r(M, problem="¶5xxxx is not a paragraph number")]),
    ("08MEXICO2498#par-5", [r(M, problem="¶-5 is not a paragraph number")]),
    ("08MEXICO2498 #par5xxxx", [r(M, problem="¶5xxxx is not a paragraph number")]),
    ("08MEXICO2498 #cablegate #par", [r(M)]),
    (f"{URL}#par5xxxx", [r(M, problem="¶5xxxx is not a paragraph number")]),
    ("¶-5 of 08MEXICO2498", [r(M, problem="¶-5 is not a paragraph number")]),
    ("08MEXICO2498 ¶5,6,٧", [r(M, problem="¶٧ is not a paragraph number")]),
    ("08MEXICO2498 ¶5-٧", [r(M, problem="¶٧ is not a paragraph number")]),
    ("08MEXICO2498#par٥", [r(M, problem="¶٥ is not a paragraph number")]),
    ("08MEXICO2498 ¶5 and ¶-7", [r(M, problem="¶-7 is not a paragraph number")]),
    ("¶5, ¶-7 of 08MEXICO2498", [r(M, problem="¶-7 is not a paragraph number")]),
    (
        "08MEXICO2498 ¶5 and ¶-7 of 09STATE120288",
        [r(M, 5), r(S, problem="¶-7 is not a paragraph number")],
    ),
    ("08MEXICO2498 ¶5 and -5 degrees outside", [r(M, 5)]),
    (
        "08MEXICO2498 ¶-5 and 09STATE120288 ¶2",
        [r(M, problem="¶-5 is not a paragraph number"), r(S, 2)],
    ),
    (
        "08MEXICO2498 ¶-5 of 09STATE120288",
        [r(M), r(S, problem="¶-5 is not a paragraph number")],
    ),
    # a fence holding a double backtick is one block (the fence spans lines)
    ("```\nx = ``08MEXICO2498``\n```", []),
    ("```py\nprint(``)\n08MEXICO2498\n```", []),
]


def _got(text: str) -> list[Want]:
    return [(q.ref_id, q.paragraphs, q.problem) for q in find_requests(text)]


@pytest.mark.parametrize(("text", "expected"), TABLE, ids=[t[:40] for t, _ in TABLE])
def test_table(text: str, expected: list[Want]) -> None:
    assert _got(text) == expected


def test_table_is_big_enough() -> None:
    assert len(TABLE) >= 80
    assert sum(1 for _, want in TABLE if not want) >= 15


def test_span_covers_the_reference_and_its_paragraphs() -> None:
    text = "see 08MEXICO2498 ¶5 now, and ¶2 of 09STATE120288."
    first, second = find_requests(text)
    assert text[first.start : first.end] == "08MEXICO2498 ¶5"
    assert text[second.start : second.end] == "¶2 of 09STATE120288"


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("see ０８ＭＥＸＩＣＯ２４９８ ¶５ now", "０８ＭＥＸＩＣＯ２４９８ ¶５"),
        ("x 08MEXICO24\u200b98 ¶5\u200b!", "08MEXICO24\u200b98 ¶5"),
        ("ﬁ ﬁ 08MEXICO2498 ¶5 ﬁ", "08MEXICO2498 ¶5"),
        ("\u200b\u200b¶5 of 𝟎𝟖MEXICO2498\u200b", "¶5 of 𝟎𝟖MEXICO2498"),
        ("`ｘ` ¶²\u00a0of 08MEXICO2498", "¶²\u00a0of 08MEXICO2498"),
        ("e\u0301 08MEXICO2498 ¶5", "08MEXICO2498 ¶5"),
    ],
)
def test_span_is_in_the_message_as_typed(text: str, span: str) -> None:
    (request,) = find_requests(text)
    assert text[request.start : request.end] == span


def test_list_split_before_a_reverse_form_gives_each_its_span() -> None:
    text = "09OSLO12 ¶9 and ¶0 of 09OSLO777"
    first, second = find_requests(text)
    assert text[first.start : first.end] == "09OSLO12 ¶9"
    assert text[second.start : second.end] == "¶0 of 09OSLO777"


def test_merged_request_keeps_the_first_span() -> None:
    text = "08MEXICO2498 ¶5 then 08MEXICO2498 ¶7"
    (request,) = find_requests(text)
    assert (request.start, request.end) == (0, len("08MEXICO2498 ¶5"))


def test_merging_past_the_cap_is_a_problem() -> None:
    (request,) = find_requests("08MEXICO2498 ¶1-6 and then 08MEXICO2498 ¶7-12")
    assert request.paragraphs == ()
    assert request.problem is not None and "12 paragraphs" in request.problem


def test_truncated_when_more_than_max_requests() -> None:
    ids = [f"09STATE{n}" for n in range(1, 8)]
    found = find_requests(" ".join(ids))
    assert [q.ref_id for q in found] == ids[:5]
    assert found.truncated
    exact = find_requests(" ".join(ids[:5]))
    assert len(exact) == 5 and not exact.truncated
    two = find_requests(" ".join(ids), max_requests=2)
    assert [q.ref_id for q in two] == ids[:2] and two.truncated


@pytest.mark.parametrize(("requests", "paragraphs"), [(0, 10), (5, 0), (-1, -1)])
def test_limits_below_one_are_refused(requests: int, paragraphs: int) -> None:
    with pytest.raises(ValueError, match=r"max_requests=.*max_paragraphs="):
        find_requests(M, max_requests=requests, max_paragraphs=paragraphs)


def test_max_paragraphs_is_a_parameter() -> None:
    assert _got("08MEXICO2498 ¶1-12") == [
        r(M, problem="¶1-12 asks for 12 paragraphs; the limit is 10")
    ]
    (request,) = find_requests("08MEXICO2498 ¶1-12", max_paragraphs=12)
    assert request.paragraphs == tuple(range(1, 13))


def test_huge_numbers_are_reported_shortened() -> None:
    (request,) = find_requests("08MEXICO2498 ¶" + "9" * 6000)
    assert request.problem == "¶99999999… is not a paragraph number"


def test_leading_zeros_of_any_length_are_read_or_rejected() -> None:
    zeros = "0" * 6000
    assert _got(f"08MEXICO2498 ¶{zeros}5-{zeros}7") == [r(M, 5, 6, 7)]
    assert _got(f"08MEXICO2498 ¶2-{zeros}") == [
        r(M, problem=f"¶{zeros[:8]}… is not a paragraph number")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("08MEXICO2498", True),
        ("7575LIBREVILLE1895", True),
        ("09EFTOLONDON2468", True),
        ("08mexico2498", False),
        (" 08MEXICO2498", False),
        ("08MEXICO2498\n", False),
        ("#08MEXICO2498", False),
        ("08MEXICO02498", False),
        ("08MEXICO1234567", False),
        ("10AM5", False),
        ("", False),
    ],
)
def test_is_reference_id(text: str, expected: bool) -> None:
    assert is_reference_id(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("08MEXICO2498", M),
        (" #08mexico2498 ", M),
        ("7575libreville1895", "7575LIBREVILLE1895"),
        ("08MEXICO02498", None),
        ("08MEXICO2498 ¶5", None),
        ("０８ＭＥＸＩＣＯ２４９８", M),
        ("08MEXICO24\u200b98", M),
        ("", None),
    ],
)
def test_normalise_ref_id(text: str, expected: str | None) -> None:
    assert normalise_ref_id(text) == expected


def test_every_published_id_is_found_when_typed_alone(month_index: Path) -> None:
    with gzip.open(month_index, "rt", encoding="utf-8") as handle:
        ids = [line.partition(",")[0] for line in handle if line.strip()]
    assert len(ids) == 251_287
    missed = [ref_id for ref_id in ids if _got(ref_id) != [r(ref_id)]]
    assert missed == []
    assert all(normalise_ref_id(ref_id.lower()) == ref_id for ref_id in ids[::97])


# -- properties ---------------------------------------------------------------------------------

_ORIGINS = sorted(KNOWN_ORIGINS)
_YEARS = sorted(KNOWN_YEARS)
_GRAMMAR_BITS = st.sampled_from(
    ["08MEXICO2498", "09state120288", "¶", "¶¶", " ", "5", "-", "–", ",", " and ", " of ", ":",
     "/", "#par", "para", "p", "`", "```", "<", ">", "<@1>", "\n", "0", "999999", "to", "é", "_",
     "§", "'s", "**", "||", "[", ")", "#", " - ", "—", "¶0", " of 09OSLO7", "10am",
     # what else people paste: invisible and compatibility characters, emoji, other scripts
     "\u200b", "\u00ad", "\u200e", "\ufeff", "\u00a0", "０８", "ＭＥＸＩＣＯ", "２４９８", "٥", "²",
     "ﬁ", "\u0301", "Е", "❤️", "👨‍👩‍👧", "｀", "＜", ".html", "-98", "¶-5", "#par5x", "𝟓"]
)  # fmt: skip
_INVISIBLES = st.one_of(
    st.sampled_from(
        "\u200b\u200c\u200d\u200e\u200f\u00ad\u2060\ufeff\u202a\u202e\u2066\u2069\ufe0f"
    ),
    st.characters(categories=["Cf"]),
)
_CHAT = st.one_of(st.text(max_size=300), st.lists(_GRAMMAR_BITS, max_size=60).map("".join))
_SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_characters="`<>", blacklist_categories=("Cs",)),
    max_size=120,
)
_IDS = st.one_of(
    st.builds(
        lambda year, origin, serial: f"{year}{origin}{serial}",
        st.sampled_from(_YEARS),
        st.sampled_from(_ORIGINS),
        st.integers(1, 999_999),
    ),
    st.sampled_from(sorted(MALFORMED_REF_IDS)),
)


@settings(max_examples=300, deadline=None)
@given(_CHAT, st.integers(1, 10), st.integers(1, 20))
def test_any_text_gives_well_formed_requests(text: str, max_requests: int, cap: int) -> None:
    found = find_requests(text, max_requests=max_requests, max_paragraphs=cap)
    assert len(found) <= max_requests
    assert len({(q.ref_id, q.problem) for q in found}) == len(found)
    for request in found:
        assert is_reference_id(request.ref_id)
        assert 0 <= request.start < request.end <= len(text)
        assert request.ref_id in normalise_text(text[request.start : request.end]).upper()
        assert list(request.paragraphs) == sorted(set(request.paragraphs))
        assert len(request.paragraphs) <= cap
        assert all(1 <= n <= MAX_PARAGRAPH for n in request.paragraphs)
        assert request.problem is None or request.paragraphs == ()


@settings(max_examples=300, deadline=None)
@given(_SAFE_TEXT, _SAFE_TEXT, _IDS, st.booleans())
def test_an_id_inserted_at_a_word_boundary_is_found(
    before: str, after: str, ref_id: str, lower: bool
) -> None:
    typed = ref_id.lower() if lower else ref_id
    text = f"{before} {typed} {after}"
    found = find_requests(text, max_requests=10)
    at = len(before) + 1
    assert any(q.ref_id == ref_id and q.start <= at < q.end for q in found)


@settings(max_examples=300, deadline=None)
@given(_CHAT, st.lists(st.tuples(st.integers(0, 10_000), _INVISIBLES), min_size=1, max_size=30))
def test_invisible_characters_never_change_what_is_found(
    text: str, inserts: list[tuple[int, str]]
) -> None:
    typed = text
    for at, char in inserts:
        at %= len(typed) + 1
        typed = typed[:at] + char + typed[at:]
    assert _got(typed) == _got(text)
    for request in find_requests(typed):
        assert request.ref_id in normalise_text(typed[request.start : request.end]).upper()


@settings(max_examples=300, deadline=None)
@given(_CHAT)
def test_a_found_id_is_a_whole_word_of_the_normalised_message(text: str) -> None:
    words = set(re.findall(r"[0-9A-Za-z]+", normalise_text(text), re.ASCII))
    for request in find_requests(text, max_requests=10):
        assert any(word.upper() == request.ref_id for word in words)


def test_every_invisible_character_is_known_and_stays_invisible_under_nfkc() -> None:
    everywhere = frozenset(c for c in map(chr, range(0x110000)) if is_invisible(c))
    assert refs._invisible_in("".join(everywhere) + "a ¶5") == everywhere
    assert all(set(unicodedata.normalize("NFKC", c)) <= everywhere for c in everywhere)


@settings(max_examples=300, deadline=None)
@given(_CHAT)
def test_the_grammar_reads_nfkc_of_the_whole_text_with_each_character_placed(text: str) -> None:
    assert all(is_invisible(c) for c in text if unicodedata.category(c) == "Cf")
    scanned, starts, ends = refs._nfkc(text)  # NFKC run by run, to map offsets back
    assert scanned == unicodedata.normalize("NFKC", text)
    assert starts == sorted(starts) and ends == sorted(ends)
    assert all(0 <= s < e <= len(text) for s, e in zip(starts, ends, strict=True))


class _Counted:
    """A compiled pattern that adds to a tally the characters each call is given to look at."""

    def __init__(self, pattern: re.Pattern[str], tally: list[int]) -> None:
        self.pattern, self.tally = pattern, tally

    def _offer(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> None:
        self.tally[0] += max(0, min(endpos, len(text)) - pos)

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        self._offer(text, pos, endpos)
        return self.pattern.search(text, pos, endpos)

    def finditer(
        self, text: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> Iterator[re.Match[str]]:
        self._offer(text, pos, endpos)
        return self.pattern.finditer(text, pos, endpos)

    def findall(self, text: str) -> list[Any]:
        self._offer(text)
        return self.pattern.findall(text)

    def sub(self, repl: Callable[[re.Match[str]], str], text: str) -> str:
        self._offer(text)
        return self.pattern.sub(repl, text)

    def fullmatch(self, text: str) -> re.Match[str] | None:
        self._offer(text)
        return self.pattern.fullmatch(text)

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        """An anchored match looks at what it takes (a failed one, at least one character)."""
        found = self.pattern.match(text, pos)
        self.tally[0] += found.end() - pos + 1 if found else 1
        return found


def _work(text: str) -> int:
    """What find_requests does with `text`, counted instead of timed: lines of parsers/refs.py
    run, calls it makes into C, and characters its patterns are given to search.

    An anchored match counts only what it takes: the patterns are built (possessive and atomic
    parts, bounded look-behinds) so that no call backtracks over more than it could take.
    """
    tally = [0]

    def lines(frame: FrameType, event: str, arg: object) -> Any:
        if event == "line":
            tally[0] += 1
        return lines

    def calls(frame: FrameType, event: str, arg: object) -> Any:
        return lines if frame.f_code.co_filename == refs.__file__ else None

    def c_calls(frame: FrameType, event: str, arg: object) -> None:
        if event == "c_call" and frame.f_code.co_filename == refs.__file__:
            tally[0] += 1

    patterns = {k: v for k, v in vars(refs).items() if isinstance(v, re.Pattern)}
    tracer, profiler = sys.gettrace(), sys.getprofile()
    try:
        for name, pattern in patterns.items():
            setattr(refs, name, _Counted(pattern, tally))
        sys.settrace(calls)
        sys.setprofile(c_calls)
        find_requests(text)
    finally:
        sys.settrace(tracer)
        sys.setprofile(profiler)
        for name, pattern in patterns.items():
            setattr(refs, name, pattern)
    return tally[0]


_WORK_PER_CHARACTER = 30
"""Measured: at most 19 on the messages below (fullwidth IDs, the slowest), 1-10 on the others."""


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefz ¶:-,", min_size=2000))
def test_junk_of_2000_characters_takes_work_in_proportion(text: str) -> None:
    assert _work(text[:2000]) <= _WORK_PER_CHARACTER * 2000


_ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "IDs": lambda n: " ".join(f"09STATE{k} ¶{k % 40 + 1}" for k in range(1, n + 1)),
    "same ID": lambda n: " ".join([M] * n),
    "backticks": lambda n: "`" * 8 * n + M,
    "angles": lambda n: "<" * 8 * n + M,
    "code spans": lambda n: "`a`" * 3 * n + M,
    "pilcrows": lambda n: "¶" * 8 * n + M,
    "spaces": lambda n: M + " " * 8 * n + "x",
    "ranges": lambda n: M + " ¶" + "1-999," * n,
    "ands": lambda n: M + " ¶5" + " and" * 2 * n,
    "zeros": lambda n: M + " ¶" + "0" * 8 * n + "5",
    "reverse": lambda n: "¶5 of " * n + M,
    "one token": lambda n: "08" + "A1" * 4 * n + "é",
    "chained splits": lambda n: " ".join(f"09STATE{k} ¶1 and ¶2 of" for k in range(1, n)) + " 09S",
    "long split": lambda n: M + " ¶5" + " ¶5 and" * n + " ¶2 of 09STATE9",
    "invisible": lambda n: "08MEXICO24\u200b98 ¶5 " * n,
    "fullwidth": lambda n: "０８ＭＥＸＩＣＯ２４９８ ¶５ " * n,
    "ligatures": lambda n: "ﬁ" * 8 * n + M,
    "glued": lambda n: "08MEXICO24-98," * n,
    "unreadable": lambda n: "08MEXICO2498 ¶-5 " * n,
    "unreadable lists": lambda n: M + " ¶5" + " and ¶-7" * n + " of 09STATE9",
    "foreign digits": lambda n: M + " ¶" + "٥" * 8 * n,
}


@pytest.mark.parametrize("make", _ADVERSARIAL.values(), ids=_ADVERSARIAL.keys())
def test_adversarial_messages_take_work_in_proportion(make: Callable[[int], str]) -> None:
    text, twice = make(500), make(1000)
    assert _work(text) <= _WORK_PER_CHARACTER * len(text)
    assert _work(twice) <= 2.1 * _work(text)


def test_a_letter_that_only_upper_cases_to_ascii_is_not_an_id() -> None:
    assert normalise_ref_id("09milan1") == "09MILAN1"
    assert normalise_ref_id("09mılan1") is None  # dotless ı: 'ı'.upper() == 'I'
