"""Pointing each change of a future state to the project that delivers it, from the
compare page (#17): what gets linked, who may link what, refusals that name the field
and change nothing, and the page's query budget."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from maps.models import CXProject
from tests import test_compare
from tests.factories import CXProjectFactory, JourneyMapFactory

pytestmark = pytest.mark.django_db
pair = test_compare.pair  # the fixture: a journey, its future state and a project


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def link_url(journey, future) -> str:
    return f"/maps/{journey.slug}/compare/{future.slug}/link/"


def test_an_owner_points_a_changed_step_to_a_project_and_the_page_then_shows_it(pair, owner):
    journey, future, _ = pair
    checks = CXProjectFactory(owner=owner, title="Faster checks")
    client = signed_in(owner)
    response = client.post(link_url(journey, future), {"item": "step:verify", "project": checks.pk})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/compare/{future.slug}/#link-project")
    checks.refresh_from_db()
    assert [s.pk for s in checks.steps.all()] == [future.steps.get(key="verify").pk]
    assert list(checks.maps.all()) == [future]  # its map follows the step
    page = client.get(response["Location"]).content.decode()
    assert "“Faster checks” now delivers “Verify”." in page
    changed = client.get(f"/maps/{journey.slug}/compare/{future.slug}/").context["comparison"]
    assert [p.title for p in changed.changed[0].projects] == ["Faster checks"]


def test_a_removed_step_is_linked_as_it_is_today_and_a_resolved_pain_point_from_today(pair, owner):
    journey, future, project = pair
    client = signed_in(owner)
    client.post(link_url(journey, future), {"item": "step:post-ident", "project": project.pk})
    assert set(project.steps.values_list("map__slug", "key")) == {
        (future.slug, "video"),
        (journey.slug, "post-ident"),
    }
    other = CXProjectFactory(owner=owner, title="Branch appointments")
    pain = journey.pain_points.get()
    client.post(
        link_url(journey, future), {"item": f"pain:{pain.exchange_key}", "project": other.pk}
    )
    assert list(other.pain_points.all()) == [pain]
    assert list(other.maps.all()) == [journey]


def test_linking_keeps_what_the_project_addressed_and_records_it_in_the_history(pair, owner):
    journey, future, project = pair
    before = project.history.count()
    signed_in(owner).post(link_url(journey, future), {"item": "step:verify", "project": project.pk})
    assert sorted(project.steps.values_list("key", flat=True)) == ["verify", "video"]
    assert list(project.pain_points.values_list("title", flat=True)) == ["Queue at the post office"]
    assert project.history.count() > before


def test_a_team_member_links_a_team_project(pair, team_member, team):
    journey, future, _ = pair
    shared = CXProjectFactory(title="Team project", team=team)
    response = signed_in(team_member).post(
        link_url(journey, future), {"item": "step:video", "project": shared.pk}
    )
    assert response.status_code == 302
    assert list(shared.steps.values_list("key", flat=True)) == ["video"]


@pytest.mark.parametrize("role", ["viewer", "other_owner"])
def test_who_cannot_see_both_maps_cannot_link_anything(request, pair, role):
    journey, future, project = pair
    user = request.getfixturevalue(role)
    own = CXProjectFactory(owner=user, title="Their project")
    for target in (own, project):
        response = signed_in(user).post(
            link_url(journey, future), {"item": "step:verify", "project": target.pk}
        )
        assert response.status_code == 404
    assert not own.steps.exists() and project.steps.count() == 1


def test_a_project_the_user_may_not_change_is_refused_naming_the_field_and_nothing_changes(
    pair, team_member, other_owner
):
    journey, future, _ = pair
    foreign = CXProjectFactory(owner=other_owner, title="Omar's project")
    response = signed_in(team_member).post(
        link_url(journey, future), {"item": "step:verify", "project": foreign.pk}
    )
    assert response.status_code == 400
    assert "project: choose a project you may change." in response.content.decode()
    assert not foreign.steps.exists()


@pytest.mark.parametrize(
    "form, message",
    [
        ({"item": "step:nope", "project": "{pk}"}, "item: choose a step or pain point"),
        ({"item": "pain:", "project": "{pk}"}, "item: choose a step or pain point"),
        ({"item": "map:1", "project": "{pk}"}, "item: choose a step or pain point"),
        ({"item": "step:verify", "project": "x"}, "project: choose a project."),
        ({"item": "step:verify", "project": "²"}, "project: choose a project."),
        ({"item": "step:verify", "project": "9" * 30}, "project: choose a project."),
        ({"item": "step:verify", "project": "999999"}, "project: choose a project you may"),
        ({"item": "step:verify"}, "project: choose a project."),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_keeps_the_choice(pair, owner, form, message):
    journey, future, project = pair
    data = {k: v.format(pk=project.pk) for k, v in form.items()}
    response = signed_in(owner).post(link_url(journey, future), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'aria-invalid="true"' in page
    assert list(project.steps.values_list("key", flat=True)) == ["video"]


def test_a_step_of_a_third_map_cannot_be_linked_through_the_comparison(pair, owner):
    journey, future, project = pair
    elsewhere = JourneyMapFactory(owner=owner, title="Elsewhere")
    elsewhere.steps.create(key="verify-elsewhere", name="Elsewhere", position=0)
    response = signed_in(owner).post(
        link_url(journey, future), {"item": "step:verify-elsewhere", "project": project.pk}
    )
    assert response.status_code == 400
    assert list(project.steps.values_list("key", flat=True)) == ["video"]


def test_the_page_offers_projects_near_these_journeys_and_the_users_own_open_ones(
    pair, leader, owner
):
    journey, future, _ = pair
    CXProjectFactory(owner=owner, title="Far away")  # a leader may change it, but not near
    CXProjectFactory(owner=leader, title="Leader's open one")
    CXProjectFactory(owner=leader, title="Leader's done one", status=CXProject.Status.DONE)
    response = signed_in(leader).get(f"/maps/{journey.slug}/compare/{future.slug}/")
    offered = [p.title for p in response.context["link"]["projects"]]
    assert offered == ["Leader's open one", "Video identification"]
    page = response.content.decode()
    assert f'action="{link_url(journey, future)}"' in page
    assert 'href="?link=step:verify#link-project"' in page


def test_a_link_from_a_row_preselects_that_change_in_the_form(pair, owner):
    journey, future, _ = pair
    page = (
        signed_in(owner)
        .get(f"/maps/{journey.slug}/compare/{future.slug}/?link=step:post-ident")
        .content.decode()
    )
    assert '<option value="step:post-ident" selected>' in page


def test_the_compare_page_needs_the_same_queries_with_ten_times_the_projects(pair, owner):
    journey, future, _ = pair
    client = signed_in(owner)
    url = f"/maps/{journey.slug}/compare/{future.slug}/"
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for n in range(10):
        CXProjectFactory(owner=owner, title=f"Mine {n}", maps=[journey])
    with CaptureQueriesContext(connection) as after:
        assert client.get(url).status_code == 200
    assert len(after) == len(before)
