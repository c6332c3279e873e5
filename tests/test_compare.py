"""Comparing today's map with a future state or scenario (#17): the pure comparison on
a hand-built pair, and the compare page (who may see it, what it shows, its queries)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from maps.compare import (
    PainSide,
    ProjectRef,
    Side,
    StepSide,
    chart,
    compare,
    merged_keys,
)
from maps.future_state import map_draft_variant
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    PainPointFactory,
    StageFactory,
    StepFactory,
)

VIDEO = ProjectRef(pk=7, title="Video identification", status="Ongoing", url="/projects/7/")
SMS = ProjectRef(pk=8, title="SMS code", status="Planned", url="/projects/8/")

TODAY = Side(
    title="Open an account",
    steps=(
        StepSide("apply", "Apply", stage="Apply", emotion=0, channel="Web"),
        StepSide("post-ident", "Identify at the post office", stage="Apply", emotion=-2),
        StepSide("verify", "Verify", stage="Apply", emotion=-1, channel="Web"),
        StepSide("first-use", "First use", stage="Use", emotion=1),
    ),
    pain_points=(
        PainSide(
            "pp-queue",
            "Queue at the post office",
            step="Identify at the post office",
            severity=5,
            frequency=4,
            projects=(VIDEO,),
        ),
        PainSide("pp-code", "Code unreadable", step="Verify", severity=3, projects=(SMS,)),
    ),
)
FUTURE = Side(
    title="Open an account (future state)",
    steps=(
        StepSide("apply", "Apply", stage="Apply", emotion=0, channel="Web"),
        StepSide("video-ident", "Identify by video", stage="Apply", emotion=1, channel="App",
                 projects=(VIDEO,)),
        StepSide("verify", "Verify", stage="Apply", emotion=1, channel="App",
                 moment_of_truth=True, projects=(SMS, VIDEO)),
        StepSide("first-use", "First use", stage="Use", emotion=1),
    ),
    pain_points=(
        PainSide("pp-code", "Code unreadable", step="Verify", severity=2),
        PainSide("pp-app", "App store login", step="Identify by video"),
    ),
)  # fmt: skip


def test_steps_are_matched_by_key_into_added_removed_changed_and_the_same():
    result = compare(TODAY, FUTURE)
    assert [c.key for c in result.added] == ["video-ident"]
    assert [c.key for c in result.removed] == ["post-ident"]
    assert [c.key for c in result.changed] == ["verify"]
    assert result.unchanged == 2  # apply, first-use
    verify = result.changed[0]
    assert [(f.field, f.before, f.after) for f in verify.changes] == [
        ("emotion", -1, 1),
        ("channel", "Web", "App"),
        ("moment_of_truth", False, True),
    ]


def test_a_changed_emotion_reads_signed_and_a_moment_of_truth_as_yes_or_no():
    verify = compare(TODAY, FUTURE).changed[0]
    assert [(f.before_text, f.after_text) for f in verify.changes] == [
        ("−1", "+1"),
        ("Web", "App"),
        ("no", "yes"),
    ]


def test_a_change_points_to_the_projects_on_its_step_in_either_map_once_each():
    result = compare(TODAY, FUTURE)
    assert result.changed[0].projects == (SMS, VIDEO)
    assert result.added[0].projects == (VIDEO,)
    assert result.removed[0].projects == ()


def test_the_pain_points_gone_in_the_future_state_are_the_ones_it_resolves_with_their_projects():
    result = compare(TODAY, FUTURE)
    assert [(p.key, p.projects) for p in result.resolved] == [("pp-queue", (VIDEO,))]
    assert [p.key for p in result.remaining] == ["pp-code"]  # severity changed, still there
    assert [p.key for p in result.new_pain_points] == ["pp-app"]


def test_the_curves_share_one_axis_with_removed_steps_where_today_had_them():
    result = compare(TODAY, FUTURE)
    assert [(p.key, p.baseline, p.other) for p in result.curve] == [
        ("apply", 0, 0),
        ("post-ident", -2, None),
        ("video-ident", None, 1),
        ("verify", -1, 1),
        ("first-use", 1, 1),
    ]


@pytest.mark.parametrize(
    "baseline, other, merged",
    [
        (["a", "b", "c"], ["a", "b", "c"], ["a", "b", "c"]),
        (["x", "a"], ["a"], ["x", "a"]),  # dropped before everything
        (["a", "x", "y", "b"], ["a", "b"], ["a", "x", "y", "b"]),  # dropped in a row, in order
        (["a", "b"], ["b", "a"], ["b", "a"]),  # reordered: the other map's order
        ([], ["a"], ["a"]),
        (["a"], [], ["a"]),
    ],
)
def test_merged_keys_keep_every_step_once(baseline, other, merged):
    assert merged_keys(baseline, other) == merged


def test_the_chart_draws_each_series_only_where_its_map_has_the_step():
    result = compare(TODAY, FUTURE)
    drawn = chart(result.curve, baseline=TODAY.title, other=FUTURE.title)
    assert len(drawn.baseline.dots) == 4 and len(drawn.other.dots) == 4
    assert len(drawn.columns) == 5
    # +2 at the top, −2 at the bottom: today's post-office step is the lowest point
    lowest = max(drawn.baseline.dots, key=lambda d: d[1])
    assert lowest[2:] == (-2, "Identify at the post office")
    assert [e for _, e in drawn.gridlines] == [2, 1, 0, -1, -2]


def test_identical_maps_have_no_differences():
    result = compare(TODAY, TODAY)
    assert not result.has_differences and result.unchanged == 4 and not result.resolved


# --- the page ------------------------------------------------------------------------------


@pytest.fixture
def pair(owner, team):
    """Olivia's journey under her lifecycle map and its drafted future state, with one step
    removed, one added, one changed, a resolved pain point and a project delivering it."""
    lifecycle = JourneyMapFactory(title="Lifecycle", owner=owner, team=team)
    journey = JourneyMapFactory(
        title="Open an account", slug="open-an-account", owner=owner, team=team, parent=lifecycle
    )
    stage = StageFactory(map=journey, name="Apply")
    StepFactory(map=journey, stage=stage, key="apply", name="Apply", position=0)
    queue_step = StepFactory(
        map=journey, stage=stage, key="post-ident", name="Identify at the post office",
        emotion=-2, position=1,
    )  # fmt: skip
    StepFactory(map=journey, stage=stage, key="verify", name="Verify", emotion=-1, position=2)
    queue = PainPointFactory(map=journey, step=queue_step, title="Queue at the post office")
    project = CXProjectFactory(
        owner=owner, title="Video identification", maps=[journey], pain_points=[queue]
    )
    future = map_draft_variant(source=journey, by=owner, state="future")
    future.steps.get(key="post-ident").delete()
    future.pain_points.get().delete()
    future.steps.filter(key="verify").update(emotion=2)
    video = StepFactory(map=future, stage=future.stages.get(), key="video", name="Video call")
    project.steps.add(video)
    return journey, future, project


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_compare_page_shows_the_changes_the_curves_and_the_resolved_pain_points(
    pair, team_member
):
    journey, future, project = pair
    response = signed_in(team_member).get(f"/maps/{journey.slug}/compare/{future.slug}/")
    assert response.status_code == 200
    comparison = response.context["comparison"]
    assert [c.key for c in comparison.added] == ["video"]
    assert [c.key for c in comparison.removed] == ["post-ident"]
    assert [(c.key, [f.field for f in c.changes]) for c in comparison.changed] == [
        ("verify", ["emotion"])
    ]
    assert [(p.title, [r.title for r in p.projects]) for p in comparison.resolved] == [
        ("Queue at the post office", ["Video identification"])
    ]
    assert [r.title for r in comparison.added[0].projects] == ["Video identification"]
    page = response.content.decode()
    assert '<svg class="compare-chart"' in page and "series-other" in page
    assert "The emotion curves as a table" in page
    assert f'href="/projects/{project.pk}/"' in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, status",
    [
        ("owner", 200),
        ("team_member", 200),
        ("viewer", 404),  # the future state is a draft of olivia's team
        ("other_owner", 404),
        ("leader", 200),
        ("admin_user", 200),
    ],
)
def test_both_maps_must_be_visible_to_compare_them(request, pair, role, status):
    journey, future, _ = pair
    client = signed_in(request.getfixturevalue(role))
    assert client.get(f"/maps/{journey.slug}/compare/{future.slug}/").status_code == status
    assert client.get(f"/maps/{future.slug}/compare/{journey.slug}/").status_code == status
    assert client.get(f"/maps/{journey.slug}/compare/?with={future.slug}").status_code == status


@pytest.mark.django_db
def test_without_a_map_named_the_page_compares_today_with_its_first_draft(pair, owner):
    journey, future, _ = pair
    client = signed_in(owner)
    response = client.get(f"/maps/{journey.slug}/compare/")
    assert response.status_code == 302
    assert response["Location"] == f"/maps/{journey.slug}/compare/{future.slug}/"
    response = client.get(f"/maps/{future.slug}/compare/")
    assert response["Location"] == f"/maps/{journey.slug}/compare/{future.slug}/"


@pytest.mark.django_db
def test_a_map_compared_with_itself_or_with_nothing_is_a_400_naming_with(owner, team_map):
    client = signed_in(owner)
    for url in (
        f"/maps/{team_map.slug}/compare/{team_map.slug}/",
        f"/maps/{team_map.slug}/compare/",
    ):
        response = client.get(url)
        assert response.status_code == 400
        assert response.content.decode().startswith("with:")


@pytest.mark.django_db
def test_the_compare_page_needs_the_same_queries_whatever_the_number_of_steps(pair, owner):
    journey, future, project = pair
    client = signed_in(owner)
    url = f"/maps/{journey.slug}/compare/{future.slug}/"
    client.get(url)  # warm the session and the vocabulary
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for n in range(5):
        step = StepFactory(map=future, key=f"more-{n}", name=f"More {n}")
        project.steps.add(step)
        PainPointFactory(map=journey, step=journey.steps.first())
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    # session, user, the two maps through the gate, four per side (steps, their
    # projects, pain points, theirs), the crumbs
    assert len(after) == len(before)
