import pytest

from tests import factories


@pytest.fixture
def pay():
    """pay(wallet, store, amount, minutes_ago=0, terminal=None): a real payment."""
    return factories.payment


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
