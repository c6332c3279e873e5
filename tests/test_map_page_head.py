# ruff: noqa: E501 -- REFERENCE is the template's text as it was, long lines included
"""The map page's breadcrumbs, header and legend built in Python
(``maps.map_page.render_page_head``, #16) are byte for byte what the Django template they
replaced wrote (``REFERENCE``, kept here as it was), for every kind of reader and map:
escaping of quotes and markup, personas, a team or none, review due or not, a map zooming
into a step, inventory entries it replaced, drafts beside it, an underscore in the slug."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template import engines
from django.utils import timezone

from governance import comments
from governance.models import ExternalMap
from governance.templatetags.discussion import PANEL_TEMPLATE, panel_context
from maps import views
from maps.future_state import State
from maps.models import JourneyMap
from tests.factories import JourneyMapFactory, PersonaFactory, StepFactory

pytestmark = pytest.mark.django_db
_TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+')
Status = JourneyMap.Status

# templates/maps/map_detail.html's content block before #16 (up to the grid's include)
REFERENCE = """{% load static journeyhub %}
<nav class="breadcrumbs" aria-label="Breadcrumb">
  <ol>
    <li><a href="{% url 'maps:repository' %}">{% term "maps" %}</a></li>
    {% include "_crumbs_ancestors.html" %}
    <li aria-current="page">{{ map.title }}</li>
  </ol>
</nav>

<header class="map-header">
  <div class="map-title-row">
    <h1>{{ map.title }}</h1>
    <span class="level-tag">{% level_name map.level %}</span>
    <span class="status status-{{ map.status }}">{{ map.get_status_display }}</span>
    {% if map.is_review_due %}<span class="badge badge-warn">Review due since {{ map.review_due_at|date:"j M Y" }}</span>{% endif %}
    <a class="health health-{{ scorecard.status }}" href="{% url 'governance:scorecard' map.slug %}">{% if scorecard.health is not None %}Health {{ scorecard.health|floatformat:0 }} · {{ scorecard.status_label }}{% else %}Scorecard{% endif %}</a>
    <div class="map-actions">
      <a class="button button-small" href="{% url 'governance:history' map.slug %}">History</a>
      <a class="button button-small" href="{% url 'governance:snapshots' map.slug %}">Snapshots</a>
      <a class="button button-small" href="{% url 'maps:research' map.slug %}">Research</a>
      <a class="button button-small" href="{% url 'maps:print' map.slug %}">Print</a>
      {% if can_edit %}<a class="button button-small" href="{% url 'maps:settings' map.slug %}?v={{ map.version }}" hx-get="{% url 'maps:settings' map.slug %}?v={{ map.version }}" hx-target="#editor-panel">Map settings</a>{% endif %}
      <details class="menu-details">
        <summary class="button button-small">Export</summary>
        <ul class="menu-list" aria-label="Export the map">
          <li><a href="{% url 'maps:export' map.slug %}" download>With its sub-maps (journeyhub/1)</a></li>
          <li><a href="{% url 'maps:export' map.slug %}?subtree=0" download>This map only (journeyhub/1)</a></li>
          <li><a href="{% url 'maps:export-xlsx' map.slug %}" download>Spreadsheet (XLSX)</a></li>
          <li><a href="{% url 'maps:mermaid' map.slug %}">Mermaid journey, for wikis</a></li>
          <li><a href="{% url 'api:map-theydo-export' map.pk %}?kind=metrics" download>TheyDo: KPIs (THEYDO_METRICS_V1)</a></li>
          <li><a href="{% url 'api:map-theydo-export' map.pk %}?kind=insights" download>TheyDo: insights (THEYDO_INSIGHTS_V1)</a></li>
          <li><a href="{% url 'api:map-theydo-export' map.pk %}?kind=opportunities" download>TheyDo: opportunities (THEYDO_OPPORTUNITIES_V1)</a></li>
          <li><a href="{% url 'api:map-theydo-export' map.pk %}?kind=solutions" download>TheyDo: CX projects (THEYDO_SOLUTIONS_V1)</a></li>
          <li class="muted small">TheyDo surveys and feedback: on each source's page under Research.</li>
        </ul>
      </details>
      {% if can_edit %}
      <details class="menu-details">
        <summary class="button button-small">Import</summary>
        <ul class="menu-list" aria-label="Import into the map">
          <li><a href="{% url 'maps:import' %}?under={{ map.slug }}">Maps under this one (journeyhub/1)</a></li>
          <li><a href="{% url 'maps:spreadsheet-import' map.slug %}">From a spreadsheet (CSV, XLSX)</a></li>
          <li><a href="{% url 'maps:theydo-imports' map.slug %}">From TheyDo</a></li>
        </ul>
      </details>
      {% endif %}
      {% if can_manage %}
      <a class="button button-small" href="{% url 'governance:share' map.slug %}">Share</a>
      <a class="button button-small" href="{% url 'governance:transfer' map.slug %}">Transfer ownership</a>
      {% endif %}
    </div>
  </div>
  {% if map.summary %}<p class="map-summary">{{ map.summary }}</p>{% endif %}
  <dl class="map-facts">
    <div><dt>{% term "owner" %}</dt><dd>{{ map.owner.get_full_name|default:map.owner.username }}</dd></div>
    <div><dt>{% term "team" %}</dt><dd>{{ map.team.name|default:"—" }}</dd></div>
    {% with personas=map.personas.all %}<div><dt>{% term "persona" %}{{ personas|length|pluralize }}</dt><dd class="map-personas">{% for p in personas %}<a href="{% url 'personas:detail' p.slug %}">{{ p.name }}</a>{% if not forloop.last %}, {% endif %}{% empty %}—{% endfor %}</dd></div>{% endwith %}
    <div><dt>Last reviewed</dt><dd>{{ map.last_reviewed_at|date:"j M Y"|default:"never" }} <span class="muted">(every {{ map.review_every_days }} days)</span></dd></div>
    {% if can_review %}
    <div class="review-box">
      <dt class="visually-hidden">Review</dt>
      <dd>
        <details{% if map.is_review_due %} open{% endif %}>
          <summary class="button button-small{% if map.is_review_due %} button-primary{% endif %}">Mark as reviewed</summary>
          <form method="post" action="{% url 'governance:review' map.slug %}" class="review-form">
            {% csrf_token %}
            <label for="review-note">What did you check? <span class="muted">(optional)</span></label>
            <input type="text" id="review-note" name="note" maxlength="2000" placeholder="e.g. walked through it with the contact centre">
            <button type="submit" class="button button-primary button-small">Confirm it is current</button>
          </form>
        </details>
      </dd>
    </div>
    {% endif %}
    {% if map.parent_step and parent_visible %}
    <div><dt>Zooms into</dt><dd><a href="{{ map.parent.get_absolute_url }}#step-{{ map.parent_step_id }}">{{ map.parent_step.name }}</a> <span class="muted">of {{ map.parent.title }}</span></dd></div>
    {% endif %}
    {% include "governance/inventory_migrated_from.html" %}
  </dl>
  {% include "maps/partials/map_states.html" %}
  <p class="print-only" hidden>On paper the grid shows only the columns that fit; the Print view puts every {% term "step" as step_label %}{{ step_label|lower }} on paper: {{ request.scheme }}://{{ request.get_host }}{% url 'maps:print' map.slug %}</p>
