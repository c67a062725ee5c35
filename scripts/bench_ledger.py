#!/usr/bin/env python
"""Ledger micro-benchmark: payments per second through payments.services.payment_create on one connection
and on eight, django-hordak's transfers per second on the same server in the same run with the ratio
(scripts/bench_hordak.py), and check_ledger's time on a million postings.

Builds its own database (--database, voucher_bench_ledger) and drops it afterwards unless --keep; hordak
gets a second one (NAME_hordak), always dropped, and a virtualenv cached under /tmp.
    .venv/bin/python scripts/bench_ledger.py [--payments 2000] [--postings 1000000] [--no-hordak]
"""

import argparse
import io
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import bench_hordak  # noqa: E402
from benchdb import bench_url, drop_database, recreate_database  # noqa: E402


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--payments", type=int, default=2000, help="payments per measured run")
    parser.add_argument("--postings", type=int, default=1_000_000, help="postings for check_ledger")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--database", default="voucher_bench_ledger", help="its name, when two runs share a server"
    )
    parser.add_argument("--no-hordak", action="store_true", help="skip the django-hordak runs")
    args = parser.parse_args()

    # Installed before anything is measured, so that a failing install costs no ledger run.
    args.hordak_python = None if args.no_hordak else bench_hordak.virtualenv()
    url = bench_url(args.database)
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(url)


