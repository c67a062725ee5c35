"""The POS API's request path does only what an API call needs (core.middleware): no session,
user or messages, and still every security header, the language and the request id."""

from django.urls import reverse

from tests.payments.conftest import code_for


def test_an_api_answer_keeps_the_security_headers_and_the_language(api):
    response = api("get", "/payments")
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Content-Language"] == "ja"
    assert response["X-Request-ID"]


def test_an_api_call_reads_no_session_even_when_a_browser_sends_one(client, api, city_staff):
    client.force_login(city_staff)
    response = api("get", "/payments")
    assert response.status_code == 200
    request = response.wsgi_request
    assert not hasattr(request, "session") and not hasattr(request, "user")
    assert not response.cookies  # a staff session's idle timer is not touched either


def test_pages_keep_their_session_and_user(client, city_staff):
    client.force_login(city_staff)
    response = client.get("/login/")
    assert response.status_code == 200
    request = response.wsgi_request
    assert request.session.session_key and request.user.is_authenticated


def test_the_payment_url_is_the_one_its_route_gives(api, wallet):
    created = api("post", "/payments", {"code": code_for(wallet), "amount": 100}).json()
    assert created["url"] == reverse("payments:api_payment", args=[created["number"]])
    assert api("get", created["url"].removeprefix("/api/v1")).json() == created
