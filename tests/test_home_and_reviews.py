"""Review cadence at its boundaries, marking a map reviewed, and the home page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance import reviews
from governance.models import Review, ScorecardWeights
from governance.services import map_transfer_ownership
from maps.models import JourneyMap
from tests.builders import build_repository
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    PainPointFactory,
)

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def reviewed(journey, *, days_ago: float, every: int = 30):
    journey.review_every_days = every
    journey.last_reviewed_at = NOW - dt.timedelta(days=days_ago)
    journey.save()
    return journey


class TestDueAtTheBoundaries:
    def test_due_exactly_when_the_cadence_has_passed(self, owner):
        just_due = reviewed(JourneyMapFactory(owner=owner, title="Just due"), days_ago=30)
        not_yet = reviewed(JourneyMapFactory(owner=owner, title="Not yet"), days_ago=29.99)
        due = set(reviews.maps_due(JourneyMap.objects.all(), now=NOW))
        assert just_due in due and not_yet not in due
        assert just_due.review_due_at == just_due.last_reviewed_at + dt.timedelta(days=30)

    def test_never_reviewed_maps_count_from_their_creation(self, owner):
        journey = JourneyMapFactory(owner=owner, review_every_days=10)
        journey.created_at = NOW - dt.timedelta(days=10, seconds=1)
        journey.save()
        assert list(reviews.maps_due(JourneyMap.objects.all(), now=NOW)) == [journey]

    def test_due_soon_includes_the_next_days_only(self, owner):
        soon = reviewed(JourneyMapFactory(owner=owner), days_ago=20)  # due in 10 days
        later = reviewed(JourneyMapFactory(owner=owner), days_ago=10)  # due in 20 days
        due = set(reviews.maps_due(JourneyMap.objects.all(), within_days=14, now=NOW))
        assert soon in due and later not in due

    def test_archived_maps_never_fall_due(self, owner):
        reviewed(JourneyMapFactory(owner=owner, status="archived"), days_ago=400)
        assert not reviews.maps_due(JourneyMap.objects.all(), now=NOW).exists()

    def test_changing_the_cadence_moves_the_due_date(self, owner):
        journey = reviewed(JourneyMapFactory(owner=owner), days_ago=40, every=30)
        journey.review_every_days = 60
        journey.save(update_fields=["review_every_days"])
        journey.refresh_from_db()
        assert journey.review_due_at == journey.last_reviewed_at + dt.timedelta(days=60)


class TestMarkingReviewed:
    def test_a_review_resets_staleness_without_touching_the_version(self, owner):
        journey = reviewed(JourneyMapFactory(owner=owner), days_ago=100)
        review = reviews.map_mark_reviewed(journey_map=journey, by=owner, note="Checked with ops")
        journey.refresh_from_db()
        assert not journey.is_review_due
        assert journey.version == 1
        assert (review.reviewed_by, review.note) == (owner, "Checked with ops")
        assert Review.objects.filter(map=journey).count() == 1

    def test_editing_content_is_not_a_review(self, client, owner):
        journey = reviewed(JourneyMapFactory(owner=owner), days_ago=100)
        client.force_login(owner)
        client.post(f"/maps/{journey.slug}/edit/stage/new/", {"name": "New", "map_version": 1})
        journey.refresh_from_db()
        assert journey.is_review_due and journey.version == 2


class TestHomePage:
    def test_an_owner_sees_what_needs_attention_in_their_maps(self, client, owner, other_owner):
        mine = reviewed(JourneyMapFactory(owner=owner, title="Open an account"), days_ago=100)
        theirs = reviewed(JourneyMapFactory(owner=other_owner, title="Pay a bill"), days_ago=100)
        PainPointFactory(map=mine, title="ID check fails", severity=5, frequency=4)
        addressed = PainPointFactory(map=mine, title="Slow letters", severity=5, frequency=5)
        CXProjectFactory(owner=owner, pain_points=[addressed], maps=[mine])
        PainPointFactory(map=theirs, title="Fees unclear")
        KPIFactory(map=mine, name="Completion rate")
        fresh = KPIFactory(map=mine, name="NPS")
        MeasurementFactory(kpi=fresh, date=timezone.now().date())
        client.force_login(owner)
        page = client.get("/").text
        assert "My journeys" in page
        assert "Open an account" in page and "Pay a bill" not in page
        assert "1 overdue" in page
        assert (
            "ID check fails" in page and "Slow letters" not in page and "Fees unclear" not in page
        )
        assert "Completion rate" in page and "never measured" in page and "NPS" not in page

    def test_ownership_handed_over_shows_up(self, client, owner, other_owner):
        journey = JourneyMapFactory(owner=other_owner, title="Close my account")
        map_transfer_ownership(
            journey_map=journey, new_owner=owner, by=other_owner, expected_version=1
        )
        client.force_login(owner)
        page = client.get("/").text
        assert "Handed to you" in page and "Close my account" in page

    def test_leadership_sees_each_owners_share_of_overdue_maps(
        self, client, leader, owner, other_owner
    ):
        reviewed(JourneyMapFactory(owner=owner), days_ago=100)
        reviewed(JourneyMapFactory(owner=owner), days_ago=1)
        reviewed(JourneyMapFactory(owner=other_owner), days_ago=1)
        client.force_login(leader)
        page = client.get("/").text
        assert "Across the organisation" in page
        assert '<meter min="0" max="100" low="25" high="50" optimum="0" value="50">' in page
        assert '<meter min="0" max="100" low="25" high="50" optimum="0" value="0">' in page

    def test_someone_without_maps_is_pointed_to_the_repository(self, client, viewer):
        client.force_login(viewer)
        assert "You don't own any journey maps." in client.get("/").text

    def test_the_demo_owners_see_their_overdue_maps(self, client):
        call_command("seed_demo", verbosity=0)
        from django.contrib.auth.models import User

        for username in ("olivia", "omar"):
            client.force_login(User.objects.get(username=username))
            page = client.get("/").text
            overdue = reviews.maps_due(JourneyMap.objects.filter(owner__username=username))
            assert overdue.exists()
            for journey in overdue:
                assert journey.title in page

    @pytest.mark.parametrize("who", ["owner", "leader"])
    def test_query_count_stays_flat_with_ten_times_the_data(
        self, request, client, who, owner, team, other_owner, django_assert_max_num_queries
    ):
        client.force_login(request.getfixturevalue(who))
        build_repository(owner=owner, team=team, other_owner=other_owner, copies=1)
        with CaptureQueriesContext(connection) as small:
            client.get("/")
        build_repository(owner=owner, team=team, other_owner=other_owner, copies=9)
        with django_assert_max_num_queries(len(small.captured_queries)):
            assert client.get("/").status_code == 200


class TestMarkReviewedPage:
    def test_the_owner_marks_the_map_reviewed_with_a_note(self, client, owner, team_map):
        reviewed(team_map, days_ago=100)
        client.force_login(owner)
        page = client.get(team_map.get_absolute_url()).text
        assert "Mark as reviewed" in page and "<details open>" in page  # due: offered open
        response = client.post(
            f"/maps/{team_map.slug}/review/", {"note": "Walked it through"}, follow=True
        )
        assert "Marked “Open an account” as reviewed." in response.text
        assert Review.objects.get(map=team_map).note == "Walked it through"
        team_map.refresh_from_db()
        assert not team_map.is_review_due

    @pytest.mark.parametrize("who", ["team_member", "viewer", "leader", "other_owner"])
    def test_only_the_owner_reviews(self, request, client, who, team_map):
        client.force_login(request.getfixturevalue(who))
        assert "Mark as reviewed" not in client.get(team_map.get_absolute_url()).text
        assert client.post(f"/maps/{team_map.slug}/review/").status_code == 403
        assert not Review.objects.exists()

    def test_reviewing_needs_a_post(self, client, owner, team_map):
        client.force_login(owner)
        assert client.get(f"/maps/{team_map.slug}/review/").status_code == 405


class TestReviewReminders:
    def test_each_owner_gets_one_digest_of_what_is_due(self, owner, other_owner, mailoutbox):
        from governance.reminders import send_review_reminders

        reviewed(JourneyMapFactory(owner=owner, title="Open an account"), days_ago=45)
        reviewed(JourneyMapFactory(owner=owner, title="Verify identity"), days_ago=25)  # due in 5
        reviewed(JourneyMapFactory(owner=owner, title="Fresh map"), days_ago=1)
        reviewed(JourneyMapFactory(owner=other_owner, title="Pay a bill"), days_ago=31)
        assert send_review_reminders() == 2
        by_recipient = {m.to[0]: m for m in mailoutbox}
        olivia = by_recipient["olivia@example.com"]
        assert olivia.subject == "2 journey maps to review"
        assert "overdue for review:\n\n  - Open an account" in olivia.body
        assert "within 7 days:\n\n  - Verify identity" in olivia.body
        assert "Fresh map" not in olivia.body
        assert "/maps/" in olivia.body
        assert by_recipient["omar@example.com"].subject == "1 journey map to review"

    def test_running_twice_the_same_day_sends_nothing_new(self, owner, mailoutbox):
        from governance.reminders import send_review_reminders

        reviewed(JourneyMapFactory(owner=owner), days_ago=45)
        assert send_review_reminders() == 1
        assert send_review_reminders() == 0
        assert len(mailoutbox) == 1
        tomorrow = timezone.localdate() + dt.timedelta(days=1)
        assert send_review_reminders(today=tomorrow) == 1

    def test_owners_with_nothing_due_get_no_mail(self, owner, mailoutbox):
        from governance.reminders import send_review_reminders

        reviewed(JourneyMapFactory(owner=owner), days_ago=1)
        reviewed(JourneyMapFactory(owner=owner, status="archived"), days_ago=400)
        assert send_review_reminders() == 0 and mailoutbox == []

    def test_the_command_and_the_task_send_the_same_digests(self, owner, mailoutbox, capsys):
        from governance.tasks import send_review_reminders as task

        reviewed(JourneyMapFactory(owner=owner), days_ago=45)
        call_command("send_review_reminders", "--dry-run")
        assert "olivia: 1 overdue, 0 due soon" in capsys.readouterr().out
        assert mailoutbox == []
        assert task.delay().get() == 1  # eager by default
        call_command("send_review_reminders")
        assert "Sent 0 review digests." in capsys.readouterr().out

    def test_the_demo_digest_names_the_overdue_maps(self, mailoutbox):
        from governance.reminders import send_review_reminders

        call_command("seed_demo", verbosity=0)
        send_review_reminders()
        recipients = {m.to[0] for m in mailoutbox}
        assert {"olivia@example.com", "omar@example.com"} <= recipients
        for message in mailoutbox:
            owner_maps = reviews.maps_due(
                JourneyMap.objects.filter(owner__email=message.to[0]), within_days=7
            )
            for journey in owner_maps:
                assert journey.title in message.body


def all_quadrants(health: float) -> dict:
    """A fully scored snapshot: every quadrant at ``health``, so health is ``health``."""
    return {"health": health, **dict.fromkeys(ScorecardWeights.FIELDS, health)}


class TestUnderperformers:
    def test_lowest_health_and_largest_drops_among_visible_maps(self, client, viewer, owner):
        from governance.models import ScorecardSnapshot

        today = dt.date(2026, 11, 20)
        a = JourneyMapFactory(owner=owner, title="A")
        b = JourneyMapFactory(owner=owner, title="B")
        c = JourneyMapFactory(owner=owner, title="C")
        hidden = JourneyMapFactory(owner=owner, title="Hidden draft", status="draft")
        rows = [
            # map, last month's last snapshot, today's
            (a, 80.0, 60.0),  # dropped 20
            (b, 50.0, 45.0),  # dropped 5
            (c, 20.0, 30.0),  # rose 10, but lowest now
            (hidden, 90.0, 10.0),  # invisible to vic
        ]
        for journey, before, now in rows:
            for day, health in ((dt.date(2026, 10, 31), before), (dt.date(2026, 10, 15), 99)):
                ScorecardSnapshot.objects.create(map=journey, date=day, **all_quadrants(health))
            ScorecardSnapshot.objects.create(map=journey, date=today, **all_quadrants(now))
        result = reviews.underperformers(JourneyMap.objects.filter(status="published"), today=today)
        assert [s.map.title for s in result["lowest"]] == ["C", "B", "A"]
        assert [(s.map.title, s.change) for s in result["dropped"]] == [("A", -20.0), ("B", -5.0)]
        assert result["as_of"] == today
        assert result["lowest"][0].status == "critical"
