"""The map grid rendered fast: the hot part of the map page, the print view's cards.

A typical map (49 steps, 248 lane items) has about 300 cards, each with its own edit,
delete and add controls. Rendered with Django templates that cost one ``{% include %}``
per card and control, one ``{% url %}`` reversal per link and a ``localize`` call per
number (87 % of the page's time, #16). Here the grid is one Jinja2 template
(``templates/jinja2/maps/grid.html``, compiled to Python once) fed with URLs built once
per map from a prefix and an id, and choice labels read from dicts; the controls carry
no repeated ``hx-*`` attributes or CSRF fields: the grid has one hidden form (``grid-post``,
CSRF token and map version) that every delete and move button submits through
``form=``/``formaction`` (so they work without JavaScript) and ``static/js/editor.js``
turns those clicks and the ``data-panel`` links into htmx requests.

Django templates include the result through ``{% map_grid %}``
(``maps/templatetags/journeyhub.py``), so ``maps/partials/grid.html`` stays the one
name every page (map page, htmx refresh, public share page) includes.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from django.conf import settings
from django.db import models
from django.middleware.csrf import get_token
from django.template.defaultfilters import capfirst, floatformat, truncatechars
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.dateformat import format as date_format
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime, template_localtime

from .content import BY_EDITOR
from .models import Evidence
from .models.vocabulary import DEFAULT_TERMS
from .vocabulary import level_name

TEMPLATE_DIR = Path(settings.BASE_DIR) / "templates" / "jinja2"

# any pk that can never be a slug's only digits: the URL's last occurrence of it is the pk
_SENTINEL = 987654321987


def url_prefix(name: str, *args: Any) -> tuple[str, str]:
    """``(prefix, suffix)`` of a URL whose last argument is a pk: ``prefix + pk + suffix``
    is ``reverse(name, args=[*args, pk])``, for one reversal per map instead of per card."""
    full = reverse(name, args=[*args, _SENTINEL])
    head, _, tail = full.rpartition(str(_SENTINEL))
    return head, tail


@cache
def _choice_labels(model: type[models.Model], field: str) -> dict[Any, str]:
    return {value: str(label) for value, label in model._meta.get_field(field).flatchoices}


def display(obj: models.Model, field: str) -> str:
    """``obj.get_<field>_display()`` without rebuilding the choices dict on every call."""
    value = getattr(obj, field)
    return _choice_labels(type(obj), field).get(value, value)


EMOTION_LABELS = {
    -2: "Very negative",
    -1: "Negative",
    0: "Neutral",
    1: "Positive",
    2: "Very positive",
}


def _float(value: Any, arg: str = "-1") -> str:
    return floatformat(value, arg)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=settings.DEBUG,
        undefined=jinja2.Undefined,  # a missing attribute renders empty, as in Django
    )
    env.globals.update(
        display=display,
        level_name=level_name,
        evidence_labels=dict(Evidence.choices),
        emotion_labels=EMOTION_LABELS,
    )
    env.filters.update(floatformat=_float, truncatechars=truncatechars, capfirst=capfirst)
    return env


environment = _environment()


# stands for the map's slug in URLs reversed once per process (``_url_patterns``)
_SLUG = "map-slug-7362100"
_PLAIN_SLUG = re.compile(r"[-a-zA-Z0-9_]+")  # what <slug:…> accepts; reverse() keeps it as is


def _map_urls(slug: str, *, editor: bool, relative: bool) -> dict[str, Any]:
    """Every URL the grid needs: ``_url_patterns`` with the map's slug (35 reversals, a
    millisecond, for an editor's grid when each render reversed them)."""
    if not _PLAIN_SLUG.fullmatch(slug):
        return _url_patterns.__wrapped__(slug, editor, relative)
    # the URLconf and script prefix are the request's (tests override them)
    key = (get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF)
    return _with_slug(_url_patterns(_SLUG, editor, relative, *key), slug)


def _with_slug(value: Any, slug: str) -> Any:
    if isinstance(value, str):
        return value.replace(_SLUG, slug)
    if isinstance(value, tuple):
        return tuple(_with_slug(item, slug) for item in value)
    return {key: _with_slug(item, slug) for key, item in value.items()}


