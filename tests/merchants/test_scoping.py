"""Every merchant URL, as every role, with another company's object IDs: 404, nothing revealed."""

import pytest
from django.urls import reverse
from django.utils import timezone

from merchants.models import ExportFile, Terminal
from merchants.portal.exports import export_request
from merchants.portal.selectors import HistoryFilters
from payments.services import terminal_pair
from tests import factories


@pytest.fixture
def foreign(other_company, other_store, other_payment, other_company_admin):
    """Objects of another company: its payment, terminal, staff member and a finished export."""
    terminal = factories.terminal(other_store, name="他社レジ", setup_password="52825282")
    Terminal.objects.filter(pk=terminal.pk).update(
        failed_setup_attempts=10, setup_locked_at=timezone.now()
    )
    terminal_pair(terminal=terminal, client_address="192.0.2.77", label="他社のタブレット")
    staff = factories.user(
        "other-staff-1", role="store_staff", company=other_company, store=other_store
    )
    export = export_request(
        actor=other_company_admin, filters=HistoryFilters.today(), encoding="utf-8-sig"
    )
    ExportFile.objects.filter(pk=export.pk).update(status=ExportFile.Status.DONE)
    return {
        "payment": other_payment,
        "terminal": terminal,
        "device": terminal.devices.get(),
        "user": staff,
        "export": export,
    }


def object_urls(foreign):
    return [
        ("get", reverse("merchants:payment_cancel", args=[foreign["payment"].number])),
        ("post", reverse("merchants:payment_cancel", args=[foreign["payment"].number])),
        ("post", reverse("merchants:terminal_password", args=[foreign["terminal"].pk])),
        ("post", reverse("merchants:terminal_unpair", args=[foreign["terminal"].pk])),
        ("post", reverse("merchants:terminal_unlock", args=[foreign["terminal"].pk])),
        ("post", reverse("merchants:terminal_device_end", args=[foreign["device"].pk])),
        ("post", reverse("merchants:user_deactivate", args=[foreign["user"].pk])),
        ("post", reverse("merchants:user_unlock", args=[foreign["user"].pk])),
        ("get", reverse("merchants:export_download", args=[foreign["export"].pk])),
    ]


LIST_URLS = [
    "merchants:home",
    "merchants:history",
    "merchants:monthly",
    "merchants:daily",
    "merchants:stores",
    "merchants:terminals",
    "merchants:users",
    "merchants:company",
    "merchants:exports",
]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["company_admin", "store_manager"])
def test_other_companys_objects_answer_404(role, request, client, merchant_login, foreign):
    user = request.getfixturevalue(role)
    merchant_login(client, user)
    for method, url in object_urls(foreign):
        response = getattr(client, method)(url, {"memo": "x"} if method == "post" else None)
        assert response.status_code == 404, (role, method, url)
        assert foreign["payment"].number not in response.content.decode()
    foreign["payment"].refresh_from_db()
    assert not foreign["payment"].is_cancelled
    foreign["user"].refresh_from_db()
    assert foreign["user"].is_active
    terminal = Terminal.objects.get(pk=foreign["terminal"].pk)
    assert terminal.setup_password_hash == foreign["terminal"].setup_password_hash
    assert terminal.setup_locked_at is not None
    assert terminal.devices.get() == foreign["device"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["company_admin", "store_manager"])
def test_list_pages_never_show_another_company(role, request, client, merchant_login, foreign):
    user = request.getfixturevalue(role)
    merchant_login(client, user)
    secrets = [
        foreign["payment"].number,
        foreign["payment"].store.code,
        "他社の店",
        foreign["terminal"].terminal_id,
        foreign["device"].label,
        foreign["device"].client_address,
        foreign["user"].username,
        foreign["payment"].company.name,
    ]
    for name in LIST_URLS:
        response = client.get(reverse(name))
        assert response.status_code in (200, 404), name
        body = response.content.decode()
        for secret in secrets:
            assert secret not in body, (role, name, secret)
    # Searching for the other company's payment number finds nothing.
    response = client.get(reverse("merchants:history"), {"number": foreign["payment"].number})
    assert response.context["page"].paginator.count == 0


@pytest.mark.django_db
def test_store_manager_sees_only_own_store(
    client, merchant_login, store_manager, large_store, pay, wallet
):
    foreign_payment = pay(wallet, large_store, 300)  # same company, another store
    merchant_login(client, store_manager)
    response = client.get(reverse("merchants:history"))
    assert foreign_payment.number not in response.content.decode()
    response = client.get(reverse("merchants:payment_cancel", args=[foreign_payment.number]))
    assert response.status_code == 404
    assert large_store.code not in client.get(reverse("merchants:stores")).content.decode()


@pytest.mark.django_db
def test_pages_need_the_e_mailed_code(client, company_admin):
    client.force_login(company_admin)  # password only, no OTP device verified
    for name in LIST_URLS:
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith("/merchant/login/")


@pytest.mark.django_db
def test_store_staff_are_kept_to_the_store_app(client, merchant_login, store_staff):
    """店舗担当者 are for the store app: no merchant admin page (取消, 端末 passwords, exports)."""
    merchant_login(client, store_staff)
    for name in ["home", "history", "terminals", "users", "user_create", "exports", "company"]:
        assert client.get(reverse(f"merchants:{name}")).status_code == 403, name
