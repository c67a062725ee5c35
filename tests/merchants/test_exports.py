"""データ出力 / ファイルダウンロード: reserved CSV written by the real django-tasks-db worker."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.models import AuditLog
from merchants.models import ExportFile
from payments import services as payment_services
from tests import factories


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def reserve(client, encoding="utf-8-sig", **filters):
    start = timezone.localtime() - timedelta(days=1)
    end = timezone.localtime() + timedelta(minutes=1)
    data = {
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "end": end.strftime("%Y-%m-%dT%H:%M"),
        "encoding": encoding,
    } | filters
    return client.post("/merchant/exports/", data)


@pytest.fixture
def data(pay, programme, common, local, small_store, large_store):
    emoji_store = factories.store(small_store.company, programme, name="カフェ☕つばめ")
    wallet = factories.funded_wallet(programme, {common: 50_000, local: 5_000})
    payments = [
        pay(wallet, small_store, 1_200),
        pay(wallet, large_store, 800),
        pay(wallet, emoji_store, 450),
    ]
    payment_services.payment_cancel(payment=payments[1])
    return payments


@pytest.mark.django_db(transaction=True)
def test_export_is_written_by_the_worker_and_downloads_in_excel_utf8(
    client, merchant_login, company_admin, data
):
    merchant_login(client, company_admin)
    response = reserve(client)
    assert response["Location"] == "/merchant/downloads/"
    export = ExportFile.objects.get()
    assert export.status == "pending"
    assert "待機中" in client.get("/merchant/downloads/").content.decode()

    run_worker()
    export.refresh_from_db()
    assert export.status == "done" and export.row_count == 3 and export.size > 0
    listing = client.get("/merchant/downloads/").content.decode()
    assert "作成完了" in listing and f"/merchant/downloads/{export.pk}/" in listing

    response = client.get(f"/merchant/downloads/{export.pk}/")
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["利用日時", "店舗コード", "店舗名"]
    assert [r[5] for r in rows[1:]] == [p.number for p in reversed(data)]  # newest first
    assert rows[1][2] == "カフェ☕つばめ"
    cancelled = next(r for r in rows if r[5] == data[1].number)
    assert cancelled[8] == "取消済" and cancelled[9]
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"merchants.export.requested", "merchants.export.downloaded"} <= actions


@pytest.mark.django_db(transaction=True)
def test_shift_jis_option_replaces_what_cp932_cannot_hold(
    client, merchant_login, company_admin, data
):
    merchant_login(client, company_admin)
    reserve(client, encoding="cp932", exclude_cancelled="on")
    run_worker()
    export = ExportFile.objects.get()
    raw = b"".join(client.get(f"/merchant/downloads/{export.pk}/").streaming_content)
    text = raw.decode("cp932")
    assert "カフェ?つばめ" in text and "利用日時" in text
    assert data[1].number not in text  # the filters of the search were kept


@pytest.mark.django_db(transaction=True)
def test_store_manager_export_holds_only_their_store(client, merchant_login, store_manager, data):
    merchant_login(client, store_manager)
    reserve(client)
    run_worker()
    export = ExportFile.objects.get()
    assert export.store == store_manager.store and export.row_count == 1


@pytest.mark.django_db(transaction=True)
def test_other_company_cannot_download_and_expired_files_go(
    client, merchant_login, company_admin, other_company_admin, data
):
    merchant_login(client, company_admin)
    reserve(client)
    run_worker()
    export = ExportFile.objects.get()
    other = merchant_login(type(client)(), other_company_admin)
    assert other.get(f"/merchant/downloads/{export.pk}/").status_code == 404
    assert (
        f"/merchant/downloads/{export.pk}/"
        not in other.get("/merchant/downloads/").content.decode()
    )
    assert "ファイルはまだありません" in other.get("/merchant/downloads/").content.decode()

    path = export.file.path
    ExportFile.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(f"/merchant/downloads/{export.pk}/").status_code == 404
    out = io.StringIO()
    call_command("purge_exports", stdout=out)
    assert out.getvalue().startswith("1 ")
    assert not ExportFile.objects.exists()
    import os

    assert not os.path.exists(path)


@pytest.mark.django_db
def test_reservation_refuses_a_range_beyond_three_months(client, merchant_login, company_admin):
    merchant_login(client, company_admin)
    start = timezone.localtime() - timedelta(days=120)
    response = client.post(
        "/merchant/exports/",
        {
            "start": start.strftime("%Y-%m-%dT%H:%M"),
            "end": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "encoding": "cp932",
        },
        follow=True,
    )
    assert "期間は最大3ヶ月までです" in response.content.decode()
    assert not ExportFile.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_csv_splits_each_payment_by_value_type_so_the_daily_totals_rebuild(
    client, merchant_login, company_admin, store_staff, programme, common, local, small_store
):
    """商品 "専用券/共通券" alone cannot be summed: each value type has its own amount column,
    and the store staff who took a payment in the store app is named."""
    wallet = factories.funded_wallet(programme, {common: 50_000, local: 3_000})
    split = factories.payment(wallet, small_store, 5_000, mode="cpm", actor=store_staff)
    plain = factories.payment(wallet, small_store, 700)
    merchant_login(client, company_admin)
    reserve(client)
    run_worker()
    export = ExportFile.objects.get()
    assert export.status == "done", export.status
    raw = b"".join(client.get(f"/merchant/downloads/{export.pk}/").streaming_content)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header = rows[0]
    assert header[10:] == ["決済方式", "担当者", "専用券 金額", "共通券 金額"]
    by_number = {r[5]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert by_number[split.number]["決済方式"] == "利用者提示型（CPM）"
    assert by_number[split.number]["担当者"] == store_staff.name
    assert (by_number[split.number]["専用券 金額"], by_number[split.number]["共通券 金額"]) == (
        "3000",
        "2000",
    )
    assert (by_number[plain.number]["専用券 金額"], by_number[plain.number]["共通券 金額"]) == (
        "",
        "700",
    )
    daily = client.get("/merchant/daily/").context["result"]["periods"][-1]
    per_product = {row["value_type"]: row["amount"] for row in daily.rows}
    for product in ("専用券", "共通券"):
        column = [int(r[f"{product} 金額"] or 0) for r in by_number.values()]
        assert sum(column) == per_product[product]


@pytest.mark.django_db(transaction=True)
def test_a_store_name_that_looks_like_a_formula_is_written_as_text(
    client, merchant_login, company_admin, pay, programme, common, small_store
):
    formula = factories.store(small_store.company, programme, name="=cmd|' /C calc'!A0")
    wallet = factories.funded_wallet(programme, {common: 5_000})
    pay(wallet, formula, 300)
    merchant_login(client, company_admin)
    reserve(client)
    run_worker()
    export = ExportFile.objects.get()
    raw = b"".join(client.get(f"/merchant/downloads/{export.pk}/").streaming_content)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[1][2] == "'=cmd|' /C calc'!A0"
    assert rows[1][6] == "300"  # numbers stay numbers


@pytest.mark.django_db(transaction=True)
def test_an_export_whose_file_is_gone_says_so(client, merchant_login, company_admin, data):
    """After a restore without the media files, or on a server without the shared folder."""
    merchant_login(client, company_admin)
    reserve(client)
    run_worker()
    export = ExportFile.objects.get()
    export.file.storage.delete(export.file.name)
    response = client.get(f"/merchant/downloads/{export.pk}/", follow=True)
    assert response.redirect_chain == [("/merchant/downloads/", 302)]
    assert "このファイルはサーバーにありません" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_exports_are_stored_through_the_storages_api(
    client, merchant_login, company_admin, data, settings, media_root
):
    """Another backend in STORAGES (here in memory; S3 in production) holds the file: nothing is
    written under MEDIA_ROOT, and the download still works from any server."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    merchant_login(client, company_admin)
    reserve(client)
    run_worker()
    export = ExportFile.objects.get()
    assert export.status == "done" and export.row_count == 3
    assert not (media_root / "exports").exists()
    raw = b"".join(client.get(f"/merchant/downloads/{export.pk}/").streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf") and data[0].number.encode() in raw


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp932"])
@pytest.mark.django_db(transaction=True)
def test_the_file_is_exactly_what_excel_is_given(
    client,
    merchant_login,
    company_admin,
    store_staff,
    programme,
    common,
    local,
    small_store,
    large_store,
    encoding,
):
    """Byte for byte, in both encodings: quoting, CRLF rows with a newline kept inside its cell,
    empty cells, Tokyo times, labels, one column per value type and formula-safe cells."""
    store_staff.name = "山田 花子"
    store_staff.save(update_fields=["name"])
    formula = factories.store(small_store.company, programme, name="=cmd|' /C calc'!A0")
    quoted = factories.store(small_store.company, programme, name='カフェ "つばめ", 本店☕')
    till = factories.terminal(quoted, name="レジ\n2")
    wallet = factories.funded_wallet(programme, {common: 50_000, local: 3_000})
    p_formula = factories.payment(wallet, formula, 300, minutes_ago=5)
    p_quoted = factories.payment(wallet, quoted, 450, terminal=till, minutes_ago=4)
    p_cancelled = factories.payment(wallet, large_store, 800, minutes_ago=3)
    payment_services.payment_cancel(payment=p_cancelled)
    p_cancelled.refresh_from_db()
    p_split = factories.payment(wallet, small_store, 5_000, mode="cpm", actor=store_staff)

    def when(moment):
        return timezone.localtime(moment).strftime("%Y/%m/%d %H:%M:%S")

    def store(p):
        return f"{when(p.created_at)},{p.store.code}"

    expected = (
        "利用日時,店舗コード,店舗名,端末名,端末ID,決済番号,利用金額,商品,状態,取消日時,"
        "決済方式,担当者,専用券 金額,共通券 金額\r\n"
        f"{store(p_split)},{small_store.name},,,{p_split.number},5000,共通券/専用券,,,"
        "利用者提示型（CPM）,山田 花子,3000,2000\r\n"
        f"{store(p_cancelled)},{large_store.name},,,{p_cancelled.number},800,共通券,取消済,"
        f"{when(p_cancelled.cancelled_at)},店舗提示型（MPM）,,,800\r\n"
        f'{store(p_quoted)},"カフェ ""つばめ"", 本店☕","レジ\n2",{till.terminal_id},'
        f"{p_quoted.number},450,共通券,,,店舗提示型（MPM）,,,450\r\n"
        f"{store(p_formula)},'=cmd|' /C calc'!A0,,,{p_formula.number},300,共通券,,,"
        "店舗提示型（MPM）,,,300\r\n"
    )
    merchant_login(client, company_admin)
    reserve(client, encoding=encoding)
    run_worker()
    export = ExportFile.objects.get()
    raw = b"".join(client.get(f"/merchant/downloads/{export.pk}/").streaming_content)
    assert raw == expected.encode(encoding, errors="replace")
    assert export.row_count == 4 and export.size == len(raw)


@pytest.mark.django_db(transaction=True)
def test_a_store_moved_to_another_programme_keeps_its_earlier_amounts(
    client, merchant_login, company_admin, programme, common, local, small_store
):
    """Its payments before the move drew on the old programme's value types: they keep their
    columns, named with their programme."""
    wallet = factories.funded_wallet(programme, {common: 5_000, local: 1_000})
    before = factories.payment(wallet, small_store, 1_500, minutes_ago=5)
    following = factories.programme()
    child = factories.value_type(following, name="子育て券")
    small_store.programme = following
    small_store.save(update_fields=["programme"])
    after = factories.payment(factories.funded_wallet(following, {child: 800}), small_store, 800)
    merchant_login(client, company_admin)
    reserve(client)
    run_worker()
    export = ExportFile.objects.get()
    assert export.status == "done", export.status
    raw = b"".join(client.get(f"/merchant/downloads/{export.pk}/").streaming_content)
    header, *rows = csv.reader(io.StringIO(raw.decode("utf-8-sig")))
    assert header[12:] == [
        f"専用券（{programme.name}） 金額",
        f"共通券（{programme.name}） 金額",
        f"子育て券（{following.name}） 金額",
    ]
    by_number = {row[5]: row for row in rows}
    assert by_number[before.number][7:8] + by_number[before.number][12:] == [
        "共通券/専用券",
        "1000",
        "500",
        "",
    ]
    assert by_number[after.number][7:8] + by_number[after.number][12:] == [
        "子育て券",
        "",
        "",
        "800",
    ]
