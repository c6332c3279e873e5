"""The map page's grid as rendered by maps/map_page.py (Jinja2, #16): page weight, the
URLs its compact controls carry, and the no-JavaScript paths those controls keep."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.urls import resolve, reverse

from maps.content import BY_EDITOR
from maps.models import KPI, LaneItem, PainPoint, Stage, Step
from tests.builders import build_map_content
from tests.factories import JourneyMapFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
VERBS = ("Visit", "Call", "Search", "Compare", "Confirm", "Receive", "Wait for")
NOUNS = ("letter", "branch", "offer", "card", "ID check", "agent", "app", "form")


@pytest.fixture
def olivia(client, owner):
    client.force_login(owner)
    return client


def typical_map(owner):
    """The #16 typical map, as benchmarks/generate.py builds it: 8 stages, 49 steps,
    248 lane items (60 % pain points), 4 KPIs, names as long as the generator's."""
    journey = JourneyMapFactory(owner=owner, slug="bench-00004-002-001", title="Typical map")
    stages = Stage.objects.bulk_create(
        Stage(map=journey, name=f"Stage {i + 1}", position=i) for i in range(8)
    )
    steps = Step.objects.bulk_create(
        Step(
            map=journey,
            stage=stages[i * 8 // 49],
            key=f"s{i}",
            name=f"{VERBS[i % 7]} {NOUNS[i % 8]} {i}",
            position=i,
            channel="web",
            evidence="anecdotal",
        )
        for i in range(49)
    )
    PainPoint.objects.bulk_create(
        PainPoint(
            map=journey,
            step=steps[i % 49],
            kind="customer" if i % 3 else "employee",
            title=f"Pain point {i}: slow {NOUNS[i % 8]}",
            severity=1 + i % 5,
            frequency=1 + i % 4,
            position=i,
        )
        for i in range(149)
    )
    kinds = LaneItem.Kind.values
    LaneItem.objects.bulk_create(
        LaneItem(
            map=journey,
            step=steps[i % 49],
            kind=kinds[i % 4],
            title=f"{kinds[i % 4].capitalize()} {i}",
            position=i,
        )
        for i in range(99)
    )
    KPI.objects.bulk_create(
        KPI(map=journey, name=f"Completion rate {i}", unit="%", target=80) for i in range(4)
    )
    return journey


def grid_of(html: str) -> str:
    return html[html.index('<div id="map-grid"') :]


def control_urls(html: str, page_url: str) -> list[str]:
    """Every href, action and formaction inside the grid, made absolute as a browser does."""
    return [
        urljoin(page_url, unescape(url))
        for url in re.findall(r'(?:href|action)="([^"#]*)"', grid_of(html))
        if url
    ]


class TestPageWeight:
    def test_the_editor_page_of_a_typical_map_stays_under_250_kb(self, olivia, owner):
        journey = typical_map(owner)
        page = olivia.get(journey.get_absolute_url())
        assert page.status_code == 200
        # one edit link per card, one add button per lane cell: all there, yet small
        assert page.text.count('aria-label="Edit Pain point') == 149
        assert page.text.count('class="add-button"') == 50 * 7
        assert len(page.content) < 250_000

    def test_the_read_only_page_of_a_typical_map_stays_under_120_kb(self, client, viewer, owner):
        journey = typical_map(owner)
        client.force_login(viewer)
        page = client.get(journey.get_absolute_url())
        assert page.status_code == 200 and "Pain point 148: slow ID check" in page.text
        assert len(page.content) < 120_000


class TestControlUrls:
    def test_every_control_of_every_card_kind_leads_to_its_own_view(self, olivia, team_map):
        steps = build_map_content(team_map, steps=3, items_per_step=2)
        url = team_map.get_absolute_url()
        page = olivia.get(url).text
        urls = control_urls(page, f"http://testserver{url}")
        for kind, objs in (
            ("painpoint", PainPoint.objects.filter(map=team_map)),
            ("laneitem", LaneItem.objects.filter(map=team_map)),
            ("kpi", KPI.objects.filter(map=team_map)),
            ("step", steps),
            ("stage", Stage.objects.filter(map=team_map)),
        ):
            for obj in objs:
                edit = reverse("maps:item-edit", args=[team_map.slug, kind, obj.pk])
                assert f"http://testserver{edit}?v=1" in urls, (kind, obj)
        for step in steps:
            delete = reverse("maps:item-delete", args=[team_map.slug, "step", step.pk])
            assert f"http://testserver{delete}" in urls
            assert f'form="step-move" name="right" value="{step.pk}"' in page
        reorder = reverse("maps:reorder", args=[team_map.slug, "step"])
        assert f"http://testserver{reorder}" in urls  # the step-move form's action
        # every URL the grid carries resolves to a view of this map (or the map page's
        # neighbours: new map, projects), none is broken by the relative form
        for absolute in urls:
            if urlsplit(absolute).path.startswith(settings.STATIC_URL):
                continue  # what the page adds after the grid (stylesheets)
            match = resolve(urlsplit(absolute).path)
            assert match.kwargs.get("slug", team_map.slug) == team_map.slug, absolute

    def test_a_cards_delete_url_is_its_edit_url_plus_delete_for_every_kind(self):
        # static/js/editor.js builds each card's delete button from its edit link
        for kind in BY_EDITOR:
            edit = reverse("maps:item-edit", args=["any-map", kind, 7])
            assert reverse("maps:item-delete", args=["any-map", kind, 7]) == f"{edit}delete/"

    def test_the_refreshed_grid_of_an_htmx_edit_uses_urls_of_the_map_page(self, olivia, team_map):
        build_map_content(team_map, steps=2, items_per_step=1)
        pain = PainPoint.objects.filter(map=team_map).first()
        response = olivia.post(
            reverse("maps:item-delete", args=[team_map.slug, "painpoint", pain.pk]),
            {"map_version": team_map.version},
            **HX,
        )
        assert response.headers["HX-Retarget"] == "#map-grid"
        # swapped into the map page: relative URLs resolve against that page's address
        page_url = f"http://testserver{team_map.get_absolute_url()}"
        step = Step.objects.filter(map=team_map).first()
        edit = reverse("maps:item-edit", args=[team_map.slug, "step", step.pk])
        assert f"http://testserver{edit}?v=2" in control_urls(response.text, page_url)

    def test_the_public_share_page_has_no_controls_and_no_cookie(self, client, team_map):
        from governance.share_links import share_link_create

        build_map_content(team_map, steps=2, items_per_step=1)
        _, token = share_link_create(journey_map=team_map, by=team_map.owner, label="x")
        response = client.get(reverse("share-link-public", kwargs={"token": token}))
        assert response.status_code == 200
        assert "grid-post" not in response.text and "/edit/" not in response.text
        assert not response.cookies


class TestWithoutJavaScript:
    """The grid's buttons submit its one form (CSRF token, map version) to their
    formaction: a browser without JavaScript deletes and moves as before."""

    def grid_form(self, page: str, form_id: str = "grid-post") -> dict[str, str]:
        form = re.search(rf'<form id="{form_id}"[^>]*>(.*?)</form>', page).group(1)
        return dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))

    def test_a_step_is_deleted_through_the_grid_form(self, olivia, team_map):
        steps = build_map_content(team_map, steps=3, items_per_step=0)
        url = team_map.get_absolute_url()
        page = olivia.get(url).text
        delete = reverse("maps:item-delete", args=[team_map.slug, "step", steps[1].pk])
        assert f'formaction="{delete[len(url) :]}"' in page
        response = olivia.post(delete, self.grid_form(page))
        assert response.status_code == 302
        assert not Step.objects.filter(pk=steps[1].pk).exists()

    def test_a_step_is_moved_right_through_the_grid_form(self, olivia, team_map):
        steps = build_map_content(team_map, steps=3, items_per_step=0)
        page = olivia.get(team_map.get_absolute_url()).text
        reorder = reverse("maps:reorder", args=[team_map.slug, "step"])
        assert f'action="{reorder[len(team_map.get_absolute_url()) :]}"' in page
        data = {**self.grid_form(page, "step-move"), "right": steps[0].pk}
        assert olivia.post(reorder, data).status_code == 302
        moved = Step.objects.filter(map=team_map).order_by("position", "pk")
        assert [s.pk for s in moved][:2] == [steps[1].pk, steps[0].pk]

    def test_an_items_edit_page_deletes_it(self, olivia, team_map):
        build_map_content(team_map, steps=1, items_per_step=1)
        pain = PainPoint.objects.filter(map=team_map).first()
        page = olivia.get(reverse("maps:item-edit", args=[team_map.slug, "painpoint", pain.pk]))
        delete = reverse("maps:item-delete", args=[team_map.slug, "painpoint", pain.pk])
        assert f'action="{delete}"' in page.text and "Delete this pain point" in page.text
        response = olivia.post(delete, {"map_version": team_map.version})
        assert response.status_code == 302 and not PainPoint.objects.filter(pk=pain.pk).exists()


