"""Each city staff role can do its work in Django admin and nothing else (core.roles); a
table over the changelists, add pages, custom views and actions."""

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse

from core.roles import AUDIT, MERCHANTS, PROGRAMME, SETTLEMENT
from merchants.models import Company, Store, User
from payments.models import ApiKey, Payment
from settlement.models import Payout
from tests import factories
from wallets.models import Programme, Wallet

pytestmark = pytest.mark.django_db

ALL = {PROGRAMME, MERCHANTS, SETTLEMENT, AUDIT}

# (path, roles that get the page; everyone else gets 403)
PAGES = [
    ("/admin/wallets/programme/", ALL),
    ("/admin/wallets/programme/add/", {PROGRAMME}),
    ("/admin/wallets/resident/", {PROGRAMME, AUDIT}),
    ("/admin/wallets/wallet/", {PROGRAMME, AUDIT}),
    ("/admin/wallets/wallet/add/", {PROGRAMME}),
    ("/admin/wallets/importrun/add/", {PROGRAMME}),
    ("/admin/wallets/journalentry/", {PROGRAMME, AUDIT}),
    ("/admin/merchants/company/", {MERCHANTS, SETTLEMENT, AUDIT}),
    ("/admin/merchants/company/add/", {MERCHANTS}),
    ("/admin/merchants/store/", {MERCHANTS, AUDIT}),
    ("/admin/merchants/terminal/", {MERCHANTS, AUDIT}),
    ("/admin/merchants/user/", {MERCHANTS, AUDIT}),
    ("/admin/payments/apikey/", {MERCHANTS, AUDIT}),
    ("/admin/payments/apikey/add/", {MERCHANTS}),
    ("/admin/payments/payment/", {SETTLEMENT, AUDIT}),
    ("/admin/settlement/settlementrun/", {SETTLEMENT, AUDIT}),
    ("/admin/settlement/settlementrun/start/", {SETTLEMENT}),
    ("/admin/settlement/payout/", {SETTLEMENT, AUDIT}),
    ("/admin/settlement/payingaccount/add/", {SETTLEMENT}),
    ("/admin/core/auditlog/", {AUDIT}),
    ("/admin/auth/group/", set()),
]

# (model, action, roles that are offered it)
ACTIONS = [
    (Programme, "expire_balances", {PROGRAMME}),
    (Wallet, "unlock_pin", {PROGRAMME}),
    (Payment, "cancel_late", {SETTLEMENT}),
    (Payout, "approve", {SETTLEMENT}),
    (Payout, "mark_paid", {SETTLEMENT}),
    (Payout, "download_transfer_file", {SETTLEMENT}),
    (Store, "download_qr_sheets", {MERCHANTS, AUDIT}),
    (User, "unlock", {MERCHANTS}),
    (ApiKey, "revoke", {MERCHANTS}),
]


def signed_in(role) -> Client:
    user = factories.user(f"staff-{abs(hash(role)) % 10_000}", is_staff=True)
    return factories.staff_login(Client(), user, role=role)


@pytest.mark.parametrize("role", sorted(ALL))
def test_each_role_sees_its_pages_only(role, wallet, small_store):
    client = signed_in(role)
    assert client.get("/admin/").status_code == 200
    wallet_pages = [
        f"/admin/wallets/wallet/{wallet.pk}/grant/",
        f"/admin/wallets/wallet/{wallet.pk}/adjust/",
    ]
    dashboard = reverse("admin:settlement_dashboard", args=[wallet.programme_id])
    table = [*PAGES, *[(p, {PROGRAMME}) for p in wallet_pages], (dashboard, {SETTLEMENT, AUDIT})]
    wrong = {
        path: status
        for path, allowed in table
        if (status := client.get(path).status_code) != (200 if role in allowed else 403)
    }
    assert wrong == {}


@pytest.mark.parametrize("role", sorted(ALL))
def test_each_role_is_offered_its_actions_only(role):
    user = factories.user("actor01", is_staff=True)
    factories.staff_login(Client(), user, role=role)
    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(pk=user.pk)
    offered = {
        (model.__name__, name)
        for model, name, _roles in ACTIONS
        if name in admin.site._registry[model].get_actions(request)
    }
    expected = {(model.__name__, name) for model, name, roles in ACTIONS if role in roles}
    assert offered == expected


def test_audit_changes_nothing(company):
    client = signed_in(AUDIT)
    response = client.post(f"/admin/merchants/company/{company.pk}/change/", {"name": "改ざん"})
    assert response.status_code == 403
    company.refresh_from_db()
    assert company.name != "改ざん"
    assert client.get(f"/admin/merchants/company/{company.pk}/change/").status_code == 200


def test_merchant_staff_role_cannot_touch_staff_accounts_or_raise_itself(city_staff):
    client = signed_in(MERCHANTS)
    me = User.objects.get(groups__name=MERCHANTS)
    for staff in [city_staff, me]:  # staff accounts, their own included: read-only
        url = f"/admin/merchants/user/{staff.pk}/change/"
        assert 'name="username"' not in client.get(url).content.decode()
        response = client.post(url, {"username": staff.username, "is_superuser": "on"})
        assert response.status_code == 403
    me.refresh_from_db()
    assert not me.is_superuser
    merchant = factories.user("shop-owner", role="company_admin", company=factories.company())
    html = client.get(f"/admin/merchants/user/{merchant.pk}/change/").content.decode()
    assert 'name="is_active"' in html
    assert 'name="is_superuser"' not in html and 'name="groups"' not in html
    assert 'name="is_staff"' not in html


def test_a_staff_member_without_a_role_sees_no_models():
    client = factories.staff_login(Client(), factories.user("norole01", is_staff=True))
    assert client.get("/admin/wallets/wallet/").status_code == 403
    assert client.get("/admin/settlement/payout/").status_code == 403


def test_company_edit_by_the_merchants_role_works(company):
    client = signed_in(MERCHANTS)
    page = client.get(f"/admin/merchants/company/{company.pk}/change/")
    assert page.status_code == 200
    assert Company.objects.filter(pk=company.pk).exists()
