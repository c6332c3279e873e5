"""Django admin: every model's changelist, add and change pages load, without N+1 queries."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.comments import comment_create
from governance.share_links import share_link_create, share_link_record_use
from maps.models import (
    DeliveryStatus,
    EventActivityMapping,
    ExchangeImport,
    JourneyMap,
    PainPoint,
    Step,
    Tag,
    TagGroup,
    TheydoImport,
)
from tests.builders import build_map_content, build_repository
from tests.factories import JourneyMapFactory
from tests.research_data import research_for

pytestmark = pytest.mark.django_db

# Every model of ours registered in the admin (auth's User/Group and DRF's tokens are theirs).
OUR_MODELS = sorted(
    (m for m in admin.site._registry if m._meta.app_label in {"maps", "governance"}),
    key=lambda m: m._meta.label,
)


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # research attachments are stored files


def with_research(maps: list[JourneyMap], *, copies: int = 1) -> list[JourneyMap]:
    """Tags, research sources, quotes, attachments, TheyDo and journeyhub/1 import
    records on the builder's maps."""
    for journey_map in maps:
        research_for(journey_map, copies=copies)
        TheydoImport.objects.create(map=journey_map, file_name="metrics.json", status="done")
        first_step = journey_map.steps.order_by("position", "pk").first()
        if first_step is not None:  # an event log's activity remembered as this step
            EventActivityMapping.objects.create(
                map=journey_map, activity=f"Started {journey_map.pk}", step=first_step
            )
        DeliveryStatus.objects.create(key=f"CX-{journey_map.pk}", status="In Progress")
        ExchangeImport.objects.create(
            under=journey_map, uploaded_by=journey_map.owner, file_name="maps.json", status="done"
        )
        if journey_map.status == JourneyMap.Status.PUBLISHED:  # a share link, opened once
            link, _ = share_link_create(journey_map=journey_map, by=journey_map.owner)
            share_link_record_use(link=link, ip="192.0.2.1", user_agent="pytest")
        # a thread and a reply mentioning the owner: a comment, its history, a mention
        owner = journey_map.owner
        thread = comment_create(journey_map=journey_map, author=owner, body="Still current?")
        comment_create(
            journey_map=journey_map, author=owner, body=f"@{owner.username} yes", parent=thread
        )
        for item in journey_map.lane_items.all():
            tagged_item(item)
    return maps


def tagged_item(item) -> None:
    group, _ = TagGroup.objects.get_or_create(name="Theme")
    item.tags.set([Tag.objects.get_or_create(group=group, name="Speed")[0]])


@pytest.fixture
def repository(owner, team, other_owner):
    return with_research(build_repository(owner=owner, team=team, other_owner=other_owner))


def test_every_model_is_registered():
    from django.apps import apps

    ours = {
        m
        for app in ("maps", "governance")
        for m in apps.get_app_config(app).get_models()
        if not m.__name__.startswith("Historical")
    }
    assert ours == set(OUR_MODELS)


def adds_in_the_admin(model, user) -> bool:
    """Whether the admin adds rows of ``model`` (import records are made by imports)."""
    request = RequestFactory().get("/admin/")
    request.user = user
    return admin.site._registry[model].has_add_permission(request)


@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda m: m._meta.label)
def test_changelist_add_and_change_pages_load(admin_client, admin_user, repository, model):
    assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    add = admin_client.get(admin_url(model, "add")).status_code
    assert add == (200 if adds_in_the_admin(model, admin_user) else 403)
    instance = model.objects.first()
    assert instance is not None, f"the builder makes no {model.__name__}"
    response = admin_client.get(admin_url(model, "change", instance.pk))
    assert response.status_code == 200


@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda m: m._meta.label)
def test_changelist_query_count_is_flat_with_ten_times_the_data(
    admin_client, owner, team, other_owner, model, django_assert_max_num_queries
):
    with_research(build_repository(owner=owner, team=team, other_owner=other_owner, copies=1))
    url = admin_url(model, "changelist")
    with CaptureQueriesContext(connection) as small:
        admin_client.get(url)
    with_research(build_repository(owner=owner, team=team, other_owner=other_owner, copies=9))
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert admin_client.get(url).status_code == 200


def test_the_map_change_page_query_count_does_not_grow_with_its_content(
    admin_client, owner, team, other_owner, django_assert_max_num_queries
):
    """Inline stage/step choices are loaded once, not once per inline row."""
    (small,) = build_repository(owner=owner, team=team, other_owner=other_owner)
    with CaptureQueriesContext(connection) as ctx:
        admin_client.get(admin_url(JourneyMap, "change", small.pk))
    big = JourneyMapFactory(owner=owner, team=team)
    build_map_content(big, steps=40, items_per_step=3)
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        response = admin_client.get(admin_url(JourneyMap, "change", big.pk))
    assert response.status_code == 200
    assert response.text.count('name="steps-') >= 40


def test_the_map_tree_is_draggable(admin_client, repository):
    page = admin_client.get(admin_url(JourneyMap, "changelist")).text
    assert "draggable" in page or "tree-node" in page


def test_map_history_shows_changes(admin_client, repository, admin_user):
    journey = repository[0]
    journey.summary = "Now with a summary"
    journey.save()
    page = admin_client.get(admin_url(JourneyMap, "history", journey.pk)).text
    assert "Changed" in page or "summary" in page.lower()


def test_guardian_object_permissions_screen_on_maps(admin_client, repository, viewer):
    journey = repository[0]
    url = admin_url(JourneyMap, "permissions", journey.pk)
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "Object permissions" in response.text
    manage = admin_client.post(url, {"user": "vic", "submit_manage_user": "submit"})
    assert manage.status_code == 302  # on to the screen of vic's permissions on the map


def test_non_staff_users_cannot_use_the_admin(client, owner):
    client.force_login(owner)
    response = client.get(admin_url(PainPoint, "changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_an_inline_offers_only_the_maps_own_steps(admin_client, repository):
    journey = repository[0]
    Step.objects.exclude(map=journey).filter(
        pk=Step.objects.exclude(map=journey).first().pk
    ).update(name="A step of another map")
    page = admin_client.get(admin_url(JourneyMap, "change", journey.pk)).text
    assert "A step of another map" not in page
    assert "Step 1" in page


def test_an_admin_edit_moves_the_map_to_a_new_version(admin_client, repository):
    """So an owner editing from the old version gets a conflict, not a silent overwrite."""
    pain = PainPoint.objects.filter(map=repository[0]).first()
    before = pain.map.version
    response = admin_client.post(
        admin_url(PainPoint, "change", pain.pk),
        {
            "map": pain.map_id,
            "step": pain.step_id or "",
            "kind": pain.kind,
            "title": "Edited in the admin",
            "description": "",
            "severity": 4,
            "frequency": 2,
            "evidence": "measured",
            "position": 0,
        },
    )
    assert response.status_code == 302, response.context["adminform"].errors
    pain.map.refresh_from_db()
    assert pain.map.version == before + 1
