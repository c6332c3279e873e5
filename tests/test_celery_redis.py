"""Real background work: the reminder and notification tasks run through a real Redis
broker and a Celery worker on this machine (Debian's ``redis-server``).

Everything runs in subprocesses against a SQLite file, because the worker is another
process and cannot see the test run's in-memory database.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[1]
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str, timeout: int = 120) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def wait_for_port(port: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


@pytest.fixture
def redis_broker():
    if not Path(REDIS).exists():
        pytest.fail("redis-server is missing: apt-get install -y redis-server (.ci/run does)")
    port = free_port()
    server = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def environment(tmp_path, redis_broker):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "DATABASE_", "EMAIL_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="journeyhub.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'celery.sqlite3'}",
        CELERY_BROKER_URL=redis_broker,
        CELERY_RESULT_BACKEND=redis_broker,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
    )
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    return env


@pytest.fixture
def worker(environment, tmp_path):
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "journeyhub",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


SEND = """
from django.contrib.auth.models import User
from governance.tasks import notify_ownership_transferred, send_review_reminders
from maps.models import JourneyMap
from journeyhub.celery import app

assert not app.conf.task_always_eager, "tasks must go through the broker"
journey = JourneyMap.objects.get(slug="close-account")
omar, olivia = User.objects.get(username="omar"), User.objects.get(username="olivia")
sent = send_review_reminders.delay().get(timeout=60)
again = send_review_reminders.delay().get(timeout=60)
told = notify_ownership_transferred.delay(journey.pk, omar.pk, olivia.pk, omar.pk).get(timeout=60)
print(f"sent={sent} again={again} told={told}")
"""


def test_reminders_and_notifications_run_on_a_real_worker(environment, worker, tmp_path):
    output = manage(environment, "shell", "-c", SEND, timeout=180)
    assert "sent=2 again=0 told=True" in output, output
    mails = "\n".join(p.read_text() for p in (tmp_path / "mail").glob("*.log"))
    assert "To: olivia@example.com" in mails and "To: omar@example.com" in mails
    assert "overdue for review" in mails
    assert "You now own the journey map =E2=80=9CClose my account=E2=80=9D" in mails or (
        "Close my account" in mails
    )
    log = (tmp_path / "worker.log").read_text()
    assert "governance.tasks.send_review_reminders" in log
    assert "succeeded" in log
