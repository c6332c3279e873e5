"""Real servers for tests: a private PostgreSQL and JourneyHub under gunicorn.

Tests that need real processes (production settings, concurrent writers, backups) use
these instead of the test client. Everything binds 127.0.0.1 on a free port, runs for a
bounded time and is stopped by PID when the ``with`` block or the fixture ends.

API
---
``gunicorn_server(database_url, *, env=None, users=(), superusers=(), seed_demo=False,
workers=3, threads=4, static_root=None)`` — a context manager. It migrates
``database_url`` (give it a fresh one per use: ``new_sqlite_url(tmp_path)`` or the
``fresh_postgres_url`` fixture), creates ``users`` and ``superusers`` (password
``PASSWORD``; the demo people with ``seed_demo=True``), runs
``collectstatic`` with the production storage (once per test process unless
``static_root`` is given), starts gunicorn with ``DEBUG=false`` and production settings
(plain HTTP: ``JOURNEYHUB_HTTPS=false``), waits until it answers, and yields a
``GunicornServer``:

- ``.url``: ``"http://127.0.0.1:PORT"``; ``.pid``; ``.env`` (the environment it runs
  with, ``DATABASE_URL`` included); ``.log()``: what gunicorn printed so far;
- ``.shell(code)``: runs Python in ``manage.py shell`` against the same database and
  returns what it printed (create maps, read counts);
- ``.manage(*args)``: any management command against the same database;
- ``.token(username)``: a DRF token (``Authorization: Token …``);
- ``.client(username=None)``: a ``Client``, signed in through the real sign-in form
  (CSRF and all) when a username is given.

``env`` adds or overrides variables (e.g. ``{"CELERY_BROKER_URL": …}``).

``Client(base_url, *, token=None)`` is a small stdlib HTTP client with cookies: ``get``,
``post``, ``put``, ``patch``, ``delete`` take a path and ``json=`` or ``data=`` (a form)
and return a ``Response`` (``.status``, ``.headers``, ``.body``, ``.text``, ``.json()``);
4xx and 5xx are returned, not raised. With session cookies it sends the CSRF header on
unsafe requests. One client per thread.

PostgreSQL (tests that need it carry ``@pytest.mark.postgres``; they run in CI):

- ``postgres_server`` (session fixture): a ``PostgresServer`` — a private cluster that
  ``initdb`` creates in a temporary directory (as the ``postgres`` user when run as root)
  on a free port, or the server named by ``JOURNEYHUB_TEST_POSTGRES_URL`` if that is set
  (``python -m tests.servers postgres -- CMD`` sets it). ``.create_database()`` returns
  the URL of a new empty database, ``.drop_database(url)`` drops one.
- ``postgres_url`` (session fixture): the ``DATABASE_URL`` of one database on it; its
  role is a superuser, so it may create more.
- ``fresh_postgres_url`` (fixture): a new empty database for one test, dropped after.
- ``start_postgres()``: the same private cluster as a context manager, outside pytest.

From the shell, ``python -m tests.servers postgres -- CMD …`` starts a private cluster,
runs CMD with ``DATABASE_URL`` pointing at a database on it and stops the cluster (how
``make test`` runs the suite on PostgreSQL).
"""

from __future__ import annotations

import atexit
import contextlib
import http.cookiejar
import json as jsonlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "journeyhub"
# Settings read from the environment: a subprocess must not inherit the test run's.
_PROJECT_PREFIXES = (
    "DJANGO_",
    "DATABASE_",
    "CELERY_",
    "EMAIL_",
    "SECURE_",
    "SESSION_",
    "CSRF_",
    "JOURNEYHUB_",
)
_PROJECT_NAMES = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "STATIC_ROOT", "MEDIA_ROOT"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(ready: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def production_env(database_url: str, **overrides: str) -> dict[str, str]:
    """The environment of a production deployment on plain HTTP at 127.0.0.1."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_PROJECT_PREFIXES) and key not in _PROJECT_NAMES
    }
    env.update(
        DJANGO_SETTINGS_MODULE="journeyhub.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        JOURNEYHUB_HTTPS="false",
        DATABASE_URL=database_url,
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """Run ``manage.py ARGS`` in a subprocess; its output, or AssertionError with it."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def new_sqlite_url(directory: Path, name: str = "journeyhub.sqlite3") -> str:
    return f"sqlite:///{Path(directory) / name}"


# --- HTTP client -------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: Message
    body: bytes
    url: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Client:
    """A browser-like HTTP client: cookies, CSRF header, JSON bodies. One per thread."""

    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        cookies = urllib.request.HTTPCookieProcessor(self.cookies)
        self._follow = urllib.request.build_opener(cookies)
        self._stay = urllib.request.build_opener(cookies, _NoRedirect())

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        follow: bool = True,
    ) -> Response:
        url = path if path.startswith("http") else self.base_url + path
        sent = {"Accept": "application/json, text/html;q=0.9, */*;q=0.1"}
        body = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        elif data is not None:
            body = urllib.parse.urlencode(data).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.token:
            sent["Authorization"] = f"Token {self.token}"
        csrf = self.cookie("csrftoken")
        if csrf and method not in {"GET", "HEAD", "OPTIONS"}:
            sent["X-CSRFToken"] = csrf
            sent["Referer"] = url
        sent.update(headers or {})
        req = urllib.request.Request(url, data=body, headers=sent, method=method)
        opener = self._follow if follow else self._stay
        try:
            with opener.open(req, timeout=self.timeout) as answer:
                return Response(answer.status, answer.headers, answer.read(), answer.url)
        except urllib.error.HTTPError as error:
            with error:
                return Response(error.code, error.headers, error.read(), url)

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Response:
        return self.request("DELETE", path, **kwargs)

    def login(self, username: str, password: str = PASSWORD) -> None:
        """Sign in through the real sign-in form, as a browser does."""
        page = self.get("/accounts/login/")
        assert page.status == 200, (page.status, page.text[:500])
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert match, "the sign-in page has no CSRF token"
        answer = self.post(
            "/accounts/login/",
            data={
                "csrfmiddlewaretoken": match.group(1),
                "username": username,
                "password": password,
            },
            follow=False,
        )
        assert answer.status == 302 and self.cookie("sessionid"), (
            f"signing in as {username} failed: {answer.status} {answer.text[:500]}"
        )


