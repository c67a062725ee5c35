"""Money actions in Django admin need a second-factor check within the last 10 minutes: a stale
session is sent to the re-verify page, changes nothing, and comes back (core.verification)."""

import re
import time
from datetime import date

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditLog
from core.verification import VERIFIED_AT_KEY
from payments.models import Payment
from settlement import services as settlement_services
from settlement.models import Payout
from tests import factories
from tests.test_admin_second_factor import code_for
from wallets.models import JournalEntry

pytestmark = pytest.mark.django_db


def stale(user, minutes=11) -> Client:
    client = factories.staff_login(Client(), user, fresh=False)
    session = client.session
    session[VERIFIED_AT_KEY] = time.time() - minutes * 60
    session.save()
    return client


def sent_to_reverify(response, back_to: str) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        "/admin/otp/reverify/?next=" + back_to.replace("/", "%2F")
    )


def test_a_grant_page_asks_again_after_ten_minutes_and_comes_back(city_staff, wallet, common):
    url = f"/admin/wallets/wallet/{wallet.pk}/grant/"
    assert stale(city_staff, minutes=9).get(url).status_code == 200
    client = stale(city_staff, minutes=11)
    response = client.get(url)
    assert sent_to_reverify(response, url)
    page = client.get(response["Location"])
    assert "本人確認" in page.content.decode()
    device = TOTPDevice.objects.get(user=city_staff)
    back = client.post("/admin/otp/reverify/", {"code": code_for(device), "next": url})
    assert back["Location"] == url
    assert client.get(url).status_code == 200
    assert AuditLog.objects.filter(action="core.staff.reverified").count() == 1


def test_a_stale_post_changes_nothing_and_is_offered_again_after_the_check(
    city_staff, wallet, common
):
    url = f"/admin/wallets/wallet/{wallet.pk}/grant/"
    data = {"value_type": common.pk, "amount": "700", "memo": "再確認", "idempotency_key": "k1"}
    client = stale(city_staff)
    before = JournalEntry.objects.count()
    assert sent_to_reverify(client.post(url, data), url)
    assert JournalEntry.objects.count() == before
    device = TOTPDevice.objects.get(user=city_staff)
    page = client.post("/admin/otp/reverify/", {"code": code_for(device), "next": url})
    html = page.content.decode()
    assert page.status_code == 200 and f'action="{url}"' in html
    replay = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
    assert replay.pop("csrfmiddlewaretoken")
    assert replay == {k: str(v) for k, v in data.items()}
    assert client.post(url, replay).status_code == 302
    assert JournalEntry.objects.count() == before + 1


def money_requests(wallet, common, payment, payout):
    """(what, method, path, data) for every money action in admin."""
    changelist = "/admin/{}/"
    return [
        (
            "grant",
            "post",
            f"/admin/wallets/wallet/{wallet.pk}/grant/",
            {"value_type": common.pk, "amount": "5", "idempotency_key": "g"},
        ),
        (
            "adjust",
            "post",
            f"/admin/wallets/wallet/{wallet.pk}/adjust/",
            {"value_type": common.pk, "amount": "-5", "memo": "x", "idempotency_key": "a"},
        ),
        ("import or bulk grant", "get", "/admin/wallets/importrun/add/", {}),
        (
            "new PIN",
            "post",
            f"/admin/wallets/wallet/{wallet.pk}/change/",
            {
                "programme": wallet.programme_id,
                "resident": wallet.resident_id,
                "ticket_number": wallet.ticket_number,
                "pin": "246810",
            },
        ),
        (
            "PIN unlock",
            "post",
            changelist.format("wallets/wallet"),
            {"action": "unlock_pin", ACTION_CHECKBOX_NAME: [wallet.pk]},
        ),
        (
            "late cancellation",
            "post",
            changelist.format("payments/payment"),
            {
                "action": "cancel_late",
                ACTION_CHECKBOX_NAME: [payment.pk],
                "apply": "1",
                "reason": "誤り",
            },
        ),
        (
            "approve",
            "post",
            changelist.format("settlement/payout"),
            {"action": "approve", ACTION_CHECKBOX_NAME: [payout.pk]},
        ),
        (
            "mark paid",
            "post",
            changelist.format("settlement/payout"),
            {
                "action": "mark_paid",
                ACTION_CHECKBOX_NAME: [payout.pk],
                "apply": "1",
                "paid_on": "2026-10-30",
            },
        ),
        (
            "transfer file",
            "post",
            changelist.format("settlement/payout"),
            {"action": "download_transfer_file", ACTION_CHECKBOX_NAME: [payout.pk]},
        ),
    ]


def state(wallet, payment, payout):
    wallet.refresh_from_db()
    payment.refresh_from_db()
    payout.refresh_from_db()
    return (
        JournalEntry.objects.count(),
        wallet.pin_hash,
        payment.status,
        payout.status,
        payout.approved_by_id,
        AuditLog.objects.exclude(action__startswith="core.staff").count(),
    )


def test_every_money_action_refuses_a_stale_session(city_staff, wallet, common, small_store):
    from tests.settlement.conftest import at

    programme = wallet.programme
    payment = factories.payment(wallet, small_store, 1_000, key="p1", now=at(programme.starts_on))
    run = settlement_services.settlement_run(
        programme=programme, period_end=programme.starts_on.replace(day=15), today=date(2099, 1, 1)
    )
    payout = Payout.objects.get(run=run)
    payment = factories.payment(wallet, small_store, 500, key="p2")
    client = stale(city_staff)
    before = state(wallet, payment, payout)
    for what, method, path, data in money_requests(wallet, common, payment, payout):
        response = getattr(client, method)(path, data)
        assert sent_to_reverify(response, path), what
    assert state(wallet, payment, payout) == before
    assert Payment.objects.get(pk=payment.pk).status != "cancelled"
