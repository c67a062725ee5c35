import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from payments import services as payment_services
from tests import factories

_keys = itertools.count(1)


@pytest.fixture
def pay():
    """pay(wallet, store, amount, minutes_ago=0, terminal=None): a real payment via the ledger."""

    def make(wallet, store, amount, *, minutes_ago=0, terminal=None, now=None):
        now = now or timezone.now() - timedelta(minutes=minutes_ago)
        return payment_services.payment_create(
            wallet=wallet,
            store=store,
            amount=amount,
            idempotency_key=f"test-{next(_keys)}",
            mode="mpm",
            terminal=terminal,
            now=now,
        )

    return make


@pytest.fixture
def other_store(other_company, programme):
    return factories.store(other_company, programme, name="他社の店")


@pytest.fixture
def other_payment(pay, programme, common, local, other_store):
    wallet = factories.funded_wallet(programme, {common: 2_000})
    return pay(wallet, other_store, 700)


def _with_email(user):
    user.email = f"{user.username}@example.jp"
    user.save(update_fields=["email"])
    return user


# The merchant sign-in e-mails a code, so the role fixtures get an address here.
@pytest.fixture
def company_admin(company_admin):
    return _with_email(company_admin)


@pytest.fixture
def store_manager(store_manager):
    return _with_email(store_manager)


@pytest.fixture
def store_staff(store_staff):
    return _with_email(store_staff)


@pytest.fixture
def other_company_admin(other_company_admin):
    return _with_email(other_company_admin)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """CSV exports go to a temporary MEDIA_ROOT, not the worktree's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