# --- gunicorn ------------------------------------------------------------------------------

# Static files do not depend on the database: collected once per test process.
_shared_static = Path(tempfile.gettempdir()) / f"journeyhub-static-{os.getpid()}"


def prepare(
    env: dict[str, str],
    *,
    users: Iterable[str] = (),
    superusers: Iterable[str] = (),
    seed_demo: bool = False,
    collectstatic: bool = False,
) -> None:
    """Migrate env's database, create the people, seed, collect static files: one process
    (each Django start-up costs a second or two)."""
    people = {name: False for name in users} | {name: True for name in superusers}
    manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "from django.contrib.auth.models import User\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', interactive=False, verbosity=0)\n"
        f"for name, is_superuser in {people!r}.items():\n"
        "    user, _ = User.objects.get_or_create(username=name)\n"
        "    user.is_superuser = user.is_staff = is_superuser\n"
        f"    user.set_password({PASSWORD!r})\n"
        "    user.save()\n"
        f"if {seed_demo!r}:\n"
        "    call_command('seed_demo', verbosity=0)\n"
        f"if {collectstatic!r}:\n"
        "    call_command('collectstatic', interactive=False, verbosity=0)\n",
    )


@dataclass
class GunicornServer:
    url: str
    pid: int
    env: dict[str, str]
    log_path: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def manage(self, *args: str, timeout: float = 300) -> str:
        return manage(self.env, *args, timeout=timeout)

    def shell(self, code: str) -> str:
        return manage(self.env, "shell", "--no-imports", "-c", code)

    def token(self, username: str, password: str = PASSWORD) -> str:
        """The user's API token, from /api/auth/token/ as any API client gets it."""
        if username not in self.tokens:
            answer = Client(self.url).post(
                "/api/auth/token/", data={"username": username, "password": password}
            )
            assert answer.status == 200, (answer.status, answer.text)
            self.tokens[username] = answer.json()["token"]
        return self.tokens[username]

    def client(self, username: str | None = None, password: str = PASSWORD) -> Client:
        client = Client(self.url)
        if username:
            client.login(username, password)
        return client


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except (OSError, urllib.error.URLError):
        return False


@contextlib.contextmanager
def gunicorn_server(
    database_url: str,
    *,
    env: dict[str, str] | None = None,
    users: Iterable[str] = (),
    superusers: Iterable[str] = (),
    seed_demo: bool = False,
    workers: int = 3,
    threads: int = 4,
    static_root: Path | None = None,
    start_seconds: float = 60,
) -> Iterator[GunicornServer]:
    """JourneyHub under gunicorn with DEBUG=false on a migrated ``database_url``."""
    workdir = Path(tempfile.mkdtemp(prefix="journeyhub-gunicorn-"))
    defaults = {
        "MEDIA_ROOT": str(workdir / "media"),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(workdir / "mail"),
        # persistent connections, as in production: a new PostgreSQL connection per request
        # costs more than the request (SCRAM authentication)
        "DATABASE_CONN_MAX_AGE": "60",
    }
    server_env = production_env(database_url, **{**defaults, **(env or {})})
    process: subprocess.Popen | None = None
    try:
        shared = static_root is None
        static_root = _shared_static if shared else Path(static_root)
        server_env["STATIC_ROOT"] = str(static_root)
        prepare(
            server_env,
            users=users,
            superusers=superusers,
            seed_demo=seed_demo,
            collectstatic=not (shared and (static_root / "staticfiles.json").exists()),
        )
        if shared:
            atexit.register(shutil.rmtree, static_root, ignore_errors=True)
        port = free_port()
        log_path = workdir / "gunicorn.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "journeyhub.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                    "--timeout",
                    "60",
                    "--graceful-timeout",
                    "5",
                    "--error-logfile",
                    "-",
                ],
                cwd=ROOT,
                env=server_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the workers go with it
            )
        server = GunicornServer(f"http://127.0.0.1:{port}", process.pid, server_env, log_path)

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"gunicorn exited ({process.returncode}):\n{server.log()}")
            return _answers(f"{server.url}/accounts/login/")

        wait_until(ready, seconds=start_seconds, what=f"gunicorn on {server.url}")
        yield server
    finally:
        if process is not None:
            stop_process(process, signal.SIGTERM, seconds=15)
        shutil.rmtree(workdir, ignore_errors=True)