@functools.lru_cache(maxsize=32)
def _url_patterns(slug: str, editor: bool, relative: bool, *_key: Any) -> dict[str, Any]:
    """Every URL the grid needs, as prefix + id. ``relative``: the ones under the
    map's own page are written relative to it (``edit/painpoint/7/``), a third of a
    control's bytes; only when the grid is shown on that page (or swapped into it)."""
    base = reverse("maps:detail", args=[slug])
    cut = len(base) if relative else 0

    def pair(name: str, *args: Any) -> tuple[str, str]:
        head, tail = url_prefix(name, *args)
        return head[cut:], tail

    kinds = sorted(BY_EDITOR)
    urls: dict[str, Any] = {
        # few (only items backed by research): kept absolute
        "evidence": {kind: url_prefix("maps:evidence", slug, kind) for kind in ("step", *kinds)},
        "events": reverse("maps:events", args=[slug]),
        "project": url_prefix("project_detail"),
        # leadership zooms into any map's steps, editor or not
        "create_submap": reverse("maps:new"),
    }
    if editor:
        urls |= {
            "edit": {kind: pair("maps:item-edit", slug, kind)[0] for kind in kinds},
            "delete": {kind: pair("maps:item-delete", slug, kind) for kind in kinds},
            "new": {kind: reverse("maps:item-new", args=[slug, kind])[cut:] for kind in kinds},
            "reorder": {
                kind: reverse("maps:reorder", args=[slug, kind])[cut:] for kind in ("stage", "step")
            },
            "measurements": pair("maps:kpi-measurements", slug),
            "measurements_import": reverse("maps:measurements-import", args=[slug]),
            "project_new": reverse("project_new"),
        }
    return urls


def _term(labels: Mapping[str, str] | None) -> Callable[[str], str]:
    """The ``{% term %}`` tag as a function: the organisation's name of a concept."""
    # the lookup bound once: ``vocab`` is a lazy object, each attribute read of it a detour
    get = (DEFAULT_TERMS if labels is None else labels).get

    def term(key: str) -> str:
        return get(key, key.replace("_", " ").capitalize())

    return term


def render_grid(context: Mapping[str, Any]) -> SafeString:
    """The grid of ``context["grid"]`` as the map page shows it (``maps/partials/grid.html``).

    Reads what the Django templates' context holds: ``map``, ``grid``, ``can_edit``,
    ``can_zoom``, ``vocab`` (the organisation's terms) and ``request``; every other key
    of that context is passed on to the template as it is."""
    data = grid_data(context)
    # the repeated parts, built in Python: every value in them escaped
    data["step_heads"] = mark_safe(step_heads(data))
    data["flow_nodes"], data["emotion_dots"] = flow_nodes, emotion_dots
    data["lane_rows"] = mark_safe(lane_rows(data))
    return mark_safe(environment.get_template("maps/grid.html").render(data))


def grid_data(context: Mapping[str, Any]) -> dict[str, Any]:
    """What grid.html and the grid's Python parts read, from the page's ``context``."""
    journey_map = context["map"]
    labels = context.get("vocab")
    labels = DEFAULT_TERMS if labels is None else labels
    term = _term(labels)
    can_edit = bool(context.get("can_edit"))
    request = context.get("request")
    comment_counts = context.get("comment_counts")
    # the map page and the htmx requests under it (whose grid is swapped into that page)
    relative = request is not None and request.path.startswith(journey_map.get_absolute_url())

    return {
        # the page's whole context first: what another part of the page adds for the
        # grid (e.g. counts keyed by item id) reaches the template without a change here
        **context,
        "map": journey_map,
        "grid": context["grid"],
        "can_edit": can_edit,
        "can_zoom": bool(context.get("can_zoom")),
        # "💬 n" links (governance.comments), only where the page passes counts
        "comment_counts": comment_counts,
        # asked once here, not per card: cards link only to items with comments, and
        # readers' cards carry their id for comments.js
        "has_comments": bool(comment_counts),
        "reader_ids": comment_counts is not None and not can_edit,
        "term": term,
        "labels": labels,
        "version": journey_map.version,
        "urls": _map_urls(journey_map.slug, editor=can_edit, relative=relative),
        # the CSRF cookie only for editors: the public share page sets no cookie
        "csrf_token": get_token(request) if can_edit and request is not None else "",
    }


def render_print(context: Mapping[str, Any]) -> SafeString:
    """The bands of step columns and the whole-map lanes of the print view
    (``maps/print.html``), from its context: ``map``, ``grid``, ``bands``, ``columns``,
    ``whole_map_lanes``, ``printed_at``, ``vocab``."""
    data = {
        **{key: context[key] for key in ("map", "grid", "bands", "columns", "whole_map_lanes")},
        "term": _term(context.get("vocab")),
        "printed_on": date_format(localtime(context["printed_at"]), "j M Y"),
    }
    return mark_safe(environment.get_template("maps/print_bands.html").render(data))


# --- the lanes' rows, built in Python (#16) ---------------------------------------------
# A typical map's lanes are 300 cards in 400 cells: as Jinja2 macros each card cost some
# twenty escapes, attribute lookups and Markup objects (70 % of the grid's rendering).
# Here each card is one f-string of values escaped once (the URLs and labels every card
# shares: once per render); the output is byte for byte what the template's macros
# wrote (tests/test_map_grid_fast.py renders both).

try:  # markupsafe's C escaping, without the Markup object its public escape() wraps it in
    from markupsafe._speedups import _escape_inner
except ImportError:  # pragma: no cover - markupsafe without its speedups

    def _escape_inner(text: str) -> str:
        return (
            text.replace("&", "&amp;")
            .replace(">", "&gt;")
            .replace("<", "&lt;")
            .replace("'", "&#39;")
            .replace('"', "&#34;")
        )


