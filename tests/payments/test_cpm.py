"""CPM: the resident shows a short-lived, single-use code; the store app scans it."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from payments import services
from payments.exceptions import CodeExpired, CodeInvalid, CodeUsed
from payments.models import CpmCode, Payment
from tests import factories
from wallets.exceptions import IdempotencyConflict, InsufficientBalance
from wallets.models import Account


def test_the_code_is_signed_short_lived_and_not_the_ticket_number(wallet):
    cpm, text = services.cpm_code_issue(wallet=wallet)
    assert wallet.ticket_number not in text
    assert cpm.nonce in text and text != cpm.nonce
    assert timedelta(seconds=59) < cpm.expires_at - timezone.now() <= timedelta(seconds=60)


def test_a_scanned_code_pays_once(wallet, app_terminal, store_staff):
    _cpm, text = services.cpm_code_issue(wallet=wallet)
    payment = services.payment_create_cpm(
        terminal=app_terminal, code=text, amount=1_000, idempotency_key="k1", actor=store_staff
    )
    assert (payment.mode, payment.terminal, payment.amount) == ("cpm", app_terminal, 1_000)
    assert CpmCode.objects.get(payment=payment).wallet == wallet
    with pytest.raises(CodeUsed):
        services.payment_create_cpm(
            terminal=app_terminal, code=text, amount=1_000, idempotency_key="k2"
        )
    # The same request again (a network retry) returns the first payment.
    again = services.payment_create_cpm(
        terminal=app_terminal, code=text, amount=1_000, idempotency_key="k1"
    )
    assert again == payment
    with pytest.raises(IdempotencyConflict):
        services.payment_create_cpm(
            terminal=app_terminal, code=text, amount=999, idempotency_key="k1"
        )
    assert Payment.objects.count() == 1


def test_expired_and_forged_codes_are_refused(wallet, app_terminal):
    cpm, text = services.cpm_code_issue(wallet=wallet, now=timezone.now() - timedelta(seconds=61))
    with pytest.raises(CodeExpired):
        services.payment_create_cpm(terminal=app_terminal, code=text, amount=1, idempotency_key="a")
    with pytest.raises(CodeInvalid):
        services.payment_create_cpm(
            terminal=app_terminal, code=cpm.nonce + ":forged", amount=1, idempotency_key="b"
        )
    with pytest.raises(CodeInvalid):
        services.payment_create_cpm(
            terminal=app_terminal, code=wallet.ticket_number, amount=1, idempotency_key="c"
        )
    assert Payment.objects.count() == 0


def test_a_failed_payment_leaves_the_code_usable(wallet, app_terminal):
    _cpm, text = services.cpm_code_issue(wallet=wallet)
    with pytest.raises(InsufficientBalance):
        services.payment_create_cpm(
            terminal=app_terminal, code=text, amount=99_999, idempotency_key="a"
        )
    payment = services.payment_create_cpm(
        terminal=app_terminal, code=text, amount=100, idempotency_key="b"
    )
    assert payment.amount == 100


def test_the_resident_page_shows_a_qr_and_turns_into_completion(resident, wallet, app_terminal):
    html = resident.get("/code/").content.decode()
    assert 'src="data:image/svg+xml;base64,' in html
    cpm = CpmCode.objects.get(wallet=wallet)
    assert resident.get(f"/code/status.json?n={cpm.nonce}").json() == {"paid_url": None}

    fresh = resident.post("/code/new.json").json()
    assert fresh["nonce"] != cpm.nonce and fresh["lifetime"] == 60
    payment = services.payment_create_cpm(
        terminal=app_terminal, code=fresh["code"], amount=300, idempotency_key="x"
    )
    status = resident.get(f"/code/status.json?n={cpm.nonce}&n={fresh['nonce']}").json()
    assert status == {"paid_url": f"/pay/done/{payment.number}/"}


def test_another_wallets_code_status_is_not_visible(resident, programme, common, app_terminal):
    other = factories.funded_wallet(programme, {common: 1_000})
    cpm, text = services.cpm_code_issue(wallet=other)
    services.payment_create_cpm(terminal=app_terminal, code=text, amount=100, idempotency_key="o")
    assert resident.get(f"/code/status.json?n={cpm.nonce}").json() == {"paid_url": None}


def test_new_code_needs_post_and_csrf(wallet, client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    session = strict.session
    session["resident_wallet_id"] = wallet.pk
    session.save()
    assert strict.get("/code/new.json").status_code == 405
    assert strict.post("/code/new.json").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_payments_never_overspend_one_wallet():
    programme = factories.programme()
    common = factories.value_type(programme, code="common")
    store = factories.store(factories.company(), programme)
    terminal = factories.terminal(store, kind="pos")
    wallet = factories.funded_wallet(programme, {common: 5_000})
    codes = [services.cpm_code_issue(wallet=wallet)[1] for _ in range(20)]
    results, barrier = [], threading.Barrier(20)

    def pay(code):
        barrier.wait()
        try:
            services.payment_create_cpm(
                terminal=terminal, code=code, amount=700, idempotency_key=str(uuid.uuid4())
            )
            results.append("ok")
        except InsufficientBalance:
            results.append("insufficient")
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(c,)) for c in codes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 7  # 7 x 700 = 4,900 <= 5,000 < 8 x 700
    assert results.count("insufficient") == 13
    assert Account.objects.get(wallet=wallet).balance == 5_000 - 7 * 700


@pytest.mark.django_db(transaction=True)
def test_one_code_scanned_by_two_terminals_at_once_pays_once():
    programme = factories.programme()
    common = factories.value_type(programme, code="common")
    store = factories.store(factories.company(), programme)
    terminals = [factories.terminal(store, kind="pos") for _ in range(2)]
    wallet = factories.funded_wallet(programme, {common: 5_000})
    _cpm, text = services.cpm_code_issue(wallet=wallet)
    results, barrier = [], threading.Barrier(2)

    def pay(terminal):
        barrier.wait()
        try:
            services.payment_create_cpm(
                terminal=terminal, code=text, amount=100, idempotency_key="same-key"
            )
            results.append("ok")
        except CodeUsed:
            results.append("used")
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(t,)) for t in terminals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "used"]
    assert Payment.objects.count() == 1