</header>

<section aria-labelledby="legend-title" class="legend">
  <h2 id="legend-title" class="visually-hidden">Legend</h2>
  <span class="legend-label">Evidence:</span>
  <span class="evidence evidence-assumption">Assumption</span>
  <span class="evidence evidence-anecdotal">Anecdotal</span>
  <span class="evidence evidence-researched">Researched</span>
  <span class="evidence evidence-measured">Measured</span>
  <span class="legend-sep" aria-hidden="true"></span>
  <span class="mot-flag">★ {% term "moment_of_truth" %}</span>
  {% if can_edit %}<span class="legend-sep" aria-hidden="true"></span><span class="muted">You can edit this map.</span>{% endif %}
</section>

<div id="editor-status" class="editor-status" role="status" aria-live="polite"></div>
<div id="editor-panel" class="editor-panel-slot"></div>

"""


@pytest.fixture
def page_context(monkeypatch):
    """The context and request the map page renders with, captured from the view."""
    captured: dict = {}
    render = views.render

    def capture(request, name, context):
        captured.update(request=request, context=context)
        return render(request, name, context)

    monkeypatch.setattr(views, "render", capture)
    return captured


def _both(client, user, journey_map, page_context) -> tuple[str, str]:
    client.force_login(user)
    response = client.get(f"/maps/{journey_map.slug}/")
    assert response.status_code == 200
    django = engines["django"]
    request, context = page_context["request"], page_context["context"]
    slow = django.from_string(REFERENCE).render(context, request)
    fast = django.from_string("{% load journeyhub %}{% map_page_head %}").render(context, request)
    # each use of the CSRF token masks it anew
    fast, slow, page = (_TOKEN.sub(r"\1TOKEN", text) for text in (fast, slow, response.text))
    assert fast in page  # the page shows what is compared here
    return fast, slow


@pytest.fixture
def maps_(owner, other_owner, team):
    """A draft top map, a published journey under it zooming into one of its steps (with
    awkward text, personas, an inventory entry it replaced, due for review), and a
    future state of it (with a vision); a team-less map of Omar's."""
    top = JourneyMapFactory(title="Life <cycle>", owner=other_owner, status=Status.DRAFT)
    step = StepFactory(map=top, name='Join "now" & <stay>')
    journey = JourneyMapFactory(
        title='Open an "account" & <b>save</b> it\'s',
        summary="Why: <script>alert(1)</script> & more",
        owner=owner,
        team=team,
        parent=top,
        parent_step=step,
        personas=[PersonaFactory(name="Saver & <co>"), PersonaFactory(name="Borrower")],
        status=Status.PUBLISHED,
        vision="Accounts in a minute",
    )
    JourneyMap.objects.filter(pk=journey.pk).update(
        review_due_at=timezone.now() - dt.timedelta(days=3),
        last_reviewed_at=timezone.now() - dt.timedelta(days=400),
    )
    ExternalMap.objects.create(
        title="Old <board>",
        tool="miro",
        link="https://miro.example/b/1?a=1&b=2",
        status="migrated",
        migrated_to=journey,
        owner=owner,
    )
    future = JourneyMapFactory(
        title="Open an account tomorrow",
        owner=owner,
        team=team,
        parent=top,
        state=State.FUTURE,
        state_of=journey,
        scenario_label="A & B",
        status=Status.PUBLISHED,
    )
    plain = JourneyMapFactory(
        title="Plain", slug="plain_map-2", owner=other_owner, personas=[PersonaFactory(name="Solo")]
    )
    return [JourneyMap.objects.get(pk=m.pk) for m in (journey, future, plain, top)]


