"""Junk in the merchant admin's URLs and searches (a NUL byte, a date at the end of the calendar)
is a 404 or the form's own error, never a 500."""

import pytest

from merchants.models import ExportFile

OUT_OF_RANGE = "2000年から2099年までの日付を入力してください。"


@pytest.fixture
def signed_in(client, merchant_login, company_admin):
    return merchant_login(client, company_admin)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("number", ["%00abc", "AbCd"])
def test_cancelling_a_malformed_number_is_not_found(signed_in, method, number):
    response = getattr(signed_in, method)(f"/merchant/payments/{number}/cancel/")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.content.decode()  # the Japanese 404 page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "query", "message"),
    [
        ("/merchant/history/", {"start": "9999-12-31"}, OUT_OF_RANGE),
        ("/merchant/history/", {"start": "9999-12-30", "end": "9999-12-31"}, OUT_OF_RANGE),
        ("/merchant/history/", {"start": "0001-01-01T00:00"}, OUT_OF_RANGE),
        ("/merchant/history/", {"number": "AbCd"}, "決済番号は半角英数字16桁です。"),
        ("/merchant/history/", {"number": "\x00abc"}, "決済番号は半角英数字16桁です。"),
        ("/merchant/monthly/", {"first": "9999-12", "last": "9999-12"}, OUT_OF_RANGE),
        ("/merchant/daily/", {"first": "9999-12-31", "last": "9999-12-31"}, OUT_OF_RANGE),
    ],
)
def test_a_search_with_junk_is_the_forms_error(signed_in, path, query, message):
    response = signed_in.get(path, query)
    assert response.status_code == 400
    assert response.context["form"].errors
    assert message in response.content.decode()


@pytest.mark.django_db
def test_an_export_with_junk_dates_is_refused(signed_in):
    response = signed_in.post(
        "/merchant/exports/", {"start": "9999-12-31T00:00", "encoding": "utf-8"}
    )
    assert response.status_code == 302 and response["Location"] == "/merchant/history/"
    assert not ExportFile.objects.exists()
