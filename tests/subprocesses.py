"""For tests that start real server or worker processes against the test database."""

import os
import subprocess
from pathlib import Path
from urllib.parse import quote

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