def escape(value: Any) -> str:
    """``markupsafe.escape(value)`` as a plain ``str``, for values that are not markup."""
    return _escape_inner(str(value))


def _escaped(pair: tuple[str, str]) -> tuple[str, str]:
    return escape(pair[0]), escape(pair[1])


def _full_name(user: Any) -> str:
    return user.get_full_name() or user.username


class _Cards:
    """One render's card writer: what every card needs, read once. Readers' cards carry
    their id (``data-id``) for ``static/js/comments.js``, which adds "💬" to cards
    without comments; editors' cards do not (it reads the id from the edit link: the
    editor page is at its weight). An editor's card has no delete button: editor.js adds
    one beside its edit link from the grid's "delete-button" template (the edit URL +
    "delete/"), 300 fewer buttons in the page; without JavaScript the item's edit page
    has a Delete button."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.can_edit = data["can_edit"]
        self.reader_ids = data["reader_ids"]
        counts = data["comment_counts"]
        self.comment_link = counts.link if data["has_comments"] else None
        self.version = data["version"]
        self.labels = data["labels"]
        urls = data["urls"]
        # what cards share, escaped once: URLs as (prefix, suffix) of an id, labels
        self.evidence_urls = {kind: _escaped(pair) for kind, pair in urls["evidence"].items()}
        self.project_url = _escaped(urls["project"])
        if self.can_edit:
            self.edit_urls = {kind: escape(url) for kind, url in urls["edit"].items()}
            self.measurements_url = _escaped(urls["measurements"])
        # an evidence value -> (escaped value, escaped label), as the macros wrote them
        self.evidence = {value: (escape(value), escape(label)) for value, label in Evidence.choices}
        self._display: dict[tuple[type, str, Any], str] = {}

    def evidence_of(self, value: Any) -> tuple[str, str]:
        known = self.evidence.get(value)
        return known if known is not None else (escape(value), "")

    def display(self, obj: Any, field: str) -> str:
        """``display(obj, field)`` escaped, each label once per render."""
        value = getattr(obj, field)
        key = (type(obj), field, value)
        text = self._display.get(key)
        if text is None:
            text = self._display[key] = escape(display(obj, field))
        return text

    def _data_id(self, item: Any) -> str:
        return f' data-id="{item.pk}"' if self.reader_ids else ""

    def _comments(self, item: Any) -> str:
        return self.comment_link(item) if self.comment_link is not None else ""

    def evidence_toggle(self, obj: Any, kind: str) -> str:
        """The ``evidence_toggle`` macro of grid.html: an item's research, when it has some."""
        backing = obj.backing
        if not backing:
            return ""
        head, tail = self.evidence_urls[kind]
        url = f"{head}{obj.pk}{tail}"
        return (
            f'<details class="evidence-toggle" hx-get="{url}" hx-trigger="toggle once"'
            ' hx-target="find .evidence-body" hx-swap="innerHTML"><summary'
            f' class="evidence-count" title="{escape(capfirst(backing.sentence))}">'
            f"{escape(backing.label)}"
            f'<span class="visually-hidden"> backing {escape(obj)}</span></summary>'
            '<div class="evidence-body" aria-live="polite">'
            f'<a href="{url}">Show the research</a></div></details>'
        )

    def kpi(self, item: Any) -> str:
        name = escape(item.name)
        unit = escape(item.unit)
        if item.latest_value is not None:
            value = f"{_float(item.latest_value)}{unit}"
        else:
            value = '<span class="muted">no data</span>'
        if item.target is not None:
            sign = "≤" if item.direction == "lower" else "≥"
            target = f"Target {sign} {_float(item.target)}{unit}"
        else:
            target = "No target"
        actions = ""
        if self.can_edit:
            head, tail = self.measurements_url
            actions = (
                '<div class="card-actions"><div class="card-actions"><a class="icon-button"'
                f' href="{self.edit_urls["kpi"]}{item.pk}/?v={self.version}"'
                f' data-panel aria-label="Edit {name}">✎</a></div><a class="icon-button"'
                f' href="{head}{item.pk}{tail}"'
                f' aria-label="Measurements of {name}" title="Measurements">▤</a></div>'
            )
        return (
            f'<article class="card-item kpi-card"{self._data_id(item)}><h3>{name}</h3>'
            f'<p class="kpi-value">{value}</p><p class="kpi-meta">{target} · '
            f"{self.display(item, 'perspective')}</p>\n"
            f"{actions}{self._comments(item)}</article>\n"
        )

    def project(self, item: Any) -> str:
        head, tail = self.project_url
        return (
            f'<article class="card-item project-card"><h3><a href="{head}{item.pk}'
            f'{tail}">{escape(item.title)}</a></h3><p><span class="status status-'
            f'{escape(item.status)}">{self.display(item, "status")}</span></p>'
            f"{self._comments(item)}</article>\n"
        )

    def sub_map(self, item: Any) -> str:
        return (
            f'<article class="card-item submap-card"><h3><a href="'
            f'{escape(item.get_absolute_url())}">{escape(item.title)} →</a></h3>'
            f'<p class="muted">{escape(level_name(self.labels, item.level))} · '
            f"{escape(_full_name(item.owner))}</p></article>\n"
        )

    def item(self, item: Any, kind: str) -> str:
        """A pain point's or a lane item's card (``kind``: its editor kind)."""
        title = escape(item.title)
        known = self.evidence.get(item.evidence)
        evidence, label = known if known is not None else self.evidence_of(item.evidence)
        data_id = f' data-id="{item.pk}"' if self.reader_ids else ""
        parts = [
            f'<article class="card-item evidence-border-{evidence}"{data_id}>'
            f'<h3>{title}</h3><p class="card-tags"><span class="evidence evidence-{evidence}">'
            f"{label}</span>"
        ]
        severity = getattr(item, "severity", None)
        if severity:
            frequency = escape(getattr(item, "frequency", ""))
            parts.append(
                f' <span class="tag sev sev-{severity}" title="Severity {severity} of 5,'
                f' frequency {frequency} of 5">S{severity} · F{frequency}<span'
                f' class="visually-hidden"> (severity {severity}, frequency {frequency})'
                "</span></span>"
            )
        url = getattr(item, "url", "")
        if url:
            parts.append(f' <a href="{escape(url)}" rel="noopener">Source</a>')
        parts.append("</p>\n")
        if kind == "laneitem":
            parts.append(self._lane_item_extras(item))
        if item.backing:  # most cards have no research (evidence_toggle writes nothing)
            parts.append(self.evidence_toggle(item, kind))
        if self.comment_link is not None:
            parts.append(self.comment_link(item))
        if self.can_edit:
            parts.append(
                '<div class="card-actions"><a class="icon-button" href="'
                f'{self.edit_urls[kind]}{item.pk}/?v={self.version}" data-panel'
                f' aria-label="Edit {title}">✎</a></div>'
            )
        parts.append("</article>\n")
        return "".join(parts)

    def _lane_item_extras(self, item: Any) -> str:
        parts = []
        status, owner_id = item.status, item.owner_id
        empathy, weight = item.empathy_score, item.weight
        if status or owner_id or empathy is not None or weight is not None:
            parts.append('<p class="card-meta evidence-item-meta">')
            if status:
                parts.append(f'<span class="tag">{escape(status)}</span> ')
            if owner_id:
                parts.append(f'<span title="Owner">{escape(_full_name(item.owner))}</span> ')
            if empathy is not None:
                parts.append(f'<span title="Empathy score">♥ {_float(empathy)}</span> ')
            if weight is not None:
                parts.append(f'<span title="Weight">⚖ {_float(weight)}</span>')
            parts.append("</p>")
        if item.tag_list:
            tags = "".join(f'<span class="tag">{escape(tag)}</span>' for tag in item.tag_list)
            parts.append(f'<p class="card-tags">{tags}</p>')
        if item.external_links:
            links = "".join(
                f'<a href="{escape(link)}" rel="noopener noreferrer">'
                f"{escape(truncatechars(link, 32))}</a> "
                for link in item.external_links
                if isinstance(link, str) and link.startswith(("https://", "http://"))
            )
            parts.append(f'<p class="evidence-item-links">{links}</p>')
        return "".join(parts)

    def writer(self, key: str, kind: str | None) -> Callable[[Any], str]:
        """The card function of lane ``key`` (its items' editor ``kind``)."""
        if key == "kpis":
            return self.kpi
        if key == "projects":
            return self.project
        if key == "sub_maps":
            return self.sub_map
        return functools.partial(self.item, kind=kind)


