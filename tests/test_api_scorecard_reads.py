"""``/api/maps/{id}/scorecard/`` reads its report through ``governance.scorecard_reads``
(the scorecard page's reads): the same bytes as ``scoring.scorecard_report`` gives, for a
map with maps below it and for a leaf, for every kind of user, with fewer queries (#16)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from governance import scorecard_reads, scoring
from tests.builders import build_repository

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("role", ["owner", "team_member", "viewer", "leader", "admin_user"])
def test_the_scorecard_answers_what_the_general_report_gives_with_fewer_queries(
    request, role, owner, team, other_owner, monkeypatch
):
    root = build_repository(owner=owner, team=team, other_owner=other_owner)[0]
    leaf = root.get_descendants().filter(status="published").last() or root
    client = api(request.getfixturevalue(role))
    urls = [f"/api/maps/{journey_map.pk}/scorecard/" for journey_map in (root, leaf)]
    fast, fast_queries = [], []
    for url in urls:
        client.get(url)  # the weights, the vocabulary: read once per process
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        fast.append(response.content)
        fast_queries.append(len(queries))
    monkeypatch.setattr(scorecard_reads, "scorecard_report", scoring.scorecard_report)
    for url, content, count in zip(urls, fast, fast_queries, strict=True):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).content == content
        assert count < len(queries)
