"""Research as evidence in the browser and its rules: sources, quotes, links to the map's
own steps, pain points and lane items, and attached files (type and size checked,
stored under MEDIA_ROOT, downloaded only by people who may see the map)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from maps import research
from maps.models import Attachment, Quote, ResearchSource
from maps.services import VersionConflict
from tests.factories import JourneyMapFactory, LaneItemFactory, PainPointFactory, StepFactory
from tests.research_data import (
    ALLOWED_SAMPLES,
    PNG,
    REFUSED_SAMPLES,
    TEXT,
    attach,
    source_with_quotes,
    tagged,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def version(journey_map) -> int:
    journey_map.refresh_from_db()
    return journey_map.version


# --- the rules -------------------------------------------------------------------------


def test_an_editor_creates_a_source_and_the_map_moves_to_a_new_version(owner, team_map):
    start = version(team_map)
    source = research.source_save(
        source=ResearchSource(map=team_map, title="Support log, May", kind="feedback"),
        expected_version=start,
        by=owner,
    )
    assert version(team_map) == start + 1
    assert source.history.first().history_user == owner


def test_a_stale_version_saves_nothing(owner, team_map):
    stale = version(team_map)
    research.source_save(
        source=ResearchSource(map=team_map, title="First"), expected_version=stale, by=owner
    )
    with pytest.raises(VersionConflict):
        research.source_save(
            source=ResearchSource(map=team_map, title="Second"), expected_version=stale, by=owner
        )
    assert list(ResearchSource.objects.values_list("title", flat=True)) == ["First"]


@pytest.mark.parametrize("role", ["viewer", "other_owner", "leader"])
def test_people_who_do_not_edit_the_map_may_not_add_research(request, role, team_map):
    with pytest.raises(PermissionDenied):
        research.source_save(
            source=ResearchSource(map=team_map, title="Mine"),
            expected_version=version(team_map),
            by=request.getfixturevalue(role),
        )
    assert not ResearchSource.objects.exists()


def test_a_quote_is_linked_to_steps_pain_points_and_lane_items_of_its_map(owner, team_map):
    step, pain = StepFactory(map=team_map), PainPointFactory(map=team_map)
    item = LaneItemFactory(map=team_map, kind="insight")
    quote = source_with_quotes(team_map, quotes=1).quotes.get()
    research.evidence_link(
        item=quote,
        expected_version=version(team_map),
        by=owner,
        steps=[step],
        pain_points=[pain],
        lane_items=[item],
    )
    assert list(quote.steps.all()) == [step]
    assert list(quote.pain_points.all()) == [pain]
    assert list(quote.lane_items.all()) == [item]


def test_linking_to_another_maps_step_is_refused_and_changes_nothing(owner, team_map):
    own = StepFactory(map=team_map)
    elsewhere = StepFactory(map=JourneyMapFactory(owner=owner, slug="elsewhere"))
    quote = source_with_quotes(team_map, quotes=1).quotes.get()
    quote.steps.set([own])
    before = version(team_map)
    with pytest.raises(ValidationError) as refused:
        research.evidence_link(
            item=quote, expected_version=before, by=owner, steps=[own, elsewhere]
        )
    message = refused.value.message_dict["steps"][0]
    assert f"#{elsewhere.pk}" in message and "of its own map" in message
    assert list(quote.steps.all()) == [own]
    assert version(team_map) == before


def test_a_source_linked_to_another_maps_pain_point_is_refused(owner, team_map):
    other = PainPointFactory(map=JourneyMapFactory(owner=owner, slug="other"))
    with pytest.raises(ValidationError, match="pain points of its own map"):
        research.source_save(
            source=ResearchSource(map=team_map, title="Survey"),
            expected_version=version(team_map),
            by=owner,
            links={"pain_points": [other]},
        )
    assert not ResearchSource.objects.exists()


def test_a_source_does_not_move_to_another_map(owner, team_map):
    source = source_with_quotes(team_map, quotes=0)
    source.map = JourneyMapFactory(owner=owner, slug="other")
    with pytest.raises(ValidationError, match="stays on the map"):
        research.source_save(source=source, expected_version=version(team_map), by=owner)


# --- files -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ALLOWED_SAMPLES))
def test_every_allowed_type_is_stored_with_its_type_decided_by_us(owner, team_map, media, name):
    source = source_with_quotes(team_map, quotes=0)
    upload = SimpleUploadedFile(name, ALLOWED_SAMPLES[name], content_type="text/html")
    attachment = research.attachment_add(source=source, upload=upload, by=owner)
    assert attachment.name == name
    assert attachment.content_type != "text/html"  # never the client's claim
    assert attachment.size == len(ALLOWED_SAMPLES[name])
    stored = media / attachment.file.name
    assert stored.read_bytes() == ALLOWED_SAMPLES[name]
    assert name not in attachment.file.name  # a random name on disk


@pytest.mark.parametrize("name", sorted(REFUSED_SAMPLES))
def test_types_a_browser_could_run_or_that_lie_are_refused_and_nothing_is_stored(
    owner, team_map, media, name
):
    source = source_with_quotes(team_map, quotes=0)
    upload = SimpleUploadedFile(name, REFUSED_SAMPLES[name], content_type="image/png")
    with pytest.raises(ValidationError) as refused:
        research.attachment_add(source=source, upload=upload, by=owner)
    assert name in refused.value.message_dict["file"][0]
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_a_file_over_the_size_limit_is_refused_with_the_limit_named(
    owner, team_map, media, settings
):
    settings.JOURNEYHUB_ATTACHMENT_MAX_BYTES = 2 * 1024 * 1024
    source = source_with_quotes(team_map, quotes=0)
    upload = SimpleUploadedFile("big.txt", b"a" * (2 * 1024 * 1024 + 1))
    with pytest.raises(ValidationError, match="larger than the limit of 2 MB"):
        research.attachment_add(source=source, upload=upload, by=owner)
    assert stored_files(media) == []
    research.attachment_add(
        source=source, upload=SimpleUploadedFile("fits.txt", b"a" * 2 * 1024 * 1024), by=owner
    )


def test_an_empty_file_is_refused(owner, team_map):
    source = source_with_quotes(team_map, quotes=0)
    with pytest.raises(ValidationError, match="is empty"):
        research.attachment_add(source=source, upload=SimpleUploadedFile("e.txt", b""), by=owner)


def test_deleting_a_source_removes_its_files_once_committed(
    owner, team_map, media, django_capture_on_commit_callbacks
):
    source = source_with_quotes(team_map, quotes=2)
    attach(source)
    attach(source, "second.txt")
    assert len(stored_files(media)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        research.source_delete(source=source, expected_version=version(team_map), by=owner)
    assert stored_files(media) == []
    assert not Quote.objects.exists()


def test_a_rolled_back_deletion_keeps_the_file(owner, team_map, media):
    attachment = attach(source_with_quotes(team_map, quotes=0))
    with transaction.atomic():
        research.attachment_delete(attachment=attachment, by=owner)
        transaction.set_rollback(True)
    assert len(stored_files(media)) == 1


def test_deleting_the_map_removes_its_research_files(
    owner, media, django_capture_on_commit_callbacks
):
    journey_map = JourneyMapFactory(owner=owner, slug="short-lived")
    attach(source_with_quotes(journey_map, quotes=0))
    with django_capture_on_commit_callbacks(execute=True):
        journey_map.delete()
    assert stored_files(media) == []


# --- pages -----------------------------------------------------------------------------


def research_url(journey_map, name: str = "research", *args) -> str:
    return reverse(f"maps:{name}", args=[journey_map.slug, *args])


def test_the_research_page_lists_sources_with_kind_date_quotes_and_files(client, viewer, team_map):
    source = source_with_quotes(team_map, title="Usability test, June", quotes=3, kind="usability")
    attach(source, "recording-notes.txt")
    client.force_login(viewer)
    page = client.get(research_url(team_map)).text
    assert "Usability test, June" in page and "Usability test" in page
    assert "recording-notes.txt" in page
    assert ">3<" in page
    assert "Add a research source" not in page  # vic reads, does not edit


def test_an_editor_adds_a_source_linked_to_a_step_through_the_form(client, team_member, team_map):
    step = StepFactory(map=team_map, name="Verify identity")
    client.force_login(team_member)
    response = client.post(
        research_url(team_map, "research-new"),
        {
            "kind": "interview",
            "title": "Five interviews",
            "version": team_map.version,
            "steps": [step.pk],
        },
    )
    source = ResearchSource.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"/research/{source.pk}/")
    assert list(source.steps.all()) == [step]


def test_a_form_posting_another_maps_step_is_refused_with_the_field_named(client, owner, team_map):
    elsewhere = StepFactory(map=JourneyMapFactory(owner=owner, slug="elsewhere"))
    client.force_login(owner)
    response = client.post(
        research_url(team_map, "research-new"),
        {"kind": "interview", "title": "X", "version": team_map.version, "steps": [elsewhere.pk]},
    )
    assert response.status_code == 200
    assert "steps" in response.context["form"].errors
    assert not ResearchSource.objects.exists()


def test_an_editor_adds_a_quote_with_tags_and_links_and_the_source_page_shows_them(
    client, owner, team_map
):
    pain = PainPointFactory(map=team_map, title="Glare on the code")
    source = source_with_quotes(team_map, quotes=0)
    client.force_login(owner)
    response = client.post(
        research_url(team_map, "research-quote-new", source.pk),
        {
            "text": "I could not read the code in the sun.",
            "persona_hint": "Commuter",
            "version": team_map.version,
            "pain_points": [pain.pk],
        },
    )
    assert response.status_code == 302
    quote = Quote.objects.get()
    tagged(quote, "Mobile")
    page = client.get(research_url(team_map, "research-source", source.pk)).text
    assert "I could not read the code in the sun." in page
    assert "Persona hint: Commuter" in page
    assert "Channel: Mobile" in page
    assert "Glare on the code" in page


def test_a_stale_quote_form_says_so_and_saves_nothing(client, owner, team_map):
    source = source_with_quotes(team_map, quotes=0)
    stale = version(team_map)
    research.source_save(source=source, expected_version=stale, by=owner)  # someone else
    client.force_login(owner)
    response = client.post(
        research_url(team_map, "research-quote-new", source.pk), {"text": "x", "version": stale}
    )
    assert response.status_code == 200
    assert "changed by someone else" in response.text
    assert not Quote.objects.exists()


def test_an_upload_through_the_source_page_is_stored_and_listed(client, owner, team_map, media):
    source = source_with_quotes(team_map, quotes=0)
    client.force_login(owner)
    response = client.post(
        research_url(team_map, "research-source", source.pk),
        {"file": SimpleUploadedFile("screen.png", PNG, "image/png")},
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.uploaded_by == owner and attachment.content_type == "image/png"
    page = client.get(research_url(team_map, "research-source", source.pk)).text
    assert "screen.png" in page


def test_a_refused_upload_through_the_page_shows_why_and_stores_nothing(
    client, owner, team_map, media
):
    source = source_with_quotes(team_map, quotes=0)
    client.force_login(owner)
    response = client.post(
        research_url(team_map, "research-source", source.pk),
        {"file": SimpleUploadedFile("logo.svg", b"<svg/>", "image/svg+xml")},
    )
    assert response.status_code == 400
    assert ".svg files are not accepted" in response.text
    assert not Attachment.objects.exists() and stored_files(media) == []


# --- downloads ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", ["viewer", "team_member", "owner", "other_owner", "leader", "admin_user"]
)
def test_everyone_who_may_see_the_map_downloads_its_files_as_attachments(
    client, request, role, team_map
):
    attachment = attach(source_with_quotes(team_map, quotes=0), "notes.txt", TEXT)
    client.force_login(request.getfixturevalue(role))
    response = client.get(research_url(team_map, "research-file", attachment.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == TEXT
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="notes.txt"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("viewer", 404),
        ("team_member", 404),
        ("owner", 404),
        ("other_owner", 200),
        ("leader", 200),
        ("admin_user", 200),
    ],
)
def test_a_drafts_files_are_downloaded_only_by_those_who_may_see_the_draft(
    client, request, role, status, draft_map
):
    attachment = attach(source_with_quotes(draft_map, quotes=0))
    client.force_login(request.getfixturevalue(role))
    assert client.get(research_url(draft_map, "research-file", attachment.pk)).status_code == status


def test_a_guessed_id_of_another_maps_file_is_not_found_through_a_visible_map(
    client, other_owner, team_map, draft_map
):
    secret = attach(source_with_quotes(draft_map, quotes=0))
    client.force_login(other_owner)  # omar may see both maps, and still
    assert client.get(research_url(team_map, "research-file", secret.pk)).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in_for_a_file(client, team_map):
    attachment = attach(source_with_quotes(team_map, quotes=0))
    response = client.get(research_url(team_map, "research-file", attachment.pk))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_no_other_url_serves_uploaded_files(client, admin_user, team_map):
    attachment = attach(source_with_quotes(team_map, quotes=0))
    client.force_login(admin_user)
    for url in (f"/media/{attachment.file.name}", f"/{attachment.file.name}"):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/static/{attachment.file.name}").status_code == 404


def test_a_file_missing_from_the_store_is_a_404_not_a_500(client, owner, team_map, media):
    attachment = attach(source_with_quotes(team_map, quotes=0))
    (media / attachment.file.name).unlink()
    client.force_login(owner)
    assert client.get(research_url(team_map, "research-file", attachment.pk)).status_code == 404


# --- query budgets -----------------------------------------------------------------------


def test_the_research_and_source_pages_cost_the_same_queries_with_ten_times_the_data(
    client, owner, team_map, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.builders import build_map_content
    from tests.research_data import research_for

    build_map_content(team_map, steps=4, items_per_step=1)
    research_for(team_map, copies=1)
    source = ResearchSource.objects.first()
    client.force_login(owner)
    counts = {}
    for name, args in (("research", ()), ("research-source", (source.pk,))):
        with CaptureQueriesContext(connection) as small:
            assert client.get(research_url(team_map, name, *args)).status_code == 200
        counts[name] = len(small.captured_queries)
    research_for(team_map, copies=10)
    for quote in source.quotes.all():
        tagged(quote, "Support", "Email", "Phone", "Chat")
    for _ in range(9):
        attach(source)
    for name, args in (("research", ()), ("research-source", (source.pk,))):
        with django_assert_max_num_queries(counts[name]):
            assert client.get(research_url(team_map, name, *args)).status_code == 200
    # session, user, groups, the map, crumbs, then: sources with quote counts and files
    assert counts["research"] <= 8
    # … the source, its quotes with persona, tags, three link kinds, its own links, files
    assert counts["research-source"] <= 16


def test_an_admin_upload_is_checked_like_one_on_the_research_page(
    admin_client, admin_user, team_map, media
):
    source = source_with_quotes(team_map, quotes=0)
    url = reverse("admin:maps_attachment_add")
    refused = admin_client.post(
        url, {"source": source.pk, "file": SimpleUploadedFile("x.svg", b"<svg/>", "image/svg+xml")}
    )
    assert refused.status_code == 200 and ".svg files are not accepted" in refused.text
    assert not Attachment.objects.exists() and stored_files(media) == []
    accepted = admin_client.post(
        url, {"source": source.pk, "file": SimpleUploadedFile("shot.png", PNG, "text/html")}
    )
    assert accepted.status_code == 302
    attachment = Attachment.objects.get()
    assert (attachment.name, attachment.content_type, attachment.size) == (
        "shot.png",
        "image/png",
        len(PNG),
    )
    assert attachment.uploaded_by == admin_user and "shot" not in attachment.file.name


def test_restoring_a_snapshot_keeps_research_added_since_with_its_files(owner, team_map, media):
    """Research is not snapshot content (see the report / maps/content.py): a restore
    never deletes a source, its quotes or the files uploaded with it."""
    from governance.map_snapshots import snapshot_restore, snapshot_take

    snapshot = snapshot_take(journey_map=team_map, label="before research", by=owner)
    source = source_with_quotes(team_map, quotes=2)
    attach(source)
    snapshot_restore(snapshot=snapshot, by=owner, expected_version=version(team_map))
    assert ResearchSource.objects.filter(pk=source.pk).exists()
    assert Quote.objects.filter(source=source).count() == 2
    assert len(stored_files(media)) == 1
