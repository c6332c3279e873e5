"""journeyhub/1 export (``maps.exchange.export_document``): everything a map holds, written
from the content registry, as much as the user may see, in a canonical order, in a fixed
number of queries."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from maps.content import CONTENT_KINDS
from maps.exchange import export_document
from maps.exchange.spec import (
    ATTACHMENT_PART,
    CONTENT_PARTS,
    MAP_PART,
    MEASUREMENT_PART,
    OBSERVATION_PART,
    PERSONA_PART,
    PROJECT_PART,
    QUOTE_PART,
    SOURCE_PART,
    json_name,
)
from maps.models import (
    Attachment,
    LaneItem,
    Quote,
    ResearchSource,
    Tag,
    TagGroup,
    VocabularyTerm,
)
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    LaneItemFactory,
    MeasurementFactory,
    MeasurementObservationFactory,
    PainPointFactory,
    PersonaFactory,
    QualitativeFactorFactory,
    StageFactory,
    StepFactory,
    StepLinkFactory,
)

pytestmark = pytest.mark.django_db


def populated_map(owner, team, *, slug: str = "open-an-account", children: int = 1):
    """A map with every kind of content and every field set, and ``children`` sub-maps
    zooming into its first step, each with content of its own."""
    persona = PersonaFactory(slug=f"{slug}-newcomer", name=f"Newcomer {slug}", description="New")
    retiree = PersonaFactory(slug=f"{slug}-retiree", name=f"Retiree {slug}")
    root = JourneyMapFactory(
        title=f"Open an account {slug}",
        slug=slug,
        owner=owner,
        team=team,
        personas=[retiree, persona],
        summary="From first visit to first payment.",
        hidden_lanes=["ideas"],
        last_reviewed_at=timezone.now() - dt.timedelta(days=3),
        review_every_days=30,
    )
    fill(root, owner, persona)
    step = root.steps.order_by("position").first()
    for n in range(children):
        child = JourneyMapFactory(
            title=f"Verify identity {n}",
            slug=f"{slug}-verify-{n}",
            owner=owner,
            team=team,
            parent=root,
            parent_step=step,
        )
        fill(child, owner, persona)
    return root


def fill(journey_map, owner, persona) -> None:
    stage = StageFactory(map=journey_map, name="Apply", description="Fill in the form")
    first = StepFactory(
        map=journey_map,
        stage=stage,
        key="fill-form",
        name="Fill in the form",
        channel="web",
        emotion=-1,
        is_recurring=True,
        is_moment_of_truth=True,
        evidence="measured",
    )
    second = StepFactory(map=journey_map, stage=stage, key="sign", name="Sign")
    StepLinkFactory(from_step=second, to_step=first, kind="loop", label="Missing data")
    pain = PainPointFactory(
        map=journey_map,
        step=first,
        kind="employee",
        description="Slow",
        severity=5,
        frequency=4,
        evidence="researched",
    )
    group = TagGroup.objects.get_or_create(name="Channel")[0]
    tags = [
        Tag.objects.get_or_create(kind="tag", group=None, name="Support")[0],
        Tag.objects.get_or_create(kind="tag", group=group, name="Email")[0],
        Tag.objects.get_or_create(kind="group", group=None, name="Premium")[0],
    ]
    item = LaneItemFactory(
        map=journey_map,
        step=second,
        kind=LaneItem.Kind.OPPORTUNITY,
        url="https://ex.org/r",
        import_key="opp-1",
        owner=owner,
        status="validated",
        item_type="quick win",
        icon="star",
        empathy_score=0.5,
        weight=2.0,
        external_links=["https://ex.org/a"],
    )
    item.tags.set(tags)
    kpi = KPIFactory(
        map=journey_map,
        step=first,
        name="Completion",
        description="Finished forms",
        unit="%",
        direction="higher",
        kind="value",
        aggregation="sum",
        import_key="kpi-1",
        perspective="business",
        weight=2.0,
        owner=owner,
    )
    kpi.tags.set(tags[:1])
    MeasurementFactory(kpi=kpi, date=dt.date(2026, 1, 1), value=61.5)
    MeasurementObservationFactory(
        kpi=kpi,
        date=dt.date(2026, 2, 1),
        dimensions={"region": "EU"},
        dimension_key="region=EU",
        value=3.0,
        recorded_by=owner,
    )
    QualitativeFactorFactory(
        map=journey_map,
        name="Clarity",
        perspective="business",
        rating=4,
        note="Clear",
        rated_by=owner,
    )
    source = ResearchSource.objects.create(
        map=journey_map,
        kind="survey",
        title="Onboarding survey",
        description="Q3",
        conducted_on=dt.date(2026, 3, 1),
        url="https://ex.org/s",
        owner=owner,
        import_key="survey-1",
        fields=[{"fieldId": "q1"}],
        one_quote_per_response=True,
        position=1,
    )
    source.steps.set([first])
    source.pain_points.set([pain])
    source.lane_items.set([item])
    quote = Quote.objects.create(
        source=source,
        text="Too many forms",
        response_id="r1",
        field_id="q1",
        answers={"q1": "Too many forms"},
        responded_at=timezone.now(),
        persona_hint="new",
        persona=persona,
        position=2,
    )
    quote.tags.set(tags)
    quote.steps.set([first])
    quote.pain_points.set([pain])
    quote.lane_items.set([item])
    Attachment.objects.create(
        source=source,
        file="research/2026/01/notes.txt",
        name="notes.txt",
        content_type="text/plain",
        size=12,
        uploaded_by=owner,
    )
    project = CXProjectFactory(
        title=f"Shorter form {journey_map.slug}",
        owner=owner,
        summary="Fewer fields",
        status="ongoing",
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 6, 1),
        cost=Decimal("1200.50"),
        outcome="Done",
        priority="high",
        project_type="fix",
        external_links=["https://ex.org/p"],
        import_key="sol-1",
        import_map=journey_map,
        source_status="In progress",
        maps=[journey_map],
        steps=[first],
        pain_points=[pain],
    )
    project.tags.set(tags[:2])


def fields_of(part) -> set[str]:
    return {json_name(attname) for attname in part.fields}


def test_every_field_of_every_kind_is_in_the_export_of_a_fully_populated_map(
    owner, team, admin_user
):
    root = populated_map(owner, team)
    VocabularyTerm.objects.create(key="step", label="Touchpoint")
    document = export_document(root, user=admin_user)

    entry = document["maps"][0]
    assert fields_of(MAP_PART) | set(MAP_PART.m2m) <= set(entry)
    assert {kind.key for kind in CONTENT_KINDS} <= set(entry)
    for part in CONTENT_PARTS:  # the registry's kinds, each with its every field
        assert entry[part.name], part.name
        assert fields_of(part) <= set(entry[part.name][0]), part.name
    kpi = entry["kpis"][0]
    assert fields_of(MEASUREMENT_PART) <= set(kpi["measurements"][0])
    assert fields_of(OBSERVATION_PART) <= set(kpi["observations"][0])
    source = entry["research"][0]
    assert fields_of(SOURCE_PART) | {"steps", "pain_points", "lane_items"} <= set(source)
    assert fields_of(QUOTE_PART) | {"tags", "steps"} <= set(source["quotes"][0])
    assert fields_of(ATTACHMENT_PART) <= set(source["attachments"][0])
    assert "file" not in source["attachments"][0]  # metadata only
    assert fields_of(PERSONA_PART) <= set(document["personas"][0])
    assert fields_of(PROJECT_PART) | {"maps", "steps", "pain_points", "tags"} <= set(
        document["projects"][0]
    )
    assert document["vocabulary"] == {"step": "Touchpoint"}


def test_the_export_names_rows_by_keys_and_people_by_username_never_by_id(owner, team, admin_user):
    root = populated_map(owner, team)
    document = export_document(root, user=admin_user)
    entry, child = document["maps"]
    assert entry["owner"] == "olivia" and entry["team"] == team.name
    assert entry["personas"] == ["open-an-account-newcomer", "open-an-account-retiree"]
    assert child["personas"] == []
    assert child["parent"] == "open-an-account" and child["parent_step"] == "fill-form"
    assert entry["steps"][0]["stage"] == entry["stages"][0]["key"]
    assert entry["links"][0]["from_step"] == "sign" and entry["links"][0]["to_step"] == "fill-form"
    tags = entry["lane_items"][0]["tags"]
    assert {"kind": "tag", "group": "Channel", "name": "Email"} in tags
    project = next(p for p in document["projects"] if p["import_map"] == "open-an-account")
    assert project["steps"] == [{"map": "open-an-account", "key": "fill-form"}]
    assert project["cost"] == "1200.50"
    assert "id" not in json.dumps(document).replace('"fieldId"', "").split('"')[1::2][:0]
    for row in (entry, *entry["steps"], *entry["kpis"], *document["projects"]):
        assert "id" not in row and "map" not in row and "pk" not in row


def test_two_exports_of_the_same_maps_are_identical_but_for_their_time(owner, team, admin_user):
    root = populated_map(owner, team, children=3)
    first = export_document(root, user=admin_user)
    second = export_document(root, user=admin_user)
    first.pop("exported_at"), second.pop("exported_at")
    assert json.dumps(first, sort_keys=False) == json.dumps(second, sort_keys=False)
    assert [m["title"] for m in first["maps"][1:]] == sorted(m["title"] for m in first["maps"][1:])


def test_the_single_map_export_leaves_its_sub_maps_out(owner, team, admin_user):
    root = populated_map(owner, team, children=2)
    document = export_document(root, user=admin_user, subtree=False, measurements=False)
    assert [m["slug"] for m in document["maps"]] == ["open-an-account"]
    assert "measurements" not in document["maps"][0]["kpis"][0]
    assert document["measurements"] is False


def test_nothing_the_user_may_not_see_leaks_into_the_export(owner, team, other_owner, viewer):
    root = populated_map(owner, team, children=1)
    hidden = JourneyMapFactory(
        title="Secret redesign",
        slug="secret-redesign",
        owner=other_owner,
        status="draft",
        parent=root,
    )
    fill(hidden, other_owner, None)
    below = JourneyMapFactory(
        title="Below the secret", slug="below-secret", owner=other_owner, parent=hidden
    )
    StepFactory(map=below, key="hidden-below", name="Hidden below")
    secret_project = CXProjectFactory(title="Secret project", owner=other_owner, maps=[hidden])
    hidden_step = hidden.steps.get(key="fill-form")
    visible_project = CXProjectFactory(
        title="Mixed project", owner=owner, maps=[root, hidden], steps=[hidden_step]
    )

    document = export_document(root, user=viewer)
    text = json.dumps(document, ensure_ascii=False)
    assert [m["slug"] for m in document["maps"]] == ["open-an-account", "open-an-account-verify-0"]
    for secret in (
        "secret-redesign",
        "Secret redesign",
        "below-secret",
        "hidden-below",
        secret_project.title,
        "Shorter form secret-redesign",
        "omar",
    ):
        assert secret not in text, secret
    mixed = next(p for p in document["projects"] if p["title"] == visible_project.title)
    assert mixed["maps"] == ["open-an-account"] and mixed["steps"] == []


def test_the_export_costs_the_same_queries_whatever_the_size_of_the_subtree(
    owner, team, admin_user, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small = populated_map(owner, team, slug="small", children=1)
    with CaptureQueriesContext(connection) as probe:
        export_document(small, user=admin_user)
    big = populated_map(owner, team, slug="big", children=10)
    # per part one query (7 content kinds, measurements, observations, sources, quotes,
    # attachments, projects), per many-to-many one, per referenced kind one (users,
    # teams, personas), the maps, the vocabulary and the personas list
    with django_assert_num_queries(len(probe.captured_queries)):
        document = export_document(big, user=admin_user)
    assert len(document["maps"]) == 11


def test_tags_and_project_links_read_in_one_query_equal_those_read_kind_by_kind(
    owner, team, other_owner
):
    """``_ByMap`` (one ``UNION ALL``, #16) against the ORM's own reads of the same link
    tables, on maps with tags with and without a group, projects linking the exported
    maps, their steps and pain points, rows of a map that is not exported, and a project
    touching only that other map."""
    from maps.exchange.export import _ByMap, _tags
    from maps.models import KPI, CXProject, JourneyMap, PainPoint, Step

    root = populated_map(owner, team, slug="root", children=2)
    child = root.get_children().first()
    outside = populated_map(other_owner, None, slug="outside", children=0)
    grouped = Tag.objects.create(name="Kiosk", group=TagGroup.objects.create(name="Venue"))
    plain = Tag.objects.create(name="urgent")
    for model in (LaneItem, KPI):
        for row in model.objects.filter(map__in=[root, child, outside]):
            row.tags.add(grouped, plain)
    inside_steps = list(Step.objects.filter(map__in=[root, child]))
    outside_steps = list(Step.objects.filter(map=outside))
    both = CXProjectFactory(
        owner=other_owner,
        maps=[child, outside],
        steps=inside_steps[:2] + outside_steps[:1],
        pain_points=list(PainPoint.objects.filter(map__in=[root, outside])),
    )
    both.tags.add(plain)
    CXProjectFactory(owner=other_owner, maps=[outside]).tags.add(grouped)  # not touching
    map_ids = [root.pk, child.pk, *root.get_children().values_list("pk", flat=True)]
    map_ids = sorted(set(map_ids))

    read = _ByMap(map_ids)

    for part in CONTENT_PARTS:
        if "tags" in part.m2m:
            assert read.tags[part.name] == _tags(part.model, {"map_id__in": map_ids})
            assert read.tags[part.name], part.name
    touching = CXProject.objects.filter(
        pk__in=[p.pk for p in CXProject.objects.all() if _touches(p, map_ids)]
    )
    assert read.tags["projects"] == _tags(CXProject, {"pk__in": touching})
    assert set(read.tags["projects"]) == {p.pk for p in touching}
    slug = dict(JourneyMap.objects.values_list("pk", "slug"))
    assert sorted(read.project_links["maps"]) == sorted(
        (p.pk, slug[m.pk], None) for p in touching for m in p.maps.all() if m.pk in map_ids
    )
    assert sorted(read.project_links["steps"]) == sorted(
        (p.pk, slug[s.map_id], s.key)
        for p in touching
        for s in p.steps.all()
        if s.map_id in map_ids
    )
    assert sorted(read.project_links["pain_points"]) == sorted(
        (p.pk, slug[x.map_id], x.exchange_key)
        for p in touching
        for x in p.pain_points.all()
        if x.map_id in map_ids
    )
    assert read.project_links["steps"] and read.project_links["pain_points"]


def _touches(project, map_ids: list[int]) -> bool:
    return (
        any(m.pk in map_ids for m in project.maps.all())
        or any(s.map_id in map_ids for s in project.steps.all())
        or any(p.map_id in map_ids for p in project.pain_points.all())
    )


def test_content_read_by_sql_compiled_once_equals_the_orms_values_for_every_kind(
    owner, team, monkeypatch
):
    """``export._by_map`` runs the SQL the ORM compiled for the first call of a shape with
    the next calls' map ids and converts the rows with the ORM's converters: the same
    dicts as ``.values()`` for every kind of content and research (dates, decimals, JSON,
    nulls), for one map and several, never the rows of an earlier call."""
    from django.db.models.sql.compiler import SQLCompiler

    from maps.exchange import export
    from maps.models import KPI, ResearchSource, Step
    from tests.builders import build_map_content

    maps = [JourneyMapFactory(owner=owner, team=team) for _ in range(3)]
    for journey_map in maps:
        build_map_content(journey_map, steps=3, items_per_step=2)
        ResearchSource.objects.create(map=journey_map, title="Survey", kind="survey")
    KPI.objects.filter(map=maps[1]).update(baseline=12.5)

    def orm(part, lookup, ids, extra):
        return export._values(part, part.model.objects.filter(**{lookup: ids}), extra)

    shapes = [
        (part, "map_id__in", "map_id")
        if part.parent == "map_id"
        else (part, "from_step__map_id__in", "from_step__map_id")
        for part in CONTENT_PARTS
    ] + [(SOURCE_PART, "map_id__in", "map_id")]
    for ids in ([maps[0].pk], [maps[2].pk], [m.pk for m in maps], [maps[1].pk, maps[0].pk]):
        for part, lookup, extra in shapes:
            read = export._by_map(part, lookup, ids, extra)
            assert read == orm(part, lookup, ids, extra), (part.name, ids)
            assert {row[extra] for row in read} <= set(ids)
    assert any(export._by_map(part, lookup, [maps[1].pk], extra) for part, lookup, extra in shapes)

    # compiled once: the next calls of the same shapes compile nothing, and see edits
    Step.objects.filter(map=maps[0]).update(name="Renamed")

    def refuse(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(SQLCompiler, "as_sql", refuse)
    steps = next(shape for shape in shapes if shape[0].model is Step)
    assert {row["name"] for row in export._by_map(*steps[:2], [maps[0].pk], steps[2])} == {
        "Renamed"
    }
    monkeypatch.undo()
    many = [m.pk for m in maps] * 3  # more maps than are compiled once: the ORM's way
    assert export._by_map(*steps[:2], many, steps[2]) == orm(*steps[:2], many, steps[2])
