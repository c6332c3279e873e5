"""Writing spreadsheets: a map as an XLSX workbook that imports back (one row per step
in the documented columns), and the template workbook offered on the import page.

Rows of a map, in the order that re-imports to the same map: its steps without a stage
(the reader carries a stage down to the rows below, so these come first), then each
stage in order with its steps in order (a stage without steps gets a row of its own),
then one row without a step for the pain points and items pinned to no step. User text
goes through ``journeyhub.exports.xlsx_row``: a cell starting with ``=`` is stored as
text, never as a formula. A second sheet lists the KPIs (for reading; imports skip it).
"""

from __future__ import annotations

from collections import defaultdict
from typing import IO, Any

from journeyhub.exports import xlsx_row
from maps.models import KPI, JourneyMap, LaneItem, PainPoint, Stage, Step

from .columns import (
    COLUMNS,
    EMOTION_LABELS,
    LANE_ITEM_COLUMNS,
    NAMES,
    PAIN_POINT_COLUMNS,
    column_letter,
)
from .reader import STEPS_SHEET

KPI_COLUMNS = (
    "KPI",
    "step",
    "unit",
    "direction",
    "baseline",
    "target",
    "perspective",
    "weight",
    "latest value",
    "latest date",
)
WIDTHS = {"map": 28, "stage": 20, "step key": 22, "step": 32, "description": 40}


def _one_line(text: str) -> str:
    """Titles are one line; a line break would split them into two items on import."""
    return " ".join(text.split())


def map_rows(journey_map: JourneyMap) -> list[list[Any]]:
    """The map's rows in ``NAMES`` order. Five queries: stages, steps, pain points,
    lane items (the map is given)."""
    stages = list(Stage.objects.filter(map=journey_map).order_by("position", "pk"))
    steps = list(Step.objects.filter(map=journey_map).order_by("position", "pk"))
    items: dict[int | None, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    pain_columns = {kind: column for column, kind in PAIN_POINT_COLUMNS.items()}
    lane_columns = {kind: column for column, kind in LANE_ITEM_COLUMNS.items()}
    for step_id, kind, title in (
        PainPoint.objects.filter(map=journey_map)
        .order_by("position", "pk")
        .values_list("step_id", "kind", "title")
    ):
        items[step_id][pain_columns[kind]].append(_one_line(title))
    for step_id, kind, title in (
        LaneItem.objects.filter(map=journey_map)
        .order_by("position", "pk")
        .values_list("step_id", "kind", "title")
    ):
        items[step_id][lane_columns[kind]].append(_one_line(title))

    def row(stage: str = "", step: Step | None = None, *, unpinned: bool = False) -> list[Any]:
        cells: dict[str, Any] = {"map": journey_map.title, "stage": stage}
        if step is not None:
            cells |= {
                "step key": step.key,
                "step": step.name,
                "description": step.description,
                "channel": step.get_channel_display() if step.channel else "",
                "emotion": EMOTION_LABELS.get(step.emotion, step.emotion),
            }
        if step is not None or unpinned:  # a stage's own row holds no items
            for column, entries in items.get(step.pk if step else None, {}).items():
                cells[column] = "\n".join(entries)
        return [cells.get(name, "") for name in NAMES]

    by_stage: dict[int | None, list[Step]] = defaultdict(list)
    for step in steps:
        by_stage[step.stage_id].append(step)
    rows = [row("", step) for step in by_stage.get(None, [])]
    for stage in stages:
        rows += [row(stage.name, step) for step in by_stage.get(stage.pk, [])] or [row(stage.name)]
    if None in items:
        rows.append(row(unpinned=True))
    return rows


def kpi_rows(journey_map: JourneyMap) -> list[list[Any]]:
    """The map's KPIs with their latest value: one query."""
    # latest_value / latest_date: stored on the KPI by the database's triggers
    kpis = KPI.objects.filter(map=journey_map).select_related("step").order_by("name", "pk")
    return [
        [
            kpi.name,
            kpi.step.name if kpi.step else "",
            kpi.unit,
            kpi.get_direction_display(),
            kpi.baseline,
            kpi.target,
            kpi.get_perspective_display(),
            kpi.weight,
            kpi.latest_value,
            kpi.latest_date,
        ]
        for kpi in kpis
    ]


def _steps_sheet(workbook, rows: list[list[Any]]):
    sheet = workbook.create_sheet(STEPS_SHEET)
    for index, name in enumerate(NAMES):
        sheet.column_dimensions[column_letter(index)].width = WIDTHS.get(name, 26)
    sheet.freeze_panes = "A2"
    sheet.append(list(NAMES))
    for values in rows:
        sheet.append(xlsx_row(sheet, values))
    return sheet


def map_workbook(journey_map: JourneyMap, stream: IO[bytes]) -> None:
    """Write ``journey_map`` as an XLSX workbook to ``stream``."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    _steps_sheet(workbook, map_rows(journey_map))
    kpis = workbook.create_sheet("KPIs")
    kpis.append(list(KPI_COLUMNS))
    for values in kpi_rows(journey_map):
        kpis.append(xlsx_row(kpis, values))
    kpis.append([])
    kpis.append(["Read only: importing this workbook reads the Steps sheet, not this one."])
    workbook.save(stream)


EXAMPLE_ROWS: tuple[dict[str, str], ...] = (
    {
        "map": "Open an account",
        "stage": "Discover",
        "step": "Compare accounts online",
        "description": "The customer compares our accounts with others on the website.",
        "channel": "Web",
        "emotion": "Neutral",
        "insights": "Most visitors come from comparison sites",
    },
    {
        "stage": "Apply",
        "step key": "apply-online",
        "step": "Fill in the application",
        "channel": "Web",
        "emotion": "Negative",
        "pain points": "Too many fields\nNo way to save and come back later",
        "opportunities": "Prefill from the customer's bank data",
    },
    {
        "step": "Verify identity",
        "channel": "Mobile app",
        "emotion": "Very negative",
        "pain points": "The photo of the ID is refused without saying why",
        "employee pain points": "Manual checks pile up on Mondays",
    },
    {
        "stage": "Start using",
        "step": "First payment",
        "channel": "Mobile app",
        "emotion": "Very positive",
        "ideas": "Celebrate the first payment",
    },
)


def template_workbook(stream: IO[bytes]) -> None:
    """The template offered for download: the columns with an example map, and a
    "Read me" sheet describing each column (from ``columns.COLUMNS``)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    _steps_sheet(workbook, [[row.get(name, "") for name in NAMES] for row in EXAMPLE_ROWS])
    readme = workbook.create_sheet("Read me")
    readme.column_dimensions["A"].width = 24
    readme.column_dimensions["B"].width = 12
    readme.column_dimensions["C"].width = 100
    readme.append(["column", "required", "what it holds"])
    for column in COLUMNS:
        required = "yes" if column.required else ""
        readme.append(xlsx_row(readme, [column.name, required, column.help]))
    readme.append([])
    for line in (
        "One row per step. Headers may be in any order and any case; other columns are refused.",
        "Nothing is written if any cell has a problem: every problem names its line and column.",
        "Importing the same sheet again updates the maps instead of copying them.",
        "Imports read the sheet named Steps (or the first sheet) and never delete anything.",
    ):
        readme.append([line])
    workbook.save(stream)
