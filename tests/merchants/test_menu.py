"""The sidebar offers each role only what it may open."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_settlement_menu_is_for_company_admins_only(
    client, merchant_login, company_admin, store_manager
):
    payouts = reverse("settlement:payouts")

    admin_page = merchant_login(client, company_admin).get(reverse("merchants:home"))
    assert payouts in admin_page.text and "精算管理" in admin_page.text

    manager_page = merchant_login(client, store_manager).get(reverse("merchants:home"))
    assert manager_page.status_code == 200
    assert payouts not in manager_page.text
    assert client.get(payouts).status_code in (403, 404)
