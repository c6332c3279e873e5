"""The scorecard page's unbound rating forms (``governance.rating_forms``), filled into
HTML rendered once per process, render as the real ``FactorRatingForm`` does through the
page's template: every rating, awkward notes, any factor id and version (#16)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from governance import views_scorecard
from governance.rating_forms import unbound_rating_form
from maps import map_page
from maps.models import Perspective
from tests.factories import QualitativeFactorFactory

_PAGE = (Path(settings.BASE_DIR) / "templates/jinja2/governance/scorecard.html").read_text()
# the page's own macro and form block, rendered for one form
_MACRO = re.search(r"{% macro field\(f\) -%}.*?{%- endmacro %}", _PAGE, re.S).group(0)
_BLOCK = re.search(r'<details class="sc-rate".*?</details>', _PAGE, re.S).group(0)
_SNIPPET = map_page.environment.from_string(_MACRO + _BLOCK)
_TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')

NOTES = [None, "", " ", "0", "Quick.", 'a <b> & "c" \'d\'', "two\nlines\r\n", "ünïcödé ✓",
         "987654321001 987654321002 jh-note-7362100", "{{ x }} {% y %}", "x" * 2000]  # fmt: skip


def _render(form, factor_id: int) -> str:
    return _SNIPPET.render(
        form=form,
        factor=type("F", (), {"factor_id": factor_id, "name": "Ease <b>"})(),
        map=type("M", (), {"slug": "a-map"})(),
        urls={"scorecard": ("/maps/", "/scorecard/")},
        csrf_token="token",
    )


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5, None, 0, 6])
def test_the_filled_form_renders_as_the_real_one(rating):
    cases = [(1, 1, note) for note in NOTES] + [(987654321, 12345, "x"), (42, 987654321001, "y")]
    for factor_id, version, note in cases:
        real = views_scorecard._rating_form(
            factor_id=factor_id,
            initial={"factor": factor_id, "rating": rating, "note": note, "version": version},
        )
        filled = unbound_rating_form(
            factor_id=factor_id,
            rating=rating,
            note=note,
            version=version,
            renderer=views_scorecard._WIDGET_RENDERER,
        )
        assert _render(filled, factor_id) == _render(real, factor_id), (rating, note)


@pytest.mark.django_db
def test_the_page_is_the_page_with_real_forms(client, monkeypatch, team_map, owner):
    for i, note in enumerate(NOTES[1:]):
        QualitativeFactorFactory(map=team_map, name=f"Factor {i}", rating=1 + i % 5, note=note,
                                 perspective=Perspective.CUSTOMER)  # fmt: skip
    client.force_login(owner)  # an editor
    fast = client.get(f"/maps/{team_map.slug}/scorecard/").text
    assert fast.count('class="sc-rate-form"') == len(NOTES) - 1

    def real_form(*, factor_id, rating, note, version, renderer):
        assert renderer is views_scorecard._WIDGET_RENDERER
        return views_scorecard._rating_form(
            factor_id=factor_id,
            initial={"factor": factor_id, "rating": rating, "note": note, "version": version},
        )

    monkeypatch.setattr(views_scorecard, "unbound_rating_form", real_form)
    slow = client.get(f"/maps/{team_map.slug}/scorecard/").text
    assert _TOKEN.sub("", fast) == _TOKEN.sub("", slow)


@pytest.mark.django_db
def test_a_new_rating_or_note_shows_on_the_next_page(client, team_map, owner):
    factor = QualitativeFactorFactory(map=team_map, name="Ease", rating=2, note="Slow.")
    client.force_login(owner)
    page = client.get(f"/maps/{team_map.slug}/scorecard/").text
    assert '<option value="2" selected>' in page and ">\nSlow.</textarea>" in page
    factor.rating, factor.note = 5, "Fast & <easy>."
    factor.save()
    team_map.refresh_from_db()
    page = client.get(f"/maps/{team_map.slug}/scorecard/").text
    assert '<option value="5" selected>' in page and '<option value="2" selected>' not in page
    assert ">\nFast &amp; &lt;easy&gt;.</textarea>" in page
    assert f'name="version" value="{team_map.version}"' in page
