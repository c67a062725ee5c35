"""取消 from the merchant admin: window, confirmation, audit, and two people at once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import AuditLog
from payments.models import Payment
from tests import factories
from wallets.models import Account, JournalEntry


def cancel_url(payment):
    return reverse("merchants:payment_cancel", args=[payment.number])


@pytest.mark.django_db
def test_cancel_inside_the_window(client, merchant_login, store_manager, pay, wallet, small_store):
    payment = pay(wallet, small_store, 1_500)
    merchant_login(client, store_manager)
    history = client.get("/merchant/history/").content.decode()
    assert f'data-number="{payment.number}"' in history
    page = client.get(cancel_url(payment))  # the no-JS confirmation page
    body = page.content.decode()
    assert "この決済を取り消しますか" in body and payment.number in body and "1,500 円" in body

    response = client.post(cancel_url(payment), {"memo": "金額誤り", "back": "/merchant/history/"})
    assert response["Location"] == "/merchant/history/"
    payment.refresh_from_db()
    assert payment.is_cancelled and payment.cancel_memo == "金額誤り"
    assert payment.cancelled_by == store_manager
    balances = dict(
        Account.objects.filter(wallet=wallet).values_list("value_type__name", "balance")
    )
    assert balances == {"共通券": 5_000, "専用券": 3_000}
    log = AuditLog.objects.get(action="payments.payment.cancelled")
    assert log.actor == store_manager and log.data["memo"] == "金額誤り"
    body = client.get("/merchant/history/").content.decode()
    assert "取消済" in body and "決済 " + payment.number + " を取り消しました" in body


@pytest.mark.django_db
def test_outside_the_window_no_button_and_refused(
    client, merchant_login, company_admin, pay, wallet, small_store
):
    payment = pay(wallet, small_store, 800, now=timezone.now() - timedelta(hours=25))
    merchant_login(client, company_admin)
    start = timezone.localtime(payment.created_at - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    body = client.get("/merchant/history/", {"start": start}).content.decode()
    assert payment.number in body
    assert f'data-number="{payment.number}"' not in body
    page = client.get(cancel_url(payment)).content.decode()
    assert "取消可能期間（24時間）を過ぎています。取消は市のみが行えます" in page
    response = client.post(cancel_url(payment), {"memo": ""}, follow=True)
    assert "取消可能期間を過ぎています" in response.content.decode()
    payment.refresh_from_db()
    assert not payment.is_cancelled


@pytest.mark.django_db
def test_back_url_stays_on_the_site(
    client, merchant_login, company_admin, pay, wallet, small_store
):
    payment = pay(wallet, small_store, 100)
    merchant_login(client, company_admin)
    response = client.post(cancel_url(payment), {"back": "https://evil.example/"})
    assert response["Location"] == "/merchant/history/"


@pytest.mark.django_db(transaction=True)
def test_two_people_cancelling_at_once_make_one_reversal(merchant_login):
    programme = factories.programme()
    common = factories.value_type(programme, code="common", name="共通券")
    company = factories.company()
    store = factories.store(company, programme)
    wallet = factories.funded_wallet(programme, {common: 5_000})

    payment = factories.payment(wallet, store, 2000, key="race", mode="mpm")
    people = [
        factories.user(
            f"admin-race-{i}", role="company_admin", company=company, email=f"r{i}@example.jp"
        )
        for i in range(2)
    ]
    clients = [merchant_login(Client(), person) for person in people]
    barrier = threading.Barrier(2)
    statuses = []

    def cancel(client):
        try:
            barrier.wait()
            statuses.append(client.post(cancel_url(payment), {"memo": "同時"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=cancel, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302, 302]
    assert JournalEntry.objects.filter(kind="payment_cancel", reverses=payment.entry).count() == 1
    assert Payment.objects.get(pk=payment.pk).is_cancelled
    assert Account.objects.get(wallet=wallet).balance == 5_000
