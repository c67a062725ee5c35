"""The ledger service, told as stories: grant, pay, cancel, adjust, expire."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.models import AuditLog
from payments import services as payment_services
from payments.models import Payment
from tests import factories
from wallets import ledger
from wallets.exceptions import (
    AlreadyCancelled,
    ExpiryTooEarly,
    IdempotencyConflict,
    InsufficientBalance,
    OutsideCancelWindow,
    ProgrammeNotActive,
    StoreNotEligible,
    ValidationFailed,
)
from wallets.models import Account, JournalEntry

pytestmark = pytest.mark.django_db


def balances(wallet) -> dict[str, int]:
    return {
        a.value_type.code: a.balance
        for a in Account.objects.filter(wallet=wallet).select_related("value_type")
    }


pay = factories.payment


def test_grant_credits_wallet_and_debits_issuance(programme, common):
    wallet = factories.wallet(programme)
    entry = ledger.grant(wallet=wallet, value_type=common, amount=13_000, memo="初回付与")

    assert entry.kind == JournalEntry.Kind.GRANT
    assert balances(wallet) == {"common": 13_000}
    issuance = Account.objects.get(programme=programme, kind=Account.Kind.ISSUANCE)
    assert issuance.balance == -13_000
    assert sorted(p.amount for p in entry.postings.all()) == [-13_000, 13_000]


def test_grant_with_same_key_grants_once(programme, common):
    wallet = factories.wallet(programme)
    first = ledger.grant(wallet=wallet, value_type=common, amount=1_000, idempotency_key="g1")
    again = ledger.grant(wallet=wallet, value_type=common, amount=1_000, idempotency_key="g1")

    assert again.pk == first.pk
    assert balances(wallet) == {"common": 1_000}


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100", True, None])
def test_grant_refuses_amounts_that_are_not_positive_yen(programme, common, amount):
    wallet = factories.wallet(programme)
    with pytest.raises(ValidationFailed):
        ledger.grant(wallet=wallet, value_type=common, amount=amount)
    assert JournalEntry.objects.count() == 0


def test_grant_refuses_value_type_of_another_programme(programme, common):
    other = factories.programme()
    wallet = factories.wallet(other)
    with pytest.raises(ValidationFailed):
        ledger.grant(wallet=wallet, value_type=common, amount=100)


def test_payment_at_small_store_draws_restricted_value_first(wallet, small_store):
    payment = pay(wallet, small_store, 4_000)

    assert balances(wallet) == {"local": 0, "common": 4_000}
    assert {s.value_type.code: s.amount for s in payment.splits.all()} == {
        "local": 3_000,
        "common": 1_000,
    }
    payable = Account.objects.get(kind=Account.Kind.MERCHANT_PAYABLE, company=small_store.company)
    assert payable.balance == 4_000
    assert payment.company == small_store.company
    assert len(payment.number) == 16 and payment.number.isalnum()


def test_payment_draws_soonest_expiring_first_among_equals(programme, small_store):
    later = factories.value_type(programme, code="later", expires_on=programme.ends_on)
    sooner = factories.value_type(
        programme, code="sooner", expires_on=programme.ends_on - timedelta(days=10)
    )
    wallet = factories.funded_wallet(programme, {later: 1_000, sooner: 1_000})

    pay(wallet, small_store, 1_500)

    assert balances(wallet) == {"later": 500, "sooner": 0}


def test_large_store_cannot_use_restricted_value(wallet, large_store):
    payment = pay(wallet, large_store, 5_000)
    assert balances(wallet) == {"common": 0, "local": 3_000}

    # What the store takes (共通券) is spent: not enough balance, rather than a wrong store.
    with pytest.raises(InsufficientBalance) as error:
        pay(wallet, large_store, 100, key="k2")
    assert error.value.params == {"available": "0"}
    assert Payment.objects.count() == 1
    assert payment.splits.get().value_type.code == "common"


def test_insufficient_balance_names_what_is_usable(wallet, large_store):
    with pytest.raises(InsufficientBalance) as error:
        pay(wallet, large_store, 5_001)
    assert "5,000" in str(error.value)
    assert balances(wallet) == {"common": 5_000, "local": 3_000}
    assert Payment.objects.count() == 0


def test_store_of_another_programme_is_not_eligible(wallet, company):
    stranger = factories.store(company, factories.programme(), is_small_local=True)
    with pytest.raises(StoreNotEligible):
        pay(wallet, stranger, 100)


def test_inactive_store_is_not_eligible(wallet, small_store):
    small_store.is_active = False
    small_store.save()
    with pytest.raises(StoreNotEligible):
        pay(wallet, small_store, 100)


def test_programme_outside_usage_period_refuses_payment(wallet, small_store, programme):
    with pytest.raises(ProgrammeNotActive):
        pay(wallet, small_store, 100, now=timezone.now() + timedelta(days=61))
    with pytest.raises(ProgrammeNotActive):
        pay(wallet, small_store, 100, now=timezone.now() - timedelta(days=31))


def test_expired_value_type_is_not_spendable(programme, small_store):
    old = factories.value_type(
        programme, code="old", expires_on=timezone.localdate() - timedelta(days=1)
    )
    wallet = factories.funded_wallet(programme, {old: 1_000})
    with pytest.raises(InsufficientBalance):
        pay(wallet, small_store, 100)


def test_retried_payment_returns_the_first(wallet, small_store):
    first = pay(wallet, small_store, 700, key="retry")
    again = pay(wallet, small_store, 700, key="retry")

    assert again.pk == first.pk
    assert Payment.objects.count() == 1
    assert balances(wallet) == {"local": 2_300, "common": 5_000}


def test_same_key_with_other_parameters_is_a_conflict(wallet, small_store):
    pay(wallet, small_store, 700, key="retry")
    with pytest.raises(IdempotencyConflict):
        pay(wallet, small_store, 800, key="retry")
    assert Payment.objects.count() == 1


def test_cancel_reverses_every_posting_and_logs_who(wallet, small_store, store_manager):
    payment = pay(wallet, small_store, 4_000)

    cancelled = payment_services.payment_cancel(
        payment=payment, actor=store_manager, memo="金額誤りのため"
    )

    assert cancelled.status == Payment.Status.CANCELLED
    assert cancelled.cancelled_by == store_manager
    assert cancelled.cancel_entry.reverses == payment.entry
    assert balances(wallet) == {"local": 3_000, "common": 5_000}
    payable = Account.objects.get(kind=Account.Kind.MERCHANT_PAYABLE, company=small_store.company)
    assert payable.balance == 0
    log = AuditLog.objects.get(action="payments.payment.cancelled")
    assert (log.actor, log.company, log.data["memo"]) == (
        store_manager,
        small_store.company,
        "金額誤りのため",
    )


def test_cancel_twice_is_refused_with_one_reversal(wallet, small_store):
    payment = pay(wallet, small_store, 1_000)
    payment_services.payment_cancel(payment=payment)
    with pytest.raises(AlreadyCancelled):
        payment_services.payment_cancel(payment=payment)
    assert JournalEntry.objects.filter(kind=JournalEntry.Kind.PAYMENT_CANCEL).count() == 1


def test_cancel_window_binds_merchants_not_city_staff(wallet, small_store, city_staff):
    payment = pay(wallet, small_store, 1_000, now=timezone.now() - timedelta(hours=25))

    with pytest.raises(OutsideCancelWindow):
        payment_services.payment_cancel(payment=payment)
    payment_services.payment_cancel(
        payment=payment, actor=city_staff, memo="市の判断", enforce_window=False
    )

    assert AuditLog.objects.get(action="payments.payment.cancelled").data["late"] is True
    assert balances(wallet)["local"] == 3_000


def test_adjustment_adds_and_subtracts_with_reason(wallet, common, city_staff):
    ledger.adjust(wallet=wallet, value_type=common, amount=500, actor=city_staff, reason="補填")
    ledger.adjust(
        wallet=wallet, value_type=common, amount=-1_500, actor=city_staff, reason="誤付与"
    )

    assert balances(wallet)["common"] == 4_000
    adjustments = Account.objects.get(kind=Account.Kind.ADJUSTMENT)
    assert adjustments.balance == 1_000
    assert list(JournalEntry.objects.filter(kind="adjustment").values_list("memo", flat=True)) == [
        "誤付与",
        "補填",
    ]


def test_adjustment_cannot_take_more_than_the_balance(wallet, common):
    with pytest.raises(InsufficientBalance):
        ledger.adjust(wallet=wallet, value_type=common, amount=-5_001, reason="x")
    with pytest.raises(ValidationFailed):
        ledger.adjust(wallet=wallet, value_type=common, amount=0, reason="x")
    assert balances(wallet)["common"] == 5_000


def test_expiry_moves_remaining_balances_once(programme, common, local, wallet, small_store):
    pay(wallet, small_store, 1_000)
    after_end = programme.ends_on + timedelta(days=1)

    report = ledger.expire(programme=programme, today=after_end)
    again = ledger.expire(programme=programme, today=after_end)

    assert (report.wallets, report.total) == (1, 7_000)
    assert (again.wallets, again.total) == (0, 0)
    assert balances(wallet) == {"common": 0, "local": 0}
    assert Account.objects.get(kind=Account.Kind.EXPIRED).balance == 7_000
    call_command("check_ledger")


def test_expiry_before_the_end_is_refused(programme, common, wallet):
    with pytest.raises(ExpiryTooEarly):
        ledger.expire(programme=programme)
    assert balances(wallet)["common"] == 5_000


def test_transfer_refuses_wallet_accounts(programme, wallet):
    account = Account.objects.filter(wallet=wallet).first()
    issuance = Account.objects.get(kind=Account.Kind.ISSUANCE)
    with pytest.raises(ValueError):
        ledger.transfer(
            programme=programme, kind="settlement", lines=[(account, -1), (issuance, 1)]
        )


def test_transfer_between_programme_accounts(programme, company, wallet, small_store):
    pay(wallet, small_store, 1_000)
    payable = Account.objects.get(kind=Account.Kind.MERCHANT_PAYABLE)
    clearing = ledger.account_for(programme, Account.Kind.PAYOUT_CLEARING, company=company)

    entry = ledger.transfer(
        programme=programme,
        kind="settlement",
        lines=[(payable, -1_000), (clearing, 1_000)],
        idempotency_key="s1",
    )
    again = ledger.transfer(
        programme=programme,
        kind="settlement",
        lines=[(payable, -1_000), (clearing, 1_000)],
        idempotency_key="s1",
    )

    assert again.pk == entry.pk
    payable.refresh_from_db()
    clearing.refresh_from_db()
    assert (payable.balance, clearing.balance) == (0, 1_000)


@pytest.mark.parametrize("change", ["amount", "value_type", "wallet", "kind"])
def test_grant_key_reused_for_another_request_is_a_conflict(programme, common, local, change):
    wallet = factories.wallet(programme)
    ledger.grant(wallet=wallet, value_type=common, amount=1_000, idempotency_key="g")
    other = {
        "amount": dict(wallet=wallet, value_type=common, amount=2_000),
        "value_type": dict(wallet=wallet, value_type=local, amount=1_000),
        "wallet": dict(wallet=factories.wallet(programme), value_type=common, amount=1_000),
    }
    with pytest.raises(IdempotencyConflict):
        if change == "kind":
            ledger.adjust(
                wallet=wallet, value_type=common, amount=1_000, reason="x", idempotency_key="g"
            )
        else:
            ledger.grant(**other[change], idempotency_key="g")
    assert JournalEntry.objects.filter(kind__in=["grant", "adjustment"]).count() == 1


def test_adjustment_retry_returns_the_first_and_another_amount_conflicts(wallet, common):
    first = ledger.adjust(
        wallet=wallet, value_type=common, amount=-500, reason="誤付与", idempotency_key="a"
    )
    again = ledger.adjust(
        wallet=wallet, value_type=common, amount=-500, reason="誤付与", idempotency_key="a"
    )
    assert again.pk == first.pk
    with pytest.raises(IdempotencyConflict):
        ledger.adjust(
            wallet=wallet, value_type=common, amount=-600, reason="誤付与", idempotency_key="a"
        )
    assert balances(wallet)["common"] == 4_500


def test_not_enough_of_what_the_store_takes_is_insufficient_with_the_usable_amount(
    programme, common, local, large_store
):
    # Common value is spent down to 1,200; 専用券 (not taken by a large store) remains.
    wallet = factories.funded_wallet(programme, {common: 1_200, local: 3_000})
    with pytest.raises(InsufficientBalance) as error:
        pay(wallet, large_store, 2_000)
    assert error.value.params == {"available": "1,200"}

    pay(wallet, large_store, 1_200, key="all-common")
    with pytest.raises(InsufficientBalance) as error:
        pay(wallet, large_store, 100, key="none-left")
    assert error.value.params == {"available": "0"}


def test_store_not_eligible_only_when_nothing_held_can_be_used_there(programme, local, large_store):
    wallet = factories.funded_wallet(programme, {local: 3_000})
    with pytest.raises(StoreNotEligible):
        pay(wallet, large_store, 100)


def test_a_premium_grant_takes_the_purchase_price_from_sales_and_the_rest_from_issuance(
    programme, common
):
    wallet = factories.wallet(programme)
    entry = ledger.grant(wallet=wallet, value_type=common, amount=13_000, paid=10_000)

    kinds = {p.account.kind: p.amount for p in entry.postings.select_related("account")}
    assert kinds == {"wallet": 13_000, "sales": -10_000, "issuance": -3_000}
    bought_outright = ledger.grant(wallet=wallet, value_type=common, amount=500, paid=500)
    assert {p.account.kind for p in bought_outright.postings.select_related("account")} == {
        "wallet",
        "sales",
    }


@pytest.mark.parametrize("paid", [-1, 13_001, 1.5, True])
def test_a_purchase_price_outside_zero_to_the_value_is_refused(programme, common, paid):
    wallet = factories.wallet(programme)
    with pytest.raises(ValidationFailed):
        ledger.grant(wallet=wallet, value_type=common, amount=13_000, paid=paid)
    assert not JournalEntry.objects.exists()


def test_grant_many_grants_each_line_once_and_reports_used_keys(programme, common, local):
    a, b = factories.wallet(programme), factories.wallet(programme)
    lines = [
        ledger.GrantLine(a.pk, common.pk, 10_000, "k-a-common", paid=8_000),
        ledger.GrantLine(a.pk, local.pk, 3_000, "k-a-local"),
        ledger.GrantLine(b.pk, common.pk, 10_000, "k-b-common"),
    ]
    first = ledger.grant_many(programme=programme, lines=lines)
    changed = [*lines[:2], ledger.GrantLine(b.pk, common.pk, 99_000, "k-b-common")]
    again = ledger.grant_many(programme=programme, lines=changed)

    assert (first.granted, first.total) == (3, 23_000)
    assert (again.granted, again.replayed, again.conflicts) == (
        0,
        ["k-a-common", "k-a-local"],
        {"k-b-common": 10_000},
    )
    assert balances(a) == {"common": 10_000, "local": 3_000} and balances(b) == {"common": 10_000}
    assert Account.objects.get(kind="sales").balance == -8_000
    assert Account.objects.get(kind="issuance").balance == -15_000


def test_grant_many_refuses_another_programmes_value_type(programme, common):
    other = factories.programme()
    foreign = factories.value_type(other, code="x")
    wallet = factories.wallet(programme)
    with pytest.raises(ValidationFailed):
        ledger.grant_many(
            programme=programme, lines=[ledger.GrantLine(wallet.pk, foreign.pk, 100, "k")]
        )
    assert not JournalEntry.objects.exists()