def lane_rows(data: Mapping[str, Any]) -> str:
    """Every lane's ``<tr>`` of the grid (steps as columns), from the render's data."""
    cards = _Cards(data)
    term = data["term"]
    urls, version = data["urls"], data["version"]
    grid = data["grid"]
    # the add links end with the step's name: each escaped once, not once per lane
    step_names = {step.pk: escape(step.name) for step in grid.steps} if cards.can_edit else {}
    out: list[str] = []
    for lane in grid.lanes:
        spec = lane.spec
        key, kind = spec.key, spec.editor_kind
        card = cards.writer(key, kind)
        name = escape(term(spec.term))
        add = whole_add = ""
        if cards.can_edit and kind:
            href = f"{escape(urls['new'][kind])}?v={version}"
            if spec.preset:
                href += f"&amp;kind={escape(spec.preset)}"
            label = escape(f"Add {term(spec.term)}")
            add = f'<a class="add-button" href="{href}&amp;step='
            whole_add = (
                f'<a class="add-button" href="{href}" aria-label="{label} for the whole map">+</a>'
            )
            add_tail = f'" aria-label="{label} to '
        out.append(f'<tr class="lane lane-{escape(key)}">\n<th scope="row">{name}</th>\n')
        out.append('<td class="whole-cell">')
        out.extend(card(item) for item in lane.whole_map)
        out.append(f"{whole_add}</td>\n")
        for step, cell in lane.cells:
            out.append("<td>")
            out.extend(card(item) for item in cell)
            if add:
                out.append(f'{add}{step.pk}{add_tail}{step_names[step.pk]}">+</a>')
            out.append("</td>\n")
        out.append("</tr>\n")
    return "".join(out)


