"""Sign-in lockout (django-axes) and API throttles (DRF), switched back on here only
(tests/conftest.py turns them off for the rest of the suite)."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "journeyhub"  # tests.factories.UserFactory's password


@pytest.fixture
def lockout(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 10
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)


@pytest.fixture
def rates(settings):
    """The production limits, or lower ones a test names, on an empty throttle cache."""

    def _set(**overrides: str) -> None:
        production = {"token": "10/minute", "imports": "30/hour", "writes": "600/minute"}
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": production | overrides,
        }
        cache.clear()  # throttles count in the default cache

    yield _set
    cache.clear()


def _sign_in(client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


class TestSignInLockout:
    def test_eleven_bad_sign_ins_lock_the_account_out_with_a_clear_message(
        self, client, lockout, viewer
    ):
        for attempt in range(1, 10):
            response = _sign_in(client, "vic", f"wrong-{attempt}")
            assert response.status_code == 200, attempt  # the form again, with its error
            assert "Please enter a correct username and password" in response.text
        assert _sign_in(client, "vic", "wrong-10").status_code == 429  # the limit is reached
        response = _sign_in(client, "vic", PASSWORD)  # the 11th: even the right password
        assert response.status_code == 429
        page = response.text
        assert "Too many failed sign-ins" in page
        assert "paused for 15 minutes" in page
        assert "vic" in page
        assert "_auth_user_id" not in client.session
        assert client.get("/").status_code == 302  # still signed out

    def test_other_people_can_still_sign_in(self, client, lockout, viewer, owner):
        for attempt in range(10):
            _sign_in(client, "vic", f"wrong-{attempt}")
        response = _sign_in(client, "olivia", PASSWORD)
        assert response.status_code == 302
        assert response["Location"] == "/"

    def test_the_lockout_ends_after_the_cool_off(self, client, lockout, viewer):
        for attempt in range(10):
            _sign_in(client, "vic", f"wrong-{attempt}")
        assert _sign_in(client, "vic", PASSWORD).status_code == 429
        AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
        assert _sign_in(client, "vic", PASSWORD).status_code == 302

    def test_a_successful_sign_in_resets_the_count(self, client, lockout, viewer):
        for attempt in range(9):
            _sign_in(client, "vic", f"wrong-{attempt}")
        assert _sign_in(client, "vic", PASSWORD).status_code == 302
        client.logout()
        for attempt in range(9):
            assert _sign_in(client, "vic", f"again-{attempt}").status_code == 200


class TestApiThrottles:
    def test_the_token_endpoint_answers_429_after_its_limit(self, rates, viewer):
        rates(token="10/minute")
        api = APIClient()
        for attempt in range(10):
            response = api.post(
                "/api/auth/token/", {"username": "vic", "password": f"wrong-{attempt}"}
            )
            assert response.status_code == 400, attempt
        response = api.post("/api/auth/token/", {"username": "vic", "password": PASSWORD})
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert "throttled" in response.json()["detail"].lower()

    def test_the_token_endpoint_gives_tokens_below_its_limit(self, rates, viewer):
        rates()
        response = APIClient().post("/api/auth/token/", {"username": "vic", "password": PASSWORD})
        assert response.status_code == 200 and response.json()["token"]

    def test_writes_are_limited_per_user_and_reads_are_not(self, rates, owner, team_map, viewer):
        rates(writes="3/minute")
        api = APIClient()
        api.force_authenticate(owner)
        for _ in range(3):
            assert api.post(f"/api/maps/{team_map.pk}/review/", {}).status_code == 200
        refused = api.post(f"/api/maps/{team_map.pk}/review/", {})
        assert refused.status_code == 429
        assert "Retry-After" in refused
        assert api.get("/api/maps/").status_code == 200  # reads pass
        other = APIClient()
        other.force_authenticate(viewer)  # someone else has their own allowance
        assert other.post("/api/maps/", {}, format="json").status_code != 429

    def test_imports_have_their_own_lower_limit(self, rates, owner, team_map):
        rates(imports="2/hour")
        api = APIClient()
        api.force_authenticate(owner)
        path = f"/api/maps/{team_map.pk}/measurements/import/"
        for _ in range(2):
            response = api.post(path, b"kpi,date,value\n", content_type="text/csv")
            assert response.status_code == 400  # an empty file, refused; it still counts
        assert api.post(path, b"kpi,date,value\n", content_type="text/csv").status_code == 429
        # other writes are not held back by the import limit
        assert api.post(f"/api/maps/{team_map.pk}/review/", {}).status_code == 200