def test_the_header_built_in_python_is_the_templates_for_every_reader_and_map(
    client, maps_, owner, team_member, other_owner, viewer, leader, admin_user, page_context
):
    journey, future, plain, top = maps_
    readers = (owner, team_member, other_owner, viewer, leader, admin_user)
    compared = 0
    for user in readers:
        for journey_map in (journey, future, plain, top):
            if journey_map is top and user in (owner, team_member, viewer):
                continue  # a draft they may not open
            fast, slow = _both(client, user, journey_map, page_context)
            assert fast == slow, (user.username, journey_map.slug)
            compared += 1
    assert compared == 21
    # the cases the comparison covers are on the pages
    fast, _ = _both(client, owner, journey, page_context)
    assert "Open an &quot;account&quot; &amp; &lt;b&gt;save&lt;/b&gt; it&#x27;s" in fast
    assert "Review due since" in fast and "details open" in fast
    assert "Zooms into" not in fast and "Old &lt;board&gt;" in fast  # its parent: a draft
    assert "Borrower</a>, <a" in fast and "Saver &amp; &lt;co&gt;</a>" in fast
    assert "Map settings" in fast
    assert "Share</a>" in fast and 'name="csrfmiddlewaretoken"' in fast
    fast, _ = _both(client, leader, journey, page_context)
    assert "Zooms into" in fast and "Join &quot;now&quot; &amp; &lt;stay&gt;" in fast
    fast, _ = _both(client, viewer, future, page_context)
    assert "Compare with today" in fast and "Map settings" not in fast
    fast, _ = _both(client, viewer, plain, page_context)
    assert "/maps/plain_map-2/print/" in fast and "<dd>—</dd>" in fast


def test_a_map_no_longer_due_shows_no_review_badge_in_either(client, maps_, owner, page_context):
    journey = maps_[0]
    JourneyMap.objects.filter(pk=journey.pk).update(
        review_due_at=timezone.now() + dt.timedelta(days=30), last_reviewed_at=None
    )
    fast, slow = _both(client, owner, journey, page_context)
    assert fast == slow
    assert "Review due since" not in fast and ">never <" in fast


def test_a_maps_sub_maps_lane_shows_the_readers_visible_sub_maps_and_a_leaf_none(
    client, team_map, other_owner, viewer
):
    """The visibility filter is built only for a map with sub-maps (a leaf asks none)."""
    step = StepFactory(map=team_map, name="Apply")
    JourneyMapFactory(title="Shown zoom", owner=other_owner, parent=team_map, parent_step=step)
    JourneyMapFactory(
        title="Hidden zoom", owner=other_owner, parent=team_map, parent_step=step, status="draft"
    )
    client.force_login(viewer)
    page = client.get(team_map.get_absolute_url()).text
    assert "Shown zoom" in page and "Hidden zoom" not in page
    for child in JourneyMap.objects.filter(parent=team_map):
        JourneyMap.objects.get(pk=child.pk).delete()  # MPTT closes the gap in the tree
    leaf = JourneyMap.objects.get(pk=team_map.pk)
    assert leaf.is_leaf_node()
    page = client.get(leaf.get_absolute_url()).text
    assert "Shown zoom" not in page and "Open an account" in page


def test_the_discussion_panel_built_without_the_template_is_the_templates(
    client, maps_, owner, viewer, page_context
):
    """No open thread: the panel's bytes built in Python (with htmx for a reader, without
    for an editor, whose page loads it); with threads the template renders them."""
    journey = maps_[0]
    django = engines["django"]
    panel = django.from_string("{% load discussion %}{% discussion_panel %}")
    reference = django.get_template(PANEL_TEMPLATE)
    for user, htmx in ((viewer, True), (owner, False)):
        _both(client, user, journey, page_context)
        context, request = page_context["context"], page_context["request"]
        fast = panel.render(context, request)
        assert fast == reference.render(panel_context({**context, "request": request}))
        assert "No open threads." in fast and ("htmx.min.js" in fast) is htmx
    comments.comment_create(journey_map=journey, author=owner, body="Is <this> & that right?")
    _both(client, viewer, journey, page_context)
    context, request = page_context["context"], page_context["request"]
    shown = panel.render(context, request)
    assert shown == reference.render(panel_context({**context, "request": request}))
    assert "1 open" in shown and "Is &lt;this&gt; &amp; that right?" in shown
