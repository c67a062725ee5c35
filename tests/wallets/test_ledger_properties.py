"""Random sequences of grants, payments, cancels and adjustments keep every ledger invariant."""

import io
import uuid

import pytest
from django.core.management import call_command
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.exceptions import DomainError
from payments import services as payment_services
from payments.models import Payment
from tests import factories
from wallets import ledger
from wallets.models import Account, Posting

operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("grant"),
            st.integers(0, 2),
            st.sampled_from(["common", "local"]),
            st.integers(1, 20_000),
        ),
        st.tuples(
            st.just("pay"),
            st.integers(0, 2),
            st.sampled_from(["small", "large"]),
            st.integers(-10, 15_000),
        ),
        st.tuples(st.just("cancel"), st.integers(0, 30), st.none(), st.none()),
        st.tuples(
            st.just("adjust"),
            st.integers(0, 2),
            st.sampled_from(["common", "local"]),
            st.integers(-8_000, 8_000),
        ),
        st.tuples(st.just("retry"), st.integers(0, 30), st.none(), st.none()),
    ),
    max_size=30,
)


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_random_histories_keep_the_ledger_sound(
    ops, programme, common, local, small_store, large_store
):
    wallets = [factories.wallet(programme) for _ in range(3)]
    value_types = {"common": common, "local": local}
    stores = {"small": small_store, "large": large_store}
    payments: list[Payment] = []
    expected = {w.pk: 0 for w in wallets}  # what each wallet should hold, by our own count
    run = uuid.uuid4().hex  # examples share the test's transaction, so keys must not collide

    for n, (op, who, what, amount) in enumerate(ops):
        try:
            if op == "grant":
                ledger.grant(wallet=wallets[who], value_type=value_types[what], amount=amount)
                expected[wallets[who].pk] += amount
            elif op == "pay":
                p = factories.payment(wallets[who], stores[what], amount, key=f"{run}-{n}")
                payments.append(p)
                expected[p.wallet_id] -= amount
            elif op == "cancel" and payments:
                p = payment_services.payment_cancel(payment=payments[who % len(payments)])
                expected[p.wallet_id] += p.amount
            elif op == "adjust":
                ledger.adjust(
                    wallet=wallets[who],
                    value_type=value_types[what],
                    amount=amount,
                    reason="property test",
                )
                expected[wallets[who].pk] += amount
            elif op == "retry" and payments:
                p = payments[who % len(payments)]
                again = factories.payment(
                    p.wallet, p.store, p.amount, key=p.idempotency_key, mode=p.mode
                )
                assert again.pk == p.pk
        except DomainError:
            pass  # refused operations must leave no trace, which the checks below verify

    for w in wallets:
        held = Account.objects.filter(wallet=w).aggregate(s=Sum("balance"))["s"] or 0
        assert held == expected[w.pk]
    assert not Account.objects.filter(kind="wallet", balance__lt=0).exists()
    assert Account.objects.aggregate(s=Sum("balance"))["s"] in (0, None)
    assert Posting.objects.aggregate(s=Sum("amount"))["s"] in (0, None)
    call_command("check_ledger", stdout=io.StringIO())
