"""For tests that start real server or worker processes against the test database."""

import http.client
import json
import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


def database_url() -> str:
    """The test database this test writes to, for another process to read."""
    db = connection.settings_dict
    credentials = f"{quote(db['USER'])}:{quote(db['PASSWORD'])}"
    return f"postgres://{credentials}@{db['HOST'] or HOST}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(tmp_path, media_root, **env) -> subprocess.Popen:
    """The real background worker (manage.py run_worker, with its heartbeat) on the test
    database; its log goes to tmp_path/worker.log."""
    env = dict(
        os.environ,
        DATABASE_URL=database_url(),
        SECRET_KEY=settings.SECRET_KEY,
        MEDIA_ROOT=str(media_root),
        DB_CONN_MAX_AGE="0",
        **env,
    )
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/python"),
            "manage.py",
            "run_worker",
            "--no-startup-delay",
            "--no-reload",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "worker.log").open("w"),
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_until(probe, seconds=30):
    """probe()'s first true answer; OSError counts as not yet."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if result := probe():
                return result
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail("the server did not get there in time")
        time.sleep(0.1)


def request_json(port, method, path, body=None, headers=None, timeout=10):
    """One request to a server started here, on a connection of its own: status, JSON body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@contextmanager
def gunicorn(tmp_path, app, *options, **env):
    """A real gunicorn with one worker serving `app` on the test database, until the block ends;
    yields its port. Its log goes to tmp_path/gunicorn.log."""
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=database_url(),
        SECRET_KEY=settings.SECRET_KEY,  # codes and keys the test makes are signed with it
        ALLOWED_HOSTS=HOST,
        **env,
    )
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            *(app, "--bind", f"{HOST}:{port}", "--workers", "1", "--log-level", "warning"),
            *options,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "gunicorn.log").open("w"),
    )
    try:
        wait_until(lambda: socket.create_connection((HOST, port), timeout=1).close() or True)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
