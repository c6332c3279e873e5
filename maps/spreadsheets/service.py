"""Importing a spreadsheet: read it (``reader``), check every cell and build the
``journeyhub/1`` document (``convert``), and hand it to the exchange importer
(``maps.exchange.import_document``), which checks permissions and the models' rules
and writes everything or nothing. Its problems come back in the sheet's terms (line
and column) wherever the document entry came from a row.

The browser, the API and tests call ``spreadsheet_import``; it knows nothing of HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from maps.exchange import ExchangeInvalid, ExchangeSummary, import_document
from maps.imports import MAX_PROBLEMS, ImportRefused, Problems
from maps.models import JourneyMap

from .convert import MapPlan, document_for, sheet_maps
from .reader import read_table


class SpreadsheetForbidden(ImportRefused):
    """Every problem is a permission the importer lacks (the API answers 403)."""


@dataclass
class SpreadsheetResult:
    format: str  # "csv" or "xlsx"
    rows: int
    maps: list[MapPlan]
    summary: ExchangeSummary

    @property
    def dry_run(self) -> bool:
        return self.summary.dry_run

    @property
    def text(self) -> str:
        """``5 rows, 2 maps: will create 2 maps, 4 steps; 3 steps left as they are.``"""
        n = len(self.maps)
        parts = []
        for action, counts in (("create", self.summary.created), ("update", self.summary.updated)):
            if counts:
                verb = f"will {action}" if self.dry_run else f"{action}d"
                parts.append(f"{verb} " + ", ".join(count_text(k, v) for k, v in counts.items()))
        same = sum(self.summary.unchanged.values())
        if same:
            parts.append(f"{same} left as {'they are' if self.dry_run else 'they were'}")
        rows = f"{self.rows} row{'s' if self.rows != 1 else ''}"
        return f"{rows}, {n} map{'s' if n != 1 else ''}: {'; '.join(parts) or 'nothing to do'}."

    def as_dict(self) -> dict[str, Any]:
        per_map = self.summary.maps
        return {
            "format": self.format,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "maps": [
                {
                    "title": plan.title,
                    "slug": plan.slug,
                    "line": plan.line,
                    "existing": plan.existing,
                    "steps": plan.steps,
                    "stages": plan.stages,
                    "items": plan.items,
                    **per_map.get(plan.slug, {}),
                }
                for plan in self.maps
            ],
            "summary": self.summary.as_dict(),
            "detail": self.text,
        }


def count_text(noun: str, n: int) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def spreadsheet_import(
    *, content: bytes, by, under: JourneyMap | None = None, dry_run: bool = False
) -> SpreadsheetResult:
    """Import the maps of a CSV or XLSX file under ``under`` (None: the top level) on
    behalf of ``by``, all or nothing; ``dry_run``: only say what would happen.

    Raises ``ImportRefused`` (``SpreadsheetForbidden`` when only permissions are
    missing) listing every problem, by line and column where it has one."""
    table = read_table(content)
    problems = Problems()
    sheet = sheet_maps(table, problems)
    if problems:
        raise problems.refused()
    if not sheet:
        raise ImportRefused(["the sheet has no rows below its header line"])
    built = document_for(sheet, table, by=by, under=under)
    try:
        summary = import_document(built.document, by=by, under=under, dry_run=dry_run)
    except ExchangeInvalid as exc:
        located = Problems(limit=MAX_PROBLEMS)
        located.extend(built.locate(problem) for problem in exc.problems)
        error = SpreadsheetForbidden if exc.forbidden else ImportRefused
        raise error(located) from None
    return SpreadsheetResult(
        format=table.format, rows=len(table.rows), maps=built.maps, summary=summary
    )
