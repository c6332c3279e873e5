"""The read-only pages: sign-in, the repository tree and a map's grid."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from maps.models import JourneyMap, VocabularyTerm
from tests.builders import build_map_content, build_repository
from tests.factories import JourneyMapFactory, PersonaFactory, StepFactory

pytestmark = pytest.mark.django_db


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


class TestSignIn:
    @pytest.mark.parametrize("url", ["/", "/maps/", "/maps/anything/"])
    def test_anonymous_users_are_sent_to_sign_in(self, client, url):
        response = client.get(url, follow=True)
        assert response.redirect_chain[-1][0].startswith("/accounts/login/")
        assert b"Sign in to JourneyHub" in response.content

    def test_signing_in_lands_on_the_home_page(self, client, owner, team_map):
        response = client.post(
            "/accounts/login/", {"username": "olivia", "password": "journeyhub"}, follow=True
        )
        assert response.redirect_chain[-1][0] == "/"
        assert "My journeys" in response.text

    def test_a_wrong_password_says_so_and_stays(self, client, owner):
        response = client.post("/accounts/login/", {"username": "olivia", "password": "nope"})
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.text


class TestRepository:
    def test_it_shows_the_tree_with_owner_level_and_status(self, client, owner, team, other_owner):
        build_repository(owner=owner, team=team, other_owner=other_owner)
        client.force_login(owner)
        page = client.get("/maps/").text
        assert "Customer lifecycle 0" in page
        assert "Onboard 0" in page
        assert "Lifecycle" in page and "Journey" in page  # zoom level names
        assert "Olivia Owens" in page
        assert "Published" in page
        # the sub-map is nested inside its parent's list
        assert page.index("Customer lifecycle 0") < page.index("Onboard 0")

    def test_drafts_are_hidden_from_viewers(self, client, viewer, draft_map, team_map):
        client.force_login(viewer)
        page = client.get("/maps/").text
        assert "Open an account" in page
        assert "Close my account" not in page

    def test_drafts_show_to_their_owner_and_leadership(
        self, client, other_owner, leader, draft_map
    ):
        for user in (other_owner, leader):
            client.force_login(user)
            assert "Close my account" in client.get("/maps/").text

    def test_team_members_see_their_team_drafts(self, client, team_member, owner, team):
        JourneyMapFactory(title="Team draft", owner=owner, team=team, status="draft")
        client.force_login(team_member)
        assert "Team draft" in client.get("/maps/").text

    def test_a_review_due_map_is_flagged(self, client, owner):
        stale = JourneyMapFactory(title="Stale map", owner=owner, review_every_days=1)
        stale.created_at = timezone.now() - dt.timedelta(days=2)
        stale.save()
        client.force_login(owner)
        assert "Review due" in client.get("/maps/").text

    def test_query_count_stays_flat_with_ten_times_the_maps(
        self, client, owner, team, other_owner, django_assert_max_num_queries
    ):
        build_repository(owner=owner, team=team, other_owner=other_owner, copies=1)
        client.force_login(owner)
        small = count_queries(client, "/maps/")
        build_repository(owner=owner, team=team, other_owner=other_owner, copies=9)
        # session, user, the user's groups, leadership check, the user's grants (read
        # once, visible_maps_resolved), rows per level, the annotated tree (with each
        # node's visible children counted), the rows' persona names (a map may have
        # several), the owner/team/persona filter choices, health (KPIs, ratings,
        # weights), vocabulary
        with django_assert_max_num_queries(small):
            client.get("/maps/")
        assert small <= 17


class TestMapPage:
    @pytest.fixture
    def lifecycle(self, owner, team, other_owner):
        return build_repository(owner=owner, team=team, other_owner=other_owner)[0]

    def test_it_lays_out_stages_steps_and_lanes(self, client, owner, lifecycle):
        client.force_login(owner)
        page = client.get(lifecycle.get_absolute_url()).text
        for text in (
            "Stage 1",
            "Stage 2",
            "Step 1",
            "Step 4",
            "Customer pain point",
            "Employee pain point",
            "Insight",
            "Opportunity",
            "KPI",
            "CX project",
        ):
            assert text in page
        assert page.index("Stage 1") < page.index("Stage 2")
        assert "Loop back" in page  # the loop from step 3 back to step 1
        assert "↻ Recurring" in page
        assert "Moment of truth" in page

    def test_a_step_links_into_its_sub_map(self, client, owner, lifecycle):
        client.force_login(owner)
        page = client.get(lifecycle.get_absolute_url()).text
        assert 'href="/maps/' + JourneyMap.objects.get(title="Onboard 0").slug in page
        assert "Zoom in: Onboard 0" in page

    def test_a_sub_map_shows_breadcrumbs_and_its_parent_step(self, client, owner, lifecycle):
        client.force_login(owner)
        journey = JourneyMap.objects.get(title="Onboard 0")
        page = client.get(journey.get_absolute_url()).text
        assert f'href="{lifecycle.get_absolute_url()}"' in page
        assert "Zooms into" in page and "Step 2" in page

    def test_vocabulary_renames_concepts(self, client, owner, lifecycle):
        VocabularyTerm.objects.create(key="customer_pain_point", label="Customer friction")
        VocabularyTerm.objects.create(key="level_1", label="Experience")
        client.force_login(owner)
        page = client.get(lifecycle.get_absolute_url()).text
        assert "Customer friction" in page
        assert "Experience" in page

    def test_someone_elses_draft_is_not_found(self, client, viewer, draft_map):
        client.force_login(viewer)
        assert client.get(draft_map.get_absolute_url()).status_code == 404

    def test_leadership_may_read_drafts(self, client, leader, draft_map):
        client.force_login(leader)
        assert client.get(draft_map.get_absolute_url()).status_code == 200

    def test_a_grant_on_a_parent_shows_the_draft_below(self, client, other_owner, lifecycle):
        # omar holds change_journeymap on "Onboard 0"; his own draft task map sits beneath it
        client.force_login(other_owner)
        page = client.get("/maps/").text
        assert "Verify identity 0" in page

    def test_an_empty_map_says_so(self, client, owner):
        empty = JourneyMapFactory(owner=owner)
        client.force_login(owner)
        assert "has no step" in client.get(empty.get_absolute_url()).text

    def test_query_count_is_fixed_whatever_the_number_of_steps_and_items(
        self, client, owner, django_assert_max_num_queries
    ):
        small = JourneyMapFactory(owner=owner, slug="small")
        build_map_content(small, steps=4, items_per_step=1)
        # both with sub-maps: a map with none does not ask for them (one query less)
        JourneyMapFactory(owner=owner, parent=small, parent_step=small.steps.first())
        large = JourneyMapFactory(
            owner=owner, slug="large", personas=[PersonaFactory(), PersonaFactory()]
        )
        build_map_content(large, steps=40, items_per_step=10)
        for i in range(3):
            JourneyMapFactory(owner=owner, parent=large, parent_step=large.steps.all()[i])
        client.force_login(owner)
        small_count = count_queries(client, reverse("maps:detail", args=["small"]))
        # session, user, map, its personas, groups, ancestors, stages, steps, links, pain points,
        # lane items, its link rows (projects', tags, evidence: one UNION), KPIs with latest
        # values, projects, sub-maps,
        # the event-log funnel, health (KPIs, ratings, weights), vocabulary, the
        # inventory entries migrated into it ("Migrated from"), the discussion panel's
        # open threads, the comment counts on the cards, its future states and scenarios
        with django_assert_max_num_queries(small_count):
            response = client.get(reverse("maps:detail", args=["large"]))
        assert response.text.count('class="step-head') == 40
        assert small_count <= 24


def test_steps_are_grouped_under_their_stage(client, owner):
    journey = JourneyMapFactory(owner=owner)
    build_map_content(journey, steps=4)
    StepFactory(map=journey, name="Loose step", position=99)
    client.force_login(owner)
    page = client.get(journey.get_absolute_url()).text
    stage = journey.stages.get(name="Stage 1")
    assert f'colspan="2" class="stage-head" data-stage="{stage.pk}">Stage 1' in page
    assert 'class="stage-head" data-stage="">Unstaged' in page  # a drop there unstages


class TestRepositorySearchAndFilters:
    @pytest.fixture
    def maps(self, owner, other_owner, team):
        lifecycle = JourneyMapFactory(title="Customer lifecycle", owner=other_owner)
        onboard = JourneyMapFactory(
            title="Open an account", owner=owner, team=team, parent=lifecycle
        )
        JourneyMapFactory(title="Verify identity", owner=owner, parent=onboard, summary="Passport")
        JourneyMapFactory(title="Pay a bill", owner=other_owner, parent=lifecycle)
        return lifecycle

    def test_search_lists_matches_with_their_path(self, client, owner, maps):
        client.force_login(owner)
        page = client.get("/maps/?q=passport").text
        assert "1 map found" in page
        assert "Verify identity" in page and "Pay a bill" not in page
        assert 'class="result-path"><a href="/maps/' in page  # Customer lifecycle › Open an account
        assert (
            page.index("Customer lifecycle")
            < page.index("Open an account")
            < page.index("Verify identity")
        )

    def test_my_maps_at_a_click(self, client, owner, maps):
        client.force_login(owner)
        page = client.get("/maps/?mine=on").text
        assert "2 maps found" in page and "Pay a bill" not in page

    def test_filters_by_owner_status_and_due(self, client, owner, other_owner, maps):
        client.force_login(owner)
        assert "Pay a bill" in client.get(f"/maps/?owner={other_owner.pk}").text
        assert "0 maps found" in client.get("/maps/?status=archived").text
        stale = JourneyMap.objects.get(title="Pay a bill")
        stale.last_reviewed_at = timezone.now() - dt.timedelta(days=400)
        stale.save()
        page = client.get("/maps/?due=on").text
        assert "1 map found" in page and "Pay a bill" in page

    def test_filters_by_several_personas_at_once(self, client, owner, maps):
        young, retiree, parent = (
            PersonaFactory(name=n) for n in ("Young professional", "Retiree", "Busy parent")
        )
        # drawn for both chosen personas: found once
        JourneyMap.objects.get(title="Verify identity").personas.add(young, retiree)
        JourneyMap.objects.get(title="Pay a bill").personas.add(retiree)
        JourneyMap.objects.get(title="Open an account").personas.add(parent)
        client.force_login(owner)

        page = client.get(f"/maps/?persona={young.pk}&persona={retiree.pk}").text

        assert "2 maps found" in page  # any of them
        assert page.count(">Verify identity</a>") == 1 and "Pay a bill" in page
        assert "Retiree, Young professional" in page  # the row names both
        assert f'<option value="{young.pk}" selected>' in page

    def test_a_bad_filter_value_is_ignored_with_a_message_not_a_500(self, client, owner, maps):
        client.force_login(owner)
        response = client.get("/maps/?owner=999999&status=nonsense")
        assert response.status_code == 200
        assert "Select a valid choice" in response.text

    def test_deep_levels_load_on_demand(self, client, owner, maps, monkeypatch):
        monkeypatch.setattr("maps.selectors.TREE_ROW_BUDGET", 4)  # the first three levels
        deep = JourneyMap.objects.get(title="Verify identity")
        JourneyMapFactory(title="Scan the passport", owner=owner, parent=deep)
        client.force_login(owner)
        page = client.get("/maps/").text
        assert "Scan the passport" not in page  # level 4 is not loaded eagerly
        assert "Show 1 sub-map" in page
        part = client.get(f"/maps/?under={deep.slug}", HTTP_HX_REQUEST="true").text
        assert "Scan the passport" in part and "<html" not in part

    def test_hidden_drafts_are_not_counted_or_loaded(
        self, client, viewer, owner, maps, monkeypatch
    ):
        monkeypatch.setattr("maps.selectors.TREE_ROW_BUDGET", 4)
        deep = JourneyMap.objects.get(title="Verify identity")
        JourneyMapFactory(title="Secret draft", owner=owner, parent=deep, status="draft")
        client.force_login(viewer)
        assert "Show 1 sub-map" not in client.get("/maps/").text
        assert "Secret draft" not in client.get(f"/maps/?under={deep.slug}").text

    def test_results_query_count_is_flat(
        self, client, owner, team, other_owner, django_assert_max_num_queries
    ):
        build_repository(owner=owner, team=team, other_owner=other_owner, copies=1)
        client.force_login(owner)
        small = count_queries(client, "/maps/?q=0")
        build_repository(owner=owner, team=team, other_owner=other_owner, copies=9)
        with django_assert_max_num_queries(small):
            client.get("/maps/?q=0")
