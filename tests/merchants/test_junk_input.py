"""Junk in the merchant admin's URLs and searches (a NUL byte, a malformed payment number) is
a 404 or the form's own error, never a 500."""

import pytest


@pytest.fixture
def signed_in(client, merchant_login, company_admin):
    return merchant_login(client, company_admin)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("number", ["%00abc", "AbCd"])
def test_cancelling_a_malformed_number_is_not_found(signed_in, method, number):
    response = getattr(signed_in, method)(f"/merchant/payments/{number}/cancel/")
    assert response.status_code == 404
    assert b"Not Found" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "query", "message"),
    [
        ("/merchant/history/", {"number": "AbCd"}, "決済番号は半角英数字16桁です。"),
        ("/merchant/history/", {"number": "\x00abc"}, "決済番号は半角英数字16桁です。"),
    ],
)
def test_a_search_with_junk_is_the_forms_error(signed_in, path, query, message):
    response = signed_in.get(path, query)
    assert response.status_code == 400
    assert response.context["form"].errors
    assert message in response.content.decode()