class TestStepAndCardControls:
    def test_the_zoom_button_says_what_it_does(self, olivia, team_map):
        build_map_content(team_map, steps=2, items_per_step=0)
        page = olivia.get(team_map.get_absolute_url()).text
        assert page.count("⊕ Sub-map</a>") == 2  # visible, not only an aria-label

    def test_leaderships_zoom_link_opens_the_new_map_form_on_a_map_it_does_not_edit(
        self, client, team_map, leader
    ):
        steps = build_map_content(team_map, steps=2, items_per_step=0)
        client.force_login(leader)
        page = client.get(team_map.get_absolute_url()).text
        new = f"{reverse('maps:new')}?parent={team_map.slug}&amp;step={steps[0].pk}"
        assert f'<a class="zoom-link" href="{new}">Zoom into this step +</a>' in page
        form = client.get(unescape(new))  # it was "?parent=…" on the map page itself
        assert form.status_code == 200 and f'value="{steps[0].name}"' in form.text

    def test_stage_headers_name_their_stage_for_the_drop(self, olivia, team_map):
        build_map_content(team_map, steps=4, items_per_step=0)
        page = olivia.get(team_map.get_absolute_url()).text
        for stage in Stage.objects.filter(map=team_map):
            assert f'class="stage-head" data-stage="{stage.pk}">{stage.name}</th>' in page

    def test_readers_cards_carry_their_id_for_the_comment_link_and_editors_do_not(
        self, client, olivia, team_map, viewer
    ):
        build_map_content(team_map, steps=2, items_per_step=1)
        pain = PainPoint.objects.filter(map=team_map, step__isnull=False).first()
        # editors: comments.js reads the id from the card's edit link (the page's weight)
        card = f'data-id="{pain.pk}"><h3>{pain.title}</h3>'
        assert card not in grid_of(olivia.get(team_map.get_absolute_url()).text)
        client.force_login(viewer)
        page = grid_of(client.get(team_map.get_absolute_url()).text)
        assert card in page
        assert "data-stage" not in page  # only editors drag