def run(args):
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from merchants.models import Company, Store
    from payments import services as payment_services
    from wallets import ledger
    from wallets.models import Programme, Resident, ValueType, Wallet

    today = timezone.localdate()
    programme = Programme.objects.create(
        code="bench",
        name="bench",
        issuer="bench",
        starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=30),
    )
    common = ValueType.objects.create(
        programme=programme, code="common", name="共通券", expires_on=programme.ends_on
    )
    local = ValueType.objects.create(
        programme=programme,
        code="local",
        name="専用券",
        small_local_only=True,
        expires_on=programme.ends_on,
    )
    stores = []
    for i in range(50):
        company = Company.objects.create(code=f"B{i:04d}", name=f"bench {i}")
        stores.append(
            Store.objects.create(
                company=company,
                programme=programme,
                code=f"BS{i:04d}",
                name=f"bench store {i}",
                passcode=f"{i:06d}",
                is_small_local=i % 2 == 0,
            )
        )
    pin = make_password("1234")
    wallet_count = max(args.payments // 2, 100)
    residents = Resident.objects.bulk_create(Resident(name=f"r{i}") for i in range(wallet_count))
    wallets = Wallet.objects.bulk_create(
        Wallet(programme=programme, resident=r, ticket_number=f"{i:012d}", pin_hash=pin)
        for i, r in enumerate(residents)
    )
    for w in wallets:
        ledger.grant(wallet=w, value_type=common, amount=1_000_000)
        ledger.grant(wallet=w, value_type=local, amount=1_000_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have by now on a live database

    def pay_many(count, first_wallet, latencies, tag, one_store=None):
        """Each caller pays from its own run of wallets, as different residents would."""
        for n in range(count):
            start = time.perf_counter()
            payment_services.payment_create(
                wallet=wallets[(first_wallet + n) % len(wallets)],
                store=one_store or stores[(first_wallet // 7 + n) % len(stores)],
                amount=500 + n % 7,
                idempotency_key=f"{tag}-{n}",
                mode="mpm",
            )
            latencies.append(time.perf_counter() - start)

    def in_processes(label, procs_n, one_store=None):
        """Separate processes, as gunicorn workers would be: threads would share one GIL."""
        per_proc = args.payments // procs_n
        connection.close()
        ctx = multiprocessing.get_context("fork")
        results = ctx.Queue()
        start_gate = ctx.Barrier(procs_n + 1)

        def worker(i):
            start_gate.wait()
            lat: list[float] = []
            pay_many(per_proc, i * len(wallets) // procs_n, lat, f"{label}{i}", one_store)
            connection.close()
            results.put(lat)

        procs = [ctx.Process(target=worker, args=(i,)) for i in range(procs_n)]
        for p in procs:
            p.start()
        start_gate.wait()
        start = time.perf_counter()
        gathered = [results.get() for _ in procs]
        elapsed = time.perf_counter() - start
        for p in procs:
            p.join()
        return report(label, per_proc * procs_n, elapsed, [x for xs in gathered for x in xs])

    print(f"# ledger benchmark: {os.cpu_count()} CPUs, PostgreSQL {connection.pg_version // 10000}")
    pay_many(100, 0, [], "warm")  # connection, caches and plans

    latencies: list[float] = []
    start = time.perf_counter()
    pay_many(args.payments, 0, latencies, "one")
    report("1 connection", args.payments, time.perf_counter() - start, latencies)
    eight = in_processes("8 connections, 50 stores", 8)
    in_processes("8 connections, all at one store", 8, one_store=stores[0])
    if args.hordak_python:
        compare_hordak(args, eight)

    # check_ledger on a million postings: bulk-load balanced grant entries with SQL, then check.
    existing = count_postings()
    missing = max(args.postings - existing, 0)
    entries = missing // 2
    print(f"loading {entries * 2:,} more postings ...", flush=True)
    load_start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM wallets_account WHERE kind = 'issuance'")
        (issuance,) = cursor.fetchone()
        cursor.execute(
            "SELECT array_agg(id ORDER BY id) FROM wallets_account WHERE kind = 'wallet'"
        )
        (wallet_accounts,) = cursor.fetchone()
        # Balances are then set from the postings in one statement, as the trigger would have.
        cursor.execute("ALTER TABLE wallets_posting DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE wallets_account DISABLE TRIGGER USER")
        try:
            cursor.execute(
                """
                WITH e AS (
                    INSERT INTO wallets_journalentry (programme_id, kind, created_at, memo)
                    SELECT %s, 'grant', now(), 'bench' FROM generate_series(1, %s)
                    RETURNING id
                )
                INSERT INTO wallets_posting (entry_id, account_id, amount)
                SELECT e.id, a.account_id, a.amount
                FROM e, LATERAL (VALUES (%s::bigint, -100::bigint),
                                        ((%s::bigint[])[1 + e.id %% cardinality(%s::bigint[])], 100::bigint))
                     AS a(account_id, amount)
                """,
                [programme.pk, entries, issuance, wallet_accounts, wallet_accounts],
            )
            cursor.execute(
                """UPDATE wallets_account a SET balance = p.total
                   FROM (SELECT account_id, sum(amount) AS total FROM wallets_posting GROUP BY account_id) p
                   WHERE p.account_id = a.id"""
            )
        finally:
            cursor.execute("ALTER TABLE wallets_posting ENABLE TRIGGER USER")
            cursor.execute("ALTER TABLE wallets_account ENABLE TRIGGER USER")
        cursor.execute("ANALYZE")
    print(f"loaded in {time.perf_counter() - load_start:.1f} s")

    timings = []
    for _ in range(3):
        out = io.StringIO()
        start = time.perf_counter()
        call_command("check_ledger", stdout=out)
        timings.append(time.perf_counter() - start)
    print(out.getvalue().strip().splitlines()[-1])
    print(
        f"check_ledger on {count_postings():,} postings: "
        f"best {min(timings):.2f} s, median {statistics.median(timings):.2f} s of {len(timings)} runs"
    )


def count_postings() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM wallets_posting")
        return cursor.fetchone()[0]


def compare_hordak(args, eight: float) -> None:
    """The same number of transfers through hordak on the same server, and the issue's ratio."""
    hordak = bench_hordak.measure(
        args.hordak_python, bench_url(f"{args.database}_hordak"), args.payments
    )
    print(
        f"# {hordak['versions']}: Account.transfer_to in transaction.atomic(), "
        "one connection per thread or process"
    )
    ratios = []
    for run in hordak["runs"]:
        rate = report(
            f"hordak {run['label']}", run["count"], run["elapsed"], run["latencies"], "transfers"
        )
        if run["workers"] > 1:
            ratios.append(
                f"ledger payments at 8 connections ÷ hordak at {run['label']}: {eight / rate:.2f}"
            )
    for ratio in ratios:
        print(f"ratio {ratio} (aim ≥ 2)")


def report(label, count, elapsed, latencies, unit="payments") -> float:
    latencies = sorted(latencies)
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        f"{label}: {count:,} {unit} in {elapsed:.2f} s = {count / elapsed:,.0f} {unit}/s "
        f"(p50 {p50:.1f} ms, p99 {p99:.1f} ms)",
        flush=True,
    )
    return count / elapsed


if __name__ == "__main__":
    main()
