"""Template helpers: vocabulary terms and small display bits shared by every page."""

from __future__ import annotations

from django import template

from maps import fixed_urls, repository_rows
from maps.map_page import EMOTION_LABELS, render_grid, render_page_head, render_print
from maps.models.vocabulary import DEFAULT_TERMS
from maps.vocabulary import level_name as _level_name

register = template.Library()


def _labels(context) -> dict[str, str]:
    vocab = context.get("vocab")
    return vocab if vocab is not None else DEFAULT_TERMS


@register.simple_tag(takes_context=True)
def term(context, key: str) -> str:
    """The organisation's display name of a concept: ``{% term "pain_point" %}``."""
    return _labels(context).get(key, key.replace("_", " ").capitalize())


@register.simple_tag(takes_context=True)
def level_name(context, level: int) -> str:
    return _level_name(_labels(context), level)


@register.simple_tag
def fixed_url(name: str) -> str:
    """``{% url name %}`` of a URL without arguments, reversed once per process
    (``maps.fixed_urls``: every page's top bar)."""
    return fixed_urls.fixed_url(name)


@register.simple_tag
def fixed_static(path: str) -> str:
    """``{% static path %}``, looked up once per process (``maps.fixed_urls``)."""
    return fixed_urls.static_url(path)


@register.filter
def emotion_label(value: int) -> str:
    return EMOTION_LABELS.get(value, "Unknown")


@register.simple_tag(takes_context=True)
def repository_tree_lines(context) -> str:
    """The repository's loaded tree lines (Jinja2, ``maps/repository_rows.py``)."""
    return repository_rows.tree_lines(context.flatten())


@register.simple_tag(takes_context=True)
def repository_results(context) -> str:
    """The repository's filtered maps (Jinja2, ``maps/repository_rows.py``)."""
    return repository_rows.results(context.flatten())


@register.simple_tag(takes_context=True)
def map_grid(context) -> str:
    """The map grid (Jinja2, ``maps/map_page.py``) from this page's context."""
    return render_grid(context.flatten())


@register.simple_tag(takes_context=True)
def map_page_head(context) -> str:
    """The map page's breadcrumbs, header and legend (``maps/map_page.py``)."""
    return render_page_head(context)


@register.simple_tag(takes_context=True)
def print_bands(context) -> str:
    """The print view's bands and whole-map lanes (Jinja2, ``maps/map_page.py``)."""
    return render_print(context.flatten())


@register.filter
def get_item(mapping, key):
    """``{{ templates|get_item:ref }}``: a dict's value by a key held in a variable."""
    return mapping.get(key) if mapping else None
