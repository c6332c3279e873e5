"""Labelled snapshots of a map: take, compare with today, restore (safely)."""

from __future__ import annotations

import pytest

from governance.map_snapshots import compare, snapshot_restore, snapshot_take
from governance.models import MapSnapshot
from maps.models import JourneyMap, PainPoint, Step
from maps.services import VersionConflict
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    PainPointFactory,
    StageFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def content(owner, team_map):
    stage = StageFactory(map=team_map, name="Apply")
    step = StepFactory(map=team_map, stage=stage, name="Fill in the form", key="form")
    pain = PainPointFactory(map=team_map, step=step, title="Form too long", severity=3)
    project = CXProjectFactory(owner=owner, maps=[team_map], steps=[step], pain_points=[pain])
    child = JourneyMapFactory(owner=owner, parent=team_map, parent_step=step, title="Form")
    return {"stage": stage, "step": step, "pain": pain, "project": project, "child": child}


def test_compare_lists_what_changed_since(owner, team_map, content):
    snapshot = snapshot_take(journey_map=team_map, label="after Q3 research", by=owner)
    content["pain"].severity = 5
    content["pain"].save()
    PainPointFactory(map=team_map, title="Fees unclear")
    team_map.summary = "Rewritten"
    team_map.save()
    map_changes, kinds = compare(snapshot, team_map)
    assert map_changes == [("summary", "", "Rewritten")]
    pains = next(k for k in kinds if k.key == "pain_points")
    assert (pains.then_count, pains.now_count) == (1, 2)
    statuses = {(i.label, i.status) for i in pains.items}
    assert statuses == {("Form too long", "changed"), ("Fees unclear", "added since")}
    changed = next(i for i in pains.items if i.status == "changed")
    assert changed.fields == [("severity", 3, 5)]


def test_restore_puts_back_deleted_and_edited_content_and_keeps_today(owner, team_map, content):
    snapshot = snapshot_take(journey_map=team_map, label="before the workshop", by=owner)
    step_id = content["step"].pk
    content["step"].delete()  # takes the pain point's pin, the project link and the sub-map link
    PainPoint.objects.filter(pk=content["pain"].pk).update(title="Renamed")
    PainPointFactory(map=team_map, title="Added after")
    team_map.refresh_from_db()
    safety, journey = snapshot_restore(
        snapshot=snapshot, by=owner, expected_version=team_map.version
    )
    step = Step.objects.get(pk=step_id)
    assert (step.name, step.stage_id) == ("Fill in the form", content["stage"].pk)
    pain = PainPoint.objects.get(pk=content["pain"].pk)
    assert (pain.title, pain.step_id) == ("Form too long", step.pk)
    assert not PainPoint.objects.filter(title="Added after").exists()
    assert list(content["project"].steps.all()) == [step]
    content["child"].refresh_from_db()
    assert content["child"].parent_step == step
    assert journey.version == team_map.version + 1
    # nothing is lost: the state before restoring is a snapshot of its own
    assert safety.label == "Before restoring “before the workshop”"
    assert {row["title"] for row in safety.data["pain_points"]} == {"Renamed", "Added after"}


def test_a_stale_restore_changes_nothing(owner, team_map, content):
    snapshot = snapshot_take(journey_map=team_map, label="v1", by=owner)
    PainPointFactory(map=team_map, title="Added after")
    with pytest.raises(VersionConflict):
        snapshot_restore(snapshot=snapshot, by=owner, expected_version=team_map.version - 1 or 99)
    assert PainPoint.objects.filter(title="Added after").exists()
    assert MapSnapshot.objects.count() == 1


def test_a_label_is_required(owner, team_map):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        snapshot_take(journey_map=team_map, label="  ", by=owner)
    assert "label" in exc.value.message_dict


class TestPages:
    def test_an_editor_saves_a_snapshot_and_compares_it(
        self, client, team_member, team_map, content
    ):
        client.force_login(team_member)
        response = client.post(
            f"/maps/{team_map.slug}/snapshots/", {"label": "after Q3"}, follow=True
        )
        assert "Saved the snapshot “after Q3”." in response.text
        snapshot = MapSnapshot.objects.get()
        page = client.get(f"/maps/{team_map.slug}/snapshots/{snapshot.pk}/").text
        assert "“after Q3” compared with today" in page and "Unchanged." in page
        assert "Restore this snapshot" not in page  # restoring is the owner's call

    def test_an_empty_label_is_named(self, client, owner, team_map):
        client.force_login(owner)
        page = client.post(f"/maps/{team_map.slug}/snapshots/", {"label": ""}).text
        assert "Give the snapshot a label" in page

    def test_the_owner_restores(self, client, owner, team_map, content):
        snapshot = snapshot_take(journey_map=team_map, label="v1", by=owner)
        PainPointFactory(map=team_map, title="Added after")
        team_map.refresh_from_db()
        client.force_login(owner)
        response = client.post(
            f"/maps/{team_map.slug}/snapshots/{snapshot.pk}/restore/",
            {"map_version": team_map.version},
            follow=True,
        )
        assert "Restored “v1”." in response.text
        assert not PainPoint.objects.filter(title="Added after").exists()

    def test_a_restore_from_a_stale_page_is_refused(self, client, owner, team_map, content):
        snapshot = snapshot_take(journey_map=team_map, label="v1", by=owner)
        client.force_login(owner)
        response = client.post(
            f"/maps/{team_map.slug}/snapshots/{snapshot.pk}/restore/",
            {"map_version": 1},
            follow=True,
        )
        JourneyMap.objects.filter(pk=team_map.pk).update(version=7)
        response = client.post(
            f"/maps/{team_map.slug}/snapshots/{snapshot.pk}/restore/",
            {"map_version": 3},
            follow=True,
        )
        assert "Nothing restored." in response.text

    @pytest.mark.parametrize("who", ["viewer", "other_owner", "team_member"])
    def test_others_cannot_restore(self, request, client, who, owner, team_map):
        snapshot = snapshot_take(journey_map=team_map, label="v1", by=owner)
        client.force_login(request.getfixturevalue(who))
        url = f"/maps/{team_map.slug}/snapshots/{snapshot.pk}/restore/"
        assert client.post(url, {"map_version": 1}).status_code == 403

    def test_viewers_cannot_save_snapshots(self, client, viewer, team_map):
        client.force_login(viewer)
        assert client.post(f"/maps/{team_map.slug}/snapshots/", {"label": "x"}).status_code == 403
        assert not MapSnapshot.objects.exists()
