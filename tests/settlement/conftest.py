import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories


def at(day: date, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    """A Tokyo wall-clock moment."""
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute, second))


def pay(wallet, store, amount, day, key, hour=10):
    """A payment at 10:00 (or `hour`) Tokyo time on `day`."""
    return factories.payment(wallet, store, amount, key=key, now=at(day, hour))


def dashboard(client, programme) -> str:
    return client.get(reverse("admin:settlement_dashboard", args=[programme.pk])).content.decode()


def dashboard_figures(html: str) -> dict[str, int]:
    """The city's dashboard figures as shown, by name."""
    return {
        name: int(value.replace(",", ""))
        for name, value in re.findall(r'data-figure="(\w+)">([\d,-]+) 円', html)
    }


@pytest.fixture
def autumn(db):
    """A programme from October 2026 to March 2027, semi-monthly, 1.5 % fee, paid 15 days on."""
    programme = factories.programme(
        code="autumn",
        name="テスト市プレミアム商品券",
        starts_on=date(2026, 10, 1),
        ends_on=date(2027, 3, 31),
        fee_rate=Decimal("0.0150"),
        cancel_window=timedelta(hours=24),
    )
    return programme


@pytest.fixture
def shop(autumn, company):
    """A well-funded wallet and a store of `company` in the autumn programme."""
    vt = factories.value_type(autumn)
    wallet = factories.funded_wallet(autumn, {vt: 100_000})
    return wallet, factories.store(company, autumn)


@pytest.fixture
def staff(client, city_staff):
    factories.staff_login(client, city_staff)
    return client


@pytest.fixture
def admin_client(merchant_login, company_admin):
    """The company admin on the merchant pages, in a client of its own (beside `staff`)."""
    return merchant_login(Client(), company_admin)
