"""URLs and static file paths that do not change while a process serves (#16).

Every page's top bar reversed seven URLs and looked up three static paths (a third of a
millisecond of each page, more than the rest of base.html); the map page's discussion
panel three more. These are the same strings on every request: here each is made once
per process and URL configuration, as ``{% url %}`` and ``{% static %}`` make it, and
kept until a setting they depend on changes (tests override them; servers do not).
Nothing about the user or the request is kept, only the script prefix's result.
"""

from __future__ import annotations

import functools
import re

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse


@functools.lru_cache(maxsize=256)
def _reversed(name: str, *_key: object) -> str:
    return reverse(name)


def fixed_url(name: str) -> str:
    """``reverse(name)`` of a URL without arguments, once per script prefix and URL
    configuration (the request's: ``set_urlconf``, ``ROOT_URLCONF``)."""
    return _reversed(name, get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF)


# stands for a slug in URLs reversed once (any slug reverse() keeps as it is)
_SLUG = "fixed-slug-7362100"
_PLAIN_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


def slug_url(name: str, slug: str) -> str:
    """``reverse(name, args=[slug])``: reversed once with a stand-in slug, the slug put in
    its place (a slug ``reverse`` would quote is reversed as it is)."""
    if not _PLAIN_SLUG.fullmatch(slug):
        return reverse(name, args=[slug])
    key = (get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF)
    return _reversed_with_slug(name, *key).replace(_SLUG, slug)


@functools.lru_cache(maxsize=256)
def _reversed_with_slug(name: str, *_key: object) -> str:
    return reverse(name, args=[_SLUG])


@functools.lru_cache(maxsize=256)
def _static(path: str, *_key: object) -> str:
    return static(path)


def static_url(path: str) -> str:
    """``{% static path %}``'s URL (the staticfiles storage's: hashed names from its
    manifest in production), once per script prefix (a relative ``STATIC_URL`` starts
    with it) and ``DEBUG`` (the manifest storage's names depend on it)."""
    return _static(path, get_script_prefix(), settings.DEBUG)


_STATIC_SETTINGS = {"STATIC_URL", "STATIC_ROOT", "STORAGES", "DEBUG", "STATICFILES_DIRS"}


@receiver(setting_changed)
def _forget(*, setting: str, **_: object) -> None:
    if setting in _STATIC_SETTINGS or setting.startswith("STATICFILES"):
        _static.cache_clear()
    if setting in ("ROOT_URLCONF", "FORCE_SCRIPT_NAME"):
        _reversed.cache_clear()
        _reversed_with_slug.cache_clear()
