"""POS API listing: cursor pages that add up to the daily figure, and recovery by key."""

from datetime import timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone

from merchants.portal import selectors as merchant_selectors
from merchants.scope import Scope
from payments import services
from payments.models import Payment
from tests import factories
from tests.payments.conftest import assert_error, code_for


def _walk(api, path):
    """Every page from `path` on, following `next`; the pages' payments in order."""
    payments, pages = [], 0
    while path:
        body = api("get", path.removeprefix("/api/v1")).json()
        payments += body["payments"]
        path, pages = body["next"], pages + 1
    return payments, pages


@pytest.mark.django_db(transaction=True)
def test_pages_list_every_payment_once_and_add_up_to_the_daily_figure(
    api, wallet, pos_terminal, app_terminal, small_store, company_admin, programme, common
):
    pos = [
        services.payment_create_cpm(
            terminal=pos_terminal, code=code_for(wallet), amount=amount, idempotency_key=f"p{n}"
        )
        for n, amount in enumerate([100, 200, 300, 400, 500])
    ]
    # The store's other terminal counts too; another store's payment does not.
    by_app = services.payment_create_cpm(
        terminal=app_terminal, code=code_for(wallet), amount=600, idempotency_key="a"
    )
    elsewhere = factories.terminal(factories.store(small_store.company, programme), kind="pos")
    services.payment_create_cpm(
        terminal=elsewhere, code=code_for(wallet), amount=700, idempotency_key="e"
    )
    services.payment_cancel(payment=pos[1])
    # Equal time stamps across a page boundary: the id breaks the tie.
    Payment.objects.filter(pk__in=[pos[2].pk, pos[3].pk, pos[4].pk]).update(
        created_at=pos[2].created_at
    )
    day = timezone.localtime(pos[0].created_at).date()

    listed, pages = _walk(api, f"/payments?from={day}&to={day}&limit=2")

    numbers = [p["number"] for p in listed]
    assert pages == 3 and len(numbers) == len(set(numbers)) == 6
    assert set(numbers) == {p.number for p in [*pos, by_app]}
    stored = {p.number: (p.created_at, p.pk) for p in Payment.objects.all()}
    assert [stored[n] for n in numbers] == sorted((stored[n] for n in numbers), reverse=True)
    # 日別 counts completed payments only: a cancellation takes the payment out again.
    daily = merchant_selectors.daily_totals(
        scope=Scope.of(company_admin), first=day, last=day, store_code=small_store.code
    )
    completed = [p for p in listed if p["status"] == "completed"]
    assert [p["number"] for p in listed if p["status"] == "cancelled"] == [pos[1].number]
    assert sum(p["amount"] for p in completed) == daily["amount"] == 1_900
    assert len(completed) == daily["count"]


def test_next_keeps_the_filters_and_a_tampered_cursor_is_refused(api, wallet, pos_terminal):
    for n in range(3):
        services.payment_create_cpm(
            terminal=pos_terminal, code=code_for(wallet), amount=100, idempotency_key=f"n{n}"
        )
    first = api("get", "/payments?limit=2").json()
    assert len(first["payments"]) == 2
    query = QueryDict(first["next"].partition("?")[2])
    today = timezone.localdate().isoformat()
    assert (query["from"], query["to"], query["limit"]) == (today, today, "2")
    last = api("get", first["next"].removeprefix("/api/v1")).json()
    assert len(last["payments"]) == 1 and last["next"] is None
    tampered = first["next"].replace("cursor=", "cursor=x").removeprefix("/api/v1")
    assert_error(api("get", tampered), 400, "validation_error")


def test_a_pos_that_lost_the_answer_finds_its_payment_by_key(
    api, wallet, pos_terminal, small_store
):
    # The payment committed, but the answer never reached the POS (no retry is sent).
    payment = services.payment_create_cpm(
        terminal=pos_terminal,
        code=code_for(wallet),
        amount=300,
        idempotency_key="lost-1",
        mode=Payment.Mode.POS,
    )
    # Found whatever day it is now: the key is enough.
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(days=2))
    expected = api("get", f"/payments/{payment.number}").json()
    assert api("get", "/payments?idempotency_key=lost-1").json() == {
        "payments": [expected],
        "next": None,
    }
    assert api("get", "/payments?idempotency_key=never-sent").json() == {
        "payments": [],
        "next": None,
    }
    # The same key from the store's other POS terminal is another payment (not made).
    _key, other_raw = services.api_key_create(terminal=factories.terminal(small_store, kind="pos"))
    assert api("get", "/payments?idempotency_key=lost-1", auth=other_raw).json() == {
        "payments": [],
        "next": None,
    }


@pytest.mark.django_db
def test_to_is_inclusive_as_written(api, wallet, pos_terminal):
    """to=…T12:00 takes in 12:00:45, to=…T12:00:30 does not; as the merchant admin reads it."""
    payment = services.payment_create_cpm(
        terminal=pos_terminal, code=code_for(wallet), amount=100, idempotency_key="late"
    )
    moment = timezone.localtime() - timedelta(minutes=5)
    moment = moment.replace(second=45, microsecond=0)
    Payment.objects.filter(pk=payment.pk).update(created_at=moment)
    since = (moment - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")

    def listed(to):
        body = api("get", f"/payments?from={since}&to={to}").json()
        return [p["number"] for p in body["payments"]]

    assert listed(moment.strftime("%Y-%m-%dT%H:%M")) == [payment.number]
    assert listed(moment.strftime("%Y-%m-%dT%H:%M:45")) == [payment.number]
    assert listed(moment.strftime("%Y-%m-%dT%H:%M:30")) == []
