"""A confirmed TheyDo import runs on a real Celery worker through a real Redis broker
(the set-up with ``CELERY_BROKER_URL``): the confirmation only queues it, the worker runs
it, and the job ends done with its upload removed. Subprocesses against a SQLite file and
a shared MEDIA_ROOT, as in tests/test_celery_redis.py, whose fixtures this reuses."""

from __future__ import annotations

import pytest

from tests import test_celery_redis as real

# the broker, the migrated and seeded SQLite file, and the worker of the Redis tests
redis_broker, environment, worker, manage = (
    real.redis_broker,
    real.environment,
    real.worker,
    real.manage,
)

pytestmark = pytest.mark.redis

RUN = """
import json, time
from pathlib import Path
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.contrib.auth.models import User
from journeyhub.celery import app
from maps.models import KPI, JourneyMap, TheydoImport
from maps.theydo import jobs

assert not app.conf.task_always_eager, "tasks must go through the broker"
journey = JourneyMap.objects.get(slug="close-account")
data = {"format": "THEYDO_METRICS_V1", "metrics": [
    {"type": "NPS", "importKey": f"worker-nps-{i}", "title": f"Worker NPS {i}", "unit": "points",
     "dataPoints": [{"dateOfMeasurement": "2025-01-31", "promoters": 6, "passives": 2,
                     "detractors": 2}]}
    for i in range(3)]}
upload = SimpleUploadedFile("worker.json", json.dumps(data).encode())
job = jobs.theydo_upload_preview(
    journey_map=journey, upload=upload, by=User.objects.get(username="omar")
)
stored = Path(settings.MEDIA_ROOT) / job.file.name
assert stored.exists()
assert jobs.theydo_import_confirm(job=job)
seen = set()
deadline = time.monotonic() + 90
while time.monotonic() < deadline:
    job.refresh_from_db()
    seen.add(job.status)
    if job.is_finished:
        break
    time.sleep(0.2)
kpis = KPI.objects.filter(map=journey, import_key__startswith="worker-nps-").count()
print(f"status={job.status} progress={job.progress} kpis={kpis} file_kept={stored.exists()}")
print(f"text={job.result.get('text')}")
"""


@pytest.fixture
def shared_media(environment, tmp_path):
    """One MEDIA_ROOT for the shell that uploads and the worker that imports: set before
    the worker starts."""
    environment["MEDIA_ROOT"] = str(tmp_path / "media")
    return environment


def test_a_confirmed_import_runs_on_a_real_worker_and_removes_its_upload(
    shared_media, worker, tmp_path
):
    output = manage(shared_media, "shell", "-c", RUN, timeout=180)

    assert "status=done progress=100 kpis=3 file_kept=False" in output, output
    assert "text=Created 3 KPIs" in output
    log = (tmp_path / "worker.log").read_text()
    assert "maps.tasks.import_theydo" in log and "succeeded" in log