def _delete_button(urls: Mapping[str, Any], kind: str, pk: int, label: Any) -> str:
    """The ``delete_button`` macro of grid.html."""
    head, tail = urls["delete"][kind]
    return (
        '<button class="icon-button icon-danger" form="grid-post" formaction="'
        f'{escape(head)}{pk}{escape(tail)}" aria-label="Delete {escape(label)}">×</button>'
    )


def _move_buttons(kind: str, pk: int, first: bool, last: bool, label: str) -> str:
    """The ``move_buttons`` macro of grid.html (``label`` escaped)."""
    return (
        f'<span class="move-buttons"><button class="icon-button" form="{kind}-move"'
        f' name="left" value="{pk}" aria-label="Move {label} left"'
        f'{" disabled" if first else ""}>←</button><button class="icon-button"'
        f' form="{kind}-move" name="right" value="{pk}" aria-label="Move {label} right"'
        f"{' disabled' if last else ''}>→</button></span>"
    )


_LINK_ICONS = {"loop": "↺", "skip": "↷"}


def step_heads(data: Mapping[str, Any]) -> str:
    """The ``<th>`` of every step column: name, tags, links, research, sub-maps and (for
    editors) the step's controls."""
    cards = _Cards(data)
    term = data["term"]
    grid, urls, version = data["grid"], data["urls"], data["version"]
    can_edit, can_zoom = cards.can_edit, bool(data.get("can_zoom"))
    moment = escape(term("moment_of_truth"))
    mot_flag = (
        f'<span class="mot-flag" title="{moment}">★<span class="visually-hidden">{moment}:'
        "</span></span> "
    )
    drag = (
        '<span class="drag-handle" aria-hidden="true" title="Drag to reorder">⠿</span> '
        if can_edit
        else ""
    )
    stages = grid.stages
    first_stage = stages[0].pk if stages else None
    last_stage = stages[-1].pk if stages else None
    zoom_href = ""
    if can_zoom:
        zoom_href = f"{escape(urls['create_submap'])}?parent={escape(data['map'].slug)}&amp;step="
    steps = grid.steps
    out: list[str] = []
    for i, step in enumerate(steps):
        pk, name = step.pk, escape(step.name)
        mot = step.is_moment_of_truth
        evidence, label = cards.evidence_of(step.evidence)
        out.append(
            f'<th scope="col" id="step-{pk}" data-id="{pk}" class="step-head'
            f'{" is-mot" if mot else ""}">\n<div class="step-name">{drag}'
            f'{mot_flag if mot else ""}{name}</div>\n<div class="step-tags"><span class="evidence'
            f' evidence-{evidence}">{label}</span>'
        )
        if step.channel:
            out.append(f' <span class="tag">{cards.display(step, "channel")}</span>')
        if step.is_recurring:
            out.append(' <span class="tag tag-recurring">↻ Recurring</span>')
        out.append("</div>\n")
        for link in step.outgoing:
            out.append(
                f'<div class="step-link link-{escape(link.kind)}"><span aria-hidden="true">'
                f"{_LINK_ICONS.get(link.kind, '↪')}</span> {cards.display(link, 'kind')}:"
                f' <a href="#step-{link.to_step_id}">{escape(link.to_step.name)}</a>'
            )
            if link.label:
                out.append(f' <span class="muted">({escape(link.label)})</span>')
            if can_edit:
                out.append(" " + _delete_button(urls, "link", link.pk, link))
            out.append("</div>\n")
        out.append(cards.evidence_toggle(step, "step"))
        out.append(cards._comments(step))
        for sub in step.zoom_maps:
            out.append(
                f'<a class="zoom-link" href="{escape(sub.get_absolute_url())}">Zoom in:'
                f" {escape(sub.title)} →</a>"
            )
        if can_edit:
            first = i == 0 and step.stage_id == first_stage
            last = i == len(steps) - 1 and step.stage_id in (last_stage, None)
            out.append(
                f'<div class="step-actions">{_move_buttons("step", pk, first, last, name)}'
                f'<a class="icon-button" href="{escape(urls["edit"]["step"])}{pk}/?v={version}"'
                f' data-panel aria-label="Edit step {name}">✎</a>'
                f"{_delete_button(urls, 'step', pk, step.name)}"
            )
            if can_zoom:
                out.append(
                    f'<a class="icon-button" href="{zoom_href}{pk}" aria-label="Zoom into'
                    f' {name}: create a sub-map" title="Zoom into this step (new sub-map)">'
                    "⊕ Sub-map</a>"
                )
            out.append("</div>\n")
        elif can_zoom:
            out.append(f'<a class="zoom-link" href="{zoom_href}{pk}">Zoom into this step +</a>\n')
        out.append("</th>\n")
    return "".join(out)


