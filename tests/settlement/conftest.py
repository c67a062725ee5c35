from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests import factories


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A Tokyo wall-clock moment."""
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


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


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Issued statements go to a throw-away folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
