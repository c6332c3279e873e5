"""Maps from spreadsheets (``maps.spreadsheets``): CSV and XLSX in every shape people
save them, the round trip through "Export as XLSX", re-imports that update instead of
copying, every kind of problem named by line and column with nothing written, and
hostile files refused with a limit message."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from maps.imports import ImportRefused
from maps.models import JourneyMap, LaneItem, PainPoint, Stage, Step
from maps.spreadsheets import reader, writer
from maps.spreadsheets.columns import NAMES, channel_value, emotion_value
from maps.spreadsheets.service import SpreadsheetForbidden, spreadsheet_import
from tests.builders import build_map_content
from tests.factories import JourneyMapFactory, StepFactory

pytestmark = pytest.mark.django_db

HEADER = ["map", "stage", "step", "channel", "emotion", "pain points", "insights"]


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", newline: str = "\n", bom=False):
    def cell(value: str) -> str:
        if any(c in value for c in (delimiter, '"', "\n")):
            return '"' + value.replace('"', '""') + '"'
        return value

    text = newline.join(delimiter.join(cell(v) for v in row) for row in rows) + newline
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


def xlsx_bytes(rows: list[list], *, title: str = "Steps") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


ONBOARDING = [
    HEADER,
    ["Onboard", "Sign up", "Download the app", "Mobile app", "Neutral", "", ""],
    ["", "", "Create a login", "app", "-1", "Password rules unclear\nSMS code late", ""],
    ["", "Verify", "Scan the ID", "App", "very bad", "Photo refused", "Half give up here"],
    ["", "", "", "", "", "No status after sending", ""],
    ["Pay a bill", "Pay", "Enter the amount", "Web", "Positive", "", ""],
]


def steps_of(journey_map: JourneyMap) -> list[tuple]:
    return list(
        journey_map.steps.order_by("position").values_list(
            "name", "stage__name", "channel", "emotion"
        )
    )


def test_a_csv_with_a_bom_semicolons_and_windows_line_ends_imports_every_map(team_map, owner):
    content = csv_bytes(ONBOARDING, delimiter=";", newline="\r\n", bom=True)

    result = spreadsheet_import(content=content, by=owner, under=team_map)

    assert result.format == "csv" and not result.dry_run
    onboard = JourneyMap.objects.get(parent=team_map, title="Onboard")
    assert onboard.owner == owner
    assert steps_of(onboard) == [
        ("Download the app", "Sign up", "app", 0),
        ("Create a login", "Sign up", "app", -1),
        ("Scan the ID", "Verify", "app", -2),
    ]
    assert list(onboard.stages.values_list("name", flat=True)) == ["Sign up", "Verify"]
    pains = set(onboard.pain_points.values_list("title", "step__name", "kind"))
    assert pains == {
        ("Password rules unclear", "Create a login", "customer"),
        ("SMS code late", "Create a login", "customer"),  # the cell's second line
        ("Photo refused", "Scan the ID", "customer"),
        ("No status after sending", None, "customer"),  # a row without a step: unpinned
    }
    assert list(onboard.lane_items.values_list("title", "kind")) == [
        ("Half give up here", "insight")
    ]
    pay = JourneyMap.objects.get(parent=team_map, title="Pay a bill")
    assert steps_of(pay) == [("Enter the amount", "Pay", "web", 1)]


def test_an_xlsx_workbook_imports_the_same_as_its_csv(team_map, owner):
    spreadsheet_import(content=xlsx_bytes(ONBOARDING), by=owner, under=team_map)

    onboard = JourneyMap.objects.get(parent=team_map, title="Onboard")
    assert [s[0] for s in steps_of(onboard)] == [
        "Download the app",
        "Create a login",
        "Scan the ID",
    ]
    assert onboard.pain_points.count() == 4


def test_a_dry_run_says_what_would_be_created_and_writes_nothing(team_map, owner):
    before = (JourneyMap.objects.count(), Step.objects.count())

    result = spreadsheet_import(
        content=csv_bytes(ONBOARDING), by=owner, under=team_map, dry_run=True
    )

    assert (JourneyMap.objects.count(), Step.objects.count()) == before
    assert result.dry_run
    assert result.summary.created["step"] == 4
    assert result.summary.created["map"] == 2
    assert [(m.title, m.existing, m.steps) for m in result.maps] == [
        ("Onboard", False, 3),
        ("Pay a bill", False, 1),
    ]
    assert result.text == (
        "5 rows, 2 maps: will create 2 maps, 3 stages, 4 steps, 4 pain points, 1 lane item."
    )


def test_importing_the_same_sheet_again_updates_instead_of_copying(team_map, owner):
    content = xlsx_bytes(ONBOARDING)
    spreadsheet_import(content=content, by=owner, under=team_map)
    counts = [m.objects.count() for m in (JourneyMap, Stage, Step, PainPoint, LaneItem)]

    again = spreadsheet_import(content=content, by=owner, under=team_map)

    assert [m.objects.count() for m in (JourneyMap, Stage, Step, PainPoint, LaneItem)] == counts
    assert not again.summary.created and not again.summary.updated
    assert all(m.existing for m in again.maps)


def test_a_changed_cell_updates_its_step_and_a_new_line_adds_one(team_map, owner):
    spreadsheet_import(content=xlsx_bytes(ONBOARDING), by=owner, under=team_map)
    onboard = JourneyMap.objects.get(parent=team_map, title="Onboard")
    scan = onboard.steps.get(name="Scan the ID")
    changed = [list(row) for row in ONBOARDING]
    changed[3][4] = "Negative"  # Scan the ID: very bad → negative
    changed.insert(5, ["Onboard", "Verify", "Wait for approval", "E-mail", "", "", ""])

    result = spreadsheet_import(content=xlsx_bytes(changed), by=owner, under=team_map)

    scan.refresh_from_db()
    assert scan.emotion == -1
    assert result.summary.updated["step"] == 1
    assert result.summary.created["step"] == 1
    assert onboard.steps.get(name="Wait for approval").channel == "email"
    assert JourneyMap.objects.filter(title="Onboard").count() == 1


def test_a_step_key_keeps_a_renamed_step_the_same_step(team_map, owner):
    rows = [["map", "step key", "step"], ["Onboard", "scan", "Scan the ID"]]
    spreadsheet_import(content=csv_bytes(rows), by=owner, under=team_map)
    step = Step.objects.get(key="scan")

    rows[1][2] = "Photograph the ID"
    spreadsheet_import(content=csv_bytes(rows), by=owner, under=team_map)

    step.refresh_from_db()
    assert step.name == "Photograph the ID"
    assert Step.objects.filter(map=step.map).count() == 1


def test_a_column_left_out_leaves_that_field_of_existing_steps_alone(team_map, owner):
    child = JourneyMapFactory(title="Onboard", parent=team_map, owner=owner)
    StepFactory(map=child, key="scan", name="Scan the ID", channel="app", emotion=-2)

    spreadsheet_import(
        content=csv_bytes([["map", "step"], ["Onboard", "Scan the ID"]]), by=owner, under=team_map
    )

    assert steps_of(child) == [("Scan the ID", None, "app", -2)]


def test_an_exported_map_imports_under_another_parent_with_the_same_content(team_map, owner, team):
    build_map_content(team_map, steps=6, items_per_step=4)
    Stage.objects.create(map=team_map, name="Empty stage", position=9)
    team_map.steps.filter(position=2).update(name='=HYPERLINK("http://evil")', channel="chat")
    out = io.BytesIO()
    writer.map_workbook(team_map, out)
    elsewhere = JourneyMapFactory(title="Elsewhere", owner=owner, team=team)

    result = spreadsheet_import(content=out.getvalue(), by=owner, under=elsewhere)

    copy = JourneyMap.objects.get(parent=elsewhere)
    assert copy.title == team_map.title and copy.slug != team_map.slug
    assert result.maps[0].existing is False

    def content(m: JourneyMap) -> tuple:
        return (
            list(m.stages.order_by("position").values_list("name", flat=True)),
            list(
                m.steps.order_by("position").values_list(
                    "key", "name", "description", "stage__name", "channel", "emotion"
                )
            ),
            sorted(m.pain_points.values_list("title", "kind", "step__key")),
            sorted(m.lane_items.values_list("title", "kind", "step__key"), key=lambda r: str(r)),
        )

    assert content(copy) == content(team_map)
    assert copy.steps.get(position=2).name == '=HYPERLINK("http://evil")'  # text, as typed


# --- the cells people type -----------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("", 0), ("2", 2), ("+1", 1), ("−2", -2), ("-1.0", -1), ("Very positive", 2),
     ("VERY_NEGATIVE", -2), ("bad", -1), ("okay", 0), ("3", None), ("very happy", None)],
)  # fmt: skip
def test_emotion_accepts_the_labels_and_numbers_people_type(typed, stored):
    assert emotion_value(typed) == stored


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("", ""), ("Web", "web"), ("mobile app", "app"), ("E-mail", "email"), ("email", "email"),
     ("Letter", "mail"), ("call centre", "phone"), ("carrier pigeon", None)],
)  # fmt: skip
def test_channel_accepts_values_labels_and_common_words(typed, stored):
    assert channel_value(typed) == stored


# --- problems: every one, by line and column, nothing written ---------------------------


def refused(content: bytes, by, under) -> list[str]:
    counts = [m.objects.count() for m in (JourneyMap, Stage, Step, PainPoint, LaneItem)]
    with pytest.raises(ImportRefused) as caught:
        spreadsheet_import(content=content, by=by, under=under)
    assert [m.objects.count() for m in (JourneyMap, Stage, Step, PainPoint, LaneItem)] == counts
    return caught.value.problems


def test_header_problems_name_the_column_letter(team_map, owner):
    content = csv_bytes([["Map", "Stage", "Mood", "stage", "step name", "Notes"], ["M"] * 6])

    assert refused(content, owner, team_map) == [
        "line 1, column C: unknown column “Mood” (the columns are: " + ", ".join(NAMES) + ")",
        "line 1, column D: “stage” repeats column B (stage)",
        "line 1, column F: unknown column “Notes” (the columns are: " + ", ".join(NAMES) + ")",
    ]


def test_a_header_without_the_required_columns_is_refused(team_map, owner):
    assert refused(csv_bytes([["stage", "description"], ["a", "b"]]), owner, team_map) == [
        "line 1: the header lacks the columns map, step"
    ]


def test_a_value_under_no_header_names_its_column_letter(team_map, owner):
    rows = [["map", "step"], ["Onboard", "Scan", "stray"], ["", "Wait", "", "another"]]

    assert refused(xlsx_bytes(rows), owner, team_map) == [
        "line 2, column C: a value under no header (name the column on line 1 or clear the cell)",
        "line 3, column D: a value under no header (name the column on line 1 or clear the cell)",
    ]


def test_cell_problems_are_all_listed_together(team_map, owner):
    rows = [
        ["map", "stage", "step key", "step", "channel", "emotion", "pain points"],
        ["", "", "", "Orphan", "", "", ""],
        ["Onboard", "Apply", "a b", "Apply online", "Fax", "very happy", ""],
        ["", "", "apply", "Apply", "", "", ""],
        ["", "", "APPLY", "Apply again", "", "", ""],
        ["", "", "", "x" * 161, "", "", ""],
        ["", "", "", "", "Web", "", "ok\n" + "p" * 201],
    ]

    assert refused(xlsx_bytes(rows), owner, team_map) == [
        "line 2, column A (map): empty; the first row must name its map",
        "line 3, column C (step key): “a b” may hold only letters, digits, - and _",
        "line 3, column F (emotion): “very happy” is not one of Very negative, Negative, "
        "Neutral, Positive, Very positive or -2 … 2",
        "line 3, column E (channel): “Fax” is not one of Web, Mobile app, Branch, Phone, "
        "Chat, E-mail, Letter, Partner, Other",
        "line 5, column C (step key): “APPLY” is already the key of line 4",
        "line 6, column D (step): 161 characters; at most 160",
        "line 7, column D (step): empty, but the row has a channel; name the step (a row "
        "without a step only declares a stage or holds items of the map)",
        "line 7, column G (pain points): line 2 of the cell has 201 characters; at most 200",
    ]


def test_a_formula_cell_is_refused_not_evaluated(team_map, owner):
    rows = [["map", "step", "description"], ["Onboard", "=1+1", '=HYPERLINK("x")']]

    assert refused(xlsx_bytes(rows), owner, team_map) == [
        "line 2, column B (step): a formula (“=1+1”); type its value instead, nothing is "
        "calculated on import",
        'line 2, column C (description): a formula (“=HYPERLINK("x")”); type its value '
        "instead, nothing is calculated on import",
    ]


def test_the_first_fifty_problems_are_listed_and_the_rest_counted(team_map, owner):
    rows = [["map", "step", "emotion"]] + [["M", f"Step {i}", "great"] for i in range(120)]

    problems = refused(csv_bytes(rows), owner, team_map)

    assert len(problems) == 51
    assert problems[0].startswith("line 2, column C (emotion): “great” is not one of")
    assert problems[-1] == "… and 70 more problems"


def test_a_sheet_with_only_a_header_is_refused(team_map, owner):
    assert refused(csv_bytes([["map", "step"]]), owner, team_map) == [
        "the sheet has no rows below its header line"
    ]


def test_the_importer_refusal_names_the_line_of_the_map(team_map, owner, other_owner):
    """A child map that someone else owns matches by title: the exchange importer
    refuses to edit it, and the problem points at the row that named it."""
    JourneyMapFactory(title="Onboard", parent=team_map, owner=other_owner)
    rows = [["map", "step"], ["Pay", "Enter"], ["Onboard", "Scan"]]

    with pytest.raises(SpreadsheetForbidden) as caught:
        spreadsheet_import(content=csv_bytes(rows), by=owner, under=team_map)

    assert caught.value.problems[0].startswith("line 3, column A (map): the map “")
    assert not JourneyMap.objects.filter(title="Pay").exists()


# --- hostile files ------------------------------------------------------------------------


def test_a_ten_megabyte_csv_cell_is_refused_by_its_line(team_map, owner):
    content = b"map,step,description\nM,a,ok\nM,b," + b"x" * (10 * 2**20 - 40) + b"\n"

    assert refused(content, owner, team_map) == ["line 3: a cell is longer than 128 KB"]


def test_a_ten_megabyte_xlsx_cell_is_refused_with_the_column_limit(team_map, owner):
    # openpyxl writes at most Excel's 32,767 characters a cell: put the 10 MB in by hand
    small = xlsx_bytes([["map", "step", "description"], ["M", "a", "PLACEHOLDER"]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(small)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            dst.writestr(info, data.replace(b"PLACEHOLDER", b"x" * (10 * 2**20)))
    content = out.getvalue()

    assert refused(content, owner, team_map) == [
        "line 2, column C (description): 10,485,760 characters; at most 10,000"
    ]


def test_a_hundred_thousand_rows_are_refused_with_the_limit(team_map, owner):
    content = b"map,step\n" + b"".join(b"M,Step %d\n" % i for i in range(100_000))
    started = time.monotonic()

    problems = refused(content, owner, team_map)

    assert problems == [
        "line 2002: the sheet has more than 2,000 rows; import at most 2,000 at a time "
        "(split it into several files, or move a whole repository as a journeyhub/1 file)"
    ]
    assert time.monotonic() - started < 10


def test_a_sheet_of_endless_empty_lines_stops_early(team_map, owner):
    content = b"map,step\nM,s\n" + b",\n" * 50_000

    assert refused(content, owner, team_map) == [
        "line 20001: the sheet goes on past 20,000 lines; remove the empty ones"
    ]


def test_a_zip_bomb_is_refused_from_its_directory(team_map, owner):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (101 * 2**20))

    assert refused(out.getvalue(), owner, team_map) == [
        "the workbook unpacks to 101 MB; at most 100 MB are read (split it into several files)"
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("map,step\n".encode("utf-16"), "the file is UTF-16 text: save it as UTF-8"),
        (b"map,step\nM,\x00a\n", "line 2: the file is binary (a NUL byte), not CSV text"),
        (b"\xd0\xcf\x11\xe0" + b"\0" * 100, "the file is an old Excel workbook (.xls)"),
        (b"PK\x03\x04broken", "the file is not a readable XLSX workbook"),
        (b"map,step\nM,caf\xe9\n", "line 2: the file is not UTF-8 text"),
        (b"", "line 1: the first line must name the columns"),
    ],
)
def test_files_that_are_not_spreadsheets_are_refused_in_words(team_map, owner, content, problem):
    assert refused(content, owner, team_map)[0].startswith(problem)


def test_a_file_over_the_size_limit_is_refused(team_map, owner):
    content = b"map,step\n" + b"M,s\n" * (reader.MAX_UPLOAD_BYTES // 4)

    assert refused(content, owner, team_map)[0].startswith("the file is 10.0 MB; a spreadsheet")


# --- export ---------------------------------------------------------------------------


def test_the_export_writes_one_row_per_step_in_the_documented_columns(team_map):
    steps = build_map_content(team_map, steps=3, items_per_step=2)
    steps[0].name = "=cmd|' /C calc'!A0"
    steps[0].save()
    out = io.BytesIO()

    writer.map_workbook(team_map, out)

    workbook = load_workbook(io.BytesIO(out.getvalue()))
    assert workbook.sheetnames == ["Steps", "KPIs"]
    rows = list(workbook["Steps"].iter_rows(values_only=True))
    assert rows[0] == NAMES
    assert [r[NAMES.index("step")] for r in rows[1:4]] == [s.name for s in steps]
    formula = workbook["Steps"].cell(row=2, column=NAMES.index("step") + 1)
    assert formula.data_type == "s" and formula.quotePrefix  # shown as text, never run
    assert rows[-1][NAMES.index("step")] is None  # the unpinned pain point's row
    assert rows[-1][NAMES.index("pain points")] == "Unpinned pain point"
    kpis = list(workbook["KPIs"].iter_rows(values_only=True))
    assert kpis[0][0] == "KPI" and {r[0] for r in kpis[1:4]} == {"KPI 0", "KPI 1", "KPI 2"}


def test_the_template_imports_as_its_example_map(leader):
    out = io.BytesIO()
    writer.template_workbook(out)

    result = spreadsheet_import(content=out.getvalue(), by=leader, under=None)

    example = JourneyMap.objects.get(slug=result.maps[0].slug)
    assert example.title == "Open an account" and example.parent is None
    assert example.steps.count() == 4
    assert example.steps.get(key="apply-online").pain_points.count() == 2
    assert load_workbook(io.BytesIO(out.getvalue())).sheetnames == ["Steps", "Read me"]