def stop_process(process: subprocess.Popen, sig: int, *, seconds: float) -> None:
    """Ask ``process`` to stop with ``sig``; after ``seconds`` kill its process group."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


# --- PostgreSQL ----------------------------------------------------------------------------


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> PostgresServer:
        parts = urllib.parse.urlsplit(url)
        return cls(
            parts.hostname or "127.0.0.1",
            parts.port or 5432,
            urllib.parse.unquote(parts.username or "postgres"),
            urllib.parse.unquote(parts.password or ""),
        )

    def url(self, database: str = "postgres") -> str:
        user = urllib.parse.quote(self.user, safe="")
        password = urllib.parse.quote(self.password, safe="")
        return f"postgres://{user}:{password}@{self.host}:{self.port}/{database}"

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as connection:
            connection.execute(sql)

    def create_database(self, prefix: str = "journeyhub") -> str:
        name = f"{prefix}_{secrets.token_hex(4)}"
        self._execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = urllib.parse.urlsplit(url).path.lstrip("/")
        assert re.fullmatch(r"[A-Za-z0-9_]+", name), name
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def accepts_connections(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False


def postgres_bindir() -> Path:
    """The newest PostgreSQL server's binaries (Debian puts them in /usr/lib/postgresql)."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = Path(subprocess.check_output([pg_config, "--bindir"], text=True).strip())
        if (bindir / "postgres").exists():
            return bindir
    raise RuntimeError(
        "The PostgreSQL server is missing: apt-get install -y postgresql "
        "(make system-deps and .ci/run install it)"
    )


@contextlib.contextmanager
def start_postgres(*, start_seconds: float = 60) -> Iterator[PostgresServer]:
    """A private PostgreSQL cluster in a temporary directory, on 127.0.0.1:free port.

    Independent of any system cluster: nothing to configure, nothing shared, removed
    afterwards. PostgreSQL refuses to run as root, so as root it runs as ``postgres``.
    Durability is switched off (fsync, synchronous commit): it only holds test data.
    """
    bindir = postgres_bindir()
    base = Path(tempfile.mkdtemp(prefix="journeyhub-pg-"))
    run_as = "postgres" if os.geteuid() == 0 else None
    password = secrets.token_hex(16)
    (base / "pwfile").write_text(password + "\n")
    if run_as:
        shutil.chown(base, run_as, run_as)
        shutil.chown(base / "pwfile", run_as, run_as)
    process: subprocess.Popen | None = None
    try:
        result = subprocess.run(
            [
                str(bindir / "initdb"),
                "--pgdata",
                str(base / "data"),
                "--username",
                "postgres",
                "--pwfile",
                str(base / "pwfile"),
                "--auth",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            user=run_as,
            cwd=base,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        port = free_port()
        with (base / "postgres.log").open("wb") as log:
            process = subprocess.Popen(
                [
                    str(bindir / "postgres"),
                    "-D",
                    str(base / "data"),
                    "-p",
                    str(port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={base}",
                    "-c",
                    "max_connections=200",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                ],
                user=run_as,
                cwd=base,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = PostgresServer("127.0.0.1", port, "postgres", password)

        def ready() -> bool:
            if process.poll() is not None:
                log_text = (base / "postgres.log").read_text(errors="replace")
                raise RuntimeError(f"postgres exited ({process.returncode}):\n{log_text}")
            return server.accepts_connections()

        wait_until(ready, seconds=start_seconds, what=f"PostgreSQL on port {port}")
        yield server
    finally:
        if process is not None:
            stop_process(process, signal.SIGINT, seconds=30)  # SIGINT: fast shutdown
        shutil.rmtree(base, ignore_errors=True)


# --- fixtures (registered through tests/conftest.py) -----------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    external = os.environ.get("JOURNEYHUB_TEST_POSTGRES_URL")
    if external:
        yield PostgresServer.from_url(external)
        return
    with start_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


def _main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] != "postgres" or argv[1] != "--":
        print("usage: python -m tests.servers postgres -- CMD [ARGS…]", file=sys.stderr)
        return 2
    with start_postgres() as server:
        database_url = server.create_database()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "JOURNEYHUB_TEST_POSTGRES_URL": server.url(),
        }
        print(f"PostgreSQL on 127.0.0.1:{server.port} for: {' '.join(argv[2:])}", flush=True)
        return subprocess.run(argv[2:], env=env, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
