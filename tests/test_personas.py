"""Persona pages: what concerns each persona, and journey owners curating personas."""

from __future__ import annotations

import datetime as dt

import pytest

from maps.models import JourneyMap, Persona
from tests.factories import (
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    PainPointFactory,
    PersonaFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def young_pro(team_map, draft_map):
    """A persona of olivia's team map and of omar's hidden draft."""
    persona = PersonaFactory(name="Young professional", slug="young-professional")
    persona.maps.add(team_map, draft_map)
    PainPointFactory(map=team_map, title="Too many forms", severity=5, frequency=4)
    PainPointFactory(map=team_map, title="Slow reply", severity=2, frequency=2)
    PainPointFactory(map=draft_map, title="Hidden complaint", severity=5, frequency=5)
    kpi = KPIFactory(map=team_map, name="Accounts opened", unit="%", target=80)
    MeasurementFactory(kpi=kpi, date=dt.date(2026, 9, 1), value=61)
    MeasurementFactory(kpi=kpi, date=dt.date(2026, 10, 1), value=64.5)
    KPIFactory(map=draft_map, name="Hidden KPI")
    return persona


def test_the_persona_page_lists_its_maps_worst_pain_points_and_latest_kpis(
    client, viewer, young_pro, team_map
):
    client.force_login(viewer)

    page = client.get("/personas/young-professional/").text

    assert "Open an account" in page
    assert page.index("Too many forms") < page.index("Slow reply")  # severity first
    assert "64.5 %" in page and "Oct 2026" in page  # the latest value, not the first
    # omar's draft is hidden from vic: neither it nor its content shows
    assert "Close my account" not in page
    assert "Hidden complaint" not in page and "Hidden KPI" not in page


def test_leadership_sees_the_drafts_content_too(client, leader, young_pro):
    client.force_login(leader)

    page = client.get("/personas/young-professional/").text

    assert "Close my account" in page and "Hidden complaint" in page


def test_the_list_counts_only_the_maps_the_reader_may_see(client, viewer, leader, young_pro):
    client.force_login(viewer)
    assert '<td class="num">1</td>' in client.get("/personas/").text
    client.force_login(leader)
    assert '<td class="num">2</td>' in client.get("/personas/").text


def test_a_journey_owner_describes_a_new_persona_and_history_records_her(client, owner, team_map):
    client.force_login(owner)

    response = client.post(
        "/personas/new/", {"name": "Busy parent", "slug": "", "description": "Mobile, evenings."}
    )

    persona = Persona.objects.get(name="Busy parent")
    assert response["Location"] == "/personas/busy-parent/"
    assert persona.history.first().history_user == owner


def test_a_duplicate_name_is_refused_on_its_field(client, owner, team_map, young_pro):
    client.force_login(owner)

    response = client.post("/personas/new/", {"name": "Young professional", "slug": ""})

    assert response.status_code == 400
    assert "Persona with this Name already exists." in response.text
    assert Persona.objects.count() == 1


def test_someone_who_owns_no_map_may_read_but_not_curate(client, team_member, young_pro):
    client.force_login(team_member)

    assert client.get("/personas/young-professional/").status_code == 200
    assert client.get("/personas/new/").status_code == 403
    assert client.post("/personas/young-professional/edit/", {"name": "X"}).status_code == 403


def test_only_leadership_deletes_and_the_maps_keep_their_other_personas(
    client, owner, leader, young_pro, team_map
):
    team_map.personas.add(PersonaFactory(name="Retiree", slug="retiree"))
    client.force_login(owner)
    assert client.post("/personas/young-professional/delete/").status_code == 403
    client.force_login(leader)

    response = client.post("/personas/young-professional/delete/")

    assert response["Location"] == "/personas/"
    assert [p.slug for p in JourneyMap.objects.get(pk=team_map.pk).personas.all()] == ["retiree"]


def test_a_map_drawn_for_two_personas_counts_under_both(client, viewer, young_pro, team_map):
    retiree = PersonaFactory(name="Retiree", slug="retiree")
    team_map.personas.add(retiree)
    client.force_login(viewer)

    listing = client.get("/personas/").text
    rows = {
        slug: listing.split(f'href="/personas/{slug}/"')[1].split("</tr>")[0]
        for slug in ("young-professional", "retiree")
    }

    # vic sees the team map only (omar's draft, also the young professional's, is hidden)
    assert all('<td class="num">1</td>' in row for row in rows.values())
    for slug in ("young-professional", "retiree"):
        assert "Open an account" in client.get(f"/personas/{slug}/").text


def test_the_pages_query_count_holds_with_ten_times_the_data(
    client, owner, team_map, django_assert_max_num_queries
):
    persona = PersonaFactory(slug="busy")

    def grow(n: int) -> None:
        for _ in range(n):
            # each also drawn for a persona of its own: the second persona's row must
            # not cost a query per map
            journey = JourneyMapFactory(
                owner=owner, personas=[persona, PersonaFactory()], status="published"
            )
            PainPointFactory.create_batch(3, map=journey)
            MeasurementFactory(kpi=KPIFactory(map=journey))

    client.force_login(owner)
    grow(2)
    with django_assert_max_num_queries(20) as small:
        client.get("/personas/busy/")
        client.get("/personas/")
    grow(20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/personas/busy/")
        client.get("/personas/")


def test_the_navigation_has_one_portfolio_entry_and_the_personas(client, owner, team_map):
    client.force_login(owner)

    nav = client.get("/personas/").text.split('<nav class="topnav"')[1].split("</nav>")[0]

    assert nav.count('href="/portfolio/') == 1
    assert '<a href="/personas/" aria-current="page">Personas</a>' in nav


def test_a_refused_edit_keeps_naming_the_persona_as_saved(client, owner, team_map, young_pro):
    client.force_login(owner)

    response = client.post("/personas/young-professional/edit/", {"name": "", "slug": ""})

    assert response.status_code == 400
    assert '<a href="/personas/young-professional/">Young professional</a>' in response.text
    assert "This field is required." in response.text
