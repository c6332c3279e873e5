"""journeyhub/1 round trip on the whole demo repository: export → import again (nothing
changes) → delete every map, project and persona → import → export gives the same
document (but for its time)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from maps.demo import seed_demo
from maps.exchange import export_document, import_document
from maps.models import CXProject, JourneyMap, Persona, Step

pytestmark = pytest.mark.django_db


def without_time(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "exported_at"}


def test_the_whole_demo_survives_export_delete_import_export():
    seed_demo()
    admin = get_user_model().objects.get(username="admin")
    root = JourneyMap.objects.get(slug="customer-lifecycle")
    first = export_document(root, user=admin)
    assert len(first["maps"]) == JourneyMap.objects.filter(tree_id=root.tree_id).count()
    assert (
        sum(len(m["steps"]) for m in first["maps"])
        == Step.objects.filter(map__tree_id=root.tree_id).count()
    )

    versions = dict(JourneyMap.objects.values_list("slug", "version"))
    same = import_document(first, by=admin)
    assert not same.created and not same.updated, same.as_dict()
    assert dict(JourneyMap.objects.values_list("slug", "version")) == versions

    CXProject.objects.all().delete()
    JourneyMap.objects.all().delete()
    Persona.objects.all().delete()
    summary = import_document(first, by=admin)
    assert summary.created["map"] == len(first["maps"])
    assert summary.created["CX project"] == len(first["projects"])

    again = export_document(JourneyMap.objects.get(slug="customer-lifecycle"), user=admin)
    assert without_time(again) == without_time(first)
