"""JourneyHub as it runs in production: static files collected with the manifest storage,
the deploy checks clean, gunicorn with DEBUG=false on SQLite and PostgreSQL, concurrent
versioned writers.

Every server here is a real process (tests/servers.py); the test run's own database is
not involved.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.servers import (
    ROOT,
    Client,
    gunicorn_server,
    manage,
    new_sqlite_url,
    production_env,
)

# real processes on databases of their own: not repeated by the PostgreSQL pass of make test
pytestmark = pytest.mark.servers

STATIC = ROOT / "static"


def deploy_env(tmp_path: Path) -> dict[str, str]:
    """The production environment the README's "Deploying" section documents."""
    return production_env(
        new_sqlite_url(tmp_path),
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="journeyhub.example.com",
        CSRF_TRUSTED_ORIGINS="https://journeyhub.example.com",
        JOURNEYHUB_BASE_URL="https://journeyhub.example.com",
        JOURNEYHUB_HTTPS="true",
        STATIC_ROOT=str(tmp_path / "static"),
    )


class TestStaticFiles:
    def test_no_static_file_references_a_source_map_that_is_not_there(self):
        dangling = []
        for path in sorted(STATIC.rglob("*")):
            if path.suffix not in {".js", ".css"} or not path.is_file():
                continue
            text = path.read_text(errors="replace")
            for target in re.findall(r"sourceMappingURL=([^\s*]+)", text):
                if not (path.parent / target).exists():
                    dangling.append(f"{path.relative_to(ROOT)} -> {target}")
        assert dangling == []

    def test_collectstatic_with_the_production_storage_succeeds_on_a_fresh_checkout(self, tmp_path):
        env = deploy_env(tmp_path)
        output = manage(env, "collectstatic", "--noinput")

        assert "post-processed" in output
        manifest = (tmp_path / "static" / "staticfiles.json").read_text()
        for name in ("css/app.css", "vendor/chart.js/chart.umd.min.js", "vendor/htmx/htmx.min.js"):
            assert f'"{name}"' in manifest


class TestDeployChecks:
    def test_the_documented_production_environment_passes_check_deploy(self, tmp_path):
        env = deploy_env(tmp_path)
        result = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "no issues" in result.stdout

    def test_without_the_https_switch_check_deploy_names_the_https_settings(self, tmp_path):
        env = {**deploy_env(tmp_path), "JOURNEYHUB_HTTPS": "false"}
        result = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode != 0
        for check in ("W004", "W008", "W012", "W016"):  # HSTS, redirect, both cookies
            assert f"security.{check}" in result.stderr

    def test_production_refuses_to_start_without_a_secret_key(self, tmp_path):
        env = {**deploy_env(tmp_path), "SECRET_KEY": ""}
        result = subprocess.run(
            [sys.executable, "manage.py", "check"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode != 0
        assert "SECRET_KEY must be set when DEBUG is false" in result.stderr


# --- the demo under gunicorn ---------------------------------------------------------------

STATIC_URL = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def test_the_demo_under_gunicorn_signs_in_and_serves_every_main_page_and_its_static_files(
    tmp_path,
):
    with gunicorn_server(
        new_sqlite_url(tmp_path), seed_demo=True, static_root=tmp_path / "static"
    ) as server:
        anonymous = Client(server.url)
        assert anonymous.get("/maps/", follow=False).status == 302  # to the sign-in page
        assert anonymous.get("/api/maps/").status == 401

        browser = server.client("leader")  # through the sign-in form, CSRF token and all
        journey = browser.get("/api/maps/?ordering=title").json()["results"][0]
        pages = {
            path: browser.get(path)
            for path in (
                "/",
                "/maps/",
                journey["web_url"],
                f"{journey['web_url']}scorecard/",
                "/portfolio/",
                "/api/maps/",
                "/api/schema/",
            )
        }
        assert {path: page.status for path, page in pages.items()} == dict.fromkeys(pages, 200)
        assert journey["title"] in pages[journey["web_url"]].text

        html = "".join(page.text for page in pages.values())
        assets = sorted(set(STATIC_URL.findall(html)))
        assert any(re.fullmatch(r"/static/css/app\.[0-9a-f]{12}\.css", a) for a in assets)
        assert any(a.startswith("/static/vendor/chart.js/") for a in assets), assets
        assert any(a.startswith("/static/vendor/htmx/") for a in assets), assets
        for asset in assets:
            answer = browser.get(asset)
            assert answer.status == 200, asset
            # whitenoise: hashed names never change content, so they are cached for good
            assert "immutable" in answer.headers["Cache-Control"], asset


# --- concurrent writers, on SQLite and PostgreSQL -------------------------------------------

CLIENTS, EACH = 8, 50
# Hundreds of writes a minute from one user are the point here, not abuse.
UNTHROTTLED = {"JOURNEYHUB_THROTTLE_WRITES": "100000/minute"}


def hammer(work: Callable[[int, int], int]) -> Counter:
    """Run ``work(client, n)`` EACH times in each of CLIENTS threads; count the statuses."""

    def run(client: int) -> list[int]:
        return [work(client, n) for n in range(EACH)]

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(run, range(CLIENTS)))
    return Counter(status for statuses in results for status in statuses)


def create_map(client: Client, title: str) -> dict:
    answer = client.post("/api/maps/", json={"title": title, "status": "published"})
    assert answer.status == 201, answer.text
    return answer.json()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_concurrent_versioned_writers_get_200_201_or_409_and_every_success_counts(
    backend, request, tmp_path
):
    database_url = (
        new_sqlite_url(tmp_path)
        if backend == "sqlite"
        else request.getfixturevalue("fresh_postgres_url")
    )
    with gunicorn_server(database_url, env=UNTHROTTLED, superusers=["admin"]) as server:
        token = server.token("admin")
        api = Client(server.url, token=token)

        # 8 clients x 50: read the map's version, PATCH the map with it
        journey = create_map(api, "Apply for a mortgage")
        path = f"/api/maps/{journey['id']}/"

        def patch(client: int, n: int) -> int:
            http = Client(server.url, token=token)
            read = http.get(path)
            if read.status != 200:
                return read.status
            body = {"summary": f"edit {n} by client {client}", "version": read.json()["version"]}
            return http.patch(path, json=body).status

        updates = hammer(patch)
        print(f"{backend} PATCH /api/maps/{{id}}/: {dict(updates)}")
        assert set(updates) <= {200, 409}, (updates, server.log()[-3000:])
        assert updates[200] > 0
        assert api.get(path).json()["version"] == journey["version"] + updates[200]

        # 8 clients x 50: read the version, add a pain point to the map with it
        journey = create_map(api, "Report a lost card")
        path = f"/api/maps/{journey['id']}/"

        def create(client: int, n: int) -> int:
            http = Client(server.url, token=token)
            read = http.get(path)
            if read.status != 200:
                return read.status
            version = read.json()["version"]
            body = {"map": journey["id"], "title": f"pain {n}/{client}", "map_version": version}
            return http.post("/api/pain-points/", json=body).status

        creates = hammer(create)
        print(f"{backend} POST /api/pain-points/: {dict(creates)}")
        assert set(creates) <= {201, 409}, (creates, server.log()[-3000:])
        stored = api.get(f"/api/pain-points/?map={journey['id']}&page=1").json()["count"]
        assert stored == creates[201] > 0
        assert api.get(path).json()["version"] == journey["version"] + creates[201]
