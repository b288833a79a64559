"""Rows of the public cables.csv dump → Cable, streaming.

Each row has 8 fields: id, created, refid, origin, classification, references, header, body.
Every field is double-quoted; a quote inside a field is written `\\"` and a backslash `\\\\`
(also `\\n`, `\\t`, `\\r` and a backslash before a real newline); fields hold real newlines;
dates are `M/D/YYYY H:MM`; references are separated by `|`.

`iter_dump` reads one text line at a time and never takes a line beyond the end of the row it
yields, so a caller counting the bytes of consumed lines always knows where the next row starts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from parsers.models import Cable
from parsers.telegram import parse_routing_header, telegram_fields

__all__ = ["FIELDS", "ROW_START", "DumpRowError", "iter_dump", "parse_dump_row", "split_row"]

FIELDS = ("id", "created", "refid", "origin", "classification", "references", "header", "body")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "\n": "\n", "0": ""}
_SPECIAL = re.compile(r'["\\]')
_QUOTED_LINE = re.compile(r'(?:[^"\\]++|\\[\s\S])*+')  # stays inside a quoted field
_ESCAPE = re.compile(r"\\([\s\S])")
_PLAIN_FIELDS = re.compile(r'(?:"[^"\\]*",){1,7}"')  # a row's first fields, without escapes
ROW_START = re.compile(r'\n(?="[0-9]+",")')
"""The newline before a line that opens a row: inside a field every quote is escaped, so no
line inside a field starts with one."""
_REF_ID = re.compile(r"^[0-9]{2}[A-Z0-9]{2,40}$")
_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4}) ([0-9]{1,2}):([0-9]{1,2})")


class DumpRowError(ValueError):
    """A malformed dump row: `.row` is its number, the message says what was wrong."""

    def __init__(self, row: int, problem: str) -> None:
        super().__init__(f"row {row}: {problem}")
        self.row = row
        self.problem = problem

    def __reduce__(self) -> tuple[type[DumpRowError], tuple[int, str]]:
        """Pickle by the constructor's arguments (worker processes send these back)."""
        return type(self), (self.row, self.problem)


def _unescape(m: re.Match[str]) -> str:
    return _ESCAPES.get(m[1], m[0])


def _ends_row(line: str) -> bool:
    """True when a line ends with an unescaped closing quote: the end of a row."""
    stripped = line.rstrip("\r\n")
    if not stripped.endswith('"'):
        return False
    backslashes = len(stripped) - 1 - len(stripped[:-1].rstrip("\\"))
    return backslashes % 2 == 0


class _RowSplitter:
    """Feeds lines into one row's fields; knows when the row is complete or broken."""

    def __init__(self) -> None:
        self.fields: list[str] = []
        self.current: list[str] = []
        self.state = "start"  # start | quoted | escape | after
        self.problem: str | None = None

    def feed(self, line: str, pos: int = 0) -> bool:
        """Consume a line (from `pos`, its start unless a caller took the fields before);
        True when the row is finished (well-formed or not)."""
        if self.problem is not None:
            return _ends_row(line)
        end = len(line)
        while pos < end:
            if self.state == "quoted":  # copy the run up to the next quote or backslash
                special = _SPECIAL.search(line, pos)
                if special is None:
                    self.current.append(line[pos:])
                    return False
                at = special.start()
                self.current.append(line[pos:at])
                if line[at] == '"':
                    self.fields.append("".join(self.current))
                    self.current = []
                    self.state = "after"
                    if line.startswith(',"', at + 1) and len(self.fields) < len(FIELDS):
                        self.state = "quoted"  # the next field starts right away
                        at += 2
                else:
                    self.state = "escape"
                pos = at + 1
                continue
            char = line[pos]
            pos += 1
            if self.state == "escape":
                self.current.append(_ESCAPES.get(char, "\\" + char))
                self.state = "quoted"
            elif self.state == "start":
                if char != '"':
                    problem = f"field {len(self.fields) + 1} does not start with '\"'"
                    if pos == 1 and not self.fields:
                        problem = f"the line {line[:40].strip()!r} does not start a row with '\"'"
                    return self._fail(line, problem, whole_line=pos == 1)
                self.state = "quoted"
            elif char == ",":  # after a closing quote
                if len(self.fields) >= len(FIELDS):
                    return self._fail(line, f"more than {len(FIELDS)} fields")
                self.state = "start"
            elif char in "\r\n":
                return self._finish()
            else:
                return self._fail(
                    line,
                    f"unexpected {char!r} after field {len(self.fields)} (column {pos})",
                    whole_line='"' not in line[pos:],
                )
        if self.state == "after":  # last line without a newline
            return self._finish()
        return False

    def _finish(self) -> bool:
        if len(self.fields) != len(FIELDS):
            self.problem = f"expected {len(FIELDS)} fields, found {len(self.fields)}"
        return True

    def _fail(self, line: str, problem: str, *, whole_line: bool = False) -> bool:
        """Mark the row broken. It ends with this line when nothing quoted runs on past it;
        after a stray quote it runs to the next line ending with an unescaped quote."""
        self.problem = problem
        return whole_line or _ends_row(line) or not line.endswith("\n")


