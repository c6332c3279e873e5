"""Cells of CSV and XLSX exports that a spreadsheet cannot run as formulas.

A text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
as a formula by Excel, LibreOffice and Google Sheets (CSV injection, e.g. a project
titled ``=HYPERLINK(…)``). Every export writes user text through these helpers; numbers
and dates stay numbers and dates.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def csv_cell(value: Any) -> Any:
    """A CSV value: formula-leading text gets a leading apostrophe, None becomes empty."""
    if value is None:
        return ""
    return "'" + value if is_formula_like(value) else value


def xlsx_row(sheet, values: Iterable[Any]) -> list:
    """Cells for ``sheet.append`` (write-only workbook): formula-leading text is stored
    as a string cell with Excel's quotePrefix style (shown as typed, never evaluated,
    and still text when someone edits it); openpyxl would otherwise store ``=…`` as a
    formula."""
    from openpyxl.cell import WriteOnlyCell  # only exports need openpyxl loaded

    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        if is_formula_like(value):
            cell.data_type = "s"
            cell.quotePrefix = True
        cells.append(cell)
    return cells
