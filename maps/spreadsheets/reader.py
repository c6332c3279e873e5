"""Reading an uploaded spreadsheet (CSV or XLSX) into rows of the documented columns.

Structure only: which column each header names (``columns.py``), one text per cell,
the line (the row number a spreadsheet shows; the header is line 1) and the column
letter of everything. What the cells mean is ``convert.py``'s job.

Hostile files are refused before they cost much: at most ``MAX_UPLOAD_BYTES`` of file,
an XLSX that unpacks to at most ``MAX_UNPACKED_BYTES`` (a zip bomb is refused from its
directory, before anything is inflated), at most ``MAX_ROWS`` rows (reading stops at the
first one over), CSV cells under the csv module's 128 KB limit. XLSX is read with
openpyxl's read-only (streaming) mode; formula cells are refused, not evaluated.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from maps.imports import ImportRefused, Problems, csv_problem, encoding_problem

from .columns import BY_NAME, NAMES, column_for_header, column_letter

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
# Rows of steps in one file: a sheet is imported inside one request (preview, then
# confirm); 1,000 rows take about 5 s to preview and 9 s to import on SQLite, so 2,000
# stay well inside a worker's timeout. Whole repositories move as journeyhub/1 files.
MAX_ROWS = 2_000
MAX_LINES = 10 * MAX_ROWS  # empty lines included: a sheet of a million blank rows stops early
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STEPS_SHEET = "Steps"  # read when the workbook has a sheet of this name, else the first


class Formula(str):
    """A formula cell's text (``=SUM(A1:A3)``): refused, never evaluated."""


@dataclass
class Row:
    line: int
    cells: dict[str, str]  # column name → the cell's text ("" when empty)


@dataclass
class Table:
    format: str  # "csv" or "xlsx"
    letters: dict[str, str]  # column name → its letter in this file
    rows: list[Row] = field(default_factory=list)

    def where(self, line: int, column: str) -> str:
        """``line 7, column D (emotion)``: how every problem names its cell."""
        return f"line {line}, column {self.letters[column]} ({column})"


def too_large(size: int) -> str:
    return (
        f"the file is {size / 2**20:.1f} MB; a spreadsheet may be at most "
        f"{MAX_UPLOAD_BYTES // 2**20} MB (split it into several files)"
    )


def read_table(content: bytes) -> Table:
    """The header and rows of a CSV or XLSX file. Raises ``ImportRefused`` naming the
    line (and column) of every structural problem: unknown, repeated or missing
    columns, values under no header, formulas, too many rows, unreadable files."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise ImportRefused([too_large(len(content))])
    if content.startswith(b"PK\x03\x04"):
        return _table("xlsx", _xlsx_rows(content))
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportRefused(
            ["the file is an old Excel workbook (.xls): save it as .xlsx or CSV UTF-8"]
        )
    return _table("csv", _csv_rows(content))


# --- the header and the rows, whatever the format ---------------------------------------


def _table(format: str, lines: Iterator[tuple[int, list[Any]]]) -> Table:
    """``lines`` yields (line, cell values) and may raise ``ImportRefused``."""
    header: list[Any] | None = None
    for line, values in lines:
        if line == 1:
            header = values
        break
    if not header or not any(_text(v) for v in header):
        raise ImportRefused([f"line 1: the first line must name the columns ({', '.join(NAMES)})"])
    problems = Problems()
    by_index: dict[int, str] = {}
    letters: dict[str, str] = {}
    for index, value in enumerate(header):
        text = _text(value)
        if not text:
            continue
        letter = column_letter(index)
        name = column_for_header(text)
        if name is None:
            problems.add(
                f"line 1, column {letter}: unknown column “{text[:60]}” "
                f"(the columns are: {', '.join(NAMES)})"
            )
        elif name in letters:
            problems.add(
                f"line 1, column {letter}: “{text[:60]}” repeats column {letters[name]} ({name})"
            )
        else:
            by_index[index] = name
            letters[name] = letter
    missing = [c.name for c in BY_NAME.values() if c.required and c.name not in letters]
    if missing:
        problems.add(
            f"line 1: the header lacks the column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}"
        )
    if problems:
        raise problems.refused()

    table = Table(format=format, letters=letters)
    count = 0
    for line, values in lines:
        if line > MAX_LINES:
            raise ImportRefused(
                [f"line {line}: the sheet goes on past {MAX_LINES:,} lines; remove the empty ones"]
            )
        texts = [_text(v) for v in values]
        if not any(texts):
            continue  # empty lines separate groups of rows; they are not steps
        count += 1
        if count > MAX_ROWS:
            raise ImportRefused(
                [
                    f"line {line}: the sheet has more than {MAX_ROWS:,} rows; import at most "
                    f"{MAX_ROWS:,} at a time (split it into several files, or move a whole "
                    "repository as a journeyhub/1 file)"
                ]
            )
        cells = {name: "" for name in letters}
        for index, text in enumerate(texts):
            if isinstance(values[index], Formula):
                name = f" ({by_index[index]})" if index in by_index else ""
                problems.add(
                    f"line {line}, column {column_letter(index)}{name}: a formula "
                    f"(“{text[:40]}”); type its value instead, nothing is calculated on import"
                )
            elif index in by_index:
                cells[by_index[index]] = text
            elif text:
                problems.add(
                    f"line {line}, column {column_letter(index)}: a value under no header "
                    "(name the column on line 1 or clear the cell)"
                )
        table.rows.append(Row(line=line, cells=cells))
    if problems:
        raise problems.refused()
    return table


def _text(value: Any) -> str:
    """A cell as text: numbers without a spurious ``.0``, dates as ``YYYY-MM-DD``,
    Windows line ends as ``\\n``, surrounding spaces stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


