import json

import pytest

from merchants.models import Terminal
from payments import services
from payments.access import RESIDENT_SESSION_KEY, TERMINAL_COOKIE, remember_device
from tests import factories
from wallets.services import wallet_credentials_issue


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


def device_cookie(terminal, label="テスト端末") -> str:
    """The long-lived device cookie the set-up screen leaves behind, for a new device row."""
    from django.http import HttpResponse

    token = services.terminal_pair(terminal=terminal, client_address="127.0.0.1", label=label)
    response = HttpResponse()
    remember_device(response, token)
    return response.cookies[TERMINAL_COOKIE].value


def pair(client, terminal):
    """A device set up for the terminal, as by the set-up screen."""
    client.cookies[TERMINAL_COOKIE] = device_cookie(terminal)
    return client


@pytest.fixture
def card(wallet):
    """The wallet's card token and PIN, as printed on its notice."""
    credentials = wallet_credentials_issue([wallet])[0]
    return credentials.card_token, credentials.pin


@pytest.fixture
def store_app(client, app_terminal, store_staff):
    """A paired device with the store's staff member signed in."""
    pair(client, app_terminal)
    client.force_login(store_staff)
    return client


# --- POS API ---


@pytest.fixture
def api_key(pos_terminal):
    _key, raw = services.api_key_create(terminal=pos_terminal, name="レジ1")
    return raw


@pytest.fixture
def api(client, api_key):
    def call(method, path, body=None, key="k-1", auth=api_key):
        headers = {"Authorization": f"Bearer {auth}"} if auth else {}
        if key:
            headers["Idempotency-Key"] = key
        return getattr(client, method)(
            "/api/v1" + path,
            data=json.dumps(body) if body is not None else None,
            content_type="application/json",
            headers=headers,
        )

    return call


def code_for(wallet, **kw):
    return services.cpm_code_issue(wallet=wallet, **kw)[1]


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
