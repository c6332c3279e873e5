"""Role fixtures shared by every test: the same people as the demo.

olivia owns maps with her team (tess is a member); omar owns other maps; vic only
views; leader is CX leadership; admin is a superuser.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.factories import GroupFactory, JourneyMapFactory, MeasurementFactory, UserFactory

# real servers (PostgreSQL, gunicorn) for the tests that need processes: tests/servers.py
pytest_plugins = ["tests.servers"]


@pytest.fixture
def precompiled_calls(monkeypatch) -> list[int]:
    """One entry per API list page served: 1 when its SQL compiled once per process
    answered (maps.api.pages.PrecompiledPages), 0 when that path declined it."""
    from maps.api.pages import PrecompiledPages

    calls: list[int] = []
    rows = PrecompiledPages.rows

    def counted(self, user, cursor, size):
        found = rows(self, user, cursor, size)
        calls.append(0 if found is None else 1)
        return found

    monkeypatch.setattr(PrecompiledPages, "rows", counted)
    return calls


@pytest.fixture
def leadership_group(db):
    return GroupFactory(name=settings.JOURNEYHUB_LEADERSHIP_GROUP)


@pytest.fixture
def team(db):
    return GroupFactory(name="Digital onboarding team")


@pytest.fixture
def owner(team):
    return UserFactory(username="olivia", first_name="Olivia", last_name="Owens", groups=[team])


@pytest.fixture
def team_member(team):
    return UserFactory(username="tess", first_name="Tess", last_name="Taylor", groups=[team])


@pytest.fixture
def other_owner(db):
    return UserFactory(username="omar", first_name="Omar", last_name="Olsen")


@pytest.fixture
def viewer(db):
    return UserFactory(username="vic", first_name="Vic", last_name="Vance")


@pytest.fixture
def leader(leadership_group):
    return UserFactory(
        username="leader", first_name="Lee", last_name="Leader", groups=[leadership_group]
    )


@pytest.fixture
def admin_user(db):
    user = UserFactory(username="admin", is_staff=True, is_superuser=True)
    return user


@pytest.fixture
def team_map(owner, team):
    """A published map of olivia's, shared with her team."""
    return JourneyMapFactory(
        title="Open an account", slug="open-an-account", owner=owner, team=team
    )


@pytest.fixture
def draft_map(other_owner):
    """A draft of omar's: invisible to everyone but him, leadership and admins."""
    return JourneyMapFactory(
        title="Close my account", slug="close-my-account", owner=other_owner, status="draft"
    )


@pytest.fixture(autouse=True)
def _measurement_dates_start_afresh():
    """Measurement dates come from a per-process sequence (2026-01-01 + n days): without a
    reset a test's "later" fixed date (say 2030-01-01) is earlier than the factory's default
    once a worker has made ~1,500 measurements, and the test's outcome depends on which tests
    ran before it in that worker."""
    MeasurementFactory.reset_sequence()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2's deliberate slowness is for production, not for the test suite."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_lockout_or_throttling(settings):
    """Sign-in lockout (django-axes) and API throttles are for attackers, not for the
    suite: tests/test_throttling.py switches them back on for itself."""
    settings.AXES_ENABLED = False
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            scope: "1000000/minute"
            for scope in settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
        },
    }
