"""A payment stamped inside a period but committing after its close began is still paid:
the close waits for payments in flight (docs/settlement.md)."""

import threading
import time
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from settlement import services
from settlement.models import Payout
from tests import factories
from tests.settlement.conftest import at
from wallets.models import Account, JournalEntry


def locks_of(pid: int) -> list[tuple[str, bool]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT locktype, granted FROM pg_locks WHERE pid = %s", [pid])
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_a_payment_held_open_across_the_close_is_in_the_closed_period(autumn, shop, company):
    wallet, store = shop
    last_second = at(date(2026, 10, 15), 23, 59, 59)
    stamped, commit, errors = threading.Event(), threading.Event(), []
    close_pid = []

    def payment():
        try:
            with transaction.atomic():
                factories.payment(wallet, store, 1_234, key="last-second", now=last_second)
                stamped.set()
                assert commit.wait(timeout=30)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    def close():
        try:
            connection.ensure_connection()
            close_pid.append(connection.connection.info.backend_pid)
            services.settlement_run(programme=autumn, period_end=date(2026, 10, 15))
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    paying = threading.Thread(target=payment)
    paying.start()
    assert stamped.wait(timeout=30)
    closing = threading.Thread(target=close)
    closing.start()
    time.sleep(0.5)
    assert closing.is_alive(), "the close did not wait for the payment in flight"
    # It waits for the payments' lock only, in a transaction of its own: no row, no table.
    held = locks_of(close_pid[0])
    assert ("advisory", False) in held
    assert not [kind for kind, granted in held if granted and kind in ("relation", "tuple")]
    commit.set()
    paying.join()
    closing.join()
    assert errors == []

    payout = Payout.objects.get(company=company)
    assert (payout.period_end, payout.payment_count, payout.gross) == (date(2026, 10, 15), 1, 1_234)
    payable = Account.objects.get(kind=Account.Kind.MERCHANT_PAYABLE, company=company)
    assert payable.balance == 0
    # Closing again changes nothing, and the next period does not count the payment again.
    entries = JournalEntry.objects.count()
    services.settlement_run(programme=autumn, period_end=date(2026, 10, 15))
    assert JournalEntry.objects.count() == entries
    services.settlement_run(programme=autumn, period_end=date(2026, 10, 31))
    assert list(Payout.objects.values_list("period_end", "gross")) == [(date(2026, 10, 15), 1_234)]
    call_command("check_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115
