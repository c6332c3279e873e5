"""TheyDo's own example files (github.com/theydo/theydo-s3-integrations, ``examples/``)
import with the values they contain. The repository has no licence, so its files are not
copied here: the test reads them from a local copy — ``THEYDO_EXAMPLES`` or the mirror
this machine keeps — and is skipped where there is none."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from maps.models import KPI, CXProject, Measurement, Quote, ResearchSource
from maps.theydo.engine import theydo_import

MIRROR = Path("/work/.mirror/theydo+theydo-s3-integrations/repo")


def _example(name: str) -> dict:
    folder = os.environ.get("THEYDO_EXAMPLES")
    if folder:
        path = Path(folder) / name
        if not path.exists():
            pytest.skip(f"{path} does not exist")
        return json.loads(path.read_text())
    if not MIRROR.exists():
        pytest.skip("no copy of TheyDo's examples here (set THEYDO_EXAMPLES to its examples/)")
    shown = subprocess.run(
        ["git", "-C", str(MIRROR), "show", f"HEAD:examples/{name}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if shown.returncode != 0:
        pytest.skip(f"examples/{name} is not in the mirror")
    return json.loads(shown.stdout)


def _pooled(metric: dict, date: str) -> float:
    """The period value by the kind's formula, computed here from the file's data points."""
    points = [p for p in metric["dataPoints"] if p["dateOfMeasurement"] == date]
    kind = metric["type"]
    if kind == "CES":
        return sum(p["score"] * p["respondents"] for p in points) / sum(
            p["respondents"] for p in points
        )
    if kind == "CSAT":
        keys = ("veryUnsatisfied", "unsatisfied", "neutral", "satisfied", "verySatisfied")
        good = sum(p["satisfied"] + p["verySatisfied"] for p in points)
        return 100 * good / sum(p[k] for p in points for k in keys)
    if kind == "NPS":
        answers = sum(p["promoters"] + p["passives"] + p["detractors"] for p in points)
        return 100 * sum(p["promoters"] - p["detractors"] for p in points) / answers
    if kind == "RATIO":
        return 100 * sum(p["numerator"] for p in points) / sum(p["denominator"] for p in points)
    values = [p["value"] for p in points]
    return sum(values) if metric["aggregationMethod"] == "SUM" else sum(values) / len(values)


def test_theydos_metrics_example_imports_with_every_value(team_map, owner):
    data = _example("metrics.json")
    plan = theydo_import(journey_map=team_map, data=data, by=owner)
    assert plan.summary()["created"] == {"KPI": len(data["metrics"])}
    for metric in data["metrics"]:
        kpi = KPI.objects.get(map=team_map, import_key=metric["importKey"])
        assert kpi.name == metric["title"]
        assert kpi.unit == metric["unit"]
        if "target" in metric:
            assert kpi.target == metric["target"]
        for date in {p["dateOfMeasurement"] for p in metric["dataPoints"]}:
            value = Measurement.objects.get(kpi=kpi, date=date).value
            assert value == pytest.approx(_pooled(metric, date)), (metric["importKey"], date)


def test_theydos_solutions_example_imports(team_map, owner):
    data = _example("solutions.json")
    theydo_import(journey_map=team_map, data=data, by=owner)
    for solution in data["solutions"]:
        project = CXProject.objects.get(import_map=team_map, import_key=solution["importKey"])
        assert project.title == solution["title"]
        assert project.summary == solution.get("description", "")
        assert project.external_links == solution.get("externalLinks", [])


@pytest.mark.parametrize(
    ("name", "meta", "name_key", "id_key"),
    [
        ("survey_responses.json", "surveyMetadata", "surveyName", "surveyId"),
        ("feedback_responses.json", "feedbackMetadata", "feedbackName", "feedbackId"),
    ],
)
def test_theydos_response_examples_import_as_a_source_with_quotes(
    team_map, owner, name, meta, name_key, id_key
):
    data = _example(name)
    theydo_import(journey_map=team_map, data=data, by=owner)
    source = ResearchSource.objects.get(map=team_map, import_key=data[meta][id_key])
    assert source.title == data[meta][name_key]
    texts = " ".join(Quote.objects.filter(source=source).values_list("text", flat=True))
    for response in data["responses"]:
        for answer in response["responseFields"]:
            field = next(f for f in source.fields if f["fieldId"] == answer["fieldId"])
            if field.get("fieldType", "TEXT") == "TEXT":
                assert answer["textValue"] in texts
