"""Browser pages for handing a map over and sharing it."""

from __future__ import annotations

import pytest
from django.core import mail
from guardian.shortcuts import get_perms

from maps.models import JourneyMap

pytestmark = pytest.mark.django_db


class TestTransferPage:
    def test_the_owner_transfers_and_the_new_owner_is_told(
        self, client, owner, other_owner, team_map, django_capture_on_commit_callbacks
    ):
        client.force_login(owner)
        page = client.get(f"/maps/{team_map.slug}/transfer/")
        assert page.status_code == 200
        assert "Omar Olsen (omar)" in page.text
        assert "Olivia Owens (olivia)" not in page.text  # the current owner is not offered
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/maps/{team_map.slug}/transfer/",
                {"new_owner": other_owner.pk, "note": "", "version": 1},
                follow=True,
            )
        assert response.redirect_chain[-1][0] == team_map.get_absolute_url()
        assert "now owns" in response.text
        team_map.refresh_from_db()
        assert team_map.owner == other_owner
        assert [m.to for m in mail.outbox] == [["omar@example.com"]]

    def test_a_stale_form_shows_the_conflict_and_changes_nothing(
        self, client, owner, other_owner, team_map
    ):
        JourneyMap.objects.filter(pk=team_map.pk).update(version=2)
        client.force_login(owner)
        response = client.post(
            f"/maps/{team_map.slug}/transfer/", {"new_owner": other_owner.pk, "version": 1}
        )
        assert response.status_code == 200
        assert "changed by someone else" in response.text
        team_map.refresh_from_db()
        assert team_map.owner == owner

    def test_a_missing_owner_is_named(self, client, owner, team_map):
        client.force_login(owner)
        response = client.post(f"/maps/{team_map.slug}/transfer/", {"version": 1})
        assert "This field is required." in response.text

    @pytest.mark.parametrize("who", ["team_member", "viewer", "other_owner"])
    def test_others_may_not_transfer(self, request, client, who, team_map):
        client.force_login(request.getfixturevalue(who))
        assert client.get(f"/maps/{team_map.slug}/transfer/").status_code == 403

    def test_the_map_page_offers_transfer_only_to_those_who_may(
        self, client, owner, team_member, team_map
    ):
        client.force_login(owner)
        assert "Transfer ownership" in client.get(team_map.get_absolute_url()).text
        client.force_login(team_member)
        assert "Transfer ownership" not in client.get(team_map.get_absolute_url()).text


class TestSharePage:
    def test_the_owner_shares_and_removes_a_colleague(self, client, owner, viewer, team_map):
        client.force_login(owner)
        response = client.post(
            f"/maps/{team_map.slug}/share/", {"username": "vic", "role": "editor"}, follow=True
        )
        assert "as editor" in response.text
        assert get_perms(viewer, team_map) == ["change_journeymap"]
        grant_id = team_map.journeymapuserobjectpermission_set.get().pk
        client.post(f"/maps/{team_map.slug}/share/{grant_id}/remove/")
        assert get_perms(viewer, team_map) == []

    def test_switching_role_replaces_the_grant(self, client, owner, viewer, team_map):
        client.force_login(owner)
        client.post(f"/maps/{team_map.slug}/share/", {"username": "vic", "role": "editor"})
        client.post(f"/maps/{team_map.slug}/share/", {"username": "vic", "role": "viewer"})
        assert get_perms(viewer, team_map) == ["view_journeymap"]

    def test_an_unknown_colleague_is_named(self, client, owner, team_map):
        client.force_login(owner)
        response = client.post(
            f"/maps/{team_map.slug}/share/", {"username": "nobody", "role": "editor"}
        )
        assert "No active user is called “nobody”." in response.text

    def test_team_members_cannot_share(self, client, team_member, team_map):
        client.force_login(team_member)
        assert client.get(f"/maps/{team_map.slug}/share/").status_code == 403

    def test_a_draft_of_someone_else_is_not_found(self, client, owner, draft_map):
        client.force_login(owner)
        assert client.get(f"/maps/{draft_map.slug}/share/").status_code == 404

    def test_query_count_does_not_grow_with_grants(
        self, client, owner, team_map, django_assert_max_num_queries
    ):
        from guardian.shortcuts import assign_perm

        from tests.factories import UserFactory

        client.force_login(owner)
        assign_perm("change_journeymap", UserFactory(), team_map)
        with django_assert_max_num_queries(12):
            client.get(f"/maps/{team_map.slug}/share/")
        for _ in range(10):
            assign_perm("view_journeymap", UserFactory(), team_map)
        with django_assert_max_num_queries(12):
            assert client.get(f"/maps/{team_map.slug}/share/").text.count("Remove") == 11