def test_names_are_escaped_in_the_grid_and_on_paper(olivia, team_map):
    hostile = '<img src=x onerror="alert(1)">'
    build_map_content(team_map, steps=2, items_per_step=1)
    Step.objects.filter(map=team_map).update(name=hostile)
    PainPoint.objects.filter(map=team_map).update(title=hostile)
    for url in (team_map.get_absolute_url(), reverse("maps:print", args=[team_map.slug])):
        page = olivia.get(url).text
        assert hostile not in page and "&lt;img src=x onerror=" in page


class TestLinkedContent:
    """The grid reads projects and tags from its link rows (one query, #16): each
    project once, in title order, in the whole-map cell or the cells of its steps."""

    def test_projects_of_the_map_and_of_its_steps_show_once_each_and_no_others(
        self, olivia, team_map
    ):
        from maps.selectors import map_grid
        from tests.factories import CXProjectFactory, StepFactory

        first, second = StepFactory(map=team_map), StepFactory(map=team_map)
        other_step = StepFactory(map=JourneyMapFactory(owner=team_map.owner))
        CXProjectFactory(title="B both", maps=[team_map], steps=[first, second])
        CXProjectFactory(title="A map only", maps=[team_map])
        CXProjectFactory(title="C step only", steps=[second])
        CXProjectFactory(title="D elsewhere", steps=[other_step])
        grid = map_grid(team_map, children=team_map.children.none())
        lane = next(lane for lane in grid.lanes if lane.key == "projects")
        assert [p.title for p in lane.whole_map] == ["A map only"]
        cells = {step.pk: [p.title for p in cell] for step, cell in lane.cells}
        assert cells == {first.pk: ["B both"], second.pk: ["B both", "C step only"]}
        page = olivia.get(team_map.get_absolute_url()).text
        assert page.count(">B both</a>") == 2 and "D elsewhere" not in page

    def test_a_cards_tags_follow_the_tag_order_and_untagged_cards_show_none(self, olivia, team_map):
        from maps.models import Tag, TagGroup
        from maps.selectors import map_grid
        from tests.factories import LaneItemFactory

        group = TagGroup.objects.create(name="Theme")
        tagged = LaneItemFactory(map=team_map, kind="insight", title="Tagged")
        LaneItemFactory(map=team_map, kind="insight", title="Bare")
        tagged.tags.set(
            [
                Tag.objects.create(name="zeta"),
                Tag.objects.create(name="fees", group=group),
                Tag.objects.create(name="alpha"),
                Tag.objects.create(name="Segment", kind=Tag.Kind.GROUP),
            ]
        )
        grid = map_grid(team_map, children=team_map.children.none())
        lane = next(lane for lane in grid.lanes if lane.key == "insights")
        shown = {item.title: [str(t) for t in item.tag_list] for item in lane.whole_map}
        assert shown["Tagged"] == [str(t) for t in tagged.tags.all()]  # Tag.Meta.ordering
        assert shown["Bare"] == []


