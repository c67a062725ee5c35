#!/usr/bin/env python
"""POS API benchmark: payments per second and p50/p99 latency of POST /api/v1/payments under
gunicorn at 8 and 32 concurrent clients, next to the same server's framework floor (GET /healthz:
a trivial view behind the whole middleware stack, no query), and PostgreSQL's own pace in the same
run: pgbench's TPC-B-like load (scale 10, 8 clients) on a database of its own.

Builds its own databases (--database, and the same name with _pgbench) and drops them afterwards,
also on failure (the payments one is kept with --keep); serves it with gunicorn on 127.0.0.1:--port
only. The load generator is threads with keep-alive http.client connections, bounded by --seconds
per phase and by the codes issued beforehand. Each phase runs in --rounds slices, in turn with
the floor's and pgbench's, so that the machine's speed changing during the run (other work on its
CPUs) weighs on both sides of each ratio alike. Before the first request the database gets
--history earlier payments and ANALYZE, as a live one has.
    .venv/bin/python scripts/bench_pos_api.py [--scale 1.0] [--seconds 10] [--rounds 5]
        [--pgbench-seconds 30] [--history 20000] [--worker-class gthread --workers <CPUs> --threads 4]
        [--port 8103 --database voucher_bench_pos]
The load average is printed beside the figures: other processes on the machine share its CPUs.
The aims of issue 13 are printed last: payments >= 0.3 of the floor at 8 and 32 clients, p99 under
100 ms at 32 clients, payments at 8 clients >= 0.2 of pgbench's tps.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchdb import bench_url, drop_database, recreate_database  # noqa: E402

HOST = "127.0.0.1"
PGBENCH_SCALE, PGBENCH_CLIENTS = 10, 8
# The aims of issue 13, as ratios: the machine's speed cancels out.
AIM_FLOOR_RATIO, AIM_P99_MS, AIM_PGBENCH_RATIO = 0.3, 100, 0.2


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="0.1 for a quick check")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument(
        "--rounds", type=int, default=5, help="slices of each phase, taken in turn with the others"
    )
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count(), help="gunicorn processes (one per CPU)"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument(
        "--codes-per-second", type=int, default=1500, help="codes issued per phase second"
    )
    parser.add_argument("--clients", default="8,32", help="concurrent clients per phase")
    parser.add_argument("--stores", type=int, default=50, help="stores (companies) paid")
    parser.add_argument(
        "--history", type=int, default=20_000, help="earlier payments loaded first (x --scale)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--port", type=int, default=8103, help="gunicorn's port on 127.0.0.1")
    parser.add_argument("--database", default="voucher_bench_pos", help="the benchmark database")
    parser.add_argument(
        "--pgbench-seconds", type=float, default=30.0, help="pgbench's run; 0 leaves it out"
    )
    args = parser.parse_args()
    args.clients = [int(n) for n in args.clients.split(",")]

    url = bench_url(args.database)
    pgbench_url = bench_url(f"{args.database}_pgbench")
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    server = None
    try:
        call_command("migrate", verbosity=0)
        if args.pgbench_seconds:
            recreate_database(pgbench_url)
            pgbench(pgbench_url, "-i", "-q", "-s", str(PGBENCH_SCALE))
        raw_keys, wallets = build_data(args)
        server = start_gunicorn(args, url)
        run(args, raw_keys, wallets, server.pid, pgbench_url if args.pgbench_seconds else None)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        connections.close_all()
        if args.pgbench_seconds:
            drop_database(pgbench_url)
        if not args.keep:
            drop_database(url)


def pgbench(url, *options) -> str:
    """pgbench on a throwaway database: TPC-B-like, the same run's yardstick."""
    program = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    done = subprocess.run([program, *options, url], capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"pgbench {' '.join(options)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def pgbench_slice(url, seconds) -> dict:
    """One slice of pgbench's run, while gunicorn is idle: its transactions and seconds."""
    clients = str(PGBENCH_CLIENTS)
    output = pgbench(url, "-c", clients, "-j", clients, "-T", str(max(1, round(seconds))))
    found = re.search(r"^number of transactions actually processed: ([0-9]+)", output, re.M)
    tps = re.search(r"^tps = ([0-9.]+)", output, re.MULTILINE)
    if found is None or tps is None:
        raise SystemExit(f"pgbench printed no tps:\n{output}")
    return {"transactions": int(found[1]), "seconds": int(found[1]) / float(tps[1])}


def build_data(args):
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from merchants.models import Company, Store, Terminal
    from payments.services import api_key_create
    from wallets import ledger
    from wallets.models import Programme, Resident, ValueType, Wallet

    today = timezone.localdate()
    programme = Programme.objects.create(
        code="bench",
        name="ベンチマーク商品券",
        issuer="ベンチ市",
        starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=30),
    )
    common = ValueType.objects.create(
        programme=programme, code="common", name="共通券", expires_on=programme.ends_on
    )
    # Each company's payable account is one row every payment to it updates: spread the load
    # over --stores companies as a town does; --stores 1 measures the single-shop worst case.
    raw_keys, stores = [], []
    for n in range(args.stores):
        store = Store.objects.create(
            company=Company.objects.create(code=f"B{n:04d}", name=f"ベンチ商店{n}"),
            programme=programme,
            code=f"BENCH{n:04d}",
            name=f"ベンチ商店{n} 本店",
            passcode=f"{n:06d}",
        )
        stores.append(store)
        terminal = Terminal.objects.create(store=store, kind=Terminal.Kind.POS)
        raw_keys.append(api_key_create(terminal=terminal, name="bench")[1])
    pin = make_password("1234")
    # Many wallets, so the measured cost is a payment's, not a queue on one wallet's lock.
    wallets = []
    for n in range(max(20, int(400 * args.scale))):
        wallet = Wallet.objects.create(
            programme=programme,
            resident=Resident.objects.create(name=f"ベンチ {n}"),
            ticket_number=f"{n:012d}",
            pin_hash=pin,
        )
        ledger.grant(wallet=wallet, value_type=common, amount=10_000_000)
        wallets.append(wallet)
    load_history(wallets, stores, int(args.history * args.scale))
    return raw_keys, wallets