def flow_nodes(grid: Any) -> SafeString:
    """The flow line's step nodes (an SVG circle each, a loop arrow on recurring steps)."""
    out = []
    for x, _, step in grid.emotion_points:
        if step.is_recurring:
            out.append(
                f'<circle cx="{x}" cy="40" r="5" class="flow-node is-recurring"><title>'
                f'{escape(step.name)} (recurring)</title></circle><path d="M {x - 6} 33 a 8 8'
                ' 0 1 1 12 0" class="flow-recurring" marker-end="url(#arrow)"></path>'
            )
        else:
            out.append(
                f'<circle cx="{x}" cy="40" r="5" class="flow-node"><title>{escape(step.name)}'
                "</title></circle>"
            )
    return mark_safe("".join(out))


def emotion_dots(grid: Any) -> SafeString:
    """The emotion curve's dots, one per step, titled with the step and its emotion."""
    return mark_safe(
        "".join(
            f'<circle cx="{x}" cy="{y}" r="6" class="emotion-dot emo-{step.emotion}"><title>'
            f"{escape(step.name)}: {EMOTION_LABELS.get(step.emotion, 'Unknown')}"
            f" ({step.emotion})</title></circle>"
            for x, y, step in grid.emotion_points
        )
    )


# --- the page around the grid (#16) --------------------------------------------------------
# maps/map_detail.html's breadcrumbs, header and legend: as Django template text they cost
# 1.5-2.3 ms a page (twenty ``{% url %}`` reversals, ``{% term %}`` tags, filters, an
# include), as much as the grid itself. Built here from URLs reversed once per process
# (the map's slug and pk put in), each value escaped as Django's ``{{ }}`` escapes it; the
# bytes are the template's (tests/test_map_page_shell.py compares them with it). The
# map's states and the inventory entries it replaced stay Django includes.

_HEAD_SLUG_ROUTES = (
    "governance:scorecard",
    "governance:history",
    "governance:snapshots",
    "maps:research",
    "maps:print",
    "maps:settings",
    "maps:export",
    "maps:export-xlsx",
    "maps:mermaid",
    "maps:spreadsheet-import",
    "maps:theydo-imports",
    "governance:share",
    "governance:transfer",
    "governance:review",
)


@functools.lru_cache(maxsize=32)
def _head_patterns(*_key: Any) -> dict[str, Any]:
    """The header's URLs with ``_SLUG`` for the map's slug (``_key``: the request's URL
    configuration, as ``_url_patterns``)."""
    urls: dict[str, Any] = {name: reverse(name, args=[_SLUG]) for name in _HEAD_SLUG_ROUTES}
    urls |= {
        "repository": reverse("maps:repository"),
        "import": reverse("maps:import"),
        "theydo_export": url_prefix("api:map-theydo-export"),
        "persona": reverse("personas:detail", args=[_SLUG]),
    }
    return urls


def _head_urls() -> dict[str, Any]:
    return _head_patterns(get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF)


def _with(pattern: str, slug: str, name: str, *args: Any) -> str:
    """``pattern`` with ``slug`` in place of ``_SLUG``; a slug ``reverse`` would quote is
    reversed instead."""
    if _PLAIN_SLUG.fullmatch(slug):
        return pattern.replace(_SLUG, slug)
    return reverse(name, args=[*args, slug])


def _day(value: Any) -> str:
    """``{{ value|date:"j M Y" }}`` (in the current time zone; empty for none)."""
    if value in (None, ""):
        return ""
    return date_format(template_localtime(value), "j M Y")


