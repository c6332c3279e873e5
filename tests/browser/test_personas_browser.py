"""A journey owner gives her map two personas in the browser (#17): the settings form's
labelled checkbox group, the map header's links, the persona page that lists the map."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from maps.models import JourneyMap
from tests.factories import PersonaFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_chooses_two_personas_and_each_links_to_its_page(sign_in, live_server, team_map):
    PersonaFactory(name="Retiree", slug="retiree")
    PersonaFactory(name="Student", slug="student")
    PersonaFactory(name="Newcomer", slug="newcomer")

    page = sign_in("olivia")
    page.goto(f"{live_server.url}/maps/{team_map.slug}/settings/")
    personas = page.get_by_role("group", name="Personas")  # the fieldset's legend names it
    personas.get_by_label("Retiree").check()
    personas.get_by_label("Student").check()
    page.get_by_role("button", name="Save").click()

    page.wait_for_url(f"**{team_map.get_absolute_url()}**")
    header = page.locator(".map-personas")
    expect(header.get_by_role("link")).to_have_text(["Retiree", "Student"])
    slugs = JourneyMap.objects.get(pk=team_map.pk).personas.values_list("slug", flat=True)
    assert list(slugs) == ["retiree", "student"]

    header.get_by_role("link", name="Student").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Student")
    expect(page.get_by_role("link", name="Open an account")).to_be_visible()
