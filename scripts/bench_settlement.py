#!/usr/bin/env python
"""Settlement benchmark: close one period holding 2 million payments of 1,000 companies.

Builds its own database (voucher_bench_settlement, dropped at the end unless --keep), fills it
with set-based SQL through the real ledger tables and triggers (balanced entries, balances kept
by the posting trigger), then times the real `settle_period` command in a child process and
reports its wall time and peak RSS. Usage:

    .venv/bin/python scripts/bench_settlement.py            # 2,000,000 payments, 1,000 companies
    .venv/bin/python scripts/bench_settlement.py --scale 0.05
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
from benchdb import bench_url, drop_database, recreate_database, run_child  # noqa: E402

DB = "voucher_bench_settlement"
PERIOD_START, PERIOD_END = "2026-10-01", "2026-10-15"
WALLETS = 20_000
BATCH = 250_000
CANCELLED_EVERY = 97  # about 1 % of payments were cancelled inside the period


def sql(statement: str, params=None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def generate(payments: int, companies: int) -> int:
    """Programme, companies with bank accounts, stores, funded wallets, then the payments."""
    from datetime import date
    from decimal import Decimal

    from django.db import transaction

    from wallets.models import Programme, ValueType

    programme = Programme.objects.create(
        code="bench",
        name="ベンチマーク商品券",
        issuer="ベンチ市",
        starts_on=date(2026, 10, 1),
        ends_on=date(2027, 3, 31),
        fee_rate=Decimal("0.0150"),
    )
    vt = ValueType.objects.create(
        programme=programme, code="common", name="共通券", expires_on=date(2027, 3, 31)
    )
    p = {"programme": programme.pk, "vt": vt.pk, "companies": companies, "wallets": WALLETS}
    per_wallet = (payments // WALLETS + 1) * 5_000
    p["grant"] = per_wallet
    with transaction.atomic():
        sql(
            """INSERT INTO merchants_company (code, name, name_kana, postal_code, address, phone,
                   email, bank_code, bank_name_kana, branch_code, branch_name_kana, account_type,
                   account_number, account_holder_kana, created_at)
               SELECT 'B' || lpad(i::text, 5, '0'), 'ベンチ企業' || i, '', '', '', '', '',
                      '0005', 'ﾐﾂﾋﾞｼUFJ', '001', 'ﾎﾝﾃﾝ', '1', lpad(i::text, 7, '0'), 'ﾍﾞﾝﾁ', now()
               FROM generate_series(1, %(companies)s) i""",
            p,
        )
        sql(
            """INSERT INTO merchants_store (company_id, programme_id, code, name, passcode,
                   is_small_local, address, phone, is_active, created_at, sheet_token)
               SELECT c.id, %(programme)s, 'BS' || c.code, c.name || ' 本店',
                      lpad(row_number() OVER (ORDER BY c.id)::text, 6, '0'),
                      c.id %% 3 = 0, '', '', true, now(), md5(random()::text)
               FROM merchants_company c""",
            p,
        )
        sql(
            """INSERT INTO wallets_resident (name, name_kana, email, phone, postal_code, address,
                   created_at)
               SELECT 'ベンチ市民' || i, '', '', '', '', '', now()
               FROM generate_series(1, %(wallets)s) i""",
            p,
        )
        sql(
            """INSERT INTO wallets_wallet (programme_id, resident_id, ticket_number, pin_hash,
                   created_at)
               SELECT %(programme)s, r.id, lpad(r.id::text, 12, '0'), '!', now()
               FROM wallets_resident r""",
            p,
        )
        sql(
            """INSERT INTO wallets_account (programme_id, kind, wallet_id, value_type_id, balance)
               SELECT %(programme)s, 'wallet', w.id, %(vt)s, 0 FROM wallets_wallet w;
               INSERT INTO wallets_account (programme_id, kind, balance)
               VALUES (%(programme)s, 'issuance', 0);
               INSERT INTO wallets_account (programme_id, kind, company_id, balance)
               SELECT %(programme)s, 'merchant_payable', c.id, 0 FROM merchants_company c""",
            p,
        )
        # Grants: one entry per wallet, issuance −, wallet +.
        sql(
            """CREATE TEMP TABLE g ON COMMIT DROP AS
               SELECT nextval('wallets_journalentry_id_seq') AS entry_id, a.id AS account_id
               FROM wallets_account a WHERE a.kind = 'wallet';
               INSERT INTO wallets_journalentry (id, programme_id, kind, created_at, memo)
               SELECT entry_id, %(programme)s, 'grant', '2026-09-30 09:00+09', '' FROM g;
               INSERT INTO wallets_posting (entry_id, account_id, amount)
               SELECT entry_id, account_id, %(grant)s FROM g
               UNION ALL
               SELECT entry_id, (SELECT id FROM wallets_account WHERE kind = 'issuance'),
                      -%(grant)s FROM g""",
            p,
        )
    seconds = 15 * 24 * 3600
    for first in range(1, payments + 1, BATCH):
        last = min(first + BATCH - 1, payments)
        started = time.perf_counter()
        with transaction.atomic():
            sql(
                """CREATE TEMP TABLE b ON COMMIT DROP AS
                   SELECT i, nextval('wallets_journalentry_id_seq') AS entry_id,
                          CASE WHEN i %% %(every)s = 0
                               THEN nextval('wallets_journalentry_id_seq') END AS cancel_id,
                          wa.id AS wallet_account, wa.wallet_id,
                          s.id AS store_id, s.company_id, mp.id AS payable,
                          100 + (i * 37) %% 4900 AS amount,
                          timestamptz %(start)s + ((i * 7919) %% %(seconds)s) * interval '1 second'
                              AS created_at
                   FROM generate_series(%(first)s::bigint, %(last)s::bigint) i
                   JOIN wallets_account wa ON wa.kind = 'wallet'
                        AND wa.wallet_id = (SELECT min(id) FROM wallets_wallet) + i %% %(wallets)s
                   JOIN merchants_store s ON s.id = (SELECT min(id) FROM merchants_store)
                        + i %% %(companies)s
                   JOIN wallets_account mp ON mp.kind = 'merchant_payable'
                        AND mp.company_id = s.company_id;
                   INSERT INTO wallets_journalentry (id, programme_id, kind, created_at, memo)
                   SELECT entry_id, %(programme)s, 'payment', created_at, '' FROM b;
                   INSERT INTO wallets_journalentry (id, programme_id, kind, created_at, memo,
                                                     reverses_id)
                   SELECT cancel_id, %(programme)s, 'payment_cancel',
                          created_at + interval '1 hour', '', entry_id
                   FROM b WHERE cancel_id IS NOT NULL;
                   INSERT INTO wallets_posting (entry_id, account_id, amount)
                   SELECT entry_id, wallet_account, -amount FROM b
                   UNION ALL SELECT entry_id, payable, amount FROM b
                   UNION ALL SELECT cancel_id, wallet_account, amount FROM b
                             WHERE cancel_id IS NOT NULL
                   UNION ALL SELECT cancel_id, payable, -amount FROM b
                             WHERE cancel_id IS NOT NULL;
                   INSERT INTO payments_payment (number, programme_id, wallet_id, company_id,
                       store_id, amount, mode, status, created_at, entry_id, idempotency_key,
                       cancelled_at, cancel_memo, cancel_entry_id)
                   SELECT 'B' || lpad(i::text, 15, '0'), %(programme)s, wallet_id, company_id,
                          store_id, amount, 'mpm',
                          CASE WHEN cancel_id IS NULL THEN 'completed' ELSE 'cancelled' END,
                          created_at, entry_id, 'bench-' || i,
                          CASE WHEN cancel_id IS NOT NULL THEN created_at + interval '1 hour' END,
                          '', cancel_id
                   FROM b""",
                p
                | {
                    "first": first,
                    "last": last,
                    "every": CANCELLED_EVERY,
                    "start": f"{PERIOD_START} 00:00+09",
                    "seconds": seconds,
                },
            )
        print(
            f"  payments {first:,}-{last:,} written in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
    sql("ANALYZE")
    return programme.pk


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 2,000,000 payments")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    payments = max(int(2_000_000 * args.scale), 1_000)
    companies = max(int(1_000 * min(args.scale * 10, 1)), 10)

    url = bench_url(DB)
    os.environ["DATABASE_URL"] = url
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="bench-settlement-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    recreate_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    try:
        call_command("migrate", verbosity=0)
        print(f"generating {payments:,} payments for {companies:,} companies ...", flush=True)
        started = time.perf_counter()
        generate(payments, companies)
        print(f"data ready in {time.perf_counter() - started:.0f} s", flush=True)

        period = ["settle_period", "--programme=bench", f"--period-end={PERIOD_END}"]
        seconds, peak_mb, output = run_child(*period)
        print(f"settlement run: {seconds:.1f} s, peak RSS {peak_mb:.0f} MB  ({output})")
        again, _peak, _out = run_child(*period)
        print(f"running it again (no change): {again:.2f} s")
        check, _peak, out = run_child("check_ledger")
        print(f"check_ledger: {check:.1f} s, {out.splitlines()[-1]}")

        from settlement import services
        from settlement.models import Payout

        sample = list(Payout.objects.order_by("pk")[:10])
        started = time.perf_counter()
        for payout in sample:
            services.payout_statement_issue(payout=payout)
        per = (time.perf_counter() - started) / len(sample)
        print(f"statement PDF: {per * 1000:.0f} ms each (issued in the background after the run)")
    finally:
        if not args.keep:
            drop_database(url)


if __name__ == "__main__":
    main()