def render_page_head(context: Any) -> SafeString:
    """maps/map_detail.html's content up to the grid, from the page's Django ``context``
    (``map``, ``crumbs``, ``scorecard``, ``can_edit``, ``can_manage``, ``can_review``,
    ``parent_visible``, ``vocab``, ``request``, ``csrf_token``)."""
    e = _django_escape
    journey_map = context["map"]
    labels = context.get("vocab")
    term = _term(labels)
    request = context["request"]
    can_edit = context.get("can_edit")
    slug = journey_map.slug
    urls = _head_urls()

    def url(name: str) -> str:
        return e(_with(urls[name], slug, name))

    title = e(journey_map.title)
    crumbs = "".join(
        '<li class="crumb-hidden"><span title="Maps you cannot open">…</span></li>'
        if crumb.hidden
        else f'<li><a href="{e(crumb.url)}">{e(crumb.title)}</a></li>'
        for crumb in context.get("crumbs") or ()
    )
    due = journey_map.is_review_due
    scorecard = context.get("scorecard")
    health = getattr(scorecard, "health", None)
    if health is not None:
        health_text = f"Health {e(floatformat(health, 0))} · {e(scorecard.status_label)}"
    else:
        health_text = "Scorecard"
    version = e(journey_map.version)
    out = [
        "\n",
        '<nav class="breadcrumbs" aria-label="Breadcrumb">\n  <ol>\n',
        f'    <li><a href="{e(urls["repository"])}">{e(term("maps"))}</a></li>\n',
        f"    {crumbs}\n\n",
        f'    <li aria-current="page">{title}</li>\n  </ol>\n</nav>\n\n',
        '<header class="map-header">\n  <div class="map-title-row">\n',
        f"    <h1>{title}</h1>\n",
        f'    <span class="level-tag">{e(level_name(labels or DEFAULT_TERMS, journey_map.level))}'
        "</span>\n",
        f'    <span class="status status-{e(journey_map.status)}">'
        f"{e(journey_map.get_status_display())}</span>\n",
        "    ",
        f'<span class="badge badge-warn">Review due since {e(_day(journey_map.review_due_at))}'
        "</span>"
        if due
        else "",
        "\n",
        f'    <a class="health health-{e(getattr(scorecard, "status", ""))}" '
        f'href="{url("governance:scorecard")}">{health_text}</a>\n',
        '    <div class="map-actions">\n',
        f'      <a class="button button-small" href="{url("governance:history")}">History</a>\n',
        f'      <a class="button button-small" href="{url("governance:snapshots")}">'
        "Snapshots</a>\n",
        f'      <a class="button button-small" href="{url("maps:research")}">Research</a>\n',
        f'      <a class="button button-small" href="{url("maps:print")}">Print</a>\n',
        "      ",
    ]
    if can_edit:
        settings_url = f"{url('maps:settings')}?v={version}"
        out.append(
            f'<a class="button button-small" href="{settings_url}" hx-get="{settings_url}" '
            'hx-target="#editor-panel">Map settings</a>'
        )
    export = url("maps:export")
    theydo = e(f"{urls['theydo_export'][0]}{journey_map.pk}{urls['theydo_export'][1]}")
    out += [
        "\n",
        '      <details class="menu-details">\n',
        '        <summary class="button button-small">Export</summary>\n',
        '        <ul class="menu-list" aria-label="Export the map">\n',
        f'          <li><a href="{export}" download>With its sub-maps (journeyhub/1)</a></li>\n',
        f'          <li><a href="{export}?subtree=0" download>This map only (journeyhub/1)'
        "</a></li>\n",
        f'          <li><a href="{url("maps:export-xlsx")}" download>Spreadsheet (XLSX)</a></li>\n',
        f'          <li><a href="{url("maps:mermaid")}">Mermaid journey, for wikis</a></li>\n',
        f'          <li><a href="{theydo}?kind=metrics" download>TheyDo: KPIs (THEYDO_METRICS_V1)'
        "</a></li>\n",
        f'          <li><a href="{theydo}?kind=insights" download>TheyDo: insights '
        "(THEYDO_INSIGHTS_V1)</a></li>\n",
        f'          <li><a href="{theydo}?kind=opportunities" download>TheyDo: opportunities '
        "(THEYDO_OPPORTUNITIES_V1)</a></li>\n",
        f'          <li><a href="{theydo}?kind=solutions" download>TheyDo: CX projects '
        "(THEYDO_SOLUTIONS_V1)</a></li>\n",
        '          <li class="muted small">TheyDo surveys and feedback: on each source\'s page '
        "under Research.</li>\n",
        "        </ul>\n      </details>\n      ",
    ]
    if can_edit:
        out += [
            "\n",
            '      <details class="menu-details">\n',
            '        <summary class="button button-small">Import</summary>\n',
            '        <ul class="menu-list" aria-label="Import into the map">\n',
            f'          <li><a href="{e(urls["import"])}?under={e(slug)}">Maps under this one '
            "(journeyhub/1)</a></li>\n",
            f'          <li><a href="{url("maps:spreadsheet-import")}">From a spreadsheet '
            "(CSV, XLSX)</a></li>\n",
            f'          <li><a href="{url("maps:theydo-imports")}">From TheyDo</a></li>\n',
            "        </ul>\n      </details>\n      ",
        ]
    out.append("\n      ")
    if context.get("can_manage"):
        out += [
            "\n",
            f'      <a class="button button-small" href="{url("governance:share")}">Share</a>\n',
            f'      <a class="button button-small" href="{url("governance:transfer")}">'
            "Transfer ownership</a>\n      ",
        ]
    out.append("\n    </div>\n  </div>\n  ")
    if journey_map.summary:
        out.append(f'<p class="map-summary">{e(journey_map.summary)}</p>')
    owner = journey_map.owner
    team = journey_map.team
    personas = _related_list(journey_map, "personas")
    persona_links = ", ".join(
        f'<a href="{e(_with(urls["persona"], p.slug, "personas:detail"))}">{e(p.name)}</a>'
        for p in personas
    )
    out += [
        '\n  <dl class="map-facts">\n',
        f"    <div><dt>{e(term('owner'))}</dt><dd>"
        f"{e(owner.get_full_name() or owner.username)}</dd></div>\n",
        f"    <div><dt>{e(term('team'))}</dt><dd>"
        f"{e((team.name if team is not None else '') or '—')}</dd></div>\n",
        f"    <div><dt>{e(term('persona'))}{'' if len(personas) == 1 else 's'}</dt>"
        f'<dd class="map-personas">{persona_links or "—"}</dd></div>\n',
        f"    <div><dt>Last reviewed</dt><dd>{e(_day(journey_map.last_reviewed_at) or 'never')} "
        f'<span class="muted">(every {e(journey_map.review_every_days)} days)</span></dd></div>\n',
        "    ",
    ]
    if context.get("can_review"):
        primary = " button-primary" if due else ""
        out += [
            "\n",
            '    <div class="review-box">\n',
            '      <dt class="visually-hidden">Review</dt>\n',
            "      <dd>\n",
            f"        <details{' open' if due else ''}>\n",
            f'          <summary class="button button-small{primary}">Mark as reviewed</summary>\n',
            f'          <form method="post" action="{url("governance:review")}" '
            'class="review-form">\n',
            f"            {_csrf_input(context)}\n",
            '            <label for="review-note">What did you check? '
            '<span class="muted">(optional)</span></label>\n',
            '            <input type="text" id="review-note" name="note" maxlength="2000" '
            'placeholder="e.g. walked through it with the contact centre">\n',
            '            <button type="submit" class="button button-primary button-small">'
            "Confirm it is current</button>\n",
            "          </form>\n        </details>\n      </dd>\n    </div>\n    ",
        ]
    out.append("\n    ")
    if journey_map.parent_step_id and context.get("parent_visible"):
        parent = journey_map.parent
        out += [
            "\n",
            f'    <div><dt>Zooms into</dt><dd><a href="{e(parent.get_absolute_url())}'
            f'#step-{e(journey_map.parent_step_id)}">{e(journey_map.parent_step.name)}</a> '
            f'<span class="muted">of {e(parent.title)}</span></dd></div>\n    ',
        ]
    engine = context.template.engine
    # the include's bytes without rendering it for a map that replaced no inventory entry
    # (most maps): its comment's line break and its empty loop's
    migrated = (
        engine.get_template("governance/inventory_migrated_from.html").render(context)
        if _related_list(journey_map, "migrated_from")
        else "\n\n"
    )
    out += [
        "\n    ",
        migrated,
        "\n  </dl>\n  ",
        engine.get_template("maps/partials/map_states.html").render(context),
        "\n",
        '  <p class="print-only" hidden>On paper the grid shows only the columns that fit; '
        f"the Print view puts every {e(term('step').lower())} on paper: "
        f"{e(request.scheme)}://{e(request.get_host())}{url('maps:print')}</p>\n",
        "</header>\n\n",
        '<section aria-labelledby="legend-title" class="legend">\n',
        '  <h2 id="legend-title" class="visually-hidden">Legend</h2>\n',
        '  <span class="legend-label">Evidence:</span>\n',
        '  <span class="evidence evidence-assumption">Assumption</span>\n',
        '  <span class="evidence evidence-anecdotal">Anecdotal</span>\n',
        '  <span class="evidence evidence-researched">Researched</span>\n',
        '  <span class="evidence evidence-measured">Measured</span>\n',
        '  <span class="legend-sep" aria-hidden="true"></span>\n',
        f'  <span class="mot-flag">★ {e(term("moment_of_truth"))}</span>\n',
        "  ",
        '<span class="legend-sep" aria-hidden="true"></span>'
        '<span class="muted">You can edit this map.</span>'
        if can_edit
        else "",
        "\n</section>\n\n",
        '<div id="editor-status" class="editor-status" role="status" aria-live="polite"></div>\n',
        '<div id="editor-panel" class="editor-panel-slot"></div>\n\n',
    ]
    return mark_safe("".join(out))


def _django_escape(value: Any) -> str:
    """``conditional_escape(value)`` (Django's escaping, as ``{{ }}`` writes it) as a plain
    ``str``, without its lazy-argument wrapper and ``SafeString`` (forty a page)."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _related_list(obj: models.Model, name: str) -> list[Any]:
    """``list(obj.<name>.all())``, read from the prefetched objects when there are some
    (``selectors.map_for_page`` puts them there) without building the related manager."""
    cached = getattr(obj, "_prefetched_objects_cache", {}).get(name)
    return list(cached) if cached is not None else list(getattr(obj, name).all())


def _csrf_input(context: Any) -> str:
    """``{% csrf_token %}``'s hidden field."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{conditional_escape(token)}">'
