"""schemathesis against ``/api/schema/``: every operation of the API, called through
the WSGI app (no server) as an authenticated journey owner with data to find, with
every built-in check on — no 5xx, responses that match the schema (status codes,
content types, bodies, headers), bad input refused and good input accepted.

A bounded run for CI (a few examples per operation). ``SCHEMATHESIS_EXAMPLES=50``
runs a longer one locally.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.config import SchemathesisConfig

from journeyhub.wsgi import application
from maps.models import KPI
from tests.factories import (
    CXProjectFactory,
    KPIFactory,
    LaneItemFactory,
    MeasurementFactory,
    PainPointFactory,
    QualitativeFactorFactory,
    StageFactory,
    StepFactory,
    StepLinkFactory,
)

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "5"))
COVERAGE = os.environ.get("SCHEMATHESIS_COVERAGE", "false") == "true"


@pytest.fixture
def _one_connection():
    """The WSGI app ends each request by closing old database connections, which would
    close the test's own (and its transaction) on PostgreSQL: Django's test client
    switches that off the same way."""
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    yield
    for signal in signals:
        signal.connect(close_old_connections)


@pytest.fixture
def token(db, _one_connection, owner, team_map):
    """olivia's token, and a map of hers with every kind of content for ids to hit."""
    stage = StageFactory(map=team_map)
    first = StepFactory(map=team_map, stage=stage, key="start")
    second = StepFactory(map=team_map, stage=stage, key="end")
    StepLinkFactory(from_step=first, to_step=second)
    pain = PainPointFactory(map=team_map, step=first)
    LaneItemFactory(map=team_map, step=second)
    kpi = KPIFactory(map=team_map, kind=KPI.Kind.VALUE)
    MeasurementFactory(kpi=kpi, date=dt.date(2026, 1, 31))
    QualitativeFactorFactory(map=team_map)
    CXProjectFactory(owner=owner, maps=[team_map], steps=[first], pain_points=[pain])
    return Token.objects.create(user=owner).key


def _schema() -> schemathesis.schemas.BaseSchema:
    """The schema ``/api/schema/`` serves, generated in-process (its endpoint wants a
    signed-in user, and the database exists only inside the tests)."""
    document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
    config = SchemathesisConfig.from_dict(
        {
            "phases": {"coverage": {"enabled": COVERAGE}},
            "checks": {
                # Every check is on. A schema-valid body or filter may still name a row
                # that does not exist (``"map": 0``): DRF refuses it with a 400 naming the
                # field, which the schema cannot foresee, so 400 counts as an answer here.
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "400", "401", "403", "404", "409"]
                }
            },
        }
    )
    loaded = schemathesis.openapi.from_dict(document, config=config)
    loaded.app = application
    return loaded


schema = _schema()


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases on every run: CI failures reproduce
    suppress_health_check=list(HealthCheck),
)
def test_the_api_matches_its_schema_and_never_fails(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"})