# --- CSV -------------------------------------------------------------------------------


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        problem = encoding_problem(content)
        raise ImportRefused([f"line {line}: {problem}" if line > 1 else problem]) from None


def _delimiter(text: str) -> str:
    """Comma, semicolon (Excel in much of Europe) or tab: whichever the header line
    holds most of."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    text = _decode(content)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ImportRefused([f"line {line}: the file is binary (a NUL byte), not CSV text"])
    # newline="" keeps \r\n inside quoted cells for the csv module to read as data
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    line = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # a cell over 128 KB or a stray quote: name the row it is in
            raise ImportRefused([csv_problem(exc, line + 1)]) from None
        line += 1  # rows, not physical lines: a cell may hold line breaks
        yield line, values


# --- XLSX ------------------------------------------------------------------------------


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook  # only spreadsheet imports need openpyxl loaded

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise ImportRefused(["the file is not a readable XLSX workbook"]) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportRefused(
            [
                f"the workbook unpacks to {unpacked / 2**20:.0f} MB; at most "
                f"{MAX_UNPACKED_BYTES // 2**20} MB are read (split it into several files)"
            ]
        )
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign archive
        raise ImportRefused(
            ["the file is not a readable XLSX workbook (save it again as .xlsx or CSV UTF-8)"]
        ) from None
    try:
        sheets = workbook.worksheets
        if not sheets:
            raise ImportRefused(["the workbook has no worksheet"])
        named = [s for s in sheets if s.title.strip().lower() == STEPS_SHEET.lower()]
        sheet = named[0] if named else sheets[0]
        sheet.reset_dimensions()  # some writers store a wrong size; read every row there is
        yield from _sheet_rows(sheet)
    finally:
        workbook.close()


def _sheet_rows(sheet) -> Iterator[tuple[int, list[Any]]]:
    line = 0
    try:
        rows: Iterable = sheet.iter_rows()
        for cells in rows:
            line = next((c.row for c in cells if getattr(c, "row", None)), line + 1)
            yield (
                line,
                [Formula(cell.value) if cell.data_type == "f" else cell.value for cell in cells],
            )
    except ImportRefused:
        raise
    except Exception:  # a damaged sheet part: say where reading stopped
        raise ImportRefused(
            [f"line {line + 1}: the worksheet cannot be read from here on (damaged file?)"]
        ) from None
