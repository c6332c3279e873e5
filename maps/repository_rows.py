"""The repository page's rows (``/maps/``): the tree's lines and the filtered results.

Each map's row and the tree's lines are written by Python f-strings (``Rows``), the
filtered results' list by Jinja2 (``templates/jinja2/maps/repository_rows.html``)
around them. With Django's engine the few hundred rows of a loaded tree were three
quarters of the page's time, with Jinja2 macros still a sixth (150 rows: ~6.5 ms at
10,000 maps, #16); the HTML is byte for byte the macros' (tests/test_repository_tree.py
compares them with tests/fixtures/repository_rows_reference.html). The page itself stays
a Django template and calls the tags in ``maps.templatetags.journeyhub``."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from markupsafe import Markup

from .map_page import display, environment
from .models.vocabulary import DEFAULT_TERMS
from .vocabulary import level_name

TEMPLATE = "maps/repository_rows.html"


def _day(value: dt.datetime | dt.date | None) -> str:
    """``date_format(value, "j M Y")`` spelt out: Django's formatter built a
    ``DateFormat`` and parsed the format string per row (a tenth of the rows' time)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = localtime(value)
    return f"{value.day} {str(MONTHS_3[value.month]).title()} {value.year:04d}"


def whole_number(value: float | None) -> str:
    """``floatformat(value, 0)`` for the health shown in a row (half rounds up, as
    Django's filter does), without its Decimal and localisation detour per row."""
    if value is None:
        return ""
    return str(int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def _plural(n: int) -> str:
    return "" if n == 1 else "s"


def _e(value: Any) -> str:
    """``markupsafe.escape(value)``'s text as a plain ``str``: the same five characters
    replaced (``&<>"'``), without building a ``Markup`` per value (2,400 a page: a third
    of the rows' time); a value that is already HTML (``__html__``) is kept."""
    html = getattr(value, "__html__", None)
    if html is not None:
        return html()
    return (
        str(value)
        .replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


class Rows:
    """One page's rows: the vocabulary's words and the page's URL escaped once, each
    level's name once. The rows read what ``views._with_row_bits`` set on each map
    (``url``, ``health_text``, ``owner_name`` …) and the tree's ``tree_open``,
    ``tree_closes`` and ``more_children`` (``selectors.tree_lines``)."""

    def __init__(self, context: dict[str, Any]) -> None:
        self.vocab = vocab = context.get("vocab") or DEFAULT_TERMS
        self.owner, self.team, self.persona = (
            _e(vocab.get(key, key.capitalize())) for key in ("owner", "team", "persona")
        )
        self.repository_url = _e(context.get("repository_url", ""))
        self._levels: dict[int, str] = {}
        self._days: dict[dt.date, str] = {}

    def level(self, level: int) -> str:
        name = self._levels.get(level)
        if name is None:
            name = self._levels[level] = _e(level_name(self.vocab, level))
        return name

    def day(self, value: dt.datetime | dt.date | None) -> str:
        """``_day(value)``, escaped, each day written once per page (the month's name
        is a translation lookup)."""
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            value = localtime(value).date()
        text = self._days.get(value)
        if text is None:
            text = self._days[value] = _e(_day(value))
        return text

    def row(self, node) -> Markup:
        """One map's line: title, level, status, health, review, owner, team,
        personas and counts."""
        health = ""
        if node.health is not None:
            label = _e(node.health_label)
            health = (
                f'<a class="health health-{_e(node.health_status)}" '
                f'href="{_e(node.scorecard_url)}" title="Journey health: {label}">'
                f"{_e(node.health_text)}"
                f'<span class="visually-hidden"> health, {label}</span></a>'
            )
        due = ""
        if node.review_due:
            due = (
                '<span class="badge badge-warn" title="Last reviewed or created '
                f'{self.day(node.reviewed_or_created_at)}">Review due</span>'
            )
        team = ""
        if node.team:
            team = (
                '<span class="sep" aria-hidden="true">·</span>'
                f'<span title="{self.team}">{_e(node.team.name)}</span>'
            )
        personas = ""
        if node.persona_names:
            personas = (
                '<span class="sep" aria-hidden="true">·</span>'
                f'<span title="{self.persona}">{_e(node.persona_names)}</span>'
            )
        steps, pains = node.step_count, node.pain_point_count
        return Markup(
            '<div class="tree-row">\n'
            f'    <a class="tree-title" href="{_e(node.url)}">{_e(node.title)}</a>\n'
            f'    <span class="level-tag">{self.level(node.level)}</span>\n'
            f'    <span class="status status-{_e(node.status)}">'
            f"{_e(display(node, 'status'))}</span>\n"
            f"{health}{due}"
            '    <span class="tree-meta">\n'
            f'      <span title="{self.owner}">{_e(node.owner_name)}</span>\n'
            f"{team}{personas}"
            '      <span class="sep" aria-hidden="true">·</span>'
            f"<span>{_e(steps)} step{_plural(steps)}, "
            f"{_e(pains)} pain point{_plural(pains)}</span>\n"
            "    </span>\n"
            "</div>"
        )

    def tree_lines(self, lines: list, tree) -> Markup:
        """The loaded tree in one flat list of ``<li>`` items: a branch opens its
        sub-maps' list, which closes after its last descendant; a lazy node loads its
        sub-maps on demand; a paged top level ends with a link to the next page."""
        out: list[str] = []
        for node in lines:
            opens = node.tree_open
            expanded = (
                ' aria-expanded="true"'
                if opens == "branch"
                else ' aria-expanded="false"'
                if opens == "lazy"
                else ""
            )
            out.append(f'<li role="treeitem" aria-level="{node.level + 1}"{expanded}>\n')
            if opens == "branch":
                out.append(
                    f'<details open><summary>{self.row(node)}</summary>\n  <ul role="group">\n'
                )
            elif opens == "lazy":
                slug, n = _e(node.slug), node.more_children
                out.append(
                    f'<div class="tree-lazy">{self.row(node)}\n'
                    f'    <a class="more-link" href="?under={slug}" '
                    f'hx-get="{self.repository_url}?under={slug}" hx-target="closest .tree-lazy" '
                    f'hx-swap="afterend">Show {_e(n)} sub-map{_plural(n)}</a>\n'
                    "  </div></li>\n"
                )
            else:
                out.append(f'<div class="tree-leaf">{self.row(node)}</div></li>\n')
            out.extend("</ul></details></li>\n" for _ in node.tree_closes)
        more_after = getattr(tree, "more_after", None)
        if more_after:
            after, n = _e(more_after), tree.more_count
            out.append(
                f'<li class="tree-more"><a class="more-link" href="?after={after}" '
                f'hx-get="{self.repository_url}?after={after}" hx-target="closest .tree-more" '
                f'hx-swap="outerHTML">Show {_e(n)} more top-level map{_plural(n)}</a></li>'
            )
        return Markup("".join(out))


def tree_lines(context: dict[str, Any]) -> SafeString:
    """The loaded tree's lines (``lines``, ``tree`` of the context) as ``<li>`` items."""
    return mark_safe(Rows(context).tree_lines(context["lines"], context.get("tree")))


def results(context: dict[str, Any]) -> SafeString:
    """The filtered maps (``results``) as a list of cards, each with its path."""
    rows = Rows(context)
    module = environment.get_template(TEMPLATE).make_module({"row": rows.row})
    return mark_safe(str(module.results(context["results"])))
