"""Check every ledger invariant over the whole database, in SQL, and fail loudly on any breach."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

# Each check counts violations; zero everywhere means the ledger is sound.
CHECKS = [
    (
        "unbalanced journal entries",
        """SELECT count(*) FROM (
               SELECT entry_id FROM wallets_posting GROUP BY entry_id HAVING sum(amount) <> 0
           ) t""",
    ),
    (
        "journal entries with fewer than two postings",
        """SELECT count(*) FROM wallets_journalentry e
           WHERE NOT EXISTS (SELECT 1 FROM wallets_posting p WHERE p.entry_id = e.id OFFSET 1)""",
    ),
    (
        "accounts whose balance differs from their postings",
        """SELECT count(*) FROM wallets_account a
           LEFT JOIN (SELECT account_id, sum(amount) AS total FROM wallets_posting
                      GROUP BY account_id) p ON p.account_id = a.id
           WHERE a.balance <> coalesce(p.total, 0)""",
    ),
    (
        "negative wallet balances",
        "SELECT count(*) FROM wallets_account WHERE kind = 'wallet' AND balance < 0",
    ),
    (
        "programmes whose accounts do not sum to zero",
        "SELECT count(*) FROM (SELECT programme_id FROM wallets_account GROUP BY programme_id "
        "HAVING sum(balance) <> 0) t",
    ),
    (
        "payments whose status disagrees with their entries",
        """SELECT count(*) FROM payments_payment p
           JOIN wallets_journalentry e ON e.id = p.entry_id
           WHERE e.kind <> 'payment'
              OR (p.cancel_entry_id IS NOT NULL) <> (p.status = 'cancelled')""",
    ),
]


class Command(BaseCommand):
    help = "Check the ledger's invariants over the whole database; exits non-zero on any violation."

    def handle(self, *args, **options):
        started = time.perf_counter()
        failures = 0
        nested = connection.in_atomic_block
        with transaction.atomic(), connection.cursor() as cursor:
            if not nested:
                # One snapshot for all checks, so concurrent payments cannot cause false alarms.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute(
                "SELECT count(*), (coalesce(sum(abs(amount)), 0) / 2)::bigint FROM wallets_posting"
            )
            postings, volume = cursor.fetchone()
            cursor.execute("SELECT coalesce(sum(balance), 0) FROM wallets_account")
            (total,) = cursor.fetchone()
            for label, sql in CHECKS:
                cursor.execute(sql)
                (count,) = cursor.fetchone()
                failures += count
                style = self.style.SUCCESS if count == 0 else self.style.ERROR
                self.stdout.write(style(f"{'OK ' if count == 0 else 'BAD'} {label}: {count}"))
        if total != 0:
            failures += 1
            self.stdout.write(self.style.ERROR(f"BAD total of all accounts: {total} (must be 0)"))
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"{postings:,} postings, {volume:,} yen moved, all accounts total {total}; "
            f"checked in {elapsed:.2f} s"
        )
        if failures:
            raise CommandError(f"ledger check failed: {failures} violation(s)")
