"""Japanese error pages for each audience with a way back; the 500 page without a database."""

import pytest
from django.http import HttpResponse
from django.test import Client

from payments.access import TERMINAL_COOKIE, remember_device
from tests import factories

BACK = {
    "/nope/": ("/", "トップページへ戻る", "r-header"),
    "/store/nope/": ("/store/", "店舗アプリへ戻る", "s-header"),
    "/merchant/nope/": ("/merchant/", "加盟店管理画面へ戻る", "m-header"),
}


def page(response) -> str:
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("path", BACK)
def test_404_in_each_audience_look_with_a_way_back(client, path):
    response = client.get(path)
    assert response.status_code == 404
    back_url, back_label, header = BACK[path]
    html = page(response)
    assert "ページが見つかりません" in html
    assert f'href="{back_url}"' in html
    assert back_label in html
    assert f'class="{header}"' in html
    assert 'lang="ja"' in html


@pytest.mark.django_db
def test_404_in_django_admin_keeps_the_admin_look(client, city_staff):
    factories.staff_login(client, city_staff)
    response = client.get("/admin/wallets/nothing-here/")
    assert response.status_code == 404
    html = page(response)
    assert "ページが見つかりません" in html
    assert "admin/css/base.css" in html
    assert "管理画面へ戻る" in html


@pytest.mark.django_db
def test_api_errors_stay_json(client):
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "back_label"),
    [
        ("/login/", "トップページへ戻る"),
        ("/merchant/login/", "加盟店管理画面へ戻る"),
        ("/store/login/", "店舗アプリへ戻る"),
    ],
)
def test_403_for_a_form_without_its_token(path, back_label):
    client = Client(enforce_csrf_checks=True)
    response = client.post(path, {"username": "x", "password": "y"})
    assert response.status_code == 403
    html = page(response)
    assert "このページを開けません" in html
    assert back_label in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "back_label"), [("/", "トップページへ戻る"), ("/merchant/", "加盟店管理画面へ戻る")]
)
def test_400_for_a_host_that_is_not_ours(client, path, back_label):
    response = client.get(path, HTTP_HOST="evil.example")
    assert response.status_code == 400
    html = page(response)
    assert "リクエストを処理できませんでした" in html
    assert back_label in html


@pytest.mark.parametrize(
    ("path", "back_label", "stylesheet"),
    [
        ("/history/", "トップページへ戻る", "css/resident.css"),
        ("/store/payments/", "店舗アプリへ戻る", "css/store.css"),
        ("/merchant/history/", "加盟店管理画面へ戻る", "css/merchant.css"),
        ("/admin/", "管理画面へ戻る", "admin/css/base.css"),
    ],
)
def test_500_renders_with_the_database_unreachable(path, back_label, stylesheet):
    """No django_db mark: every query raises, as with PostgreSQL down. The session lookup of
    each page fails, and the 500 page must answer without a query of its own."""
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "a" * 32
    # A paired store device: its terminal is looked up in the database too.
    response = HttpResponse()
    remember_device(response, "a-device-token")
    client.cookies[TERMINAL_COOKIE] = response.cookies[TERMINAL_COOKIE].value
    response = client.get(path)
    assert response.status_code == 500
    html = page(response)
    assert "システムエラーが発生しました" in html
    assert back_label in html
    assert stylesheet in html