# Yesterday's payments, one statement per chunk, through the same database function.
HISTORY = """
SELECT count(*) FROM (
    SELECT payment_make(
        (%(wallets)s::bigint[])[1 + g %% cardinality(%(wallets)s::bigint[])], NULL,
        (%(stores)s::bigint[])[1 + g %% cardinality(%(stores)s::bigint[])], NULL, 100, 'mpm',
        'history-' || g, 'H' || lpad(g::text, 15, '0'), NULL,
        now() - interval '1 day' + g * interval '1 ms', %(time_zone)s, %(lock_class)s)
    FROM generate_series(%(first)s, %(last)s) g
) made
"""


def load_history(wallets, stores, payments):
    """A live database's tables, with their statistics, before the first request: on tables
    that were empty when ANALYZE ran, the plans PostgreSQL caches for the triggers and
    foreign-key checks scan whole tables, a cost that grew with every payment of the run."""
    from django.conf import settings
    from django.db import connection

    from payments.sql import PAYMENTS_IN_FLIGHT_LOCK

    params = {
        "wallets": [w.pk for w in wallets],
        "stores": [s.pk for s in stores],
        "time_zone": settings.TIME_ZONE,
        "lock_class": PAYMENTS_IN_FLIGHT_LOCK,
    }
    first = 1
    with connection.cursor() as cursor:
        # ANALYZE after a first small chunk, so that the rest is planned with indexes too.
        for size in (min(payments, 500), *[5_000] * (payments // 5_000 + 1)):
            last = min(payments, first + size - 1)
            if last >= first:
                cursor.execute(HISTORY, params | {"first": first, "last": last})
                first = last + 1
            cursor.execute("ANALYZE")  # as autovacuum would have by now on a live database
            if first > payments:
                break


def start_gunicorn(args, url):
    env = dict(os.environ, DATABASE_URL=url, ALLOWED_HOSTS=HOST, LOG_LEVEL="ERROR")
    log = ROOT / "bench-results" / "bench_pos_api-gunicorn.log"
    log.parent.mkdir(exist_ok=True)
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"{HOST}:{args.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            args.worker_class,
            "--threads",
            str(args.threads),
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, args.port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"gunicorn did not start on {HOST}:{args.port}")


def issue_codes(wallets, count):
    from payments.services import cpm_code_issue

    return [cpm_code_issue(wallet=wallets[i % len(wallets)])[1] for i in range(count)]


def load(port, clients, seconds, make_request):
    """`clients` threads, each on one keep-alive connection, until the deadline."""
    latencies, statuses, lock = [], {}, threading.Lock()
    start_gate = threading.Barrier(clients + 1)

    def worker():
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        mine, seen = [], {}
        start_gate.wait()
        while time.monotonic() < deadline:
            request = make_request()
            if request is None:
                break
            t0 = time.perf_counter()
            conn.request(*request)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - t0)
            seen[response.status] = seen.get(response.status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for status, n in seen.items():
                statuses[status] = statuses.get(status, 0) + n

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + seconds
    started = time.perf_counter()
    start_gate.wait()
    for t in threads:
        t.join()
    return {"latencies": latencies, "seconds": time.perf_counter() - started, "statuses": statuses}


def summary(slices, cpu) -> dict:
    """The slices of one kind of request as one phase: rate over their time, latency over all."""
    latencies = sorted(t for piece in slices for t in piece["latencies"])
    statuses = {}
    for piece in slices:
        for status, n in piece["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    return {
        "requests": len(latencies),
        "per_second": len(latencies) / sum(piece["seconds"] for piece in slices),
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0,
        "statuses": statuses,
        "cpu_ms": tuple(spent * 1000 / max(1, len(latencies)) for spent in cpu),
    }


def server_cpu_seconds(server_pid) -> tuple[dict[int, float], dict[int, float]]:
    """CPU seconds so far of each gunicorn worker and each PostgreSQL backend serving them, so the
    cost of a payment can be read apart from what other processes on the machine take."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        backends = {row[0] for row in cursor.fetchall()}
    workers = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server_pid:
            workers.add(int(stat.parent.name))

    def ticks(pids):
        seconds = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            seconds[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return seconds

    return ticks(workers), ticks(backends)


def add_cpu(total, before, after) -> None:
    """Adds a slice's CPU seconds, Django's and PostgreSQL's, summed over the processes alive
    at its end. Connections older than CONN_MAX_AGE close during a slice: subtracting totals
    made PostgreSQL's share negative."""
    for n, (was, now) in enumerate(zip(before, after, strict=True)):
        total[n] += sum(spent - was.get(pid, 0) for pid, spent in now.items())


def run(args, raw_keys, wallets, server_pid, pgbench_url):
    """Each phase in --rounds slices, taken in turn with the floor's (and pgbench's) slices, so
    that a change in the machine's speed during the run (other work on its CPUs) weighs on
    every figure of a ratio alike."""
    from payments.models import Payment

    headers = [
        {"Authorization": f"Bearer {k}", "Content-Type": "application/json"} for k in raw_keys
    ]
    seconds = max(2.0, args.seconds * min(1.0, args.scale))
    piece = seconds / args.rounds
    results, pgbench_slices = [], []
    floor_request = ("GET", "/healthz", None, {})
    load(args.port, 4, 1.0, lambda: floor_request)  # let the workers warm up
    for clients in args.clients:
        floors, pays, cpu_floor, cpu_pay, left = [], [], [0.0, 0.0], [0.0, 0.0], []
        for _round in range(args.rounds):
            cpu = server_cpu_seconds(server_pid)
            floors.append(load(args.port, clients, piece, lambda: floor_request))
            add_cpu(cpu_floor, cpu, server_cpu_seconds(server_pid))
            # Codes live 60 s: issue them just before the slice, more than it can use.
            codes = issue_codes(wallets, int(max(200, args.codes_per_second * piece)))
            lock = threading.Lock()

            def next_payment(codes=codes, lock=lock):
                with lock:
                    if not codes:
                        return None
                    code = codes.pop()
                    auth = headers[len(codes) % len(headers)]
                body = json.dumps({"code": code, "amount": 100})
                key = {"Idempotency-Key": str(uuid.uuid4())}
                return ("POST", "/api/v1/payments", body, auth | key)

            before = Payment.objects.count()
            cpu = server_cpu_seconds(server_pid)
            pays.append(load(args.port, clients, piece, next_payment))
            add_cpu(cpu_pay, cpu, server_cpu_seconds(server_pid))
            made = Payment.objects.count() - before
            assert made == pays[-1]["statuses"].get(201, 0), (made, pays[-1]["statuses"])
            left.append(len(codes))
            if pgbench_url and clients == PGBENCH_CLIENTS:
                pgbench_slices.append(
                    pgbench_slice(pgbench_url, args.pgbench_seconds / args.rounds)
                )
        results.append((clients, summary(floors, cpu_floor), summary(pays, cpu_pay), min(left)))
    pgbench_tps = None
    if pgbench_slices:
        pgbench_tps = sum(p["transactions"] for p in pgbench_slices) / sum(
            p["seconds"] for p in pgbench_slices
        )

    print(
        f"\nPOS API benchmark: gunicorn {args.worker_class} {args.workers}x{args.threads} on "
        f"{HOST}:{args.port}, "
        f"{os.cpu_count()} CPUs, {seconds:.0f} s per phase in {args.rounds} slices, "
        f"{len(wallets)} wallets, "
        f"load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}"
    )
    print(
        f"{'clients':>7} {'endpoint':<28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'CPU ms/req: Django + PostgreSQL':>32}  statuses"
    )
    for clients, floor, pay, left in results:
        for name, r in (("floor (GET /healthz)", floor), ("POST /payments (201)", pay)):
            print(
                f"{clients:>7} {name:<28} {r['per_second']:>8.1f} {r['p50_ms']:>8.1f} "
                f"{r['p99_ms']:>8.1f} {r['cpu_ms'][0]:>23.2f} + {r['cpu_ms'][1]:>6.2f}  {r['statuses']}"
            )
        ratio = pay["per_second"] / floor["per_second"] if floor["per_second"] else 0
        note = " (ran out of pre-issued codes)" if left == 0 else ""
        print(f"{'':>7} payments / floor = {ratio:.2f}{note}")
    print_aims(results, pgbench_tps)

    from django.core.management import call_command

    call_command("check_ledger")


def print_aims(results, pgbench_tps):
    """Each aim with its figure, so that a run says at once which ones it meets."""
    floor_ratios = {
        clients: pay["per_second"] / floor["per_second"] for clients, floor, pay, _ in results
    }
    pays = {clients: pay for clients, _floor, pay, _left in results}
    aims = [
        (
            f"payments / floor at {clients} clients >= {AIM_FLOOR_RATIO}",
            ratio,
            ratio >= AIM_FLOOR_RATIO,
        )
        for clients, ratio in floor_ratios.items()
    ]
    if 32 in pays:
        p99 = pays[32]["p99_ms"]
        aims.append((f"p99 at 32 clients < {AIM_P99_MS} ms", p99, p99 < AIM_P99_MS))
    if pgbench_tps:
        print(
            f"\npgbench TPC-B-like, scale {PGBENCH_SCALE}, {PGBENCH_CLIENTS} clients: "
            f"{pgbench_tps:,.0f} tps"
        )
        for clients, pay in pays.items():
            print(
                f"{clients:>7} clients: payments/s / pgbench tps = {pay['per_second'] / pgbench_tps:.2f}"
            )
        if PGBENCH_CLIENTS in pays:
            ratio = pays[PGBENCH_CLIENTS]["per_second"] / pgbench_tps
            aims.append(
                (
                    f"payments / pgbench at {PGBENCH_CLIENTS} clients >= {AIM_PGBENCH_RATIO}",
                    ratio,
                    ratio >= AIM_PGBENCH_RATIO,
                )
            )
    print("\nAims (issue 13):")
    for name, figure, met in aims:
        print(f"  {'met    ' if met else 'not met'}  {name}: {figure:.2f}")


if __name__ == "__main__":
    main()
