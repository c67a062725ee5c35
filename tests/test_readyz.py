"""/readyz: 200 when the database, migrations, a worker and storage are fine; 503 with a reason
per failed check otherwise, including when the real worker process is stopped or killed."""

import json
import signal
import time

import pytest
from django.core.files.storage import FileSystemStorage

from core import health
from core.heartbeat import beat
from core.models import WorkerHeartbeat
from tests import subprocesses


def readyz(client):
    response = client.get("/readyz")
    return response.status_code, json.loads(response.content)


def start_worker(tmp_path, media_root):
    return subprocesses.start_worker(tmp_path, media_root, WORKER_HEARTBEAT_SECONDS="1")


def wait_for(probe, seconds=60):
    deadline = time.monotonic() + seconds
    while not (result := probe()):
        if time.monotonic() > deadline:
            pytest.fail("readyz did not get there in time")
        time.sleep(0.1)
    return result


@pytest.mark.django_db(transaction=True)
def test_readyz_follows_the_real_worker(client, tmp_path, media_root, settings):
    settings.WORKER_MAX_SILENCE_SECONDS = 3
    status, body = readyz(client)
    assert status == 503
    assert set(body) == {"worker"}
    assert "no worker heartbeat" in body["worker"]

    worker = start_worker(tmp_path, media_root)
    try:
        wait_for(lambda: readyz(client) == (200, {"ok": True}))
        # A worker stopped by its service manager (SIGTERM) removes its beat at once.
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
        status, body = readyz(client)
        assert status == 503
        assert "no worker heartbeat" in body["worker"]

        # A worker killed outright leaves its last beat behind, which goes stale.
        worker = start_worker(tmp_path, media_root)
        wait_for(lambda: readyz(client)[0] == 200)
        worker.kill()
        worker.wait(timeout=30)
        assert WorkerHeartbeat.objects.count() == 1
        status, body = wait_for(lambda: (r := readyz(client))[0] == 503 and r)
        assert body["worker"].startswith("no heartbeat for ")
        assert body["worker"].endswith(" s")
    finally:
        worker.kill()
        worker.wait(timeout=30)


@pytest.mark.django_db
def test_readyz_names_each_failed_check(client, monkeypatch, settings):
    beat("w1")
    assert readyz(client) == (200, {"ok": True})

    def storage_down(*args, **kwargs):
        raise PermissionError("[Errno 13] Permission denied: '/app/media/readyz'")

    monkeypatch.setattr(FileSystemStorage, "save", storage_down)
    monkeypatch.setattr(health, "_migrations_applied", False)
    monkeypatch.setattr(
        health.MigrationExecutor,
        "migration_plan",
        lambda self, targets: [(type("M", (), {"app_label": "core", "name": "0099_new"})(), False)],
    )
    status, body = readyz(client)
    assert status == 503
    assert body == {
        "migrations": "1 migration(s) not applied: core.0099_new",
        "storage": "PermissionError: [Errno 13] Permission denied: '/app/media/readyz'",
    }


def test_readyz_without_a_database_says_so(client, settings, monkeypatch):
    # No django_db mark: pytest-django refuses every query, as an unreachable database would.
    status, body = readyz(client)
    assert status == 503
    assert body["database"]
    assert body["migrations"] == "not checked: database unreachable"
    assert body["worker"] == "not checked: database unreachable"
    assert "storage" not in body
