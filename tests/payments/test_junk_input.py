"""Junk in a URL or a query (a NUL byte, a date at the end of the calendar) is a 404 or the
page's own error, never a 500. The POS API's cases are in test_api.py."""

import pytest
from django.utils import timezone


@pytest.mark.parametrize("path", ["/pay/done/%00abc/", "/pay/done/AbCd/"])
def test_resident_payment_pages_are_not_found(resident, path):
    response = resident.get(path)
    assert response.status_code == 404
    assert "ページが見つかりません" in response.content.decode()  # the Japanese 404 page


@pytest.mark.parametrize("query", ["n=%00", "n=ok&n=%00", "n=" + "a" * 41])
def test_the_code_status_poll_refuses_junk_nonces(resident, query):
    response = resident.get(f"/code/status.json?{query}")
    assert response.status_code == 400
    assert response.json() == {"paid_url": None}


@pytest.mark.parametrize(
    "path",
    [
        "/store/payments/%00abc/",
        "/store/payments/%00abc/done/",
        "/store/payments/%00abc/cancel/",
    ],
)
def test_store_app_payment_pages_are_not_found(store_app, path):
    response = store_app.get(path)
    assert response.status_code == 404
    assert "ページが見つかりません" in response.content.decode()  # the Japanese 404 page


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("9999-12-31", "2000年から2099年までの日付を入力してください。"),
        ("0001-01-01", "2000年から2099年までの日付を入力してください。"),
        ("2026-02-30", "日付を正しく入力してください。"),
        ("nonsense", "日付を正しく入力してください。"),
    ],
)
def test_store_app_history_shows_today_with_the_error(store_app, day, message):
    response = store_app.get("/store/payments/", {"date": day})
    assert response.status_code == 400
    assert response.context["day"] == timezone.localdate()
    assert message in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"code": "x"},
        {"code": "x", "amount": "abc", "key": "4b3b2a96-6d2c-4bcb-9a4e-1d6f5a3c1e70"},
        {"code": "x", "amount": "-100", "key": "4b3b2a96-6d2c-4bcb-9a4e-1d6f5a3c1e70"},
        {"code": "x", "amount": "１００", "key": "not-a-uuid"},
        {"code": "x", "amount": "100", "key": "\x00"},
    ],
)
def test_a_scan_without_a_valid_amount_or_key_goes_back_to_the_amount(store_app, data):
    response = store_app.post("/store/pay/scan/", data)
    assert response.status_code == 302
    assert response["Location"] == "/store/pay/"
