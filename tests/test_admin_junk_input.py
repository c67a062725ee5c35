"""Junk posted to Django admin (an id that is not a number, a NUL byte) is the form's own error,
never a 500."""

import pytest

from tests import factories


@pytest.fixture
def admin_client(client, city_staff):
    factories.staff_login(client, city_staff)
    return client


@pytest.mark.parametrize("junk", ["1.5", "\x00", "abc"])
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/admin/payments/apikey/add/", "terminal"),
        ("/admin/merchants/terminal/add/", "store"),
        ("/admin/merchants/store/add/", "company"),
        ("/admin/wallets/wallet/add/", "resident"),
        ("/admin/merchants/user/add/", "company"),
        ("/admin/merchants/user/add/", "store"),
    ],
)
def test_a_junk_id_in_an_autocomplete_field_is_a_form_error(admin_client, path, field, junk):
    response = admin_client.post(path, {field: junk})
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert field in form.errors


@pytest.mark.parametrize(
    ("model", "field"),
    [
        ("payments/apikey", "terminal"),
        ("merchants/terminal", "store"),
        ("merchants/store", "company"),
        ("wallets/wallet", "resident"),
    ],
)
def test_a_nul_in_an_autocomplete_search_finds_nothing(admin_client, small_store, model, field):
    app_label, model_name = model.split("/")
    response = admin_client.get(
        "/admin/autocomplete/",
        {"term": "a\x00", "app_label": app_label, "model_name": model_name, "field_name": field},
    )
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("field", ["ticket_number", "pin"])
def test_a_nul_in_the_wallet_form_is_a_form_error(admin_client, wallet, field):
    data = {"programme": wallet.programme_id, "resident": wallet.resident_id, "pin": "123456"}
    response = admin_client.post("/admin/wallets/wallet/add/", {**data, field: "1\x002"})
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
