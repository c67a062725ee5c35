#!/usr/bin/env python
"""Merchant admin benchmark: usage history, monthly and daily aggregates, and the CSV export,
on a generated dataset (default 10 million payments, 1,000 stores, 12 months).

Builds its own database (voucher_bench_merchant, or --database) with set-based SQL, drops it
unless --keep.
Times the real selector functions the views call, and the export task in a real worker process
(`manage.py db_worker --batch`), whose peak RSS is read with resource.getrusage.
    .venv/bin/python scripts/bench_merchant_admin.py [--payments 10000000] [--runs 30] [--keep]
        [--reuse] [--database NAME]

Payments reference journal entries without postings (an empty entry is balanced): the merchant
pages never read postings, and generating 30 million postings would only slow the load.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchdb import bench_url, drop_database, recreate_database  # noqa: E402

BENCH_DB = "voucher_bench_merchant"
STORES = 1_000
LARGE_STORES = 100  # stores 0-99 belong to the large company (10 % of all payments)
COMPANIES = 100
BATCH = 500_000


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--payments", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=30, help="timed runs per query")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept database as it is")
    parser.add_argument(
        "--database", default=BENCH_DB, help="its name, so that two runs at once do not clash"
    )
    args = parser.parse_args()

    url = bench_url(args.database)
    if not args.reuse:
        recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["MEDIA_ROOT"] = str(ROOT / "bench-results" / "media")
    import django

    django.setup()
    from django.core.management import call_command

    try:
        if not args.reuse:
            call_command("migrate", verbosity=0)
            load(args.payments)
        measure(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(url)


def sql(statement, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def load(payments: int):
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from merchants.models import Company, Store, Terminal, User
    from wallets.models import Programme, ValueType

    started = time.perf_counter()
    today = timezone.localdate()
    programme = Programme.objects.create(
        code="bench",
        name="bench",
        issuer="bench",
        starts_on=today - timedelta(days=366),
        ends_on=today + timedelta(days=30),
        cancel_window=timedelta(hours=24),
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
    companies = Company.objects.bulk_create(
        Company(code=f"C{i:04d}", name=f"企業{i}") for i in range(COMPANIES)
    )

    def owner(idx):
        return companies[0] if idx < LARGE_STORES else companies[1 + (idx - LARGE_STORES) % 99]

    stores = Store.objects.bulk_create(
        Store(
            company=owner(i),
            programme=programme,
            code=f"S{i:05d}",
            name=f"店舗{i}",
            passcode=f"{i:06d}",
            is_small_local=i % 2 == 0,
        )
        for i in range(STORES)
    )
    Terminal.objects.bulk_create(
        Terminal(store=s, terminal_id=f"{i:012d}", name=f"レジ{i}") for i, s in enumerate(stores)
    )
    User.objects.create(
        username="bench-admin", role="company_admin", company=companies[0], email="b@example.jp"
    )
    User.objects.create(
        username="bench-manager",
        role="store_manager",
        company=companies[0],
        store=stores[0],
        email="m@example.jp",
    )
    sql(
        """INSERT INTO wallets_resident (name, name_kana, email, phone, address, postal_code,
                                         created_at)
           SELECT 'r' || g, '', '', '', '', '', now() FROM generate_series(1, 20000) g"""
    )
    sql(
        """INSERT INTO wallets_wallet (programme_id, resident_id, ticket_number, pin_hash,
                                       created_at)
           SELECT %s, id, lpad(id::text, 12, '0'), 'x', now() FROM wallets_resident""",
        [programme.pk],
    )
    sql(
        """
        CREATE TEMP TABLE bench_store AS
        SELECT row_number() OVER (ORDER BY s.id) - 1 AS idx, s.id, s.company_id,
               s.is_small_local, t.id AS terminal_id
        FROM merchants_store s JOIN merchants_terminal t ON t.store_id = s.id
        """
    )
    sql("CREATE UNIQUE INDEX ON bench_store (idx)")
    (wallet_min, wallet_max) = sql("SELECT min(id), max(id) FROM wallets_wallet")[0]
    # The summary is rebuilt in one statement afterwards (the migration's own rebuild query):
    # 10 million row triggers would only measure the load.
    sql("ALTER TABLE payments_payment DISABLE TRIGGER merchants_summary_payment")
    done = 0
    print(f"loading {payments:,} payments in batches of {BATCH:,} ...", flush=True)
    while done < payments:
        n = min(BATCH, payments - done)
        before = sql("SELECT coalesce(max(id), 0) FROM payments_payment")[0][0]
        with transaction.atomic():
            sql(
                """
                WITH e AS (
                    INSERT INTO wallets_journalentry (programme_id, kind, created_at, memo)
                    SELECT %(programme)s, 'payment', now(), 'bench' FROM generate_series(1, %(n)s)
                    RETURNING id
                ), p AS (
                    SELECT e.id AS entry_id, s.id AS store_id, s.company_id, s.terminal_id,
                           s.is_small_local,
                           now() - random() * interval '365 days' AS created_at,
                           (100 + floor(random() * 4900))::bigint AS amount
                    FROM e JOIN bench_store s ON s.idx = e.id %% %(stores)s
                )
                INSERT INTO payments_payment (number, programme_id, wallet_id, company_id,
                    store_id, terminal_id, amount, mode, status, created_at, entry_id,
                    idempotency_key, cancel_memo)
                SELECT substr(md5(entry_id::text), 1, 16), %(programme)s,
                       %(wmin)s + entry_id %% (%(wmax)s - %(wmin)s + 1), company_id, store_id,
                       terminal_id, amount, 'mpm', 'completed', created_at, entry_id,
                       'bench-' || entry_id, ''
                FROM p
                """,
                {
                    "programme": programme.pk,
                    "n": n,
                    "stores": STORES,
                    "wmin": wallet_min,
                    "wmax": wallet_max,
                },
            )
            # Small/local stores take a third in 専用券 on every other payment.
            sql(
                """
                INSERT INTO payments_paymentsplit (payment_id, value_type_id, amount)
                SELECT p.id, v.vt, v.amount
                FROM payments_payment p
                JOIN merchants_store s ON s.id = p.store_id,
                LATERAL (
                    SELECT %(local)s AS vt, p.amount / 3 AS amount
                    WHERE s.is_small_local AND p.id %% 2 = 0
                    UNION ALL
                    SELECT %(common)s, CASE WHEN s.is_small_local AND p.id %% 2 = 0
                                           THEN p.amount - p.amount / 3 ELSE p.amount END
                ) v
                WHERE p.id > %(after)s
                """,
                {"local": local.pk, "common": common.pk, "after": before},
            )
            # 2 % cancelled, each with its own reversing entry.
            sql(
                """
                WITH c AS (
                    SELECT id, row_number() OVER (ORDER BY id) AS rn FROM payments_payment
                    WHERE id > %(after)s AND id %% 50 = 0
                ), e AS (
                    INSERT INTO wallets_journalentry (programme_id, kind, created_at, memo)
                    SELECT %(programme)s, 'payment_cancel', now(), 'bench' FROM c RETURNING id
                ), en AS (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM e)
                UPDATE payments_payment p
                SET status = 'cancelled', cancelled_at = p.created_at + interval '1 hour',
                    cancel_entry_id = en.id
                FROM c JOIN en USING (rn) WHERE p.id = c.id
                """,
                {"after": before, "programme": programme.pk},
            )
        done += n
        print(f"  {done:,} ({time.perf_counter() - started:.0f} s)", flush=True)
    sql("ALTER TABLE payments_payment ENABLE TRIGGER merchants_summary_payment")
    rebuild = _rebuild_sql()
    sql(rebuild)
    print("VACUUM ANALYZE ...", flush=True)
    from django.db import connection

    connection.ensure_connection()
    connection.connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"dataset ready in {time.perf_counter() - started:.0f} s", flush=True)


def _rebuild_sql() -> str:
    from importlib import import_module

    return import_module("merchants.migrations.0004_daily_summary_triggers").REBUILD


def timed(label, fn, runs):
    fn()  # warm: connection, plans, caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[max(int(len(times) * 0.95) - 1, 0)]
    print(
        f"{label}: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
        f"max {times[-1]:.1f} ms ({runs} runs)",
        flush=True,
    )
    return p95


def measure(args):
    from datetime import timedelta

    from django.core.paginator import Paginator
    from django.db import connection
    from django.utils import timezone

    from core.dates import add_months
    from merchants.models import User
    from merchants.portal import selectors
    from merchants.scope import Scope
    from wallets.models import ValueType

    admin = User.objects.get(username="bench-admin")
    manager = User.objects.get(username="bench-manager")
    total = sql("SELECT count(*) FROM payments_payment")[0][0]
    large = sql("SELECT count(*) FROM payments_payment WHERE company_id = %s", [admin.company_id])
    print(
        f"# merchant admin benchmark: {total:,} payments, {STORES:,} stores, "
        f"large company {large[0][0]:,} payments; {os.cpu_count()} CPUs, "
        f"PostgreSQL {connection.pg_version // 10000}",
        flush=True,
    )
    now = timezone.now()
    three_months = selectors.HistoryFilters(start=now - timedelta(days=91), end=now)
    today = selectors.HistoryFilters.today()
    filtered = selectors.HistoryFilters(
        start=now - timedelta(days=91),
        end=now,
        store_code="S00042",
        exclude_cancelled=True,
    )
    local = ValueType.objects.get(code="local")
    by_type = selectors.HistoryFilters(
        start=now - timedelta(days=91), end=now, value_type=local.pk, exclude_cancelled=True
    )

    def history_page(user, filters, page=1):
        def run():
            payments = selectors.payment_history_page(scope=Scope.of(user), filters=filters)
            current = Paginator(payments, 25).get_page(page)
            return current.paginator.count, list(current.object_list)

        return run

    day = timezone.localdate()
    results = {
        "history, today, first page": timed(
            "history, today, first page (large company)", history_page(admin, today), args.runs
        ),
        "history, 3 months, first page": timed(
            "history, 3 months, first page + count (large company)",
            history_page(admin, three_months),
            args.runs,
        ),
        "history, filtered": timed(
            "history, 3 months, store code + exclude cancelled (large company)",
            history_page(admin, filtered),
            args.runs,
        ),
    }
    timed("history, 3 months, value type 専用券 (large company)", history_page(admin, by_type), 5)
    timed("history, 3 months, page 40 (store manager)", history_page(manager, three_months, 40), 10)
    results["monthly"] = timed(
        "monthly, 3 months (large company)",
        lambda: selectors.monthly_totals(
            scope=Scope.of(admin), first=add_months(day.replace(day=1), -2), last=day
        ),
        args.runs,
    )
    results["daily"] = timed(
        "daily, 31 days (large company)",
        lambda: selectors.daily_totals(
            scope=Scope.of(admin), first=day - timedelta(days=30), last=day
        ),
        args.runs,
    )
    explain(admin, three_months)
    export(admin)
    print("p95 under 150 ms:", all(v < 150 for v in results.values()), flush=True)


def explain(user, filters):
    from merchants.portal import selectors
    from merchants.scope import Scope

    qs = selectors.payment_history(scope=Scope.of(user), filters=filters)[:25]
    print("EXPLAIN ANALYZE, history first page:")
    print(qs.explain(analyze=True, buffers=True))
    # Paginator.count() runs SELECT COUNT(*) over the same filters, without the ordering.
    from django.db import connection

    count_sql, params = (
        selectors.payment_history(scope=Scope.of(user), filters=filters)
        .order_by()
        .query.sql_with_params()
    )
    count_sql = "SELECT count(*) FROM (" + count_sql + ") AS page"
    print("EXPLAIN ANALYZE, history count (what Paginator counts):")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + count_sql, params)
        print("\n".join(row[0] for row in cursor.fetchall()))


def export(user):
    """The export task in a real db_worker process; its peak RSS from getrusage."""
    from datetime import timedelta

    from django.utils import timezone

    from merchants.models import ExportFile
    from merchants.portal.selectors import HistoryFilters
    from merchants.portal.tasks import write_export

    now = timezone.now()
    # A year of the large company (about 1M rows at full scale); the worker has no 3-month cap.
    filters = HistoryFilters(start=now - timedelta(days=366), end=now)
    export = ExportFile.objects.create(
        company=user.company,
        requested_by=user,
        filters=filters.to_json(),
        expires_at=now + timedelta(days=1),
    )
    write_export.enqueue(export_id=export.pk)
    env = dict(os.environ)
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--batch",
            "--no-startup-delay",
            "--no-reload",
            "-v",
            "0",
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    export.refresh_from_db()
    print(
        f"CSV export: {export.row_count:,} rows, {export.size / 1e6:.1f} MB in {elapsed:.1f} s "
        f"({export.row_count / elapsed:,.0f} rows/s); worker peak RSS {peak_mb:.0f} MB",
        flush=True,
    )
    if export.file:
        export.file.delete(save=False)


if __name__ == "__main__":
    main()