def split_row(line: str) -> list[str]:
    """The fields of a row given as one string (may hold newlines); ValueError if malformed."""
    splitter = _RowSplitter()
    done = False
    for piece in line.splitlines(keepends=True):
        done = splitter.feed(piece)
    if not done or splitter.problem:
        raise ValueError(splitter.problem or "the row ends inside a quoted field")
    return splitter.fields


def _created(text: str) -> datetime:
    if m := _DATE.fullmatch(text.strip()):  # the common case, without strptime's cost
        try:
            year, month, day, hour, minute = map(int, m.group(3, 1, 2, 4, 5))
            return datetime(year, month, day, hour, minute)
        except ValueError:
            pass  # strptime says what is wrong
    try:
        return datetime.strptime(text.strip(), "%m/%d/%Y %H:%M")
    except ValueError:
        raise ValueError(f"created {text!r} is not a date M/D/YYYY H:MM") from None


def parse_dump_row(fields: Sequence[str]) -> Cable:
    """One 8-field dump record → Cable; ValueError naming the field that is wrong."""
    if len(fields) != len(FIELDS):
        raise ValueError(f"expected {len(FIELDS)} fields, found {len(fields)}")
    _, created, ref_id, origin, classification, references, header, body = fields
    ref_id = ref_id.strip()
    if not _REF_ID.match(ref_id):
        raise ValueError(f"refid {ref_id!r} is not a reference ID like 08MEXICO2498")
    when = _created(created)
    cable = telegram_fields(body, ref_id=ref_id)  # validated once, with the row's own fields
    cited = tuple(dict.fromkeys(filter(None, map(str.strip, references.split("|")))))
    cable.update(parse_routing_header(header))
    cable["created"] = when
    cable["origin"] = origin.strip()
    cable["classification"] = classification.strip() or cable["classification"]
    cable["references"] = cited or cable["references"]
    cable["header"] = header
    return Cable.model_validate(cable)


def iter_dump(lines: Iterable[str], *, first_row: int = 1) -> Iterator[Cable | DumpRowError]:
    """Yield a Cable per good row and a DumpRowError per malformed row, numbered from first_row.

    `lines` are text lines with their newlines (a file opened with newline=""). A row is
    yielded as soon as its last line is read; no later line is consumed before that.
    """
    row = first_row
    splitter = _RowSplitter()
    pending = False
    plain: list[str] | None = None  # inside a quoted field: where its plain lines go
    for line in lines:
        if plain is not None:  # inside a quoted field: what feed() does, faster
            if '"' not in line and "\\" not in line:
                plain.append(line)
                continue
            # only escaped quotes (each quote after a backslash, each backslash before one)
            rest = line.replace('\\"', "")
            if '"' not in rest and "\\" not in rest:
                plain.append(line.replace('\\"', '"'))
                continue
            if _QUOTED_LINE.fullmatch(line):
                plain.append(_ESCAPE.sub(_unescape, line))
                continue
        start = 0
        if not pending:
            if not line.strip():
                continue  # blank lines between rows are not rows
            if m := _PLAIN_FIELDS.match(line):  # the row's first fields: what feed() finds
                splitter.fields = line[1 : m.end() - 3].split('","')
                splitter.state = "quoted"
                start = m.end()
        pending = True
        done = splitter.feed(line, start)
        quoted = splitter.state == "quoted" and splitter.problem is None
        plain = splitter.current if quoted else None
        if not done:
            continue
        if splitter.problem is not None:
            yield DumpRowError(row, splitter.problem)
        else:
            try:
                yield parse_dump_row(splitter.fields)
            except ValueError as exc:
                yield DumpRowError(row, str(exc))
        row += 1
        splitter = _RowSplitter()
        pending = False
        plain = None
    if pending:
        problem = splitter.problem or "the file ends inside a quoted field"
        yield DumpRowError(row, problem)
