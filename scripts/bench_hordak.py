"""django-hordak's transfers per second on the same PostgreSQL server, for bench_ledger's ratio.

bench_ledger (in the project's virtualenv) calls `virtualenv`, which installs the pinned hordak into
a virtualenv cached under /tmp, keyed by the pins and the Python version so that reruns skip the
install, then `measure`, which makes a throwaway database, runs this file there as a child and
drops the database again, also on failure. The child configures a minimal Django for hordak,
creates wallet and store accounts and times `Account.transfer_to` in `transaction.atomic()`: one
balanced transaction of two legs per transfer, checked as hordak checks it, by its own triggers
(legs sum to zero per currency at commit, each leg's currency is its account's, amounts positive).
It prints the latencies as JSON.
"""

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchdb import drop_database, recreate_database

# django-hordak 2.0.0 (the latest release) is tested up to Django 5.1; the rest is what pip
# resolved for it, pinned so that every run measures the same code.
REQUIREMENTS = (
    "django-hordak==2.0.0",
    "Django==5.1.15",
    "psycopg[binary]==3.3.9",
    "asgiref==3.13.0",
    "babel==2.19.0",
    "certifi==2026.10.19.post1",
    "charset-normalizer==3.5.3",
    "diff-match-patch==20241021",
    "dj-database-url==3.1.2",
    "django-extensions==4.1",
    "django-import-export==4.4.3",
    "django-js-asset==5.0.0",
    "django-money==3.6.2",
    "django-mptt==0.20.0",
    "idna==3.20",
    "py-moneyed==3.0",
    "requests==2.34.2",
    "sqlparse==0.6.1",
    "tablib==3.10.0",
    "typing_extensions==4.16.0",
    "urllib3==2.8.0",
)
STORES = 50
WORKERS = 8


def measure(python: str, url: str, transfers: int) -> dict:
    """Runs the child in `python` (from `virtualenv()`) against a fresh database at `url`; its
    JSON, the database dropped after."""
    recreate_database(url)
    try:
        done = subprocess.run(
            [python, __file__, url, str(transfers)],
            capture_output=True,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
            check=False,
        )
    finally:
        drop_database(url)
    if done.returncode:
        sys.exit(f"the hordak benchmark failed (--no-hordak skips it):\n{done.stderr}")
    return json.loads(done.stdout)


def virtualenv() -> str:
    """The cached virtualenv's python, built first when missing; built aside and renamed into
    place, so an interrupted install never leaves a half-made cache behind."""
    key = hashlib.sha256(repr((sys.version, REQUIREMENTS)).encode()).hexdigest()[:12]
    home = Path(tempfile.gettempdir()) / f"voucher-bench-hordak-{key}"
    python = home / "bin" / "python"
    if python.exists():
        return str(python)
    print(f"installing {REQUIREMENTS[0]} into {home} ...", flush=True)
    partial = Path(tempfile.mkdtemp(prefix=f"{home.name}-"))
    try:
        subprocess.run([sys.executable, "-m", "venv", partial], check=True)
        done = subprocess.run(
            [partial / "bin" / "python", "-m", "pip", "install", "-q", *REQUIREMENTS],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            sys.exit(f"installing hordak failed (--no-hordak skips it):\n{done.stderr}")
        with contextlib.suppress(OSError):  # another run finished the same cache first
            partial.rename(home)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return str(python)


def child(url: str, transfers: int) -> None:
    from importlib.metadata import version

    import dj_database_url  # a dependency of hordak's
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": dj_database_url.parse(url)},
        INSTALLED_APPS=["django.contrib.contenttypes", "mptt", "djmoney", "hordak"],
        USE_TZ=True,
        TIME_ZONE="Asia/Tokyo",
        DEFAULT_CURRENCY="JPY",
        CURRENCIES=["JPY"],
    )
    django.setup()
    import multiprocessing
    import threading

    from django.core.management import call_command
    from django.db import connection, transaction
    from hordak.models import Account
    from moneyed import Money

    call_command("migrate", verbosity=0)
    funding = Account.objects.create(name="issued value", type=Account.TYPES.income)
    stores = [
        Account.objects.create(name=f"store {i}", type=Account.TYPES.asset) for i in range(STORES)
    ]
    wallets = [
        Account.objects.create(name=f"wallet {i}", type=Account.TYPES.asset)
        for i in range(max(transfers // 2, 100))
    ]
    for wallet in wallets:
        with transaction.atomic():
            funding.transfer_to(wallet, Money(2_000_000, "JPY"))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as bench_ledger does: statistics as on a live database

    def transfer_many(count, first_wallet, latencies):
        """Each caller pays from its own run of wallets, as bench_ledger's callers do."""
        for n in range(count):
            start = time.perf_counter()
            with transaction.atomic():
                wallets[(first_wallet + n) % len(wallets)].transfer_to(
                    stores[(first_wallet // 7 + n) % len(stores)], Money(500 + n % 7, "JPY")
                )
            latencies.append(time.perf_counter() - start)

    def result(label, workers, count, elapsed, latencies):
        return {
            "label": label,
            "workers": workers,
            "count": count,
            "elapsed": elapsed,
            "latencies": latencies,
        }

    def concurrently(label, start_worker, gate, collect):
        per_worker = transfers // WORKERS
        connection.close()
        workers = [start_worker(i, per_worker) for i in range(WORKERS)]
        gate.wait()
        start = time.perf_counter()
        gathered = collect(workers)
        elapsed = time.perf_counter() - start
        latencies = [x for xs in gathered for x in xs]
        return result(label, WORKERS, per_worker * WORKERS, elapsed, latencies)

    def in_threads():
        """Threads, as the issue's aim counts hordak: one connection each, one GIL for all."""
        gate = threading.Barrier(WORKERS + 1)
        results = [[] for _ in range(WORKERS)]

        def worker(i, count):
            gate.wait()
            transfer_many(count, i * len(wallets) // WORKERS, results[i])
            connection.close()

        def start(i, count):
            thread = threading.Thread(target=worker, args=(i, count))
            thread.start()
            return thread

        def collect(threads):
            for thread in threads:
                thread.join()
            return results

        return concurrently(f"{WORKERS} threads", start, gate, collect)

    def in_processes():
        """Processes, as bench_ledger's 8 connections are: no shared GIL."""
        ctx = multiprocessing.get_context("fork")
        gate = ctx.Barrier(WORKERS + 1)
        queue = ctx.Queue()

        def worker(i, count):
            gate.wait()
            latencies: list[float] = []
            transfer_many(count, i * len(wallets) // WORKERS, latencies)
            connection.close()
            queue.put(latencies)

        def start(i, count):
            process = ctx.Process(target=worker, args=(i, count))
            process.start()
            return process

        def collect(processes):
            gathered = [queue.get() for _ in processes]
            for process in processes:
                process.join()
            return gathered

        return concurrently(f"{WORKERS} processes", start, gate, collect)

    transfer_many(100, 0, [])  # connection, caches and plans
    latencies: list[float] = []
    start = time.perf_counter()
    transfer_many(transfers, 0, latencies)
    one = result("1 connection", 1, transfers, time.perf_counter() - start, latencies)
    runs = [one, in_threads(), in_processes()]
    print(
        json.dumps(
            {
                "versions": f"django-hordak {version('django-hordak')}, Django {django.__version__}",
                "runs": runs,
            }
        )
    )


if __name__ == "__main__":
    child(sys.argv[1], int(sys.argv[2]))
