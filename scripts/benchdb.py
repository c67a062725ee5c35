"""The benchmarks' own databases, made beside the project's database and dropped afterwards."""

import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def bench_url(name: str) -> str:
    """The project's DATABASE_URL (environment, then .env) with the database name replaced."""
    from config.env import load_dotenv

    load_dotenv(ROOT / ".env")
    parts = urlsplit(
        os.environ.get("DATABASE_URL", "postgres://voucher:voucher@127.0.0.1:5432/voucher")
    )
    return urlunsplit(parts._replace(path=f"/{name}"))


def _run(url: str, *statements: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def recreate_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    _run(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")


def drop_database(url: str) -> None:
    from django.db import connections

    connections.close_all()
    _run(url, f"DROP DATABASE IF EXISTS {urlsplit(url).path.lstrip('/')} WITH (FORCE)")


def run_child(*args: str) -> tuple[float, float, str]:
    """Run manage.py in a child; wall seconds, peak RSS of children in MB, output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode:
        sys.exit(f"{args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, max(peak, before) / 1024, done.stdout.strip()
