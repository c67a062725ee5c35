import pytest

from merchants.models import Terminal
from payments.access import RESIDENT_SESSION_KEY, TERMINAL_COOKIE, remember_terminal
from tests import factories


@pytest.fixture
def resident(client, wallet):
    """A Django test client signed in as the wallet's resident."""
    session = client.session
    session[RESIDENT_SESSION_KEY] = wallet.pk
    session.save()
    return client


@pytest.fixture
def app_terminal(small_store):
    return factories.terminal(small_store, kind=Terminal.Kind.STORE_APP, setup_password="52825282")


@pytest.fixture
def pos_terminal(small_store):
    return factories.terminal(small_store, kind=Terminal.Kind.POS)


def pair(client, terminal):
    """Sets the long-lived device cookie the set-up screen leaves behind."""
    from django.http import HttpResponse

    response = HttpResponse()
    remember_terminal(response, terminal)
    client.cookies[TERMINAL_COOKIE] = response.cookies[TERMINAL_COOKIE].value
    return client


@pytest.fixture
def store_app(client, app_terminal, store_staff):
    """A paired device with the store's staff member signed in."""
    pair(client, app_terminal)
    client.force_login(store_staff)
    return client
