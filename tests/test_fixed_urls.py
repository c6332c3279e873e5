"""URLs and static paths made once per process (``maps.fixed_urls``, #16) are what
``reverse`` and ``{% static %}`` give under any script prefix and after the settings they
depend on change; base.html with them writes the bytes it wrote with ``{% url %}`` and
``{% static %}``, for staff and others."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines
from django.templatetags.static import static
from django.test import RequestFactory, override_settings
from django.urls import resolve, reverse, set_script_prefix

from maps.fixed_urls import fixed_url, slug_url, static_url

NAMES = ("home", "maps:repository", "portfolio", "personas:list", "search", "logout")
PATHS = ("css/app.css", "favicon.svg", "vendor/htmx/htmx.min.js")


@pytest.fixture
def prefix():
    def use(value: str) -> None:
        set_script_prefix(value)

    yield use
    set_script_prefix("/")


@pytest.mark.parametrize("script_prefix", ["/", "/hub/", "/a b/"])
def test_urls_and_static_paths_are_reverse_and_statics_under_any_prefix(prefix, script_prefix):
    for _ in range(2):  # made, then kept
        prefix(script_prefix)
        for name in NAMES:
            assert fixed_url(name) == reverse(name)
        for path in PATHS:
            assert static_url(path) == static(path)
        for slug in ("bench-00001", "a_b-C9"):
            assert slug_url("comments:list", slug) == reverse("comments:list", args=[slug])
            assert slug_url("maps:detail", slug) == reverse("maps:detail", args=[slug])
        prefix("/")
    assert fixed_url("home") == reverse("home")


def test_a_changed_setting_is_followed():
    before = static_url("css/app.css")
    with override_settings(STATIC_URL="/assets/"):
        assert static_url("css/app.css") == static("css/app.css") == "/assets/css/app.css"
    assert static_url("css/app.css") == before == static("css/app.css")
    with override_settings(ROOT_URLCONF="tests.urls_fixed"):
        assert fixed_url("home") == reverse("home") == "/elsewhere/"
        assert slug_url("maps:detail", "x") == reverse("maps:detail", args=["x"]) == "/m/x/"
    assert fixed_url("home") == reverse("home")


@pytest.mark.django_db
@pytest.mark.parametrize("staff", [False, True])
def test_base_html_writes_what_url_and_static_wrote(prefix, viewer, staff):
    text = Path(settings.BASE_DIR, "templates", "base.html").read_text()
    assert "{% fixed_url" in text and "{% fixed_static" in text
    before = text.replace("{% fixed_url ", "{% url ").replace("{% fixed_static ", "{% static ")
    engine = engines["django"]
    viewer.is_staff = staff
    for script_prefix in ("/", "/hub/"):
        prefix(script_prefix)
        request = RequestFactory().get("/maps/")
        request.user = viewer
        request.resolver_match = resolve("/maps/")
        token = re.compile(r'value="[^"]+"|"X-CSRFToken": "[^"]+"')
        pages = [
            token.sub("TOKEN", engine.from_string(t).render({}, request)) for t in (text, before)
        ]
        assert pages[0] == pages[1]
        assert ("Admin</a>" in pages[0]) is staff
