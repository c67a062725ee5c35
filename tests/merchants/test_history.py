"""利用実績: default today, filters, range limit, paging, newest first."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from merchants.models import ExportFile
from payments import services as payment_services
from tests import factories

URL = "/merchant/history/"


def local_input(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def signed_in(client, merchant_login, company_admin):
    return merchant_login(client, company_admin)


@pytest.mark.django_db
def test_default_is_today_newest_first(signed_in, pay, wallet, small_store):
    # Midnight is never in the future, so this holds at any time of day (also 00:00-00:05).
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = pay(wallet, small_store, 100, now=today - timedelta(seconds=1))
    first = pay(wallet, small_store, 200, now=today)
    second = pay(wallet, small_store, 300)
    response = signed_in.get(URL)
    rows = list(response.context["page"].object_list)
    assert [p.pk for p in rows] == [second.pk, first.pk]
    assert yesterday.number not in response.content.decode()
    assert "300 円" in response.content.decode()


@pytest.mark.django_db
def test_filters(signed_in, pay, wallet, small_store, large_store, common, local):
    terminal = factories.terminal(small_store, name="レジ1")
    by_terminal = pay(wallet, small_store, 1_000, terminal=terminal)  # 専用券 first at small stores
    at_large = pay(wallet, large_store, 500)  # only 共通券 there
    cancelled = pay(wallet, large_store, 200)
    payment_services.payment_cancel(payment=cancelled)

    def numbers(**query):
        response = signed_in.get(URL, query)
        assert response.status_code == 200
        return {p.number for p in response.context["page"].object_list}

    everything = {by_terminal.number, at_large.number, cancelled.number}
    assert numbers() == everything
    assert numbers(store_code=large_store.code) == {at_large.number, cancelled.number}
    assert numbers(store_name=small_store.name[-3:]) == {by_terminal.number}
    assert numbers(terminal=terminal.terminal_id) == {by_terminal.number}
    assert numbers(value_type=local.pk) == {by_terminal.number}
    assert numbers(value_type=common.pk) == {at_large.number, cancelled.number}
    assert numbers(number=at_large.number) == {at_large.number}
    assert numbers(exclude_cancelled="on") == {by_terminal.number, at_large.number}


@pytest.mark.django_db
def test_cancelled_row_shows_time_and_no_button(signed_in, pay, wallet, small_store):
    payment = payment_services.payment_cancel(payment=pay(wallet, small_store, 400))
    body = signed_in.get(URL).content.decode()
    assert "取消済" in body
    assert timezone.localtime(payment.cancelled_at).strftime("%Y年%m月%d日 %H:%M:%S") in body
    assert reverse("merchants:payment_cancel", args=[payment.number]) not in body


@pytest.mark.django_db
def test_range_is_limited_to_three_months(signed_in):
    now = timezone.now()
    response = signed_in.get(
        URL, {"start": local_input(now - timedelta(days=95)), "end": local_input(now)}
    )
    assert response.context["page"] is None
    assert "期間は最大3ヶ月までです" in response.content.decode()
    response = signed_in.get(
        URL, {"start": local_input(now - timedelta(days=85)), "end": local_input(now)}
    )
    assert response.context["page"] is not None


@pytest.mark.django_db
def test_paging_25_50_100(signed_in, pay, programme, common, small_store):
    wallet = factories.funded_wallet(programme, {common: 100_000})
    for i in range(60):
        pay(wallet, small_store, 10 + i, now=factories.earlier_today(i % 5))
    page = signed_in.get(URL).context["page"]
    assert (len(page.object_list), page.paginator.count) == (25, 60)
    page = signed_in.get(URL, {"per_page": 50}).context["page"]
    assert len(page.object_list) == 50
    page = signed_in.get(URL, {"per_page": 100, "page": 1}).context["page"]
    assert len(page.object_list) == 60
    third = signed_in.get(URL, {"page": 3}).context["page"]
    assert len(third.object_list) == 10
    times = [p.created_at for p in signed_in.get(URL, {"per_page": 100}).context["page"]]
    assert times == sorted(times, reverse=True)
    assert "該当件数 60 件のうち 25 件を表示しています" in signed_in.get(URL).content.decode()


@pytest.mark.django_db(transaction=True)
def test_home_shows_today(signed_in, pay, wallet, small_store):
    pay(wallet, small_store, 1_120)
    pay(wallet, small_store, 880)
    body = signed_in.get("/merchant/").content.decode()
    assert "2 件" in body and "2,000 円" in body


@pytest.mark.django_db
def test_an_empty_search_says_so(signed_in):
    # Every morning before the first sale: an empty page is falsy, but the answer must show.
    body = signed_in.get(URL).content.decode()
    assert "該当件数 0 件のうち 0 件を表示しています。" in body
    assert "該当する利用実績はありません。" in body


@pytest.mark.django_db
def test_the_end_is_inclusive_to_the_minute_and_amounts_are_read_as_typed(
    signed_in, pay, wallet, small_store
):
    day = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=1
    )
    last = pay(wallet, small_store, 1_120, now=day.replace(hour=23, minute=59, second=59))
    other = pay(wallet, small_store, 500, now=day.replace(hour=12))
    query = {"start": local_input(day), "end": local_input(day.replace(hour=23, minute=59))}

    def numbers(**extra):
        response = signed_in.get(URL, query | extra)
        assert response.status_code == 200
        return {p.number for p in response.context["page"].object_list}

    assert numbers() == {last.number, other.number}
    for typed in ("1120", "1,120", "１，１２０", "1,120円"):
        assert numbers(amount=typed) == {last.number}
    response = signed_in.get(URL, query | {"amount": "abc"})
    assert response.status_code == 400 and "整数" in response.content.decode()
    # The default shows today as 00:00 to 23:59, as the manual does.
    page = signed_in.get(URL).content.decode()
    assert f'value="{timezone.localdate():%Y-%m-%d}T23:59"' in page
    # A CSV reserved from this search keeps the same range.
    signed_in.post("/merchant/exports/", query | {"encoding": "utf-8-sig"})
    export = ExportFile.objects.get()
    assert export.filters["end"] == (day + timedelta(days=1)).isoformat()
    downloads = signed_in.get("/merchant/downloads/").content.decode()
    assert (
        f'{day:%Y年%-m月%-d日} 00:00</span>〜<span class="m-nowrap">{day:%Y年%-m月%-d日} 23:59'
        in downloads
    )


@pytest.mark.django_db
def test_the_terminal_filter_tells_stores_of_one_name_apart(
    signed_in, company, programme, small_store
):
    twin = factories.store(company, programme, name=small_store.name)
    factories.terminal(small_store, name="QR台紙")
    factories.terminal(twin, name="QR台紙")
    page = signed_in.get(URL).content.decode()
    assert f"QR台紙 ({small_store.code} {small_store.name})" in page
    assert f"QR台紙 ({twin.code} {twin.name})" in page
    terminals = signed_in.get("/merchant/terminals/").content.decode()
    assert twin.code in terminals and programme.name in terminals


@pytest.mark.django_db
def test_history_and_home_say_how_long_cancelling_is_possible_and_whom_to_call(
    signed_in, programme, small_store
):
    programme.contact = "青葉市 商工課 電話 022-000-0000（平日 9:00〜17:00）"
    programme.save()
    for url in (URL, "/merchant/"):
        page = signed_in.get(url).content.decode()
        assert "利用から24時間以内であればこの画面からできます" in page
        assert "022-000-0000" in page
