"""Real threads on real connections: the ledger never overspends, duplicates or deadlocks."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from payments import services as payment_services
from payments.models import Payment
from tests import factories
from wallets import ledger
from wallets.exceptions import (
    AlreadyCancelled,
    DomainError,
    IdempotencyConflict,
    InsufficientBalance,
)
from wallets.models import Account

pytestmark = pytest.mark.django_db(transaction=True)


def run_parallel(fn, args_list):
    """Start every call at the same moment, each on its own thread and database connection."""
    barrier = threading.Barrier(len(args_list))

    def worker(args):
        barrier.wait()
        try:
            return fn(*args)
        except DomainError as error:
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(args_list)) as pool:
        return list(pool.map(worker, args_list))


def test_twenty_parallel_payments_never_overspend(programme, common, small_store):
    wallet = factories.funded_wallet(programme, {common: 10_000})

    results = run_parallel(
        lambda i: factories.payment(wallet, small_store, 700, key=f"pay-{i}"),
        [(i,) for i in range(20)],
    )

    paid = [r for r in results if isinstance(r, Payment)]
    refused = [r for r in results if isinstance(r, InsufficientBalance)]
    assert (len(paid), len(refused)) == (14, 6)  # 14 x 700 = 9,800 <= 10,000
    assert Account.objects.get(wallet=wallet).balance == 10_000 - 14 * 700
    call_command("check_ledger")


def test_same_idempotency_key_from_two_threads_makes_one_payment(programme, common, small_store):
    wallet = factories.funded_wallet(programme, {common: 10_000})

    results = run_parallel(
        lambda _: factories.payment(wallet, small_store, 1000, key="double-tap"),
        [(0,), (1,)],
    )

    assert results[0].pk == results[1].pk
    assert Payment.objects.count() == 1
    assert Account.objects.get(wallet=wallet).balance == 9_000


def test_two_people_cancelling_at_once_make_one_reversal(programme, common, small_store):
    wallet = factories.funded_wallet(programme, {common: 10_000})
    payment = factories.payment(wallet, small_store, 1000, key="x")

    results = run_parallel(lambda _: payment_services.payment_cancel(payment=payment), [(0,), (1,)])

    assert sum(isinstance(r, AlreadyCancelled) for r in results) == 1
    assert Account.objects.get(wallet=wallet).balance == 10_000
    call_command("check_ledger")


def test_crossing_payments_and_cancels_do_not_deadlock(programme, common, company):
    """Wallets pay two stores of one company while earlier payments are cancelled."""
    stores = [factories.store(company, programme) for _ in range(2)]
    wallets = [factories.funded_wallet(programme, {common: 50_000}) for _ in range(4)]
    earlier = [factories.payment(w, stores[i % 2], 500, key=f"e{i}") for i, w in enumerate(wallets)]

    def pay_then_cancel(i):
        w = wallets[i % 4]
        for n in range(10):
            factories.payment(w, stores[(i + n) % 2], 100, key=f"c{i}-{n}")
        return payment_services.payment_cancel(payment=earlier[i % 4]) if i < 4 else None

    results = run_parallel(pay_then_cancel, [(i,) for i in range(8)])

    assert not [r for r in results if isinstance(r, Exception)]
    assert Payment.objects.filter(status="cancelled").count() == 4
    payable = Account.objects.get(kind=Account.Kind.MERCHANT_PAYABLE)
    assert payable.balance == 8 * 10 * 100
    call_command("check_ledger")


def test_a_payment_waits_only_for_its_own_wallet_and_merchant(
    programme, common, small_store, other_company
):
    """Locks are per wallet and per merchant account: nothing programme-wide serialises payers."""
    busy, free, first = (factories.funded_wallet(programme, {common: 1_000}) for _ in range(3))
    other_store = factories.store(other_company, programme)
    # A merchant's payable account is created by its first payment ever; that one may wait.
    factories.payment(first, other_store, 100, key="first", mode="mpm")
    locked, release = threading.Event(), threading.Event()

    def hold_busy_wallet():
        try:
            with transaction.atomic():
                factories.payment(busy, small_store, 100, key="slow")
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_busy_wallet)
    holder.start()
    assert locked.wait(10)
    try:
        with connection.cursor() as cursor:
            # Blocked on a shared row -> an error here, not a hang.
            cursor.execute("SET lock_timeout = '2s'")
        payment = factories.payment(free, other_store, 100, key="quick")
    finally:
        release.set()
        holder.join()
    assert payment.amount == 100
    assert Payment.objects.count() == 3


def test_first_payments_to_a_new_company_at_once_share_one_payable_account(programme, common):
    """Eight wallets pay a company nobody has paid yet: its payable account is created once."""
    store = factories.store(factories.company(), programme, is_small_local=True)
    wallets = [factories.funded_wallet(programme, {common: 1_000}) for _ in range(8)]

    results = run_parallel(
        lambda w: factories.payment(w, store, 300, key=f"first-{w.pk}", mode="mpm"),
        [(w,) for w in wallets],
    )

    assert all(isinstance(r, Payment) for r in results), results
    payable = Account.objects.get(kind=Account.Kind.MERCHANT_PAYABLE, company=store.company)
    assert payable.balance == 8 * 300
    call_command("check_ledger")


def test_one_grant_key_for_two_wallets_at_once_grants_once(programme, common):
    first, second = factories.wallet(programme), factories.wallet(programme)

    results = run_parallel(
        lambda w: ledger.grant(wallet=w, value_type=common, amount=5_000, idempotency_key="g"),
        [(first,), (second,)] * 3,
    )

    granted = {r.pk for r in results if not isinstance(r, DomainError)}
    conflicts = [r for r in results if isinstance(r, IdempotencyConflict)]
    assert len(granted) == 1 and len(conflicts) == 3, results
    held = [Account.objects.filter(wallet=w).first() for w in (first, second)]
    assert sorted(a.balance if a else 0 for a in held) == [0, 5_000]
    call_command("check_ledger")


def test_the_same_bulk_grant_from_two_workers_at_once_grants_once(programme, common, small_store):
    """Two workers on overlapping imports: the keys make each grant happen once, and a payment
    running meanwhile on one of the wallets neither deadlocks nor overspends."""
    wallets = [factories.funded_wallet(programme, {common: 1_000}) for _ in range(30)]
    lines = [ledger.GrantLine(w.pk, common.pk, 5_000, f"import:{w.pk}") for w in wallets]

    results = run_parallel(
        lambda job: (
            ledger.grant_many(programme=programme, lines=lines[::job])
            if job
            else factories.payment(wallets[0], small_store, 900, key="during")
        ),
        [(1,), (-1,), (0,)],
    )

    assert sum(r.granted for r in results[:2]) == 30
    assert all(
        Account.objects.get(wallet=w).balance == (5_100 if w == wallets[0] else 6_000)
        for w in wallets
    )
    call_command("check_ledger")
