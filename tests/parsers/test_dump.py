"""parsers.dump: rows of the cables.csv dump, on a small CSV the project wrote in that format."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.dump import DumpRowError, _RowSplitter, iter_dump, parse_dump_row, split_row
from parsers.models import Cable

DUMP = Path(__file__).resolve().parents[1] / "fixtures" / "dump" / "cables.csv"


def _rows(**kwargs: int) -> list[Cable | DumpRowError]:
    with DUMP.open(encoding="utf-8", newline="") as handle:
        return list(iter_dump(handle, **kwargs))


def _encode(fields: list[str]) -> str:
    """One dump row in the dump's own format (the inverse of the parser)."""
    quoted = ('"' + f.replace("\\", "\\\\").replace('"', '\\"') + '"' for f in fields)
    return ",".join(quoted) + "\n"


def test_good_rows_become_cables() -> None:
    rows = _rows()
    first = rows[0]
    assert isinstance(first, Cable)
    assert first.ref_id == "09ELBONIA1234"
    assert first.created == datetime(2009, 3, 2, 12, 0)
    assert first.released is None
    assert (first.origin, first.classification) == ("Embassy Elbonia", "CONFIDENTIAL//NOFORN")
    assert first.references == ("08STATE1234", "09LAPAZ2974")
    assert first.subject == 'THE MINISTER SAYS "NO" TO C:\\FORECASTS'
    assert first.tags == ("PREL", "PGOV", "EL")
    assert first.caveats == ("SIPDIS", "NOFORN")
    assert [(p.number, p.marking, p.text) for p in first.paragraphs] == [
        (1, "C", 'The Minister said "no".'),
        (2, "S/NF", "He keeps his files in C:\\MUD."),
    ]
    assert (first.sender, first.to) == ("AMEMBASSY ELBONIA", ("SECSTATE WASHDC",))
    second = rows[1]
    assert isinstance(second, Cable)
    assert second.created == datetime(1973, 2, 10, 9, 5)
    assert second.references == ()
    assert [p.text for p in second.paragraphs] == [
        "TALKS OPENED MONDAY.",
        "NEXT ROUND SET FOR FRIDAY.",
    ]


def test_malformed_rows_are_yielded_as_errors_naming_the_row() -> None:
    rows = _rows(first_row=10)
    assert [type(r).__name__ for r in rows] == [
        "Cable",
        "Cable",
        "DumpRowError",
        "DumpRowError",
        "Cable",
    ]
    bad_date, short = rows[2], rows[3]
    assert isinstance(bad_date, DumpRowError) and isinstance(short, DumpRowError)
    assert bad_date.row == 12 and "row 12" in str(bad_date) and "31/12/2009" in str(bad_date)
    assert short.row == 13 and "expected 8 fields, found 7" in str(short)
    last = rows[4]
    assert isinstance(last, Cable) and last.subject == "LAST ROW"


def _counting(lines: list[str], consumed: list[int]) -> Iterator[str]:
    for line in lines:
        consumed[0] += 1
        yield line


def test_never_reads_past_the_row_it_yields() -> None:
    lines = DUMP.read_text(encoding="utf-8").splitlines(keepends=True)
    row_ends = [i + 1 for i, line in enumerate(lines) if line.rstrip("\n").endswith('"')]
    row_ends = [end for end in row_ends if not lines[end - 1].rstrip("\n").endswith('\\"')]
    consumed = [0]
    seen = [consumed[0] for _ in iter_dump(_counting(lines, consumed))]
    assert seen == row_ends
    assert len(seen) == 5


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("garbage line\n", "does not start a row"),
        ('"1","2"x\n', "unexpected 'x' after field 2"),
        ('"1","2","3","4","5","6","7","8","9"\n', "more than 8 fields"),
        ('"1","2\n', "ends inside a quoted field"),
    ],
)
def test_broken_rows(text: str, problem: str) -> None:
    (error,) = list(iter_dump(text.splitlines(keepends=True), first_row=7))
    assert isinstance(error, DumpRowError)
    assert error.row == 7 and problem in str(error)


def test_a_stray_quote_spoils_only_its_own_row() -> None:
    good = _encode(["2", "1/2/2009 1:05", "09STATE13", "S", "SECRET", "", "", "fine"])
    broken = '"1","1/2/2009 1:05","09STATE12","S","SECRET","","","a "stray" quote\nmore\n"\n'
    rows = list(iter_dump((broken + good).splitlines(keepends=True)))
    assert isinstance(rows[0], DumpRowError) and rows[0].row == 1
    assert isinstance(rows[1], Cable) and rows[1].ref_id == "09STATE13"


