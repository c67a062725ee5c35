"""The database's payment_make, called as any client of the database would: what it answers,
what it writes, and that a refusal writes nothing."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from payments import sql
from payments.models import CpmCode, Payment, PaymentSplit
from payments.services import cpm_code_issue
from tests import factories
from wallets.models import Account, JournalEntry, Posting

pytestmark = pytest.mark.django_db


def make(wallet=None, store=None, amount=1000, key="k1", *, nonce=None, terminal=None, mode="mpm"):
    with connection.cursor() as cursor:
        cursor.execute(
            sql.PAYMENT_MAKE,
            {
                "wallet": getattr(wallet, "pk", None),
                "nonce": nonce,
                "store": store.pk,
                "terminal": getattr(terminal, "pk", None),
                "amount": amount,
                "mode": mode,
                "key": key,
                "number": f"N{key:0>15}"[:16],
                "actor": None,
                "now": None,
                "time_zone": "Asia/Tokyo",
                "lock_class": sql.PAYMENTS_IN_FLIGHT_LOCK,
            },
        )
        columns = [c.name for c in cursor.description]
        return dict(zip(columns, cursor.fetchone(), strict=True))


def written():
    return [m.objects.count() for m in (JournalEntry, Posting, Payment, PaymentSplit)]


def test_a_payment_draws_the_restricted_value_first_and_writes_every_row(wallet, small_store):
    before = written()
    made = make(wallet, small_store, 4000)
    assert made["outcome"] == "created"
    assert (made["split_codes"], made["split_amounts"]) == (["local", "common"], [3000, 1000])
    payment = Payment.objects.get(pk=made["payment_id"])
    assert (payment.amount, payment.entry_id) == (4000, made["entry_id"])
    assert payment.number == made["number"] == "N0000000000000k1"
    assert written() == [before[0] + 1, before[1] + 3, before[2] + 1, before[3] + 2]
    payable = Account.objects.get(kind=Account.Kind.MERCHANT_PAYABLE, company=small_store.company)
    assert payable.balance == 4000
    assert sorted(Account.objects.filter(wallet=wallet).values_list("balance", flat=True)) == [
        0,
        4000,
    ]


def test_a_retry_gets_the_first_payment_and_another_request_a_conflict(wallet, small_store):
    first = make(wallet, small_store, 1000, "same")
    again = make(wallet, small_store, 1000, "same")
    assert again["outcome"] == "replayed" and again["payment_id"] == first["payment_id"]
    assert make(wallet, small_store, 999, "same")["outcome"] == "idempotency_conflict"
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("case", "outcome"),
    [
        ("too_much", "insufficient_balance"),
        ("large_store_local_only", "store_not_eligible"),
        ("inactive_store", "store_not_eligible"),
        ("programme_over", "programme_not_active"),
    ],
)
def test_a_refusal_says_why_and_writes_nothing(
    case, outcome, programme, local, small_store, large_store
):
    wallet = factories.funded_wallet(programme, {local: 3000})
    store, amount = (large_store if case == "large_store_local_only" else small_store), 1000
    if case == "too_much":
        amount = 3001
    if case == "inactive_store":
        type(store).objects.filter(pk=store.pk).update(is_active=False)
    if case == "programme_over":
        type(programme).objects.filter(pk=programme.pk).update(
            ends_on=timezone.localdate() - timedelta(days=1)
        )
    before = written()
    made = make(wallet, store, amount)
    assert made["outcome"] == outcome
    assert made["available"] == (3000 if case == "too_much" else None)
    assert made["payment_id"] is None and written() == before


def test_a_resident_code_pays_once(wallet, small_store):
    terminal = factories.terminal(small_store)
    code, _signed = cpm_code_issue(wallet=wallet)
    made = make(None, small_store, 500, "c1", nonce=code.nonce, terminal=terminal, mode="cpm")
    assert made["outcome"] == "created" and made["wallet_id"] == wallet.pk
    assert CpmCode.objects.get(pk=code.pk).payment_id == made["payment_id"]
    retry = make(None, small_store, 500, "c1", nonce=code.nonce, terminal=terminal, mode="cpm")
    assert retry["outcome"] == "replayed"
    other = make(None, small_store, 500, "c2", nonce=code.nonce, terminal=terminal, mode="cpm")
    assert other["outcome"] == "code_used"
    assert make(None, small_store, 500, "c3", nonce="nope", mode="cpm")["outcome"] == "code_invalid"
    CpmCode.objects.filter(pk=code.pk).update(payment=None, expires_at=timezone.now())
    late = make(None, small_store, 500, "c4", nonce=code.nonce, terminal=terminal, mode="cpm")
    assert late["outcome"] == "code_expired"
    assert Payment.objects.count() == 1
