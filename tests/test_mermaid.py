"""A map as Mermaid ``journey`` text (maps/mermaid.py): the page with the copy button, the
download, the API, who may have it, names that would break Mermaid's grammar, and a
fixed number of queries. (tests/browser/test_print_and_mermaid.py draws it with the
vendored Mermaid.)"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from maps.mermaid import EMOTION_SCORE, map_to_mermaid, step_score
from maps.models import JourneyMap
from tests.builders import build_map_content
from tests.factories import JourneyMapFactory, PersonaFactory, StageFactory, StepFactory

pytestmark = pytest.mark.django_db

# What Mermaid's journey lexer stops a name at, or reads as a comment (maps/mermaid.py).
BREAKERS = re.compile(r"[#;\n]|%%")


@pytest.fixture
def onboarding(team_map):
    team_map.personas.add(PersonaFactory(name="Young professional", slug="young-professional"))
    apply, verify = (
        StageFactory(map=team_map, name="Apply", position=0),
        StageFactory(map=team_map, name="Verify", position=1),
    )
    # created out of order: the text follows stage order, then step position
    StepFactory(map=team_map, stage=verify, name="Upload ID", position=2, emotion=-2)
    StepFactory(map=team_map, stage=apply, name="Fill in the form", position=0, emotion=1)
    StepFactory(map=team_map, stage=apply, name="Choose a plan", position=1, channel="web")
    StepFactory(map=team_map, name="Get a welcome letter", position=3, channel="mail", emotion=2)
    return team_map


def test_the_text_has_the_title_a_section_per_stage_and_a_task_per_step(onboarding):
    assert map_to_mermaid(onboarding) == (
        "journey\n"
        "    title Open an account\n"
        "    section Apply\n"
        "        Fill in the form: 4: Young professional\n"
        "        Choose a plan: 3: Young professional, Web\n"
        "    section Verify\n"
        "        Upload ID: 1: Young professional\n"
        "    section Unstaged\n"
        "        Get a welcome letter: 5: Young professional, Letter\n"
    )


def test_every_persona_of_the_map_is_an_actor_of_each_step(onboarding):
    onboarding.personas.add(PersonaFactory(name="Retiree", slug="retiree"))

    text = map_to_mermaid(JourneyMap.objects.get(pk=onboarding.pk))

    assert "        Choose a plan: 3: Retiree, Young professional, Web\n" in text


def test_emotion_maps_onto_mermaids_one_to_five_with_neutral_in_the_middle():
    assert EMOTION_SCORE == {-2: 1, -1: 2, 0: 3, 1: 4, 2: 5}
    assert [step_score(e) for e in (-9, -2, 0, 2, 9)] == [1, 1, 3, 5, 5]


def test_a_map_without_stages_has_no_sections_and_a_step_without_actors_has_only_a_score(
    team_map,
):
    StepFactory(map=team_map, name="Call us", emotion=0)
    assert map_to_mermaid(team_map) == ("journey\n    title Open an account\n    Call us: 3\n")


def test_stages_without_steps_are_left_out(team_map):
    StageFactory(map=team_map, name="Empty stage")
    full = StageFactory(map=team_map, name="Apply", position=1)
    StepFactory(map=team_map, stage=full, name="Apply online")
    text = map_to_mermaid(team_map)
    assert "Empty stage" not in text
    assert "    section Apply\n        Apply online: 3\n" in text


HOSTILE = [
    "Step 1: sign; then # pay",
    "title of the deed",
    "Section 2 review",
    "journey end",
    "accDescr { sneaky }",
    "%% not a comment",
    "% of users drop",
    "50%% off",
    "Multi\nline\r\nname\ttab",
    "<script>alert(1)</script> & <b>bold</b>",
    "   ",
]


def test_names_that_would_break_mermaids_grammar_are_made_safe(team_map):
    team_map.title = "Map: #1; the\nbest"
    team_map.save()
    team_map.personas.add(PersonaFactory(name="Pat, the: #admin;", slug="pat"))
    stage = StageFactory(map=team_map, name="Stage: one; #1\nnext")
    for i, name in enumerate(HOSTILE):
        StepFactory(map=team_map, stage=stage, name=name, position=i, channel="email")
    lines = map_to_mermaid(team_map).splitlines()

    assert lines[:3] == [
        "journey",
        "    title Map∶ ♯1, the best",
        "    section Stage∶ one, ♯1 next",
    ]
    tasks = lines[3:]
    assert len(tasks) == len(HOSTILE)  # one line per step: no name broke a line
    for line in tasks:
        name, score, actors = line.strip().split(": ")
        assert not BREAKERS.search(line)
        assert ":" not in name
        assert score == "3"
        # a comma in the persona would split it into two actors
        assert actors.split(", ") == ["Pat / the∶ ♯admin /", "E-mail"]
        # no task starts like a keyword or a comment of the grammar (a zero-width space first)
        assert not re.match(r"(?i)(journey\b|title\s|section\s|accdescr\s*\{|%)", name)
    names = [line.strip().split(": ")[0] for line in tasks]
    assert names[0] == "Step 1∶ sign, then ♯ pay"
    assert names[1] == "\u200btitle of the deed"  # reads the same, is not the keyword
    assert names[5] == "\u200b% not a comment"
    assert names[6] == "\u200b% of users drop"
    assert names[7] == "50% off"
    assert names[8] == "Multi line name tab"
    assert names[9] == "<script>alert(1)</script> & <b>bold</b>"  # Mermaid draws text
    assert names[10] == "Unnamed step"


def test_the_page_shows_the_text_with_a_copy_button_and_a_download(client, viewer, onboarding):
    client.force_login(viewer)
    response = client.get(f"/maps/{onboarding.slug}/export/mermaid/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "section Apply" in html and "Fill in the form: 4: Young professional" in html
    assert 'data-copy="mermaid-text"' in html
    assert f"/maps/{onboarding.slug}/export/mermaid/download/" in html
    assert "vendor/mermaid/mermaid.min.js" in html
    # Mermaid's SVG carries its own styles: this page, and only this page, allows them
    assert "'unsafe-inline'" in response["Content-Security-Policy"].split("style-src")[1]
    assert (
        "'unsafe-inline'" not in client.get(f"/maps/{onboarding.slug}/")["Content-Security-Policy"]
    )


def test_the_map_page_links_to_the_mermaid_export_and_the_print_view(client, viewer, team_map):
    client.force_login(viewer)
    html = client.get(f"/maps/{team_map.slug}/").content.decode()
    assert f'href="/maps/{team_map.slug}/export/mermaid/"' in html
    assert f'href="/maps/{team_map.slug}/print/"' in html


def test_the_download_is_a_text_file_named_after_the_map(client, viewer, onboarding):
    client.force_login(viewer)
    response = client.get(f"/maps/{onboarding.slug}/export/mermaid/download/")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="open-an-account.mmd"'
    assert response.content.decode() == map_to_mermaid(onboarding)


def test_the_api_returns_the_text_as_plain_text(viewer, onboarding):
    api = APIClient()
    api.force_authenticate(viewer)
    response = api.get(f"/api/maps/{onboarding.pk}/export/mermaid/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == map_to_mermaid(onboarding)


def test_a_draft_is_exported_only_to_those_who_may_see_it(client, viewer, other_owner, draft_map):
    StepFactory(map=draft_map, name="Secret step")
    client.force_login(viewer)
    for url in (
        f"/maps/{draft_map.slug}/export/mermaid/",
        f"/maps/{draft_map.slug}/export/mermaid/download/",
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert b"Secret step" not in response.content
    api = APIClient()
    api.force_authenticate(viewer)
    response = api.get(f"/api/maps/{draft_map.pk}/export/mermaid/")
    assert response.status_code == 404
    assert b"Secret step" not in response.content
    client.force_login(other_owner)
    assert b"Secret step" in client.get(f"/maps/{draft_map.slug}/export/mermaid/download/").content


def test_signed_out_visitors_are_sent_to_sign_in_and_the_api_answers_401(client, team_map):
    response = client.get(f"/maps/{team_map.slug}/export/mermaid/download/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert APIClient().get(f"/api/maps/{team_map.pk}/export/mermaid/").status_code == 401


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_export_runs_the_same_queries_for_ten_times_the_steps(client, owner, team):
    # session + user, the map (with owner, team), its personas, visibility, stages, steps
    small = JourneyMapFactory(slug="small", owner=owner, team=team)
    big = JourneyMapFactory(slug="big", owner=owner, team=team)
    build_map_content(small, steps=3)
    build_map_content(big, steps=30)
    client.force_login(owner)
    for url in ("/maps/{}/export/mermaid/download/", "/maps/{}/export/mermaid/"):
        assert _queries(client, url.format("small")) == _queries(client, url.format("big"))