def test_parse_dump_row_names_the_bad_field() -> None:
    fields = ["1", "1/2/2009 1:05", "not an id", "o", "c", "", "", ""]
    with pytest.raises(ValueError, match="refid 'not an id'"):
        parse_dump_row(fields)
    with pytest.raises(ValueError, match="expected 8 fields, found 2"):
        parse_dump_row(["1", "2"])


def test_split_row_understands_escapes() -> None:
    row = '"a\\"b","c\\\\d","e\\nf","g\\\nh","","","","\\t"\n'
    assert split_row(row) == ['a"b', "c\\d", "e\nf", "g\nh", "", "", "", "\t"]
    with pytest.raises(ValueError, match="expected 8 fields, found 1"):
        split_row('"one"\n')


_field = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.from_regex(r"[0-9]{2}[A-Z]{3,8}[1-9][0-9]{0,4}", fullmatch=True), _field, _field
        ),
        min_size=1,
        max_size=5,
    )
)
def test_any_field_text_round_trips(rows: list[tuple[str, str, str]]) -> None:
    text = "".join(
        _encode([str(i), "12/31/2009 23:59", ref, origin, "SECRET", "", "", body])
        for i, (ref, origin, body) in enumerate(rows)
    )
    lines = text.split("\n")
    lines = [line + "\n" for line in lines[:-1]]  # what a file opened with newline="\n" gives
    row_ends, consumed = [], [0]
    for _item in iter_dump(_counting(lines, consumed)):
        row_ends.append(consumed[0])
    expected_ends, count = [], 0
    for i, (ref, origin, body) in enumerate(rows):
        count += _encode([str(i), "", ref, origin, "", "", "", body]).count("\n")
        expected_ends.append(count)
    assert row_ends == expected_ends  # each row was yielded right after its own last line
    parsed = list(iter_dump(lines))
    assert all(isinstance(c, Cable) for c in parsed)
    assert [(c.ref_id, c.origin.strip(), c.body) for c in parsed if isinstance(c, Cable)] == [
        (ref, origin.strip(), body) for ref, origin, body in rows
    ]


def test_dump_row_errors_pickle_for_worker_processes() -> None:
    error = DumpRowError(12, "created '31/12/2009' is not a date M/D/YYYY H:MM")
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, DumpRowError)
    assert (copy.row, copy.problem, str(copy)) == (error.row, error.problem, str(error))


def _reference_rows(lines: list[str]) -> list[tuple[int, list[str] | str]]:
    """The row splitter fed every line (no fast paths): where each row ends, its fields or
    its problem."""
    out: list[tuple[int, list[str] | str]] = []
    splitter, pending = _RowSplitter(), False
    for end, line in enumerate(lines, 1):
        if not pending and not line.strip():
            continue
        pending = True
        if splitter.feed(line):
            out.append((end, splitter.problem or splitter.fields))
            splitter, pending = _RowSplitter(), False
    if pending:
        out.append((len(lines), splitter.problem or "the file ends inside a quoted field"))
    return out


_dump_bits = st.sampled_from(
    ['"', '\\"', "\\\\", "\\", ",", '","', "\n", "\r\n", "text", " ", "\\n", '"\n', '\\\\"']
)
_good_row = st.lists(st.text(max_size=8) | _dump_bits, max_size=6).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            _good_row.map(
                lambda body: _encode(["1", "1/2/2009 1:05", "09X1", "o", "", "", "", body])
            ),
            st.lists(_dump_bits | st.text(max_size=5), max_size=12).map("".join),
        ),
        min_size=1,
        max_size=6,
    ).map("".join)
)
def test_fast_paths_split_rows_like_the_row_splitter(text: str) -> None:
    lines = text.splitlines(keepends=True)
    consumed = [0]
    got = [(consumed[0], item) for item in iter_dump(_counting(lines, consumed))]
    expected = _reference_rows(lines)
    assert [end for end, _ in got] == [end for end, _ in expected]
    for (_, item), (_, fields) in zip(got, expected, strict=True):
        if isinstance(fields, str):
            assert isinstance(item, DumpRowError) and fields in str(item)
        elif isinstance(item, Cable):
            assert item.body == fields[7] and item.header == fields[6]
