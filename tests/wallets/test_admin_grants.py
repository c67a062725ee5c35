"""City staff grant money in Django admin, one wallet at a time (CSV files: test_imports.py)."""

import re

import pytest
from django.urls import reverse

from tests import factories
from wallets.models import Account, JournalEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, city_staff):
    factories.staff_login(client, city_staff)
    return client


def held(wallet, code):
    return Account.objects.get(wallet=wallet, value_type__code=code).balance


def key_from(response):
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', response.text).group(1)


def test_single_grant_and_its_double_submit_grant_once(staff_client, programme, common):
    wallet = factories.wallet(programme)
    url = reverse("admin:wallets_wallet_grant", args=[wallet.pk])
    form = staff_client.get(url)
    assert form.status_code == 200
    data = {
        "value_type": common.pk,
        "amount": "13000",
        "memo": "初回付与",
        "idempotency_key": key_from(form),
    }

    first = staff_client.post(url, data)
    second = staff_client.post(url, data)

    assert first.status_code == second.status_code == 302
    assert held(wallet, "common") == 13_000
    entry = JournalEntry.objects.get(kind="grant")
    assert (entry.memo, entry.created_by.username) == ("初回付与", "cityadmin01")


def test_grant_form_refuses_zero_with_a_message(staff_client, programme, common):
    wallet = factories.wallet(programme)
    url = reverse("admin:wallets_wallet_grant", args=[wallet.pk])
    response = staff_client.post(
        url, {"value_type": common.pk, "amount": "0", "idempotency_key": "k"}
    )
    assert response.status_code == 200
    assert "1 以上" in response.text or "1以上" in response.text
    assert not JournalEntry.objects.exists()


def test_adjustment_needs_a_reason_and_cannot_overdraw(staff_client, wallet, common):
    url = reverse("admin:wallets_wallet_adjust", args=[wallet.pk])
    no_reason = staff_client.post(
        url, {"value_type": common.pk, "amount": "-100", "idempotency_key": "a"}
    )
    overdraw = staff_client.post(
        url, {"value_type": common.pk, "amount": "-9000", "memo": "誤付与", "idempotency_key": "b"}
    )
    ok = staff_client.post(
        url, {"value_type": common.pk, "amount": "-100", "memo": "誤付与", "idempotency_key": "c"}
    )

    assert no_reason.status_code == 200 and overdraw.status_code == 200
    assert "残高が不足しています" in overdraw.text
    assert ok.status_code == 302
    assert held(wallet, "common") == 4_900


def test_ledger_rows_are_read_only_in_admin(staff_client, wallet):
    entry = JournalEntry.objects.first()
    assert (
        staff_client.get(reverse("admin:wallets_journalentry_change", args=[entry.pk])).status_code
        == 200
    )
    assert (
        staff_client.post(reverse("admin:wallets_journalentry_delete", args=[entry.pk])).status_code
        == 403
    )
    assert staff_client.get(reverse("admin:wallets_account_add")).status_code == 403


def test_every_admin_changelist_opens_in_japanese(staff_client, wallet, small_store):
    from django.contrib import admin

    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = staff_client.get(url, HTTP_ACCEPT_LANGUAGE="ja")
        assert response.status_code == 200, url
    response = staff_client.get(reverse("admin:wallets_wallet_changelist"))
    assert "電子チケット" in response.text and "CSV一括付与" in response.text


def test_grant_form_resubmitted_with_another_amount_grants_nothing_more(
    staff_client, programme, common
):
    wallet = factories.wallet(programme)
    url = reverse("admin:wallets_wallet_grant", args=[wallet.pk])
    data = {
        "value_type": common.pk,
        "amount": "50000",
        "idempotency_key": key_from(staff_client.get(url)),
    }
    assert staff_client.post(url, data).status_code == 302

    # Back button, another amount, the same form (and key) sent again.
    again = staff_client.post(url, data | {"amount": "30000"})

    assert again.status_code == 200
    assert "別の内容ですでに送信されているため" in again.text
    assert "30,000" not in "".join(m.message for m in again.context["messages"])
    assert held(wallet, "common") == 50_000
    assert JournalEntry.objects.filter(kind="grant").count() == 1


def test_the_admin_index_names_every_app_and_model_in_japanese(staff_client):
    """Third-party apps too (axes, django-otp, the task queue): no English name on the index."""
    html = staff_client.get(reverse("admin:index")).text
    names = re.findall(r'<a href="/admin/[^"]*"[^>]*>([^<]+)</a>', html)
    names += re.findall(r"<caption>\s*<a[^>]*>([^<]+)</a>", html)
    english = [n for n in names if re.fullmatch(r"[A-Za-z _()]+", n.strip())]
    assert not english, english
    assert "二要素認証: 認証アプリ" in html and "バックグラウンド処理" in html
