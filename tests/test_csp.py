"""Every page carries the Content-Security-Policy, and its HTML needs nothing the policy
forbids: no inline script, no <style> block, no style="" attribute, no on…= handler.
(tests/browser/test_csp.py runs the pages in Chromium and listens for violations.)"""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    LaneItemFactory,
    MeasurementFactory,
    PainPointFactory,
    QualitativeFactorFactory,
    StageFactory,
    StepFactory,
    StepLinkFactory,
)

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
STYLE_BLOCK = re.compile(r"<style[\s>]", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"(href|src|action)\s*=\s*[\"']?\s*javascript:", re.IGNORECASE)


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def rich_map(owner, team, team_map):
    """A map with something in every lane, a sub-map, a scored KPI and a project."""
    stage = StageFactory(map=team_map, name="Apply")
    first = StepFactory(map=team_map, stage=stage, name="Fill in the form", emotion=-1)
    second = StepFactory(map=team_map, stage=stage, name="Verify identity", emotion=2)
    StepLinkFactory(from_step=second, to_step=first)
    pain = PainPointFactory(map=team_map, step=first, title="Too many fields")
    LaneItemFactory(map=team_map, step=second, title="People abandon on mobile")
    kpi = KPIFactory(map=team_map, step=first, name="Completion", baseline=0, target=100)
    for value in (40, 55):
        MeasurementFactory(kpi=kpi, value=value)
    QualitativeFactorFactory(map=team_map, rating=4)
    sub = JourneyMapFactory(title="Upload documents", owner=owner, parent=team_map)
    sub.parent_step = second
    sub.save()
    project = CXProjectFactory(
        title="Shorter form", owner=owner, team=team, maps=[team_map], pain_points=[pain]
    )
    return {"map": team_map, "project": project, "pain": pain}


def main_pages(w) -> list[str]:
    slug = w["map"].slug
    return [
        "/",
        "/maps/",
        "/maps/?q=open",
        f"/maps/{slug}/",
        f"/maps/{slug}/scorecard/",
        f"/maps/{slug}/history/",
        f"/maps/{slug}/snapshots/",
        f"/maps/{slug}/events/",
        f"/maps/{slug}/settings/",
        f"/maps/{slug}/edit/painpoint/new/",
        f"/maps/{slug}/edit/painpoint/{w['pain'].pk}/",
        f"/maps/{slug}/share/",
        f"/maps/{slug}/transfer/",
        f"/maps/{slug}/measurements/import/",
        f"/maps/new/?parent={slug}",
        "/maps/new/",  # a 403 page for a non-leader
        "/maps/scorecard/weights/",
        "/portfolio/",
        "/portfolio/weights/",
        f"/projects/{w['project'].pk}/",
        f"/projects/{w['project'].pk}/edit/",
        "/projects/new/",
        "/no/such/page/",
    ]


def assert_csp_ready(response, path: str) -> None:
    assert response.status_code in (200, 403, 404), (path, response.status_code)
    policy = policy_of(response)
    assert policy["default-src"] == ["'self'"], path
    for directive in ("script-src", "style-src"):
        assert policy[directive] == ["'self'"], (path, directive, policy[directive])
    html = response.content.decode()
    for name, pattern in (
        ("inline script", INLINE_SCRIPT),
        ("<style> block", STYLE_BLOCK),
        ('style="" attribute', STYLE_ATTRIBUTE),
        ("event handler attribute", EVENT_HANDLER),
        ("javascript: URL", JAVASCRIPT_URL),
    ):
        match = pattern.search(html)
        near = html[max(0, match.start() - 80) : match.end() + 80] if match else ""
        assert match is None, f"{path}: {name} near {near!r}"


def test_every_main_page_carries_the_policy_and_needs_nothing_it_forbids(
    client, owner, rich_map, settings
):
    settings.DEBUG = False
    client.force_login(owner)
    for path in main_pages(rich_map):
        assert_csp_ready(client.get(path), path)


def test_htmx_partials_need_nothing_the_policy_forbids(client, owner, rich_map):
    client.force_login(owner)
    slug = rich_map["map"].slug
    for path in (
        f"/maps/{slug}/edit/painpoint/new/",
        f"/maps/{slug}/edit/step/new/",
        f"/maps/{slug}/settings/",
        f"/maps/?under={slug}",
    ):
        assert_csp_ready(client.get(path, headers={"HX-Request": "true"}), path)


def test_the_sign_in_page_carries_the_policy(client):
    assert_csp_ready(client.get("/accounts/login/"), "/accounts/login/")


def test_the_api_docs_relax_only_styles_and_data_images(client, owner):
    client.force_login(owner)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    policy = policy_of(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["img-src"] == ["'self'", "data:"]
    html = response.content.decode()
    assert INLINE_SCRIPT.search(html) is None  # the start-up script comes from ?script
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


def test_json_answers_carry_the_policy_too(owner):
    api = APIClient()
    api.force_authenticate(owner)
    assert policy_of(api.get("/api/maps/"))["default-src"] == ["'self'"]


def test_the_admin_pages_need_nothing_the_policy_forbids(client, admin_user, rich_map):
    from django.contrib import admin
    from django.urls import reverse

    client.force_login(admin_user)
    paths = ["/admin/", f"/admin/maps/journeymap/{rich_map['map'].pk}/change/"]
    for model in admin.site._registry:
        meta = model._meta
        paths.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    for path in paths:
        assert_csp_ready(client.get(path), path)