def shown_of(model) -> list[str]:
    from maps.selectors import _UNSHOWN

    return [f.attname for f in model._meta.concrete_fields if f.name not in _UNSHOWN]


class TestFastInstances:
    """The grid builds its steps, pain points and lane items without Model.__init__
    (maps.selectors.loaded, #16): they must equal what the ORM loads."""

    def test_loaded_instances_equal_the_orms_field_by_field_with_owners_cached(
        self, team_map, owner, django_assert_num_queries
    ):
        from maps.selectors import _OWNER_FIELDS, _UNSHOWN, _lane_item_rows, _step_rows, loaded
        from tests.factories import LaneItemFactory, StepFactory

        step = StepFactory(map=team_map, is_moment_of_truth=True, emotion=-2, channel="")
        LaneItemFactory(
            map=team_map, step=step, kind="idea", owner=owner, empathy_score=4.5,
            weight=None, external_links=["https://example.com/a"], status="new",
        )  # fmt: skip
        LaneItemFactory(map=team_map, step=None, kind="insight", owner=None, weight=2.0)
        user_model = LaneItem._meta.get_field("owner").related_model
        for model, statement, related in (
            (Step, _step_rows, ()),
            (LaneItem, _lane_item_rows, [("owner", user_model, _OWNER_FIELDS)]),
        ):
            shown = shown_of(model)
            with django_assert_num_queries(1):
                fast = loaded(statement.rows(team_map.pk), model, shown, related=related)
            slow = list(model.objects.filter(map=team_map).order_by("position", "pk"))
            assert [obj.pk for obj in fast] == [obj.pk for obj in slow]
            for a, b in zip(fast, slow, strict=True):
                assert type(a) is model and not a._state.adding and a._state.db == "default"
                for field in model._meta.concrete_fields:
                    if field.name not in _UNSHOWN:
                        assert getattr(a, field.attname) == getattr(b, field.attname), field
                        assert type(getattr(a, field.attname)) is type(getattr(b, field.attname))
        with django_assert_num_queries(0):
            names = sorted(str(i.owner.get_full_name() if i.owner else None) for i in fast)
        assert names == ["None", owner.get_full_name()]
        (again,) = loaded(_step_rows.rows(team_map.pk), Step, shown_of(Step))
        with django_assert_num_queries(1):  # a field left out is read on access
            assert again.description == step.description

    def test_no_init_signal_is_connected_for_the_models_the_grid_builds(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_init, pre_init

        from maps.models import KPI, CXProject, StepLink, Tag, TagGroup

        for model in (Stage, Step, StepLink, PainPoint, LaneItem, KPI, CXProject, Tag, TagGroup,
                      get_user_model()):  # fmt: skip
            assert not pre_init.has_listeners(model) and not post_init.has_listeners(model)
